package storetest

import (
	"context"
	"testing"
	"time"

	"detente"
)

// testAlerts checks alerts standing alone and alerts of one condition
// (Key): one per Kind and Key, updated in place, First kept, Count
// counting; the newest raised first; and the groups by kind.
func testAlerts(t *testing.T, s detente.Store) {
	put := func(a *detente.Alert) *detente.Alert {
		t.Helper()
		update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutAlert(ctx, a) })
		return a
	}
	q := put(&detente.Alert{Time: t0, Kind: detente.AlertQuarantine, Partner: "bravo", Message: "m", Evidence: []byte("e")})
	if q.ID == 0 || q.Count != 1 || !q.First.Equal(t0) {
		t.Errorf("alert without a key: %+v", q)
	}
	// The same condition three times: one alert, updated in place.
	var first *detente.Alert
	for i := range 3 {
		a := put(&detente.Alert{Key: "ack-overdue/message--1", Time: t0.Add(time.Duration(i+1) * time.Minute), Kind: detente.AlertChannel,
			Partner: "bravo", Message: "escalation " + string(rune('1'+i)), Evidence: []byte{byte(i)}})
		if i == 0 {
			first = a
		}
		if a.ID != first.ID || a.Count != i+1 || !a.First.Equal(t0.Add(time.Minute)) {
			t.Errorf("raise %d: %+v", i+1, a)
		}
	}
	// Another condition, and the same key under another kind: apart.
	other := put(&detente.Alert{Key: "ack-overdue/message--2", Time: t0.Add(30 * time.Second), Kind: detente.AlertChannel, Message: "x"})
	split := put(&detente.Alert{Key: "ack-overdue/message--1", Time: t0.Add(10 * time.Second), Kind: detente.AlertSplitView, Message: "y"})
	if other.ID == first.ID || split.ID == first.ID || other.Count != 1 || split.Count != 1 {
		t.Errorf("other conditions share an alert: %+v %+v %+v", first, other, split)
	}
	// Two alerts without a key never merge.
	q2 := put(&detente.Alert{Time: t0.Add(5 * time.Second), Kind: detente.AlertQuarantine, Partner: "bravo", Message: "m"})
	if q2.ID == q.ID {
		t.Error("two alerts without a key were merged")
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		as, err := tx.Alerts(ctx, 0)
		if err != nil {
			return err
		}
		if len(as) != 5 {
			t.Fatalf("%d alerts, want 5", len(as))
		}
		a := as[0] // raised last, at t0+3m
		if a.ID != first.ID || a.Count != 3 || a.Message != "escalation 3" || string(a.Evidence) != "\x02" ||
			!a.Time.Equal(t0.Add(3*time.Minute)) || !a.First.Equal(t0.Add(time.Minute)) || a.Key != "ack-overdue/message--1" {
			t.Errorf("the condition's alert: %+v", a)
		}
		for i := 1; i < len(as); i++ {
			if as[i].Time.After(as[i-1].Time) {
				t.Errorf("alert %d raised at %v after %v: not newest first", i, as[i].Time, as[i-1].Time)
			}
		}
		if as[len(as)-1].ID != q.ID || string(as[len(as)-1].Evidence) != "e" {
			t.Errorf("oldest alert %+v", as[len(as)-1])
		}
		if two, err := tx.Alerts(ctx, 2); err != nil || len(two) != 2 {
			t.Errorf("Alerts(2) = %d, %v", len(two), err)
		}
		gs, err := tx.AlertGroups(ctx, 1)
		if err != nil {
			return err
		}
		if len(gs) != 3 {
			t.Fatalf("%d groups, want 3: %+v", len(gs), gs)
		}
		want := []struct {
			kind           string
			alerts, raised int64
			latest         int64
		}{
			{detente.AlertChannel, 2, 4, first.ID},
			{detente.AlertSplitView, 1, 1, split.ID},
			{detente.AlertQuarantine, 2, 2, q2.ID},
		}
		for i, w := range want {
			g := gs[i]
			if g.Kind != w.kind || g.Alerts != w.alerts || g.Raised != w.raised || len(g.Latest) != 1 || g.Latest[0].ID != w.latest {
				t.Errorf("group %d = %+v (latest %+v), want %+v", i, g, g.Latest, w)
			}
		}
		if !gs[0].Last.Equal(t0.Add(3 * time.Minute)) {
			t.Errorf("channel alerts last raised %v", gs[0].Last)
		}
		if gs, err := tx.AlertGroups(ctx, 0); err != nil || len(gs) != 3 || gs[0].Latest != nil {
			t.Errorf("AlertGroups(0) = %+v, %v", gs, err)
		}
		return nil
	})
}

// testReferrers checks the reverse of references: the ids of objects of
// which some version references an id, in the order first stored.
func testReferrers(t *testing.T, s detente.Store) {
	target := "identity--00000000-0000-4000-8000-0000000000aa"
	a := obj("report--00000000-0000-4000-8000-0000000000a1", t0, "a")
	a.Refs = []detente.Ref{{Path: "object_refs", ID: target}, {Path: "created_by_ref", ID: target}}
	b := obj("relationship--00000000-0000-4000-8000-0000000000a2", t0, "b")
	b.Refs = []detente.Ref{{Path: "source_ref", ID: "IDENTITY--00000000-0000-4000-8000-0000000000AA"}}
	b2 := obj(b.ID, t0.Add(time.Hour), "b2")
	b2.Refs = []detente.Ref{{Path: "source_ref", ID: target}}
	c := obj("indicator--00000000-0000-4000-8000-0000000000a3", t0, "c")
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for _, o := range []*detente.ObjectVersion{a, b, b2, c} {
			if _, err := tx.PutObject(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.Referrers(ctx, target, 0)
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0] != a.ID || got[1] != b.ID {
			t.Errorf("referrers of %s = %q, want %s then %s", target, got, a.ID, b.ID)
		}
		if got, err := tx.Referrers(ctx, target, 1); err != nil || len(got) != 1 {
			t.Errorf("Referrers(limit 1) = %q, %v", got, err)
		}
		if got, err := tx.Referrers(ctx, c.ID, 0); err != nil || len(got) != 0 {
			t.Errorf("referrers of an object nobody references = %q, %v", got, err)
		}
		return nil
	})
}
