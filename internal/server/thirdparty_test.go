package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/datadir"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/server"
	"detente/internal/stix"
)

// thirdPartyClient returns the Python interpreter and the PYTHONPATH that
// run the OASIS taxii2-client in ../shared, or skips (fails when CI=true)
// when either is missing. Debian's python3 has the packages the client
// needs (python3-requests, python3-six, python3-tz; .ci/run installs them).
func thirdPartyClient(t *testing.T) (python, path string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	shared := os.Getenv("DETENTE_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	path = filepath.Join(shared, "thirdparty", "taxii2-client")
	if _, err := os.Stat(filepath.Join(path, "taxii2client", "v21")); err != nil {
		missing("the OASIS taxii2-client is not in %s (../shared): %v", path, err)
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import requests, six, pytz").Run() == nil {
			return py, path
		}
	}
	missing("no python3 with requests, six and pytz (Debian: apt-get install python3-requests python3-six python3-tz)")
	return "", ""
}

// TestThirdPartyClient walks a real node over TLS (its ECDSA web
// certificate, verified) with the OASIS taxii2-client, as OpenCTI's
// connectors do: discovery, API root, collections, objects and manifests
// page by page with as_pages, the type, id, version and added_after
// filters, versions, and add_objects with an envelope holding one invalid
// object, whose status lists it as a failure and is read again.
func TestThirdPartyClient(t *testing.T) {
	python, path := thirdPartyClient(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "alpha")
	if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	n, err := nodetest.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := datadir.SelfSigned(key, "alpha", []string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(n, nil, server.Options{WebCert: &cert})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(ctx)
		cancel()
		n.Close()
	})
	p := &peer{Node: n, srv: srv, dir: dir}
	var objs []map[string]any
	for i := range 9 {
		objs = append(objs, indicator("indicator--00000000-0000-4000-8000-0000000001"+string(rune('0'+i/10))+string(rune('0'+i%10)), detente.MarkingGreen, "x"))
	}
	ingest(t, p, objs...)
	later := indicator("indicator--00000000-0000-4000-8000-000000000101", detente.MarkingGreen, "renamed")
	later["modified"] = "2026-02-10T10:00:00.000Z"
	ingest(t, p, later)
	_, secret, err := n.CreateToken(ctx, detente.RoleAnalyst, "opencti")
	if err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	ca := filepath.Join(tmp, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	bad := indicator("indicator--00000000-0000-4000-8000-000000000999", detente.MarkingGreen, "no pattern")
	delete(bad, "pattern")
	env, _ := json.Marshal(map[string]any{"objects": []any{
		indicator("indicator--00000000-0000-4000-8000-000000000998", detente.MarkingAmber, "pushed"), bad}})
	envFile := filepath.Join(tmp, "envelope.json")
	os.WriteFile(envFile, env, 0o600)

	cmd := exec.Command(python, "testdata/thirdparty.py", srv.URL(), "opencti", secret, ca, node.CollectionLocal, envFile)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(s string) bool {
		return strings.HasPrefix(s, "REQUESTS_CA_BUNDLE=") || strings.HasPrefix(s, "CURL_CA_BUNDLE=") || strings.HasPrefix(s, "PYTHONPATH=")
	}), "PYTHONPATH="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("taxii2-client: %v\n%s", err, stderr.String())
	}
	var got struct {
		Title          string     `json:"title"`
		APIRoots       []string   `json:"api_roots"`
		Versions       []string   `json:"versions"`
		Collections    []string   `json:"collections"`
		CanRead        bool       `json:"can_read"`
		CanWrite       bool       `json:"can_write"`
		Objects        []string   `json:"objects"`
		ObjectPages    int        `json:"object_pages"`
		Manifest       [][]string `json:"manifest"`
		ManifestPages  int        `json:"manifest_pages"`
		TypeFilter     []string   `json:"type_filter"`
		Object         [][]string `json:"object"`
		AllVersions    []string   `json:"all_versions"`
		FirstVersion   []string   `json:"first_version"`
		ObjectVersions []string   `json:"object_versions"`
		AddedAfter     []string   `json:"added_after"`
		Status         struct {
			Status       string `json:"status"`
			TotalCount   int    `json:"total_count"`
			SuccessCount int    `json:"success_count"`
			FailureCount int    `json:"failure_count"`
			PendingCount int    `json:"pending_count"`
			Failures     []struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			} `json:"failures"`
		} `json:"status"`
		StatusAgain string `json:"status_again"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	defs := len(stix.Definitions())
	want := defs + 9 // the definitions, then the nine indicators (the latest version of each)
	switch {
	case len(got.APIRoots) != 1 || !slices.Contains(got.Versions, "application/taxii+json;version=2.1"):
		t.Errorf("discovery and API root: %+v", got)
	case !slices.Contains(got.Collections, node.CollectionLocal) || !got.CanRead || !got.CanWrite:
		t.Errorf("collections: %v, read %v write %v", got.Collections, got.CanRead, got.CanWrite)
	case len(got.Objects) != want || got.ObjectPages != (want+3)/4:
		t.Errorf("objects: %d in %d pages, want %d in %d", len(got.Objects), got.ObjectPages, want, (want+3)/4)
	case len(got.Manifest) != want || got.ManifestPages != (want+3)/4:
		t.Errorf("manifest: %d in %d pages", len(got.Manifest), got.ManifestPages)
	case len(got.TypeFilter) != 1 || got.TypeFilter[0] != stix.CreatorIdentityID:
		t.Errorf("type filter: %v", got.TypeFilter)
	case len(got.Object) != 1 || got.Object[0][1] != "2026-02-10T10:00:00.000Z":
		t.Errorf("get_object (latest): %v", got.Object)
	case len(got.AllVersions) != 2 || len(got.FirstVersion) != 1 || got.FirstVersion[0] != "2026-01-10T10:00:00.000Z":
		t.Errorf("version filter: all %v, first %v", got.AllVersions, got.FirstVersion)
	case !slices.Equal(got.ObjectVersions, []string{"2026-01-10T10:00:00.000Z", "2026-02-10T10:00:00.000Z"}):
		t.Errorf("object_versions: %v (one spelling of every timestamp)", got.ObjectVersions)
	case len(got.AddedAfter) != 2:
		t.Errorf("added_after: %v", got.AddedAfter)
	}
	for _, m := range got.Manifest {
		if m[0] == "indicator--00000000-0000-4000-8000-000000000101" && m[1] != "2026-02-10T10:00:00.000Z" {
			t.Errorf("manifest version %q: want the object's own spelling", m[1])
		}
	}
	st := got.Status
	if st.Status != "complete" || st.TotalCount != 2 || st.SuccessCount != 1 || st.FailureCount != 1 || st.PendingCount != 0 ||
		len(st.Failures) != 1 || st.Failures[0].ID != "indicator--00000000-0000-4000-8000-000000000999" || !strings.Contains(st.Failures[0].Message, "pattern") {
		t.Errorf("add_objects status: %+v", st)
	}
	if got.StatusAgain != "complete" {
		t.Errorf("status read again: %q", got.StatusAgain)
	}
	if holds(p, "indicator--00000000-0000-4000-8000-000000000998") == nil {
		t.Error("the valid pushed object is not stored")
	}
}
