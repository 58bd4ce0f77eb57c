package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"
)

// tamper runs SQL directly on a node's database, as an attacker with the
// file would.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func exportAndVerify(t *testing.T, dir string) (int, string) {
	t.Helper()
	key := lastLine(mustCLI(t, "", "key", "--dir", dir))
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	code, _, errs := cli(t, "", "log", "export", "--dir", dir, "--out", bundle)
	if code != 0 {
		return code, errs
	}
	code, out, errs := cli(t, "", "log", "verify", "--key", key, bundle)
	return code, out + errs
}

func TestLogVerify(t *testing.T) {
	dir := setupNode(t)
	mustCLI(t, sample, "ingest", "--dir", dir, "-")
	if code, out := exportAndVerify(t, dir); code != 0 || !strings.HasPrefix(out, "OK:") {
		t.Fatalf("untouched log: exit %d\n%s", code, out)
	}
	cp := mustCLI(t, "", "log", "checkpoint", "--dir", dir)
	if !strings.HasPrefix(cp, "detente/alpha/") || !strings.Contains(cp, "\n— ") {
		t.Errorf("checkpoint is not a signed note:\n%s", cp)
	}
	// A verifier must pin the key: another node's key fails.
	other := filepath.Join(t.TempDir(), "other")
	mustCLI(t, "", "init", "--dir", other, "--name", "other")
	bundle := filepath.Join(t.TempDir(), "b.json")
	mustCLI(t, "", "log", "export", "--dir", dir, "--out", bundle)
	if code, _, errs := cli(t, "", "log", "verify", "--key", lastLine(mustCLI(t, "", "key", "--dir", other)), bundle); code == 0 {
		t.Errorf("verified against the wrong key: %s", errs)
	}
}

// TestLogTampering changes the SQLite file behind the node's back; the
// exported log must fail verification and name the entry.
func TestLogTampering(t *testing.T) {
	cases := []struct {
		name  string
		sql   []string
		entry string
	}{
		{"body edited", []string{`UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'bravo', 'brav0') AS BLOB) WHERE seq = 1`}, "entry 1"},
		{"type edited", []string{`UPDATE events SET type = 'node.init' WHERE seq = 3`}, "entry 3"},
		{"time edited", []string{`UPDATE events SET time = time + 1 WHERE seq = 2`}, "entry 2"},
		{"rows swapped", []string{
			`UPDATE events SET seq = -1 WHERE seq = 2`, `UPDATE events SET seq = 2 WHERE seq = 3`, `UPDATE events SET seq = 3 WHERE seq = -1`,
		}, "entr"},
		{"last row deleted", []string{`DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)`}, "missing"},
		{"middle row deleted", []string{`DELETE FROM events WHERE seq = 2`}, "2"},
		{"body and leaf hash rewritten", []string{
			`UPDATE events SET body = CAST('{"forged":true}' AS BLOB), leaf_hash = zeroblob(32) WHERE seq = 1`,
		}, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := setupNode(t)
			mustCLI(t, sample, "ingest", "--dir", dir, "-")
			mustCLI(t, "", "log", "checkpoint", "--dir", dir) // a checkpoint from before the tampering
			tamper(t, dir, c.sql...)
			code, out := exportAndVerify(t, dir)
			if code == 0 {
				t.Fatalf("tampered log verified:\n%s", out)
			}
			if !strings.Contains(out, c.entry) {
				t.Errorf("report does not name %q:\n%s", c.entry, out)
			}
		})
	}
}

// indicators returns a STIX bundle of n GREEN indicators whose ids start
// at first.
func indicators(first, n int) string {
	var objs []string
	for i := first; i < first+n; i++ {
		objs = append(objs, fmt.Sprintf(`{"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-%012d",
  "created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z", "name": "indicator %d",
  "pattern": "[user-account:account_login = 'x%d']", "pattern_type": "stix",
  "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`, i, i, i))
	}
	return `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [` + strings.Join(objs, ",") + `]}`
}

