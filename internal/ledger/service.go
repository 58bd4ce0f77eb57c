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
	var all []*detente.Event
	for _, typ := range ledgerTypes {
		es, err := tx.Events(ctx, detente.EventFilter{Type: typ})
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	return all, nil
}

// Balances returns the balances over the period ending now (the whole log
// for 0), with partner alone when partner is not "" (ENOTFOUND when the
// log never recorded it).
func (s *Service) Balances(ctx context.Context, partner string, period time.Duration) ([]*Balance, error) {
	var events []*detente.Event
	err := s.store.View(ctx, func(tx detente.Tx) (err error) { events, err = Events(ctx, tx); return })
	if err != nil {
		return nil, err
	}
	return Select(Compute(events, period, s.now()), partner)
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
