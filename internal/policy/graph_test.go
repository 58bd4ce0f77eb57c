package policy

import (
	"context"
	"crypto/ed25519"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// memGraph is a Graph over maps, as a store transaction would answer it.
type memGraph struct {
	objects    map[string]*detente.ObjectVersion // newest non-quarantined versions
	versions   []*detente.ObjectVersion          // older versions, for Version
	markings   map[string]*detente.Marking
	partners   map[string]*detente.Partner
	agreements []*detente.Agreement
	consents   []*detente.Consent
	// allConsents makes Consents return every consent, as a sloppy caller
	// might; otherwise it returns those naming the object or a report
	// listing it.
	allConsents bool
}

var _ Graph = (*memGraph)(nil)

func newMemGraph() *memGraph {
	return &memGraph{
		objects:  map[string]*detente.ObjectVersion{},
		markings: map[string]*detente.Marking{},
		partners: map[string]*detente.Partner{},
	}
}

func (g *memGraph) Object(_ context.Context, id string) (*detente.ObjectVersion, bool) {
	o, ok := g.objects[id]
	return o, ok
}

func (g *memGraph) Member(ctx context.Context, id string, from *detente.ObjectVersion) (*detente.ObjectVersion, bool) {
	return g.Object(ctx, id)
}

func (g *memGraph) Version(_ context.Context, id string, modified time.Time) (*detente.ObjectVersion, bool) {
	if o, ok := g.objects[id]; ok && o.Modified.Equal(modified) {
		return o, true
	}
	for _, o := range g.versions {
		if o.ID == id && o.Modified.Equal(modified) {
			return o, true
		}
	}
	return nil, false
}

func (g *memGraph) Marking(_ context.Context, id string) (*detente.Marking, bool) {
	m, ok := g.markings[id]
	return m, ok
}

func (g *memGraph) Partner(_ context.Context, name string) (*detente.Partner, bool) {
	p, ok := g.partners[name]
	return p, ok
}

func (g *memGraph) PartnerByKey(_ context.Context, k detente.PublicKey) (*detente.Partner, bool) {
	for _, p := range g.partners {
		if p.Key.Equal(k) {
			return p, true
		}
	}
	return nil, false
}

func (g *memGraph) Agreements(_ context.Context, partner string) []*detente.Agreement {
	var out []*detente.Agreement
	for _, a := range g.agreements {
		if a.Covers(partner) {
			out = append(out, a)
		}
	}
	return out
}

func (g *memGraph) Consents(_ context.Context, object string) []*detente.Consent {
	if g.allConsents {
		return g.consents
	}
	var out []*detente.Consent
	for _, c := range g.consents {
		if c.Object == object {
			out = append(out, c)
			continue
		}
		if rep, ok := g.objects[c.Object]; ok && c.Scope == detente.ConsentReport {
			for _, r := range rep.Refs {
				if r.ID == object {
					out = append(out, c)
					break
				}
			}
		}
	}
	return out
}

// clone returns a copy of g whose object map may be changed independently.
func (g *memGraph) clone() *memGraph {
	c := *g
	c.objects = maps.Clone(g.objects)
	return &c
}

// Test keys, derived from fixed seeds so that runs are reproducible.
var keys = map[string]ed25519.PrivateKey{}

func init() {
	for i, name := range []string{"home", "bravo", "charlie", "delta", "echo", "foxtrot", "rogue"} {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(i + 1)
		}
		keys[name] = ed25519.NewKeyFromSeed(seed)
	}
}

// pub returns the public key of a test key name.
func pub(name string) detente.PublicKey {
	return detente.PublicKey(keys[name].Public().(ed25519.PublicKey))
}

