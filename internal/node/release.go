package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/ledger"
	"detente/internal/policy"
	"detente/internal/stix"
	"detente/internal/view"
)

// graph is the egress policy's view of the store, over one transaction.
// Lookups are cached; the first store error is kept and reported after the
// decision, which is then discarded.
type graph struct {
	tx      detente.Tx
	objects map[string]*detente.ObjectVersion
	// reportConsents caches the report-scoped consents, nil until read;
	// consents caches Consents by object.
	reportConsents []*detente.Consent
	consents       map[string][]*detente.Consent
	// members caches Member's lookups by originator; nil values are
	// misses.
	members map[memberKey]*detente.ObjectVersion
	// partners and agreements cache lookups: a view decides many versions
	// for one partner.
	partners   map[string]*detente.Partner
	byKey      map[string]*detente.Partner
	agreements map[string][]*detente.Agreement
	err        error
}

var _ policy.MarkedGraph = (*graph)(nil)

// Marked reports whether o carries fingerprint markup (leak.MarkedIn).
func (g *graph) Marked(ctx context.Context, o *detente.ObjectVersion) bool {
	m, err := leak.MarkedIn(ctx, g.tx, o)
	if err != nil {
		g.fail(err)
	}
	return m
}

func newGraph(tx detente.Tx) *graph {
	return &graph{tx: tx, objects: map[string]*detente.ObjectVersion{},
		partners: map[string]*detente.Partner{}, byKey: map[string]*detente.Partner{}, agreements: map[string][]*detente.Agreement{}}
}

func (g *graph) fail(err error) {
	if g.err == nil && detente.ErrorCode(err) != detente.ENOTFOUND {
		g.err = err
	}
}

func (g *graph) Object(ctx context.Context, id string) (*detente.ObjectVersion, bool) {
	if o, ok := g.objects[id]; ok {
		return o, o != nil
	}
	o, err := g.tx.Object(ctx, id)
	if err != nil {
		g.fail(err)
		o = nil
	}
	g.objects[id] = o
	return o, o != nil
}

func (g *graph) Member(ctx context.Context, id string, from *detente.ObjectVersion) (*detente.ObjectVersion, bool) {
	origin := from.OriginKey()
	if len(origin) == 0 {
		return g.Object(ctx, id)
	}
	k := memberKey{id, string(origin)}
	if o, ok := g.members[k]; ok {
		if o != nil {
			return o, true
		}
		return g.Object(ctx, id)
	}
	o, err := g.tx.ObjectFrom(ctx, id, origin)
	if err != nil {
		g.fail(err)
		o = nil
	}
	if g.members == nil {
		g.members = map[memberKey]*detente.ObjectVersion{}
	}
	g.members[k] = o
	if o != nil {
		return o, true
	}
	return g.Object(ctx, id)
}

// memberKey names a version of an id by its originator.
type memberKey struct{ id, origin string }

func (g *graph) Version(ctx context.Context, id string, modified time.Time) (*detente.ObjectVersion, bool) {
	o, err := g.tx.ObjectVersion(ctx, id, modified)
	if err != nil {
		g.fail(err)
		return nil, false
	}
	return o, true
}

func (g *graph) Marking(ctx context.Context, id string) (*detente.Marking, bool) {
	o, ok := g.Object(ctx, id)
	if !ok || o.Type != "marking-definition" {
		return nil, false
	}
	so, err := stix.ParseObject(o.Raw)
	if err != nil {
		g.fail(fmt.Errorf("stored marking %s: %w", id, err))
		return nil, false
	}
	m, err := stix.ParseMarking(so)
	if err != nil {
		return &detente.Marking{ID: id}, true // held but not understood: the policy fails closed
	}
	return m, true
}

func (g *graph) Partner(ctx context.Context, name string) (*detente.Partner, bool) {
	p, ok := g.partners[name]
	if !ok {
		var err error
		if p, err = g.tx.Partner(ctx, name); err != nil {
			g.fail(err)
			p = nil
		}
		g.partners[name] = p
	}
	return p, p != nil
}

func (g *graph) PartnerByKey(ctx context.Context, k detente.PublicKey) (*detente.Partner, bool) {
	p, ok := g.byKey[string(k)]
	if !ok {
		var err error
		if p, err = g.tx.PartnerByKey(ctx, k); err != nil {
			g.fail(err)
			p = nil
		}
		g.byKey[string(k)] = p
	}
	return p, p != nil
}

func (g *graph) Agreements(ctx context.Context, partner string) []*detente.Agreement {
	as, ok := g.agreements[partner]
	if !ok {
		var err error
		as, err = g.tx.Agreements(ctx, partner)
		g.fail(err)
		g.agreements[partner] = as
	}
	return as
}

