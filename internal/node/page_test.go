package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/node"
	"detente/internal/taxii"
	"detente/internal/view"
)

// TestPageRecordedInParts: a partner's TAXII page is recorded while it is
// read, in parts, in one write transaction. A page served is recorded
// whole: one release per version served, in the page's order, and one
// log entry naming them, with each one's worth; the same page again is
// all duplicates. A page whose reading fails after parts of it were
// handed to the recorder records nothing.
func TestPageRecordedInParts(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	var objs []map[string]any
	for i := range 900 {
		marking := detente.MarkingGreen
		if i%7 == 0 {
			marking = detente.MarkingRed // never released to bravo
		}
		objs = append(objs, indicator(fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i), marking, "2026-01-10T10:00:00.000Z"))
	}
	if _, err := n.Ingest(ctx, bundle(objs...), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	bravo := taxii.Caller{Partner: "bravo", CanRead: true}
	releases := func() (rs []*detente.Release, evs []*detente.Event) {
		t.Helper()
		err := n.Store.View(ctx, func(tx detente.Tx) (err error) {
			if rs, err = tx.Releases(ctx, detente.ReleaseFilter{Partner: "bravo"}); err != nil {
				return err
			}
			evs, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease, Partner: "bravo"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rs, evs
	}

	// Reading fails at the 600th version served: two parts were handed
	// to the recorder by then.
	cfg := n.ViewConfig()
	serve, calls := cfg.Serve, 0
	cfg.Serve = func(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion, p *detente.Partner, d detente.Decision) ([]byte, *leak.Copy, error, error) {
		if calls++; calls == 600 {
			return nil, nil, nil, errors.New("the disk is on fire")
		}
		return serve(ctx, tx, o, p, d)
	}
	if _, _, err := view.New(cfg).Records(ctx, bravo, node.CollectionShared, taxii.Query{Limit: 700}); err == nil {
		t.Fatal("a page whose reading failed was served")
	}
	if rs, evs := releases(); len(rs) != 0 || len(evs) != 0 {
		t.Fatalf("a page never served left %d releases and %d log entries", len(rs), len(evs))
	}

	src := n.TAXIISource()
	for round, novelty := range []string{"new", "duplicate"} {
		recs, more, err := src.Records(ctx, bravo, node.CollectionShared, taxii.Query{Limit: 700})
		if err != nil || !more || len(recs) != 700 {
			t.Fatalf("page: %d records, more %v, %v", len(recs), more, err)
		}
		var want []string // the stored versions served, in the page's order
		for _, r := range recs {
			if r.Seq > 64 { // after the view's definitions
				want = append(want, r.ID)
			}
		}
		rs, evs := releases()
		if len(evs) != round+1 {
			t.Fatalf("round %d: %d release entries in the log", round, len(evs))
		}
		var got []string
		for _, r := range rs[:len(rs)-len(want)*round] { // newest first
			if !r.Allowed {
				t.Errorf("refusal recorded for %s: %+v", r.Object, r.Reasons)
			}
			got = append(got, r.Object)
		}
		slices.Reverse(got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d releases recorded for %d versions served", round, len(got), len(want))
		}
		var body struct {
			Objects []string
			Worth   []struct{ Novelty string }
		}
		if err := json.Unmarshal(evs[round].Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Objects) != len(want) || len(body.Worth) != len(want) {
			t.Fatalf("round %d: the log entry names %d versions (%d worths) for %d served", round, len(body.Objects), len(body.Worth), len(want))
		}
		for i, w := range body.Worth {
			if w.Novelty != novelty {
				t.Fatalf("round %d: version %d is %q, want %q", round, i, w.Novelty, novelty)
			}
		}
	}
}

// TestPageRecorderYields: while a page is read, its recorder's write
// transaction never keeps the node's other writers waiting for long. A
// part slow to come (here the reading stalls until another write is
// done) makes the recorder roll back; the other write goes through, and
// the page is recorded whole once it is read.
func TestPageRecorderYields(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	var objs []map[string]any
	for i := range 700 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i), detente.MarkingGreen, "2026-01-10T10:00:00.000Z"))
	}
	if _, err := n.Ingest(ctx, bundle(objs...), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := n.ViewConfig()
	serve, calls := cfg.Serve, 0
	cfg.Serve = func(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion, p *detente.Partner, d detente.Decision) ([]byte, *leak.Copy, error, error) {
		if calls++; calls == 400 { // the first part is with the recorder
			writeWithin(t, n, "while a page stalls")
		}
		return serve(ctx, tx, o, p, d)
	}
	recs, _, err := view.New(cfg).Records(ctx, taxii.Caller{Partner: "bravo", CanRead: true}, node.CollectionShared, taxii.Query{Limit: 600})
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	for _, r := range recs {
		if r.Seq > 64 {
			served++
		}
	}
	var rs []*detente.Release
	var evs []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		if rs, err = tx.Releases(ctx, detente.ReleaseFilter{Partner: "bravo"}); err != nil {
			return err
		}
		evs, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease, Partner: "bravo"})
		return err
	})
	if served < 500 || len(rs) != served || len(evs) != 1 {
		t.Fatalf("%d versions served, %d releases and %d log entries recorded", served, len(rs), len(evs))
	}
}

// TestPageRecorderPanics: a panic while a page is recorded is raised in
// the request's goroutine, as a handler's panic is (net/http recovers
// it), not in the recorder's, where it would end the node; and the
// store's only writer is free again.
func TestPageRecorderPanics(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	cfg := n.ViewConfig()
	cfg.Record = func(context.Context, detente.Tx, string, map[string]any, []*leak.Copy) error {
		panic("the log is on fire")
	}
	func() {
		defer func() {
			if p := recover(); p != "the log is on fire" {
				t.Errorf("recovered %v", p)
			}
		}()
		view.New(cfg).Records(ctx, taxii.Caller{Partner: "bravo", CanRead: true}, node.CollectionShared, taxii.Query{Limit: 100})
		t.Error("no panic")
	}()
	writeWithin(t, n, "after the panic")
}

// writeWithin writes to n's store as another writer would, and fails t
// unless the write is done within 5 s (when, for a start).
func writeWithin(t *testing.T, n *node.Node, when string) {
	t.Helper()
	ctx := context.Background()
	wrote := make(chan error, 1)
	go func() {
		wrote <- n.Store.Update(ctx, func(tx detente.Tx) error { return tx.PutDoc(ctx, "test", when, []byte("x"), true) })
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Errorf("a write %s: %v", when, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a write %s waited 5 s for the page's recorder", when)
	}
}
