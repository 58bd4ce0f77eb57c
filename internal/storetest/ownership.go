package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"detente"
)

// key returns a fake node key filled with b.
func key(b byte) detente.PublicKey {
	k := make(detente.PublicKey, 32)
	for i := range k {
		k[i] = b
	}
	return k
}

// signed returns obj signed by signer, originated by origin (nil: the
// signer).
func signed(id string, modified time.Time, body string, signer, origin detente.PublicKey) *detente.ObjectVersion {
	o := obj(id, modified, body)
	o.Signer, o.Origin = signer, origin
	return o
}

// putter stores versions one at a time or in one batch, so every rule is
// checked on both paths.
type putter struct {
	name  string
	batch bool
}

func (p putter) put(t *testing.T, s detente.Store, vs ...*detente.ObjectVersion) []detente.PutResult {
	t.Helper()
	var res []detente.PutResult
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		if p.batch {
			var err error
			res, err = tx.PutObjects(ctx, vs)
			return err
		}
		res = make([]detente.PutResult, len(vs))
		for i, v := range vs {
			added, err := tx.PutObject(ctx, v)
			if detente.ErrorCode(err) == detente.ECONFLICT {
				res[i].Err = err
				continue
			}
			if err != nil {
				return err
			}
			res[i].Added = added
		}
		return nil
	})
	return res
}

var putters = []putter{{"PutObject", false}, {"PutObjects", true}}

