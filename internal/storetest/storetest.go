// Package storetest is the conformance suite for detente.Store. Every
// backend runs it unchanged, so SQLite and PostgreSQL keep the same
// behaviour:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) detente.Store { return openTemp(t) })
//	}
//
// open must return a new, empty store each time it is called and arrange
// for it to be closed when the test ends.
package storetest

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/translog"

	"golang.org/x/mod/sumdb/tlog"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) detente.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s detente.Store)
	}{
		{"ObjectVersions", testObjectVersions},
		{"ObjectConflict", testObjectConflict},
		{"PutObjects", testPutObjects},
		{"ObjectFilter", testObjectFilter},
		{"Quarantine", testQuarantine},
		{"Atomicity", testAtomicity},
		{"ReadOnlyView", testReadOnlyView},
		{"Partners", testPartners},
		{"Agreements", testAgreements},
		{"Consents", testConsents},
		{"Releases", testReleases},
		{"Tokens", testTokens},
		{"Events", testEvents},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Meta", testMeta},
		{"LogTree", testLogTree},
		{"Checkpoints", testCheckpoints},
		{"Alerts", testAlerts},
		{"DateAdded", testDateAdded},
		{"SyncState", testSyncState},
		{"Designations", testDesignations},
		{"Docs", testDocs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	t.Run("Ownership", func(t *testing.T) { testOwnership(t, open) })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123000000, time.UTC)

func obj(id string, modified time.Time, body string) *detente.ObjectVersion {
	typ, _, _ := cut(id)
	return &detente.ObjectVersion{
		ID: id, Type: typ, SpecVersion: "2.1", Modified: modified, Created: t0,
		Originator: detente.OriginSelf, Markings: []string{detente.MarkingGreen},
		Granular: []detente.GranularMarking{{Marking: detente.MarkingRed, Selectors: []string{"description"}}},
		Refs:     []detente.Ref{{Path: "created_by_ref", ID: "identity--00000000-0000-4000-8000-000000000001"}},
		Grading:  detente.Grading{Reliability: 'B', Credibility: 2},
		Received: t0.Add(time.Minute), Signature: []byte("sig"), Signer: make(detente.PublicKey, 32),
		Raw: []byte(fmt.Sprintf(`{"id":%q,"x":%q}`, id, body)),
	}
}

func cut(id string) (string, string, bool) {
	for i := 0; i+1 < len(id); i++ {
		if id[i] == '-' && id[i+1] == '-' {
			return id[:i], id[i+2:], true
		}
	}
	return id, "", false
}

func update(t *testing.T, s detente.Store, fn func(ctx context.Context, tx detente.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx detente.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, s detente.Store, fn func(ctx context.Context, tx detente.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.View(ctx, func(tx detente.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := detente.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

const ind = "indicator--11111111-1111-4111-8111-111111111111"

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

func testPartners(t *testing.T, s detente.Store) {
	b, c := partner("bravo", 1), partner("charlie", 2)
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(tx.PutPartner(ctx, c), tx.PutPartner(ctx, b))
	})
	ctx := context.Background()
	dup := partner("delta", 1) // bravo's key
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutPartner(ctx, dup) }), detente.ECONFLICT)
	bad := partner("Bad Name", 3)
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutPartner(ctx, bad) }), detente.EINVALID)

	b2 := *b
	b2.State, b2.StateReason, b2.Updated = detente.PartnerSuspended, "breach of agreement", t0.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutPartner(ctx, &b2) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		ps, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		if len(ps) != 2 || ps[0].Name != "bravo" || ps[1].Name != "charlie" {
			t.Fatalf("partners = %v, want bravo, charlie", ps)
		}
		got, err := tx.PartnerByKey(ctx, c.Key)
		if err != nil || got.Name != "charlie" || got.URL != c.URL {
			t.Errorf("PartnerByKey = %+v, %v", got, err)
		}
		got, err = tx.Partner(ctx, "bravo")
		if err != nil || got.State != detente.PartnerSuspended || got.StateReason != "breach of agreement" ||
			!got.Created.Equal(t0) || !got.Updated.Equal(t0.Add(time.Hour)) || !got.Key.Equal(b.Key) {
			t.Errorf("Partner(bravo) = %+v, %v", got, err)
		}
		_, err = tx.Partner(ctx, "zulu")
		wantCode(t, err, detente.ENOTFOUND)
		_, err = tx.PartnerByKey(ctx, partner("x", 9).Key)
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
}

