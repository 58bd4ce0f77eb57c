package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"detente"
)

func testObjectVersions(t *testing.T, s detente.Store) {
	v1, v2 := obj(ind, t0, "one"), obj(ind, t0.Add(time.Hour), "two")
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for _, o := range []*detente.ObjectVersion{v2, v1} { // newest first: order of arrival must not matter
			added, err := tx.PutObject(ctx, o)
			if err != nil || !added {
				return fmt.Errorf("put %s: added=%v err=%v", o.Key(), added, err)
			}
		}
		return nil
	})
	if v1.Seq <= v2.Seq {
		t.Errorf("seq not increasing in arrival order: v2=%d v1=%d", v2.Seq, v1.Seq)
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.Object(ctx, ind)
		if err != nil {
			return err
		}
		if string(got.Raw) != string(v2.Raw) {
			t.Errorf("latest = %s, want v2", got.Raw)
		}
		// Every recorded field survives the round trip.
		want := *v2
		if got.Seq != want.Seq || !got.Modified.Equal(want.Modified) || !got.Created.Equal(want.Created) ||
			!got.Received.Equal(want.Received) || got.Grading != want.Grading || got.Originator != want.Originator ||
			!slices.Equal(got.Markings, want.Markings) || !slices.Equal(got.Refs, want.Refs) ||
			len(got.Granular) != 1 || got.Granular[0].Selectors[0] != "description" ||
			string(got.Signature) != "sig" || len(got.Signer) != 32 || got.SpecVersion != "2.1" || got.Type != "indicator" {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		vs, err := tx.ObjectVersions(ctx, ind)
		if err != nil {
			return err
		}
		if len(vs) != 2 || string(vs[0].Raw) != string(v1.Raw) || string(vs[1].Raw) != string(v2.Raw) {
			t.Errorf("versions = %d, want v1 then v2", len(vs))
		}
		one, err := tx.ObjectVersion(ctx, ind, t0)
		if err != nil || string(one.Raw) != string(v1.Raw) {
			t.Errorf("ObjectVersion(t0) = %v, %v", one, err)
		}
		_, err = tx.ObjectVersion(ctx, ind, t0.Add(time.Second))
		wantCode(t, err, detente.ENOTFOUND)
		_, err = tx.Object(ctx, "indicator--22222222-2222-4222-8222-222222222222")
		wantCode(t, err, detente.ENOTFOUND)
		n, err := tx.CountObjects(ctx)
		if err != nil || n != 2 {
			t.Errorf("CountObjects = %d, %v; want 2", n, err)
		}
		return nil
	})
}

func testObjectConflict(t *testing.T, s detente.Store) {
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.PutObject(ctx, obj(ind, t0, "one"))
		return err
	})
	ctx := context.Background()
	err := s.Update(ctx, func(tx detente.Tx) error {
		again := obj(ind, t0, "one")
		added, err := tx.PutObject(ctx, again)
		if err != nil || added {
			t.Errorf("identical version: added=%v err=%v, want false, nil", added, err)
		}
		_, err = tx.PutObject(ctx, obj(ind, t0, "other content"))
		return err
	})
	wantCode(t, err, detente.ECONFLICT)
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		o, err := tx.Object(ctx, ind)
		if err != nil || string(o.Raw) != string(obj(ind, t0, "one").Raw) {
			t.Errorf("stored version changed after a conflict: %v %v", o, err)
		}
		return nil
	})
}