// testOwnership checks id ownership (detente.Tx.PutObject): the origin of
// an id's first version owns it; versions from anyone else, second
// versions of marking-definitions and relayed copies of what the owner
// signed are stored quarantined; ids are one id whatever their case.
func testOwnership(t *testing.T, open func(t *testing.T) detente.Store) {
	a, b, x := key(1), key(2), key(3)
	for _, p := range putters {
		t.Run(p.name, func(t *testing.T) {
			t.Run("Foreign", func(t *testing.T) {
				s := open(t)
				mine := signed(ind, t0, "alpha's", a, nil)
				later := signed(ind, t0.Add(time.Hour), "charlie's takeover", b, nil)
				same := signed(ind, t0, "charlie's, same version key", b, nil)
				equivocation := signed(ind, t0, "alpha's, other content", a, nil)
				res := p.put(t, s, mine, later, same, equivocation)
				if !res[0].Added || !res[1].Added || !res[2].Added || res[3].Err == nil {
					t.Fatalf("results %+v", res)
				}
				// A version is (id, modified, signer): only the same signer's
				// other content for one version conflicts.
				wantCode(t, res[3].Err, detente.ECONFLICT)
				if mine.Quarantine != "" || !strings.HasPrefix(later.Quarantine, detente.QuarantineForeign+": ") ||
					!strings.HasPrefix(same.Quarantine, detente.QuarantineForeign+": ") {
					t.Errorf("quarantine: owner's %q, foreign %q and %q", mine.Quarantine, later.Quarantine, same.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, ind)
					if err != nil || !o.Signer.Equal(a) {
						t.Errorf("current version after a foreign one: %v, %v", o, err)
					}
					owner, err := tx.Owner(ctx, strings.ToUpper(ind))
					if err != nil || !owner.Equal(a) {
						t.Errorf("Owner = %v, %v; want the first signer", owner, err)
					}
					if _, err := tx.Owner(ctx, "indicator--99999999-9999-4999-8999-999999999999"); detente.ErrorCode(err) != detente.ENOTFOUND {
						t.Errorf("Owner of an unknown id: %v", err)
					}
					v, err := tx.ObjectVersion(ctx, ind, later.Modified)
					if err != nil || v.Quarantine != later.Quarantine {
						t.Errorf("foreign version not kept as quarantined: %v, %v", v, err)
					}
					v, err = tx.ObjectVersion(ctx, ind, t0)
					if err != nil || string(v.Raw) != string(mine.Raw) {
						t.Errorf("ObjectVersion with two signers' versions: %v, %v; want the owner's", v, err)
					}
					return nil
				})
				// The owner's own later version is current, though another
				// node's version squats its key: a squatter never blocks the
				// owner (a revocation, say).
				squat := signed(ind, t0.Add(2*time.Hour), "charlie's, first on alpha's next key", b, nil)
				p.put(t, s, squat)
				next := signed(ind, t0.Add(2*time.Hour), "alpha's second", a, nil)
				if res := p.put(t, s, next); !res[0].Added || next.Quarantine != "" {
					t.Fatalf("the owner's version behind a squatter: %+v, %q", res, next.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, ind)
					if err != nil || string(o.Raw) != string(next.Raw) {
						t.Errorf("owner's later version not current: %v, %v", o, err)
					}
					return nil
				})
			})
			t.Run("LetterCase", func(t *testing.T) {
				s := open(t)
				// Type names are lower case: the UUID is what varies.
				spelt := "indicator--" + strings.ToUpper(ind[len("indicator--"):])
				first := signed(ind, t0, "lower", a, nil)
				again := signed(spelt, t0.Add(time.Hour), "upper", b, nil)
				again.Refs = []detente.Ref{{Path: "created_by_ref", ID: "IDENTITY--00000000-0000-4000-8000-00000000000A"}}
				again.Markings = []string{"MARKING-DEFINITION--34098FCE-860F-48AE-8E50-EBD3CC5E41DA"}
				p.put(t, s, first, again)
				if again.ID != ind || !strings.HasPrefix(again.Quarantine, detente.QuarantineForeign) {
					t.Errorf("upper-case spelling stored as %s, quarantine %q", again.ID, again.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					vs, err := tx.ObjectVersions(ctx, spelt)
					if err != nil || len(vs) != 2 {
						t.Fatalf("versions under either spelling: %d, %v", len(vs), err)
					}
					if vs[1].Refs[0].ID != "identity--00000000-0000-4000-8000-00000000000a" || vs[1].Markings[0] != detente.MarkingTLP1Green {
						t.Errorf("references not normalised: %+v %v", vs[1].Refs, vs[1].Markings)
					}
					if string(vs[1].Raw) != string(again.Raw) {
						t.Errorf("raw bytes changed")
					}
					got, err := tx.Objects(ctx, detente.ObjectFilter{IDs: []string{spelt}, WithQuarantined: true})
					if err != nil || len(got) != 2 {
						t.Errorf("Objects by an upper-case id: %d, %v", len(got), err)
					}
					return nil
				})
			})
			t.Run("ImmutableMarking", func(t *testing.T) {
				s := open(t)
				id := "marking-definition--44444444-4444-4444-8444-444444444444"
				first := signed(id, t0, "releasable to bravo", a, nil)
				second := signed(id, t0.Add(time.Hour), "releasable to bravo and charlie", a, nil)
				p.put(t, s, first, second)
				if first.Quarantine != "" || !strings.HasPrefix(second.Quarantine, detente.QuarantineImmutable+": ") {
					t.Errorf("quarantine: first %q, second %q", first.Quarantine, second.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, id)
					if err != nil || string(o.Raw) != string(first.Raw) {
						t.Errorf("current marking-definition: %v, %v", o, err)
					}
					return nil
				})
			})
			t.Run("Relayed", func(t *testing.T) {
				s := open(t)
				// x relays a projection of a's object: a owns the id.
				relay := signed(ind, t0, "redacted by x", x, a)
				res := p.put(t, s, relay)
				if !res[0].Added || relay.Quarantine != "" {
					t.Fatalf("relayed copy of a new id: %+v %q", res, relay.Quarantine)
				}
				forged := signed(ind, t0.Add(time.Hour), "x's words in a's name", x, a)
				own := signed(ind, t0.Add(30*time.Minute), "a's own", a, nil)
				after := signed(ind, t0.Add(2*time.Hour), "relayed after a's own", x, a)
				p.put(t, s, forged, own, after)
				if own.Quarantine != "" || !strings.HasPrefix(after.Quarantine, detente.QuarantineSuperseded+": ") {
					t.Errorf("quarantine: own %q, relayed after %q", own.Quarantine, after.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					owner, err := tx.Owner(ctx, ind)
					if err != nil || !owner.Equal(a) {
						t.Errorf("owner of a relayed id = %v, %v; want its origin", owner, err)
					}
					o, err := tx.Object(ctx, ind)
					if err != nil || string(o.Raw) != string(own.Raw) {
						t.Errorf("current version = %v, %v; want the owner's own", o, err)
					}
					for _, v := range []*detente.ObjectVersion{relay, forged} {
						got, err := tx.ObjectVersion(ctx, ind, v.Modified)
						if err != nil || !strings.HasPrefix(got.Quarantine, detente.QuarantineSuperseded+": ") {
							t.Errorf("relayed copy %s not superseded: %v, %v", v.Key(), got, err)
						}
						if !got.Origin.Equal(a) || !got.Signer.Equal(x) || !got.Relayed() {
							t.Errorf("relayed copy %s lost its origin: signer %v origin %v", v.Key(), got.Signer, got.Origin)
						}
					}
					return nil
				})
				// A relay naming another origin than the owner is foreign.
				other := signed(ind, t0.Add(3*time.Hour), "relay naming b", x, b)
				p.put(t, s, other)
				if !strings.HasPrefix(other.Quarantine, detente.QuarantineForeign+": ") {
					t.Errorf("relay naming another origin: %q", other.Quarantine)
				}
			})
			t.Run("Observable", func(t *testing.T) {
				s := open(t)
				// An SCO has no created time; its id derives from its value.
				ip := "ipv4-addr--00000000-0000-5000-8000-000000000001"
				obs := func(body string, signer detente.PublicKey) *detente.ObjectVersion {
					o := signed(ip, time.Time{}, body, signer, nil)
					o.Type, o.Created = "ipv4-addr", time.Time{}
					return o
				}
				theirs, mine := obs("charlie's, GREEN", b), obs("alpha's, RED", a)
				res := p.put(t, s, theirs, mine)
				if !res[0].Added || !res[1].Added || theirs.Quarantine != "" || mine.Quarantine != "" {
					t.Fatalf("two originators' observations of one value: %+v, %q, %q", res, theirs.Quarantine, mine.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, ip)
					if err != nil || !o.Signer.Equal(b) {
						t.Errorf("Object of an observable = %v, %v; want the owner's (the first)", o, err)
					}
					for _, k := range []detente.PublicKey{a, b} {
						o, err := tx.ObjectFrom(ctx, ip, k)
						if err != nil || !o.Signer.Equal(k) {
							t.Errorf("ObjectFrom(%v) = %v, %v", k, o, err)
						}
					}
					if _, err := tx.ObjectFrom(ctx, ip, x); detente.ErrorCode(err) != detente.ENOTFOUND {
						t.Errorf("ObjectFrom a node that holds none: %v", err)
					}
					return nil
				})
			})
			t.Run("ForeignClaimsNothing", func(t *testing.T) {
				s := open(t)
				// A first version that arrives quarantined as foreign (a
				// retired key's) is stored, but its origin does not own
				// the id: the next version's does.
				thief := signed(ind, t0, "signed with a retired key", x, nil)
				thief.AddQuarantine(detente.QuarantineForeign, "signed with b's retired key")
				p.put(t, s, thief)
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					if owner, err := tx.Owner(ctx, ind); detente.ErrorCode(err) != detente.ENOTFOUND {
						t.Errorf("owner after a foreign first version: %v, %v", owner, err)
					}
					return nil
				})
				genuine := signed(ind, t0.Add(time.Hour), "b's, under its new key", b, nil)
				p.put(t, s, genuine)
				if genuine.Quarantine != "" {
					t.Errorf("the genuine version: %q", genuine.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					if owner, err := tx.Owner(ctx, ind); err != nil || !owner.Equal(b) {
						t.Errorf("owner = %v, %v; want the genuine version's", owner, err)
					}
					return nil
				})
				// In one batch too.
				s2 := open(t)
				thief2 := signed(ind, t0, "signed with a retired key", x, nil)
				thief2.AddQuarantine(detente.QuarantineForeign, "signed with b's retired key")
				genuine2 := signed(ind, t0.Add(time.Hour), "b's, under its new key", b, nil)
				p.put(t, s2, thief2, genuine2)
				if genuine2.Quarantine != "" {
					t.Errorf("the genuine version, batched: %q", genuine2.Quarantine)
				}
			})
			t.Run("UndatedForeign", func(t *testing.T) {
				s := open(t)
				// A custom object the owner dated (it has a created time)
				// is the owner's object: another's version without a
				// created time, which a custom type's bytes make an
				// "observable", is foreign all the same, in one batch or
				// after it.
				xid := "x-target--11111111-2222-4333-8444-555555555555"
				undated := func(body string, signer detente.PublicKey) *detente.ObjectVersion {
					o := signed(xid, time.Time{}, body, signer, nil)
					o.Created = time.Time{}
					return o
				}
				own, early := signed(xid, t0, "a's, RED", a, nil), undated("b's, in the same batch", b)
				p.put(t, s, own, early)
				late := undated("b's, later", key(9))
				p.put(t, s, late)
				for _, v := range []*detente.ObjectVersion{early, late} {
					if !strings.HasPrefix(v.Quarantine, detente.QuarantineForeign+": ") {
						t.Errorf("an undated version of a dated object: %q, want %s", v.Quarantine, detente.QuarantineForeign)
					}
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, xid)
					if err != nil || string(o.Raw) != string(own.Raw) {
						t.Errorf("current version = %v, %v; want the owner's", o, err)
					}
					return nil
				})
			})
			t.Run("Reassign", func(t *testing.T) {
				s := open(t)
				// a's key changed to x: a's ids are x's, and what a's old
				// key signs later is foreign.
				p.put(t, s, signed(ind, t0, "a's", a, nil))
				var moved int64
				update(t, s, func(ctx context.Context, tx detente.Tx) (err error) { moved, err = tx.ReassignOwner(ctx, a, x); return })
				if moved != 1 {
					t.Errorf("ReassignOwner moved %d ids, want 1", moved)
				}
				old := signed(ind, t0.Add(time.Hour), "signed with the retired key", a, nil)
				renewed := signed(ind, t0.Add(2*time.Hour), "signed with the new key", x, nil)
				p.put(t, s, old, renewed)
				if !strings.HasPrefix(old.Quarantine, detente.QuarantineForeign) || renewed.Quarantine != "" {
					t.Errorf("after the key changed: old key %q, new key %q", old.Quarantine, renewed.Quarantine)
				}
			})
			t.Run("UnsignedOrigin", func(t *testing.T) {
				// A feed's version: unsigned (no signer), owned by the feed's
				// origin key. It reads back unsigned, the same version
				// stored again is unchanged, and nobody else's takes the id.
				s := open(t)
				feed := signed(ind, t0, "from a feed", nil, x)
				if res := p.put(t, s, feed); !res[0].Added || feed.Quarantine != "" {
					t.Fatalf("unsigned version: %+v, %q", res, feed.Quarantine)
				}
				again := signed(ind, t0, "from a feed", nil, x)
				if res := p.put(t, s, again); res[0].Added || res[0].Err != nil || again.Seq != feed.Seq {
					t.Errorf("the unsigned version again: %+v, seq %d (stored %d)", res[0], again.Seq, feed.Seq)
				}
				other := signed(ind, t0, "from a feed, changed", nil, x)
				if res := p.put(t, s, other); res[0].Err == nil {
					t.Errorf("other content for the unsigned version: %+v", res[0])
				}
				partner := signed(ind, t0.Add(time.Hour), "a partner's", a, nil)
				if p.put(t, s, partner); !strings.HasPrefix(partner.Quarantine, detente.QuarantineForeign) {
					t.Errorf("a signed version of the feed's id: quarantine %q", partner.Quarantine)
				}
				view(t, s, func(ctx context.Context, tx detente.Tx) error {
					o, err := tx.Object(ctx, ind)
					if err != nil || o.Signer != nil || !o.OriginKey().Equal(x) || string(o.Raw) != string(feed.Raw) {
						t.Errorf("unsigned version read back: %+v, %v", o, err)
						return nil
					}
					if vs, err := tx.ObjectVersions(ctx, ind); err != nil || len(vs) != 2 || vs[0].Signer != nil {
						t.Errorf("versions: %v, %v", vs, err)
					}
					if owner, err := tx.Owner(ctx, ind); err != nil || !owner.Equal(x) {
						t.Errorf("owner %v, %v; want the feed's origin", owner, err)
					}
					return nil
				})
			})
			t.Run("Unchanged", func(t *testing.T) {
				s := open(t)
				mine := signed(ind, t0, "mine", a, nil)
				foreign := signed(ind, t0.Add(time.Hour), "foreign", b, nil)
				p.put(t, s, mine, foreign)
				again := signed(ind, t0.Add(time.Hour), "foreign", b, nil)
				res := p.put(t, s, again)
				if res[0].Added || res[0].Err != nil || again.Quarantine != foreign.Quarantine || again.Seq != foreign.Seq {
					t.Errorf("a foreign version sent again: %+v, quarantine %q, seq %d (stored %d)", res[0], again.Quarantine, again.Seq, foreign.Seq)
				}
			})
		})
	}
}