func agreement(id string, version int, partners ...string) *detente.Agreement {
	return &detente.Agreement{ID: id, Version: version, Partners: partners, From: t0, Until: t0.AddDate(1, 0, 0),
		TLPCeiling: detente.TLPAmber, Types: []string{"indicator", "report"}, OnwardSharing: detente.OnwardThirdPartyRule,
		Purpose: "counter-terrorism", State: detente.AgreementActive, Updated: t0}
}

func testAgreements(t *testing.T, s detente.Store) {
	const a1 = "agreement--00000000-0000-4000-8000-00000000000a"
	const a2 = "agreement--00000000-0000-4000-8000-00000000000b"
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(tx.PutAgreement(ctx, agreement(a1, 1, "bravo")), tx.PutAgreement(ctx, agreement(a2, 1, "bravo", "charlie")))
	})
	ctx := context.Background()
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutAgreement(ctx, agreement(a1, 1, "bravo")) }), detente.ECONFLICT)
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutAgreement(ctx, agreement(a1, 3, "bravo")) }), detente.ECONFLICT)
	v2 := agreement(a1, 2, "bravo")
	v2.State, v2.StateReason = detente.AgreementSuspended, "leak under investigation"
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutAgreement(ctx, v2) })
	// A new version may drop a partner.
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return tx.PutAgreement(ctx, agreement(a2, 2, "charlie"))
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		a, err := tx.Agreement(ctx, a1)
		if err != nil || a.Version != 2 || a.State != detente.AgreementSuspended || a.StateReason != "leak under investigation" ||
			a.TLPCeiling != detente.TLPAmber || !a.From.Equal(t0) {
			t.Errorf("Agreement(a1) = %+v, %v", a, err)
		}
		vs, err := tx.AgreementVersions(ctx, a1)
		if err != nil || len(vs) != 2 || vs[0].State != detente.AgreementActive {
			t.Errorf("versions = %v, %v", vs, err)
		}
		for partner, want := range map[string][]string{"bravo": {a1}, "charlie": {a2}, "": {a1, a2}, "zulu": nil} {
			as, err := tx.Agreements(ctx, partner)
			if err != nil {
				return err
			}
			var got []string
			for _, a := range as {
				got = append(got, a.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Agreements(%q) = %v, want %v", partner, got, want)
			}
		}
		_, err = tx.Agreement(ctx, "agreement--00000000-0000-4000-8000-0000000000ff")
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
}

func testConsents(t *testing.T, s detente.Store) {
	priv := ed25519.NewKeyFromSeed(slices.Repeat([]byte{7}, 32))
	c := &detente.Consent{ID: "consent--00000000-0000-4000-8000-000000000001", Originator: detente.PublicKey(priv.Public().(ed25519.PublicKey)),
		Recipient: partner("charlie", 2).Key, Object: ind, Scope: detente.ConsentObject, Issued: t0, Received: t0}
	c.Sign(priv)
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutConsent(ctx, c) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		cs, err := tx.Consents(ctx, ind)
		if err != nil || len(cs) != 1 {
			t.Fatalf("Consents = %v, %v", cs, err)
		}
		if err := cs[0].Verify(); err != nil {
			t.Errorf("stored consent no longer verifies: %v", err)
		}
		if all, err := tx.Consents(ctx, ""); err != nil || len(all) != 1 {
			t.Errorf("Consents(\"\") = %v, %v", all, err)
		}
		if none, err := tx.Consents(ctx, "report--00000000-0000-4000-8000-000000000000"); err != nil || len(none) != 0 {
			t.Errorf("Consents(other) = %v, %v", none, err)
		}
		if cs[0].Revoked || !cs[0].Received.Equal(t0) {
			t.Errorf("consent state = %+v", cs[0])
		}
		return nil
	})
	r := *c
	r.Revoked, r.RevokedReason = true, "originator withdrew"
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutConsent(ctx, &r) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		cs, err := tx.Consents(ctx, ind)
		if err != nil || len(cs) != 1 || !cs[0].Revoked || cs[0].RevokedReason != "originator withdrew" || cs[0].Valid(t0.Add(time.Hour)) {
			t.Errorf("revocation not stored: %+v %v", cs, err)
		}
		if err := cs[0].Verify(); err != nil {
			t.Errorf("revoked consent lost its signature: %v", err)
		}
		return nil
	})
	// Only the revocation changes, and only once: putting the consent
	// again unrevoked, or another document under its id, changes nothing.
	again := *c
	other := *c
	other.Object, other.Revoked = "report--00000000-0000-4000-8000-000000000009", false
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		if err := tx.PutConsent(ctx, &again); err != nil {
			return err
		}
		return tx.PutConsent(ctx, &other)
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.Consent(ctx, c.ID)
		if err != nil || !got.Revoked || got.RevokedReason != "originator withdrew" || got.Object != ind {
			t.Errorf("Consent after re-puts = %+v, %v; want the first document, still revoked", got, err)
		}
		if _, err := tx.Consent(ctx, "consent--00000000-0000-4000-8000-00000000dead"); detente.ErrorCode(err) != detente.ENOTFOUND {
			t.Errorf("Consent of an unknown id: %v", err)
		}
		return nil
	})
}

