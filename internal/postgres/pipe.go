package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"detente"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A Tx sends its statements in pipelines: a statement whose result the
// caller does not need at once (a log entry's row, a new object version's
// row, the write head's new value) is queued, and sent together with the
// next statement whose result is needed, or with COMMIT. BEGIN goes with the
// first statement. So appending an event costs two round trips to the
// server (lock and read the write head; insert and commit), not eight.
//
// A queued statement that fails is reported by the send that carries it,
// to whichever call made that send; Tx.broken keeps the first such error
// and the Update call it belongs to (its owner), so that Update can roll
// back exactly the work that failed and report the error to that caller.

// stmt is a queued statement.
type stmt struct {
	owner int // index of the Update call in its group that queued it
	what  string
	sql   string
	args  []any
}

// beginSQL returns the statement that begins the transaction.
func (t *Tx) beginSQL() string {
	if t.readOnly {
		return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	}
	return "BEGIN ISOLATION LEVEL SERIALIZABLE"
}

// dbctx is the context statements run under: in a group of calls, one
// caller giving up must not abort the transaction the others share, so
// cancellation is checked between statements only (send).
func (t *Tx) dbctx(ctx context.Context) context.Context {
	if t.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// enqueue queues a statement whose result is not needed.
func (t *Tx) enqueue(what, sql string, args ...any) {
	t.queue = append(t.queue, stmt{owner: t.owner, what: what, sql: sql, args: args})
}

// send sends the queued statements, then those last queues (when not nil),
// in one round trip, and runs their callbacks. An error of a statement the
// queue held is recorded in t.broken.
func (t *Tx) send(ctx context.Context, last func(b *pgx.Batch)) error {
	if t.broken != nil {
		return t.broken
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := &pgx.Batch{}
	if !t.began {
		b.Queue(t.beginSQL())
		t.began = true
	}
	t.queueTo(b)
	n := len(b.QueuedQueries)
	if last != nil {
		last(b)
		for _, qq := range b.QueuedQueries[n:] {
			fn := qq.Fn
			owner := t.owner
			qq.Fn = func(br pgx.BatchResults) error {
				var err error
				if fn != nil {
					err = fn(br)
				} else {
					_, err = br.Exec()
				}
				if err != nil && t.broken == nil {
					t.broken, t.brokenBy, t.brokenByServer = t.fail(err), owner, serverError(err)
				}
				return err
			}
		}
	}
	if len(b.QueuedQueries) == 0 {
		return nil
	}
	t.sends++
	err := t.conn.SendBatch(t.dbctx(ctx), b).Close()
	if err == nil {
		return nil
	}
	if t.broken == nil { // BEGIN, or the connection
		t.broken, t.brokenBy, t.brokenByServer = t.fail(err), t.owner, serverError(err)
	}
	return t.broken
}

// queueTo moves the queued statements into b.
func (t *Tx) queueTo(b *pgx.Batch) {
	for _, s := range t.queue {
		b.Queue(s.sql, s.args...).Fn = func(br pgx.BatchResults) error {
			if _, err := br.Exec(); err != nil {
				return t.failed(s, err)
			}
			return nil
		}
	}
	t.queue = t.queue[:0]
}

// failed records err, the error of queued statement s, and returns it.
func (t *Tx) failed(s stmt, err error) error {
	if t.broken == nil {
		t.broken, t.brokenBy, t.brokenByServer = fmt.Errorf("%s: %w", s.what, t.fail(err)), s.owner, serverError(err)
	}
	return t.broken
}

// serverError reports whether err is an error the server reported for a
// statement, leaving the connection usable.
func serverError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Severity != "FATAL" && pe.Severity != "PANIC"
}

// exec runs a statement now, after the queued ones.
func (t *Tx) exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	if t.readOnly {
		return pgconn.CommandTag{}, errReadOnly
	}
	var tag pgconn.CommandTag
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(query, args...).Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	})
	return tag, err
}