// Test markings held by every world.
const (
	mPurposeCT    = "marking-definition--00000000-0000-4000-8000-000000000001"
	mPurposeOther = "marking-definition--00000000-0000-4000-8000-000000000002"
	mRelBravo     = "marking-definition--00000000-0000-4000-8000-000000000003"
	mRelCharlieK  = "marking-definition--00000000-0000-4000-8000-000000000004"
	mTPR          = "marking-definition--00000000-0000-4000-8000-000000000005"
	mStatement    = "marking-definition--00000000-0000-4000-8000-000000000006"
	mWeird        = "marking-definition--00000000-0000-4000-8000-000000000007"
	mOddCaveat    = "marking-definition--00000000-0000-4000-8000-000000000008"
	mCustomRed    = "marking-definition--00000000-0000-4000-8000-000000000009"
	mUnknown      = "marking-definition--00000000-0000-4000-8000-0000000000ff"
	mRelHome      = "marking-definition--00000000-0000-4000-8000-00000000000a"
)

var (
	red         = detente.MarkingRed
	amber       = detente.MarkingAmber
	amberStrict = detente.MarkingAmberStrict
	green       = detente.MarkingGreen
	clearTLP    = detente.MarkingClear
)

// Times of the test worlds.
var (
	now      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	yearFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	yearTo   = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// scopeTypes is the type scope of the test agreements.
var scopeTypes = []string{"indicator", "report", "identity", "malware", "relationship", "threat-actor"}

// world is a test graph with partners, agreements and markings:
//   - bravo: ceiling amber, onward third-party-rule, purpose "ct";
//   - charlie: ceiling green, onward permitted;
//   - delta: ceiling amber, onward none;
//   - echo: suspended partner, with an agreement;
//   - foxtrot: active partner with no agreement.
type world struct {
	g *memGraph
}

func newWorld() *world {
	g := newMemGraph()
	for _, n := range []string{"bravo", "charlie", "delta", "echo", "foxtrot"} {
		st := detente.PartnerActive
		if n == "echo" {
			st = detente.PartnerSuspended
		}
		g.partners[n] = &detente.Partner{Name: n, Key: pub(n), State: st, StateReason: "test"}
	}
	ag := func(partner string, ceiling detente.TLP, onward string) *detente.Agreement {
		return &detente.Agreement{
			ID: "agreement--" + partner, Version: 1, Partners: []string{partner},
			From: yearFrom, Until: yearTo, TLPCeiling: ceiling, Types: scopeTypes,
			OnwardSharing: onward, Purpose: "ct", State: detente.AgreementActive,
		}
	}
	g.agreements = []*detente.Agreement{
		ag("bravo", detente.TLPAmber, detente.OnwardThirdPartyRule),
		ag("charlie", detente.TLPGreen, detente.OnwardPermitted),
		ag("delta", detente.TLPAmber, detente.OnwardNone),
		ag("echo", detente.TLPAmber, detente.OnwardThirdPartyRule),
	}
	for _, m := range []*detente.Marking{
		{ID: mPurposeCT, Caveat: detente.CaveatPurpose, Purpose: "ct"},
		{ID: mPurposeOther, Caveat: detente.CaveatPurpose, Purpose: "trade"},
		{ID: mRelBravo, Caveat: detente.CaveatReleasableTo, To: []string{"bravo", "delta"}},
		{ID: mRelCharlieK, Caveat: detente.CaveatReleasableTo, To: []string{pub("charlie").String()}},
		{ID: mRelHome, Caveat: detente.CaveatReleasableTo, To: []string{"home"}},
		{ID: mTPR, Caveat: detente.CaveatThirdPartyRule},
		{ID: mStatement, Statement: true},
		{ID: mWeird},
		{ID: mOddCaveat, Caveat: "eyes-only"},
		{ID: mCustomRed, TLP: detente.TLPRed},
	} {
		g.markings[m.ID] = m
		// Definitions are held as objects too, as the store holds them.
		g.objects[m.ID] = &detente.ObjectVersion{ID: m.ID, Type: markingDefinitionType,
			Originator: detente.OriginSelf, Modified: yearFrom}
	}
	return &world{g: g}
}

// opt changes an object being built.
type opt func(*detente.ObjectVersion)

func marks(ids ...string) opt {
	return func(o *detente.ObjectVersion) { o.Markings = append(o.Markings, ids...) }
}

func refs(path string, ids ...string) opt {
	return func(o *detente.ObjectVersion) {
		for _, id := range ids {
			o.Refs = append(o.Refs, detente.Ref{Path: path, ID: id})
		}
	}
}

func from(originator string) opt {
	return func(o *detente.ObjectVersion) {
		o.Originator = originator
		if k, ok := keys[originator]; ok && originator != "home" {
			o.Signer = detente.PublicKey(k.Public().(ed25519.PublicKey))
		}
	}
}

func signer(name string) opt {
	return func(o *detente.ObjectVersion) { o.Signer = pub(name) }
}

func gran(marking string, sels ...string) opt {
	return func(o *detente.ObjectVersion) {
		o.Granular = append(o.Granular, detente.GranularMarking{Marking: marking, Selectors: sels})
	}
}

func quarantine(why string) opt {
	return func(o *detente.ObjectVersion) { o.Quarantine = why }
}

func modified(t time.Time) opt {
	return func(o *detente.ObjectVersion) { o.Modified = t }
}

// obj builds an object version (own, modified a day before now) and, unless
// it is quarantined, adds it to the graph.
func (w *world) obj(id string, opts ...opt) *detente.ObjectVersion {
	typ, _, _ := strings.Cut(id, "--")
	o := &detente.ObjectVersion{ID: id, Type: typ, SpecVersion: "2.1",
		Originator: detente.OriginSelf, Modified: now.Add(-24 * time.Hour)}
	for _, f := range opts {
		f(o)
	}
	if o.Quarantine == "" {
		w.g.objects[id] = o
	}
	return o
}

// consent adds a consent signed by signer's key with the given originator,
// recipient, object and scope, changed by mods before it is signed.
func (w *world) consent(signerName, originator, recipient, object, scope string, mods ...func(*detente.Consent)) *detente.Consent {
	c := &detente.Consent{
		ID: "consent--" + originator + "-" + recipient + "-" + object, Originator: pub(originator),
		Recipient: pub(recipient), Object: object, Scope: scope, Issued: now.Add(-time.Hour),
	}
	for _, f := range mods {
		f(c)
	}
	c.Sign(keys[signerName])
	w.g.consents = append(w.g.consents, c)
	return c
}

// codes returns the distinct reason codes of d, sorted.
func codes(d detente.Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reasonFor returns the first reason of d with code about object, if any.
func reasonFor(d detente.Decision, code, object string) (detente.Reason, bool) {
	for _, r := range d.Reasons {
		if r.Code == code && (object == "" || r.Object == object) {
			return r, true
		}
	}
	return detente.Reason{}, false
}

// checkConsistent fails t when d's Allowed disagrees with its reasons.
func checkConsistent(t *testing.T, d detente.Decision) {
	t.Helper()
	deny := slices.ContainsFunc(d.Reasons, func(r detente.Reason) bool { return r.Deny })
	if d.Allowed == deny {
		t.Errorf("Allowed = %v but a denying reason present = %v: %+v", d.Allowed, deny, d.Reasons)
	}
	_, allowedReason := reasonFor(d, detente.ReasonAllowed, "")
	if d.Allowed != allowedReason {
		t.Errorf("Allowed = %v but reason %q present = %v", d.Allowed, detente.ReasonAllowed, allowedReason)
	}
	if !d.Allowed && (d.Closure != nil || d.Redacted != nil) {
		t.Errorf("denied decision has closure %v, redacted %v", d.Closure, d.Redacted)
	}
	if d.Allowed && (len(d.Closure) == 0 || d.Closure[0] != d.Object) {
		t.Errorf("allowed decision's closure %v does not start with %s", d.Closure, d.Object)
	}
}
