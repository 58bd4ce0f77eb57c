package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"detente"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/stix"
)

// TestCorroborationThroughIngest: what this node and a partner assert
// alike is corroborated; a copy charlie relays of bravo's indicator counts
// for bravo, never for charlie; the index, fed by the hook, agrees with
// one rebuilt from the store.
func TestCorroborationThroughIngest(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	keys := map[string]ed25519.PrivateKey{}
	for _, p := range []string{"bravo", "charlie"} {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		keys[p] = priv
		if _, err := n.AddPartner(ctx, p, detente.PublicKey(pub), "https://"+p+".example"); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Corroboration.Build(ctx); err != nil { // built before: the hook feeds it
		t.Fatal(err)
	}
	ind := func(id, pattern string) []byte {
		o := indicator(id, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
		o["pattern"] = pattern
		b, _ := json.Marshal(o)
		return b
	}
	const (
		own     = "indicator--00000000-0000-4000-8000-000000000001"
		bravo   = "indicator--00000000-0000-4000-8000-000000000002"
		bravo2  = "indicator--00000000-0000-4000-8000-000000000003"
		charlie = "indicator--00000000-0000-4000-8000-000000000004"
		bravo3  = "indicator--00000000-0000-4000-8000-000000000005"
		own2    = "indicator--00000000-0000-4000-8000-000000000006"
	)
	mustIngest := func(raw []byte) {
		t.Helper()
		if _, err := n.Ingest(ctx, raw, node.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mustIngest(ind(own, "[domain-name:value = 'drop.example']"))
	b1, _ := stix.Sign(ind(bravo, "[domain-name:value = 'DROP.example.']"), keys["bravo"], detente.Grading{})
	mustIngest(b1)
	b2raw := ind(bravo2, "[ipv4-addr:value = '203.0.113.7']")
	b2, _ := stix.Sign(b2raw, keys["bravo"], detente.Grading{})
	mustIngest(b2)
	// charlie relays bravo's second indicator: a copy, not a source.
	orig, _ := stix.ParseObject(b2)
	relayed, err := stix.SignRelayed(b2raw, keys["charlie"], detente.Grading{}, stix.Relay{Origin: orig.ToVersion().Signer, SHA256: sha(b2)})
	if err != nil {
		t.Fatal(err)
	}
	mustIngest(relayed)
	mustIngest(ind(charlie, "[ipv6-addr:value = '2001:db8::9']"))
	// bravo3 reaches alpha only as charlie's relayed copy; alpha asserts
	// the same address: corroborated by bravo, not by charlie.
	b3raw := ind(bravo3, "[ipv4-addr:value = '198.51.100.3']")
	b3, _ := stix.Sign(b3raw, keys["bravo"], detente.Grading{})
	relayed3, err := stix.SignRelayed(b3raw, keys["charlie"], detente.Grading{}, stix.Relay{Origin: orig.ToVersion().Signer, SHA256: sha(b3)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Ingest(ctx, relayed3, node.IngestOptions{})
	if err != nil || res.Added != 1 || res.Objects[0].Originator != "bravo" {
		t.Fatalf("relayed copy: %+v, %v; want added, originated by bravo", res, err)
	}
	mustIngest(ind(own2, "[ipv4-addr:value = '198.51.100.3/32']"))

	check := func(label string) {
		t.Helper()
		for _, c := range []struct {
			id     string
			single bool
			srcs   []string
		}{
			{own, false, []string{"bravo"}},
			{bravo, false, []string{"self"}},
			{bravo2, true, nil},
			{charlie, true, nil},
			{bravo3, false, []string{"self"}},
			{own2, false, []string{"bravo"}},
		} {
			vs, err := n.ObjectVersions(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := n.Corroboration.Of(ctx, vs)
			if err != nil {
				t.Fatal(err)
			}
			for i, co := range cs {
				if co.SingleSource != c.single || len(co.IndependentSources) != len(c.srcs) ||
					(len(c.srcs) > 0 && co.IndependentSources[0] != c.srcs[0]) {
					t.Errorf("%s: %s version %d (originator %s): %+v, want single %v sources %v", label, c.id, i, vs[i].Originator, co, c.single, c.srcs)
				}
			}
		}
	}
	check("fed by the hook")
	if err := n.Corroboration.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt from the store")
}

// sha is the hex SHA-256 a relay statement names: of the original
// version's canonical JSON.
func sha(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// TestCorroborationConcurrent: ingests and queries at once leave the
// index holding exactly what the store holds (run with -race).
func TestCorroborationConcurrent(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	if err := n.Corroboration.Build(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 4)
	for w := range 2 {
		go func() {
			for r := range 5 {
				if _, err := n.Ingest(ctx, genBundle(50, 10*w+r), node.IngestOptions{}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		go func() {
			for range 20 {
				vs, err := n.FindObjects(ctx, detente.ObjectFilter{Limit: 10})
				if err == nil {
					_, err = n.Corroboration.Of(ctx, vs)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ix, err := n.Corroboration.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := n.CountObjects(ctx); int64(ix.Len()) != c {
		t.Errorf("the index has seen %d versions, the store holds %d", ix.Len(), c)
	}
}

// TestCorroborationOtherProcess: a second process on the same store (as
// several serve processes share one PostgreSQL database) never sees the
// first one's hook, yet its index catches up with what the store holds.
func TestCorroborationOtherProcess(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "alpha")
	if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	open := func() *node.Node {
		n, err := nodetest.Open(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, b := open(), open()
	if err := b.Corroboration.Build(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, genBundle(30, 1), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Corroboration.Build(ctx); err != nil { // what a query does once a second
		t.Fatal(err)
	}
	ix, err := b.Corroboration.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 30 {
		t.Errorf("the other process's index has seen %d versions, want 30", ix.Len())
	}
}
