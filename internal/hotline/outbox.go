package hotline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"detente"
)

// Transport carries messages to partner nodes. The Service implements it
// over the partner protocol (internal/peer: mutual TLS, pinned keys).
type Transport interface {
	// Send delivers m to the node of the party called partner and returns
	// nil once that node has stored it, or had stored it before (a
	// duplicate is a success). An error whose detente code is EINVALID,
	// EFORBIDDEN, EUNAUTHORIZED or ECONFLICT means that the partner
	// refused m for good; any other error is retried.
	Send(ctx context.Context, partner string, m *Message) error
}

// Outbox delivers this node's messages at least once to every recipient,
// retrying with exponential backoff until the recipient's node has stored
// the message. Its whole state is in the Store, so a new Outbox over the
// same Store carries on after a restart; receivers deduplicate by
// idempotency key, so each message is stored once at each recipient.
type Outbox struct {
	store     Store
	transport Transport
	self      detente.PublicKey
	opts      OutboxOptions
	poke      chan struct{}
}

// OutboxOptions tune an Outbox. Zero fields take the defaults shown.
type OutboxOptions struct {
	MinBackoff  time.Duration // first retry delay, 1s
	MaxBackoff  time.Duration // longest retry delay, 1m
	SendTimeout time.Duration // limit on one Send, 10s
	// Poll is how often Run looks for work when nothing is due, so that
	// messages enqueued by another process sharing the store go out: 5s.
	Poll   time.Duration
	Logger *slog.Logger // nil logs nothing
}

// NewOutbox returns an outbox that sends messages signed by the node whose
// key is self through tr, keeping its state in st.
func NewOutbox(st Store, tr Transport, self detente.PublicKey, opts OutboxOptions) *Outbox {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 10 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = discard
	}
	return &Outbox{store: st, transport: tr, self: self, opts: opts, poke: make(chan struct{}, 1)}
}