// Consents returns the consents naming object and every report-scoped
// consent, whose report may contain object: the policy checks membership.
func (g *graph) Consents(ctx context.Context, object string) []*detente.Consent {
	if g.reportConsents == nil {
		all, err := g.tx.Consents(ctx, "")
		g.fail(err)
		g.reportConsents = []*detente.Consent{}
		for _, c := range all {
			if c.Scope == detente.ConsentReport {
				g.reportConsents = append(g.reportConsents, c)
			}
		}
	}
	if cs, ok := g.consents[object]; ok {
		return cs
	}
	cs, err := g.tx.Consents(ctx, object)
	g.fail(err)
	for _, c := range g.reportConsents {
		if detente.NormalID(c.Object) != object {
			cs = append(cs, c)
		}
	}
	if g.consents == nil {
		g.consents = map[string][]*detente.Consent{}
	}
	g.consents[object] = cs
	return cs
}

// decide runs the egress policy for the newest version of object to
// partner, under the partner's reciprocity hold when holds is set. An
// unknown object or partner is an error (ENOTFOUND), not a decision: a
// denial is for what policy refuses, not for a mistyped name.
func (n *Node) decide(ctx context.Context, tx detente.Tx, object, partner string, holds bool) (*detente.ObjectVersion, detente.Decision, error) {
	g := newGraph(tx)
	o, err := tx.Object(ctx, object)
	if err != nil {
		return nil, detente.Decision{}, err
	}
	if _, err := tx.Partner(ctx, partner); err != nil {
		return nil, detente.Decision{}, err
	}
	var held string
	if holds {
		if held, err = heldDetail(ctx, tx, partner); err != nil {
			return nil, detente.Decision{}, err
		}
	}
	d := policy.Egress(ctx, g, policy.Request{Self: n.PublicKey(), Partner: partner, Now: n.now(), Object: o, Held: held})
	if g.err != nil {
		return nil, detente.Decision{}, fmt.Errorf("release decision: %w", g.err)
	}
	return o, d, nil
}

// CheckRelease returns the egress decision for the newest version of object
// to partner, without releasing anything or recording it.
func (n *Node) CheckRelease(ctx context.Context, object, partner string) (*detente.Decision, error) {
	var d detente.Decision
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		_, dd, err := n.decide(ctx, tx, object, partner, true)
		if err != nil || !dd.Allowed {
			d = dd
			return err
		}
		// What Release would send: a closure whose projection is not valid
		// STIX is withheld, and the check must say so too.
		if _, _, bad, err := n.bundle(ctx, tx, partner, dd); bad != "" {
			view.Withhold(&dd, bad, err)
		} else if err != nil {
			return err
		}
		d = dd
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// checkReleaseUnheld is CheckRelease regardless of a reciprocity hold:
// what channel messages (crisis alerts, deconfliction notices) are checked
// with, since a hold never stops a channel message (docs/ledger.md).
func (n *Node) checkReleaseUnheld(ctx context.Context, object, partner string) (*detente.Decision, error) {
	var d detente.Decision
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { _, d, err = n.decide(ctx, tx, object, partner, false); return })
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// heldDetail returns the words of the reciprocity hold on partner, "" when
// releases to it are not held.
func heldDetail(ctx context.Context, tx detente.Tx, partner string) (string, error) {
	h, err := ledger.Held(ctx, tx, partner)
	if err != nil || h == nil {
		return "", err
	}
	return h.Detail(), nil
}

// ReleaseResult is the outcome of a release: the decision, and when allowed
// the STIX bundle that goes to the partner (its projection of the closure).
type ReleaseResult struct {
	Decision detente.Decision `json:"decision"`
	Bundle   json.RawMessage  `json:"bundle,omitempty"`
}

// Release decides whether the newest version of object may go to partner,
// records the decision and its log event in one transaction, and when
// allowed returns the partner's projection of the closure as a bundle.
func (n *Node) Release(ctx context.Context, object, partner string) (*ReleaseResult, error) {
	res := &ReleaseResult{}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		o, d, err := n.decide(ctx, tx, object, partner, true)
		if err != nil {
			return err
		}
		var copies []*leak.Copy
		if d.Allowed {
			var bad string
			res.Bundle, copies, bad, err = n.bundle(ctx, tx, partner, d)
			if err != nil && bad == "" {
				return err
			}
			if bad != "" {
				// Withheld, not failed: the reason stays in the decision
				// and the log, and the partner gets nothing.
				view.Withhold(&d, bad, err)
				res.Bundle, copies = nil, nil
			}
		}
		res.Decision = d
		r := &detente.Release{Object: o.ID, Modified: o.Modified, Partner: partner, Allowed: d.Allowed, Reasons: d.Reasons, Time: n.now()}
		if err := tx.PutRelease(ctx, r); err != nil {
			return err
		}
		body := n.releaseBody(o, d)
		if d.Allowed {
			if body["objects"], body["worth"], err = n.givenWorth(ctx, tx, partner, d.Closure); err != nil {
				return err
			}
		}
		return n.logRelease(ctx, tx, partner, body, copies)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Releases returns the recorded release decisions f selects.
func (n *Node) Releases(ctx context.Context, f detente.ReleaseFilter) ([]*detente.Release, error) {
	var rs []*detente.Release
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { rs, err = tx.Releases(ctx, f); return })
	return rs, err
}

// releaseBody is the log entry of a release decision. A denied release
// names its object only by a hiding commitment (hidingCommit), and every
// decision is committed to the same way, so the log does not reveal what
// was refused, not even to someone who can guess ids.
func (n *Node) releaseBody(o *detente.ObjectVersion, d detente.Decision) map[string]any {
	codes := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		if !slices.Contains(codes, r.Code) {
			codes = append(codes, r.Code)
		}
	}
	full, _ := json.Marshal(d)
	// The decision is text built from ids and names a reader can guess: a
	// plain hash of it would give away what a commitment hides.
	body := map[string]any{"allowed": d.Allowed, "codes": codes, "decision_commitment": n.hidingCommit(string(full))}
	if d.Allowed {
		body["object"], body["modified"], body["closure"] = o.ID, fmtTime(o.Modified), d.Closure
	} else {
		body["object_commitment"] = n.hidingCommit(o.Key())
	}
	return body
}

