package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"detente"
)

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
		got, err := tx.Consent(ctx, c.ID, c.Originator)
		if err != nil || !got.Revoked || got.RevokedReason != "originator withdrew" || got.Object != ind {
			t.Errorf("Consent after re-puts = %+v, %v; want the first document, still revoked", got, err)
		}
		if _, err := tx.Consent(ctx, "consent--00000000-0000-4000-8000-00000000dead", c.Originator); detente.ErrorCode(err) != detente.ENOTFOUND {
			t.Errorf("Consent of an unknown id: %v", err)
		}
		return nil
	})
	// Another originator's consent under the same id is another consent:
	// it occupies nothing of the first one's.
	squat := *c
	squat.Originator, squat.Object, squat.Revoked, squat.RevokedReason = detente.PublicKey(bytes.Repeat([]byte{7}, 32)), "indicator--00000000-0000-4000-8000-0000000000c9", false, ""
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutConsent(ctx, &squat) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		first, err := tx.Consent(ctx, c.ID, c.Originator)
		if err != nil || !first.Revoked || first.Object != ind {
			t.Errorf("first originator's consent after another's under its id = %+v, %v", first, err)
		}
		other, err := tx.Consent(ctx, c.ID, squat.Originator)
		if err != nil || other.Revoked || other.Object != squat.Object {
			t.Errorf("second originator's consent = %+v, %v", other, err)
		}
		all, err := tx.Consents(ctx, "")
		if err != nil || len(all) != 2 {
			t.Errorf("Consents = %d, %v; want both", len(all), err)
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
