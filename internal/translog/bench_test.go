package translog

import (
	"context"
	"crypto/ed25519"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// BenchmarkAppend appends one event per call, as a store does in a
// transaction that records one change.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	hs := NewMemStore()
	e := testEvent(0)
	var n int64
	for b.Loop() {
		e.Seq = n
		if err := Append(ctx, hs, n, e); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(hs.Len()*tlog.HashSize)/float64(n), "hashB/entry")
}

// BenchmarkAppendBatch appends 100 events per call.
func BenchmarkAppendBatch(b *testing.B) {
	ctx := context.Background()
	hs := NewMemStore()
	events := make([]*detente.Event, 100)
	for i := range events {
		events[i] = testEvent(int64(i))
	}
	var n int64
	for b.Loop() {
		for i, e := range events {
			e.Seq = n + int64(i)
		}
		if err := Append(ctx, hs, n, events...); err != nil {
			b.Fatal(err)
		}
		n += int64(len(events))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}

const benchSize = 1_000_000

var bench struct {
	once sync.Once
	hs   *MemStore
}

// benchLog returns a MemStore of benchSize events testEvent(0..).
func benchLog(b *testing.B) *MemStore {
	bench.once.Do(func() {
		ctx := context.Background()
		hs := NewMemStore()
		batch := make([]tlog.Hash, 0, 4096)
		for i := int64(0); i < benchSize; i++ {
			batch = append(batch, LeafHash(testEvent(i)))
			if len(batch) == cap(batch) || i == benchSize-1 {
				if err := appendLeaves(ctx, hs, i+1-int64(len(batch)), batch); err != nil {
					panic(err)
				}
				batch = batch[:0]
			}
		}
		bench.hs = hs
	})
	return bench.hs
}

// BenchmarkVerifyInclusion is what a partner does to check one event
// against a node's log of a million events: verify the signed checkpoint,
// hash the event and check its inclusion proof.
func BenchmarkVerifyInclusion(b *testing.B) {
	ctx := context.Background()
	hs := benchLog(b)
	n := newTestNode(b, 1)
	n.hs = hs
	note := n.checkpoint(benchSize).Note
	const index = 765_432
	e := testEvent(index)
	proof, err := ProveInclusion(ctx, hs, benchSize, index)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := ParseCheckpoint(note, n.origin, n.pub)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.VerifyInclusion(index, LeafHash(e), proof); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProveInclusion serves one inclusion proof from a million events.
func BenchmarkProveInclusion(b *testing.B) {
	ctx := context.Background()
	hs := benchLog(b)
	var i int64
	for b.Loop() {
		if _, err := ProveInclusion(ctx, hs, benchSize, i*7919%benchSize); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTreeHash computes the root of a million events.
func BenchmarkTreeHash(b *testing.B) {
	ctx := context.Background()
	hs := benchLog(b)
	for b.Loop() {
		if _, err := TreeHash(ctx, hs, benchSize-3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign signs one checkpoint.
func BenchmarkSign(b *testing.B) {
	priv := testKey(1)
	root := tlog.RecordHash(nil)
	for b.Loop() {
		if _, err := Sign("detente/alpha/0123456789abcdef", benchSize, root, priv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBundle verifies a full export of 10,000 events.
func BenchmarkVerifyBundle(b *testing.B) {
	ctx := context.Background()
	n := newTestNode(b, 10_000)
	bundle, err := Export(ctx, n.hs, n.checkpoint(10_000), n.events)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := VerifyBundle(bundle, n.pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the floor under BenchmarkVerifyInclusion: one
// bare signature verification, to read its figures against.
func BenchmarkEd25519Verify(b *testing.B) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("detente/alpha/0123456789abcdef\n1000000\nkBqtjJWper3IBrFXK4ZzFFng+yb6rdk5jITFAwK9vkM=\n")
	sig := ed25519.Sign(priv, msg)
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}
