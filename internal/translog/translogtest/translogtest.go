// Package translogtest is the conformance suite of translog.HashStore:
// every implementation — the in-memory translog.MemStore, and
// translog.TxHashes over the transactions of each detente.Store backend —
// runs it unchanged, so that the log's tree, proofs and checkpoints are
// the same whatever keeps its hashes:
//
//	func TestHashStoreConformance(t *testing.T) {
//		translogtest.Run(t, func(t *testing.T) translogtest.Log { return translogtest.Store(openTemp(t)) })
//	}
//
// The suite checks the HashStore contract (hashes read back in the order
// asked, ErrMissingHash for what was never written, a stored hash never
// replaced by another) and what the log builds on it: tree hashes,
// inclusion and consistency proofs equal to RFC 6962's definitions
// computed naively, batched appends storing what one-by-one appends do
// (which for a store means reading, inside a transaction, the hashes it
// wrote earlier in it), and a rolled-back append leaving nothing behind.
package translogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/translog"
)

// Log is one implementation under test: the hash store of an empty log,
// and how events are appended to it.
type Log struct {
	// Hashes reads and writes the log's hashes. A store-backed one runs
	// each call in a transaction of its own.
	Hashes translog.HashStore
	// Append appends events to the log of size size, in one transaction,
	// the way the implementation appends: events[i].Seq is size+i.
	Append func(ctx context.Context, size int64, events ...*detente.Event) error
	// Abort, when set, appends events as Append does, then rolls the
	// transaction back. It is nil for a hash store without transactions
	// (MemStore), and the suite then skips what needs it.
	Abort func(ctx context.Context, size int64, events ...*detente.Event) error
}

// Mem returns the Log of a new, empty translog.MemStore.
func Mem() Log {
	m := translog.NewMemStore()
	return Log{Hashes: m, Append: func(ctx context.Context, size int64, events ...*detente.Event) error {
		return translog.Append(ctx, m, size, events...)
	}}
}

// Store returns the Log of s, an empty store: its hashes are read and
// written through translog.TxHashes, each call in a transaction of its
// own, and events are appended with detente.Tx.AppendEvent, one
// transaction per Append call.
func Store(s detente.Store) Log {
	return Log{
		Hashes: storeHashes{s},
		Append: func(ctx context.Context, size int64, events ...*detente.Event) error {
			return s.Update(ctx, func(tx detente.Tx) error { return appendEvents(ctx, tx, size, events) })
		},
		Abort: func(ctx context.Context, size int64, events ...*detente.Event) error {
			err := s.Update(ctx, func(tx detente.Tx) error {
				if err := appendEvents(ctx, tx, size, events); err != nil {
					return err
				}
				return errRollBack
			})
			if errors.Is(err, errRollBack) {
				return nil
			}
			if err == nil {
				return errors.New("the transaction committed though its function failed")
			}
			return err
		},
	}
}

// errRollBack makes Store's Abort roll its transaction back.
var errRollBack = errors.New("roll back")

// appendEvents appends events inside tx, checking that the store gives
// them the sequence numbers the log expects.
func appendEvents(ctx context.Context, tx detente.Tx, size int64, events []*detente.Event) error {
	for i, e := range events {
		want := e.Seq
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		if e.Seq != want || want != size+int64(i) {
			return fmt.Errorf("the store appended event %d at seq %d", want, e.Seq)
		}
	}
	return nil
}

// storeHashes is the hash store of a detente.Store, one transaction per
// call.
type storeHashes struct{ s detente.Store }

