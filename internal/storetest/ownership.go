package storetest

import (
	"context"
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
				res := p.put(t, s, mine, later, same)
				if !res[0].Added || !res[1].Added || res[2].Err == nil {
					t.Fatalf("results %+v", res)
				}
				wantCode(t, res[2].Err, detente.ECONFLICT)
				if mine.Quarantine != "" || !strings.HasPrefix(later.Quarantine, detente.QuarantineForeign+": ") {
					t.Errorf("quarantine: owner's %q, foreign %q", mine.Quarantine, later.Quarantine)
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
					return nil
				})
				// The owner's own later version is current.
				next := signed(ind, t0.Add(2*time.Hour), "alpha's second", a, nil)
				p.put(t, s, next)
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
