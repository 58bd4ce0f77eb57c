//go:build unix

package psi

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user and system CPU time so far, all
// threads included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const (
	benchWatchlist = 1_000_000
	benchQuery     = 1000
)

var (
	bigOnce sync.Once
	bigKey  *OwnerKey
	bigList *Watchlist
)

// bigWatchlist returns a cached encoded watchlist of a million entries
// holding the keys of randomSelectors(0, benchQuery). The other entries
// are random 64-bit values: VOPRF outputs truncated through SHA-256 are
// indistinguishable from them, and the querier's cost does not depend on
// how they were made (EncodeWatchlist's own cost is BenchmarkEncodeWatchlist).
func bigWatchlist(b *testing.B) (*OwnerKey, *Watchlist) {
	bigOnce.Do(func() {
		key, err := NewOwnerKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		w, err := EncodeWatchlist(key, "2026-11", randomSelectors(0, benchQuery))
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 8*(benchWatchlist-w.Len()))
		if _, err := rand.Read(buf); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(buf); i += 8 {
			w.entries = append(w.entries, binary.BigEndian.Uint64(buf[i:]))
		}
		slices.Sort(w.entries)
		w.entries = slices.Compact(w.entries)
		bigKey, bigList = key, w
	})
	return bigKey, bigList
}

// BenchmarkQuery runs a query of 1,000 selectors (padded to 1,024 keys)
// against a cached encoded watchlist of 1,000,000 entries and reports the
// CPU time of each side and the encoded size.
func BenchmarkQuery(b *testing.B) {
	key, w := bigWatchlist(b)
	enc, _ := w.MarshalBinary()
	w, err := ParseWatchlist(enc)
	if err != nil {
		b.Fatal(err)
	}
	owner, _ := NewOwner(key, w.Epoch)
	sels := randomSelectors(benchQuery/2, benchQuery) // half of them listed
	var querierCPU, ownerCPU time.Duration
	for b.Loop() {
		t0 := cpuTime()
		q, req, err := NewQuery(w, sels, QueryOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := cpuTime()
		resp, err := owner.Evaluate(req)
		if err != nil {
			b.Fatal(err)
		}
		t2 := cpuTime()
		hits, err := q.Finalize(resp)
		if err != nil {
			b.Fatal(err)
		}
		t3 := cpuTime()
		if len(hits) != benchQuery/2 {
			b.Fatalf("%d hits, want %d", len(hits), benchQuery/2)
		}
		querierCPU += t1 - t0 + t3 - t2
		ownerCPU += t2 - t1
	}
	n := float64(b.N)
	b.ReportMetric(float64(querierCPU.Milliseconds())/n, "querier-cpu-ms/op")
	b.ReportMetric(float64(ownerCPU.Milliseconds())/n, "owner-cpu-ms/op")
	b.ReportMetric(float64((querierCPU+ownerCPU).Milliseconds())/n, "total-cpu-ms/op")
	b.ReportMetric(float64(len(enc))/1e6, "encoded-MB")
}

// BenchmarkEncodeWatchlist encodes 10,000 selectors.
func BenchmarkEncodeWatchlist(b *testing.B) {
	key, _ := NewOwnerKey(rand.Reader)
	sels := randomSelectors(0, 10000)
	for b.Loop() {
		if _, err := EncodeWatchlist(key, "e", sels); err != nil {
			b.Fatal(err)
		}
	}
}

// bulkBenchInputs returns two sets of n raw inputs sharing the first
// common, the same on every call.
func bulkBenchInputs(n, common int) (x, y [][]byte) {
	for i := range n {
		x = append(x, []byte(fmt.Sprintf("detente/psi/bench/%d", i)))
		j := i
		if i >= common {
			j = i + n
		}
		y = append(y, []byte(fmt.Sprintf("detente/psi/bench/%d", j)))
	}
	return x, y
}

// BenchmarkBulk runs a whole 65,536 × 65,536 intersection, both parties
// in this process, the messages through their binary framing, and reports
// wall time, CPU time and bytes per element pair.
func BenchmarkBulk(b *testing.B) {
	const n, common = 65536, 20000
	xs, ys := bulkBenchInputs(n, common)
	X, Y := NewRawSet(xs), NewRawSet(ys)
	var bytesSent int
	start := cpuTime()
	for b.Loop() {
		p := BulkParams{Session: NewSession(), Mode: ModeIntersection, Learner: LearnerInitiator}
		bi, hello, err := NewBulkInitiator(p, X, BulkOptions{})
		if err != nil {
			b.Fatal(err)
		}
		hb, _ := hello.MarshalBinary()
		var h BulkHello
		if err := h.UnmarshalBinary(hb); err != nil {
			b.Fatal(err)
		}
		_, reply, err := RespondBulk(p, Y, &h, BulkOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rb, _ := reply.MarshalBinary()
		var r BulkReply
		if err := r.UnmarshalBinary(rb); err != nil {
			b.Fatal(err)
		}
		res, _, err := bi.HandleReply(&r)
		if err != nil {
			b.Fatal(err)
		}
		if res.Count != common || len(res.Matches) != common {
			b.Fatalf("count %d, want %d", res.Count, common)
		}
		bytesSent = len(hb) + len(rb)
	}
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(bytesSent)/n, "bytes/pair")
}