func testReleases(t *testing.T, s detente.Store) {
	reasons := []detente.Reason{{Code: detente.ReasonAboveCeiling, Object: ind, Detail: "TLP:RED above amber", Deny: true}}
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for i, p := range []string{"bravo", "charlie", "bravo"} {
			r := &detente.Release{Object: ind, Modified: t0, Partner: p, Allowed: i != 1, Reasons: reasons, Time: t0.Add(time.Duration(i) * time.Second)}
			if err := tx.PutRelease(ctx, r); err != nil {
				return err
			}
			if r.ID == 0 {
				t.Errorf("release %d got no ID", i)
			}
		}
		return nil
	})
	var batch []*detente.Release
	for i := range 450 { // more than one statement's worth in the SQLite store
		batch = append(batch, &detente.Release{Object: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), Modified: t0,
			Partner: "delta", Allowed: true, Reasons: reasons[:i%2], Time: t0})
	}
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutReleases(ctx, batch) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.Releases(ctx, detente.ReleaseFilter{Partner: "delta"})
		if err != nil || len(got) != len(batch) {
			t.Fatalf("batch: %d releases, %v", len(got), err)
		}
		for i, r := range got { // newest first
			want := batch[len(batch)-1-i]
			if r.ID != want.ID || r.Object != want.Object || len(r.Reasons) != len(want.Reasons) {
				t.Fatalf("batch release %d = %+v, want %+v", i, r, want)
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		rs, err := tx.Releases(ctx, detente.ReleaseFilter{Partner: "bravo"})
		if err != nil || len(rs) != 2 || rs[0].ID < rs[1].ID {
			t.Fatalf("Releases(bravo) = %v, %v; want 2, newest first", rs, err)
		}
		rs, err = tx.Releases(ctx, detente.ReleaseFilter{Object: ind, Limit: 1})
		if err != nil || len(rs) != 1 || rs[0].Partner != "bravo" || !rs[0].Allowed || !rs[0].Modified.Equal(t0) ||
			len(rs[0].Reasons) != 1 || rs[0].Reasons[0] != reasons[0] {
			t.Errorf("Releases(limit 1) = %+v, %v", rs, err)
		}
		return nil
	})
}

func testTokens(t *testing.T, s detente.Store) {
	tk := &detente.Token{ID: "tok_1", Hash: detente.TokenHash("secret"), Role: detente.RoleAnalyst, Label: "ci", Created: t0}
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutToken(ctx, tk) })
	ctx := context.Background()
	dup := &detente.Token{ID: "tok_2", Hash: detente.TokenHash("secret"), Role: detente.RoleAdmin, Created: t0}
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutToken(ctx, dup) }), detente.ECONFLICT)
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.TokenByHash(ctx, detente.TokenHash("secret"))
		if err != nil || got.ID != "tok_1" || got.Role != detente.RoleAnalyst || got.Revoked || got.Label != "ci" {
			t.Errorf("TokenByHash = %+v, %v", got, err)
		}
		_, err = tx.TokenByHash(ctx, detente.TokenHash("wrong"))
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
	tk.Revoked = true
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutToken(ctx, tk) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		ts, err := tx.Tokens(ctx)
		if err != nil || len(ts) != 1 || !ts[0].Revoked {
			t.Errorf("Tokens after revoke = %+v, %v", ts, err)
		}
		return nil
	})
}

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

