package policy

import (
	"context"
	"strconv"
	"strings"

	"detente"
)

// Ingress re-checks an object received from partner r.From against this
// node's own agreement(s) with that partner. The object is acceptable if
// the partner is known and active and, under one agreement with it in
// force at r.Now, its type is in scope (marking-definitions, which travel
// with what they mark, are exempt), every TLP marking, object-level or
// granular, is within the ceiling, every purpose caveat names the
// agreement's purpose, and every held releasable-to caveat names this
// node. A marking definition the node does not hold, or of a kind it does
// not understand, is accepted with an informational reason: it fails closed
// later, on egress. A denied decision tells the caller to quarantine the
// version with the reasons given.
func Ingress(ctx context.Context, g Graph, r IngressRequest) detente.Decision {
	if r.Object == nil {
		return noObject(r.From)
	}
	o := r.Object
	d := detente.Decision{Object: o.ID, Partner: r.From}
	p, reasons, deny := partnerReasons(ctx, g, r.From, nil)
	if p == nil {
		d.Reasons = reasons
		return d
	}
	in, why := agreementsInForce(ctx, g, r.From, r.Now)
	if len(in) == 0 {
		d.Reasons = append(reasons, why...)
		return d
	}
	var refused []detente.Reason // the reasons of agreements that deny, once each
	for _, a := range in {
		rs, denied := ingressCheck(ctx, g, &r, a, nil)
		if denied {
			refused = appendUnique(refused, rs...)
			continue
		}
		// Only the deciding agreement's reasons are reported.
		d.Reasons = append(reasons, rs...)
		if !deny {
			d.Allowed = true
			d.Reasons = append(d.Reasons, allowedBy(a))
			d.Closure = []string{o.ID} // each object is checked as it arrives
		}
		return d
	}
	d.Reasons = append(reasons, refused...)
	return d
}

// ingressCheck applies the ingress rules for r.Object under a, appending
// its reasons to out.
func ingressCheck(ctx context.Context, g Graph, r *IngressRequest, a *detente.Agreement, out []detente.Reason) ([]detente.Reason, bool) {
	o := r.Object
	denied := false
	add := func(rs detente.Reason) {
		out = append(out, rs)
		denied = denied || rs.Deny
	}
	if o.Type != markingDefinitionType && !a.InScope(o.Type) {
		add(detente.Reason{Code: detente.ReasonTypeOutOfScope, Object: o.ID, Deny: true,
			Detail: "type " + o.Type + " is not in the scope of agreement " + a.ID})
	}
	for _, id := range o.Markings {
		if rs, ok := ingressMarking(ctx, g, r, a, id, ""); ok {
			add(rs)
		}
	}
	for _, gm := range o.Granular {
		if rs, ok := ingressMarking(ctx, g, r, a, gm.Marking, strings.Join(gm.Selectors, ", ")); ok {
			add(rs)
		}
	}
	return out, denied
}

// ingressMarking judges one marking of an incoming object under a. sels is
// "" for an object marking, else the selectors of a granular marking. It
// returns a reason and true when there is something to report.
func ingressMarking(ctx context.Context, g Graph, r *IngressRequest, a *detente.Agreement, id, sels string) (detente.Reason, bool) {
	o := r.Object
	on := ""
	if sels != "" {
		on = " (on " + sels + ")"
	}
	rs := detente.Reason{Object: o.ID, Deny: true}
	t, ok := detente.TLPOfMarking(id)
	if !ok {
		m, held := g.Marking(ctx, id)
		if !held || m == nil {
			rs.Code, rs.Deny = detente.ReasonMarkingUnknown, false
			rs.Detail = "marking-definition " + id + on + " is not held; accepted, it fails closed on egress"
			return rs, true
		}
		t = m.TLP
		switch m.Caveat {
		case "":
			if t == 0 && !m.Statement {
				rs.Code, rs.Deny = detente.ReasonMarkingUnsupported, false
				rs.Detail = "marking-definition " + id + on + " is of a kind the node does not understand; accepted, it fails closed on egress"
				return rs, true
			}
		case detente.CaveatReleasableTo:
			if !namesSelf(m, r) {
				rs.Code = detente.ReasonNotReleasableTo
				rs.Detail = "marking-definition " + id + on + " limits release to " + strings.Join(m.To, ", ") + ", which does not name this node"
				return rs, true
			}
		case detente.CaveatPurpose:
			if m.Purpose != a.Purpose {
				rs.Code = detente.ReasonPurposeMismatch
				rs.Detail = "marking-definition " + id + on + " limits use to purpose " + strconv.Quote(m.Purpose) +
					"; agreement " + a.ID + " is for " + strconv.Quote(a.Purpose)
				return rs, true
			}
		case detente.CaveatThirdPartyRule:
		default:
			rs.Code, rs.Deny = detente.ReasonMarkingUnsupported, false
			rs.Detail = "marking-definition " + id + on + " carries an unknown caveat " + strconv.Quote(m.Caveat) + "; accepted, it fails closed on egress"
			return rs, true
		}
	}
	if t != 0 && !supportedTLP(t) {
		rs.Code, rs.Deny = detente.ReasonMarkingUnsupported, false
		rs.Detail = "marking-definition " + id + on + " sets an unknown TLP level; accepted, it fails closed on egress"
		return rs, true
	}
	if t > a.TLPCeiling {
		rs.Code = detente.ReasonAboveCeiling
		rs.Detail = aboveCeiling(id, t, a) + on
		return rs, true
	}
	return rs, false
}

// namesSelf reports whether the releasable-to caveat m names this node.
func namesSelf(m *detente.Marking, r *IngressRequest) bool {
	self := ""
	for _, to := range m.To {
		if r.SelfName != "" && to == r.SelfName {
			return true
		}
		if len(r.Self) > 0 && strings.HasPrefix(to, detente.NodeKeyPrefix) {
			if self == "" {
				self = r.Self.String()
			}
			if to == self {
				return true
			}
		}
	}
	return false
}
