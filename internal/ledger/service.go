package ledger

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"detente"
)

// Config is what a Service is built from.
type Config struct {
	Store  detente.Store
	Name   string             // this node's name
	Key    ed25519.PrivateKey // signs this node's gradings
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the ledger over one node's store and log.
type Service struct {
	store  detente.Store
	name   string
	key    ed25519.PrivateKey
	now    func() time.Time
	logger *slog.Logger
}

// New returns the ledger service of cfg.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, name: cfg.Name, key: cfg.Key, now: cfg.Now, logger: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Store document kinds.
const (
	// docAssertion: what an object asserts (assertionKey) → the origin key
	// of the first version seen asserting it.
	docAssertion = "ledger.assertion"
	// docGiven: "partner version-key" for each version given to a partner.
	docGiven = "ledger.given"
	// docHold: a partner's reciprocity hold (Hold), by partner name.
	docHold = "ledger.hold"
)

// ledgerTypes are the event types Compute reads.
var ledgerTypes = []string{detente.EventPartnerAdded, detente.EventRelease, detente.EventObjectReceived,
	detente.EventMatchQuery, detente.EventChannel}

// Events returns the events of the log Compute reads, in log order.
func Events(ctx context.Context, tx detente.Tx) ([]*detente.Event, error) {
	return EventsSince(ctx, tx, time.Time{})
}

// RequestLookback is how long before a period a channel request may have
// been asked for its answer in the period to be judged on time or late
// against its due time (Compute); an answer to an older request counts as
// on time.
const RequestLookback = 30 * 24 * time.Hour

// timeSlack is how far out of order the log's times may be (several
// processes append to one log): EventsSince reads that much earlier.
const timeSlack = time.Hour

// EventsSince returns the events Compute reads, in log order, from about
// since on: from the first entry logged at since less an hour of slack
// (found by bisecting the log, whose times grow with its positions), so
// that a ledger over a recent period does not read the whole log.
func EventsSince(ctx context.Context, tx detente.Tx, since time.Time) ([]*detente.Event, error) {
	var from int64
	if !since.IsZero() {
		since = since.Add(-timeSlack)
		size, err := tx.CountEvents(ctx)
		if err != nil {
			return nil, err
		}
		lo, hi := int64(0), size
		for lo < hi {
			mid := lo + (hi-lo)/2
			es, err := tx.Events(ctx, detente.EventFilter{FromSeq: mid, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(es) == 1 && es[0].Time.Before(since) {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		from = lo
	}
	var all []*detente.Event
	for _, typ := range ledgerTypes {
		f := detente.EventFilter{Type: typ, FromSeq: from}
		if typ == detente.EventPartnerAdded {
			f.FromSeq = 0 // every partner has a balance, however long ago it was added
		}
		es, err := tx.Events(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	return all, nil
}

// readFrom returns where reading the log may start for a period ending
// at now: zero (the whole log) for period 0.
func readFrom(now time.Time, period time.Duration) time.Time {
	if period <= 0 {
		return time.Time{}
	}
	return now.Add(-period - RequestLookback)
}

// Balances returns the balances over the period ending now (the whole log
// for 0), with partner alone when partner is not "" (ENOTFOUND when the
// log never recorded it).
func (s *Service) Balances(ctx context.Context, partner string, period time.Duration) ([]*Balance, error) {
	now := s.now()
	var events []*detente.Event
	err := s.store.View(ctx, func(tx detente.Tx) (err error) { events, err = EventsSince(ctx, tx, readFrom(now, period)); return })
	if err != nil {
		return nil, err
	}
	return Select(Compute(events, period, now), partner)
}

// Select returns the balance of partner alone, or all of bs for "".
func Select(bs []*Balance, partner string) ([]*Balance, error) {
	if partner == "" {
		return bs, nil
	}
	for _, b := range bs {
		if b.Partner == partner {
			return []*Balance{b}, nil
		}
	}
	return nil, detente.Errorf(detente.ENOTFOUND, "partner %s is not in the log", partner)
}

// ParsePeriod parses a period: a number of days ("30d"), a Go duration
// ("720h"), or "all" (or "0") for the whole log, returned as 0.
func ParsePeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "all" || s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 && days <= 100*366 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, detente.Errorf(detente.EINVALID, "period %q must be a number of days such as 30d, a duration such as 720h, or all", s)
}
