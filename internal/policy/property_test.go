package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// genTypes are the STIX types of generated objects; campaign is never in
// the generated agreements' scope half the time.
var genTypes = []string{"indicator", "malware", "identity", "report", "threat-actor", "campaign", "relationship"}

// genMarkings are the markings generated objects carry, TLP ones weighted.
var genMarkings = []string{
	clearTLP, green, green, green, green, amber, amber, amber, amberStrict, red, red,
	detente.MarkingTLP1Green, detente.MarkingTLP1Red,
	mPurposeCT, mPurposeCT, mPurposeOther, mRelBravo, mRelCharlieK, mTPR, mTPR, mStatement, mStatement,
	mWeird, mOddCaveat, mCustomRed, mUnknown,
}

var genOriginators = []string{
	detente.OriginSelf, detente.OriginSelf, detente.OriginSelf, detente.OriginSelf, detente.OriginSelf,
	"bravo", "bravo", "charlie", "charlie", "delta", "foxtrot", "", "zulu", "key:charlie", "key:rogue",
}

var genPaths = []string{"object_refs", "object_refs", "object_refs", "created_by_ref", "sample_refs", "extensions.x-ext.y_ref"}

var genSelectors = []string{"description", "name", "object_refs", "object_refs.[0]", "object_refs.[1]",
	"object_refs.[2]", "created_by_ref", "extensions", "sample_refs"}

var genPartners = []string{"bravo", "charlie", "delta"}

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// genWorld generates a random world: agreements with random terms, and
// objects with random types, markings, originators, references (cycles
// and dangling ones included), granular markings and consents. It returns
// the objects, quarantined ones (which the graph does not return)
// included.
func genWorld(rng *rand.Rand) (*world, []*detente.ObjectVersion) {
	w := newWorld()
	g := w.g
	for _, a := range g.agreements {
		a.TLPCeiling = detente.TLP(1 + rng.IntN(4))
		if rng.IntN(10) == 0 {
			a.TLPCeiling = detente.TLPRed
		}
		a.OnwardSharing = pick(rng, []string{detente.OnwardNone, detente.OnwardThirdPartyRule, detente.OnwardPermitted})
		a.Types = nil
		for _, t := range genTypes {
			if rng.IntN(5) != 0 {
				a.Types = append(a.Types, t)
			}
		}
		if len(a.Types) == 0 {
			a.Types = []string{"indicator"}
		}
		if rng.IntN(5) == 0 {
			a.Purpose = "trade"
		}
	}
	if rng.IntN(6) == 0 { // a second agreement with one partner
		b := *g.agreements[rng.IntN(3)]
		b.ID += "-second"
		b.TLPCeiling = detente.TLP(1 + rng.IntN(5))
		if rng.IntN(3) == 0 {
			b.State = detente.AgreementEnded
		}
		g.agreements = append(g.agreements, &b)
	}
	for _, id := range []string{mPurposeCT, mStatement, mTPR} {
		if rng.IntN(12) == 0 {
			g.objects[id].Markings = []string{pick(rng, []string{green, amber, red})}
		}
	}

	n := 3 + rng.IntN(12)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s--%08d-0000-4000-8000-%012d", pick(rng, genTypes), i, rng.IntN(1000))
	}
	var all []*detente.ObjectVersion
	for _, id := range ids {
		var opts []opt
		if rng.IntN(4) != 0 {
			opts = append(opts, marks(pick(rng, []string{clearTLP, green, green, amber})))
		}
		for range rng.IntN(3) {
			opts = append(opts, marks(pick(rng, genMarkings)))
		}
		switch orig := pick(rng, genOriginators); {
		case strings.HasPrefix(orig, "key:"):
			opts = append(opts, func(o *detente.ObjectVersion) { o.Originator = pub(orig[4:]).String() })
		default:
			opts = append(opts, from(orig))
		}
		if rng.IntN(15) == 0 {
			opts = append(opts, signer("rogue"))
		}
		for range rng.IntN(5) {
			var target string
			switch k := rng.IntN(10); {
			case k < 7:
				target = pick(rng, ids)
			case k == 7:
				target = fmt.Sprintf("indicator--ghost-%d", rng.IntN(3))
			case k == 8:
				target = pick(rng, []string{mStatement, mRelBravo, mPurposeCT, mTPR})
			default:
				target = pick(rng, []string{red, green})
			}
			opts = append(opts, refs(pick(rng, genPaths), target))
		}
		for range rng.IntN(3) {
			sels := []string{pick(rng, genSelectors)}
			if rng.IntN(3) == 0 {
				sels = append(sels, pick(rng, genSelectors))
			}
			opts = append(opts, gran(pick(rng, genMarkings), sels...))
		}
		if rng.IntN(20) == 0 {
			opts = append(opts, quarantine("generated"))
		}
		if rng.IntN(10) == 0 {
			opts = append(opts, modified(now))
		}
		all = append(all, w.obj(id, opts...))
	}

	for range rng.IntN(5) {
		orig, rcpt := pick(rng, genPartners), pick(rng, genPartners)
		signerName := orig
		if rng.IntN(8) == 0 {
			signerName = "rogue"
		}
		scope := pick(rng, []string{detente.ConsentObject, detente.ConsentReport})
		target := pick(rng, ids)
		c := w.consent(signerName, orig, rcpt, target, scope, func(c *detente.Consent) {
			c.ID = fmt.Sprintf("consent--%d", len(g.consents))
			switch rng.IntN(12) {
			case 0:
				c.Issued = now.Add(time.Hour)
			case 1:
				c.Until = now.Add(-time.Minute)
			}
		})
		c.Revoked = rng.IntN(20) == 0
	}
	return w, all
}

