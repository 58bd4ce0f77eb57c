package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/pgtest"
	"detente/internal/postgres"

	"github.com/jackc/pgx/v5"
)

// waitFor waits until cond holds, failing t after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// TestGroupCommit holds one Update open while others queue behind it, so
// that those run as one group: they share a transaction, and a call that
// fails, one that panics and one whose caller gives up while waiting
// change nothing for the others. The failing call is the first of its
// group and had taken the write head, which its rollback gives back.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(tx detente.Tx) error {
			close(entered)
			<-release
			return tx.SetMeta(ctx, "k", "v") // not the write head: the next group locks it itself
		})
	}()
	<-entered

	boom := errors.New("boom")
	const n = 8 // calls in the group: 0 fails, 1 panics, 2 gives up, the rest append
	var (
		mu      sync.Mutex
		txs     = map[detente.Tx]bool{}
		errs    = make([]error, n)
		events  = make([]*detente.Event, n)
		ran2    bool
		wg      sync.WaitGroup
		cancel2 context.CancelFunc
	)
	for i := range n {
		cctx := ctx
		if i == 2 {
			cctx, cancel2 = context.WithCancel(ctx)
		}
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic: %v", p)
				}
			}()
			events[i] = event(1, i)
			errs[i] = s.Update(cctx, func(tx detente.Tx) error {
				mu.Lock()
				txs[tx] = true
				if i == 2 {
					ran2 = true
				}
				mu.Unlock()
				if err := tx.AppendEvent(ctx, events[i]); err != nil {
					return err
				}
				switch i {
				case 0:
					return boom
				case 1:
					panic("fn panicked")
				}
				return nil
			})
		})
		waitFor(t, "the call to queue", func() bool { return s.Waiting() == i+1 }) // in order
	}
	cancel2()
	waitFor(t, "the cancelled call to leave", func() bool { return s.Waiting() == n-1 })
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	if errs[0] != boom {
		t.Errorf("failing call: %v, want its own error unchanged", errs[0])
	}
	if errs[1] == nil || errs[1].Error() != "panic: fn panicked" {
		t.Errorf("panicking call: %v, want its panic in its caller", errs[1])
	}
	if !errors.Is(errs[2], context.Canceled) || ran2 {
		t.Errorf("call given up while waiting: %v (fn ran: %v), want context.Canceled and fn not run", errs[2], ran2)
	}
	if len(txs) != 1 {
		t.Errorf("the %d queued calls ran in %d transactions, want one group", n-1, len(txs))
	}
	stored := checkLog(t, s, n-3)
	for i := 3; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		e := stored[events[i].Seq]
		if string(e.Body) != string(events[i].Body) {
			t.Errorf("call %d was told seq %d, which holds %s", i, events[i].Seq, e.Body)
		}
	}
}

