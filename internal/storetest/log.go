package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/translog"

	"golang.org/x/mod/sumdb/tlog"
)

func testEvents(t *testing.T, s detente.Store) {
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for i := range 10 {
			p := ""
			if i%2 == 0 {
				p = "bravo"
			}
			e, err := detente.NewEvent(t0.Add(time.Duration(i)*time.Second), []string{detente.EventRelease, detente.EventPartnerAdded}[i%3/2], p, map[string]int{"i": i})
			if err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
			if e.Seq != int64(i) {
				t.Errorf("event %d got seq %d", i, e.Seq)
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		n, err := tx.CountEvents(ctx)
		if err != nil || n != 10 {
			t.Errorf("CountEvents = %d, %v", n, err)
		}
		all, err := tx.Events(ctx, detente.EventFilter{})
		if err != nil || len(all) != 10 {
			t.Fatalf("Events = %d, %v", len(all), err)
		}
		var body map[string]int
		if err := json.Unmarshal(all[7].Body, &body); err != nil || body["i"] != 7 || !all[7].Time.Equal(t0.Add(7*time.Second)) {
			t.Errorf("event 7 = %s at %v", all[7].Body, all[7].Time)
		}
		got, _ := tx.Events(ctx, detente.EventFilter{FromSeq: 4, Limit: 3})
		if len(got) != 3 || got[0].Seq != 4 || got[2].Seq != 6 {
			t.Errorf("range = %v", got)
		}
		got, _ = tx.Events(ctx, detente.EventFilter{Partner: "bravo"})
		if len(got) != 5 {
			t.Errorf("partner filter = %d, want 5", len(got))
		}
		got, _ = tx.Events(ctx, detente.EventFilter{Type: detente.EventPartnerAdded})
		for _, e := range got {
			if e.Type != detente.EventPartnerAdded {
				t.Errorf("type filter returned %s", e.Type)
			}
		}
		if len(got) != 3 {
			t.Errorf("type filter = %d, want 3", len(got))
		}
		got, _ = tx.Events(ctx, detente.EventFilter{Newest: true, Limit: 2})
		if len(got) != 2 || got[0].Seq != 9 || got[1].Seq != 8 {
			t.Errorf("newest = %v", got)
		}
		got, _ = tx.Events(ctx, detente.EventFilter{Newest: true, BeforeSeq: 8, Limit: 3})
		if len(got) != 3 || got[0].Seq != 7 || got[2].Seq != 5 {
			t.Errorf("newest before 8 = %v", got)
		}
		got, _ = tx.Events(ctx, detente.EventFilter{Partner: "bravo", Newest: true, BeforeSeq: 5})
		if len(got) != 3 || got[0].Seq != 4 || got[2].Seq != 0 {
			t.Errorf("bravo's before 5 = %v", got)
		}
		return nil
	})
}

// testConcurrentAppends checks that concurrent writers never produce
// duplicate or missing sequence numbers.
func testConcurrentAppends(t *testing.T, s detente.Store) {
	const writers, each = 4, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.Update(ctx, func(tx detente.Tx) error {
					e, _ := detente.NewEvent(t0, detente.EventRelease, "", map[string]int{"w": w, "i": i})
					return tx.AppendEvent(ctx, e)
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent append: %v", err)
		}
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		all, err := tx.Events(ctx, detente.EventFilter{})
		if err != nil {
			return err
		}
		if len(all) != writers*each {
			t.Fatalf("%d events, want %d", len(all), writers*each)
		}
		for i, e := range all {
			if e.Seq != int64(i) {
				t.Fatalf("event at %d has seq %d", i, e.Seq)
			}
		}
		return nil
	})
}

func testMeta(t *testing.T, s detente.Store) {
	ctx := context.Background()
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.Meta(ctx, "name")
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(tx.SetMeta(ctx, "name", "alpha"), tx.SetMeta(ctx, "name", "alpha2"))
	})
	_ = s.View(ctx, func(tx detente.Tx) error {
		v, err := tx.Meta(ctx, "name")
		if err != nil || v != "alpha2" {
			t.Errorf("Meta = %q, %v", v, err)
		}
		return nil
	})
}