// each runs query, after the queued statements, and calls scan for every
// row.
func (t *Tx) each(ctx context.Context, query string, args []any, scan func(pgx.Rows) error) error {
	var scanErr error
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(query, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := scan(rows); err != nil {
					scanErr = err
					return nil // not the database's error: the transaction goes on
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	return scanErr
}

// one runs a query for one row; it returns found false, and no error, when
// there is none.
func (t *Tx) one(ctx context.Context, query string, args []any, dest ...any) (found bool, err error) {
	err = t.each(ctx, query, args, func(rows pgx.Rows) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	})
	return found && err == nil, err
}

// ---- savepoints, commit and rollback ----

// mark is the state of a Tx at a savepoint, restored when the work after
// it is rolled back.
type mark struct {
	name    string
	sends   int // t.sends when the SAVEPOINT was queued: not sent while equal
	queued  int // len(t.queue) before the SAVEPOINT
	locked  bool
	head    writeHead
	hasHead bool
	dirty   bool
	hashes  int // len(t.hashLog)
}

// savepoint queues a SAVEPOINT and returns the state to restore when the
// work after it is rolled back.
func (t *Tx) savepoint(i int) mark {
	m := mark{name: "g" + strconv.Itoa(i), sends: t.sends, queued: len(t.queue),
		locked: t.locked, dirty: t.dirty, hashes: len(t.hashLog)}
	if t.head != nil {
		m.head, m.hasHead = *t.head, true
	}
	t.enqueue("savepoint", "SAVEPOINT "+m.name)
	return m
}

// rollbackTo undoes everything after m, in the database and in t. Locks
// taken after m are released with it: the write head is read again when
// next needed.
func (t *Tx) rollbackTo(ctx context.Context, m mark) error {
	if t.sends == m.sends && len(t.queue) > m.queued {
		t.queue = t.queue[:m.queued] // the SAVEPOINT was never sent: nothing to undo there
	} else {
		t.queue = t.queue[:0]
		t.broken = nil
		if _, err := t.conn.Exec(t.dbctx(ctx), "ROLLBACK TO SAVEPOINT "+m.name); err != nil {
			return fmt.Errorf("roll back to savepoint: %w", t.fail(err))
		}
		t.sends++
	}
	t.broken = nil
	t.locked, t.dirty = m.locked, m.dirty
	t.head = nil
	if m.hasHead {
		h := m.head
		t.head = &h
	}
	for _, n := range t.hashLog[m.hashes:] {
		delete(t.hashes, n)
	}
	t.hashLog = t.hashLog[:m.hashes]
	return nil
}

// commit sends the queued statements, the write head's new value and
// COMMIT. It does nothing when no statement was ever needed.
func (t *Tx) commit(ctx context.Context) error {
	if !t.began && len(t.queue) == 0 && !t.dirty {
		return nil
	}
	if t.dirty {
		t.enqueue("write write head", `UPDATE write_head SET events = $1, objects = $2, added = $3`,
			t.head.events, t.head.objects, t.head.added)
		t.dirty = false
	}
	// Early lock release: a transaction holding the write head commits
	// without waiting for its flush, so the head passes to the next writer
	// (in any process) at once. In the same pipeline, a barrier follows:
	// the store bumps its row in commit_barrier in a synchronous commit,
	// which PostgreSQL acknowledges only when the WAL up to its commit
	// record, and so every earlier one, this transaction's included, is
	// durable. Nobody is told of the commit before that, and it costs no
	// round trip of its own. A transaction that stores a checkpoint commits
	// synchronously: a checkpoint must be durable before any process can
	// serve it.
	early := t.locked && !t.syncCommit && !t.store.noEarlyRelease
	if early {
		t.enqueue("commit early", `SET LOCAL synchronous_commit = off`)
	}
	var rolledBack, committed bool
	// Once sent, COMMIT (and its barrier) runs to the end: a caller giving
	// up now could only make the outcome unknown.
	err := t.send(context.WithoutCancel(ctx), func(b *pgx.Batch) {
		b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
			rolledBack = ct.String() == "ROLLBACK"
			committed = !rolledBack
			return nil
		})
		if early {
			b.Queue(`INSERT INTO commit_barrier (process, n) VALUES ($1, 1)
				ON CONFLICT (process) DO UPDATE SET n = commit_barrier.n + 1`, t.store.process)
		}
	})
	if err != nil && (committed || !t.brokenByServer) {
		// Either the COMMIT went through and the barrier failed, or the
		// connection failed during the commit: the work may well be
		// stored, so it must not be run again. The callers are told it
		// failed, as PostgreSQL's own clients are when a connection drops
		// during COMMIT.
		t.retry, t.broken, t.brokenByServer = false, nil, false
		if committed {
			t.began = false
			return fmt.Errorf("%w (%v)", errUnconfirmed, err)
		}
		return fmt.Errorf("%w (%v)", errOutcomeUnknown, err)
	}
	if err != nil {
		return err // a statement failed: nothing was committed
	}
	if rolledBack { // an error earlier in the transaction that fn did not return
		return errors.New("the transaction was aborted by an earlier error")
	}
	t.began = false
	return nil
}

// Outcomes of a commit that cannot be retried.
var (
	errUnconfirmed    = detente.Errorf(detente.EUNAVAILABLE, "the database committed the change but did not confirm that it is on disk")
	errOutcomeUnknown = detente.Errorf(detente.EUNAVAILABLE, "the connection to the database failed during the commit: the change may or may not be stored")
)

// rollback ends the transaction without committing, if it began.
func (t *Tx) rollback(ctx context.Context) {
	t.queue = t.queue[:0]
	if t.began && t.conn.PgConn().TxStatus() != 'I' {
		if _, err := t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			t.conn.Close(context.WithoutCancel(ctx)) // the pool discards it
		}
	}
	t.began = false
}
