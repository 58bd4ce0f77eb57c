// Package datadir is a node's data directory: its config.json, its private
// key (node.key, mode 0600) and, with the embedded store, node.db. It reads
// and writes the files; which store backs the node is chosen where the
// program is wired (cmd/detente), not here.
package datadir

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"detente"
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
	// modified time may lie, a Go duration such as "48h" (when empty, the
	// node's default of 24 hours): partners' clocks differ, but a version dated far ahead
	// would stay the newest whatever its owner signs later.
	MaxClockSkew string `json:"max_clock_skew,omitempty"`
}

// DefaultListen is where a new node listens.
const DefaultListen = "127.0.0.1:8443"

// IsPostgres reports whether a store setting names a PostgreSQL database.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// ClockSkew returns MaxClockSkew, zero when unset (the node's default).
func (c *Config) ClockSkew() (time.Duration, error) {
	if c.MaxClockSkew == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.MaxClockSkew)
	if err != nil || d <= 0 {
		return 0, detente.Errorf(detente.EINVALID, "%s: max_clock_skew %q is not a positive duration such as \"24h\"", ConfigFile, c.MaxClockSkew)
	}
	return d, nil
}

// Created is a data directory Create made: the node's key and config, and
// how to take it back if what follows (creating the store) fails.
type Created struct {
	Key    ed25519.PrivateKey
	Config *Config
	undo   func()
}

// Undo removes what Create made: the files, the directory if it made it,
// and an embedded store's files.
func (c *Created) Undo() { c.undo() }

// Create makes a new data directory for the node name: a key pair (private
// key mode 0600) and a config naming store ("" or "sqlite" for node.db in
// dir, or a PostgreSQL URL). It refuses, and changes nothing, when dir
// already holds a node. The caller creates the store and undoes on failure.
func Create(dir, name, store string) (*Created, error) {
	if !detente.ValidName(name) {
		return nil, detente.Errorf(detente.EINVALID, "node name %q must be lowercase letters, digits and hyphens, starting with a letter", name)
	}
	if store != "" && store != "sqlite" && !IsPostgres(store) {
		return nil, detente.Errorf(detente.EINVALID, "store %q must be sqlite or a postgres:// URL", store)
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
		for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm"} {
			os.Remove(filepath.Join(dir, f))
		}
		if createdDir {
			os.Remove(dir)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		undo()
		return nil, err
	}
	created = append(created, keyPath)
	if store == "" {
		store = "sqlite"
	}
	cfg := &Config{Name: name, Listen: DefaultListen, Store: store}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	cfgPath := filepath.Join(dir, ConfigFile)
	if err := writeNew(cfgPath, append(b, '\n'), 0o600); err != nil {
		undo()
		return nil, err
	}
	created = append(created, cfgPath)
	return &Created{Key: priv, Config: cfg, undo: undo}, nil
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
	if _, err := c.ClockSkew(); err != nil {
		return nil, err
	}
	return &c, nil
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
