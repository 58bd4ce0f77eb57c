// Package federation is what a node does with its partners over the
// network, beyond answering their TAXII pulls: it pulls from them (sync,
// by cursor, with a lease and backoff when several processes serve one
// node), witnesses and cosigns their transparency-log checkpoints, gossips
// about them with its other partners to catch a split view, takes release
// receipts, and exchanges originators' consents.
//
// A Service is built by the node (internal/node, the composition root)
// from a Config: the store, the node's identity, its clock and logger, the
// ways to reach a partner, the node's own log and its ingress path. The
// package never imports the node. It speaks the partner protocol through
// internal/peer, and answers its log and consent endpoints
// (peer.LogService, peer.ConsentService).
package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/peer"
	"detente/internal/taxii"
	"detente/internal/translog"
)

// Log is the node's own transparency log, as the service needs it to
// answer the partners that witness it.
type Log interface {
	// Checkpoint returns a signed checkpoint of the log at its current
	// size, signing and storing one only when the log has grown.
	Checkpoint(ctx context.Context) (*detente.Checkpoint, error)
	// LatestCheckpoint returns the newest stored checkpoint's note with
	// the cosignatures partners returned for it, and the checkpoint.
	LatestCheckpoint(ctx context.Context) ([]byte, *detente.Checkpoint, error)
	// ConsistencyProof proves that the tree of size oldSize is a prefix
	// of the tree of size newSize.
	ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error)
	// InclusionProof proves that entry seq is in the tree of size size.
	InclusionProof(ctx context.Context, seq, size int64) (tlog.RecordProof, error)
}

// Received sums up one page of objects stored through Config.Receive.
type Received struct {
	Added, Unchanged, Quarantined, Rejected int
}

// Config is what a Service gets from its node.
type Config struct {
	// Store is the node's store.
	Store detente.Store
	// Name and Key are the node's name and key: the service signs
	// consents with Key, and cosigns checkpoints as the witness of the
	// node's origin.
	Name string
	Key  ed25519.PrivateKey
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger logs what the service does in the background; nil logs
	// nothing.
	Logger *slog.Logger
	// Peer returns a client of the partner protocol for p over mutual TLS
	// with p's key pinned.
	Peer func(p *detente.Partner) (*peer.Client, error)
	// TAXII returns the TAXII client that pulls from p over hc, the HTTP
	// client of the partner protocol's client for p (one connection for
	// the whole pass).
	TAXII func(p *detente.Partner, hc *http.Client) *taxii.Client
	// Log is the node's own log, served to the partners witnessing it.
	Log Log
	// Receive stores objects partner from sent under the ingress policy,
	// in one transaction, and runs after in that same transaction, with
	// what it did: sync moves its cursor there, so that a crash never
	// loses or doubles a page.
	Receive func(ctx context.Context, from string, objects []json.RawMessage, after func(tx detente.Tx, r Received) error) error
}

// Service is a node's federation with its partners. Its methods are safe
// for concurrent use.
type Service struct {
	store   detente.Store
	name    string
	key     ed25519.PrivateKey
	now     func() time.Time
	logger  *slog.Logger
	peer    func(p *detente.Partner) (*peer.Client, error)
	taxii   func(p *detente.Partner, hc *http.Client) *taxii.Client
	log     Log
	receive func(ctx context.Context, from string, objects []json.RawMessage, after func(tx detente.Tx, r Received) error) error
}

var (
	_ peer.LogService     = (*Service)(nil)
	_ peer.ConsentService = (*Service)(nil)
)

// New returns the service c describes.
func New(c Config) *Service {
	s := &Service{store: c.Store, name: c.Name, key: c.Key, now: c.Now, logger: c.Logger,
		peer: c.Peer, taxii: c.TAXII, log: c.Log, receive: c.Receive}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// publicKey returns the node's public key.
func (s *Service) publicKey() detente.PublicKey {
	return detente.PublicKey(s.key.Public().(ed25519.PublicKey))
}

// origin returns the name of the node's own log.
func (s *Service) origin() string {
	return translog.Origin(s.name, s.key.Public().(ed25519.PublicKey))
}

// clock returns the current time in UTC.
func (s *Service) clock() time.Time { return s.now().UTC() }

// logEvent appends an event to the log inside tx.
func (s *Service) logEvent(ctx context.Context, tx detente.Tx, typ, partner string, body any) error {
	e, err := detente.NewEvent(s.clock(), typ, partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// partners lists the node's partners.
func (s *Service) partners(ctx context.Context) ([]*detente.Partner, error) {
	var ps []*detente.Partner
	err := s.store.View(ctx, func(tx detente.Tx) (err error) { ps, err = tx.Partners(ctx); return })
	return ps, err
}

// meta reads a store setting; ok is false when it is not set.
func (s *Service) meta(ctx context.Context, key string) (v string, ok bool, err error) {
	err = s.store.View(ctx, func(tx detente.Tx) error {
		var err error
		v, err = tx.Meta(ctx, key)
		switch {
		case err == nil:
			ok = true
		case detente.ErrorCode(err) == detente.ENOTFOUND:
			err = nil
		}
		return err
	})
	return v, ok, err
}

// commit returns the hex SHA-256 of b: what the log records in place of
// content it must not hold in clear.
func commit(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// newID returns a new id "<prefix>--<random UUID v4>".
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
