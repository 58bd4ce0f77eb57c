package ledger_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"detente"
	"detente/internal/ledger"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/stix"
	"detente/internal/translog"
)

const (
	ownGreen  = "indicator--00000000-0000-4000-8000-000000000001"
	ownAmber  = "indicator--00000000-0000-4000-8000-000000000002"
	bravoOne  = "indicator--00000000-0000-4000-8000-0000000000b1"
	bravoTwo  = "indicator--00000000-0000-4000-8000-0000000000b2"
	charlieID = "indicator--00000000-0000-4000-8000-0000000000c1"
	bravoSelf = "indicator--00000000-0000-4000-8000-0000000000a9"
)

func indicator(id, marking, pattern string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": "x", "pattern": pattern,
		"pattern_type": "stix", "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": []string{marking}}
}

func signed(t *testing.T, key ed25519.PrivateKey, g string, obj map[string]any) json.RawMessage {
	t.Helper()
	raw, _ := json.Marshal(obj)
	grading, _ := detente.ParseGrading(g)
	out, err := stix.Sign(raw, key, grading)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// world is node alpha with partners bravo and charlie, whose keys the
// test holds, under agreements allowing indicators up to AMBER.
type world struct {
	n               *node.Node
	bravo, charlie  ed25519.PrivateKey
	bravoPub, chPub detente.PublicKey
}

func newWorld(t *testing.T, reciprocity map[string]any) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{n: nodetest.New(t, "alpha")}
	_, w.bravo, _ = ed25519.GenerateKey(nil)
	_, w.charlie, _ = ed25519.GenerateKey(nil)
	w.bravoPub = detente.PublicKey(w.bravo.Public().(ed25519.PublicKey))
	w.chPub = detente.PublicKey(w.charlie.Public().(ed25519.PublicKey))
	for name, k := range map[string]detente.PublicKey{"bravo": w.bravoPub, "charlie": w.chPub} {
		if _, err := w.n.AddPartner(ctx, name, k, "https://"+name+".example:8443"); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		doc := map[string]any{"partner": name, "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
			"tlp_ceiling": "amber", "types": []string{"indicator"}, "onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"}
		if name == "bravo" && reciprocity != nil {
			doc["reciprocity"] = reciprocity
		}
		raw, _ := json.Marshal(doc)
		ag, err := detente.ParseAgreement(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.n.AddAgreement(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
		"objects": []any{indicator(ownGreen, detente.MarkingGreen, "[ipv4-addr:value = '192.0.2.1']"),
			indicator(ownAmber, detente.MarkingAmber, "[ipv4-addr:value = '192.0.2.2']")}})
	if _, err := w.n.Ingest(ctx, b, node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) receive(t *testing.T, from string, raws ...json.RawMessage) {
	t.Helper()
	if _, err := w.n.Receive(context.Background(), from, raws, nil); err != nil {
		t.Fatal(err)
	}
}

func (w *world) release(t *testing.T, object, to string) {
	t.Helper()
	res, err := w.n.Release(context.Background(), object, to)
	if err != nil || !res.Decision.Allowed {
		t.Fatalf("release %s to %s: %+v, %v", object, to, res, err)
	}
}

// exchange runs an exchange with every kind of novelty between alpha and
// bravo.
func (w *world) exchange(t *testing.T) {
	w.release(t, ownGreen, "bravo") // new
	w.release(t, ownGreen, "bravo") // the same version again: a duplicate
	w.release(t, ownAmber, "bravo") // new, AMBER
	one := signed(t, w.bravo, "A1", indicator(bravoOne, detente.MarkingGreen, "[domain-name:value = 'one.example']"))
	w.receive(t, "bravo", one) // new
	w.receive(t, "bravo", one) // a duplicate
	w.receive(t, "charlie", signed(t, w.charlie, "C3", indicator(charlieID, detente.MarkingGreen, "[domain-name:value = 'two.example']")))
	// bravo says what charlie said: a repeat.
	w.receive(t, "bravo", signed(t, w.bravo, "C3", indicator(bravoTwo, detente.MarkingGreen, "[domain-name:value = 'two.example']")))
	// alpha's own object back from bravo: already held, but its own.
	var own json.RawMessage
	w.n.Store.View(context.Background(), func(tx detente.Tx) error {
		o, err := tx.Object(context.Background(), ownGreen)
		if err == nil {
			own = o.Raw
		}
		return err
	})
	w.receive(t, "bravo", own)
	// An object signed by alpha that alpha does not hold: its own, new to the store.
	w.receive(t, "bravo", signed(t, w.n.Key, "B2", indicator(bravoSelf, detente.MarkingGreen, "[domain-name:value = 'self.example']")))
}

func balanceOf(t *testing.T, bs []*ledger.Balance, partner string) *ledger.Balance {
	t.Helper()
	for _, b := range bs {
		if b.Partner == partner {
			return b
		}
	}
	t.Fatalf("no balance for %s in %+v", partner, bs)
	return nil
}

// TestLedgerFromLog: the novelty recorded at the time, the weights, and
// the ledger an auditor computes from an exported bundle equal to the
// live one.
func TestLedgerFromLog(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	w.exchange(t)

	live, err := w.n.Ledger.Balances(ctx, "", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := balanceOf(t, live, "bravo")
	if b.Given != 3 || b.Received != 5 {
		t.Errorf("given %d received %d, want 3 and 5", b.Given, b.Received)
	}
	wantGiven := map[string]int{ledger.NoveltyNew: 2, ledger.NoveltyDuplicate: 1}
	wantReceived := map[string]int{ledger.NoveltyNew: 1, ledger.NoveltyDuplicate: 1, ledger.NoveltyRepeat: 1, ledger.NoveltyOwn: 2}
	if !reflect.DeepEqual(b.GivenByNovelty, wantGiven) || !reflect.DeepEqual(b.ReceivedByNovelty, wantReceived) {
		t.Errorf("by novelty: given %v received %v, want %v and %v", b.GivenByNovelty, b.ReceivedByNovelty, wantGiven, wantReceived)
	}
	// Given: GREEN B2 new (1×1.25×1.25×1) + AMBER B2 new (×1.25); the
	// duplicate weighs nothing.
	g := 1.25 * 1.25
	if want := g + g*1.25; !near(b.GivenWeight, want) {
		t.Errorf("given weight %v, want %v", b.GivenWeight, want)
	}
	// Received: A1 new (1.5×1.5) + C3 repeat (0.1) + twice B2 own
	// (1.5625×0.1); the duplicate weighs nothing.
	if want := 2.25 + 0.1 + 2*g*0.1; !near(b.ReceivedWeight, want) {
		t.Errorf("received weight %v, want %v", b.ReceivedWeight, want)
	}
	if b.Ratio == nil || !near(*b.Ratio, b.ReceivedWeight/b.GivenWeight) {
		t.Errorf("ratio %v", b.Ratio)
	}
	if c := balanceOf(t, live, "charlie"); c.Received != 1 || c.Given != 0 || c.Ratio != nil {
		t.Errorf("charlie: %+v", c)
	}

	// The auditor's ledger, from the exported and verified bundle.
	if _, err := w.n.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	bundle, err := w.n.Export(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := bundle.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := translog.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	now := w.n.Now()
	var events []*detente.Event
	w.n.Store.View(ctx, func(tx detente.Tx) (err error) { events, err = ledger.Events(ctx, tx); return })
	live = ledger.Compute(events, 30*24*time.Hour, now)
	audit, err := ledger.FromBundle(parsed, ed25519.PublicKey(w.n.PublicKey()), 30*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(live, audit) {
		l, _ := json.Marshal(live)
		a, _ := json.Marshal(audit)
		t.Errorf("ledger from the bundle differs from the live one:\nlive  %s\naudit %s", l, a)
	}

	// A bundle signed by another key, and a part of the log, are refused.
	_, other, _ := ed25519.GenerateKey(nil)
	if _, err := ledger.FromBundle(parsed, other.Public().(ed25519.PublicKey), 0, now); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("bundle under another key: %v", err)
	}
	part, err := w.n.Export(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.FromBundle(part, ed25519.PublicKey(w.n.PublicKey()), 0, now); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("partial bundle: %v", err)
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

// TestGrades: the receiver's own grading of a partner and of an
// assertion, signed, logged, beside the originator's grading, which stays
// as it was signed.
func TestGrades(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	w.receive(t, "bravo", signed(t, w.bravo, "A1", indicator(bravoOne, detente.MarkingGreen, "[domain-name:value = 'one.example']")))
	l := w.n.Ledger

	if _, err := l.GradePartner(ctx, "bravo", "G", "", "ops"); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("reliability G: %v", err)
	}
	if _, err := l.GradePartner(ctx, "delta", "B", "", "ops"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("unknown partner: %v", err)
	}
	if _, err := l.GradeObject(ctx, bravoOne, 7, "", "ops"); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("credibility 7: %v", err)
	}
	if _, err := l.GradeObject(ctx, "indicator--99999999-0000-4000-8000-000000000000", 2, "", "ops"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("unknown object: %v", err)
	}
	a, err := l.Assess(ctx, bravoOne)
	if err != nil || a.OriginatorGrading != "A1" || a.OwnGrading != "" {
		t.Fatalf("before grading: %+v, %v", a, err)
	}
	if _, err := l.GradePartner(ctx, "bravo", "c", "often relays rumours", "ops"); err != nil {
		t.Fatal(err)
	}
	if a, _ = l.Assess(ctx, bravoOne); a.OwnGrading != "C?" {
		t.Errorf("source graded only: %+v", a)
	}
	if _, err := l.GradeObject(ctx, bravoOne, 4, "no other source", "ops"); err != nil {
		t.Fatal(err)
	}
	a, _ = l.Assess(ctx, bravoOne)
	if a.OriginatorGrading != "A1" || a.OwnGrading != "C4" || a.Source.Verify() != nil || a.Assertion.Verify() != nil {
		t.Errorf("graded: %+v", a)
	}
	forged := *a.Assertion
	forged.Credibility = 1
	if forged.Verify() == nil {
		t.Error("a changed grade still verifies")
	}
	// The originator's grading is untouched.
	w.n.Store.View(ctx, func(tx detente.Tx) error {
		o, err := tx.Object(ctx, bravoOne)
		if err != nil || o.Grading.String() != "A1" {
			t.Errorf("stored version: %v, %v", o, err)
		}
		return nil
	})
	gs, err := l.Grades(ctx)
	if err != nil || len(gs) != 2 {
		t.Errorf("grades: %+v, %v", gs, err)
	}
	es, _ := w.n.Events(ctx, detente.EventFilter{Type: detente.EventGrade})
	if len(es) != 2 || es[0].Partner != "bravo" {
		t.Errorf("grade log entries: %+v", es)
	}
}

// TestEventsSince: a ledger over a recent period reads the log from about
// its start (bisected), and gives the figures the whole log gives.
func TestEventsSince(t *testing.T) {
	ctx := context.Background()
	n := nodetest.New(t, "alpha")
	now := time.Now().UTC()
	worth := []ledger.Worth{{Type: "indicator", Novelty: ledger.NoveltyNew}}
	for _, e := range []struct {
		ago     time.Duration
		typ     string
		release bool
	}{{300 * 24 * time.Hour, detente.EventPartnerAdded, false}, {200 * 24 * time.Hour, detente.EventRelease, true},
		{100 * 24 * time.Hour, detente.EventTokenCreated, false}, {time.Hour, detente.EventRelease, true}} {
		body := map[string]any{"name": "bravo"}
		if e.release {
			body = map[string]any{"allowed": true, "objects": []string{ownGreen + "@2026-01-10T10:00:00Z"}, "worth": worth}
		}
		ev, _ := detente.NewEvent(now.Add(-e.ago), e.typ, "bravo", body)
		if err := n.Store.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	var all, recent []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		if all, err = ledger.Events(ctx, tx); err != nil {
			return err
		}
		recent, err = ledger.EventsSince(ctx, tx, now.Add(-24*time.Hour))
		return err
	})
	if len(all) != 3 || len(recent) != 2 { // the partner's addition, however old, and the recent release
		t.Errorf("read %d events since yesterday, %d in all; want 2 and 3", len(recent), len(all))
	}
	bs, err := n.Ledger.Balances(ctx, "bravo", 30*24*time.Hour)
	if err != nil || bs[0].Given != 1 {
		t.Fatalf("last 30 days: %+v, %v", bs, err)
	}
	if bs, _ := n.Ledger.Balances(ctx, "bravo", 0); bs[0].Given != 2 {
		t.Errorf("whole log: given %d, want 2", bs[0].Given)
	}
}
