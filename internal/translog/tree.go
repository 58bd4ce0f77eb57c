package translog

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// readNodes returns the hashes of complete nodes at any level, reading the
// stored nodes below them in one call to hs and hashing them together.
func readNodes(ctx context.Context, hs HashStore, nodes []Node) ([]tlog.Hash, error) {
	var base []Node
	for _, n := range nodes {
		if n.Level < 0 || n.Level > 62 || n.Index < 0 || n.Index > (1<<62)>>n.Level {
			return nil, fmt.Errorf("read node %v: out of range", n)
		}
		b := n.Level - n.Level%TileHeight
		w := int64(1) << (n.Level - b)
		for i := range w {
			base = append(base, Node{b, n.Index*w + i})
		}
	}
	if len(base) == 0 {
		return nil, nil
	}
	hashes, err := hs.ReadHashes(ctx, base)
	if err != nil {
		return nil, err
	}
	if len(hashes) != len(base) {
		return nil, fmt.Errorf("read hashes: asked for %d, got %d", len(base), len(hashes))
	}
	out := make([]tlog.Hash, len(nodes))
	for i, n := range nodes {
		w := 1 << (n.Level % TileHeight)
		out[i] = fold(hashes[:w])
		hashes = hashes[w:]
	}
	return out, nil
}

// fold returns the root of the perfect subtree whose leaves are hs
// (len(hs) a power of two). It overwrites hs.
func fold(hs []tlog.Hash) tlog.Hash {
	for len(hs) > 1 {
		for i := range len(hs) / 2 {
			hs[i] = tlog.NodeHash(hs[2*i], hs[2*i+1])
		}
		hs = hs[:len(hs)/2]
	}
	return hs[0]
}

// hashReader adapts hs to tlog.HashReader, which asks for nodes at every
// level by their stored-hash index.
func hashReader(ctx context.Context, hs HashStore) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		nodes := make([]Node, len(indexes))
		for i, x := range indexes {
			l, n := tlog.SplitStoredHashIndex(x)
			nodes[i] = Node{l, n}
		}
		return readNodes(ctx, hs, nodes)
	})
}

// Append adds events to the log of size size, inside the caller's
// transaction: events[i].Seq must be size+i. It computes their leaf hashes
// and the stored interior nodes they complete, and writes them all with a
// single WriteHashes call, after reading at most a few earlier hashes
// (on average about two per call for one event). It must be called with
// the log's current size, under the transaction's write lock.
func Append(ctx context.Context, hs HashStore, size int64, events ...*detente.Event) error {
	leaves := make([]tlog.Hash, len(events))
	for i, e := range events {
		if e.Seq != size+int64(i) {
			return fmt.Errorf("append to log of size %d: event %d has seq %d", size, i, e.Seq)
		}
		leaves[i] = LeafHash(e)
	}
	if err := appendLeaves(ctx, hs, size, leaves); err != nil {
		return fmt.Errorf("append to log of size %d: %w", size, err)
	}
	return nil
}

