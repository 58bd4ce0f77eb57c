package hotline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"detente"
)

// RunOptions tune the service's background work (Runner). Zero fields
// take the defaults shown.
type RunOptions struct {
	// Webhook, when set, receives every hotline alert as JSON
	// (docs/channels.md), besides the node's alerts table.
	Webhook string
	// Poll is how often the outbox looks for messages queued by another
	// process (the CLI) or another request: 250ms.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the outbox's retry delays: 1s, 1m.
	MinBackoff, MaxBackoff time.Duration
	// Escalate is how often overdue acknowledgements are checked: 5s.
	Escalate time.Duration
	// Push is how often channel histories that did not reach a partner
	// are retried: 2s (each partner backs off on failure).
	Push time.Duration
}

// Runner is the service's background work, as detente serve runs it: the
// outbox, the escalator, the heartbeats and the delivery of channel
// histories.
type Runner struct {
	s          *Service
	opts       RunOptions
	transport  *partnerTransport
	Outbox     *Outbox
	Escalator  *Escalator
	Heartbeats *Heartbeats

	wake chan struct{} // poked by Service.wakeOutbox while Run runs
}

// NewRunner returns the service's background work, ready to Run.
func (s *Service) NewRunner(opts RunOptions) *Runner {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Escalate <= 0 {
		opts.Escalate = 5 * time.Second
	}
	if opts.Push <= 0 {
		opts.Push = 2 * time.Second
	}
	r := &Runner{s: s, opts: opts, transport: newPartnerTransport(s), wake: make(chan struct{}, 1)}
	var alerter Alerter
	if opts.Webhook != "" {
		alerter = &WebhookAlerter{URL: opts.Webhook}
	}
	st := s.Store()
	r.Outbox = NewOutbox(st, r.transport, s.self, OutboxOptions{
		MinBackoff: opts.MinBackoff, MaxBackoff: opts.MaxBackoff, Poll: opts.Poll, Logger: s.logger})
	r.Escalator = &Escalator{Store: st, Outbox: r.Outbox, Alerter: alerter, Self: s.self, Node: s.name,
		Report: s.reportAlert, Interval: opts.Escalate, Logger: s.logger}
	r.Heartbeats = &Heartbeats{Store: st, Transport: r.transport, Key: s.key, Node: s.name, Alerter: alerter,
		Report: s.reportAlert, Logger: s.logger}
	return r
}

// Run runs the background work until ctx is done. While it runs, a
// message that this process enqueues (SendMessage, AckMessage,
// FileNotice, AmendNotice, CancelNotice: the API of detente serve) wakes
// the outbox at once; one enqueued by another process sharing the store
// (the CLI) is picked up by the next poll (RunOptions.Poll).
func (r *Runner) Run(ctx context.Context) {
	r.s.setWake(r.wake)
	defer r.s.setWake(nil)
	var wg sync.WaitGroup
	wg.Go(func() { r.runOutbox(ctx) })
	wg.Go(func() { r.Escalator.Run(ctx) })
	wg.Go(func() { r.Heartbeats.Run(ctx) })
	wg.Go(func() { r.runPush(ctx) })
	wg.Wait()
	r.transport.close()
}

// runOutbox delivers the outbox's messages until ctx is done, as
// Outbox.Run does, also waking when this process enqueues a message
// (Service.wakeOutbox). Resends by the escalator go out at the next poll.
func (r *Runner) runOutbox(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
		next, err := r.Outbox.Flush(ctx)
		if err != nil && ctx.Err() == nil {
			r.s.logger.ErrorContext(ctx, "outbox", "err", err)
		}
		wait := r.opts.Poll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		t.Reset(wait)
	}
}

// runPush sends channel histories to the parties that do not hold them
// yet, until ctx is done. A party that refuses a history for good is
// reported once as an alert.
func (r *Runner) runPush(ctx context.Context) {
	t := time.NewTicker(r.opts.Push)
	defer t.Stop()
	for {
		if err := r.pushDue(ctx); err != nil && ctx.Err() == nil {
			r.s.logger.WarnContext(ctx, "hotline: push channel histories", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) pushDue(ctx context.Context) error {
	s := r.s
	type due struct {
		ch    *Channel
		party Party
	}
	var work []due
	var failed []due
	err := s.db.View(ctx, func(tx detente.Tx) error {
		chs, err := txStore{s, tx}.Channels(ctx)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			for _, p := range ch.Parties {
				if p.Key.Equal(s.self) {
					continue
				}
				st, err := readPushState(ctx, tx, ch.ID+"/"+p.Name)
				if err != nil {
					return err
				}
				switch {
				case st.Failed && !st.Reported:
					failed = append(failed, due{ch, p})
				case !st.Failed && st.Seq < len(ch.Transitions) && !s.now().Before(st.NextAttempt):
					work = append(work, due{ch, p})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range work {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := s.pushTo(pctx, r.transport, w.ch, w.party); err != nil && ctx.Err() == nil {
			s.logger.InfoContext(ctx, "hotline: channel history not delivered, will retry", "channel", w.ch.ID, "partner", w.party.Name, "err", err)
		}
		cancel()
	}
	for _, f := range failed {
		errs = append(errs, r.reportPushFailure(ctx, f.ch, f.party))
	}
	return errors.Join(errs...)
}

// reportPushFailure raises, once, the alert that a party refused a
// channel's history.
func (r *Runner) reportPushFailure(ctx context.Context, ch *Channel, p Party) error {
	s := r.s
	id := ch.ID + "/" + p.Name
	var reason string
	err := s.db.Update(ctx, func(tx detente.Tx) error {
		st, err := getDoc[pushState](ctx, tx, docPush, id, "push state")
		if err != nil {
			return err
		}
		reason, st.Reported = st.LastError, true
		return putDoc(ctx, tx, docPush, id, st, false)
	})
	if err != nil {
		return err
	}
	a := Alert{Kind: AlertDeliveryFailed, Node: s.name, Time: s.now(), Channel: ch.ID, Purpose: ch.Purpose,
		Partners: []string{p.Name}, Text: fmt.Sprintf("%s refused the history of channel %s: %s", p.Name, ch.ID, reason)}
	if self, ok := ch.Party(s.self); ok {
		a.DutyOfficer = self.DutyOfficer()
	}
	s.reportAlert(ctx, a)
	if r.Escalator.Alerter != nil {
		if err := r.Escalator.Alerter.Alert(ctx, a); err != nil {
			s.logger.ErrorContext(ctx, "hotline alert not delivered", "kind", a.Kind, "err", err)
		}
	}
	return nil
}

// Lines returns the liveness of every open or suspended line as this
// running node sees it.
func (r *Runner) Lines(ctx context.Context) ([]Line, error) {
	return r.Heartbeats.Lines(ctx, time.Now())
}

// DeliverNow makes one attempt at every message of this node's outbox that
// is due, and returns when they have been tried. The CLI calls it so that
// a message goes out at once; the running node (Run) retries what fails.
// A partner that gets a message from both is told it is a duplicate.
func (s *Service) DeliverNow(ctx context.Context) error {
	tr := newPartnerTransport(s)
	defer tr.close()
	ob := NewOutbox(s.Store(), tr, s.self, OutboxOptions{Logger: s.logger})
	_, err := ob.Flush(ctx)
	return err
}
