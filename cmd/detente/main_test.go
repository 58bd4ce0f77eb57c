package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"

	"github.com/rogpeppe/go-internal/testscript"
)

// cli runs the command line in process and returns its status and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, stdin, args...)
	if code != 0 {
		t.Fatalf("detente %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			args := append(strings.Fields(c.name), "--help")
			out := mustCLI(t, "", args...)
			if !strings.Contains(out, "Example:") || !strings.Contains(out, "detente "+c.name) {
				t.Errorf("help lacks an example:\n%s", out)
			}
		})
	}
	out := mustCLI(t, "", "help")
	if !strings.Contains(out, "Exit status") {
		t.Errorf("top-level help lacks exit statuses:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"frobnicate"},
		{"init", "--dir", dir}, // no --name
		{"key"},                // no --dir
		{"token", "create", "--dir", dir, "--role", "root"},
		{"release", "check", "--dir", dir},
		{"ingest", "--dir", dir},
		{"init", "--dir", dir, "--name", "x", "--bogus"},
	} {
		if code, _, errs := cli(t, "", args...); code != exitUsage || errs == "" {
			t.Errorf("detente %s: exit %d, stderr %q; want %d and a message", strings.Join(args, " "), code, errs, exitUsage)
		}
	}
}

// setupNode makes a node "alpha" with partner bravo under an AMBER
// agreement and returns its directory.
func setupNode(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "alpha")
	mustCLI(t, "", "init", "--dir", dir, "--name", "alpha")
	bravo := filepath.Join(t.TempDir(), "bravo")
	mustCLI(t, "", "init", "--dir", bravo, "--name", "bravo")
	bravoKey := lastLine(mustCLI(t, "", "key", "--dir", bravo))
	if _, err := detente.ParsePublicKey(bravoKey); err != nil {
		t.Fatalf("key's last line %q: %v", bravoKey, err)
	}
	mustCLI(t, "", "partner", "add", "--dir", dir, "--name", "bravo", "--key", bravoKey, "--url", "https://127.0.0.1:9")
	now := time.Now().UTC()
	agreement := fmt.Sprintf(`{"partner": "bravo", "from": %q, "until": %q, "tlp_ceiling": "amber",
	 "types": ["indicator", "report", "threat-actor", "identity", "relationship"],
	 "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`,
		now.AddDate(0, -1, 0).Format(time.RFC3339), now.AddDate(1, 0, 0).Format(time.RFC3339))
	out := mustCLI(t, agreement, "agreement", "add", "--dir", dir, "-")
	if !strings.HasPrefix(lastLine(out), "agreement--") {
		t.Fatalf("agreement add's last line is not the id: %q", out)
	}
	return dir
}

const sample = `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z", "name": "propaganda channel",
  "pattern": "[user-account:account_login = 'blackmeridian_news']", "pattern_type": "stix",
  "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
 {"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-2222-4333-8444-555555555555",
  "created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z", "name": "protected source",
  "pattern": "[user-account:account_login = 'x']", "pattern_type": "stix",
  "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}
]}`