// appendLeaves adds leaf hashes at positions size, size+1, ….
func appendLeaves(ctx context.Context, hs HashStore, size int64, leaves []tlog.Hash) error {
	if len(leaves) == 0 {
		return nil
	}
	end := size + int64(len(leaves))
	if size < 0 || end < size {
		return errors.New("size out of range")
	}
	// The complete subtrees on the right edge of the tree of this size that
	// the new leaves complete into larger ones: those at the levels of the
	// set bits l of size for which end reaches the next multiple of 2^(l+1).
	var need []Node
	for l := 0; size>>l != 0; l++ {
		if size>>l&1 == 1 && end >= (size>>(l+1)+1)<<(l+1) {
			need = append(need, Node{l, size>>l - 1})
		}
	}
	have, err := readNodes(ctx, hs, need)
	if err != nil {
		return err
	}
	type entry struct {
		level int
		hash  tlog.Hash
	}
	// stack holds the right edge, highest level first.
	stack := make([]entry, 0, len(need)+bits.Len64(uint64(end)))
	for i := len(need) - 1; i >= 0; i-- {
		stack = append(stack, entry{need[i].Level, have[i]})
	}
	nodes := make([]Node, 0, len(leaves)+len(leaves)/(1<<TileHeight)+2)
	hashes := make([]tlog.Hash, 0, cap(nodes))
	for i, h := range leaves {
		idx := size + int64(i)
		nodes, hashes = append(nodes, Node{0, idx}), append(hashes, h)
		stack = append(stack, entry{0, h})
		// Leaf idx completes one subtree per trailing zero of idx+1.
		for l := 1; (idx+1)&(1<<l-1) == 0; l++ {
			k := len(stack)
			if k < 2 || stack[k-2].level != l-1 || stack[k-1].level != l-1 {
				return fmt.Errorf("internal error: right edge of the tree broken at %v", Node{l, (idx+1)>>l - 1})
			}
			p := entry{l, tlog.NodeHash(stack[k-2].hash, stack[k-1].hash)}
			stack = append(stack[:k-2], p)
			if l%TileHeight == 0 {
				nodes, hashes = append(nodes, Node{l, (idx+1)>>l - 1}), append(hashes, p.hash)
			}
		}
	}
	return hs.WriteHashes(ctx, nodes, hashes)
}

// TreeHash returns the root hash of the log's tree of the given size.
func TreeHash(ctx context.Context, hs HashStore, size int64) (tlog.Hash, error) {
	if size < 0 {
		return tlog.Hash{}, fmt.Errorf("tree hash: negative size %d", size)
	}
	h, err := tlog.TreeHash(size, hashReader(ctx, hs))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("tree hash of size %d: %w", size, err)
	}
	return h, nil
}

// ProveInclusion returns the proof that the tree of the given size contains
// the event at index, for tlog.CheckRecord and Checkpoint.VerifyInclusion.
func ProveInclusion(ctx context.Context, hs HashStore, size, index int64) (tlog.RecordProof, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("prove inclusion of %d in tree of size %d: out of range", index, size)
	}
	p, err := tlog.ProveRecord(size, index, hashReader(ctx, hs))
	if err != nil {
		return nil, fmt.Errorf("prove inclusion of %d in tree of size %d: %w", index, size, err)
	}
	return p, nil
}

// ProveConsistency returns the proof that the tree of size newSize extends
// the tree of size oldSize, for tlog.CheckTree and
// Checkpoint.VerifyConsistency.
func ProveConsistency(ctx context.Context, hs HashStore, oldSize, newSize int64) (tlog.TreeProof, error) {
	if oldSize < 0 || oldSize > newSize {
		return nil, fmt.Errorf("prove consistency of %d with %d: out of range", oldSize, newSize)
	}
	p, err := tlog.ProveTree(newSize, oldSize, hashReader(ctx, hs))
	if err != nil {
		return nil, fmt.Errorf("prove consistency of %d with %d: %w", oldSize, newSize, err)
	}
	return p, nil
}

// maxProof bounds the hashes of any proof of a tree of at most 2^63 leaves.
const maxProof = 2 * 63

