package policy

import (
	"context"
	"slices"
	"strings"
	"sync"

	"detente"
)

// Egress decides whether r.Object may be released to r.Partner at r.Now.
//
// The object goes only if the partner is known and active, an agreement
// covering the partner is in force, and under one such agreement the object
// and every object of its closure pass every rule: type in scope, every
// marking within the TLP ceiling and its caveats, originator control
// (the third-party rule), not quarantined. Granular markings the partner
// may not receive redact the properties they select instead of denying.
// When several agreements are in force, the first (by id) that allows
// decides, and the allowing reason names it; when none allows, the reasons
// of all are reported. Decision.Closure and Decision.Redacted are set only
// when the release is allowed. A reciprocity hold (r.Held) denies whatever
// the other rules decide.
func Egress(ctx context.Context, g Graph, r Request) detente.Decision {
	d := egressDecision(ctx, g, r)
	if r.Held != "" {
		d.Allowed, d.Closure, d.Redacted = false, nil, nil
		d.Reasons = append(d.Reasons, detente.Reason{Code: detente.ReasonReciprocityHeld, Deny: true, Detail: r.Held})
	}
	return d
}

// egressDecision is Egress without the reciprocity hold.
func egressDecision(ctx context.Context, g Graph, r Request) detente.Decision {
	if r.Object == nil {
		return noObject(r.Partner)
	}
	d := detente.Decision{Object: r.Object.ID, Partner: r.Partner}
	p, reasons, deny := partnerReasons(ctx, g, r.Partner, nil)
	if p == nil {
		if r.Object.Quarantine != "" {
			reasons = append(reasons, quarantined(r.Object))
		}
		d.Reasons = reasons
		return d
	}
	in, why := agreementsInForce(ctx, g, r.Partner, r.Now)
	if len(in) == 0 {
		reasons = append(reasons, why...)
		if r.Object.Quarantine != "" {
			reasons = append(reasons, quarantined(r.Object))
		}
		d.Reasons = reasons
		return d
	}
	e := egressPool.Get().(*egress)
	defer e.release()
	e.g, e.r, e.p, e.deftlp = g, &r, p, r.DefaultTLP
	if e.deftlp == 0 {
		e.deftlp = DefaultTLP
	}
	var refused []detente.Reason // the reasons of agreements that deny, once each
	for _, a := range in {
		rs := e.evaluate(ctx, a)
		if e.denied {
			refused = appendUnique(refused, rs...)
			continue
		}
		// Only the deciding agreement's reasons are reported.
		d.Reasons = append(reasons, rs...)
		if deny {
			// Every rule passed but the partner is not active.
			return d
		}
		d.Allowed = true
		d.Reasons = append(d.Reasons, allowedBy(a))
		d.Closure = e.closure
		d.Redacted = e.redacted
		return d
	}
	d.Reasons = append(reasons, refused...)
	return d
}

// ownershipOnly reports whether a quarantine reason holds only id
// ownership's reasons (detente.Tx.PutObject), none of the ingress policy's.
func ownershipOnly(q string) bool {
	for part := range strings.SplitSeq(q, "; ") {
		code, _, _ := strings.Cut(part, ":")
		switch code {
		case detente.QuarantineForeign, detente.QuarantineSuperseded, detente.QuarantineImmutable:
		default:
			return false
		}
	}
	return true
}

// quarantined is the denying reason for a quarantined version.
func quarantined(o *detente.ObjectVersion) detente.Reason {
	return detente.Reason{
		Code: detente.ReasonQuarantined, Object: o.ID, Deny: true,
		Detail: "version " + o.Key() + " is quarantined: " + o.Quarantine,
	}
}

// egressPool keeps the working memory of Egress calls (the visited set,
// the queue, scratch slices) for reuse; nothing that escapes into a
// Decision is pooled.
var egressPool = sync.Pool{New: func() any {
	return &egress{visited: make(map[string]struct{}, 64), defs: make(map[string]*detente.Marking, 8)}
}}

// release clears e of everything the call referenced and returns it to
// the pool.
func (e *egress) release() {
	e.g, e.r, e.p, e.a, e.pkey = nil, nil, nil, nil, ""
	e.origins, e.verified = nil, nil
	e.reasons, e.closure, e.redacted = nil, nil, nil
	clear(e.visited)
	clear(e.defs)
	clear(e.queue)
	e.queue = e.queue[:0]
	clear(e.scratch[:cap(e.scratch)])
	e.scratch = e.scratch[:0]
	clear(e.sels[:cap(e.sels)])
	clear(e.travel[:cap(e.travel)])
	e.sels, e.travel = e.sels[:0], e.travel[:0]
	egressPool.Put(e)
}

