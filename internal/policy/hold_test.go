package policy

import (
	"context"
	"testing"

	"detente"
)

// TestEgressHeld: a reciprocity hold denies what the rules allow, with its
// words, and carries nothing; without a hold the same release goes.
func TestEgressHeld(t *testing.T) {
	w := newWorld()
	o := w.obj(ind1, marks(green))
	free := Egress(context.Background(), w.g, Request{Self: pub("home"), Partner: "bravo", Now: now, Object: o})
	if !free.Allowed {
		t.Fatalf("without a hold: %+v", free)
	}
	held := Egress(context.Background(), w.g, Request{Self: pub("home"), Partner: "bravo", Now: now, Object: o, Held: "bravo gives back too little"})
	if held.Allowed || held.Closure != nil {
		t.Fatalf("held: allowed %v closure %v", held.Allowed, held.Closure)
	}
	r, ok := reasonFor(held, detente.ReasonReciprocityHeld, "")
	if !ok || !r.Deny || r.Detail != "bravo gives back too little" {
		t.Errorf("reasons %+v", held.Reasons)
	}
}
