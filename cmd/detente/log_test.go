package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

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
