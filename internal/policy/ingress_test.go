package policy

import (
	"context"
	"slices"
	"testing"
	"time"

	"detente"
)

func TestIngress(t *testing.T) {
	const mRelHomeKey = "marking-definition--00000000-0000-4000-8000-0000000000a1"
	tests := []struct {
		name    string
		setup   func(w *world) *detente.ObjectVersion
		from    string
		now     time.Time // zero for now
		allowed bool
		codes   []string
		object  string // when set, the reasons must be about this object
	}{
		{name: "amber from bravo", setup: own(ind1, from("bravo")), from: "bravo",
			allowed: true, codes: []string{allowed}},
		{name: "unknown sender", setup: own(ind1), from: "zulu",
			codes: []string{detente.ReasonPartnerUnknown}},
		{name: "suspended sender", setup: own(ind1), from: "echo",
			codes: []string{detente.ReasonPartnerSuspended}},
		{name: "no agreement", setup: own(ind1), from: "foxtrot",
			codes: []string{detente.ReasonNoAgreement}},
		{name: "agreement ended", setup: func(w *world) *detente.ObjectVersion {
			w.g.agreements[0].State = detente.AgreementEnded
			return own(ind1)(w)
		}, from: "bravo", codes: []string{detente.ReasonAgreementInactive}},
		{name: "outside the window", setup: own(ind1), from: "bravo", now: yearTo.Add(time.Hour),
			codes: []string{detente.ReasonOutsideWindow}},
		{name: "type out of scope", setup: own(camp1), from: "bravo",
			codes: []string{scopeR}, object: camp1},
		{name: "marking-definition exempt from scope", setup: func(w *world) *detente.ObjectVersion {
			return w.g.objects[mStatement]
		}, from: "bravo", allowed: true, codes: []string{allowed}},
		{name: "red above amber", setup: own(ind1, marks(red)), from: "bravo",
			codes: []string{ceilingR}, object: ind1},
		{name: "amber above green", setup: own(ind1), from: "charlie", codes: []string{ceilingR}},
		{name: "held custom red", setup: own(ind1, marks(mCustomRed)), from: "bravo", codes: []string{ceilingR}},
		{name: "granular red above amber", setup: own(ind1, gran(red, "description")), from: "bravo",
			codes: []string{ceilingR}},
		{name: "granular green within amber", setup: own(ind1, gran(green, "description")), from: "bravo",
			allowed: true, codes: []string{allowed}},
		{name: "no TLP is not judged at ingress", setup: func(w *world) *detente.ObjectVersion {
			return w.obj(ind1)
		}, from: "charlie", allowed: true, codes: []string{allowed}},
		{name: "purpose matches", setup: own(ind1, marks(mPurposeCT)), from: "bravo",
			allowed: true, codes: []string{allowed}},
		{name: "purpose mismatch", setup: own(ind1, marks(mPurposeOther)), from: "bravo",
			codes: []string{detente.ReasonPurposeMismatch}},
		{name: "granular purpose mismatch", setup: own(ind1, gran(mPurposeOther, "name")), from: "bravo",
			codes: []string{detente.ReasonPurposeMismatch}},
		{name: "releasable-to names us", setup: own(ind1, marks(mRelHome)), from: "bravo",
			allowed: true, codes: []string{allowed}},
		{name: "releasable-to names our key", setup: func(w *world) *detente.ObjectVersion {
			w.g.markings[mRelHomeKey] = &detente.Marking{ID: mRelHomeKey, Caveat: detente.CaveatReleasableTo,
				To: []string{"bravo", pub("home").String()}}
			return own(ind1, marks(mRelHomeKey))(w)
		}, from: "bravo", allowed: true, codes: []string{allowed}},
		{name: "releasable-to excludes us", setup: own(ind1, marks(mRelBravo)), from: "bravo",
			codes: []string{detente.ReasonNotReleasableTo}},
		{name: "granular releasable-to excludes us", setup: own(ind1, gran(mRelBravo, "name")), from: "bravo",
			codes: []string{detente.ReasonNotReleasableTo}},
		{name: "unknown marking accepted", setup: own(ind1, marks(mUnknown)), from: "bravo",
			allowed: true, codes: []string{allowed, detente.ReasonMarkingUnknown}},
		{name: "unsupported marking accepted", setup: own(ind1, marks(mWeird, mOddCaveat)), from: "bravo",
			allowed: true, codes: []string{allowed, detente.ReasonMarkingUnsupported}},
		{name: "third-party-rule caveat accepted", setup: own(ind1, marks(mTPR)), from: "bravo",
			allowed: true, codes: []string{allowed}},
		{name: "every reason reported", setup: own(camp1, marks(red, mPurposeOther)), from: "bravo",
			codes: []string{ceilingR, detente.ReasonPurposeMismatch, scopeR}},
		{name: "second agreement accepts", setup: func(w *world) *detente.ObjectVersion {
			wide := *w.g.agreements[1]
			wide.ID, wide.TLPCeiling = "agreement--charlie-wide", detente.TLPAmber
			w.g.agreements = append(w.g.agreements, &wide)
			return own(ind1)(w)
		}, from: "charlie", allowed: true, codes: []string{allowed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			o := tt.setup(w)
			at := now
			if !tt.now.IsZero() {
				at = tt.now
			}
			d := Ingress(context.Background(), w.g, IngressRequest{Self: pub("home"), SelfName: "home", From: tt.from, Now: at, Object: o})
			if d.Allowed != tt.allowed {
				t.Errorf("Allowed = %v, want %v; reasons %+v", d.Allowed, tt.allowed, d.Reasons)
			}
			if got := codes(d); !slices.Equal(got, tt.codes) {
				t.Errorf("codes = %v, want %v; reasons %+v", got, tt.codes, d.Reasons)
			}
			checkConsistent(t, d)
			if tt.object != "" {
				for _, r := range d.Reasons {
					if r.Deny && r.Object != tt.object {
						t.Errorf("reason %+v is not about %s", r, tt.object)
					}
				}
			}
		})
	}
	if d := Ingress(context.Background(), newWorld().g, IngressRequest{From: "bravo", Now: now}); d.Allowed {
		t.Errorf("Ingress(context.Background(), nil object) allowed")
	}
}
