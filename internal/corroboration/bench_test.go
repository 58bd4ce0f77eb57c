package corroboration

import (
	"fmt"
	"testing"
	"time"

	"detente"
)

// BenchmarkIndexAdd100k indexes 100,000 indicators as the ingest hook
// does (properties already parsed): what the index adds to an ingest of
// the 100k bundle of internal/node's BenchmarkIngest100k, alone.
func BenchmarkIndexAdd100k(b *testing.B) {
	const size = 100_000
	vs := make([]*detente.ObjectVersion, size)
	fs := make([]map[string]any, size)
	t0 := time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)
	for i := range vs {
		vs[i] = &detente.ObjectVersion{Seq: int64(i + 1), ID: fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", 0, i),
			Type: "indicator", Created: t0, Modified: t0, Signer: key(1), Originator: "self"}
		fs[i] = map[string]any{"pattern_type": "stix", "pattern": fmt.Sprintf("[user-account:account_login = 'h%d']", i)}
	}
	for b.Loop() {
		ix := NewIndex()
		for i, v := range vs {
			ix.Add(v, fs[i])
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "objects/s")
}