// TestGroupCommitTwoStores appends from many goroutines through two stores
// (two processes) at once, so that calls are grouped and groups collide:
// some calls read before appending (their snapshot predates the lock, so
// their group is retried), and every fifth fails after appending. Every
// call that returned nil is committed when it returns, at the seq it was
// told, exactly once; no failed call left anything; the log is gapless and
// verifies.
func TestGroupCommitTwoStores(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	stores := []*postgres.Store{openURL(t, url), openURL(t, url)}
	const writers, each = 16, 15
	boom := errors.New("boom")
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[[2]int]int64{}
	errs := make(chan error, writers*each)
	for w := range writers {
		s, other := stores[w%2], stores[(w+1)%2]
		wg.Go(func() {
			for i := range each {
				e := event(w, i)
				fail := (w*each+i)%5 == 0
				err := s.Update(ctx, func(tx detente.Tx) error {
					if i%2 == 0 {
						if _, err := tx.CountEvents(ctx); err != nil {
							return err
						}
					}
					if err := tx.AppendEvent(ctx, e); err != nil {
						return err
					}
					if fail {
						return boom
					}
					return nil
				})
				if fail {
					if err != boom {
						errs <- fmt.Errorf("writer %d call %d: %v, want its own error", w, i, err)
					}
					continue
				}
				if err != nil {
					errs <- err
					continue
				}
				// Committed on return: the other process sees it.
				err = other.View(ctx, func(tx detente.Tx) error {
					got, err := tx.Events(ctx, detente.EventFilter{FromSeq: e.Seq, Limit: 1})
					if err != nil {
						return err
					}
					if len(got) != 1 || string(got[0].Body) != string(e.Body) {
						return fmt.Errorf("writer %d call %d returned seq %d, not visible there once it returned", w, i, e.Seq)
					}
					return nil
				})
				if err != nil {
					errs <- err
				}
				mu.Lock()
				committed[[2]int{w, i}] = e.Seq
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	events := checkLog(t, stores[0], len(committed))
	for _, e := range events {
		var b struct{ W, I int }
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		seq, ok := committed[[2]int{b.W, b.I}]
		if !ok || seq != e.Seq {
			t.Errorf("event %d/%d at seq %d: reported %d, %v", b.W, b.I, e.Seq, seq, ok)
		}
		delete(committed, [2]int{b.W, b.I})
	}
}

// TestEarlyLockRelease checks how transactions holding the write head
// commit: asynchronously, releasing the head at once, followed by a commit
// barrier (a synchronous commit in this store's row of commit_barrier)
// before Update returns; a transaction that stores a checkpoint commits
// synchronously instead, so that a checkpoint is durable before any
// process can serve it; one that does not touch the head needs neither.
func TestEarlyLockRelease(t *testing.T) {
	ctx := context.Background()
	s := openURL(t, pgtest.URL(t))
	barriers := func() int64 {
		t.Helper()
		n, err := s.Barriers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(0, 0)) }); err != nil {
		t.Fatal(err)
	}
	if n := barriers(); n != 1 {
		t.Fatalf("after an append: %d barriers, want 1", n)
	}
	err := s.Update(ctx, func(tx detente.Tx) error {
		if err := tx.AppendEvent(ctx, event(0, 1)); err != nil {
			return err
		}
		return tx.PutCheckpoint(ctx, &detente.Checkpoint{Size: 2, Note: []byte("note"), Time: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := barriers(); n != 1 {
		t.Errorf("after an append with a checkpoint: %d barriers, want 1 (a synchronous commit)", n)
	}
	// The first write after a group that used the head takes the head first
	// (a hint that the next will too); the second does not.
	for _, v := range []string{"v1", "v2"} {
		if err := s.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, "k", v) }); err != nil {
			t.Fatal(err)
		}
	}
	before := barriers()
	if err := s.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, "k", "v3") }); err != nil {
		t.Fatal(err)
	}
	if n := barriers(); n != before {
		t.Errorf("a write without the head passed a barrier (%d, then %d)", before, n)
	}
	checkLog(t, s, 2)
}

// TestBarrierFailure: when the commit barrier fails after the COMMIT went
// through, the transaction is not run again (which would append its events
// twice) and the caller is told that the outcome is not confirmed.
func TestBarrierFailure(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := openURL(t, url)
	if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(0, 0)) }); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A trigger that fails the next barrier with a serialisation failure,
	// the error that makes the store run a transaction again.
	_, err = conn.Exec(ctx, `CREATE TABLE fail_once (armed boolean);
		INSERT INTO fail_once VALUES (true);
		CREATE FUNCTION fail_barrier() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF (SELECT armed FROM fail_once) THEN
				UPDATE fail_once SET armed = false;
				RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_barrier BEFORE UPDATE ON commit_barrier FOR EACH ROW EXECUTE FUNCTION fail_barrier();`)
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	err = s.Update(ctx, func(tx detente.Tx) error {
		runs++
		return tx.AppendEvent(ctx, event(0, 1))
	})
	if detente.ErrorCode(err) != detente.EUNAVAILABLE || !strings.Contains(err.Error(), "did not confirm") {
		t.Errorf("Update after a failed barrier: %v, want EUNAVAILABLE saying the commit is not confirmed", err)
	}
	if runs != 1 {
		t.Errorf("the function ran %d times, want 1", runs)
	}
	checkLog(t, s, 2) // committed once, not twice
}