// split returns the size of the left subtree of a tree of n > 1 leaves: the
// largest power of two smaller than n (RFC 6962, section 2.1).
func split(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// rangeSegments returns, in RFC 6962 recursion order, the maximal subtrees
// [lo, hi) of the tree of size n that lie wholly outside [start, end): the
// subtrees whose hashes, together with the leaves in [start, end), give the
// root.
func rangeSegments(n, start, end int64) [][2]int64 {
	var segs [][2]int64
	var walk func(lo, hi int64)
	walk = func(lo, hi int64) {
		switch {
		case hi <= start || lo >= end:
			segs = append(segs, [2]int64{lo, hi})
		case lo >= start && hi <= end:
		default:
			k := split(hi - lo)
			walk(lo, lo+k)
			walk(lo+k, hi)
		}
	}
	if n > 0 {
		walk(0, n)
	}
	return segs
}

// proveRange returns the hashes that link the leaves [start, end) of the
// tree of the given size to its root (see rootFromRange).
func proveRange(ctx context.Context, hs HashStore, size, start, end int64) ([]tlog.Hash, error) {
	if start < 0 || start > end || end > size {
		return nil, fmt.Errorf("prove range %d..%d in tree of size %d: out of range", start, end, size)
	}
	segs := rangeSegments(size, start, end)
	// Each segment is a perfect subtree, except on the right edge, where it
	// is the right fold of the perfect subtrees of its size's set bits.
	var nodes []Node
	var counts []int
	for _, s := range segs {
		c := 0
		for lo := s[0]; lo < s[1]; c++ {
			l := bits.Len64(uint64(s[1]-lo)) - 1
			nodes = append(nodes, Node{l, lo >> l})
			lo += 1 << l
		}
		counts = append(counts, c)
	}
	hashes, err := readNodes(ctx, hs, nodes)
	if err != nil {
		return nil, fmt.Errorf("prove range %d..%d in tree of size %d: %w", start, end, size, err)
	}
	proof := make([]tlog.Hash, len(segs))
	for i, c := range counts {
		h := hashes[c-1]
		for j := c - 2; j >= 0; j-- {
			h = tlog.NodeHash(hashes[j], h)
		}
		proof[i] = h
		hashes = hashes[c:]
	}
	return proof, nil
}

// rootFromRange returns the root of the tree of the given size whose leaves
// [start, start+len(leaves)) are leaves, using the hashes proveRange
// returned for the rest.
func rootFromRange(size, start int64, leaves, proof []tlog.Hash) (tlog.Hash, error) {
	end := start + int64(len(leaves))
	if size <= 0 || start < 0 || end > size || start >= end {
		return tlog.Hash{}, fmt.Errorf("range %d..%d of tree of size %d: out of range", start, end, size)
	}
	if len(proof) > maxProof {
		return tlog.Hash{}, errors.New("range proof too long")
	}
	next := 0
	var walk func(lo, hi int64) (tlog.Hash, error)
	walk = func(lo, hi int64) (tlog.Hash, error) {
		switch {
		case hi <= start || lo >= end:
			if next == len(proof) {
				return tlog.Hash{}, errors.New("range proof too short")
			}
			next++
			return proof[next-1], nil
		case lo >= start && hi <= end:
			return merkleRoot(leaves[lo-start : hi-start]), nil
		default:
			k := split(hi - lo)
			l, err := walk(lo, lo+k)
			if err != nil {
				return l, err
			}
			r, err := walk(lo+k, hi)
			return tlog.NodeHash(l, r), err
		}
	}
	root, err := walk(0, size)
	if err == nil && next != len(proof) {
		err = errors.New("range proof too long")
	}
	return root, err
}

// merkleRoot returns the RFC 6962 root of leaves (not empty).
func merkleRoot(leaves []tlog.Hash) tlog.Hash {
	var r prefixRoots
	for _, h := range leaves {
		r.add(h)
	}
	return r.root()
}

// prefixRoots computes the roots of growing prefixes of a list of leaves
// in O(log n) space: the right edge of the tree built so far.
type prefixRoots struct {
	n     int64
	stack []tlog.Hash // complete subtrees, largest first
}

// add appends one leaf hash.
func (p *prefixRoots) add(h tlog.Hash) {
	p.stack = append(p.stack, h)
	for m := p.n; m&1 == 1; m >>= 1 {
		k := len(p.stack)
		p.stack = append(p.stack[:k-2], tlog.NodeHash(p.stack[k-2], p.stack[k-1]))
	}
	p.n++
}

// root returns the root of the leaves added so far (at least one).
func (p *prefixRoots) root() tlog.Hash {
	h := p.stack[len(p.stack)-1]
	for i := len(p.stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(p.stack[i], h)
	}
	return h
}
