package server_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"

	"detente"
	"detente/internal/translog"
)

// TestWitnessing: after pulling, a node cosigns its partner's checkpoint;
// the partner publishes it with the cosignature.
func TestWitnessing(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "x"))
	sync(t, bravo, "alpha")
	ingest(t, alpha, indicator(amber, detente.MarkingAmber, "y"))
	sync(t, bravo, "alpha") // a second round: the consistency proof is checked
	note, cp, err := alpha.LatestCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := translog.VerifyCosignature(note, bravo.Federation.WitnessName(), ed25519.PublicKey(bravo.PublicKey())); err != nil {
		t.Fatalf("alpha's published checkpoint (size %d) lacks bravo's cosignature: %v\n%s", cp.Size, err, note)
	}
	if _, err := translog.ParseCheckpoint(note, alpha.Origin(), ed25519.PublicKey(alpha.PublicKey())); err != nil {
		t.Errorf("published note no longer verifies as alpha's: %v", err)
	}
	// bravo holds a verified receipt for every release entry alpha logged
	// about it.
	ctx := context.Background()
	var releases, receipts []*detente.Event
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) {
		releases, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease, Partner: "bravo"})
		return
	})
	bravo.Store.View(ctx, func(tx detente.Tx) (err error) {
		receipts, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventReleaseReceipt, Partner: "alpha"})
		return
	})
	if len(releases) == 0 || len(receipts) != len(releases) {
		t.Fatalf("alpha logged %d releases to bravo; bravo holds %d receipts", len(releases), len(receipts))
	}
	for i, r := range receipts {
		var body struct {
			Seq int64 `json:"partner_seq"`
		}
		json.Unmarshal(r.Body, &body)
		if body.Seq != releases[i].Seq {
			t.Errorf("receipt %d names entry %d, want %d", i, body.Seq, releases[i].Seq)
		}
	}
}