// egress is the state of one Egress call. Caches survive from one
// agreement to the next; the rest is reset by evaluate.
type egress struct {
	g      Graph
	r      *Request
	p      *detente.Partner
	pkey   string // p.Key's text form, computed when first needed
	deftlp detente.TLP

	origins  map[string]origin           // originator text → resolved originator
	verified map[*detente.Consent]bool   // consent → whether its signature verifies
	defs     map[string]*detente.Marking // marking-definition id → Graph.Marking, nil when not held

	// Per agreement.
	a        *detente.Agreement
	denied   bool
	backHome bool // the object is the partner's own, going back to it
	reasons  []detente.Reason
	closure  []string
	redacted []string
	visited  map[string]struct{}
	queue    []edge

	// Scratch, per object.
	scratch []detente.Reason
	sels    []string // selectors redacted in the object last checked
	travel  []string // marking definitions sent along with the object last checked
}

// edge is one reference waiting to be followed.
type edge struct {
	id, from, path string
	source         *detente.ObjectVersion // the version holding the reference
	marking        bool                   // a marking reference, as opposed to an object reference
}

// origin is an originator as resolved for one decision.
type origin struct {
	kind    int              // originSelf, originPartner or originUnknown
	partner *detente.Partner // for originPartner
	onward  string           // for originPartner: the strictest onward rule of our agreements with it
	why     string           // for originUnknown
}

// Kinds of originator.
const (
	originUnknown = iota
	originSelf
	originPartner
)

// evaluate runs every rule for the object and its closure under a. It
// returns the reasons found and sets e.denied, e.closure and e.redacted.
func (e *egress) evaluate(ctx context.Context, a *detente.Agreement) []detente.Reason {
	e.a, e.denied = a, false
	e.reasons, e.redacted = nil, nil
	e.closure = make([]string, 0, 1+len(e.r.Object.Refs)+len(e.r.Object.Markings))
	clear(e.visited)
	e.queue = e.queue[:0]

	root := e.r.Object
	e.visited[root.ID] = struct{}{}
	or := e.origin(ctx, root)
	e.backHome = or.kind == originPartner && or.partner.Name == e.p.Name
	rs, denied := e.check(ctx, root, true)
	e.reasons = append(e.reasons, rs...)
	e.denied = denied
	e.closure = append(e.closure, root.ID)
	if e.backHome {
		// The partner's own object goes back alone, with the definitions
		// of its markings: its references are its own words. Judging what
		// they name would tell the partner which of the ids it wrote this
		// node holds and withholds; what it may receive of them it
		// receives on their own.
		e.followMarkings(root)
		if len(root.Refs) > 0 {
			e.reasons = append(e.reasons, detente.Reason{Code: detente.ReasonMemberWithheld, Object: root.ID,
				Detail: "the partner's own object goes back without the objects it references"})
		}
	} else {
		e.follow(root)
	}
	for i := 0; i < len(e.queue); i++ {
		e.visit(ctx, e.queue[i])
	}
	if len(e.closure) > 2 {
		slices.Sort(e.closure[1:])
	}
	if len(e.redacted) > 1 {
		slices.Sort(e.redacted)
		e.redacted = slices.Compact(e.redacted)
	}
	return e.reasons
}

// visit checks one object of the closure and queues what it references.
func (e *egress) visit(ctx context.Context, x edge) {
	if _, seen := e.visited[x.id]; seen {
		return
	}
	e.visited[x.id] = struct{}{}
	var def *detente.Marking
	if strings.HasPrefix(x.id, markingDefinitionPrefix) {
		if _, ok := detente.TLPOfMarking(x.id); ok {
			return // well known to every node: nothing to send
		}
		if m, ok := e.definition(ctx, x.id); ok {
			if m.Caveat == detente.CaveatReleasableTo || m.Caveat == detente.CaveatFingerprint {
				return // a local handling instruction, never sent
			}
			def = m
		}
	}
	o, held := e.g.Member(ctx, x.id, x.source)
	if !held || o == nil {
		switch {
		case def != nil:
			e.closure = append(e.closure, x.id)
		case x.marking:
			// Unreachable: only held definitions are queued. Fail closed anyway.
			e.deny(detente.Reason{Code: detente.ReasonMarkingUnknown, Object: x.id, Deny: true,
				Detail: "marking-definition " + x.id + " is not held"})
		default:
			e.reasons = append(e.reasons, detente.Reason{
				Code: detente.ReasonRefNotHeld, Object: x.id,
				Detail: x.path + " of " + x.from + " names an object the node does not hold; the partner receives the reference alone",
			})
		}
		return
	}
	rs, denied := e.check(ctx, o, false)
	if denied {
		first := rs[0]
		for _, r := range rs {
			if r.Deny {
				first = r
				break
			}
		}
		e.deny(detente.Reason{
			Code: detente.ReasonClosure, Object: o.ID, Deny: true,
			Detail: x.path + " of " + x.from + " names " + o.ID + ", which may not go (" + first.Code + ": " + first.Detail + ")",
		})
		return
	}
	e.reasons = append(e.reasons, rs...)
	e.closure = append(e.closure, o.ID)
	e.follow(o)
}