// ReadHashes implements translog.HashStore, in a read-only transaction.
func (h storeHashes) ReadHashes(ctx context.Context, nodes []translog.Node) ([]tlog.Hash, error) {
	var out []tlog.Hash
	err := h.s.View(ctx, func(tx detente.Tx) (err error) {
		out, err = translog.TxHashes(tx).ReadHashes(ctx, nodes)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WriteHashes implements translog.HashStore, in a transaction of its own.
func (h storeHashes) WriteHashes(ctx context.Context, nodes []translog.Node, hashes []tlog.Hash) error {
	return h.s.Update(ctx, func(tx detente.Tx) error { return translog.TxHashes(tx).WriteHashes(ctx, nodes, hashes) })
}

// Run runs the suite against logs made by open, which must return a new,
// empty log each time it is called and arrange for it to be closed when
// the test ends.
func Run(t *testing.T, open func(t *testing.T) Log) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) Log)
	}{
		{"ReadBack", testReadBack},
		{"Missing", testMissing},
		{"Rewrite", testRewrite},
		{"ProofsAgainstNaive", testProofsAgainstNaive},
		{"TreeHashDeep", testTreeHashDeep},
		{"AppendBatches", testAppendBatches},
		{"RolledBack", testRolledBack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// event returns a deterministic event at seq.
func event(seq int64) *detente.Event {
	return &detente.Event{
		Seq:     seq,
		Time:    time.Date(2026, 3, 1, 12, 0, 0, int(seq)*1000+7, time.UTC),
		Type:    detente.EventRelease,
		Partner: "bravo",
		Body:    []byte(fmt.Sprintf(`{"object":"report--%d","allowed":true}`, seq)),
	}
}

// grow appends events from..to-1 to l, batch at a time, and returns them.
func grow(t *testing.T, l Log, from, to int64, batch int) []*detente.Event {
	t.Helper()
	var all []*detente.Event
	for i := from; i < to; i += int64(batch) {
		var es []*detente.Event
		for j := i; j < min(i+int64(batch), to); j++ {
			es = append(es, event(j))
		}
		if err := l.Append(context.Background(), i, es...); err != nil {
			t.Fatalf("append %d..%d: %v", i, i+int64(len(es))-1, err)
		}
		all = append(all, es...)
	}
	return all
}

// storedNodes returns the nodes a log of size n stores: every leaf and
// every complete subtree at the levels TileHeight, 2×TileHeight, ….
func storedNodes(n int64) []translog.Node {
	var out []translog.Node
	for l := 0; n>>l > 0; l += translog.TileHeight {
		for i := range n >> l {
			out = append(out, translog.Node{Level: l, Index: i})
		}
	}
	return out
}

// testReadBack: ReadHashes returns the hash of each node asked for, in
// the order asked, duplicates included; the leaves are the events' leaf
// hashes; nothing asked, nothing returned.
func testReadBack(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	l := open(t)
	events := grow(t, l, 0, 40, 1)
	nodes := storedNodes(40)
	hs, err := l.Hashes.ReadHashes(ctx, nodes)
	if err != nil || len(hs) != len(nodes) {
		t.Fatalf("ReadHashes of the %d stored nodes: %d hashes, %v", len(nodes), len(hs), err)
	}
	for i, e := range events {
		if hs[i] != translog.LeafHash(e) {
			t.Errorf("leaf %d = %v, want the event's leaf hash %v", i, hs[i], translog.LeafHash(e))
		}
	}
	want := map[translog.Node]tlog.Hash{}
	for i, n := range nodes {
		want[n] = hs[i]
	}
	// Reversed, with duplicates, levels mixed.
	ask := slices.Clone(nodes)
	slices.Reverse(ask)
	ask = append(ask, translog.Node{Level: 4, Index: 1}, translog.Node{Level: 0, Index: 3}, translog.Node{Level: 4, Index: 1})
	got, err := l.Hashes.ReadHashes(ctx, ask)
	if err != nil || len(got) != len(ask) {
		t.Fatalf("ReadHashes in another order: %d hashes, %v", len(got), err)
	}
	for i, n := range ask {
		if got[i] != want[n] {
			t.Errorf("node %v read as %v, want %v", n, got[i], want[n])
		}
	}
	// Level 4 holds the roots of the complete 16-leaf subtrees.
	for i, n := range nodes {
		if n.Level != 4 {
			continue
		}
		if want := tlog.Hash(naiveMTH(leafData(events[16*n.Index : 16*(n.Index+1)]))); hs[i] != want {
			t.Errorf("node %v = %v, want the root of its 16 leaves %v", n, hs[i], want)
		}
	}
	if none, err := l.Hashes.ReadHashes(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("ReadHashes of no node = %v, %v", none, err)
	}
}

// testMissing: a node never written is ErrMissingHash, alone or among
// stored ones, and never a short answer; proofs and tree hashes beyond
// the log fail.
func testMissing(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	l := open(t)
	grow(t, l, 0, 5, 1)
	for _, ask := range [][]translog.Node{
		{{Level: 0, Index: 5}},
		{{Level: 4, Index: 0}},
		{{Level: 0, Index: 1}, {Level: 0, Index: 99}, {Level: 0, Index: 2}},
		{{Level: 8, Index: 3}},
	} {
		hs, err := l.Hashes.ReadHashes(ctx, ask)
		if !errors.Is(err, translog.ErrMissingHash) {
			t.Errorf("ReadHashes(%v) = %d hashes, %v; want an error wrapping ErrMissingHash", ask, len(hs), err)
		}
	}
	if _, err := translog.ProveInclusion(ctx, l.Hashes, 5, 5); err == nil {
		t.Error("ProveInclusion beyond size succeeded")
	}
	if _, err := translog.ProveConsistency(ctx, l.Hashes, 6, 5); err == nil {
		t.Error("ProveConsistency with old > new succeeded")
	}
	if _, err := translog.TreeHash(ctx, l.Hashes, 6); err == nil {
		t.Error("TreeHash beyond the stored size succeeded")
	}
}

// testRewrite: writing a stored node again with its hash changes nothing
// (a retry after a rollback does that); with another hash it is refused,
// and the stored hash stays.
func testRewrite(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	l := open(t)
	grow(t, l, 0, 20, 1)
	nodes := []translog.Node{{Level: 0, Index: 3}, {Level: 4, Index: 0}}
	before, err := l.Hashes.ReadHashes(ctx, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Hashes.WriteHashes(ctx, nodes, before); err != nil {
		t.Errorf("rewriting stored nodes with their own hashes: %v", err)
	}
	for i, n := range nodes {
		other := before[i]
		other[0] ^= 0xff
		if err := l.Hashes.WriteHashes(ctx, []translog.Node{n}, []tlog.Hash{other}); err == nil {
			t.Errorf("node %v: another hash was accepted", n)
		}
	}
	after, err := l.Hashes.ReadHashes(ctx, nodes)
	if err != nil || !slices.Equal(after, before) {
		t.Errorf("after the refused rewrites: %v, %v; want %v", after, err, before)
	}
	root, err := translog.TreeHash(ctx, l.Hashes, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := tlog.Hash(naiveMTH(leafData(eventsUpTo(20)))); root != want {
		t.Errorf("root after the refused rewrites = %v, want %v", root, want)
	}
}

func eventsUpTo(n int64) []*detente.Event {
	es := make([]*detente.Event, n)
	for i := range es {
		es[i] = event(int64(i))
	}
	return es
}

// testProofsAgainstNaive checks tree hashes, inclusion proofs and
// consistency proofs for every size 1..70 and every index or size pair
// against the naive definitions, hash for hash.
func testProofsAgainstNaive(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	const n = 70
	l := open(t)
	events := grow(t, l, 0, n, 1)
	hs := l.Hashes
	d := leafData(events)
	for size := 1; size <= n; size++ {
		root, err := translog.TreeHash(ctx, hs, int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveMTH(d[:size]); root != want {
			t.Fatalf("TreeHash(%d) = %x, want %x", size, root, want)
		}
		for i := range size {
			p, err := translog.ProveInclusion(ctx, hs, int64(size), int64(i))
			if err != nil {
				t.Fatal(err)
			}
			if want := asHashes(naivePath(i, d[:size])); !slices.Equal(p, want) {
				t.Fatalf("ProveInclusion(%d, %d) = %v, want %v", size, i, p, want)
			}
			if err := tlog.CheckRecord(p, int64(size), root, int64(i), translog.LeafHash(events[i])); err != nil {
				t.Fatalf("CheckRecord(%d, %d): %v", size, i, err)
			}
		}
		for old := 1; old <= size; old++ {
			p, err := translog.ProveConsistency(ctx, hs, int64(old), int64(size))
			if err != nil {
				t.Fatal(err)
			}
			if want := asHashes(naiveSubproof(old, d[:size], true)); !slices.Equal(p, want) {
				t.Fatalf("ProveConsistency(%d, %d) = %v, want %v", old, size, p, want)
			}
			oldRoot := tlog.Hash(naiveMTH(d[:old]))
			if err := tlog.CheckTree(p, int64(size), root, int64(old), oldRoot); err != nil {
				t.Fatalf("CheckTree(%d, %d): %v", old, size, err)
			}
		}
	}
}

// testTreeHashDeep covers levels 8 and above, where stored tiles are
// built from stored tiles.
func testTreeHashDeep(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	const n = 600
	l := open(t)
	events := grow(t, l, 0, n, 1)
	hs := l.Hashes
	d := leafData(events)
	for size := 1; size <= n; size += 1 + size/8 {
		root, err := translog.TreeHash(ctx, hs, int64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveMTH(d[:size]); root != want {
			t.Fatalf("TreeHash(%d) = %x, want %x", size, root, want)
		}
	}
	for _, pair := range [][2]int{{1, 600}, {256, 600}, {255, 511}, {300, 513}, {599, 600}} {
		p, err := translog.ProveConsistency(ctx, hs, int64(pair[0]), int64(pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if want := asHashes(naiveSubproof(pair[0], d[:pair[1]], true)); !slices.Equal(p, want) {
			t.Fatalf("ProveConsistency%v differs from the naive proof", pair)
		}
	}
	for _, i := range []int{0, 255, 256, 511, 599} {
		p, err := translog.ProveInclusion(ctx, hs, n, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		if want := asHashes(naivePath(i, d)); !slices.Equal(p, want) {
			t.Fatalf("ProveInclusion(%d) differs from the naive proof", i)
		}
	}
}

// testAppendBatches checks that appending in batches of any size stores
// exactly what appending one by one does: the same hash for every stored
// node, and nothing beyond.
func testAppendBatches(t *testing.T, open func(t *testing.T) Log) {
	ctx := context.Background()
	const n = 600
	one := Mem()
	grow(t, one, 0, n, 1)
	nodes := storedNodes(n)
	want, err := one.Hashes.ReadHashes(ctx, nodes)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{2, 3, 16, 17, 100, 600} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			l := open(t)
			grow(t, l, 0, n, batch)
			got, err := l.Hashes.ReadHashes(ctx, nodes)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatal("stored hashes differ from one-by-one appends")
			}
			for l0 := 0; n>>l0 > 0; l0 += translog.TileHeight {
				beyond := translog.Node{Level: l0, Index: n >> l0}
				if _, err := l.Hashes.ReadHashes(ctx, []translog.Node{beyond}); !errors.Is(err, translog.ErrMissingHash) {
					t.Errorf("node %v beyond the log: %v, want ErrMissingHash", beyond, err)
				}
			}
		})
	}
}

// testRolledBack: an append whose transaction rolls back leaves no hash
// behind, in the store or in any cache of it: the entries appended in
// its place afterwards get their own hashes, and the tree its right root.
func testRolledBack(t *testing.T, open func(t *testing.T) Log) {
	l := open(t)
	if l.Abort == nil {
		t.Skip("this hash store has no transactions to roll back")
	}
	ctx := context.Background()
	grow(t, l, 0, 30, 1)
	rolled := make([]*detente.Event, 20)
	for i := range rolled {
		rolled[i] = event(30 + int64(i))
		rolled[i].Body = []byte(fmt.Sprintf(`{"rolled":%d}`, i))
	}
	if err := l.Abort(ctx, 30, rolled...); err != nil {
		t.Fatal(err)
	}
	for _, n := range []translog.Node{{Level: 0, Index: 30}, {Level: 4, Index: 2}, {Level: 0, Index: 49}} {
		if _, err := l.Hashes.ReadHashes(ctx, []translog.Node{n}); !errors.Is(err, translog.ErrMissingHash) {
			t.Errorf("node %v of the rolled-back append: %v, want ErrMissingHash", n, err)
		}
	}
	grow(t, l, 30, 50, 1)
	d := leafData(eventsUpTo(50))
	for _, size := range []int64{31, 32, 48, 50} {
		root, err := translog.TreeHash(ctx, l.Hashes, size)
		if err != nil {
			t.Fatal(err)
		}
		if want := tlog.Hash(naiveMTH(d[:size])); root != want {
			t.Errorf("TreeHash(%d) after the rolled-back append = %v, want %v", size, root, want)
		}
	}
}
