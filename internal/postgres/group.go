package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"detente"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit. A transaction that appends to the log or stores an object
// holds the write head through its commit, so such transactions commit one
// at a time, across all processes, each paying a disk flush. Update
// therefore gathers the calls made while a transaction is under way and
// runs their functions in the next transaction, one after the other, each
// after a SAVEPOINT: a function that fails is rolled back to its savepoint
// and only its caller gets the error; the others commit together, with one
// flush, and every caller returns once that commit is durable. The busier
// the store, the bigger the groups: while one process holds the write head
// and commits, the others gather.
//
// One call of each group leads it: the first caller when none is under
// way, then the oldest waiting caller, so no goroutine runs for long on
// behalf of others and none is started.

// maxGroup bounds the calls run in one transaction. Each savepoint is a
// subtransaction, and PostgreSQL tracks at most 64 of them per transaction
// cheaply.
const maxGroup = 32

// call is one Update call.
type call struct {
	// ctx is the caller's context, carried with the call because the call
	// is queued and run by another goroutine, the group's leader, as
	// http.Request carries its own: the leader skips a call whose caller
	// has given up, and runs a lone call's statements under it. It is a
	// request in flight, not a context kept by a long-lived value.
	ctx context.Context
	fn  func(detente.Tx) error
	// wake is signalled when the call is decided or is to lead the next
	// group.
	wake chan struct{}
	lead bool // set, under Store.mu, before wake when the call is to lead

	err      error
	panicked any  // what fn panicked with, to panic with in the caller
	final    bool // err is the outcome
	ok       bool // fn succeeded in the current attempt
}

func (c *call) finish(err error) {
	c.err, c.final, c.ok = err, true, false
}

// errPanicked stands for a panic in fn until it is raised in the caller.
var errPanicked = errors.New("postgres: the transaction function panicked")

// run runs c.fn on tx, turning a panic into errPanicked.
func (c *call) run(tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.panicked, err = p, errPanicked
		}
	}()
	return c.fn(tx)
}

// groups gathers the Update calls of one Store.
type groups struct {
	mu    sync.Mutex
	queue []*call // calls waiting for a group, oldest first
	busy  bool    // a group is under way
	// headHint is set when the last group used the write head: the next
	// takes the lock before gathering its calls, so that the calls that
	// arrive while it waits for another process go in it too.
	headHint bool
}

// Update implements detente.Store. Concurrent calls run in one transaction
// (group commit, above). It retries when PostgreSQL reports a serialisation
// failure or a deadlock; a retry takes the write head's lock before
// anything else when the failed attempt needed it, so a second attempt does
// not fail the same way.
func (s *Store) Update(ctx context.Context, fn func(detente.Tx) error) error {
	c := &call{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	g := &s.groups
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		select {
		case <-c.wake:
		case <-ctx.Done():
			if g.withdraw(c) {
				return ctx.Err()
			}
			<-c.wake // c is in a group, or leads the next: wait for it
		}
		g.mu.Lock()
		lead = c.lead
		g.mu.Unlock()
	}
	if lead {
		s.lead(ctx)
	}
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.err
}

// withdraw removes c from the queue unless it is in a group or is to lead
// the next.
func (g *groups) withdraw(c *call) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.queue, c)
	if i < 0 || c.lead {
		return false
	}
	g.queue = slices.Delete(g.queue, i, i+1)
	return true
}

// lead runs one group, from the oldest waiting call (the leader's own), and
// hands the lead to the oldest call still waiting.
func (s *Store) lead(ctx context.Context) {
	g := &s.groups
	gctx := context.WithoutCancel(ctx) // the group outlives the leader's giving up
	conn, err := s.pool.Acquire(gctx)
	var tx *Tx
	if err == nil {
		g.mu.Lock()
		hint := g.headHint
		g.mu.Unlock()
		if hint {
			tx = newTx(s, conn.Conn(), false)
			if tx.lockHead(gctx) != nil {
				tx.rollback(gctx)
				tx = nil
			} else {
				// Taken on a hint: the group's calls say whether they
				// need it, and so whether the next group should.
				tx.wantHead = false
			}
		}
	}
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	g.mu.Unlock()
	// Whatever happens below, every call of the batch is decided and woken
	// and the lead passes on: a panic outside the calls' functions must not
	// leave the others waiting for ever.
	defer func() {
		p := recover()
		if p != nil {
			if conn != nil {
				conn.Release()
			}
			for _, c := range batch {
				if !c.final {
					c.finish(fmt.Errorf("postgres: internal error: %v", p))
				}
			}
		}
		g.handOff(batch)
		if p != nil {
			panic(p)
		}
	}()

	if err != nil {
		for _, c := range batch {
			c.finish(fmt.Errorf("begin: %w", translate(err)))
		}
	} else {
		wantHead := s.runGroup(gctx, conn, tx, batch)
		c := conn
		conn = nil
		c.Release()
		g.mu.Lock()
		g.headHint = wantHead
		g.mu.Unlock()
	}
}

// handOff wakes the calls of a finished group and passes the lead to the
// oldest call still waiting.
func (g *groups) handOff(batch []*call) {
	for _, c := range batch[1:] { // batch[0] is the leader's own call
		c.wake <- struct{}{}
	}
	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		g.busy = false
	}
	g.mu.Unlock()
}

