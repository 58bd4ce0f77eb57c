package psibench

import (
	"testing"

	"detente/internal/psi"
)

// runDetente runs one whole detente bulk intersection (the initiator
// learns) through the binary framing and returns the bytes exchanged.
func runDetente(tb testing.TB, X, Y *psi.Set) int {
	p := psi.BulkParams{Session: psi.NewSession(), Mode: psi.ModeIntersection, Learner: psi.LearnerInitiator}
	bi, hello, err := psi.NewBulkInitiator(p, X, psi.BulkOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	hb, _ := hello.MarshalBinary()
	var h psi.BulkHello
	if err := h.UnmarshalBinary(hb); err != nil {
		tb.Fatal(err)
	}
	_, reply, err := psi.RespondBulk(p, Y, &h, psi.BulkOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	rb, _ := reply.MarshalBinary()
	var r psi.BulkReply
	if err := r.UnmarshalBinary(rb); err != nil {
		tb.Fatal(err)
	}
	res, _, err := bi.HandleReply(&r)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Count != Common {
		tb.Fatalf("detente: %d matches, want %d", res.Count, Common)
	}
	return len(hb) + len(rb)
}

// BenchmarkDetenteBulk is detente's 65,536 × 65,536 DH PSI.
func BenchmarkDetenteBulk(b *testing.B) {
	xs, ys := Sets(Size, Common)
	X, Y := psi.NewRawSet(xs), psi.NewRawSet(ys)
	var sent int
	for b.Loop() {
		sent = runDetente(b, X, Y)
	}
	b.ReportMetric(float64(sent)/Size, "bytes/pair")
}
