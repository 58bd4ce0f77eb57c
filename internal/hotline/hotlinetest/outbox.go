package hotlinetest

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"detente"
	"detente/internal/hotline"
)

// The protocol over the store: the outbox.

// testOutboxRestart sends a crisis alert while the partner is down, stops
// the outbox, starts a new one over the same store (a restart), and checks
// that the partner stores the alert exactly once although it was delivered
// more than once.
func testOutboxRestart(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		n := newNetwork(alpha, bravo)
		ch := openChannel(t, time.Now(), alpha, bravo)
		opts := hotline.OutboxOptions{MinBackoff: time.Second, MaxBackoff: 8 * time.Second, Poll: time.Minute}

		ctx, stop := context.WithCancel(t.Context())
		first := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, opts)
		done := make(chan error)
		go func() { done <- first.Run(ctx) }()

		n.setDown("bravo", true)
		m := msg(alpha, ch.ID, hotline.TypeCrisisAlert, time.Now())
		if _, err := first.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		// Attempts at 0, 1, 3, 7 and 15 s: five failures by 20 s.
		time.Sleep(20 * time.Second)
		synctest.Wait()
		r := mustRecord(t, alpha.st, m.ID)
		if d := r.Deliveries[0]; d.Attempts != 5 || r.State != hotline.Sent || !d.NextAttempt.Equal(time.Now().Add(3*time.Second)) {
			t.Fatalf("while bravo is down: attempts %d, state %s, next in %v", d.Attempts, r.State, time.Until(d.NextAttempt))
		}
		stop()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Run returned %v", err)
		}

		// Bravo comes back, but the first delivery's answer is lost: bravo
		// stores the alert, alpha sees an error and sends it again.
		n.setDown("bravo", false)
		n.mu.Lock()
		n.lose["bravo"] = 1
		n.mu.Unlock()
		before := n.sent("bravo")

		ctx, stop = context.WithCancel(t.Context())
		defer stop()
		second := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, opts)
		go func() { done <- second.Run(ctx) }()
		time.Sleep(time.Minute)
		synctest.Wait()

		if got := n.sent("bravo") - before; got != 2 {
			t.Fatalf("%d sends after the restart, want 2 (one answer lost)", got)
		}
		if got := count(t, bravo.st, hotline.MessageFilter{}); got != 1 {
			t.Fatalf("bravo stored %d messages, want 1", got)
		}
		r = mustRecord(t, alpha.st, m.ID)
		if r.State != hotline.Delivered || r.Pending || r.Deliveries[0].Attempts != 7 {
			t.Fatalf("after the restart: %+v", r.Deliveries[0])
		}
		// Enqueueing the same message again sends nothing.
		if _, err := second.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := n.sent("bravo") - before; got != 2 {
			t.Fatalf("re-enqueue sent again: %d sends", got)
		}
		stop()
		<-done
	})
}

// refusing is a Transport whose partner refuses every message for good.
type refusing struct {
	mu    sync.Mutex
	sends int
}

// Send implements hotline.Transport: every message is refused for good.
func (r *refusing) Send(ctx context.Context, partner string, m *hotline.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sends++
	return detente.Errorf(detente.EFORBIDDEN, "not on this channel")
}

func testOutboxPermanentFailure(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx := t.Context()
		ch := openChannel(t, time.Now(), alpha, bravo)
		tr := &refusing{}
		out := hotline.NewOutbox(alpha.st, tr, alpha.pub, hotline.OutboxOptions{})
		m := msg(alpha, ch.ID, hotline.TypeNotice, time.Now())
		if _, err := out.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := out.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Minute)
		}
		if tr.sends != 1 {
			t.Fatalf("%d sends, want 1: a refusal is final", tr.sends)
		}
		r := mustRecord(t, alpha.st, m.ID)
		if d := r.Deliveries[0]; !d.Failed || r.Pending || !r.Open {
			t.Fatalf("record %+v", r)
		}
		// The escalator reports it once.
		var reported []hotline.Alert
		e := &hotline.Escalator{Store: alpha.st, Self: alpha.pub, Node: "alpha", Report: func(_ context.Context, a hotline.Alert) { reported = append(reported, a) }}
		for range 2 {
			if _, err := e.Check(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if len(reported) != 1 || reported[0].Kind != hotline.AlertDeliveryFailed || reported[0].Partners[0] != "bravo" {
			t.Fatalf("reported %+v", reported)
		}
		if mustRecord(t, alpha.st, m.ID).Open {
			t.Fatal("record still open after the failure was reported")
		}
	})
}

// testOutboxSuspended holds a notice while its channel is suspended, lets
// a crisis alert through, delivers the notice when the channel reopens and
// abandons what is left when it closes.
func testOutboxSuspended(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx := t.Context()
		n := newNetwork(alpha, bravo)
		ch := openChannel(t, time.Now(), alpha, bravo)
		out := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
		notice := msg(alpha, ch.ID, hotline.TypeNotice, time.Now())
		if _, err := out.Enqueue(ctx, notice); err != nil {
			t.Fatal(err)
		}
		setState(t, ch.ID, hotline.StateSuspended, bravo, alpha, bravo)
		alert := msg(alpha, ch.ID, hotline.TypeCrisisAlert, time.Now())
		if _, err := out.Enqueue(ctx, alert); err != nil {
			t.Fatal(err)
		}
		next, err := out.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n.sent("bravo") != 1 || mustRecord(t, alpha.st, alert.ID).State != hotline.Delivered {
			t.Fatalf("the crisis alert did not go through a suspended channel")
		}
		if r := mustRecord(t, alpha.st, notice.ID); r.State != hotline.Sent || !r.Pending || next.IsZero() {
			t.Fatalf("held notice %+v, next %v", r, next)
		}
		// The escalator does not chase what the channel holds back.
		rep := &alerts{}
		esc := &hotline.Escalator{Store: alpha.st, Outbox: out, Self: alpha.pub, Report: rep.report}
		time.Sleep(time.Hour)
		if _, err := esc.Check(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := rep.list(); len(got) != 1 || got[0].Message != alert.ID {
			t.Fatalf("alerts while suspended: %+v", got)
		}

		setState(t, ch.ID, hotline.StateOpen, bravo, alpha, bravo)
		if _, err := out.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if mustRecord(t, alpha.st, notice.ID).State != hotline.Delivered {
			t.Fatal("notice not delivered after the channel reopened")
		}

		late := msg(alpha, ch.ID, hotline.TypeNotice, time.Now())
		if _, err := out.Enqueue(ctx, late); err != nil {
			t.Fatal(err)
		}
		setState(t, ch.ID, hotline.StateClosed, bravo, alpha, bravo)
		if _, err := out.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if r := mustRecord(t, alpha.st, late.ID); !r.Abandoned || r.Pending || r.Open {
			t.Fatalf("after close: %+v", r)
		}
		if c := count(t, alpha.st, hotline.MessageFilter{Pending: true}); c != 0 {
			t.Fatalf("%d pending after close", c)
		}
	})
}