// testPutObjects checks the batch form of PutObject: each version decided
// in order as PutObject would (a version stored before, or earlier in the
// batch, is unchanged or a conflict), conflicts reported per version and
// not stored, the new ones stored with increasing Seq and Added, exactly
// as single PutObject calls would have stored them.
func testPutObjects(t *testing.T, s detente.Store) {
	ind2 := "indicator--22222222-2222-4222-8222-222222222222"
	rep := "report--33333333-3333-4333-8333-333333333333"
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.PutObject(ctx, obj(ind, t0, "stored"))
		return err
	})
	batch := []*detente.ObjectVersion{
		obj(ind, t0, "stored"),                // 0: already stored, same content
		obj(ind, t0, "other"),                 // 1: conflicts with the stored version
		obj(ind2, t0, "new"),                  // 2: new
		obj(ind2, t0, "new"),                  // 3: the same as 2
		obj(ind2, t0, "changed"),              // 4: conflicts with 2
		obj(rep, t0, "report"),                // 5: new
		obj(ind, t0.Add(time.Hour), "second"), // 6: a new version of ind
	}
	var res []detente.PutResult
	update(t, s, func(ctx context.Context, tx detente.Tx) (err error) {
		res, err = tx.PutObjects(ctx, batch)
		return err
	})
	wantAdded := []bool{false, false, true, false, false, true, true}
	wantConflict := []bool{false, true, false, false, true, false, false}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d versions", len(res), len(batch))
	}
	for i, r := range res {
		if r.Added != wantAdded[i] || (r.Err != nil) != wantConflict[i] {
			t.Errorf("version %d: added=%v err=%v, want added=%v conflict=%v", i, r.Added, r.Err, wantAdded[i], wantConflict[i])
		}
		if r.Err != nil {
			wantCode(t, r.Err, detente.ECONFLICT)
		}
	}
	if batch[3].Seq != batch[2].Seq || batch[0].Seq == 0 {
		t.Errorf("an unchanged version's Seq is not the stored one: %d %d %d", batch[0].Seq, batch[2].Seq, batch[3].Seq)
	}
	if !(batch[2].Seq < batch[5].Seq && batch[5].Seq < batch[6].Seq) || !batch[2].Added.Before(batch[5].Added) || !batch[5].Added.Before(batch[6].Added) {
		t.Errorf("new versions' Seq/Added not increasing: %d %d %d", batch[2].Seq, batch[5].Seq, batch[6].Seq)
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		n, err := tx.CountObjects(ctx)
		if err != nil || n != 4 {
			t.Errorf("CountObjects = %d, %v; want 4", n, err)
		}
		for _, i := range []int{2, 5, 6} {
			o, err := tx.ObjectVersion(ctx, batch[i].ID, batch[i].Modified)
			if err != nil || string(o.Raw) != string(batch[i].Raw) || o.Seq != batch[i].Seq || !o.Added.Equal(batch[i].Added) {
				t.Errorf("version %d stored as %+v, %v", i, o, err)
			}
		}
		objs, err := tx.Objects(ctx, detente.ObjectFilter{})
		if err != nil || len(objs) != 4 {
			t.Fatalf("Objects: %d, %v", len(objs), err)
		}
		for i := 1; i < len(objs); i++ {
			if objs[i].Seq <= objs[i-1].Seq {
				t.Errorf("Seq not increasing: %d then %d", objs[i-1].Seq, objs[i].Seq)
			}
		}
		return nil
	})
	// A batch after it goes on from where it left.
	var more []*detente.ObjectVersion
	update(t, s, func(ctx context.Context, tx detente.Tx) (err error) {
		more = []*detente.ObjectVersion{obj(rep, t0.Add(time.Hour), "r2")}
		_, err = tx.PutObjects(ctx, more)
		if err != nil {
			return err
		}
		_, err = tx.PutObject(ctx, obj(ind2, t0.Add(time.Hour), "n2"))
		return err
	})
	if more[0].Seq <= batch[6].Seq {
		t.Errorf("the next batch's Seq %d is not after %d", more[0].Seq, batch[6].Seq)
	}
}