func testAlerts(t *testing.T, s detente.Store) {
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for i, k := range []string{detente.AlertQuarantine, detente.AlertSplitView} {
			a := &detente.Alert{Time: t0.Add(time.Duration(i) * time.Second), Kind: k, Partner: "bravo", Message: "m", Evidence: []byte("e")}
			if err := tx.PutAlert(ctx, a); err != nil {
				return err
			}
			if a.ID == 0 {
				t.Error("alert got no ID")
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		as, err := tx.Alerts(ctx, 10)
		if err != nil || len(as) != 2 || as[0].Kind != detente.AlertSplitView || string(as[1].Evidence) != "e" {
			t.Errorf("alerts = %+v, %v", as, err)
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

func testSyncState(t *testing.T, s detente.Store) {
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		st, err := tx.SyncState(ctx, "bravo")
		if err != nil || st.Partner != "bravo" || !st.Cursor.IsZero() || st.Received != 0 {
			t.Errorf("fresh state = %+v, %v", st, err)
		}
		return nil
	})
	want := &detente.SyncState{Partner: "bravo", Cursor: t0.Add(1500 * time.Microsecond), LastAttempt: t0, LastSuccess: t0,
		Received: 10, Quarantined: 2, Rejected: 1, Errors: 3, LastError: "connection refused"}
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutSyncState(ctx, want) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.SyncState(ctx, "bravo")
		if err != nil || !got.Cursor.Equal(want.Cursor) || got.Received != 10 || got.Quarantined != 2 || got.Rejected != 1 ||
			got.Errors != 3 || got.LastError != want.LastError || !got.LastSuccess.Equal(t0) {
			t.Errorf("state = %+v, %v", got, err)
		}
		return nil
	})
}

func testDesignations(t *testing.T, s detente.Store) {
	ds := []*detente.Designation{
		{Authority: "un", EntityID: "QDi.001", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Сергей Лавров", Kind: detente.NameKindOriginalScript, Script: "Cyrl"}}, DatesOfBirth: []string{"1950-03-21"}},
		{Authority: "un", EntityID: "QDe.002", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Black Meridian Front", Kind: detente.NameKindPrimary}}},
		{Authority: "eu", EntityID: "E1", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Meridian Front (armed wing)", Kind: detente.NameKindPrimary}}},
	}
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for _, d := range ds {
			if err := tx.PutDesignation(ctx, d); err != nil {
				return err
			}
		}
		delisted := *ds[1]
		delisted.DelistedOn = "2026-02-01"
		return tx.PutDesignation(ctx, &delisted)
	})
	ctx := context.Background()
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutDesignation(ctx, &detente.Designation{Authority: "un"}) }), detente.EINVALID)
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		un, err := tx.Designations(ctx, "un", false)
		if err != nil || len(un) != 1 || un[0].EntityID != "QDi.001" || un[0].Names[0].Name != "Сергей Лавров" || un[0].DatesOfBirth[0] != "1950-03-21" {
			t.Errorf("active UN designations = %+v, %v", un, err)
		}
		all, err := tx.Designations(ctx, "", true)
		if err != nil || len(all) != 3 || all[0].Authority != "eu" {
			t.Errorf("all designations = %d, %v", len(all), err)
		}
		for _, d := range all {
			if d.EntityID == "QDe.002" && d.DelistedOn != "2026-02-01" {
				t.Errorf("delisting not kept: %+v", d)
			}
		}
		return nil
	})
}

func testDocs(t *testing.T, s detente.Store) {
	ctx := context.Background()
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(
			tx.PutDoc(ctx, "channel", "c/1", []byte(`{"a":1}`), true),
			tx.PutDoc(ctx, "channel", "c/2", []byte(`{"a":2}`), false),
			tx.PutDoc(ctx, "channel", "c%_3", []byte(`{"a":3}`), false),
			tx.PutDoc(ctx, "message", "c/1", []byte(`{"m":1}`), true),
		)
	})
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutDoc(ctx, "channel", "c/1", []byte(`{}`), true) }), detente.EEXISTS)
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return tx.PutDoc(ctx, "channel", "c/2", []byte(`{"a":22}`), false)
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		b, err := tx.Doc(ctx, "channel", "c/1")
		if err != nil || string(b) != `{"a":1}` {
			t.Errorf("Doc = %s, %v (insert-if-absent must not replace)", b, err)
		}
		_, err = tx.Doc(ctx, "channel", "c/9")
		wantCode(t, err, detente.ENOTFOUND)
		ds, err := tx.Docs(ctx, "channel", "c/", 0)
		if err != nil || len(ds) != 2 || ds[0].ID != "c/1" || string(ds[1].Body) != `{"a":22}` {
			t.Errorf("Docs(c/) = %+v, %v", ds, err)
		}
		ds, _ = tx.Docs(ctx, "channel", "c%", 0)
		if len(ds) != 1 || ds[0].ID != "c%_3" {
			t.Errorf("Docs(c%%) = %+v: the prefix must be literal", ds)
		}
		ds, _ = tx.Docs(ctx, "channel", "", 1)
		if len(ds) != 1 {
			t.Errorf("limit not honoured: %d", len(ds))
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(tx.DeleteDoc(ctx, "channel", "c/1"), tx.DeleteDoc(ctx, "channel", "missing"))
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.Doc(ctx, "channel", "c/1")
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
}
