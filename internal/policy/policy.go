// Package policy decides what may leave the node and what may enter it.
//
// Egress decides whether one object version may be released to one partner,
// over the object's whole closure: every object it references, its markings
// and the members of containers, recursively. Ingress re-checks an object a
// partner sent against this node's own copy of the agreement with that
// partner. Both are pure functions of a read-only Graph and a request: they
// do no I/O of their own (the context they take is passed on to the
// graph's lookups), keep no state between calls and never write.
//
// The default is to deny. A decision lists every reason that applies,
// allowing or denying, and is allowed only when no reason denies. The rules,
// the reason codes and what fails closed are described in docs/policy.md.
package policy

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"detente"
)

// DefaultTLP is the TLP level Egress assumes for an object that carries no
// TLP marking at all, when the request names no other default. Amber is the
// level the node would choose for intelligence it was given without
// handling instructions: it goes to partners whose agreements admit amber,
// never to a green or clear channel.
const DefaultTLP = detente.TLPAmber

// markingDefinitionType is the STIX type of marking-definition objects.
const markingDefinitionType = "marking-definition"

// markingDefinitionPrefix starts the id of every marking-definition.
const markingDefinitionPrefix = markingDefinitionType + "--"

// Graph is a read-only snapshot of what the node holds, as the policy needs
// it. The node implements it over one store transaction; every method must
// answer from the same snapshot for the duration of one decision. Methods
// must not modify what they return, and the policy does not modify it
// either. ctx is the decision's context (Egress's or Ingress's), for the
// lookups that read a store.
type Graph interface {
	// Object returns the newest non-quarantined version of id the node
	// holds, and false when it holds none.
	Object(ctx context.Context, id string) (*detente.ObjectVersion, bool)
	// Member returns the version a reference from version from resolves
	// to: the newest non-quarantined version of id that from's originator
	// originated when the node holds one (each originator's graph stands
	// on its own: an observable two partners both hold is each one's
	// own), else Object(id). False when the node holds none.
	Member(ctx context.Context, id string, from *detente.ObjectVersion) (*detente.ObjectVersion, bool)
	// Version returns the version of id modified at modified, quarantined
	// or not, and false when the node does not hold it.
	Version(ctx context.Context, id string, modified time.Time) (*detente.ObjectVersion, bool)
	// Marking returns the parsed marking-definition id, and false when the
	// node does not hold it. The well-known TLP marking ids
	// (detente.TLPOfMarking) are resolved without the graph.
	Marking(ctx context.Context, id string) (*detente.Marking, bool)
	// Partner returns the partner called name.
	Partner(ctx context.Context, name string) (*detente.Partner, bool)
	// PartnerByKey returns the partner whose pinned key is k.
	PartnerByKey(ctx context.Context, k detente.PublicKey) (*detente.Partner, bool)
	// Agreements returns the latest version of each agreement covering
	// partner, whatever its state.
	Agreements(ctx context.Context, partner string) []*detente.Agreement
	// Consents returns the consents naming object, or naming a report that
	// may contain it, revoked ones included. The policy verifies each one
	// it uses; returning too many is safe, returning too few denies.
	Consents(ctx context.Context, object string) []*detente.Consent
}

// MarkedGraph is a Graph that knows which of this node's own versions
// carry fingerprint markup (docs/trace.md): each partner receives a
// fingerprinted copy of its own of those. Egress applies the agreements'
// fingerprint terms and the fingerprint caveat only with a MarkedGraph; a
// plain Graph has no marked versions.
type MarkedGraph interface {
	Graph
	// Marked reports whether version o, originated by this node, was
	// ingested with fingerprint markup.
	Marked(ctx context.Context, o *detente.ObjectVersion) bool
}

