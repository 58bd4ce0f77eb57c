package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"detente/internal/node"
)

// genBundle returns an unsigned bundle of n indicators, distinct per round.
func genBundle(n, round int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x",`+
			`"created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"handle %d",`+
			`"pattern":"[user-account:account_login = 'h%d']","pattern_type":"stix","valid_from":"2026-01-10T10:00:00Z",`+
			`"indicator_types":["malicious-activity"],"labels":["propaganda"],`+
			`"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`, round, i, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkIngest100k ingests a 100,000-object bundle into SQLite:
// parsing, validation, canonicalisation, signing, storing and logging.
// Target: at least 5,000 objects/s on 2 cores.
func BenchmarkIngest100k(b *testing.B) { benchIngest100k(b, false) }

// BenchmarkIngest100kCorroboration is BenchmarkIngest100k with the
// corroboration index built, so that every ingest also indexes what its
// objects assert. Target: at least 3,000 objects/s on 2 cores.
func BenchmarkIngest100kCorroboration(b *testing.B) { benchIngest100k(b, true) }

func benchIngest100k(b *testing.B, corroborate bool) {
	const size = 100_000
	n := newNode(b, "alpha")
	ctx := context.Background()
	if corroborate {
		if err := n.Corroboration.Build(ctx); err != nil {
			b.Fatal(err)
		}
	}
	round := 0
	for b.Loop() {
		b.StopTimer()
		data := genBundle(size, round)
		round++
		b.StartTimer()
		res, err := n.Ingest(ctx, data, node.IngestOptions{})
		if err != nil || res.Added != size {
			b.Fatalf("ingest: %v (%d added)", err, res.Added)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "objects/s")
	if corroborate {
		ix, err := n.Corroboration.Index(ctx)
		if err != nil || ix.Len() != size*b.N {
			b.Fatalf("the index holds %d versions, want %d (%v)", ix.Len(), size*b.N, err)
		}
	}
}

// BenchmarkCorroborationRebuild100k rebuilds the corroboration index from
// a store of 100,000 indicators: what the first query of a process (a CLI
// command, a server's first request) pays.
func BenchmarkCorroborationRebuild100k(b *testing.B) {
	const size = 100_000
	n := newNode(b, "alpha")
	ctx := context.Background()
	if _, err := n.Ingest(ctx, genBundle(size, 0), node.IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := n.Corroboration.Rebuild(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "objects/s")
}
