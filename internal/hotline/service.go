package hotline

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"detente"
	"detente/internal/peer"
)

// Config is what a Service gets from the node that runs it.
type Config struct {
	// Store is the node's database. Channels, messages, notices and the
	// running state are documents in it (detente.Tx.PutDoc), each change
	// written in one transaction with its log event (detente.EventChannel).
	Store detente.Store
	// Name is this node's name: its party name on channels, the owner of
	// its notices, and the node named in alerts.
	Name string
	// Key is this node's Ed25519 key: it signs transitions, messages and
	// heartbeats.
	Key ed25519.PrivateKey
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives what operators need to know; nil logs nothing.
	Logger *slog.Logger
	// PeerClient returns a client of the partner protocol for a partner
	// (mutual TLS with the partner's pinned key). Nil leaves partners
	// unreachable: deliveries wait in the outbox.
	PeerClient func(*detente.Partner) (*peer.Client, error)
	// CheckRelease decides under the egress policy whether object may be
	// released to partner (ENOTFOUND when the node does not hold it). A
	// message that refers to objects goes only if each may be released to
	// every recipient; nil refuses every such message.
	CheckRelease func(ctx context.Context, object, partner string) (*detente.Decision, error)
}

// Service is the node's liaison channels (docs/channels.md): proposing
// and changing channels, sending and acknowledging messages, filing
// notices of planned activity and deconflicting them, answering what
// partners send (it implements peer.Channels), and, with Run, the
// outbox, escalation, heartbeats and the delivery of channel histories.
//
// Its Store is kept over the node's documents; every change is written
// with its log event in one transaction. It is safe for concurrent use,
// and several processes may share one database (the CLI beside
// detente serve).
type Service struct {
	db           detente.Store
	name         string
	key          ed25519.PrivateKey
	self         detente.PublicKey
	clock        func() time.Time
	logger       *slog.Logger
	peerClient   func(*detente.Partner) (*peer.Client, error)
	checkRelease func(ctx context.Context, object, partner string) (*detente.Decision, error)

	mu   sync.Mutex
	wake chan struct{} // the running outbox's wake-up (Run); nil if none

	// dmu guards the cached deconflictor, which holds every activity as of
	// the activity version token (service_notices.go).
	dmu     sync.Mutex
	dec     *Deconflictor
	version string
}

var _ peer.Channels = (*Service)(nil)

// NewService returns the service of the node that cfg describes.
func NewService(cfg Config) *Service {
	s := &Service{db: cfg.Store, name: cfg.Name, key: cfg.Key, clock: cfg.Now, logger: cfg.Logger,
		peerClient: cfg.PeerClient, checkRelease: cfg.CheckRelease}
	if cfg.Key != nil {
		s.self = detente.PublicKey(cfg.Key.Public().(ed25519.PublicKey))
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.logger == nil {
		s.logger = discard
	}
	return s
}

// Store returns the service's Store over the node's documents. Each call
// is one transaction that writes the change and its log event together.
func (s *Service) Store() Store { return dbStore{s} }

// Message returns the stored message id.
func (s *Service) Message(ctx context.Context, id string) (*Record, error) {
	return s.Store().Message(ctx, id)
}

// discard is the logger of whatever is given none.
var discard = slog.New(slog.DiscardHandler)

func (s *Service) now() time.Time { return s.clock().UTC() }

// logEvent appends a channel event (detente.EventChannel) about partner
// (may be "") to the log inside tx.
func (s *Service) logEvent(ctx context.Context, tx detente.Tx, partner string, body any) error {
	e, err := detente.NewEvent(s.now(), detente.EventChannel, partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// logRefusal records in the log that something a partner sent was
// refused, and why.
func (s *Service) logRefusal(ctx context.Context, partner, what, channel, id string, cause error) {
	code := detente.ErrorCode(cause)
	s.logger.WarnContext(ctx, "hotline: refused", "partner", partner, "what", what, "channel", channel, "id", id, "code", code, "err", cause)
	if code == detente.EINTERNAL {
		return // our failure, not the partner's: the slog line is enough
	}
	body := map[string]any{"action": actRefused, "what": what, "channel": channel, "id": id, "code": code, "error": detente.ErrorMessage(cause)}
	err := s.db.Update(ctx, func(tx detente.Tx) error { return s.logEvent(ctx, tx, partner, body) })
	if err != nil {
		s.logger.ErrorContext(ctx, "hotline: log refusal", "err", err)
	}
}

// reportAlert records a hotline alert in the node's alerts table (kind
// detente.AlertChannel, the Alert's JSON as evidence, one alert per
// condition: Alert.Key), with its log event.
func (s *Service) reportAlert(ctx context.Context, a Alert) {
	ev, _ := json.Marshal(a)
	partner := ""
	if len(a.Partners) == 1 {
		partner = a.Partners[0]
	}
	err := s.db.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutAlert(ctx, &detente.Alert{Key: a.Key(), Time: a.Time, Kind: detente.AlertChannel, Partner: partner, Message: a.Text, Evidence: ev}); err != nil {
			return err
		}
		body := map[string]any{"action": actAlert, "kind": a.Kind, "channel": a.Channel, "partners": a.Partners}
		if a.Message != "" {
			body["message"], body["escalation"] = a.Message, a.Escalation
		}
		return s.logEvent(ctx, tx, partner, body)
	})
	if err != nil && ctx.Err() == nil {
		s.logger.ErrorContext(ctx, "hotline: record alert", "kind", a.Kind, "channel", a.Channel, "err", err)
	}
	s.logger.WarnContext(ctx, "hotline alert", "kind", a.Kind, "channel", a.Channel, "text", a.Text)
}

// setWake makes wakeOutbox poke c.
func (s *Service) setWake(c chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wake = c
}

// wakeOutbox wakes the outbox of the service running in this process (Run),
// if any, so that a message just enqueued goes out at once rather than at
// the next poll. A message enqueued by another process (the CLI) waits for
// the poll (RunOptions.Poll), unless that process delivers it itself
// (DeliverNow).
func (s *Service) wakeOutbox() {
	s.mu.Lock()
	c := s.wake
	s.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case c <- struct{}{}:
	default:
	}
}
