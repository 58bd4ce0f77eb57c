package node_test

import (
	"context"
	"path/filepath"
	"testing"

	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/pgtest"
)

// BenchmarkIngest1M ingests 1,000,000 objects, in bundles of 50,000 (one
// transaction each, as `detente ingest` of each bundle), into a node on
// each store: parsing, validation, signing, storing and logging. It reports
// objects/s over the whole million.
//
//	go test -run '^$' -bench BenchmarkIngest1M -benchtime 1x -timeout 60m ./internal/node/
func BenchmarkIngest1M(b *testing.B) {
	const size, chunk = 1_000_000, 50_000
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			ctx := context.Background()
			url := ""
			if store == "postgres" {
				url = pgtest.URL(b)
			}
			round := 0
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "alpha")
				if _, err := nodetest.InitWith(ctx, dir, "alpha", url); err != nil {
					b.Fatal(err)
				}
				n, err := nodetest.Open(ctx, dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				for done := 0; done < size; done += chunk {
					data := genBundle(chunk, round)
					round++
					b.StartTimer()
					res, err := n.Ingest(ctx, data, node.IngestOptions{})
					b.StopTimer()
					if err != nil || res.Added != chunk {
						b.Fatalf("ingest: %v (%d added)", err, res.Added)
					}
				}
				n.Close()
				if url != "" {
					url = pgtest.URL(b) // a fresh database for the next round
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
