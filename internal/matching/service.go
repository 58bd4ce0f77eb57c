// Package matching is private matching in a node (docs/matching.md): the
// node's watchlists, kept as documents in its store; the owner key, sealed
// under a key derived from the node key; budgets and key epochs from the
// agreements' match blocks; the owner's side of the protocols of
// internal/psi (terms, encoded watchlists, budgeted VOPRF evaluations, bulk
// and count exchanges), which internal/peer serves to partners; and the
// querier's side, which asks partners through internal/peer's client.
// Every change and every exchange is logged, with counts only, in the
// transaction that makes it.
//
// internal/psi is the cryptography; this package is what a node does with
// it. The node composes a Service from its store, name, keys and clock.
package matching

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"detente"
	"detente/internal/peer"
	"detente/internal/psi"
)

// Document kinds (detente.Tx.PutDoc) of private matching.
const (
	docWatchlist = "match.watchlist" // by watchlist name
	docOwnerKey  = "match.owner-key" // "current": the sealed OwnerKey seed
	docBudget    = "match.budget"    // by epoch: a partner's usage in a period
	docEncoding  = "match.encoding"  // by epoch: the encoded watchlist published
)

// DocKinds lists the document kinds private matching keeps, for audits and
// tests.
var DocKinds = []string{docWatchlist, docOwnerKey, docBudget, docEncoding}

// OwnerKeyInfo names the key, derived from the node key (HKDF-SHA-256),
// that seals the owner key in the store: Config.SealKey.
const OwnerKeyInfo = "detente/match/owner-key/v1"

// MaxWatchlistFile bounds a watchlist or selector file.
const MaxWatchlistFile = 256 << 20

// Config is what a Service needs from its node.
type Config struct {
	// Store holds the watchlists, the sealed owner key, the budgets and
	// the published encodings, and the log.
	Store detente.Store
	// Name is this node's name, in refusals.
	Name string
	// SealKey is the 32-byte key that seals the owner key in the store,
	// derived from the node key for OwnerKeyInfo, so that a copy of the
	// database alone does not reveal the owner key.
	SealKey []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger logs what operators should know; nil logs nothing.
	Logger *slog.Logger
	// PeerClient returns a client of the partner protocol for a partner
	// (its URL, over mutual TLS with its key pinned).
	PeerClient func(*detente.Partner) (*peer.Client, error)
}

// Service is private matching for one node. It keeps each partner's
// encoded watchlist for the current epoch in memory (an epoch change, or a
// refusal naming a newer epoch, drops it). It is safe for concurrent use.
type Service struct {
	store      detente.Store
	name       string
	now        func() time.Time
	logger     *slog.Logger
	peerClient func(*detente.Partner) (*peer.Client, error)
	aead       cipher.AEAD // seals the owner key
	aeadErr    error
	cache      psi.Cache
}

// The owner's side is what internal/peer serves to partners.
var _ peer.Matching = (*Service)(nil)

// New returns the private matching of the node cfg describes.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, name: cfg.Name, now: cfg.Now, logger: cfg.Logger, peerClient: cfg.PeerClient}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.peerClient == nil {
		s.peerClient = func(*detente.Partner) (*peer.Client, error) {
			return nil, errors.New("private matching: this node has no partner connections")
		}
	}
	s.aead, s.aeadErr = sealer(cfg.SealKey)
	return s
}

func sealer(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("owner key wrapping key: %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("owner key wrapping key: %w", err)
	}
	return cipher.NewGCM(b)
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// logEvent appends an event to the log inside tx.
func (s *Service) logEvent(ctx context.Context, tx detente.Tx, typ, partner string, body any) error {
	e, err := detente.NewEvent(s.clock(), typ, partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// psiError turns a protocol error into one for users.
func psiError(err error) error {
	var ee *psi.EpochError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, psi.ErrSetSize):
		return detente.Errorf(detente.EINVALID, "set size out of the agreed bounds: %v", err)
	case errors.Is(err, psi.ErrParams):
		return detente.Errorf(detente.ECONFLICT, "session parameters differ: %v", err)
	case errors.Is(err, psi.ErrProof):
		return detente.Errorf(detente.ECONFLICT, "the partner's evaluation does not verify against its published key for the epoch")
	case errors.Is(err, psi.ErrSelector):
		return detente.Errorf(detente.EINVALID, "%v", err)
	case errors.Is(err, psi.ErrMessage):
		return detente.Errorf(detente.EINVALID, "%v", err)
	}
	return err
}