func testObjectFilter(t *testing.T, s detente.Store) {
	ids := []string{
		"indicator--00000000-0000-4000-8000-000000000001",
		"report--00000000-0000-4000-8000-000000000002",
		"indicator--00000000-0000-4000-8000-000000000003",
	}
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for i, id := range ids {
			for v := range 2 {
				o := obj(id, t0.Add(time.Duration(v)*time.Hour), fmt.Sprint(i, v))
				if i == 2 {
					o.Originator = "bravo"
				}
				if _, err := tx.PutObject(ctx, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		all, err := tx.Objects(ctx, detente.ObjectFilter{})
		if err != nil {
			return err
		}
		if len(all) != 6 {
			t.Fatalf("all = %d, want 6", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq <= all[i-1].Seq {
				t.Errorf("not ordered by seq at %d", i)
			}
		}
		cases := []struct {
			name string
			f    detente.ObjectFilter
			want int
		}{
			{"type", detente.ObjectFilter{Types: []string{"indicator"}}, 4},
			{"ids", detente.ObjectFilter{IDs: ids[1:2]}, 2},
			{"after", detente.ObjectFilter{AfterSeq: all[3].Seq}, 2},
			{"limit", detente.ObjectFilter{Limit: 4}, 4},
			{"latest", detente.ObjectFilter{LatestOnly: true}, 3},
			{"latest+type", detente.ObjectFilter{LatestOnly: true, Types: []string{"indicator"}}, 2},
			{"originator", detente.ObjectFilter{Originator: "bravo"}, 2},
			{"after+limit", detente.ObjectFilter{AfterSeq: all[0].Seq, Limit: 2}, 2},
			{"before", detente.ObjectFilter{BeforeSeq: all[2].Seq}, 2},
			{"newest", detente.ObjectFilter{Newest: true, Limit: 2}, 2},
			{"newest+latest", detente.ObjectFilter{Newest: true, LatestOnly: true}, 3},
			{"newest+latest+before", detente.ObjectFilter{Newest: true, LatestOnly: true, BeforeSeq: all[5].Seq, Limit: 1}, 1},
			{"multiversion+ids", detente.ObjectFilter{IDs: ids[1:], MultiVersion: true}, 4},
			{"multiversion+latest", detente.ObjectFilter{MultiVersion: true, LatestOnly: true}, 3},
		}
		for _, c := range cases {
			got, err := tx.Objects(ctx, c.f)
			if err != nil {
				return err
			}
			if len(got) != c.want {
				t.Errorf("%s: %d objects, want %d", c.name, len(got), c.want)
			}
			if c.f.LatestOnly {
				for _, o := range got {
					if !o.Modified.Equal(t0.Add(time.Hour)) {
						t.Errorf("%s: %s is not the latest version", c.name, o.Key())
					}
				}
			}
			if c.f.AfterSeq > 0 {
				for _, o := range got {
					if o.Seq <= c.f.AfterSeq {
						t.Errorf("%s: seq %d not after %d", c.name, o.Seq, c.f.AfterSeq)
					}
				}
			}
			for i, o := range got {
				if c.f.BeforeSeq > 0 && o.Seq >= c.f.BeforeSeq {
					t.Errorf("%s: seq %d not before %d", c.name, o.Seq, c.f.BeforeSeq)
				}
				if i > 0 && (o.Seq < got[i-1].Seq) != c.f.Newest {
					t.Errorf("%s: seq %d after %d, newest first %v", c.name, o.Seq, got[i-1].Seq, c.f.Newest)
				}
			}
			switch c.name {
			case "newest":
				if got[0].Seq != all[5].Seq {
					t.Errorf("newest: first is seq %d, want %d", got[0].Seq, all[5].Seq)
				}
			case "newest+latest+before":
				// all[5] is the latest version of ids[2]; before it, the
				// latest stored is ids[1]'s.
				if got[0].Seq != all[3].Seq {
					t.Errorf("newest+latest+before: seq %d, want %d", got[0].Seq, all[3].Seq)
				}
			}
		}
		return nil
	})
}

func testQuarantine(t *testing.T, s detente.Store) {
	q := obj(ind, t0.Add(time.Hour), "bad")
	q.Quarantine = "above-tlp-ceiling: TLP:RED beyond the agreement"
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		if _, err := tx.PutObject(ctx, obj(ind, t0, "good")); err != nil {
			return err
		}
		_, err := tx.PutObject(ctx, q)
		return err
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		o, err := tx.Object(ctx, ind)
		if err != nil {
			return err
		}
		if o.Quarantine != "" || !o.Modified.Equal(t0) {
			t.Errorf("Object returned the quarantined version")
		}
		got, _ := tx.Objects(ctx, detente.ObjectFilter{})
		if len(got) != 1 {
			t.Errorf("Objects without WithQuarantined = %d, want 1", len(got))
		}
		got, _ = tx.Objects(ctx, detente.ObjectFilter{WithQuarantined: true})
		if len(got) != 2 {
			t.Errorf("Objects WithQuarantined = %d, want 2", len(got))
		}
		// One version in force and one quarantined: several versions only
		// when the quarantined one counts.
		got, _ = tx.Objects(ctx, detente.ObjectFilter{IDs: []string{ind}, MultiVersion: true})
		if len(got) != 0 {
			t.Errorf("Objects MultiVersion = %d, want 0", len(got))
		}
		got, _ = tx.Objects(ctx, detente.ObjectFilter{IDs: []string{ind}, MultiVersion: true, WithQuarantined: true})
		if len(got) != 2 {
			t.Errorf("Objects MultiVersion WithQuarantined = %d, want 2", len(got))
		}
		v, err := tx.ObjectVersion(ctx, ind, q.Modified)
		if err != nil || v.Quarantine != q.Quarantine {
			t.Errorf("quarantine reason lost: %v %v", v, err)
		}
		return nil
	})
}

var errBoom = errors.New("boom")

func testAtomicity(t *testing.T, s detente.Store) {
	ctx := context.Background()
	err := s.Update(ctx, func(tx detente.Tx) error {
		if _, err := tx.PutObject(ctx, obj(ind, t0, "x")); err != nil {
			return err
		}
		e, _ := detente.NewEvent(t0, detente.EventObjectIngested, "", map[string]string{"id": ind})
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		if err := tx.PutPartner(ctx, partner("bravo", 1)); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want fn's error unchanged", err)
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		n, _ := tx.CountObjects(ctx)
		m, _ := tx.CountEvents(ctx)
		ps, _ := tx.Partners(ctx)
		if n != 0 || m != 0 || len(ps) != 0 {
			t.Errorf("after rollback: %d objects, %d events, %d partners; want none", n, m, len(ps))
		}
		return nil
	})
}

func testReadOnlyView(t *testing.T, s detente.Store) {
	ctx := context.Background()
	err := s.View(ctx, func(tx detente.Tx) error {
		_, err := tx.PutObject(ctx, obj(ind, t0, "x"))
		return err
	})
	if err == nil {
		t.Fatal("write inside View succeeded")
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		if n, _ := tx.CountObjects(ctx); n != 0 {
			t.Errorf("write inside View was stored")
		}
		return nil
	})
}

func partner(name string, seed byte) *detente.Partner {
	key := ed25519.NewKeyFromSeed(slices.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
	return &detente.Partner{Name: name, Key: detente.PublicKey(key), URL: "https://" + name + ".example:8443",
		State: detente.PartnerActive, Created: t0, Updated: t0}
}
