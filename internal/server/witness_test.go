package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"detente"
	"detente/internal/node"
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
	if _, err := translog.VerifyCosignature(note, bravo.WitnessName(), ed25519.PublicKey(bravo.PublicKey())); err != nil {
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
		receipts, err = tx.Events(ctx, detente.EventFilter{Type: node.EventReleaseReceipt, Partner: "alpha"})
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

	if _, err := charlie.Sync(ctx, "alpha", nil); err != nil && !strings.Contains(err.Error(), "split view") {
		t.Fatalf("charlie: %v", err)
	}
	_, err = bravo.Sync(ctx, "alpha", nil)
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
