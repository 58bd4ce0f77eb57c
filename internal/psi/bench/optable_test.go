//go:build optable

// This file needs github.com/optable/match, which the module proxy of the
// workplace where this module was written refused (403): run
//
//	go get github.com/optable/match@latest
//	go test -tags optable -bench . -benchtime 3x
//
// where the proxy serves it.

package psibench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/optable/match/pkg/dhpsi"

	"detente/internal/psi"
)

// runOptable runs optable/match's DH PSI (the receiver learns) over an
// in-memory connection.
func runOptable(tb testing.TB, xs, ys [][]byte) {
	ctx := context.Background()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	feed := func(ids [][]byte) <-chan []byte {
		ch := make(chan []byte)
		go func() {
			defer close(ch)
			for _, id := range ids {
				ch <- id
			}
		}()
		return ch
	}
	errc := make(chan error, 1)
	go func() { errc <- dhpsi.NewSender(a).Send(ctx, int64(len(xs)), feed(xs)) }()
	got, err := dhpsi.NewReceiver(b).Intersect(ctx, int64(len(ys)), feed(ys))
	if err != nil {
		tb.Fatal(err)
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
	if len(got) != Common {
		tb.Fatalf("optable: %d matches, want %d", len(got), Common)
	}
}

// BenchmarkOptableDHPSI is optable/match's DH PSI on the same sets.
func BenchmarkOptableDHPSI(b *testing.B) {
	xs, ys := Sets(Size, Common)
	for b.Loop() {
		runOptable(b, xs, ys)
	}
}

// BenchmarkCompare runs both on the same sets in one run and reports the
// ratio of detente's wall time to optable/match's.
func BenchmarkCompare(b *testing.B) {
	xs, ys := Sets(Size, Common)
	X, Y := psi.NewRawSet(xs), psi.NewRawSet(ys)
	var dt, ot time.Duration
	for b.Loop() {
		t0 := time.Now()
		runDetente(b, X, Y)
		t1 := time.Now()
		runOptable(b, xs, ys)
		dt, ot = dt+t1.Sub(t0), ot+time.Since(t1)
	}
	b.ReportMetric(dt.Seconds()/float64(b.N), "detente-s/op")
	b.ReportMetric(ot.Seconds()/float64(b.N), "optable-s/op")
	b.ReportMetric(dt.Seconds()/ot.Seconds(), "detente/optable")
}