// Enqueue stores m, signed by this node, for delivery to its recipients:
// the sender of the message it replies to for an acknowledgement or a
// response, every other party of the channel otherwise. The channel's
// state must carry m. Enqueueing a message with an idempotency key already
// used returns the record stored the first time, whatever m holds: it is
// not sent twice (so an API can pass a client's idempotency key through).
// An acknowledgement marks the incoming message acknowledged by its
// author, a response marks the incoming request answered.
func (o *Outbox) Enqueue(ctx context.Context, m *Message) (*Record, error) {
	if m.Type == TypeHeartbeat {
		return nil, detente.Errorf(detente.EINVALID, "heartbeats are sent directly, not through the outbox")
	}
	if err := verifySender(m, o.self); err != nil {
		return nil, err
	}
	ch, err := o.store.Channel(ctx, m.Channel)
	if err != nil {
		return nil, fmt.Errorf("enqueue message %s: %w", m.ID, err)
	}
	var ref *Record
	var ackOf MessageType
	if m.Type == TypeAck || m.Type == TypeResponse {
		ref, err = o.store.Message(ctx, m.InReplyTo)
		switch {
		case detente.ErrorCode(err) == detente.ENOTFOUND:
			return nil, detente.Errorf(detente.EINVALID, "message %s replies to unknown message %s", m.ID, m.InReplyTo)
		case err != nil:
			return nil, fmt.Errorf("enqueue message %s: %w", m.ID, err)
		case ref.Outgoing || ref.Message.Channel != m.Channel:
			return nil, detente.Errorf(detente.EINVALID, "message %s replies to %s, which this node did not receive on channel %s", m.ID, m.InReplyTo, m.Channel)
		case m.Type == TypeResponse && ref.Message.Type != TypeRequest:
			return nil, detente.Errorf(detente.EINVALID, "response %s answers %s, which is not a request", m.ID, m.InReplyTo)
		}
		ackOf = ref.Message.Type
	}
	now := time.Now().UTC()
	if err := verifyOn(ch, m, o.self, ackOf, now); err != nil {
		return nil, err
	}
	r := &Record{Message: m, Outgoing: true, Stored: now}
	for _, p := range ch.Parties {
		if p.Key.Equal(o.self) || ref != nil && !p.Key.Equal(ref.Message.From) {
			continue
		}
		r.Deliveries = append(r.Deliveries, Delivery{Partner: p.Name, Key: p.Key, NextAttempt: now})
	}
	if d, ok := ch.AckDeadline(m.Type); ok {
		r.AckDue = m.Sent.Add(d)
	}
	r.refresh()
	stored, inserted, err := o.store.PutMessage(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("enqueue message %s: %w", m.ID, err)
	}
	if !inserted {
		return stored, nil // enqueued before: its effects are applied
	}
	if ref != nil {
		err := o.store.UpdateMessage(ctx, ref.Message.ID, func(r *Record) error {
			switch {
			case m.Type == TypeAck && r.AckedAt.IsZero():
				r.AckedAt, r.AckedBy, r.AckID = now, m.Author, m.ID
			case m.Type == TypeResponse && r.AnsweredAt.IsZero():
				r.AnsweredAt, r.Answer = now, m.ID
			}
			r.refresh()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("enqueue message %s: %w", m.ID, err)
		}
	}
	o.wake()
	return stored, nil
}

// Resend queues message id again for every recipient that has not
// acknowledged it (the escalator calls it for an overdue acknowledgement).
// The recipients receive it as a duplicate, which tells their node that
// the sender is still waiting.
func (o *Outbox) Resend(ctx context.Context, id string) error {
	now := time.Now().UTC()
	err := o.store.UpdateMessage(ctx, id, func(r *Record) error {
		for i := range r.Deliveries {
			d := &r.Deliveries[i]
			if d.AckedAt.IsZero() && !d.Failed {
				d.NextAttempt = now
			}
		}
		r.refresh()
		return nil
	})
	if err != nil {
		return fmt.Errorf("resend message %s: %w", id, err)
	}
	o.wake()
	return nil
}

func (o *Outbox) wake() {
	select {
	case o.poke <- struct{}{}:
	default:
	}
}

// Flush makes one attempt at every delivery that is due, concurrently, and
// returns when the next one not yet due will be (zero if none). Messages
// that a suspended channel does not carry wait until it reopens; those of
// a closed channel are abandoned.
func (o *Outbox) Flush(ctx context.Context) (time.Time, error) {
	recs, err := o.store.Messages(ctx, MessageFilter{Outgoing: true, Pending: true})
	if err != nil {
		return time.Time{}, fmt.Errorf("outbox: %w", err)
	}
	now := time.Now()
	channels := map[string]*Channel{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var next time.Time
	later := func(t time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, r := range recs {
		ch := channels[r.Message.Channel]
		if ch == nil {
			if ch, err = o.store.Channel(ctx, r.Message.Channel); err != nil {
				return next, fmt.Errorf("outbox: %w", err)
			}
			channels[ch.ID] = ch
		}
		if hold, err := o.hold(ctx, ch, r, now); err != nil {
			return next, err
		} else if hold {
			later(now.Add(o.opts.Poll))
			continue
		}
		for _, d := range r.Deliveries {
			if !d.pending() {
				continue
			}
			if d.NextAttempt.After(now) {
				later(d.NextAttempt)
				continue
			}
			wg.Go(func() { later(o.attempt(ctx, r.Message, d.Partner)) })
		}
	}
	wg.Wait()
	return next, ctx.Err()
}

// hold reports whether r must wait: its channel is suspended and carries
// only crisis alerts now. On a closed channel, r is abandoned.
func (o *Outbox) hold(ctx context.Context, ch *Channel, r *Record, now time.Time) (bool, error) {
	switch ch.State {
	case StateOpen:
		return false, nil
	case StateSuspended:
		var ackOf MessageType
		if r.Message.Type == TypeAck {
			ref, err := o.store.Message(ctx, r.Message.InReplyTo)
			if err != nil {
				return false, fmt.Errorf("outbox: %w", err)
			}
			ackOf = ref.Message.Type
		}
		return Allowed(ch.State, r.Message.Type, ackOf) != nil, nil
	}
	err := o.store.UpdateMessage(ctx, r.Message.ID, func(r *Record) error {
		r.Abandoned = true
		for i := range r.Deliveries {
			r.Deliveries[i].NextAttempt = time.Time{}
		}
		r.refresh()
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	return true, nil
}

// attempt sends m to partner once, records the outcome and returns when
// the next attempt is due (zero if none).
func (o *Outbox) attempt(ctx context.Context, m *Message, partner string) time.Time {
	sctx, cancel := context.WithTimeout(ctx, o.opts.SendTimeout)
	err := o.transport.Send(sctx, partner, m)
	cancel()
	if err != nil && ctx.Err() != nil {
		return time.Time{} // shutting down: the attempt does not count
	}
	now := time.Now().UTC()
	var next time.Time
	uerr := o.store.UpdateMessage(ctx, m.ID, func(r *Record) error {
		next = time.Time{}
		for i := range r.Deliveries {
			d := &r.Deliveries[i]
			if d.Partner != partner {
				continue
			}
			d.Attempts++
			switch {
			case err == nil:
				if d.DeliveredAt.IsZero() {
					d.DeliveredAt = now
				}
				d.NextAttempt, d.LastError = time.Time{}, ""
			case permanent(err):
				d.Failed, d.NextAttempt, d.LastError = true, time.Time{}, err.Error()
			default:
				d.NextAttempt, d.LastError = now.Add(o.backoff(d.Attempts)), err.Error()
				next = d.NextAttempt
			}
		}
		r.refresh()
		return nil
	})
	log := o.opts.Logger
	switch {
	case uerr != nil:
		log.ErrorContext(ctx, "outbox: record delivery", "message", m.ID, "partner", partner, "err", uerr)
		return now.Add(o.opts.MinBackoff)
	case err != nil && permanent(err):
		log.WarnContext(ctx, "outbox: partner refused message", "message", m.ID, "partner", partner, "err", err)
	case err != nil:
		log.InfoContext(ctx, "outbox: delivery failed, will retry", "message", m.ID, "partner", partner, "retry", next, "err", err)
	}
	return next
}

// backoff returns the delay after the n-th failed attempt: MinBackoff
// doubled for each earlier failure, at most MaxBackoff.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.MinBackoff
	for i := 1; i < n && d < o.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.opts.MaxBackoff)
}

// permanent reports whether a Send error means the partner refused the
// message for good.
func permanent(err error) bool {
	switch detente.ErrorCode(err) {
	case detente.EINVALID, detente.EFORBIDDEN, detente.EUNAUTHORIZED, detente.ECONFLICT:
		return true
	}
	return false
}

// Run delivers messages until ctx is done, waking when a delivery is due,
// when a message is enqueued or resent through o, and every Poll. It
// returns ctx's error.
func (o *Outbox) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-o.poke:
		}
		next, err := o.Flush(ctx)
		if err != nil && ctx.Err() == nil {
			o.opts.Logger.ErrorContext(ctx, "outbox", "err", err)
		}
		wait := o.opts.Poll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		t.Reset(wait)
	}
}