// TestSplitView: alpha shows bravo and charlie different histories of its
// log (its database forked, the same key serving both). Each alone sees a
// consistent log; comparing notes, bravo detects the split and raises an
// alert with both checkpoints as evidence.
func TestSplitView(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	link(t, alpha, bravo, "amber", intel...)
	link(t, alpha, charlie, "amber", intel...)
	link(t, bravo, charlie, "amber", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "shared history"))
	sync(t, bravo, "alpha")
	sync(t, charlie, "alpha")

	// Fork alpha: stop it, copy its data directory, run both copies.
	dir, addr := alpha.dir, strings.TrimPrefix(alpha.srv.URL(), "https://")
	alpha.stop()
	forkDir := filepath.Join(t.TempDir(), "alpha-fork")
	copyDir(t, dir, forkDir)
	alpha = openPeer(t, dir, addr)
	fork := openPeer(t, forkDir, "127.0.0.1:0")
	ctx := context.Background()
	err := charlie.Store.Update(ctx, func(tx detente.Tx) error {
		p, err := tx.Partner(ctx, "alpha")
		if err != nil {
			return err
		}
		p.URL = fork.srv.URL()
		return tx.PutPartner(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The two copies diverge: each records different releases.
	ingest(t, alpha, indicator(amber, detente.MarkingGreen, "what bravo is told"))
	ingest(t, fork, indicator(red, detente.MarkingGreen, "what charlie is told"))

	if _, err := charlie.Federation.Sync(ctx, "alpha", nil); err != nil && !strings.Contains(err.Error(), "split view") {
		t.Fatalf("charlie: %v", err)
	}
	_, err = bravo.Federation.Sync(ctx, "alpha", nil)
	if err == nil || !strings.Contains(err.Error(), "split view") {
		t.Fatalf("bravo did not detect the split view: %v", err)
	}
	var alerts []*detente.Alert
	bravo.Store.View(ctx, func(tx detente.Tx) (err error) { alerts, err = tx.Alerts(ctx, 10); return })
	if len(alerts) == 0 || alerts[0].Kind != detente.AlertSplitView {
		t.Fatalf("alerts at bravo: %+v", alerts)
	}
	var ev map[string]string
	if err := json.Unmarshal(alerts[0].Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"old", "new"} {
		if _, err := translog.ParseCheckpoint([]byte(ev[k]), alpha.Origin(), ed25519.PublicKey(alpha.PublicKey())); err != nil {
			t.Errorf("evidence %q is not a checkpoint signed by alpha: %v", k, err)
		}
	}
	if ev["old"] == ev["new"] {
		t.Error("the evidence holds one checkpoint twice")
	}
}

// copyDir copies a stopped node's data directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// truncateLog deletes a stopped node's log entries from seq on, as someone
// with its database file would to roll the log back: the event rows, the
// stored tree hashes that cover any of them, and the checkpoints and
// cosignatures of the longer log, so that the node signs the shorter one.
func truncateLog(t *testing.T, dir string, seq int64) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		fmt.Sprintf(`DELETE FROM events WHERE seq >= %d`, seq),
		fmt.Sprintf(`DELETE FROM log_hashes WHERE key >= %d`, tlog.StoredHashIndex(0, seq)),
		fmt.Sprintf(`DELETE FROM checkpoints WHERE size > %d`, seq),
		fmt.Sprintf(`DELETE FROM cosignatures WHERE size > %d`, seq),
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestWitnessRollback: alpha's log is truncated behind bravo's back (rows,
// hashes and checkpoints deleted from its database), so alpha signs a new,
// smaller checkpoint. bravo, which witnessed the longer log, must refuse to
// cosign and raise a split-view alert naming both checkpoints; and again
// once alpha's log has grown past the old size with other entries.
func TestWitnessRollback(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	var objs []map[string]any
	for i := range 20 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", 100+i), detente.MarkingGreen, "x"))
	}
	ingest(t, alpha, objs...)
	sync(t, bravo, "alpha")
	witnessed, err := bravo.Federation.WitnessedCheckpoint(ctx, alpha.Origin())
	if err != nil || witnessed == nil {
		t.Fatalf("bravo witnessed nothing: %v", err)
	}
	old, err := translog.ParseCheckpoint(witnessed, alpha.Origin(), ed25519.PublicKey(alpha.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if old.Size < 17 {
		t.Fatalf("alpha's log has %d entries; the test needs a stored level-4 hash to delete", old.Size)
	}

	dir, addr := alpha.dir, strings.TrimPrefix(alpha.srv.URL(), "https://")
	alpha.stop()
	truncateLog(t, dir, 12)
	alpha = openPeer(t, dir, addr)

	refused := func(kind translog.InconsistencyKind) {
		t.Helper()
		_, err := bravo.Federation.Sync(ctx, "alpha", nil)
		if err == nil || detente.ErrorCode(err) != detente.ECONFLICT || !strings.Contains(err.Error(), string(kind)) {
			t.Fatalf("bravo accepted alpha's %s log: %v", kind, err)
		}
		note, cp, err := alpha.LatestCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := translog.VerifyCosignature(note, bravo.Federation.WitnessName(), ed25519.PublicKey(bravo.PublicKey())); err == nil {
			t.Errorf("bravo cosigned alpha's checkpoint of size %d", cp.Size)
		}
		if still, _ := bravo.Federation.WitnessedCheckpoint(ctx, alpha.Origin()); string(still) != string(witnessed) {
			t.Errorf("bravo replaced the checkpoint it witnessed:\n%s", still)
		}
		alerts := alertsOf(t, bravo)
		if len(alerts) == 0 || alerts[0].Kind != detente.AlertSplitView || alerts[0].Partner != "alpha" {
			t.Fatalf("alerts at bravo: %+v", alerts)
		}
		a := alerts[0]
		var ev map[string]string
		if err := json.Unmarshal(a.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["kind"] != string(kind) || ev["old"] != string(witnessed) {
			t.Errorf("evidence: %v", ev)
		}
		cur, err := translog.ParseCheckpoint([]byte(ev["new"]), alpha.Origin(), ed25519.PublicKey(alpha.PublicKey()))
		if err != nil || cur.Size != cp.Size {
			t.Fatalf("evidence of the new checkpoint: %v %+v", err, cur)
		}
		for _, s := range []string{fmt.Sprint(old.Size), old.Root.String(), fmt.Sprint(cur.Size), cur.Root.String()} {
			if !strings.Contains(a.Message, s) {
				t.Errorf("alert %q does not name %s", a.Message, s)
			}
		}
		t.Log(a.Message)
	}
	refused(translog.Shrink)

	// alpha's log grows past the witnessed size with other entries: the
	// consistency proof alpha gives cannot link them.
	objs = objs[:0]
	for i := range 20 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", 200+i), detente.MarkingGreen, "y"))
	}
	ingest(t, alpha, objs...)
	refused(translog.Rewrite)
}
