package node

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"detente"
	"detente/internal/sqlite"
)

// newTestNode makes a node called name on SQLite in dir and opens it; it
// is closed when t ends. (internal/nodetest does this for other packages;
// it imports this one.)
func newTestNode(t testing.TB, dir, name string) *Node {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(ctx, s, name, detente.PublicKey(priv.Public().(ed25519.PublicKey))); err != nil {
		t.Fatal(err)
	}
	n := New(name, priv, s, nil)
	t.Cleanup(func() { n.Close() })
	return n
}