// testLogTree appends events across several transactions and checks that
// the tree the store keeps has the root an independent computation over the
// stored events gives, and that a rolled-back append leaves no hash behind.
func testLogTree(t *testing.T, s detente.Store) {
	ctx := context.Background()
	const total = 300
	for batch := 0; batch < total; batch += 37 {
		update(t, s, func(ctx context.Context, tx detente.Tx) error {
			for i := batch; i < min(batch+37, total); i++ {
				e, _ := detente.NewEvent(t0.Add(time.Duration(i)*time.Nanosecond*7919), detente.EventRelease, "bravo", map[string]int{"i": i})
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	_ = s.Update(ctx, func(tx detente.Tx) error {
		e, _ := detente.NewEvent(t0, detente.EventRelease, "", map[string]int{"rolled": 1})
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		return errBoom
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		events, err := tx.Events(ctx, detente.EventFilter{})
		if err != nil {
			return err
		}
		if len(events) != total {
			t.Fatalf("%d events, want %d", len(events), total)
		}
		mem := translog.NewMemStore()
		for _, e := range events {
			if err := translog.Append(ctx, mem, e.Seq, e); err != nil {
				return err
			}
		}
		for _, size := range []int64{1, 2, 16, 17, 255, 256, total} {
			want, err := translog.TreeHash(ctx, mem, size)
			if err != nil {
				return err
			}
			got, err := translog.TreeHash(ctx, translog.TxHashes(tx), size)
			if err != nil {
				return fmt.Errorf("tree hash at %d: %w", size, err)
			}
			if got != want {
				t.Errorf("root at size %d = %v, want %v", size, got, want)
			}
		}
		proof, err := translog.ProveInclusion(ctx, translog.TxHashes(tx), total, 123)
		if err != nil {
			return err
		}
		root, _ := translog.TreeHash(ctx, mem, total)
		if err := tlog.CheckRecord(proof, total, root, 123, translog.LeafHash(events[123])); err != nil {
			t.Errorf("inclusion proof from the store: %v", err)
		}
		_, err = tx.LogHashes(ctx, []detente.LogNode{{Level: 0, Index: total}})
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
	err := s.Update(ctx, func(tx detente.Tx) error {
		return tx.PutLogHashes(ctx, []detente.LogNode{{Level: 0, Index: 5}}, []detente.LogHash{{1}})
	})
	wantCode(t, err, detente.ECONFLICT)
}

func testCheckpoints(t *testing.T, s detente.Store) {
	ctx := context.Background()
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.Checkpoint(ctx, -1)
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(
			tx.PutCheckpoint(ctx, &detente.Checkpoint{Size: 3, Note: []byte("three"), Time: t0}),
			tx.PutCheckpoint(ctx, &detente.Checkpoint{Size: 7, Note: []byte("seven"), Time: t0.Add(time.Second)}),
			tx.PutCosignature(ctx, 7, "bravo", []byte("old")),
			tx.PutCosignature(ctx, 7, "bravo", []byte("new")),
			tx.PutCosignature(ctx, 7, "charlie", []byte("c")),
		)
	})
	err := s.Update(ctx, func(tx detente.Tx) error {
		return tx.PutCheckpoint(ctx, &detente.Checkpoint{Size: 7, Note: []byte("another seven"), Time: t0})
	})
	wantCode(t, err, detente.EEXISTS)
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		c, err := tx.Checkpoint(ctx, -1)
		if err != nil || c.Size != 7 || string(c.Note) != "seven" || !c.Time.Equal(t0.Add(time.Second)) {
			t.Errorf("latest = %+v, %v", c, err)
		}
		c, err = tx.Checkpoint(ctx, 3)
		if err != nil || string(c.Note) != "three" {
			t.Errorf("size 3 = %+v, %v", c, err)
		}
		all, err := tx.Checkpoints(ctx)
		if err != nil || len(all) != 2 || all[0].Size != 3 || all[1].Size != 7 {
			t.Errorf("Checkpoints = %v, %v", all, err)
		}
		cs, err := tx.Cosignatures(ctx, 7)
		if err != nil || len(cs) != 2 || string(cs["bravo"]) != "new" {
			t.Errorf("cosignatures = %q, %v", cs, err)
		}
		return nil
	})
}

// testDateAdded checks that Added is unique, increases with Seq at
// microsecond precision across transactions, and filters exclusively.
func testDateAdded(t *testing.T, s detente.Store) {
	for round := range 3 {
		update(t, s, func(ctx context.Context, tx detente.Tx) error {
			for i := range 50 {
				id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", round*100+i)
				if _, err := tx.PutObject(ctx, obj(id, t0, "x")); err != nil {
					return err
				}
			}
			return nil
		})
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		all, err := tx.Objects(ctx, detente.ObjectFilter{})
		if err != nil {
			return err
		}
		for i, o := range all {
			if o.Added.IsZero() || o.Added.Nanosecond()%1000 != 0 {
				t.Fatalf("object %d: Added %v is not whole microseconds", i, o.Added)
			}
			if i > 0 && !o.Added.After(all[i-1].Added) {
				t.Fatalf("Added does not increase with Seq at %d: %v after %v", i, o.Added, all[i-1].Added)
			}
		}
		after, err := tx.Objects(ctx, detente.ObjectFilter{AddedAfter: all[99].Added})
		if err != nil || len(after) != 50 || after[0].Seq != all[100].Seq {
			t.Errorf("AddedAfter is not exclusive: %d objects", len(after))
		}
		return nil
	})
}
