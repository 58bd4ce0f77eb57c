package hotline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"detente"
)

// MaxEscalations caps how often a missing acknowledgement is escalated.
// The first escalation comes at the deadline; each next one waits twice
// as long as the one before: 1, 2, 4, 8 and 16 acknowledgement periods
// (with a period of 30 s, escalations 2 to 6 come 30 s, 1.5 min, 3.5 min,
// 7.5 min and 15.5 min after the deadline; with 5 minutes, the last comes
// 2 h 35 min after it). After the last, the message stays overdue, listed
// first wherever messages are listed, but it is no longer resent and no
// new alert is raised.
const MaxEscalations = 6

// Escalator watches this node's outgoing messages. When an acknowledgement
// is overdue it resends the message to the recipients that have not
// acknowledged, alerts this node's duty officer and reports the miss; it
// does so again while the acknowledgement stays missing, backing off
// (each wait twice the one before, starting from one acknowledgement
// period) up to MaxEscalations in all. Every escalation of a message is
// the same condition (Alert.Key), which the node keeps as one alert. It
// flags a request past its due time without a response once, and a
// delivery a partner refused for good once.
type Escalator struct {
	Store   Store
	Outbox  *Outbox           // resends overdue messages; nil to only alert
	Alerter Alerter           // nil for none
	Self    detente.PublicKey // this node's key, to find its duty officer
	Node    string            // this node's name, for alerts
	// Report is called with every alert, before the Alerter, so that the
	// Service records it in the node's log. It must not block for long.
	Report func(context.Context, Alert)
	// Interval is how often Run checks: 5s if zero. A deadline is seen at
	// most Interval after it passes.
	Interval time.Duration
	Logger   *slog.Logger // nil logs nothing
}

// Check escalates what is overdue at now and returns the alerts it raised.
func (e *Escalator) Check(ctx context.Context, now time.Time) ([]Alert, error) {
	recs, err := e.Store.Messages(ctx, MessageFilter{Outgoing: true, Open: true})
	if err != nil {
		return nil, fmt.Errorf("escalate: %w", err)
	}
	channels := map[string]*Channel{}
	var all []Alert
	for _, r := range recs {
		ch := channels[r.Message.Channel]
		if ch == nil {
			if ch, err = e.Store.Channel(ctx, r.Message.Channel); err != nil {
				return all, fmt.Errorf("escalate: %w", err)
			}
			channels[ch.ID] = ch
		}
		var alerts []Alert
		resend := false
		err := e.Store.UpdateMessage(ctx, r.Message.ID, func(r *Record) error {
			alerts, resend = e.escalate(ch, r, now)
			return nil
		})
		if err != nil {
			return all, fmt.Errorf("escalate: %w", err)
		}
		if resend && e.Outbox != nil && ch.State != StateClosed {
			if err := e.Outbox.Resend(ctx, r.Message.ID); err != nil {
				return all, fmt.Errorf("escalate: %w", err)
			}
		}
		for _, a := range alerts {
			e.raise(ctx, a)
		}
		all = append(all, alerts...)
	}
	return all, nil
}

