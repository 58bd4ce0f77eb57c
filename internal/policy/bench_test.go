package policy

import (
	"context"
	"fmt"
	"testing"

	"detente"
)

// benchWorld builds a report whose closure is 50 objects: the report, the
// identity that created everything, and 48 members of mixed types, each
// with a TLP marking, a purpose caveat (whose definition travels), a
// releasable-to caveat (whose definition does not) and a created_by_ref to
// the identity. Members are originated by originator.
func benchWorld(originator string) (*world, *detente.ObjectVersion) {
	w := newWorld()
	w.g.agreements[0].TLPCeiling = detente.TLPAmber
	const ident = "identity--b0000000-0000-4000-8000-000000000000"
	w.obj(ident, marks(green), refs("created_by_ref", ident))
	types := []string{"indicator", "malware", "threat-actor", "relationship"}
	var members []string
	for i := range 48 {
		id := fmt.Sprintf("%s--b0000000-0000-4000-8000-%012d", types[i%len(types)], i+1)
		tlp := green
		if i%3 == 0 {
			tlp = amber
		}
		w.obj(id, from(originator), marks(tlp, mPurposeCT, mRelBravo), refs("created_by_ref", ident),
			gran(green, "description"))
		members = append(members, id)
	}
	rep := w.obj("report--b0000000-0000-4000-8000-000000000000", marks(amber), refs("created_by_ref", ident),
		refs("object_refs", members...))
	return w, rep
}

// BenchmarkEgress measures one egress decision over a 50-object closure.
// "own" is the common case; "onward" sends another partner's objects under
// one report-scope consent, whose Ed25519 verification (done once per
// decision) dominates.
func BenchmarkEgress(b *testing.B) {
	b.Run("own", func(b *testing.B) {
		w, rep := benchWorld(detente.OriginSelf)
		benchEgress(b, w, rep, 50)
	})
	b.Run("onward", func(b *testing.B) {
		w, rep := benchWorld("charlie")
		w.g.agreements[1].OnwardSharing = detente.OnwardThirdPartyRule
		w.consent("charlie", "charlie", "bravo", rep.ID, detente.ConsentReport)
		benchEgress(b, w, rep, 50)
	})
}

func benchEgress(b *testing.B, w *world, rep *detente.ObjectVersion, closure int) {
	r := Request{Self: pub("home"), Partner: "bravo", Now: now, Object: rep}
	d := Egress(context.Background(), w.g, r)
	if !d.Allowed || len(d.Closure) != closure+1 { // + the purpose definition
		b.Fatalf("setup: allowed %v, closure of %d: %+v", d.Allowed, len(d.Closure), d.Reasons)
	}
	b.ReportAllocs()
	for b.Loop() {
		Egress(context.Background(), w.g, r)
	}
}

// BenchmarkIngress measures the ingress re-check of one marked object.
func BenchmarkIngress(b *testing.B) {
	w := newWorld()
	o := w.obj(ind1, from("bravo"), marks(amber, mPurposeCT, mRelHome), gran(green, "description"))
	r := IngressRequest{Self: pub("home"), SelfName: "home", From: "bravo", Now: now, Object: o}
	if d := Ingress(context.Background(), w.g, r); !d.Allowed {
		b.Fatalf("setup: %+v", d.Reasons)
	}
	b.ReportAllocs()
	for b.Loop() {
		Ingress(context.Background(), w.g, r)
	}
}
