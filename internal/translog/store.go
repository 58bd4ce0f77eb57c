package translog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight fixes which tree levels a HashStore keeps: levels 0,
// TileHeight, 2×TileHeight, …. Every other complete node is recomputed from
// at most 2^(TileHeight-1) stored hashes of the stored level below it. With
// TileHeight 4 a log of n events keeps about n × 16/15 hashes, 34.1 bytes per
// event. It is part of the storage format: changing it needs a migration.
const TileHeight = 4

// ErrMissingHash is wrapped by HashStore implementations when a hash asked
// for has not been written.
var ErrMissingHash = errors.New("hash not stored")

// Node names a complete subtree of the log's Merkle tree: the one at Level
// (0 for leaves) whose leaves are [Index×2^Level, (Index+1)×2^Level).
// Level-0 nodes are the events' leaf hashes, with Index equal to Seq.
type Node struct {
	Level int
	Index int64
}

// Key returns a dense, stable, unique int64 for n (tlog's stored-hash
// index), usable as a single-column primary key. Nodes of one level get
// increasing keys as Index increases.
func (n Node) Key() int64 { return tlog.StoredHashIndex(n.Level, n.Index) }

// String returns n as "level/index".
func (n Node) String() string { return fmt.Sprintf("%d/%d", n.Level, n.Index) }

// HashStore is where a store keeps the hashes of its log, inside the
// transaction that appends the events. It only ever holds nodes whose
// Level is a multiple of TileHeight. Implementations need no locking of
// their own beyond what their transaction gives: this package calls them
// from one goroutine at a time.
type HashStore interface {
	// ReadHashes returns the hash of each node, in order. It returns an
	// error wrapping ErrMissingHash if any was never written, and never a
	// slice of another length with a nil error.
	ReadHashes(ctx context.Context, nodes []Node) ([]tlog.Hash, error)
	// WriteHashes stores hashes[i] as the hash of nodes[i]. Nodes are new
	// (never written before) unless the caller retries after a rollback:
	// writing a node with the hash it holds changes nothing, and writing
	// it with a different hash is an error that leaves the stored one.
	// translogtest.Run checks an implementation against this contract.
	WriteHashes(ctx context.Context, nodes []Node, hashes []tlog.Hash) error
}

// MemStore is a HashStore in memory, for tests and for verifiers that
// rebuild a tree from exported entries. It is safe for concurrent use.
type MemStore struct {
	mu     sync.Mutex
	levels [][]tlog.Hash // levels[i] holds level i×TileHeight, by Index
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

var _ HashStore = (*MemStore)(nil)

// ReadHashes implements HashStore.
func (m *MemStore) ReadHashes(_ context.Context, nodes []Node) ([]tlog.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]tlog.Hash, len(nodes))
	for i, n := range nodes {
		if n.Level%TileHeight != 0 || n.Index < 0 {
			return nil, fmt.Errorf("read node %v: level not stored", n)
		}
		l := n.Level / TileHeight
		if l >= len(m.levels) || n.Index >= int64(len(m.levels[l])) {
			return nil, fmt.Errorf("read node %v: %w", n, ErrMissingHash)
		}
		out[i] = m.levels[l][n.Index]
	}
	return out, nil
}

// WriteHashes implements HashStore. Nodes of a level must be written in
// order of Index; rewriting a node with the hash it already has is a no-op,
// with another hash an error.
func (m *MemStore) WriteHashes(_ context.Context, nodes []Node, hashes []tlog.Hash) error {
	if len(nodes) != len(hashes) {
		return fmt.Errorf("write hashes: %d nodes but %d hashes", len(nodes), len(hashes))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, n := range nodes {
		if n.Level%TileHeight != 0 || n.Index < 0 {
			return fmt.Errorf("write node %v: level not stored", n)
		}
		l := n.Level / TileHeight
		for len(m.levels) <= l {
			m.levels = append(m.levels, nil)
		}
		switch lv := m.levels[l]; {
		case n.Index == int64(len(lv)):
			m.levels[l] = append(lv, hashes[i])
		case n.Index < int64(len(lv)):
			if lv[n.Index] != hashes[i] {
				return fmt.Errorf("write node %v: already holds another hash", n)
			}
		default:
			return fmt.Errorf("write node %v: nodes %d/%d.. missing before it", n, n.Level, len(lv))
		}
	}
	return nil
}

// Len returns how many hashes m holds, at every level together.
func (m *MemStore) Len() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, lv := range m.levels {
		n += int64(len(lv))
	}
	return n
}

// set overwrites one hash. Tests use it to tamper with the log.
func (m *MemStore) set(n Node, h tlog.Hash) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.levels[n.Level/TileHeight][n.Index] = h
}
