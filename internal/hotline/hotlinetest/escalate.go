package hotlinetest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"detente/internal/hotline"
)

// The protocol over the store: escalation and heartbeats.

// alerts collects reported alerts.
type alerts struct {
	mu  sync.Mutex
	got []hotline.Alert
}

func (a *alerts) report(_ context.Context, x hotline.Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, x)
}

func (a *alerts) list() []hotline.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]hotline.Alert(nil), a.got...)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func kinds(as []hotline.Alert) string {
	var ks []string
	for _, a := range as {
		ks = append(ks, a.Kind)
	}
	return strings.Join(ks, ",")
}

// testEscalation runs the outbox and the escalator over fake time: a crisis
// alert that bravo does not acknowledge is resent and escalated every
// acknowledgement period until bravo acknowledges it.
func testEscalation(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx, stop := context.WithCancel(t.Context())
		n := newNetwork(alpha, bravo)
		start := time.Now()
		ch := openChannel(t, start, alpha, bravo)
		out := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
		var console lockedBuffer
		rep := &alerts{}
		esc := &hotline.Escalator{
			Store: alpha.st, Outbox: out, Self: alpha.pub, Node: "alpha",
			Alerter: &hotline.ConsoleAlerter{W: &console}, Report: rep.report, Interval: 5 * time.Second,
		}
		var wg sync.WaitGroup
		wg.Go(func() { out.Run(ctx) })
		wg.Go(func() { esc.Run(ctx) })

		alert := msg(alpha, ch.ID, hotline.TypeCrisisAlert, start)
		if _, err := out.Enqueue(ctx, alert); err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) {
			time.Sleep(time.Until(start.Add(d)))
			synctest.Wait()
		}
		at(5*time.Minute - time.Second)
		if got := rep.list(); len(got) != 0 {
			t.Fatalf("alerts before the deadline: %+v", got)
		}
		if n.sent("bravo") != 1 {
			t.Fatalf("%d sends before the deadline", n.sent("bravo"))
		}
		at(5*time.Minute + 5*time.Second) // the escalator checks every 5 s
		got := rep.list()
		if len(got) != 1 {
			t.Fatalf("alerts at the deadline: %+v", got)
		}
		a := got[0]
		if a.Kind != hotline.AlertAckOverdue || a.Escalation != 1 || a.Message != alert.ID || a.Partners[0] != "bravo" ||
			a.DutyOfficer != "Duty alpha" || !a.Due.Equal(start.Add(5*time.Minute)) || a.Time.Sub(a.Due) > 5*time.Second {
			t.Fatalf("alert %+v", a)
		}
		if n.sent("bravo") != 2 || count(t, bravo.st, hotline.MessageFilter{}) != 1 {
			t.Fatalf("resend: %d sends, bravo holds %d", n.sent("bravo"), count(t, bravo.st, hotline.MessageFilter{}))
		}
		if !strings.Contains(console.String(), "ALERT ack-overdue") {
			t.Fatalf("console: %q", console.String())
		}
		at(10*time.Minute + 5*time.Second)
		if got := rep.list(); len(got) != 2 || got[1].Escalation != 2 {
			t.Fatalf("second escalation: %+v", got)
		}
		// Bravo's duty officer acknowledges; nothing more is escalated.
		at(11 * time.Minute)
		bout := hotline.NewOutbox(bravo.st, n.from(bravo), bravo.pub, hotline.OutboxOptions{})
		if _, err := bout.Enqueue(ctx, hotline.NewAck(alert, "Duty bravo", time.Now(), bravo.priv)); err != nil {
			t.Fatal(err)
		}
		if _, err := bout.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		at(time.Hour)
		if got := rep.list(); len(got) != 2 {
			t.Fatalf("alerts after the ack: %s", kinds(got))
		}
		r := mustRecord(t, alpha.st, alert.ID)
		if r.State != hotline.Acknowledged || r.Open || r.Escalations != 2 || r.Deliveries[0].AckedBy != "Duty bravo" {
			t.Fatalf("record %+v", r)
		}
		stop()
		wg.Wait()
	})
}