// definition returns the held marking-definition id, asking the graph once
// per decision.
func (e *egress) definition(ctx context.Context, id string) (*detente.Marking, bool) {
	m, seen := e.defs[id]
	if !seen {
		held := false
		if m, held = e.g.Marking(ctx, id); !held {
			m = nil
		}
		e.defs[id] = m
	}
	return m, m != nil
}

// deny records a denying reason of the closure.
func (e *egress) deny(r detente.Reason) {
	e.reasons = append(e.reasons, r)
	e.denied = true
}

// follow queues the references of o's projection: its references not
// removed by a redacting granular marking, and the held non-TLP marking
// definitions it carries on what is sent. It uses e.sels and e.travel as
// left by the check of o.
func (e *egress) follow(o *detente.ObjectVersion) {
	for i, ref := range o.Refs {
		if len(e.sels) > 0 && e.redacts(o, i) {
			continue
		}
		if _, seen := e.visited[ref.ID]; seen {
			continue
		}
		e.queue = append(e.queue, edge{id: ref.ID, from: o.ID, path: ref.Path, source: o})
	}
	for _, id := range e.travel {
		if _, seen := e.visited[id]; seen {
			continue
		}
		e.queue = append(e.queue, edge{id: id, from: o.ID, path: "markings", source: o, marking: true})
	}
}

// followMarkings queues only the marking definitions travelling with o
// (e.travel, as left by the check of o).
func (e *egress) followMarkings(o *detente.ObjectVersion) {
	for _, id := range e.travel {
		if _, seen := e.visited[id]; seen {
			continue
		}
		e.queue = append(e.queue, edge{id: id, from: o.ID, path: "markings", source: o, marking: true})
	}
}

// redacts reports whether the i-th reference of o is removed by one of the
// selectors in e.sels.
func (e *egress) redacts(o *detente.ObjectVersion, i int) bool {
	path := o.Refs[i].Path
	idx := 0
	for _, r := range o.Refs[:i] {
		if r.Path == path {
			idx++
		}
	}
	for _, s := range e.sels {
		if removes(s, path, idx) {
			return true
		}
	}
	return false
}

// redactedAll reports whether every selector of a granular marking is
// redacted, so the marking itself is not sent.
func (e *egress) redactedAll(sels []string) bool {
	for _, s := range sels {
		if !slices.Contains(e.sels, s) {
			return false
		}
	}
	return true
}

