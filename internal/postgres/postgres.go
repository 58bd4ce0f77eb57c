// Package postgres implements detente.Store on PostgreSQL
// (github.com/jackc/pgx/v5), for a node that outgrows one machine: several
// `detente serve` processes share one database and behave as one node.
//
// Update runs SERIALIZABLE transactions and retries serialisation failures
// and deadlocks; View runs read-only REPEATABLE READ transactions. Appending
// to the log and storing object versions lock the one-row write_head table
// until the transaction commits, so log positions are assigned without gaps
// or duplicates across processes, and object Seq and Added become visible in
// commit order, which TAXII cursors need (docs/operations.md). Concurrent
// Update calls of one process share a transaction and its commit, each
// after its own savepoint (group.go), and statements whose result is not
// needed at once travel with the next round trip (pipe.go).
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the key of the session advisory lock that Migrate holds,
// so that processes starting together apply each migration once.
const migrationLock int64 = 0x64657465_6e746501 // "detente" 01

// maxAttempts bounds how often Update runs fn when the database reports
// serialisation failures or deadlocks.
const maxAttempts = 20

// Store is a detente.Store on PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	groups groups
	hashes hashCache
	// process names this store's row in commit_barrier.
	process string
	// noEarlyRelease turns early lock release off (a benchmark compares).
	noEarlyRelease bool
}

var _ detente.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string), applies any pending migrations and returns the store.
// It refuses a database whose schema is newer than this program knows, and
// a connection whose commits are not durable (synchronous_commit off), with
// an EINVALID error.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := s.checkDurable(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkDurable refuses a connection on which commits return before they
// are on disk: the log's checkpoints, which partners cosign, and the commit
// barriers of early lock release rely on durable commits. Every value but
// "off" flushes locally before a commit returns.
func (s *Store) checkDurable(ctx context.Context) error {
	var v string
	if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
		return fmt.Errorf("read synchronous_commit: %w", translate(err))
	}
	if v == "off" {
		return detente.Errorf(detente.EINVALID, "the database's synchronous_commit is off for this connection (server, database, role or URL setting): "+
			"a crash could lose commits partners have seen in a checkpoint; set it to on")
	}
	return nil
}

// Connect connects to the database at url without looking at or changing
// its schema: for operator commands that report or apply migrations
// (`detente migrate status|up`). Everything else uses Open.
func Connect(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, detente.Errorf(detente.EINVALID, "store URL is not a valid PostgreSQL connection string")
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		// The store's queries are short and run through indexes. PostgreSQL
		// compiles a query when its cost estimate is high, as it is after
		// a bulk load before autovacuum has analysed the tables, and the
		// compiling cost 5 ms for a page's 1.5 ms query. Set once per
		// connection rather than as a startup parameter, which PgBouncer
		// refuses unless told to ignore it; the URL's own jit parameter
		// decides instead when it has one.
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET jit = off")
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", translate(err))
	}
	return &Store{pool: pool, process: newProcessID()}, nil
}

// newProcessID returns a random name for a store's commit barrier row.
func newProcessID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Close removes the store's commit barrier row and closes the connection
// pool.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.pool.Exec(ctx, `DELETE FROM commit_barrier WHERE process = $1`, s.process) // best effort: a left row is harmless
	s.pool.Close()
	return nil
}

// migrations returns the embedded migration files, oldest first.
func migrations() ([]string, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// Migrate applies the embedded migrations the database lacks, each in its
// own transaction, recording each in the schema_migrations table. Processes
// that migrate together wait for each other. It refuses, with an EINVALID
// error, a schema newer than this program knows.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := migrations()
	if err != nil {
		return err
	}
	return s.migrateTo(ctx, len(names))
}

// migrateTo applies the migrations up to version n (tests stop short of the
// newest to check upgrades).
func (s *Store) migrateTo(ctx context.Context, n int) error {
	names, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", translate(err))
	}
	defer func() {
		// A cancelled ctx must not leave the lock held by a pooled connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", translate(err))
	}
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if current > len(names) {
		return detente.Errorf(detente.EINVALID, "database schema version %d is newer than this program knows (%d): upgrade detente", current, len(names))
	}
	for i := current; i < n; i++ {
		body, err := migrationFS.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("read migration %s: %w", names[i], err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", names[i], err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				i+1, strings.TrimPrefix(names[i], "migrations/")); err != nil {
				return fmt.Errorf("record migration %s: %w", names[i], err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var have int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: a database never migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", translate(err))
	}
	return have, nil
}

// SchemaVersion returns the schema version of the database and the newest
// version this program knows.
func (s *Store) SchemaVersion(ctx context.Context) (have, known int, err error) {
	names, err := migrations()
	if err != nil {
		return 0, 0, err
	}
	have, err = schemaVersion(ctx, s.pool)
	return have, len(names), err
}

// View implements detente.Store.
func (s *Store) View(ctx context.Context, fn func(detente.Tx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	defer conn.Release()
	tx := newTx(s, conn.Conn(), true)
	// Also covers a panic in fn.
	defer tx.rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit(ctx)
}

var errBusy = detente.Errorf(detente.EUNAVAILABLE, "database is busy, try again")

// retryable reports whether err is a serialisation failure or a deadlock,
// after which the whole transaction may be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// translate turns PostgreSQL errors people can act on into *detente.Error.
// The original error stays in the message, for the log, but not in the
// chain: detente.ErrorMessage shows users only the *detente.Error's message.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return detente.Errorf(detente.ECONFLICT, "already stored")
		case retryable(err):
			return fmt.Errorf("%w (%v)", errBusy, err)
		case pe.Code == "25006": // read_only_sql_transaction
			return detente.Errorf(detente.EINTERNAL, "write in a read-only transaction")
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: disk full, out of memory, too many connections
			return fmt.Errorf("%w (%v)", detente.Errorf(detente.EUNAVAILABLE, "database is out of resources"), err)
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"): // connection exceptions, shutdowns
			return fmt.Errorf("%w (%v)", errUnavailable, err)
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) {
		return fmt.Errorf("%w (%v)", errUnavailable, err)
	}
	return err
}

var errUnavailable = detente.Errorf(detente.EUNAVAILABLE, "database is unavailable")

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

// arg returns the next placeholder, "$n", after appending v to args.
func arg(args *[]any, v any) string {
	*args = append(*args, v)
	return "$" + strconv.Itoa(len(*args))
}

// Lease takes the cluster-wide lease called name if no other process holds
// it, on a connection of its own: a PostgreSQL session advisory lock, so a
// process that dies loses its leases with its connection and another takes
// over. It reports false when another process holds the lease. release
// gives it back.
func (s *Store) Lease(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lease %s: %w", name, translate(err))
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, "detente-lease/"+name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lease %s: %w", name, translate(err))
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "detente-lease/"+name); err != nil {
			// The session may still hold the lock: close it rather than
			// return it to the pool, which would keep the lease for ever.
			conn.Hijack().Close(ctx)
			return
		}
		conn.Release()
	}, true, nil
}