// testEscalationBackoff runs the escalator over fake time on a crisis
// alert nobody acknowledges: escalations come at the deadline, then 1, 2,
// 4, 8 and 16 acknowledgement periods later, each resending the message,
// and stop at hotline.MaxEscalations; the record then no longer needs
// watching but stays unacknowledged.
func testEscalationBackoff(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx, stop := context.WithCancel(t.Context())
		n := newNetwork(alpha, bravo)
		start := time.Now()
		ch := openChannel(t, start, alpha, bravo)
		period, ok := ch.AckDeadline(hotline.TypeCrisisAlert)
		if !ok {
			t.Fatal("no acknowledgement period for crisis alerts")
		}
		out := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
		rep := &alerts{}
		esc := &hotline.Escalator{Store: alpha.st, Outbox: out, Self: alpha.pub, Node: "alpha", Report: rep.report, Interval: 15 * time.Second}
		var wg sync.WaitGroup
		wg.Go(func() { out.Run(ctx) })
		wg.Go(func() { esc.Run(ctx) })
		alert := msg(alpha, ch.ID, hotline.TypeCrisisAlert, start)
		if _, err := out.Enqueue(ctx, alert); err != nil {
			t.Fatal(err)
		}
		// Escalation k is due at the deadline plus (2^(k-1) - 1) periods.
		for k := 1; k <= hotline.MaxEscalations; k++ {
			due := start.Add(period + time.Duration(1<<(k-1)-1)*period)
			time.Sleep(time.Until(due.Add(-time.Second)))
			synctest.Wait()
			if got := rep.list(); len(got) != k-1 {
				t.Fatalf("a second before escalation %d: %d alerts", k, len(got))
			}
			time.Sleep(15 * time.Second) // the escalator checks every 15 s
			synctest.Wait()
			got := rep.list()
			if len(got) != k || got[k-1].Escalation != k || got[k-1].Kind != hotline.AlertAckOverdue {
				t.Fatalf("escalation %d: %+v", k, got)
			}
			if a := got[k-1]; a.Key() != got[0].Key() || a.Time.Sub(due) > 15*time.Second {
				t.Fatalf("escalation %d at %v (due %v), key %q (first %q)", k, a.Time, due, a.Key(), got[0].Key())
			}
			if sent := n.sent("bravo"); sent != k+1 {
				t.Fatalf("escalation %d: %d sends, want the message and %d resends", k, sent, k)
			}
		}
		last := rep.list()[hotline.MaxEscalations-1]
		if !strings.Contains(last.Text, "the last") {
			t.Errorf("the last escalation does not say so: %q", last.Text)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := rep.list(); len(got) != hotline.MaxEscalations {
			t.Fatalf("%d alerts an hour later, want %d", len(got), hotline.MaxEscalations)
		}
		r := mustRecord(t, alpha.st, alert.ID)
		if r.Open || r.Escalations != hotline.MaxEscalations || !r.NextEscalation.IsZero() || r.State == hotline.Acknowledged {
			t.Fatalf("record after the last escalation: %+v", r)
		}
		stop()
		wg.Wait()
	})
}

// testRequestOverdue flags a request past its due time once.
func testRequestOverdue(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx := t.Context()
		n := newNetwork(alpha, bravo)
		start := time.Now()
		ch := openChannel(t, start, alpha, bravo)
		out := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
		rep := &alerts{}
		esc := &hotline.Escalator{Store: alpha.st, Outbox: out, Self: alpha.pub, Node: "alpha", Report: rep.report}

		req := msg(alpha, ch.ID, hotline.TypeRequest, start)
		req.Due = start.Add(30 * time.Minute)
		req.Sign(alpha.priv)
		if _, err := out.Enqueue(ctx, req); err != nil {
			t.Fatal(err)
		}
		if _, err := out.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// Bravo acknowledges at once but never answers.
		bout := hotline.NewOutbox(bravo.st, n.from(bravo), bravo.pub, hotline.OutboxOptions{})
		if _, err := bout.Enqueue(ctx, hotline.NewAck(req, "Duty bravo", start, bravo.priv)); err != nil {
			t.Fatal(err)
		}
		if _, err := bout.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Duration
			want string
		}{
			{29 * time.Minute, ""},
			{30*time.Minute - 1, ""},
			{30 * time.Minute, hotline.AlertRequestOverdue},
			{2 * time.Hour, hotline.AlertRequestOverdue},
		} {
			time.Sleep(time.Until(start.Add(c.at)))
			if _, err := esc.Check(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := kinds(rep.list()); got != c.want {
				t.Fatalf("at %v: alerts %q, want %q", c.at, got, c.want)
			}
		}
		if a := rep.list()[0]; !a.Due.Equal(req.Due) || a.Partners[0] != "bravo" {
			t.Fatalf("alert %+v", a)
		}
		if r := mustRecord(t, alpha.st, req.ID); r.Open || r.State != hotline.Acknowledged || !r.DueFlagged {
			t.Fatalf("record %+v", r)
		}
	})
}

// testEscalationStopsOnClose checks that nothing is escalated on a closed
// channel.
func testEscalationStopsOnClose(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx := t.Context()
		n := newNetwork(alpha, bravo)
		ch := openChannel(t, time.Now(), alpha, bravo)
		out := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
		m := msg(alpha, ch.ID, hotline.TypeCrisisAlert, time.Now())
		if _, err := out.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		setState(t, ch.ID, hotline.StateClosed, alpha, alpha)
		rep := &alerts{}
		esc := &hotline.Escalator{Store: alpha.st, Outbox: out, Self: alpha.pub, Report: rep.report}
		time.Sleep(time.Hour)
		if _, err := esc.Check(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if len(rep.list()) != 0 {
			t.Fatalf("alerts on a closed channel: %+v", rep.list())
		}
		if r := mustRecord(t, alpha.st, m.ID); r.Open || r.Pending || !r.Abandoned {
			t.Fatalf("record %+v", r)
		}
	})
}

