package main

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"

	"detente"
	"detente/internal/datadir"
	"detente/internal/node"
	"detente/internal/postgres"
	"detente/internal/sqlite"
)

// This file is where the program is wired: the one place that chooses the
// store that backs a node (SQLite in the data directory, or PostgreSQL)
// and imports the storage drivers.

// openStore opens the store cfg names: "sqlite" (node.db in dir) or a
// PostgreSQL URL.
func openStore(ctx context.Context, dir string, cfg *datadir.Config) (detente.Store, error) {
	switch {
	case cfg.Store == "" || cfg.Store == "sqlite":
		return sqlite.Open(ctx, filepath.Join(dir, datadir.DBFile))
	case datadir.IsPostgres(cfg.Store):
		return postgres.Open(ctx, cfg.Store)
	}
	return nil, detente.Errorf(detente.EINVALID, "store %q must be sqlite or a postgres:// URL", cfg.Store)
}

// initNode creates a node in dir: a key pair (private key mode 0600), a
// config file, and a store (store is "" or "sqlite" for node.db in dir, or
// a PostgreSQL URL whose database must not hold a node yet) with the
// node's first log event. It refuses, and changes nothing, when dir
// already holds a node.
func initNode(ctx context.Context, dir, name, store string) (detente.PublicKey, error) {
	c, err := datadir.Create(dir, name, store)
	if err != nil {
		return nil, err
	}
	s, err := openStore(ctx, dir, c.Config)
	if err != nil {
		c.Undo()
		return nil, err
	}
	key := detente.PublicKey(c.Key.Public().(ed25519.PublicKey))
	err = node.Bootstrap(ctx, s, name, key)
	s.Close()
	if err != nil {
		c.Undo()
		return nil, err
	}
	return key, nil
}

// openNodeDir opens the node in dir: its config, key and store.
func openNodeDir(ctx context.Context, dir string, logger *slog.Logger) (*node.Node, error) {
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

// migrateDir reports the schema version of dir's store and the newest this
// program knows, applying pending migrations first when apply is set. It
// never migrates a SQLite store it only reports on.
func migrateDir(ctx context.Context, dir string, apply bool) (have, known int, err error) {
	cfg, err := datadir.ReadConfig(dir)
	if err != nil {
		return 0, 0, err
	}
	if datadir.IsPostgres(cfg.Store) {
		s, err := postgres.Connect(ctx, cfg.Store)
		if err != nil {
			return 0, 0, err
		}
		defer s.Close()
		if apply {
			if err := s.Migrate(ctx); err != nil {
				return 0, 0, err
			}
		}
		return s.SchemaVersion(ctx)
	}
	path := filepath.Join(dir, datadir.DBFile)
	if !apply {
		return sqlite.SchemaVersionAt(ctx, path)
	}
	s, err := sqlite.Open(ctx, path) // Open migrates
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	return s.SchemaVersion(ctx)
}
