package postgres_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"detente"
	"detente/internal/pgtest"
	"detente/internal/postgres"
)

// Several `detente serve` processes share one database: these tests open
// one store per "process" (each its own connection pool) on one database.

// TestTwoStoresAppend appends events through two stores at once, half of
// the transactions reading before they append (so their snapshot predates
// the lock and they must be retried): the log has every event exactly once,
// at contiguous positions, and its tree verifies.
func TestTwoStoresAppend(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	stores := []*postgres.Store{openURL(t, url), openURL(t, url)}
	const writers, each = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range each {
				errs <- s.Update(ctx, func(tx detente.Tx) error {
					if i%2 == 0 {
						if _, err := tx.CountEvents(ctx); err != nil {
							return err
						}
					}
					return tx.AppendEvent(ctx, event(w, i))
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent append: %v", err)
		}
	}
	events := checkLog(t, stores[1], writers*each)
	seen := map[[2]int]bool{}
	for _, e := range events {
		var b struct{ W, I int }
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		if seen[[2]int{b.W, b.I}] {
			t.Fatalf("event %d/%d stored twice", b.W, b.I)
		}
		seen[[2]int{b.W, b.I}] = true
	}
}

// TestTwoStoresObjects stores objects, each with its log event as ingestion
// does, through two stores at once while readers page through them by Seq
// and by Added, as TAXII partners do. A reader that saw Seq n must already
// be able to see every Seq below n: otherwise a cursor would step over an
// object committed late, and the partner would never receive it.
func TestTwoStoresObjects(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	stores := []*postgres.Store{openURL(t, url), openURL(t, url)}
	const writers, each = 4, 30
	var writersWG, readersWG sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers*each+2)
	for w := range writers {
		s := stores[w%len(stores)]
		writersWG.Go(func() {
			for i := range each {
				errs <- s.Update(ctx, func(tx detente.Tx) error {
					o := obj(objID(w*1000+i), "x")
					if _, err := tx.PutObject(ctx, o); err != nil {
						return err
					}
					if i%2 == 0 { // ingestion: the object and its event
						e, _ := detente.NewEvent(t0, detente.EventObjectIngested, "", map[string]string{"id": o.ID})
						return tx.AppendEvent(ctx, e)
					}
					// a federation batch: two objects, no event
					_, err := tx.PutObject(ctx, obj(objID(w*1000+500+i), "y"))
					return err
				})
			}
		})
	}
	// Two readers, one on each store: one pages by Seq, one by Added.
	seen := make([][]int64, 2)
	for r := range seen {
		s := stores[r]
		readersWG.Go(func() {
			var afterSeq int64
			var afterAdded time.Time
			for last := false; ; {
				select {
				case <-done:
					last = true // one more pass sees everything committed
				default:
				}
				err := s.View(ctx, func(tx detente.Tx) error {
					f := detente.ObjectFilter{AfterSeq: afterSeq, Limit: 7}
					if r == 1 {
						f = detente.ObjectFilter{AddedAfter: afterAdded, Limit: 7}
					}
					for {
						page, err := tx.Objects(ctx, f)
						if err != nil || len(page) == 0 {
							return err
						}
						for _, o := range page {
							seen[r] = append(seen[r], o.Seq)
						}
						afterSeq, afterAdded = page[len(page)-1].Seq, page[len(page)-1].Added
						f.AfterSeq, f.AddedAfter = 0, time.Time{}
						if r == 0 {
							f.AfterSeq = afterSeq
						} else {
							f.AddedAfter = afterAdded
						}
					}
				})
				if err != nil {
					errs <- err
					return
				}
				if last {
					return
				}
			}
		})
	}
	writersWG.Wait()
	close(done)
	readersWG.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent insert: %v", err)
		}
	}
	var all []*detente.ObjectVersion
	err := stores[0].View(ctx, func(tx detente.Tx) error {
		var err error
		all, err = tx.Objects(ctx, detente.ObjectFilter{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * each * 3 / 2; len(all) != want {
		t.Fatalf("%d objects, want %d", len(all), want)
	}
	var seqs []int64
	for _, o := range all {
		seqs = append(seqs, o.Seq)
	}
	for r, s := range seen {
		if !slices.Equal(s, seqs) {
			t.Errorf("reader %d saw %d objects, want all %d in Seq order: a cursor skipped an object committed late",
				r, len(s), len(seqs))
		}
	}
	for i, o := range all {
		if o.Seq != int64(i+1) {
			t.Fatalf("object at %d has Seq %d, want contiguous from 1", i, o.Seq)
		}
		if i > 0 && !o.Added.After(all[i-1].Added) {
			t.Fatalf("Added does not increase with Seq at %d: %v after %v", i, o.Added, all[i-1].Added)
		}
	}
	checkLog(t, stores[0], writers*each/2)
}

// helperEnv names the database the appender process appends to.
const helperEnv = "DETENTE_PGTEST_APPENDER"

// TestHelperAppender is not a test: TestKilledAppender runs the test binary
// as a separate process that appends events here, one per transaction, and
// prints each seq once its commit returned, until it is killed.
func TestHelperAppender(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("runs as a child process of TestKilledAppender")
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		e := event(9, i)
		if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, e) }); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%d\n", e.Seq)
	}
}

// TestKilledAppender has another process append to the log while this one
// does, kills it with SIGKILL in the middle of its appends, and goes on
// appending: the log stays contiguous and verifiable, and everything the
// killed process saw committed is in it.
func TestKilledAppender(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := openURL(t, url)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	// This process appends alongside until the child has committed 30.
	committed := map[int64]bool{}
	lines := bufio.NewScanner(out)
	var mine int
	for len(committed) < 30 && lines.Scan() {
		seq, err := strconv.ParseInt(lines.Text(), 10, 64)
		if err != nil {
			continue // the test framework's own output
		}
		committed[seq] = true
		if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(1, mine)) }); err != nil {
			t.Fatal(err)
		}
		mine++
	}
	if len(committed) < 30 {
		cmd.Wait()
		t.Fatalf("the appender process stopped after %d appends", len(committed))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // what it printed before dying
		if seq, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
			committed[seq] = true
		}
	}
	cmd.Wait()
	killed = true
	for range 20 {
		if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(1, mine)) }); err != nil {
			t.Fatal(err)
		}
		mine++
	}
	var n int64
	err = s.View(ctx, func(tx detente.Tx) error {
		var err error
		n, err = tx.CountEvents(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	events := checkLog(t, s, int(n))
	var theirs, ours int
	for _, e := range events {
		var b struct{ W int }
		json.Unmarshal(e.Body, &b)
		if b.W == 9 {
			theirs++
			delete(committed, e.Seq)
		} else {
			ours++
		}
	}
	if ours != mine || len(committed) != 0 {
		t.Errorf("the log holds %d of this process's %d events; seqs the killed one committed but missing: %v", ours, mine, committed)
	}
	t.Logf("log of %d events: %d from the killed process", len(events), theirs)
}
