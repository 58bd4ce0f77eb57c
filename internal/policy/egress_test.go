package policy

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

const (
	allowed   = detente.ReasonAllowed
	ceilingR  = detente.ReasonAboveCeiling
	closureR  = detente.ReasonClosure
	consentR  = detente.ReasonConsent
	redactedR = detente.ReasonPropertyRedacted
	notHeldR  = detente.ReasonRefNotHeld
	tprR      = detente.ReasonThirdPartyRule
	scopeR    = detente.ReasonTypeOutOfScope
	unknownR  = detente.ReasonOriginatorUnknown
)

// egressCase is one row of TestEgress.
type egressCase struct {
	name    string
	setup   func(w *world) *detente.ObjectVersion
	partner string
	req     func(r *Request) // optional changes to the request
	allowed bool
	codes   []string                               // distinct reason codes, sorted
	check   func(t *testing.T, d detente.Decision) // optional further checks
}

// wantClosure checks the decision's closure.
func wantClosure(ids ...string) func(*testing.T, detente.Decision) {
	return func(t *testing.T, d detente.Decision) {
		t.Helper()
		if !slices.Equal(d.Closure, ids) {
			t.Errorf("Closure = %v, want %v", d.Closure, ids)
		}
	}
}

// wantRedacted checks the decision's closure and redactions.
func wantRedacted(closure []string, redacted ...string) func(*testing.T, detente.Decision) {
	return func(t *testing.T, d detente.Decision) {
		t.Helper()
		wantClosure(closure...)(t, d)
		if !slices.Equal(d.Redacted, redacted) {
			t.Errorf("Redacted = %v, want %v", d.Redacted, redacted)
		}
	}
}

// wantReason checks that a reason with code is about object and that its
// detail contains each of parts.
func wantReason(code, object string, parts ...string) func(*testing.T, detente.Decision) {
	return func(t *testing.T, d detente.Decision) {
		t.Helper()
		r, ok := reasonFor(d, code, object)
		if !ok {
			t.Fatalf("no %s reason about %q in %+v", code, object, d.Reasons)
		}
		for _, p := range parts {
			if !strings.Contains(r.Detail, p) {
				t.Errorf("%s detail %q does not contain %q", code, r.Detail, p)
			}
		}
	}
}

func both(fs ...func(*testing.T, detente.Decision)) func(*testing.T, detente.Decision) {
	return func(t *testing.T, d detente.Decision) {
		t.Helper()
		for _, f := range fs {
			f(t, d)
		}
	}
}

const (
	ind1   = "indicator--00000000-0000-4000-8000-000000000001"
	ind2   = "indicator--00000000-0000-4000-8000-000000000002"
	ind3   = "indicator--00000000-0000-4000-8000-000000000003"
	rep1   = "report--00000000-0000-4000-8000-000000000001"
	rep2   = "report--00000000-0000-4000-8000-000000000002"
	ident1 = "identity--00000000-0000-4000-8000-000000000001"
	mal1   = "malware--00000000-0000-4000-8000-000000000001"
	camp1  = "campaign--00000000-0000-4000-8000-000000000001"
	ghost  = "indicator--00000000-0000-4000-8000-0000000000ff"
)

// own returns an own indicator at amber.
func own(id string, opts ...opt) func(w *world) *detente.ObjectVersion {
	return func(w *world) *detente.ObjectVersion {
		return w.obj(id, append([]opt{marks(amber)}, opts...)...)
	}
}