// escalate updates r for what is overdue at now, and returns the alerts to
// raise and whether to resend r.
func (e *Escalator) escalate(ch *Channel, r *Record, now time.Time) (alerts []Alert, resend bool) {
	m := r.Message
	if ch.State == StateClosed {
		// Nothing more travels on a closed channel, so nothing more is
		// awaited on it.
		r.Abandoned = true
		for i := range r.Deliveries {
			r.Deliveries[i].NextAttempt = time.Time{}
		}
		r.refresh()
		return nil, false
	}
	base := Alert{
		Node: e.Node, Time: now.UTC(), Channel: ch.ID, Purpose: ch.Purpose,
		Message: m.ID, Type: m.Type, DutyOfficer: e.officer(ch),
	}
	for i := range r.Deliveries {
		d := &r.Deliveries[i]
		if d.Failed && !d.FailedReported {
			d.FailedReported = true
			a := base
			a.Kind, a.Partners = AlertDeliveryFailed, []string{d.Partner}
			a.Text = fmt.Sprintf("%s refused %s %s for good: %s", d.Partner, m.Type, m.ID, d.LastError)
			alerts = append(alerts, a)
		}
	}
	// On a suspended channel, what it does not carry waits, and so does
	// its acknowledgement.
	paused := ch.State == StateSuspended && m.Type != TypeCrisisAlert
	if !r.AckDue.IsZero() && !paused {
		var missing []string
		for _, d := range r.Deliveries {
			if d.AckedAt.IsZero() && !d.Failed {
				missing = append(missing, d.Partner)
			}
		}
		due := r.NextEscalation
		if due.IsZero() {
			due = r.AckDue
		}
		if len(missing) > 0 && !now.Before(due) && r.Escalations < MaxEscalations {
			period := r.AckDue.Sub(m.Sent)
			if d, ok := ch.AckDeadline(m.Type); ok {
				period = d
			}
			r.Escalations++
			last := ""
			if r.Escalations < MaxEscalations {
				r.NextEscalation = nextEscalation(due, now, max(period, time.Second), r.Escalations)
			} else {
				r.NextEscalation = time.Time{}
				last = ", the last: no more reminders"
			}
			a := base
			a.Kind, a.Partners, a.Due, a.Escalation = AlertAckOverdue, missing, r.AckDue, r.Escalations
			a.Text = fmt.Sprintf("%s %s not acknowledged by %s, due %s (escalation %d of %d%s)",
				m.Type, m.ID, joinNames(missing), r.AckDue.UTC().Format(time.RFC3339), r.Escalations, MaxEscalations, last)
			alerts = append(alerts, a)
			resend = true
		}
	}
	if m.Type == TypeRequest && r.AnsweredAt.IsZero() && !r.DueFlagged && !now.Before(m.Due) {
		r.DueFlagged = true
		a := base
		for _, d := range r.Deliveries {
			a.Partners = append(a.Partners, d.Partner)
		}
		a.Kind, a.Due = AlertRequestOverdue, m.Due
		a.Text = fmt.Sprintf("request %s to %s is past its due time %s without a response",
			m.ID, joinNames(a.Partners), m.Due.UTC().Format(time.RFC3339))
		alerts = append(alerts, a)
	}
	r.refresh()
	return alerts, resend
}

// nextEscalation returns when escalation n+1 is due, escalation n having
// been due at due and raised at now: 2^(n-1) periods after due, or after
// now if the escalator was not running then (so that a node coming back
// after a long stop does not raise the missed escalations in a burst).
func nextEscalation(due, now time.Time, period time.Duration, n int) time.Time {
	wait := period << (n - 1)
	next := due.Add(wait)
	if next.Before(now) {
		next = now.Add(wait)
	}
	return next.UTC()
}

func (e *Escalator) officer(ch *Channel) string {
	if p, ok := ch.Party(e.Self); ok {
		return p.DutyOfficer()
	}
	return ""
}

func (e *Escalator) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return discard
}

// raise reports a and hands it to the Alerter; a failed alerter is logged,
// since the alert is already reported.
func (e *Escalator) raise(ctx context.Context, a Alert) {
	if e.Report != nil {
		e.Report(ctx, a)
	}
	if e.Alerter != nil {
		if err := e.Alerter.Alert(ctx, a); err != nil {
			e.logger().ErrorContext(ctx, "hotline alert not delivered", "kind", a.Kind, "channel", a.Channel, "err", err)
		}
	}
}

// Run calls Check every Interval until ctx is done, and returns ctx's
// error.
func (e *Escalator) Run(ctx context.Context) error {
	every := e.Interval
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			if _, err := e.Check(ctx, now); err != nil && ctx.Err() == nil {
				e.logger().ErrorContext(ctx, "hotline escalation", "err", err)
			}
		}
	}
}