// decidingAgreement returns the agreement an allowed decision names.
func decidingAgreement(t *testing.T, g *memGraph, d detente.Decision) *detente.Agreement {
	t.Helper()
	r, _ := reasonFor(d, allowed, "")
	for _, a := range g.agreements {
		if strings.Contains(r.Detail, "agreement "+a.ID+" version") {
			return a
		}
	}
	t.Fatalf("no agreement named by %q", r.Detail)
	return nil
}

// oracle re-states the per-object rules independently of the
// implementation and returns why o may not be in a closure sent to
// partner p under a, or "".
func oracle(g *memGraph, o *detente.ObjectVersion, root bool, p *detente.Partner, a *detente.Agreement) string {
	if o.Quarantine != "" {
		return "quarantined"
	}
	if m, ok := g.markings[o.ID]; ok && m.Caveat == detente.CaveatReleasableTo {
		return "is a releasable-to definition"
	}
	md := o.Type == markingDefinitionType
	if (root || !md) && !a.InScope(o.Type) {
		return "type out of scope"
	}
	hasTLP, tpr := false, false
	for _, id := range o.Markings {
		t, ok := detente.TLPOfMarking(id)
		if !ok {
			m, held := g.markings[id]
			if !held {
				return "unknown marking " + id
			}
			t = m.TLP
			switch m.Caveat {
			case detente.CaveatReleasableTo:
				if !slices.Contains(m.To, p.Name) && !slices.Contains(m.To, p.Key.String()) {
					return "releasable-to excludes the partner"
				}
			case detente.CaveatPurpose:
				if m.Purpose != a.Purpose {
					return "purpose mismatch"
				}
			case detente.CaveatThirdPartyRule:
				tpr = true
			case "":
				if m.TLP == 0 && !m.Statement {
					return "unsupported marking"
				}
			default:
				return "unsupported caveat"
			}
		}
		if t != 0 {
			hasTLP = true
			if t > a.TLPCeiling {
				return "marking " + id + " above the ceiling"
			}
			if t == detente.TLPRed && a.TLPCeiling != detente.TLPRed {
				return "red"
			}
		}
	}
	if !hasTLP && !md && DefaultTLP > a.TLPCeiling {
		return "no TLP and amber above the ceiling"
	}
	if md && !root {
		return ""
	}
	var x *detente.Partner
	switch orig := o.Originator; {
	case orig == detente.OriginSelf || orig == pub("home").String():
		return ""
	case strings.HasPrefix(orig, detente.NodeKeyPrefix):
		k, err := detente.ParsePublicKey(orig)
		if err != nil {
			return "originator unknown"
		}
		x, _ = g.PartnerByKey(context.Background(), k)
	default:
		x = g.partners[orig]
	}
	if x == nil {
		return "originator unknown"
	}
	if x.Name == p.Name {
		return ""
	}
	if len(o.Signer) > 0 && !o.Signer.Equal(x.Key) {
		return "signed by another key than the originator's"
	}
	// The strictest of our agreements with x decides; none at all means
	// consent is needed.
	permitted, any := true, false
	for _, b := range g.agreements {
		if !b.Covers(x.Name) {
			continue
		}
		any = true
		if b.OnwardSharing == detente.OnwardNone {
			return "onward sharing forbidden"
		}
		permitted = permitted && b.OnwardSharing == detente.OnwardPermitted
	}
	if any && permitted && !tpr {
		return ""
	}
	for _, c := range g.consents {
		if c.Verify() != nil || !c.Valid(now) || !c.Originator.Equal(x.Key) || !c.Recipient.Equal(p.Key) {
			continue
		}
		if c.Object == o.ID {
			return ""
		}
		if rep, ok := g.objects[c.Object]; ok && c.Scope == detente.ConsentReport && !rep.Modified.After(c.Issued) &&
			slices.Contains(rep.Refs, detente.Ref{Path: "object_refs", ID: o.ID}) {
			return ""
		}
	}
	return "third party without consent"
}

