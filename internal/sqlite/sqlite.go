// Package sqlite implements detente.Store on an embedded SQLite database
// (modernc.org/sqlite, no cgo), the node's default storage: one file in the
// data directory and nothing to install.
//
// The database runs in WAL mode with a busy timeout, so operator commands
// can work on a data directory while `detente serve` runs on it. Writes go
// through one connection with BEGIN IMMEDIATE, reads through a pool of
// read-only connections that see consistent snapshots.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"detente"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a detente.Store on SQLite.
type Store struct {
	w *sql.DB // one connection, BEGIN IMMEDIATE
	r *sql.DB // read-only pool
}

var _ detente.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// any pending migrations. It refuses a database whose schema is newer than
// this program knows.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	return s, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// A 32 MiB page cache per connection (the default is 2 MiB): a TAXII
	// page, a sync page or a feed page touches the objects table and its
	// indexes all over, and re-reading pages from the OS costs a system
	// call each.
	q.Add("_pragma", "cache_size(-32768)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes both connection pools.
func (s *Store) Close() error {
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	return errors.Join(s.w.Close(), errR)
}

// Update implements detente.Store.
func (s *Store) Update(ctx context.Context, fn func(detente.Tx) error) error {
	return s.run(ctx, s.w, false, fn)
}

// View implements detente.Store.
func (s *Store) View(ctx context.Context, fn func(detente.Tx) error) error {
	return s.run(ctx, s.r, true, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(detente.Tx) error) error {
	sqltx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	tx := &Tx{tx: sqltx, readOnly: readOnly, stmts: map[string]*sql.Stmt{}, nextSeq: -1, lastAdded: -1,
		hashes: map[detente.LogNode]detente.LogHash{}}
	defer func() {
		if p := recover(); p != nil {
			// Rolled back, or the connection (the only writer's, for an
			// update) would stay in the transaction.
			tx.close()
			sqltx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.close()
		sqltx.Rollback()
		return err
	}
	tx.close()
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// translate turns SQLite errors people can act on into *detente.Error.
func translate(err error) error {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
			return detente.Errorf(detente.EUNAVAILABLE, "database is busy, try again")
		case sqlite3lib.SQLITE_FULL:
			return detente.Errorf(detente.EUNAVAILABLE, "disk is full")
		case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return detente.Errorf(detente.ECONFLICT, "already stored")
		}
	}
	return err
}

// migrate applies the embedded migrations not yet applied, each in its own
// transaction, recording the schema version in PRAGMA user_version.
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateTo(ctx, -1)
}

// migrateTo is migrate up to version upTo only (every one when negative),
// for upgrade tests.
func (s *Store) migrateTo(ctx context.Context, upTo int) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	if upTo >= 0 && upTo < len(names) {
		names = names[:upTo]
	}
	var current int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", translate(err))
	}
	if current > len(names) && upTo < 0 {
		return detente.Errorf(detente.EINVALID, "database schema version %d is newer than this program knows (%d): upgrade detente", current, len(names))
	}
	for i := current; i < len(names); i++ {
		body, err := migrationFS.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("read migration %s: %w", names[i], err)
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin migration: %w", translate(err))
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", names[i], err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", names[i], translate(err))
		}
	}
	return nil
}

// SchemaVersion returns the schema version of the open database and the
// newest version this program knows.
func (s *Store) SchemaVersion(ctx context.Context) (have, known int, err error) {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	err = s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have)
	return have, len(names), err
}

// nanos encodes t as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Compact checkpoints the write-ahead log into the database file and
// rebuilds the file without free pages (VACUUM). It takes the write lock
// for as long as it runs.
func (s *Store) Compact(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum: %w", translate(err))
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint wal: %w", translate(err))
	}
	return nil
}

// SchemaVersionAt reports the schema version of the database at path and
// the newest this program knows, without migrating it.
func SchemaVersionAt(ctx context.Context, path string) (have, known int, err error) {
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return 0, 0, fmt.Errorf("open sqlite: %w", err)
	}
	defer db.Close()
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", translate(err))
	}
	return have, len(names), nil
}