// testHeartbeats runs both ends' heartbeats over fake time: a live line
// raises nothing; when bravo goes quiet alpha sees the line silent after
// 2N (within a minute), and alive again as soon as bravo is back.
func testHeartbeats(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		n := newNetwork(alpha, bravo)
		start := time.Now()
		ch := openChannel(t, start, alpha, bravo)
		interval := ch.HeartbeatInterval()
		arep, brep := &alerts{}, &alerts{}
		ahb := &hotline.Heartbeats{Store: alpha.st, Transport: n.from(alpha), Key: alpha.priv, Node: "alpha", Report: arep.report}
		ctx, stop := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { ahb.Run(ctx) })
		runBravo := func() context.CancelFunc {
			bctx, bstop := context.WithCancel(ctx)
			bhb := &hotline.Heartbeats{Store: bravo.st, Transport: n.from(bravo), Key: bravo.priv, Node: "bravo", Report: brep.report}
			wg.Go(func() { bhb.Run(bctx) })
			return bstop
		}
		stopBravo := runBravo()

		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := arep.list(); len(got) != 0 {
			t.Fatalf("alerts on a live line: %s", kinds(got))
		}
		lines, err := ahb.Lines(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 || lines[0].Partner != "bravo" || lines[0].Silent || time.Since(lines[0].LastHeard) > interval {
			t.Fatalf("lines %+v", lines)
		}
		// About 15 heartbeats each way in five minutes, one every N.
		if s := n.sent("bravo"); s < 15 || s > 16 {
			t.Fatalf("alpha sent %d heartbeats in 5 minutes", s)
		}

		// Bravo goes quiet.
		quiet := time.Now()
		stopBravo()
		heard, _ := alpha.st.Heard(ctx, ch.ID)
		last := heard["bravo"]
		time.Sleep(2*interval - quiet.Sub(last) - time.Second)
		synctest.Wait()
		if got := arep.list(); len(got) != 0 {
			t.Fatalf("silent too early: %+v", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := arep.list()
		if len(got) != 1 || got[0].Kind != hotline.AlertLineSilent || !got[0].LastHeard.Equal(last.UTC()) || got[0].Partners[0] != "bravo" {
			t.Fatalf("alerts after 2N: %+v", got)
		}
		if seen := got[0].Time.Sub(quiet); seen > time.Minute || !got[0].Time.Equal(last.Add(2*interval)) {
			t.Fatalf("silence seen %v after bravo went quiet, at %v, want last heard + 2N", seen, got[0].Time)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if got := arep.list(); len(got) != 1 {
			t.Fatalf("silence reported again: %s", kinds(got))
		}

		// Bravo is back.
		back := time.Now()
		stopBravo = runBravo()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		got = arep.list()
		if len(got) != 2 || got[1].Kind != hotline.AlertLineRestored || got[1].Time.Sub(back) > 5*time.Second {
			t.Fatalf("alerts after bravo is back: %+v", got)
		}
		if got := brep.list(); len(got) != 0 {
			t.Fatalf("bravo saw alpha silent: %s", kinds(got))
		}
		stopBravo()
		stop()
		wg.Wait()
	})
}

// testHeartbeatsSuspended checks that a suspended channel keeps its
// heartbeats and a closed one drops them.
func testHeartbeatsSuspended(t *testing.T, open func(t *testing.T) hotline.Store) {
	synctest.Test(t, func(t *testing.T) {
		alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
		ctx := t.Context()
		n := newNetwork(alpha, bravo)
		ch := openChannel(t, time.Now(), alpha, bravo)
		setState(t, ch.ID, hotline.StateSuspended, alpha, alpha, bravo)
		hb := &hotline.Heartbeats{Store: alpha.st, Transport: n.from(alpha), Key: alpha.priv}
		if err := hb.Beat(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if heard, _ := bravo.st.Heard(ctx, ch.ID); heard["alpha"].IsZero() {
			t.Fatal("no heartbeat on a suspended channel")
		}
		setState(t, ch.ID, hotline.StateClosed, alpha, alpha, bravo)
		time.Sleep(time.Minute)
		if err := hb.Beat(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if n.sent("bravo") != 1 {
			t.Fatalf("%d heartbeats, want 1 (none on a closed channel)", n.sent("bravo"))
		}
		if lines, _ := hb.Lines(ctx, time.Now()); len(lines) != 0 {
			t.Fatalf("lines of a closed channel: %+v", lines)
		}
	})
}