// TestEgressProperties checks, over thousands of random graphs, that
// every object an allowed decision would send is itself releasable and
// breaks no rule, and that denying is monotone: marking any member of an
// allowed closure TLP:RED denies the root.
func TestEgressProperties(t *testing.T) {
	worlds := 3000
	if testing.Short() {
		worlds = 300
	}
	rng := rand.New(rand.NewPCG(20260301, 1))
	var decisions, allowedN, bigClosures, redactions, monotone int
	for i := range worlds {
		w, objs := genWorld(rng)
		g := w.g
		for _, root := range objs {
			for _, partner := range genPartners {
				req := Request{Self: pub("home"), Partner: partner, Now: now, Object: root}
				d := Egress(context.Background(), g, req)
				decisions++
				checkConsistent(t, d)
				if again := Egress(context.Background(), g, req); !reflect.DeepEqual(d, again) {
					t.Fatalf("world %d: Egress is not deterministic:\n%+v\n%+v", i, d, again)
				}
				if !d.Allowed {
					continue
				}
				allowedN++
				if len(d.Closure) >= 3 {
					bigClosures++
				}
				if len(d.Redacted) > 0 {
					redactions++
				}
				p := g.partners[partner]
				a := decidingAgreement(t, g, d)
				if len(slices.Compact(slices.Clone(d.Closure))) != len(d.Closure) {
					t.Errorf("world %d: closure %v has duplicates", i, d.Closure)
				}
				for _, id := range d.Closure {
					if _, ok := detente.TLPOfMarking(id); ok {
						t.Errorf("world %d: closure of %s carries the TLP definition %s", i, root.ID, id)
					}
					o, held := g.Object(context.Background(), id)
					if !held {
						if _, ok := g.Marking(context.Background(), id); !ok {
							t.Errorf("world %d: closure of %s carries %s, which is not held", i, root.ID, id)
						}
						continue
					}
					if why := oracle(g, o, id == root.ID, p, a); why != "" {
						t.Errorf("world %d: %s to %s: closure member %s: %s; object %+v; decision %+v", i, root.ID, partner, id, why, o, d)
					}
					if o.Type == markingDefinitionType && id != root.ID {
						continue // travels with what it marks; as a root it would face type scope
					}
					if di := Egress(context.Background(), g, Request{Self: pub("home"), Partner: partner, Now: now, Object: o}); !di.Allowed {
						t.Errorf("world %d: %s to %s allowed with %s in its closure, which alone is denied: %+v",
							i, root.ID, partner, id, di.Reasons)
					}
				}
				// Monotonicity, where one agreement alone decides.
				in, _ := agreementsInForce(context.Background(), g, partner, now)
				if len(in) != 1 || in[0].TLPCeiling == detente.TLPRed {
					continue
				}
				for _, id := range d.Closure {
					o, held := g.Object(context.Background(), id)
					if !held {
						continue
					}
					monotone++
					g2 := g.clone()
					o2 := *o
					o2.Markings = append(slices.Clone(o.Markings), red)
					g2.objects[id] = &o2
					r2 := root
					if id == root.ID {
						r2 = &o2
					}
					d2 := Egress(context.Background(), g2, Request{Self: pub("home"), Partner: partner, Now: now, Object: r2})
					if d2.Allowed {
						t.Errorf("world %d: %s to %s still allowed after marking member %s red", i, root.ID, partner, id)
						continue
					}
					code := closureR
					if id == root.ID {
						code = ceilingR
					}
					if r, ok := reasonFor(d2, code, id); !ok || !r.Deny {
						t.Errorf("world %d: marking %s red: no denying %s reason naming it: %+v", i, id, code, d2.Reasons)
					}
				}
			}
		}
		if t.Failed() {
			t.Fatalf("stopping at world %d", i)
		}
	}
	t.Logf("%d decisions, %d allowed, %d closures of 3 or more, %d with redactions, %d monotonicity checks",
		decisions, allowedN, bigClosures, redactions, monotone)
	// The generator must exercise what is checked, or the test proves nothing.
	if allowedN < decisions/20 || bigClosures < worlds/20 || redactions < worlds/50 || monotone < worlds/5 {
		t.Errorf("generator too weak: %d decisions, %d allowed, %d closures of 3+, %d redactions, %d monotone checks",
			decisions, allowedN, bigClosures, redactions, monotone)
	}
}
