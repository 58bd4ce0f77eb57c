package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"detente"

	"github.com/jackc/pgx/v5"
)

// Tx is a detente.Tx on one PostgreSQL transaction. Update may run the
// functions of several concurrent calls in one Tx, one after the other,
// each after a savepoint (group.go).
type Tx struct {
	conn     *pgx.Conn
	store    *Store
	readOnly bool
	// shared is set when the transaction runs the functions of several
	// Update calls (dbctx).
	shared bool
	// owner is the index, in its group, of the Update call whose function
	// is running.
	owner int

	// began is set once BEGIN is sent or queued to be sent.
	began bool
	// queue holds the statements not sent yet (pipe.go); sends counts the
	// round trips made.
	queue []stmt
	sends int
	// broken is the first error of a statement the database ran, and
	// brokenBy the call it belongs to; every later statement fails with it
	// until Update rolls that call's work back.
	broken   error
	brokenBy int
	// brokenByServer is set when broken is an error the server reported for
	// a statement (so the transaction is aborted and nothing committed), not
	// a failure of the connection.
	brokenByServer bool

	// locked is set once the transaction holds the write head's table lock.
	locked bool
	// head is the write head as this transaction moves it, nil until read
	// under the lock; dirty when it must be written back before commit.
	head  *writeHead
	dirty bool
	// wantHead is set when fn needed the write head, so a retry takes the
	// lock first.
	wantHead bool
	// retry is set when the database aborted the transaction with a
	// serialisation failure or a deadlock: running fn again may succeed.
	retry bool
	// syncCommit is set when the transaction must commit synchronously
	// even if it holds the write head (it stores a checkpoint).
	syncCommit bool
	// appending is set while AppendEvent writes the tree hashes of its leaf.
	appending bool

	// hashes caches the log hashes read and written in this transaction;
	// hashLog lists its keys in the order they were added, so that a
	// rollback to a savepoint can remove the later ones.
	hashes  map[detente.LogNode]detente.LogHash
	hashLog []detente.LogNode
}

// writeHead is the write_head row.
type writeHead struct {
	events  int64 // the log's size
	objects int64 // the last object seq
	added   int64 // the last object added time, Unix ns
}

var _ detente.Tx = (*Tx)(nil)

func newTx(s *Store, conn *pgx.Conn, readOnly bool) *Tx {
	return &Tx{store: s, conn: conn, readOnly: readOnly, hashes: map[detente.LogNode]detente.LogHash{}}
}

// fail records whether err aborted the transaction in a way a retry can
// cure, and translates it.
func (t *Tx) fail(err error) error {
	if retryable(err) {
		t.retry = true
	}
	return translate(err)
}

// addHash caches h as the hash of n in this transaction.
func (t *Tx) addHash(n detente.LogNode, h detente.LogHash) {
	if _, ok := t.hashes[n]; !ok {
		t.hashLog = append(t.hashLog, n)
	}
	t.hashes[n] = h
}

// cachedHash returns the hash of n if the store has it cached. Only a
// transaction holding the write head asks: its snapshot holds every
// committed append, so no cached hash is newer than what it sees.
func (t *Tx) cachedHash(n detente.LogNode) (detente.LogHash, bool) {
	if !t.locked || t.head == nil || t.readOnly {
		return detente.LogHash{}, false
	}
	return t.store.hashes.get(n)
}

var errReadOnly = detente.Errorf(detente.EINTERNAL, "write in a read-only transaction")

func notFound(what string, args ...any) error {
	return detente.Errorf(detente.ENOTFOUND, what, args...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("postgres: marshal %T: %v", v, err)) // only plain domain data is marshalled
	}
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- the write head ----

// lockHead locks the write head until the transaction ends and reads it,
// in one round trip: LOCK TABLE … IN EXCLUSIVE MODE (which conflicts with
// itself and with row locks, not with plain reads: Views and backups go on)
// and SELECT … FOR UPDATE. As the first statements of a transaction they
// come before its snapshot, which is then current for the lock holder.
// When the snapshot is older than the last change of the head (it was taken
// before the lock was granted), SELECT … FOR UPDATE fails with a
// serialisation failure and Update runs fn again, the lock first.
func (t *Tx) lockHead(ctx context.Context) error {
	t.wantHead = true
	if t.head != nil {
		return nil
	}
	if !t.locked {
		t.enqueue("lock write head", `LOCK TABLE write_head IN EXCLUSIVE MODE`)
		t.locked = true
	}
	var h writeHead
	if _, err := t.one(ctx, `SELECT events, objects, added FROM write_head FOR UPDATE`, nil, &h.events, &h.objects, &h.added); err != nil {
		return fmt.Errorf("read write head: %w", err)
	}
	t.head = &h
	return nil
}