// LegacyObject is an object row as a store before id ownership held it:
// ids in any case, no owner, no origin. Drivers insert LegacyObjects (and
// LegacyConsent, LegacyRelease) into a database at the schema version
// before ownership, open it, and call CheckOwnershipMigration.
type LegacyObject struct {
	Seq                      int64
	ID, Type                 string
	Modified                 time.Time
	Signer                   []byte
	Markings, Granular, Refs string // JSON, as the old store wrote them
	Raw                      []byte
	Added                    int64 // Unix ns
}

// The ids of the legacy rows.
const (
	legacyX       = "indicator--00000000-0000-4000-8000-00000000000a"
	legacyY       = "indicator--00000000-0000-4000-8000-00000000000b"
	legacyYUpper  = "indicator--00000000-0000-4000-8000-00000000000B"
	legacyMarking = "marking-definition--00000000-0000-4000-8000-00000000000c"
	// LegacyConsentObject and LegacyReleaseObject are the object columns
	// of the legacy consent and release rows: an upper-case spelling.
	LegacyConsentObject = legacyYUpper
	LegacyReleaseObject = legacyYUpper
)

// LegacyObjects returns the rows: X by signer 1 then a later version by
// signer 2 (another node's takeover); Y under an upper-case spelling with
// upper-case references and a granular selector whose dictionary key keeps
// its case; a marking-definition with two versions.
func LegacyObjects() []LegacyObject {
	a, b := []byte(key(1)), []byte(key(2))
	added := t0.UnixNano()
	row := func(seq int64, id, typ string, mod time.Time, signer []byte, markings, granular, refs string) LegacyObject {
		return LegacyObject{Seq: seq, ID: id, Type: typ, Modified: mod, Signer: signer, Markings: markings, Granular: granular,
			Refs: refs, Raw: []byte(fmt.Sprintf(`{"id":%q,"seq":%d}`, id, seq)), Added: added + seq*1000}
	}
	return []LegacyObject{
		row(1, legacyX, "indicator", t0, a, `["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`, `[]`, `[]`),
		row(2, legacyX, "indicator", t0.Add(time.Hour), b, `["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`, `[]`, `[]`),
		row(3, legacyYUpper, "indicator", t0, a, `["MARKING-DEFINITION--BAB4A63C-AED9-4CF5-A766-DFCA5ABAC2BB"]`,
			`[{"marking_ref":"MARKING-DEFINITION--E828B379-4E03-4974-9AC4-E53A884C97C1","selectors":["hashes.SHA-256"]}]`,
			`[{"path":"created_by_ref","id":"IDENTITY--00000000-0000-4000-8000-00000000000D"}]`),
		row(4, legacyMarking, "marking-definition", t0, a, `[]`, `[]`, `[]`),
		row(5, legacyMarking, "marking-definition", t0.Add(time.Hour), a, `[]`, `[]`, `[]`),
	}
}