// Request asks whether Object may be released to Partner at Now.
type Request struct {
	// Self is this node's key; an Originator written as this key's text
	// form counts as detente.OriginSelf.
	Self detente.PublicKey
	// Partner is the name of the partner the object would go to.
	Partner string
	// Now is the time of the decision; agreements and consents are judged
	// at Now.
	Now time.Time
	// Object is the version to release. It must not be nil.
	Object *detente.ObjectVersion
	// DefaultTLP is the level assumed for an object with no TLP marking;
	// zero means DefaultTLP.
	DefaultTLP detente.TLP
	// Held, when not "", is a reciprocity hold on the partner, in words:
	// whatever the other rules decide, the release is denied with
	// detente.ReasonReciprocityHeld (internal/ledger).
	Held string
}

// IngressRequest asks whether Object, received from partner From at Now,
// is acceptable under this node's own agreement(s) with From.
type IngressRequest struct {
	// Self is this node's key; a releasable-to caveat naming its text form
	// names this node.
	Self detente.PublicKey
	// SelfName is this node's name; a releasable-to caveat naming it names
	// this node.
	SelfName string
	// From is the name of the partner the object came from.
	From string
	// Now is the time of the decision.
	Now time.Time
	// Object is the version received. It must not be nil.
	Object *detente.ObjectVersion
}

// agreementsInForce returns the agreements covering partner that are in
// force at now, ordered by id, and, when there are none, the reasons why.
func agreementsInForce(ctx context.Context, g Graph, partner string, now time.Time) ([]*detente.Agreement, []detente.Reason) {
	all := g.Agreements(ctx, partner)
	var in []*detente.Agreement
	var why []detente.Reason
	for _, a := range all {
		if a == nil || !a.Covers(partner) {
			continue
		}
		switch {
		case a.InForce(now):
			in = append(in, a)
		case a.State != detente.AgreementActive:
			d := "agreement " + a.ID + " is " + string(a.State)
			if a.StateReason != "" {
				d += ": " + a.StateReason
			}
			why = append(why, detente.Reason{Code: detente.ReasonAgreementInactive, Detail: d, Deny: true})
		default:
			why = append(why, detente.Reason{
				Code: detente.ReasonOutsideWindow, Deny: true,
				Detail: "agreement " + a.ID + " is in force from " + a.From.UTC().Format(time.RFC3339) +
					" until " + a.Until.UTC().Format(time.RFC3339),
			})
		}
	}
	if len(in) > 0 {
		slices.SortStableFunc(in, func(x, y *detente.Agreement) int {
			return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(x.Version, y.Version))
		})
		return in, nil
	}
	if len(why) == 0 {
		why = append(why, detente.Reason{
			Code: detente.ReasonNoAgreement, Deny: true,
			Detail: "no agreement covers partner " + partner,
		})
	}
	return nil, why
}

// partnerReasons checks that the partner called name is known and active.
// It returns the partner (nil when unknown) and whether a reason denies.
func partnerReasons(ctx context.Context, g Graph, name string, out []detente.Reason) (*detente.Partner, []detente.Reason, bool) {
	p, ok := g.Partner(ctx, name)
	if !ok || p == nil {
		return nil, append(out, detente.Reason{
			Code: detente.ReasonPartnerUnknown, Deny: true,
			Detail: "no partner is called " + strconv.Quote(name),
		}), true
	}
	if p.State != detente.PartnerActive {
		d := "partner " + name + " is " + string(p.State)
		if p.StateReason != "" {
			d += ": " + p.StateReason
		}
		return p, append(out, detente.Reason{Code: detente.ReasonPartnerSuspended, Detail: d, Deny: true}), true
	}
	return p, out, false
}

// allowedBy is the allowing reason naming the agreement that decided.
func allowedBy(a *detente.Agreement) detente.Reason {
	return detente.Reason{
		Code:   detente.ReasonAllowed,
		Detail: "allowed under agreement " + a.ID + " version " + strconv.Itoa(a.Version),
	}
}

// appendUnique appends the reasons of add to out that out does not hold yet.
func appendUnique(out []detente.Reason, add ...detente.Reason) []detente.Reason {
	for _, r := range add {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// noObject is the decision on a request that names no object.
func noObject(partner string) detente.Decision {
	return detente.Decision{
		Partner: partner,
		Reasons: []detente.Reason{{
			Code: detente.ReasonRefNotHeld, Deny: true,
			Detail: "the request names no object",
		}},
	}
}
