// Package nodetest makes and opens nodes for tests, on SQLite (or on the
// PostgreSQL database a store URL names), as cmd/detente wires them for
// people. Only tests import it.
package nodetest

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"testing"

	"detente"
	"detente/internal/datadir"
	"detente/internal/node"
	"detente/internal/postgres"
	"detente/internal/sqlite"
)

// Init creates a node called name in dir on SQLite and returns its key.
func Init(ctx context.Context, dir, name string) (detente.PublicKey, error) {
	return InitWith(ctx, dir, name, "")
}

// InitWith creates a node in dir on store ("" or "sqlite", or a
// PostgreSQL URL) and returns its key.
func InitWith(ctx context.Context, dir, name, store string) (detente.PublicKey, error) {
	c, err := datadir.Create(dir, name, store)
	if err != nil {
		return nil, err
	}
	s, err := openStore(ctx, dir, c.Config)
	if err != nil {
		c.Undo()
		return nil, err
	}
	defer s.Close()
	key := detente.PublicKey(c.Key.Public().(ed25519.PublicKey))
	if err := node.Bootstrap(ctx, s, name, key); err != nil {
		s.Close()
		c.Undo()
		return nil, err
	}
	return key, nil
}

// Open opens the node in dir.
func Open(ctx context.Context, dir string, logger *slog.Logger) (*node.Node, error) {
	cfg, err := datadir.ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	key, err := datadir.ReadKey(dir)
	if err != nil {
		return nil, err
	}
	s, err := openStore(ctx, dir, cfg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := node.New(cfg.Name, key, s, logger)
	n.MaxSkew, _ = cfg.ClockSkew() // checked by ReadConfig
	return n, nil
}

// New makes a node called name in a new directory of t's and opens it; it
// is closed when t ends.
func New(t testing.TB, name string) *node.Node {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := Init(ctx, dir, name); err != nil {
		t.Fatal(err)
	}
	n, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func openStore(ctx context.Context, dir string, cfg *datadir.Config) (detente.Store, error) {
	if datadir.IsPostgres(cfg.Store) {
		return postgres.Open(ctx, cfg.Store)
	}
	return sqlite.Open(ctx, filepath.Join(dir, datadir.DBFile))
}