// LegacyConsent returns the legacy consent row's document.
func LegacyConsent() *detente.Consent {
	return &detente.Consent{ID: "consent--00000000-0000-4000-8000-00000000000e", Originator: key(1), Recipient: key(2),
		Object: LegacyConsentObject, Scope: detente.ConsentObject, Issued: t0}
}

// CheckOwnershipMigration checks a store opened over the legacy rows: ids
// in lower case (references too, selectors untouched), owners recorded,
// the takeover and the second marking-definition version quarantined,
// consents and releases found under the lower-case id.
func CheckOwnershipMigration(t *testing.T, s detente.Store) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		if owner, err := tx.Owner(ctx, legacyX); err != nil || !owner.Equal(key(1)) {
			t.Errorf("owner of X = %v, %v; want the first signer", owner, err)
		}
		o, err := tx.Object(ctx, legacyX)
		if err != nil || o.Seq != 1 {
			t.Errorf("current X = %+v, %v; want the owner's version", o, err)
		}
		v, err := tx.ObjectVersion(ctx, legacyX, t0.Add(time.Hour))
		if err != nil || !strings.HasPrefix(v.Quarantine, detente.QuarantineForeign+": ") {
			t.Errorf("the takeover version: %+v, %v", v, err)
		}
		y, err := tx.Object(ctx, legacyY)
		if err != nil {
			t.Fatalf("Y under its lower-case id: %v", err)
		}
		if y.Refs[0].ID != "identity--00000000-0000-4000-8000-00000000000d" || y.Markings[0] != detente.MarkingGreen ||
			y.Granular[0].Marking != detente.MarkingRed || y.Granular[0].Selectors[0] != "hashes.SHA-256" {
			t.Errorf("Y's references after migration: %+v %v %+v", y.Refs, y.Markings, y.Granular)
		}
		// References stored before the referrers were indexed are found.
		if ids, err := tx.Referrers(ctx, y.Refs[0].ID, 0); err != nil || len(ids) != 1 || ids[0] != legacyY {
			t.Errorf("referrers of %s after migration: %q, %v; want %s", y.Refs[0].ID, ids, err, legacyY)
		}
		if string(y.Raw) != fmt.Sprintf(`{"id":%q,"seq":%d}`, legacyYUpper, 3) {
			t.Errorf("Y's bytes changed: %s", y.Raw)
		}
		m, err := tx.ObjectVersion(ctx, legacyMarking, t0.Add(time.Hour))
		if err != nil || !strings.HasPrefix(m.Quarantine, detente.QuarantineImmutable+": ") {
			t.Errorf("second marking-definition version: %+v, %v", m, err)
		}
		cs, err := tx.Consents(ctx, legacyY)
		if err != nil || len(cs) != 1 {
			t.Errorf("consent under the lower-case id: %d, %v", len(cs), err)
		}
		rs, err := tx.Releases(ctx, detente.ReleaseFilter{Object: legacyY})
		if err != nil || len(rs) != 1 {
			t.Errorf("release under the lower-case id: %d, %v", len(rs), err)
		}
		return nil
	})
	// New versions follow the rules.
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		later := signed(legacyY, t0.Add(2*time.Hour), "another's", key(2), nil)
		if _, err := tx.PutObject(ctx, later); err != nil {
			return err
		}
		if !strings.HasPrefix(later.Quarantine, detente.QuarantineForeign) {
			t.Errorf("a foreign version after migration: %q", later.Quarantine)
		}
		return nil
	})
}