// truncateLog deletes the log's entries from seq on, as someone with the
// database file would to roll the log back: the event rows, the stored
// tree hashes that cover any of them, and the checkpoints and
// cosignatures of the longer log, so that the node signs the shorter one.
func truncateLog(t *testing.T, dir string, seq int64) {
	t.Helper()
	tamper(t, dir,
		fmt.Sprintf(`DELETE FROM events WHERE seq >= %d`, seq),
		fmt.Sprintf(`DELETE FROM log_hashes WHERE key >= %d`, tlog.StoredHashIndex(0, seq)),
		fmt.Sprintf(`DELETE FROM checkpoints WHERE size > %d`, seq),
		fmt.Sprintf(`DELETE FROM cosignatures WHERE size > %d`, seq))
}

// TestLogVerifyRollback: the newest entries of a node's log are deleted
// from its database, with the tree hashes and checkpoints that covered
// them, and the node exports the shorter log with a fresh checkpoint. The
// bundle is consistent in itself; the checkpoint a partner kept from
// before is what shows the rollback, and log verify must fail on it
// (exit 1) and say so.
func TestLogVerifyRollback(t *testing.T) {
	dir := setupNode(t)
	mustCLI(t, indicators(0, 20), "ingest", "--dir", dir, "-")
	work := t.TempDir()
	oldFile := filepath.Join(work, "OLD.txt")
	note := mustCLI(t, "", "log", "checkpoint", "--dir", dir)
	if err := os.WriteFile(oldFile, []byte(note), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(note, "\n")
	origin, oldSize, oldRoot := lines[0], lines[1], lines[2]
	if n, _ := strconv.Atoi(oldSize); n < 17 {
		t.Fatalf("the log has %s entries; the test needs a stored level-4 hash to delete", oldSize)
	}
	key := lastLine(mustCLI(t, "", "key", "--dir", dir))
	bin := binary(t)
	verify := func(args ...string) (int, string) {
		t.Helper()
		bundle := filepath.Join(t.TempDir(), "bundle.json")
		mustCLI(t, "", "log", "export", "--dir", dir, "--out", bundle)
		cmd := exec.Command(bin, append([]string{"log", "verify", "--key", key, bundle}, args...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := verify("--checkpoint", oldFile); code != exitOK {
		t.Fatalf("untouched log: exit %d\n%s", code, out)
	}

	truncateLog(t, dir, 12)
	code, out := verify("--checkpoint", oldFile)
	want := fmt.Sprintf("the bundle holds 12 entries but checkpoint %s, signed by %s, covers %s: the log was rolled back or truncated", oldFile, origin, oldSize)
	if code != exitError || !strings.Contains(out, want) {
		t.Fatalf("rolled-back log: exit %d, want %d and %q:\n%s", code, exitError, want, out)
	}
	// Without the old checkpoint the shorter log is consistent in itself:
	// the checkpoints partners keep are what catch a rollback.
	if code, out := verify(); code != exitOK {
		t.Errorf("rolled-back log without a checkpoint: exit %d\n%s", code, out)
	}

	// A checkpoint of another node's log is an error naming the file.
	other := filepath.Join(t.TempDir(), "other")
	mustCLI(t, "", "init", "--dir", other, "--name", "other")
	otherFile := filepath.Join(work, "OTHER.txt")
	if err := os.WriteFile(otherFile, []byte(mustCLI(t, "", "log", "checkpoint", "--dir", other)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := verify("--checkpoint", otherFile); code != exitError || !strings.Contains(out, "checkpoint "+otherFile+" is a checkpoint of another log") {
		t.Errorf("another log's checkpoint: exit %d\n%s", code, out)
	}

	// The log grows again past the old size, with other entries: the
	// bundle is no extension of the old checkpoint, and the report gives
	// the size and both roots.
	mustCLI(t, indicators(100, 20), "ingest", "--dir", dir, "-")
	code, out = verify("--checkpoint", oldFile)
	if code != exitError || !strings.Contains(out, "checkpoint "+oldFile) || !strings.Contains(out, "has root "+oldRoot+" at size "+oldSize) ||
		!strings.Contains(out, "but the bundle's first "+oldSize+" entries hash to ") {
		t.Fatalf("rewritten log: exit %d\n%s", code, out)
	}
}
