package policy

import (
	"context"
	"strings"

	"detente"
)

// Onward-sharing rules ordered from least to most restrictive.
var onwardRank = map[string]int{
	detente.OnwardPermitted:      1,
	detente.OnwardThirdPartyRule: 2,
	detente.OnwardNone:           3,
}

// origin resolves o's originator: this node, a partner, or unknown. An
// Originator may be OriginSelf, a partner name, or the text form of a key.
func (e *egress) origin(ctx context.Context, o *detente.ObjectVersion) origin {
	name := o.Originator
	if name == detente.OriginSelf {
		return origin{kind: originSelf}
	}
	if or, ok := e.origins[name]; ok {
		return e.signedBy(o, or)
	}
	or := e.resolve(ctx, name)
	if e.origins == nil {
		e.origins = make(map[string]origin, 4)
	}
	e.origins[name] = or
	return e.signedBy(o, or)
}

// resolve resolves an originator text, uncached.
func (e *egress) resolve(ctx context.Context, name string) origin {
	var p *detente.Partner
	switch {
	case name == "":
		return origin{why: "the version names no originator"}
	case strings.HasPrefix(name, detente.NodeKeyPrefix):
		k, err := detente.ParsePublicKey(name)
		if err != nil {
			return origin{why: "the originator " + name + " is not a valid node key"}
		}
		if len(e.r.Self) > 0 && k.Equal(e.r.Self) {
			return origin{kind: originSelf}
		}
		q, ok := e.g.PartnerByKey(ctx, k)
		if !ok || q == nil {
			return origin{why: "the originator key " + name + " is not a partner's"}
		}
		p = q
	default:
		q, ok := e.g.Partner(ctx, name)
		if !ok || q == nil {
			return origin{why: "the originator " + name + " is not a partner"}
		}
		p = q
	}
	or := origin{kind: originPartner, partner: p, onward: detente.OnwardThirdPartyRule}
	rank := 0
	for _, a := range e.g.Agreements(ctx, p.Name) {
		if a == nil || !a.Covers(p.Name) {
			continue
		}
		r, ok := onwardRank[a.OnwardSharing]
		if !ok {
			r = onwardRank[detente.OnwardNone] // an unknown rule fails closed
		}
		if r > rank {
			rank = r
			or.onward = a.OnwardSharing
			if !ok {
				or.onward = detente.OnwardNone
			}
		}
	}
	return or
}

// signedBy refuses a partner origin when o originates from another key
// than the partner's pinned key (its signer's, or for a relayed copy the
// original signer its relay statement names): then who originated o
// cannot be established. A partner's own object going back to it is not
// affected.
func (e *egress) signedBy(o *detente.ObjectVersion, or origin) origin {
	k := o.OriginKey()
	if or.kind != originPartner || len(k) == 0 || k.Equal(or.partner.Key) || or.partner.Name == e.p.Name {
		return or
	}
	return origin{why: "version originates from " + k.String() + ", not from the pinned key of its originator " + or.partner.Name}
}

// originatorReasons applies originator control to o going to e's partner.
// tpr is whether o carries a third-party-rule caveat as an object marking.
func (e *egress) originatorReasons(ctx context.Context, o *detente.ObjectVersion, or origin, tpr bool) []detente.Reason {
	switch or.kind {
	case originSelf:
		// Our own object: a third-party-rule caveat restricts nothing for
		// our direct partners.
		return nil
	case originUnknown:
		return []detente.Reason{{Code: detente.ReasonOriginatorUnknown, Object: o.ID, Deny: true,
			Detail: or.why + ", so it is never passed on"}}
	}
	x := or.partner
	if x.Name == e.p.Name {
		return []detente.Reason{{Code: detente.ReasonBackToOriginator, Object: o.ID,
			Detail: e.p.Name + " originated this object; sending it back reveals nothing new"}}
	}
	switch or.onward {
	case detente.OnwardNone:
		return []detente.Reason{{Code: detente.ReasonOnwardForbidden, Object: o.ID, Deny: true,
			Detail: "originated by " + x.Name + ", whose agreement forbids passing anything on"}}
	case detente.OnwardPermitted:
		if !tpr {
			return nil
		}
	}
	if c := e.consent(ctx, o, x); c != nil {
		return []detente.Reason{{Code: detente.ReasonConsent, Object: o.ID,
			Detail: "consent " + c.ID + " of " + x.Name + " lets " + e.p.Name + " receive it"}}
	}
	d := "originated by " + x.Name + " and no valid consent lets " + e.p.Name + " receive it"
	if tpr {
		d = "carries a third-party-rule caveat; " + d
	}
	return []detente.Reason{{Code: detente.ReasonThirdPartyRule, Object: o.ID, Deny: true, Detail: d}}
}

// mayPassOn reports whether o may go to e's partner even where a
// third-party-rule caveat applies: it is ours, it goes back to its
// originator, or its originator consented.
func (e *egress) mayPassOn(ctx context.Context, o *detente.ObjectVersion, or origin) bool {
	switch or.kind {
	case originSelf:
		return true
	case originUnknown:
		return false
	}
	if or.partner.Name == e.p.Name {
		return true
	}
	return or.onward != detente.OnwardNone && e.consent(ctx, o, or.partner) != nil
}

// consent returns a consent signed by x that lets e's partner receive o,
// or nil. A consent counts when its signature verifies, it is valid now,
// its originator is x's pinned key, its recipient is the partner's pinned
// key, and it names o, or names a report version x signed itself whose
// object_refs list o (see reportLists).
func (e *egress) consent(ctx context.Context, o *detente.ObjectVersion, x *detente.Partner) *detente.Consent {
	for _, c := range e.g.Consents(ctx, o.ID) {
		if c == nil || !c.Valid(e.r.Now) || !c.Originator.Equal(x.Key) || !c.Recipient.Equal(e.p.Key) {
			continue
		}
		named := detente.NormalID(c.Object) == o.ID
		switch {
		case named && (c.Scope == detente.ConsentObject || c.Scope == detente.ConsentReport):
		case c.Scope == detente.ConsentReport && !named && e.reportLists(ctx, c, o.ID):
		default:
			continue
		}
		if e.verify(c) {
			return c
		}
	}
	return nil
}

// reportLists reports whether the report version c covers lists id in its
// object_refs. The version is the one c names (c.Version), or for a
// consent that names none the newest held that was not modified after c
// was issued. Either way it must be signed by the consenting originator
// itself: a version someone else made, or relayed, never stretches a
// consent.
func (e *egress) reportLists(ctx context.Context, c *detente.Consent, id string) bool {
	var rep *detente.ObjectVersion
	if c.Version.IsZero() {
		r, ok := e.g.Object(ctx, detente.NormalID(c.Object))
		if !ok || r == nil || r.Modified.After(c.Issued) {
			return false
		}
		rep = r
	} else {
		r, ok := e.g.Version(ctx, detente.NormalID(c.Object), c.Version)
		if !ok || r == nil {
			return false
		}
		rep = r
	}
	if rep.Quarantine != "" || rep.Type != "report" || !rep.Signer.Equal(c.Originator) || !rep.OriginKey().Equal(c.Originator) {
		return false
	}
	for _, r := range rep.Refs {
		if r.Path == "object_refs" && r.ID == id {
			return true
		}
	}
	return false
}

// verify checks c's signature once per decision.
func (e *egress) verify(c *detente.Consent) bool {
	if ok, seen := e.verified[c]; seen {
		return ok
	}
	ok := c.Verify() == nil
	if e.verified == nil {
		e.verified = make(map[*detente.Consent]bool, 4)
	}
	e.verified[c] = ok
	return ok
}