func TestWorkflow(t *testing.T) {
	dir := setupNode(t)
	bundlePath := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundlePath, []byte(sample), 0o600)
	out := mustCLI(t, "", "ingest", "--dir", dir, "--grading", "B2", bundlePath, "--json")
	var res struct{ Added int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Added != 2 {
		t.Fatalf("ingest --json = %s (%v)", out, err)
	}
	// Ingest again from stdin: nothing new.
	if out := mustCLI(t, sample, "ingest", "--dir", dir, "-"); !strings.Contains(out, "0 added, 2 already stored") {
		t.Errorf("re-ingest: %s", out)
	}

	code, out, _ := cli(t, "", "release", "check", "--dir", dir, "--object", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "--to", "bravo", "--json")
	var d detente.Decision
	if code != exitOK || json.Unmarshal([]byte(out), &d) != nil || !d.Allowed {
		t.Errorf("green to bravo: exit %d, %s", code, out)
	}
	code, out, _ = cli(t, "", "release", "check", "--dir", dir, "--object", "indicator--11111111-2222-4333-8444-555555555555", "--to", "bravo")
	if code != exitDenied || !strings.Contains(out, "DENIED") || !strings.Contains(out, detente.ReasonAboveCeiling) {
		t.Errorf("red to bravo: exit %d, %s", code, out)
	}
	code, _, errs := cli(t, "", "release", "check", "--dir", dir, "--object", "indicator--99999999-2222-4333-8444-555555555555", "--to", "bravo")
	if code != exitError || !strings.Contains(errs, "not found") {
		t.Errorf("unknown object: exit %d, %s", code, errs)
	}

	exported := filepath.Join(t.TempDir(), "out.json")
	mustCLI(t, "", "release", "export", "--dir", dir, "--object", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "--to", "bravo", "--out", exported)
	if b, _ := os.ReadFile(exported); !bytes.Contains(b, []byte(`"type":"bundle"`)) {
		t.Errorf("export wrote %s", b)
	}
	if code, _, _ := cli(t, "", "release", "export", "--dir", dir, "--object", "indicator--11111111-2222-4333-8444-555555555555", "--to", "bravo"); code != exitDenied {
		t.Errorf("export of RED: exit %d", code)
	}

	out = mustCLI(t, "", "log", "list", "--dir", dir, "--type", "release", "--json")
	var evs []detente.Event
	if err := json.Unmarshal([]byte(out), &evs); err != nil || len(evs) != 2 {
		t.Errorf("release events = %s", out)
	}
	out = mustCLI(t, "", "object", "list", "--dir", dir, "--json")
	if !strings.Contains(out, "TLP:RED") || !strings.Contains(out, `"grading": "B2"`) {
		t.Errorf("object list: %s", out)
	}
	mustCLI(t, "", "object", "show", "--dir", dir, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
	mustCLI(t, "", "partner", "suspend", "--dir", dir, "--name", "bravo", "--reason", "review")
	if code, _, _ := cli(t, "", "release", "check", "--dir", dir, "--object", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "--to", "bravo"); code != exitDenied {
		t.Errorf("release to a suspended partner: exit %d", code)
	}
}

func TestBadInputLeavesStoreUnchanged(t *testing.T) {
	dir := setupNode(t)
	before := mustCLI(t, "", "log", "list", "--dir", dir, "--json")
	for name, in := range map[string]string{
		"malformed":    `{"type": "bundle", "objects": [`,
		"wrong prefix": strings.Replace(sample, `"id": "indicator--8e2e`, `"id": "malware--8e2e`, 1),
		"oversized":    strings.Repeat(" ", 2<<20) + "x",
	} {
		code, _, errs := cli(t, in, "ingest", "--dir", dir, "-")
		if code != exitError || errs == "" {
			t.Errorf("%s: exit %d, stderr %q", name, code, errs)
		}
	}
	bad := `{"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z", "tlp_ceiling": "purple"}`
	if code, _, errs := cli(t, bad, "agreement", "add", "--dir", dir, "-"); code != exitError || !strings.Contains(errs, "purple") {
		t.Errorf("bad agreement: exit %d, %q", code, errs)
	}
	if after := mustCLI(t, "", "log", "list", "--dir", dir, "--json"); after != before {
		t.Errorf("bad input changed the log")
	}
}

func TestTokenCreateLastLine(t *testing.T) {
	dir := setupNode(t)
	secret := lastLine(mustCLI(t, "", "token", "create", "--dir", dir, "--role", "analyst", "--label", "desk"))
	if !strings.HasPrefix(secret, "dtk_") || strings.Contains(secret, " ") {
		t.Fatalf("last line %q is not the token alone", secret)
	}
	out := mustCLI(t, "", "token", "list", "--dir", dir, "--json")
	if strings.Contains(out, secret) || !strings.Contains(out, `"role": "analyst"`) {
		t.Errorf("token list: %s", out)
	}
	var ts []struct{ ID string }
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 1 {
		t.Fatalf("token list --json: %s (%v)", out, err)
	}
	if out := mustCLI(t, "", "token", "revoke", "--dir", dir, ts[0].ID); out != "revoked "+ts[0].ID+"\n" {
		t.Errorf("token revoke: %q", out)
	}
	if out := mustCLI(t, "", "token", "list", "--dir", dir, "--json"); !strings.Contains(out, `"revoked": true`) {
		t.Errorf("token list after revoke: %s", out)
	}
}

// TestCommandsWhileServing: operator commands work on a data directory
// while serve runs on it.
func TestCommandsWhileServing(t *testing.T) {
	dir := setupNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var serveOut, serveErr syncBuffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		Run(ctx, []string{"serve", "--dir", dir, "--listen", "127.0.0.1:0"}, strings.NewReader(""), &serveOut, &serveErr)
	}()
	for !strings.Contains(serveOut.String(), "serving on") {
		runtime_Gosched()
	}
	mustCLI(t, "", "token", "create", "--dir", dir, "--role", "auditor")
	mustCLI(t, sample, "ingest", "--dir", dir, "-")
	mustCLI(t, "", "partner", "list", "--dir", dir)
	cancel()
	wg.Wait()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runtime_Gosched() { time.Sleep(time.Millisecond) }

func TestMain(m *testing.M) {
	// The golden CLI scripts (testdata/script) run "detente" as this test
	// binary re-executed, through Run. testscript.Main exits: the binary
	// built for other tests is removed when the tests have run (cleanupM).
	testscript.Main(cleanupM{m}, map[string]func(){
		"detente": func() { os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// cleanupM runs the tests, then removes what they built.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// built is the binary built for the tests that run it.
var built struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// binary builds the real binary, once per test run, and returns its path.
// It skips the test in -short mode.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "detente-test-"); built.err == nil {
			built.out, built.err = exec.Command("go", "build", "-o", filepath.Join(built.dir, "detente"), ".").CombinedOutput()
		}
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return filepath.Join(built.dir, "detente")
}

// TestBinary builds the real binary and runs init and key through it.
func TestBinary(t *testing.T) {
	bin := binary(t)
	dir := filepath.Join(t.TempDir(), "n")
	if out, err := exec.Command(bin, "init", "--dir", dir, "--name", "alpha").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "key", "--dir", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := detente.ParsePublicKey(lastLine(string(out))); err != nil {
		t.Errorf("key: %v", err)
	}
	cmd := exec.Command(bin, "init", "--dir", dir, "--name", "alpha")
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != exitError {
		t.Errorf("second init through the binary: %v", err)
	}
}

func TestMigrate(t *testing.T) {
	dir := setupNode(t)
	out := mustCLI(t, "", "migrate", "--dir", dir, "status", "--json")
	var v struct{ Version, Known int }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Version == 0 || v.Version != v.Known {
		t.Fatalf("migrate status: %s", out)
	}
	if out := mustCLI(t, "", "migrate", "--dir", dir, "up"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate up: %s", out)
	}
	if code, _, _ := cli(t, "", "migrate", "--dir", dir, "sideways"); code != exitUsage {
		t.Errorf("bad action: exit %d", code)
	}
}