// givenWorth records the versions of closure going to partner with the
// ledger and returns their keys and worth, for the release's log entry:
// every object the partner's bundle carries (bundle), the TLP
// definitions and references not held aside.
func (n *Node) givenWorth(ctx context.Context, tx detente.Tx, partner string, closure []string) ([]string, []ledger.Worth, error) {
	p, err := tx.Partner(ctx, partner)
	if err != nil {
		return nil, nil, err
	}
	var (
		keys []string
		vs   []*detente.ObjectVersion
	)
	for _, id := range closure {
		if _, isTLP := detente.TLPOfMarking(id); isTLP {
			continue
		}
		o, err := tx.Object(ctx, id)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		keys, vs = append(keys, o.Key()), append(vs, o)
	}
	worth, err := ledger.Given(ctx, tx, partner, p.Key, vs)
	if err != nil {
		return nil, nil, err
	}
	return keys, worth, nil
}

// bundle returns the STIX bundle of d's closure as partner sees it:
// each object as served (served: fingerprinted, relayed or projected),
// with the fingerprinted copies to record. When an object's copy is not
// valid STIX, it returns that object's id with the error, and the
// release must be withheld.
func (n *Node) bundle(ctx context.Context, tx detente.Tx, partner string, d detente.Decision) (json.RawMessage, []*leak.Copy, string, error) {
	p, err := tx.Partner(ctx, partner)
	if err != nil {
		return nil, nil, "", err
	}
	var copies []*leak.Copy
	inBundle := map[string]bool{}
	for _, id := range d.Closure {
		inBundle[detente.NormalID(id)] = true
	}
	// Each object as the partner receives it, without references to
	// marking-definitions that do not travel with it (a caveat that must
	// not leave the node), rather than left dangling.
	var objs [][]byte
	named := append([]string(nil), d.Closure...)
	for _, id := range d.Closure {
		if stix.IsPredefined(id) {
			continue // written with the definitions
		}
		o, err := tx.Object(ctx, id)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			continue // a reference the node does not hold
		}
		if err != nil {
			return nil, nil, "", err
		}
		raw, c, bad, err := n.served(ctx, tx, o, p, d)
		if err != nil {
			return nil, nil, "", err
		}
		if bad != nil {
			return nil, nil, id, bad
		}
		hidden := map[string]bool{}
		refs := append([]string(nil), o.Markings...)
		for _, g := range o.Granular {
			refs = append(refs, g.Marking)
		}
		for _, m := range refs {
			switch {
			case stix.IsPredefined(m):
				named = append(named, m)
			case !inBundle[detente.NormalID(m)]:
				hidden[detente.NormalID(m)] = true
			}
		}
		if len(hidden) > 0 && o.Type != "marking-definition" {
			if raw, err = view.WithoutMarkings(o, raw, hidden, n.signProjection); err != nil {
				return nil, nil, id, err
			}
		}
		if c != nil {
			copies = append(copies, c)
		}
		objs = append(objs, raw)
	}
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--` + detente.NewUUID() + `","objects":[`)
	written := 0
	// The bundle describes itself: the predefined definitions its objects
	// reference (TLP), and detente's extension-definitions.
	for _, raw := range append(view.BundleDefinitions(named), objs...) {
		if written > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
		written++
	}
	b.WriteString("]}")
	return json.RawMessage(b.String()), copies, "", nil
}