// check runs the per-object rules for o under e.a: quarantine, type scope,
// object markings, originator control and granular markings. It returns
// o's reasons (valid until the next check) and whether one denies. It
// leaves in e.sels the selectors redacted in o and adds them to e.redacted.
func (e *egress) check(ctx context.Context, o *detente.ObjectVersion, root bool) ([]detente.Reason, bool) {
	a := e.a
	out := e.scratch[:0]
	e.sels, e.travel = e.sels[:0], e.travel[:0]
	denied := false
	add := func(r detente.Reason) {
		out = append(out, r)
		denied = denied || r.Deny
	}

	if o.Quarantine != "" && !(root && e.backHome && ownershipOnly(o.Quarantine) && o.Signer.Equal(e.p.Key)) {
		// A version the partner signed, kept apart only because another
		// node owns its id (or a second marking-definition version), is
		// still the partner's own words: it goes back to it, so that
		// whether it does never tells the partner what this node holds.
		// A third node's relayed copy of the partner's object is not its
		// words, and stays here.
		add(quarantined(o))
	}
	// Marking definitions in the closure travel with what they mark: they
	// are exempt from type scope and from originator control.
	travelling := !root && o.Type == markingDefinitionType
	if root && o.Type == markingDefinitionType {
		if m, ok := e.definition(ctx, o.ID); ok && m.Caveat == detente.CaveatReleasableTo {
			add(detente.Reason{Code: detente.ReasonNotReleasableTo, Object: o.ID, Deny: true,
				Detail: "releasable-to definitions are local handling instructions and are never sent"})
		}
	}
	if !travelling && !a.InScope(o.Type) {
		add(detente.Reason{Code: detente.ReasonTypeOutOfScope, Object: o.ID, Deny: true,
			Detail: "type " + o.Type + " is not in the scope of agreement " + a.ID})
	}

	hasTLP, tpr, fpCaveat := false, false, false
	for _, id := range o.Markings {
		v := e.marking(ctx, id, a)
		hasTLP = hasTLP || v.tlp != 0
		tpr = tpr || v.tpr
		fpCaveat = fpCaveat || v.fingerprint
		if v.code != "" {
			add(detente.Reason{Code: v.code, Object: o.ID, Detail: v.detail, Deny: true})
		} else if v.travel {
			e.travel = append(e.travel, id)
		}
	}
	// A marking-definition is a handling instruction, not intelligence: the
	// default TLP is for objects that carry content.
	if !hasTLP && o.Type != markingDefinitionType && e.deftlp > a.TLPCeiling {
		add(detente.Reason{Code: detente.ReasonAboveCeiling, Object: o.ID, Deny: true,
			Detail: "no TLP marking, so treated as tlp:" + e.deftlp.String() + ", above the tlp:" +
				a.TLPCeiling.String() + " ceiling of agreement " + a.ID})
	}

	var or origin
	if !travelling {
		or = e.origin(ctx, o)
		for _, r := range e.originatorReasons(ctx, o, or, tpr) {
			add(r)
		}
		if r, ok := e.fingerprintReason(ctx, o, or, root, fpCaveat); ok {
			add(r)
		}
	}

	// Granular definitions travel unless every property they mark is redacted.
	var travel []string
	for _, gm := range o.Granular {
		v := e.marking(ctx, gm.Marking, a)
		code, detail := v.code, v.detail
		if code == "" && v.tpr && !travelling && !e.mayPassOn(ctx, o, or) {
			code, detail = detente.ReasonThirdPartyRule, "third-party-rule caveat "+gm.Marking+" and no consent"
		}
		if code == "" {
			if v.travel {
				travel = append(travel, gm.Marking)
			}
			continue
		}
		for _, s := range gm.Selectors {
			e.sels = append(e.sels, s)
			e.redacted = append(e.redacted, o.ID+":"+s)
			add(detente.Reason{Code: detente.ReasonPropertyRedacted, Object: o.ID,
				Detail: s + " redacted (" + code + ": " + detail + ")"})
		}
	}
	for _, id := range travel {
		for _, gm := range o.Granular {
			if gm.Marking == id && !e.redactedAll(gm.Selectors) {
				e.travel = append(e.travel, id)
				break
			}
		}
	}
	e.scratch = out
	return out, denied
}

// fingerprintReason applies a's fingerprint term and the fingerprint
// caveat to o (docs/trace.md): a marked version of this node's goes as the
// partner's own fingerprinted copy, unless the agreement refuses
// fingerprinting (it has no other copy); with "always", the object asked
// for must be marked (what it references travels with it); a fingerprint
// caveat requires a marked version.
func (e *egress) fingerprintReason(ctx context.Context, o *detente.ObjectVersion, or origin, root, caveat bool) (detente.Reason, bool) {
	marked := false
	if mg, ok := e.g.(MarkedGraph); ok && or.kind == originSelf {
		marked = mg.Marked(ctx, o)
	}
	rule := e.a.FingerprintRule()
	switch {
	case marked && rule == detente.FingerprintNever:
		return detente.Reason{Code: detente.ReasonFingerprintRefused, Object: o.ID, Deny: true,
			Detail: "agreement " + e.a.ID + " refuses fingerprinted copies, and " + o.ID + " carries fingerprint markup: it has no other copy"}, true
	case marked:
		return detente.Reason{Code: detente.ReasonFingerprinted, Object: o.ID,
			Detail: "the partner receives a fingerprinted copy of its own (agreement " + e.a.ID + ": fingerprint " + rule + ")"}, true
	case caveat:
		return detente.Reason{Code: detente.ReasonNotFingerprinted, Object: o.ID, Deny: true,
			Detail: "a fingerprint caveat requires a fingerprinted copy, and " + o.ID + " carries no fingerprint markup"}, true
	case root && rule == detente.FingerprintAlways && !e.backHome:
		return detente.Reason{Code: detente.ReasonNotFingerprinted, Object: o.ID, Deny: true,
			Detail: "agreement " + e.a.ID + " releases only fingerprinted copies, and " + o.ID + " carries no fingerprint markup"}, true
	}
	return detente.Reason{}, false
}