func TestEgress(t *testing.T) {
	tests := []egressCase{
		// Rule 1: the partner.
		{name: "own amber indicator to bravo", setup: own(ind1), partner: "bravo",
			allowed: true, codes: []string{allowed}, check: both(wantClosure(ind1),
				wantReason(allowed, "", "agreement--bravo version 1"))},
		{name: "unknown partner", setup: own(ind1), partner: "zulu",
			codes: []string{detente.ReasonPartnerUnknown}},
		{name: "suspended partner", setup: own(ind1), partner: "echo",
			codes: []string{detente.ReasonPartnerSuspended}},

		// Rule 2: the agreement.
		{name: "no agreement", setup: own(ind1), partner: "foxtrot",
			codes: []string{detente.ReasonNoAgreement}},
		{name: "agreement suspended", setup: func(w *world) *detente.ObjectVersion {
			w.g.agreements[0].State = detente.AgreementSuspended
			return own(ind1)(w)
		}, partner: "bravo", codes: []string{detente.ReasonAgreementInactive}},
		{name: "agreement ended", setup: func(w *world) *detente.ObjectVersion {
			w.g.agreements[0].State = detente.AgreementEnded
			return own(ind1)(w)
		}, partner: "bravo", codes: []string{detente.ReasonAgreementInactive}},
		{name: "before the window", setup: own(ind1), partner: "bravo",
			req:   func(r *Request) { r.Now = yearFrom.Add(-time.Second) },
			codes: []string{detente.ReasonOutsideWindow}},
		{name: "at until, outside the window", setup: own(ind1), partner: "bravo",
			req:   func(r *Request) { r.Now = yearTo },
			codes: []string{detente.ReasonOutsideWindow}},
		{name: "at from, inside the window", setup: own(ind1), partner: "bravo",
			req:     func(r *Request) { r.Now = yearFrom },
			allowed: true, codes: []string{allowed}},
		{name: "ended agreement beside one in force", setup: func(w *world) *detente.ObjectVersion {
			old := *w.g.agreements[0]
			old.ID, old.State = "agreement--bravo-old", detente.AgreementEnded
			w.g.agreements = append(w.g.agreements, &old)
			return own(ind1)(w)
		}, partner: "bravo", allowed: true, codes: []string{allowed}},
		{name: "two in force, the second by id allows", setup: func(w *world) *detente.ObjectVersion {
			low := *w.g.agreements[0]
			low.ID, low.TLPCeiling = "agreement--a-green", detente.TLPGreen
			high := *w.g.agreements[0]
			high.ID, high.Version = "agreement--b-amber", 3
			w.g.agreements = append(w.g.agreements[1:], &low, &high)
			return own(ind1)(w)
		}, partner: "bravo", allowed: true, codes: []string{allowed},
			check: wantReason(allowed, "", "agreement--b-amber version 3")},
		{name: "two in force, both deny, both reported", setup: func(w *world) *detente.ObjectVersion {
			low := *w.g.agreements[0]
			low.ID, low.TLPCeiling = "agreement--a-green", detente.TLPGreen
			narrow := *w.g.agreements[0]
			narrow.ID, narrow.Types = "agreement--b-narrow", []string{"report"}
			w.g.agreements = append(w.g.agreements[1:], &low, &narrow)
			return own(ind1)(w)
		}, partner: "bravo", codes: []string{ceilingR, scopeR},
			check: both(wantReason(ceilingR, ind1, "agreement--a-green"),
				wantReason(scopeR, ind1, "agreement--b-narrow"))},

		// Rule 3: type scope.
		{name: "type out of scope", setup: own(camp1), partner: "bravo",
			codes: []string{scopeR}},
		{name: "marking-definition as root is subject to scope", setup: func(w *world) *detente.ObjectVersion {
			return w.g.objects[mStatement]
		}, partner: "bravo", codes: []string{scopeR}},
		{name: "releasable-to definition as root is never sent", setup: func(w *world) *detente.ObjectVersion {
			w.g.agreements[0].Types = append(w.g.agreements[0].Types, markingDefinitionType)
			return w.g.objects[mRelBravo]
		}, partner: "bravo", codes: []string{detente.ReasonNotReleasableTo}},

		// Rule 4: markings.
		{name: "red above amber ceiling", setup: own(ind1, marks(red)), partner: "bravo",
			codes: []string{ceilingR}, check: wantReason(ceilingR, ind1, "tlp:red", "tlp:amber")},
		{name: "red alone", setup: func(w *world) *detente.ObjectVersion { return w.obj(ind1, marks(red)) },
			partner: "bravo", codes: []string{ceilingR}},
		{name: "tlp 1.0 red", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(detente.MarkingTLP1Red))
		}, partner: "bravo", codes: []string{ceilingR}},
		{name: "amber+strict above amber", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(amberStrict))
		}, partner: "bravo", codes: []string{ceilingR}},
		{name: "amber above green ceiling", setup: own(ind1), partner: "charlie",
			codes: []string{ceilingR}},
		{name: "green at green ceiling", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green))
		}, partner: "charlie", allowed: true, codes: []string{allowed}},
		{name: "clear and green together are AND", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(clearTLP, green))
		}, partner: "charlie", allowed: true, codes: []string{allowed}},
		{name: "green and amber together are AND", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green, amber))
		}, partner: "charlie", codes: []string{ceilingR}},
		{name: "held custom red marking", setup: own(ind1, marks(mCustomRed)), partner: "bravo",
			codes: []string{ceilingR}},
		{name: "unknown marking fails closed", setup: own(ind1, marks(mUnknown)), partner: "bravo",
			codes: []string{detente.ReasonMarkingUnknown}},
		{name: "held marking of no kind fails closed", setup: own(ind1, marks(mWeird)), partner: "bravo",
			codes: []string{detente.ReasonMarkingUnsupported}},
		{name: "unknown caveat fails closed", setup: own(ind1, marks(mOddCaveat)), partner: "bravo",
			codes: []string{detente.ReasonMarkingUnsupported}},
		{name: "statement travels", setup: own(ind1, marks(mStatement)), partner: "bravo",
			allowed: true, codes: []string{allowed}, check: wantClosure(ind1, mStatement)},
		{name: "releasable-to names partner, definition not sent", setup: own(ind1, marks(mRelBravo)),
			partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(ind1)},
		{name: "releasable-to excludes partner", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green, mRelBravo))
		}, partner: "charlie", codes: []string{detente.ReasonNotReleasableTo}},
		{name: "releasable-to names partner by key", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green, mRelCharlieK))
		}, partner: "charlie", allowed: true, codes: []string{allowed}, check: wantClosure(ind1)},
		{name: "releasable-to by key excludes others", setup: own(ind1, marks(mRelCharlieK)),
			partner: "bravo", codes: []string{detente.ReasonNotReleasableTo}},
		{name: "purpose matches", setup: own(ind1, marks(mPurposeCT)), partner: "bravo",
			allowed: true, codes: []string{allowed}, check: wantClosure(ind1, mPurposeCT)},
		{name: "purpose mismatch", setup: own(ind1, marks(mPurposeOther)), partner: "bravo",
			codes: []string{detente.ReasonPurposeMismatch}},
		{name: "no TLP is amber: allowed at amber", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1)
		}, partner: "bravo", allowed: true, codes: []string{allowed}},
		{name: "no TLP is amber: denied at green", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1)
		}, partner: "charlie", codes: []string{ceilingR}, check: wantReason(ceilingR, ind1, "no TLP")},
		{name: "no TLP with a caveat only is still amber", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(mPurposeCT))
		}, partner: "charlie", codes: []string{ceilingR}},
		{name: "default TLP overridden to green", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1)
		}, partner: "charlie", req: func(r *Request) { r.DefaultTLP = detente.TLPGreen },
			allowed: true, codes: []string{allowed}},
		{name: "default TLP overridden to red", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1)
		}, partner: "bravo", req: func(r *Request) { r.DefaultTLP = detente.TLPRed },
			codes: []string{ceilingR}},

		// Rule 5: originator control.
		{name: "own object with third-party-rule caveat", setup: own(ind1, marks(mTPR)), partner: "bravo",
			allowed: true, codes: []string{allowed}, check: wantClosure(ind1, mTPR)},
		{name: "permitted originator, no caveat, no consent needed", setup: own(ind1, from("charlie")),
			partner: "bravo", allowed: true, codes: []string{allowed}},
		{name: "permitted originator with caveat needs consent", setup: own(ind1, from("charlie"), marks(mTPR)),
			partner: "bravo", codes: []string{tprR}},
		{name: "permitted originator with caveat and consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("charlie", "charlie", "bravo", ind1, detente.ConsentObject)
			return own(ind1, from("charlie"), marks(mTPR))(w)
		}, partner: "bravo", allowed: true, codes: []string{allowed, consentR}},
		{name: "third-party-rule originator without consent", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "third-party-rule originator with consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", allowed: true, codes: []string{allowed, consentR},
			check: wantReason(consentR, ind1, "consent--bravo-charlie-")},
		{name: "consent with a bad signature", setup: func(w *world) *detente.ObjectVersion {
			w.consent("rogue", "bravo", "charlie", ind1, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "consent signed by another partner", setup: func(w *world) *detente.ObjectVersion {
			w.consent("delta", "delta", "charlie", ind1, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "consent for another recipient", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "delta", ind1, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "consent for another object", setup: func(w *world) *detente.ObjectVersion {
			w.g.allConsents = true
			w.consent("bravo", "bravo", "charlie", ind2, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "expired consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject,
				func(c *detente.Consent) { c.Until = now })
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "consent not yet issued", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject,
				func(c *detente.Consent) { c.Issued = now.Add(time.Minute) })
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "revoked consent", setup: func(w *world) *detente.ObjectVersion {
			c := w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject)
			c.Revoked = true
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "report consent covers a listed object", setup: func(w *world) *detente.ObjectVersion {
			w.obj(rep1, marks(green), from("bravo"), refs("object_refs", ind2, ind1))
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentReport)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", allowed: true, codes: []string{allowed, consentR}},
		{name: "report consent does not cover an unlisted object", setup: func(w *world) *detente.ObjectVersion {
			w.g.allConsents = true
			w.obj(rep1, marks(green), from("bravo"), refs("object_refs", ind2))
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentReport)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "report consent ignores refs other than object_refs", setup: func(w *world) *detente.ObjectVersion {
			w.g.allConsents = true
			w.obj(rep1, marks(green), from("bravo"), refs("created_by_ref", ind1))
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentReport)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "report consent predates the report version", setup: func(w *world) *detente.ObjectVersion {
			w.obj(rep1, marks(green), from("bravo"), refs("object_refs", ind1), modified(now.Add(-time.Minute)))
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentReport)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "report consent on a report not held", setup: func(w *world) *detente.ObjectVersion {
			w.g.allConsents = true
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentReport)
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "object consent does not cover report members", setup: func(w *world) *detente.ObjectVersion {
			w.obj(rep1, marks(green), from("bravo"), refs("object_refs", ind1))
			w.consent("bravo", "bravo", "charlie", rep1, detente.ConsentObject)
			w.g.allConsents = true
			return w.obj(ind1, marks(green), from("bravo"))
		}, partner: "charlie", codes: []string{tprR}},
		{name: "onward none forbids even with consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("delta", "delta", "bravo", ind1, detente.ConsentObject)
			return own(ind1, from("delta"))(w)
		}, partner: "bravo", codes: []string{detente.ReasonOnwardForbidden}},
		{name: "the strictest agreement with the originator counts", setup: func(w *world) *detente.ObjectVersion {
			strict := *w.g.agreements[1]
			strict.ID, strict.OnwardSharing, strict.State = "agreement--charlie-old", detente.OnwardNone, detente.AgreementEnded
			w.g.agreements = append(w.g.agreements, &strict)
			return own(ind1, from("charlie"))(w)
		}, partner: "bravo", codes: []string{detente.ReasonOnwardForbidden}},
		{name: "originator with no agreement needs consent", setup: own(ind1, from("foxtrot")),
			partner: "bravo", codes: []string{tprR}},
		{name: "originator empty", setup: own(ind1, from("")), partner: "bravo",
			codes: []string{unknownR}},
		{name: "originator not a partner", setup: own(ind1, from("zulu")), partner: "bravo",
			codes: []string{unknownR}},
		{name: "originator key not a partner's", setup: own(ind1, from(pub("rogue").String())),
			partner: "bravo", codes: []string{unknownR}},
		{name: "originator key text that does not parse", setup: own(ind1, from(detente.NodeKeyPrefix+"!!")),
			partner: "bravo", codes: []string{unknownR}},
		{name: "originator key is our own", setup: own(ind1, from(pub("home").String())),
			partner: "bravo", allowed: true, codes: []string{allowed}},
		{name: "originator key is a partner's", setup: own(ind1, from(pub("delta").String())),
			partner: "bravo", codes: []string{detente.ReasonOnwardForbidden}},
		{name: "signer is not the originator's pinned key", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject)
			return w.obj(ind1, marks(green), from("bravo"), signer("rogue"))
		}, partner: "charlie", codes: []string{unknownR}},
		{name: "back to originator", setup: own(ind1, from("bravo")), partner: "bravo",
			allowed: true, codes: []string{allowed, detente.ReasonBackToOriginator}},
		{name: "back to originator with caveat", setup: own(ind1, from("delta"), marks(mTPR)), partner: "delta",
			allowed: true, codes: []string{allowed, detente.ReasonBackToOriginator}},
		{name: "back to originator still within the ceiling", setup: own(ind1, from("bravo"), marks(red)),
			partner: "bravo", codes: []string{ceilingR, detente.ReasonBackToOriginator}},

		// Rule 6: quarantine.
		{name: "quarantined", setup: own(ind1, quarantine("bad signature")), partner: "bravo",
			codes: []string{detente.ReasonQuarantined}},
		{name: "quarantined to unknown partner", setup: own(ind1, quarantine("bad signature")), partner: "zulu",
			codes: []string{detente.ReasonPartnerUnknown, detente.ReasonQuarantined}},

		// Rule 7: closure.
		{name: "red object via object_refs", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(red))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1))
		}, partner: "bravo", codes: []string{closureR},
			check: wantReason(closureR, ind1, "object_refs of "+rep1, ceilingR)},
		{name: "red identity via created_by_ref", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ident1, marks(red))
			return w.obj(ind1, marks(green), refs("created_by_ref", ident1))
		}, partner: "charlie", codes: []string{closureR}, check: wantReason(closureR, ident1)},
		{name: "deep chain names the deepest offender", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind3, marks(red))
			w.obj(ind2, marks(amber), refs("indicates_ref", ind3))
			w.obj(ind1, marks(amber), refs("related_ref", ind2))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1))
		}, partner: "bravo", codes: []string{closureR}, check: wantReason(closureR, ind3)},
		{name: "cycle", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber), refs("x_ref", rep1, ind1))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1, rep1))
		}, partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(rep1, ind1)},
		{name: "closure sorted after the object", setup: func(w *world) *detente.ObjectVersion {
			w.obj(mal1, marks(amber))
			w.obj(ind2, marks(amber))
			w.obj(ident1, marks(amber))
			return w.obj(rep1, marks(amber), refs("created_by_ref", ident1), refs("object_refs", mal1, ind2, mal1))
		}, partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(rep1, ident1, ind2, mal1)},
		{name: "dangling reference", setup: own(rep1, refs("object_refs", ghost)), partner: "bravo",
			allowed: true, codes: []string{allowed, notHeldR},
			check: both(wantClosure(rep1), wantReason(notHeldR, ghost, "object_refs of "+rep1))},
		{name: "reference to a TLP definition", setup: own(rep1, refs("object_refs", red)), partner: "bravo",
			allowed: true, codes: []string{allowed}, check: wantClosure(rep1)},
		{name: "quarantined member is not held", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber), quarantine("bad"))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1))
		}, partner: "bravo", allowed: true, codes: []string{allowed, notHeldR}, check: wantClosure(rep1)},
		{name: "member from a third party without consent", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(green), from("bravo"))
			return w.obj(rep1, marks(green), refs("object_refs", ind1))
		}, partner: "charlie", codes: []string{closureR}, check: wantReason(closureR, ind1, tprR)},
		{name: "member from a third party with consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("bravo", "bravo", "charlie", ind1, detente.ConsentObject)
			w.obj(ind1, marks(green), from("bravo"))
			return w.obj(rep1, marks(green), refs("object_refs", ind1))
		}, partner: "charlie", allowed: true, codes: []string{allowed, consentR},
			check: both(wantClosure(rep1, ind1), wantReason(consentR, ind1))},
		{name: "member out of scope", setup: func(w *world) *detente.ObjectVersion {
			w.obj(camp1, marks(amber))
			return w.obj(rep1, marks(amber), refs("object_refs", camp1))
		}, partner: "bravo", codes: []string{closureR}, check: wantReason(closureR, camp1, scopeR)},
		{name: "member with unknown marking", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber, mUnknown))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1))
		}, partner: "bravo", codes: []string{closureR},
			check: wantReason(closureR, ind1, detente.ReasonMarkingUnknown)},
		{name: "member with no TLP above ceiling", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ident1)
			return w.obj(ind1, marks(green), refs("created_by_ref", ident1))
		}, partner: "charlie", codes: []string{closureR}, check: wantReason(closureR, ident1, "no TLP")},
		{name: "member and root both deny", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(red))
			return w.obj(rep1, marks(red), refs("object_refs", ind1))
		}, partner: "bravo", codes: []string{ceilingR, closureR}},
		{name: "marking definitions of members travel", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber, mPurposeCT, mRelBravo))
			return w.obj(rep1, marks(amber, mStatement), refs("object_refs", ind1))
		}, partner: "bravo", allowed: true, codes: []string{allowed},
			check: wantClosure(rep1, ind1, mPurposeCT, mStatement)},
		{name: "marking definition held only parsed", setup: func(w *world) *detente.ObjectVersion {
			delete(w.g.objects, mStatement)
			return own(ind1, marks(mStatement))(w)
		}, partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(ind1, mStatement)},
		{name: "red marking definition in the closure", setup: func(w *world) *detente.ObjectVersion {
			w.g.objects[mStatement].Markings = []string{red}
			return own(ind1, marks(mStatement))(w)
		}, partner: "bravo", codes: []string{closureR}, check: wantReason(closureR, mStatement, ceilingR)},
		{name: "releasable-to definition via object_refs is dropped", setup: own(rep1, refs("object_refs", mRelCharlieK)),
			partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(rep1)},
		{name: "marking definition via object_refs travels", setup: own(rep1, refs("object_refs", mStatement)),
			partner: "bravo", allowed: true, codes: []string{allowed}, check: wantClosure(rep1, mStatement)},

		// Rule 8: granular markings.
		{name: "granular red redacts the description", setup: own(ind1, gran(red, "description")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: both(wantRedacted([]string{ind1}, ind1+":description"),
				wantReason(redactedR, ind1, "description", ceilingR))},
		{name: "granular red on object_refs drops every member", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(red))
			w.obj(ind2, marks(amber))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1, ind2), gran(red, "object_refs"))
		}, partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantRedacted([]string{rep1}, rep1+":object_refs")},
		{name: "granular red on one list item drops that member", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber))
			w.obj(ind2, marks(red))
			return w.obj(rep1, marks(amber), refs("created_by_ref", ident1), refs("object_refs", ind1, ind2),
				gran(red, "object_refs.[1]"))
		}, partner: "bravo", allowed: true, codes: []string{allowed, redactedR, notHeldR},
			check: wantRedacted([]string{rep1, ind1}, rep1+":object_refs.[1]")},
		{name: "granular red on another list item keeps the red member", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ind1, marks(amber))
			w.obj(ind2, marks(red))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1, ind2), gran(red, "object_refs.[0]"))
		}, partner: "bravo", codes: []string{closureR, redactedR}, check: wantReason(closureR, ind2)},
		{name: "granular on a parent property drops nested refs", setup: func(w *world) *detente.ObjectVersion {
			w.obj(mal1, marks(red))
			return w.obj(ind1, marks(amber), refs("extensions.x-ext.sample_ref", mal1), gran(red, "extensions"))
		}, partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantRedacted([]string{ind1}, ind1+":extensions")},
		{name: "granular on a sibling property keeps refs", setup: func(w *world) *detente.ObjectVersion {
			w.obj(mal1, marks(red))
			return w.obj(ind1, marks(amber), refs("sample_refs", mal1), gran(red, "sample"))
		}, partner: "bravo", codes: []string{closureR, redactedR}},
		{name: "granular red on created_by_ref", setup: func(w *world) *detente.ObjectVersion {
			w.obj(ident1, marks(red))
			return w.obj(ind1, marks(amber), refs("created_by_ref", ident1), gran(red, "created_by_ref"))
		}, partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantRedacted([]string{ind1}, ind1+":created_by_ref")},
		{name: "granular within ceiling keeps and travels", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(amber), gran(green, "name"), gran(mStatement, "description"))
		}, partner: "bravo", allowed: true, codes: []string{allowed},
			check: wantRedacted([]string{ind1, mStatement})},
		{name: "granular unknown marking redacts", setup: own(ind1, gran(mUnknown, "pattern", "name")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: both(wantRedacted([]string{ind1}, ind1+":name", ind1+":pattern"),
				wantReason(redactedR, ind1, detente.ReasonMarkingUnknown))},
		{name: "granular unsupported marking redacts", setup: own(ind1, gran(mWeird, "pattern")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantRedacted([]string{ind1}, ind1+":pattern")},
		{name: "granular releasable-to redacts for others", setup: own(ind1, gran(mRelCharlieK, "description")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantRedacted([]string{ind1}, ind1+":description")},
		{name: "granular releasable-to keeps for the named, not sent", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1, marks(green), gran(mRelCharlieK, "description"))
		}, partner: "charlie", allowed: true, codes: []string{allowed}, check: wantRedacted([]string{ind1})},
		{name: "granular purpose mismatch redacts", setup: own(ind1, gran(mPurposeOther, "description")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: wantReason(redactedR, ind1, detente.ReasonPurposeMismatch)},
		{name: "granular third-party rule redacts without consent", setup: own(ind1, from("charlie"), gran(mTPR, "description")),
			partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: both(wantRedacted([]string{ind1}, ind1+":description"), wantReason(redactedR, ind1, tprR))},
		{name: "granular third-party rule kept with consent", setup: func(w *world) *detente.ObjectVersion {
			w.consent("charlie", "charlie", "bravo", ind1, detente.ConsentObject)
			return own(ind1, from("charlie"), gran(mTPR, "description"))(w)
		}, partner: "bravo", allowed: true, codes: []string{allowed}, check: wantRedacted([]string{ind1, mTPR})},
		{name: "granular third-party rule on own object restricts nothing", setup: own(ind1, gran(mTPR, "description")),
			partner: "bravo", allowed: true, codes: []string{allowed}, check: wantRedacted([]string{ind1, mTPR})},
		{name: "granular redaction in a member", setup: func(w *world) *detente.ObjectVersion {
			w.obj(mal1, marks(red))
			w.obj(ind1, marks(amber), refs("sample_refs", mal1), gran(red, "sample_refs"))
			return w.obj(rep1, marks(amber), refs("object_refs", ind1))
		}, partner: "bravo", allowed: true, codes: []string{allowed, redactedR},
			check: both(wantRedacted([]string{rep1, ind1}, ind1+":sample_refs"), wantReason(redactedR, ind1))},
		{name: "granular does not lift an object marking", setup: own(ind1, marks(red), gran(green, "description")),
			partner: "bravo", codes: []string{ceilingR}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			o := tt.setup(w)
			r := Request{Self: pub("home"), Partner: tt.partner, Now: now, Object: o}
			if tt.req != nil {
				tt.req(&r)
			}
			d := Egress(context.Background(), w.g, r)
			if d.Allowed != tt.allowed {
				t.Errorf("Allowed = %v, want %v; reasons %+v", d.Allowed, tt.allowed, d.Reasons)
			}
			if got := codes(d); !slices.Equal(got, tt.codes) {
				t.Errorf("codes = %v, want %v; reasons %+v", got, tt.codes, d.Reasons)
			}
			if d.Object != o.ID || d.Partner != tt.partner {
				t.Errorf("Object, Partner = %q, %q; want %q, %q", d.Object, d.Partner, o.ID, tt.partner)
			}
			checkConsistent(t, d)
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// TestEgressNoObject checks that a request without an object is denied.
func TestEgressNoObject(t *testing.T) {
	w := newWorld()
	d := Egress(context.Background(), w.g, Request{Partner: "bravo", Now: now})
	if d.Allowed || len(d.Reasons) != 1 || !d.Reasons[0].Deny {
		t.Errorf("Egress(context.Background(), nil object) = %+v, want one denying reason", d)
	}
}

// TestEgressRedLeak is the regression test for the leak the anchors
// suffered: a releasable object referencing a TLP:RED object carried the
// RED object out with it.
func TestEgressRedLeak(t *testing.T) {
	for _, path := range []string{"object_refs", "created_by_ref", "sighting_of_ref", "extensions.x-ext.sample_refs"} {
		t.Run(path, func(t *testing.T) {
			w := newWorld()
			w.obj(ind2, marks(red))
			root := w.obj(rep1, marks(green), refs(path, ind2))
			for _, partner := range []string{"bravo", "charlie"} {
				d := Egress(context.Background(), w.g, Request{Self: pub("home"), Partner: partner, Now: now, Object: root})
				if d.Allowed {
					t.Fatalf("%s: released %v with a TLP:RED reference", partner, d.Closure)
				}
				r, ok := reasonFor(d, closureR, ind2)
				if !ok || !r.Deny || !strings.Contains(r.Detail, ceilingR) {
					t.Errorf("%s: no closure reason naming %s for %s: %+v", partner, ind2, ceilingR, d.Reasons)
				}
			}
			// The same object under a RED ceiling goes, RED member included.
			w.g.agreements[0].TLPCeiling = detente.TLPRed
			d := Egress(context.Background(), w.g, Request{Self: pub("home"), Partner: "bravo", Now: now, Object: root})
			if !d.Allowed || !slices.Equal(d.Closure, []string{rep1, ind2}) {
				t.Errorf("under a red ceiling: allowed %v closure %v, want allowed [%s %s]", d.Allowed, d.Closure, rep1, ind2)
			}
		})
	}
}

func TestRemoves(t *testing.T) {
	tests := []struct {
		sel, path string
		idx       int
		want      bool
	}{
		{"object_refs", "object_refs", 3, true},
		{"object_refs.[3]", "object_refs", 3, true},
		{"object_refs.[3]", "object_refs", 2, false},
		{"object_refs.[x]", "object_refs", 0, false},
		{"object_refs.[]", "object_refs", 0, false},
		{"object_refs.[1].x", "object_refs", 1, false},
		{"extensions", "extensions.x.sample_ref", 0, true},
		{"extensions.x", "extensions.x.sample_ref", 0, true},
		{"ext", "extensions.x.sample_ref", 0, false},
		{"sample_refs", "sample_ref", 0, false},
		{"description", "object_refs", 0, false},
		{"items.[1]", "items.[1].x_ref", 0, true},
		{"items.[1]", "items.[10].x_ref", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.sel+"@"+tt.path, func(t *testing.T) {
			if got := removes(tt.sel, tt.path, tt.idx); got != tt.want {
				t.Errorf("removes(%q, %q, %d) = %v, want %v", tt.sel, tt.path, tt.idx, got, tt.want)
			}
		})
	}
}

// TestEgressConcurrent checks that concurrent decisions, which share the
// pooled working memory, agree with sequential ones.
func TestEgressConcurrent(t *testing.T) {
	w, rep := benchWorld(detente.OriginSelf)
	w.obj(ind1, marks(red))
	bad := w.obj(rep2, marks(amber), refs("object_refs", rep.ID, ind1))
	reqs := []Request{
		{Self: pub("home"), Partner: "bravo", Now: now, Object: rep},
		{Self: pub("home"), Partner: "bravo", Now: now, Object: bad},
		{Self: pub("home"), Partner: "charlie", Now: now, Object: rep},
	}
	want := make([]detente.Decision, len(reqs))
	for i, r := range reqs {
		want[i] = Egress(context.Background(), w.g, r)
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for i := range 50 {
				k := (g + i) % len(reqs)
				if got := Egress(context.Background(), w.g, reqs[k]); !reflect.DeepEqual(got, want[k]) && err == nil {
					err = fmt.Errorf("request %d: got %+v, want %+v", k, got, want[k])
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// FuzzRemoves checks that selector matching never panics, that a selector
// always removes the reference at its own path, and that it never removes
// a reference outside its property.
func FuzzRemoves(f *testing.F) {
	f.Add("object_refs.[2]", "object_refs", 2)
	f.Add("extensions", "extensions.x.sample_ref", 0)
	f.Add("a.[", "a", 0)
	f.Add("a.[]", "a", 0)
	f.Fuzz(func(t *testing.T, sel, path string, idx int) {
		got := removes(sel, path, idx)
		if removes(path, path, idx) != true {
			t.Errorf("removes(%q, %q) = false", path, path)
		}
		if got && !strings.HasPrefix(path, sel) && !strings.HasPrefix(sel, path+".[") {
			t.Errorf("removes(%q, %q, %d) = true outside the selector's property", sel, path, idx)
		}
	})
}

func TestOwnershipOnly(t *testing.T) {
	for q, want := range map[string]bool{
		detente.QuarantineForeign + ": the id belongs to x, this version comes from y":                              true,
		detente.QuarantineSuperseded + ": " + detente.SupersededDetail:                                              true,
		detente.QuarantineImmutable + ": a marking-definition has one version":                                      true,
		detente.QuarantineForeign + ": the id belongs to x, this version comes from y; above-tlp-ceiling: tlp:red":  false,
		detente.ReasonAboveCeiling + ": marking is tlp:red":                                                         false,
		detente.QuarantineForeign + ": another node owns this id (found when id ownership was introduced); purpose": false,
	} {
		if got := ownershipOnly(q); got != want {
			t.Errorf("ownershipOnly(%q) = %v", q, got)
		}
	}
}
