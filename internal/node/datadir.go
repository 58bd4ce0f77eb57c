// Package node is the node's operations: the data directory and identity,
// and every state change a user can make (ingesting intelligence, partners,
// agreements, consents, releases, tokens), each written together with its
// log event in one store transaction. The CLI and the HTTP API both call
// it, so they behave the same.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"detente"
	"detente/internal/postgres"
	"detente/internal/sqlite"
)

// Files in a data directory.
const (
	ConfigFile = "config.json"
	KeyFile    = "node.key"
	DBFile     = "node.db"
)

// Config is a node's config.json.
type Config struct {
	Name string `json:"name"`
	// Listen is the address `detente serve` listens on unless --listen
	// says otherwise.
	Listen string `json:"listen"`
	// URL is how partners reach this node.
	URL string `json:"url,omitempty"`
	// Store is "sqlite" (the file node.db in the data directory) or a
	// PostgreSQL URL.
	Store string `json:"store"`
	// MaxClockSkew is how far in the future an object's created or
	// modified time may lie, a Go duration such as "24h" (the default
	// when empty): partners' clocks differ, but a version dated far ahead
	// would stay the newest whatever its owner signs later.
	MaxClockSkew string `json:"max_clock_skew,omitempty"`
}

// DefaultListen is where a new node listens.
const DefaultListen = "127.0.0.1:8443"

// Init creates a node in dir with the embedded SQLite store; see InitWith.
func Init(ctx context.Context, dir, name string) (detente.PublicKey, error) {
	return InitWith(ctx, dir, name, "")
}

// IsPostgres reports whether a store setting names a PostgreSQL database.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// openStore opens the store a config names: "sqlite" (node.db in dir) or
// a PostgreSQL URL.
func openStore(ctx context.Context, dir, store string) (detente.Store, error) {
	switch {
	case store == "" || store == "sqlite":
		return sqlite.Open(ctx, filepath.Join(dir, DBFile))
	case IsPostgres(store):
		return postgres.Open(ctx, store)
	}
	return nil, detente.Errorf(detente.EINVALID, "store %q must be sqlite or a postgres:// URL", store)
}

// InitWith creates a node in dir: a key pair (private key mode 0600), a
// config file and a store with the node's first log event. store is "" or
// "sqlite" for node.db in dir, or a PostgreSQL URL (the database must not
// hold a node yet). It refuses, and changes nothing, when dir already holds
// a node.
func InitWith(ctx context.Context, dir, name, store string) (detente.PublicKey, error) {
	if !detente.ValidName(name) {
		return nil, detente.Errorf(detente.EINVALID, "node name %q must be lowercase letters, digits and hyphens, starting with a letter", name)
	}
	for _, f := range []string{ConfigFile, KeyFile, DBFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, detente.Errorf(detente.EEXISTS, "%s already holds a node (%s exists); nothing changed", dir, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("check data directory: %w", err)
		}
	}
	createdDir := false
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		createdDir = true
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	var created []string
	undo := func() {
		for _, f := range created {
			os.Remove(f)
		}
		for _, f := range []string{DBFile + "-wal", DBFile + "-shm"} {
			os.Remove(filepath.Join(dir, f))
		}
		if createdDir {
			os.Remove(dir)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	created = append(created, keyPath)
	if store == "" {
		store = "sqlite"
	}
	cfg, _ := json.MarshalIndent(Config{Name: name, Listen: DefaultListen, Store: store}, "", "  ")
	cfgPath := filepath.Join(dir, ConfigFile)
	if err := writeNew(cfgPath, append(cfg, '\n'), 0o600); err != nil {
		undo()
		return nil, err
	}
	created = append(created, cfgPath)
	if !IsPostgres(store) {
		created = append(created, filepath.Join(dir, DBFile))
	}
	s, err := openStore(ctx, dir, store)
	if err != nil {
		undo()
		return nil, fmt.Errorf("create store: %w", err)
	}
	defer s.Close()
	key := detente.PublicKey(pub)
	err = s.Update(ctx, func(tx detente.Tx) error {
		if other, err := tx.Meta(ctx, "name"); err == nil {
			return detente.Errorf(detente.EEXISTS, "the database already holds node %s; nothing changed", other)
		}
		ev, err := detente.NewEvent(time.Now(), detente.EventNodeInit, "", map[string]string{"name": name, "key": key.String()})
		if err != nil {
			return err
		}
		return errors.Join(tx.SetMeta(ctx, "name", name), tx.SetMeta(ctx, "key", key.String()), tx.AppendEvent(ctx, ev))
	})
	if err != nil {
		s.Close()
		undo()
		return nil, fmt.Errorf("initialise store: %w", err)
	}
	return key, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// ReadConfig reads dir's config.json.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, detente.Errorf(detente.ENOTFOUND, "%s is not a node's data directory (no %s): run 'detente init --dir %s --name NAME' first", dir, ConfigFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "%s: %v", ConfigFile, err)
	}
	if !detente.ValidName(c.Name) {
		return nil, detente.Errorf(detente.EINVALID, "%s: name %q is not valid", ConfigFile, c.Name)
	}
	if _, err := c.clockSkew(); err != nil {
		return nil, err
	}
	return &c, nil
}

// clockSkew returns MaxClockSkew, DefaultMaxSkew when unset.
func (c *Config) clockSkew() (time.Duration, error) {
	if c.MaxClockSkew == "" {
		return DefaultMaxSkew, nil
	}
	d, err := time.ParseDuration(c.MaxClockSkew)
	if err != nil || d <= 0 {
		return 0, detente.Errorf(detente.EINVALID, "%s: max_clock_skew %q is not a positive duration such as \"24h\"", ConfigFile, c.MaxClockSkew)
	}
	return d, nil
}

// ReadKey reads dir's private key. It refuses a key file that others can
// read.
func ReadKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read node key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, detente.Errorf(detente.EINVALID, "%s is readable by others (mode %v): run 'chmod 600 %s'", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read node key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, detente.Errorf(detente.EINVALID, "%s is not a PEM private key", KeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "%s: %v", KeyFile, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, detente.Errorf(detente.EINVALID, "%s is not an Ed25519 key", KeyFile)
	}
	return priv, nil
}

// Open opens the node in dir: its config, key and store.
func Open(ctx context.Context, dir string, logger *slog.Logger) (*Node, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	priv, err := ReadKey(dir)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, dir, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := New(cfg.Name, priv, store, logger)
	n.MaxSkew, _ = cfg.clockSkew() // checked by ReadConfig
	return n, nil
}

// Migrate reports the schema version of dir's store and the newest this
// program knows, applying pending migrations first when apply is set. It
// never migrates a SQLite store it only reports on.
func Migrate(ctx context.Context, dir string, apply bool) (have, known int, err error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return 0, 0, err
	}
	if IsPostgres(cfg.Store) {
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
	if !apply {
		return sqlite.SchemaVersionAt(ctx, filepath.Join(dir, DBFile))
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, DBFile)) // Open migrates
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	return s.SchemaVersion(ctx)
}
