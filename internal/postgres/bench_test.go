package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"detente"
	"detente/internal/pgtest"
	"detente/internal/sqlite"
)

// The benchmarks run every shape on both backends, side by side, with
// durable commits: SQLite in WAL mode with synchronous=FULL, PostgreSQL with
// fsync and synchronous_commit on (pgtest's cluster, or DETENTE_TEST_POSTGRES).
//
//	go test -run '^$' -bench . -count 6 ./internal/postgres/ | benchstat -

type backend struct {
	name string
	open func(b *testing.B) detente.Store
}

var backends = []backend{
	{"sqlite", func(b *testing.B) detente.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "node.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) detente.Store { return openTemp(b) }},
}

func perSecond(b *testing.B, n int, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// BenchmarkAppendEvent appends one event per transaction, from one
// goroutine: the latency of a durable log append.
func BenchmarkAppendEvent(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			i := 0
			for b.Loop() {
				if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(0, i)) }); err != nil {
					b.Fatal(err)
				}
				i++
			}
			perSecond(b, i, "events/s")
		})
	}
}

// BenchmarkAppendEventParallel appends one event per transaction from 8
// goroutines, spread over one store or over two (two connection pools, as
// two `detente serve` processes would have).
func BenchmarkAppendEventParallel(b *testing.B) {
	for _, be := range backends {
		for _, n := range []int{1, 2} {
			if be.name == "sqlite" && n == 2 {
				continue // one file, one writer: a second process only adds lock waits
			}
			b.Run(fmt.Sprintf("%s/stores=%d", be.name, n), func(b *testing.B) {
				ctx := context.Background()
				var stores []detente.Store
				if be.name == "postgres" {
					url := pgtest.URL(b)
					for range n {
						stores = append(stores, openURL(b, url))
					}
				} else {
					stores = append(stores, be.open(b))
				}
				var next, total atomic.Int64
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := int(next.Add(1))
					s := stores[w%len(stores)]
					for i := 0; pb.Next(); i++ {
						if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(w, i)) }); err != nil {
							b.Error(err)
							return
						}
						total.Add(1)
					}
				})
				perSecond(b, int(total.Load()), "events/s")
			})
		}
	}
}

// BenchmarkIngestObject stores one object version and its log event per
// transaction, as `detente ingest` and the API do.
func BenchmarkIngestObject(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			i := 0
			for b.Loop() {
				err := s.Update(ctx, func(tx detente.Tx) error {
					o := obj(objID(i), "x")
					if _, err := tx.PutObject(ctx, o); err != nil {
						return err
					}
					e, _ := detente.NewEvent(t0, detente.EventObjectIngested, "", map[string]string{"id": o.ID})
					return tx.AppendEvent(ctx, e)
				})
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			perSecond(b, i, "objects/s")
		})
	}
}

// BenchmarkPutObjectBatch stores 100 object versions per transaction, as a
// federation pull stores a partner's page.
func BenchmarkPutObjectBatch(b *testing.B) {
	const batch = 100
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			n := 0
			for b.Loop() {
				err := s.Update(ctx, func(tx detente.Tx) error {
					for j := range batch {
						if _, err := tx.PutObject(ctx, obj(objID(n+j), "x")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				n += batch
			}
			perSecond(b, n, "objects/s")
		})
	}
}

// BenchmarkPutObjects is BenchmarkPutObjectBatch with the batch method: 100
// object versions per transaction in one PutObjects call (one round trip
// to PostgreSQL), as Node.Ingest stores a bundle.
func BenchmarkPutObjects(b *testing.B) {
	const batch = 100
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			n := 0
			for b.Loop() {
				vs := make([]*detente.ObjectVersion, batch)
				for j := range vs {
					vs[j] = obj(objID(n+j), "x")
				}
				err := s.Update(ctx, func(tx detente.Tx) error {
					_, err := tx.PutObjects(ctx, vs)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				n += batch
			}
			perSecond(b, n, "objects/s")
		})
	}
}