// runGroup runs the calls of batch in one transaction on conn, retrying as
// Update promises, until each has its outcome. tx, when not nil, has taken
// the write head already. It reports whether the calls used the write head.
func (s *Store) runGroup(ctx context.Context, conn *pgxpool.Conn, tx *Tx, batch []*call) (wantHead bool) {
	single := len(batch) == 1
	hoist := false
	for attempt := 1; ; {
		cctx := s.callCtx(ctx, batch)
		again, counted := true, true
		if tx == nil {
			tx = newTx(s, conn.Conn(), false)
			if hoist {
				if err := tx.lockHead(cctx); err != nil && !tx.retry {
					for _, c := range batch {
						if !c.final {
							c.finish(err)
						}
					}
					again = false
				}
			}
		}
		if tx.broken == nil {
			tx.shared = !single
			again, counted = s.attempt(cctx, tx, batch)
		}
		tx.rollback(ctx) // after a commit, a no-op
		wantHead = wantHead || tx.wantHead
		if !again {
			break
		}
		hoist = hoist || tx.wantHead
		last := tx.broken
		tx = nil
		if !counted {
			continue
		}
		if attempt == maxAttempts {
			for _, c := range batch {
				if !c.final {
					c.finish(fmt.Errorf("%w: gave up after %d attempts: %v", errBusy, attempt, last))
				}
			}
			break
		}
		attempt++
		// Back off a little, with jitter, so that retries do not collide again.
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-cctx.Done():
			for _, c := range batch {
				if !c.final {
					c.finish(cctx.Err())
				}
			}
			return wantHead
		case <-time.After(d):
		}
	}
	for _, c := range batch {
		if !c.final {
			c.finish(errors.New("postgres: internal error: call left undecided"))
		}
	}
	return wantHead
}

// callCtx returns the context the statements of a group run under: a lone
// caller's own, so that giving up cancels its statements as it always did;
// for a group, ctx, which no caller cancels.
func (s *Store) callCtx(ctx context.Context, batch []*call) context.Context {
	if len(batch) == 1 {
		return batch[0].ctx
	}
	return ctx
}

// attempt runs, in tx, the function of every call of batch not yet decided
// and commits their work. It reports whether the transaction must be run
// again for the calls still undecided, and whether that counts as a retry
// of a serialisation failure (the other reason, a queued statement failing
// at commit, decides the call it belongs to, so those retries end).
func (s *Store) attempt(ctx context.Context, tx *Tx, batch []*call) (again, counted bool) {
	multi := len(batch) > 1
	marks := make([]mark, len(batch))
	for _, c := range batch {
		c.ok = false
		if !c.final {
			c.panicked = nil // a panic of an earlier attempt, which was run again
		}
	}
	for i := 0; i < len(batch); i++ {
		c := batch[i]
		if c.final {
			continue
		}
		if err := c.ctx.Err(); err != nil {
			c.finish(err)
			continue
		}
		tx.owner = i // the savepoint belongs to call i too
		if multi {
			marks[i] = tx.savepoint(i)
		}
		err := c.run(tx)
		if tx.retry {
			return true, true
		}
		if tx.broken != nil { // a statement failed: roll back the work of the call it belongs to, and all after
			k, berr := tx.brokenBy, tx.broken
			if k < 0 || k > i || batch[k].final {
				k = i
			}
			if k == i && err != nil {
				berr = err // fn's error, unchanged
			}
			batch[k].finish(berr)
			if !multi {
				return false, false
			}
			if rerr := tx.rollbackTo(ctx, marks[k]); rerr != nil {
				for _, c := range batch {
					if !c.final {
						c.finish(rerr)
					}
				}
				return tx.retry, tx.retry
			}
			for j := k; j <= i; j++ {
				batch[j].ok = false
			}
			i = k - 1 // run the calls from k again
			continue
		}
		if err != nil {
			c.finish(err)
			if multi {
				if rerr := tx.rollbackTo(ctx, marks[i]); rerr != nil {
					for _, c := range batch {
						if !c.final {
							c.finish(rerr)
						}
					}
					return tx.retry, tx.retry
				}
			}
			continue
		}
		c.ok = true
	}
	if !slices.ContainsFunc(batch, func(c *call) bool { return c.ok }) {
		return false, false // the caller rolls back
	}
	tx.owner = -1 // COMMIT's own failure belongs to every call
	err := tx.commit(ctx)
	if err == nil {
		for _, c := range batch {
			if c.ok {
				c.finish(nil)
			}
		}
		s.hashes.add(tx)
		return false, false
	}
	if tx.retry {
		return true, true
	}
	if k := tx.brokenBy; tx.broken != nil && k >= 0 && k < len(batch) && batch[k].ok {
		// A queued statement of call k failed: nothing was committed; run
		// the others again without it.
		batch[k].finish(tx.broken)
		return true, false
	}
	for _, c := range batch {
		if c.ok {
			c.finish(fmt.Errorf("commit: %w", err))
		}
	}
	return false, false
}

// hashCache keeps log hashes committed by this store, so that an append
// does not read back the tree's right edge it has just written. A stored
// hash never changes (the log is append-only), so a cached one stays right.
type hashCache struct {
	mu sync.Mutex
	m  map[detente.LogNode]detente.LogHash
}

// maxCachedHashes bounds the cache; appends need the tree's right edge
// only, a few dozen hashes.
const maxCachedHashes = 1 << 12

func (c *hashCache) get(n detente.LogNode) (detente.LogHash, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[n]
	return h, ok
}

// add caches the hashes tx added last, once tx has committed.
func (c *hashCache) add(tx *Tx) {
	recent := tx.hashLog[max(0, len(tx.hashLog)-256):]
	if len(recent) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(recent) > maxCachedHashes {
		c.m = make(map[detente.LogNode]detente.LogHash, maxCachedHashes)
	}
	for _, n := range recent {
		c.m[n] = tx.hashes[n]
	}
}
