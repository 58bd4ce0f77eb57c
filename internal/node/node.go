// Package node is the composition root of a node: its identity, its store
// and log, and the operations every face (CLI, API, console, TAXII) shares —
// ingesting intelligence, partners, agreements, releases and tokens — each
// written together with its log event in one store transaction. The
// capabilities in their own packages (federation, hotline, matching,
// screening, ledger) get the store and the log from here.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"detente/internal/screening"
	"detente/internal/translog"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"detente"
	"detente/internal/corroboration"
	"detente/internal/federation"
	"detente/internal/feed"
	"detente/internal/hotline"
	"detente/internal/leak"
	"detente/internal/ledger"
	"detente/internal/matching"
)

// Node is one running node: its identity, its store and the clock.
type Node struct {
	Name   string
	Key    ed25519.PrivateKey
	Store  detente.Store
	Logger *slog.Logger
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// MaxSkew is how far in the future an object's created or modified
	// time may lie (partners' clocks differ); zero means DefaultMaxSkew.
	MaxSkew time.Duration

	// Screening holds the designation lists and screens names against
	// them.
	Screening *screening.Service
	// Matching is private matching: watchlists, the owner's side that
	// partners query, and queries to partners' watchlists.
	Matching *matching.Service
	// Federation pulls from partners, witnesses their logs and exchanges
	// consents with them, over this node's store and log.
	Federation *federation.Service
	// Hotline is the node's liaison channels (internal/hotline).
	Hotline *hotline.Service
	// Corroboration indexes what objects assert across originators
	// (internal/corroboration); ingest and receive feed it (noteStored).
	Corroboration *corroboration.Service
	// Log is the node's transparency log; its methods (Checkpoint,
	// Export, proofs) are the node's.
	*translog.Log
	// Feeds are the agency's own platforms the node pulls from
	// (internal/feed): their settings and cursors in the store, each page
	// stored with its log entries and cursor in one transaction.
	Feeds *feed.Service
	// Leak is leak attribution: fingerprinted copies for partners,
	// tracing and evidence (internal/leak).
	Leak *leak.Service
	// Ledger is the reciprocity ledger, its holds and this node's own
	// gradings (internal/ledger).
	Ledger *ledger.Service
}

// New returns a Node over an open store; a nil logger logs nothing.
func New(name string, key ed25519.PrivateKey, store detente.Store, logger *slog.Logger) *Node {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{Name: name, Key: key, Store: store, Logger: logger, Now: time.Now}
	n.Log = &translog.Log{Store: store, Name: name, Key: key, Logger: logger,
		Now: func() time.Time { return n.Now() }}
	n.Screening = screening.New(store, name, func() time.Time { return n.Now() })
	n.Matching = matching.New(matching.Config{Store: store, Name: name, SealKey: n.SubKey(matching.OwnerKeyInfo),
		Now: n.now, Logger: logger, PeerClient: n.PeerClient})
	n.Federation = federation.New(federation.Config{
		Store: store, Name: name, Key: key, Logger: logger,
		Now:  func() time.Time { return n.Now() }, // tests set n.Now after New
		Peer: n.PeerClient, TAXII: n.TAXIIClient, Log: n.Log, Receive: n.receiveForSync,
	})
	n.Hotline = hotline.NewService(hotline.Config{Store: store, Name: name, Key: key, Logger: logger,
		Now: func() time.Time { return n.Now() }, PeerClient: n.PeerClient, CheckRelease: n.checkReleaseUnheld})
	n.Corroboration = corroboration.New(corroboration.Config{Store: store, Lists: n.Screening.Index, Now: n.now})
	n.Feeds = feed.NewService(feed.ServiceConfig{Store: store, Key: key, Logger: logger,
		Now: func() time.Time { return n.Now() }, MaxSkew: n.maxSkew})
	n.Leak = leak.New(leak.Config{Store: store, Key: key, Secret: n.SubKey(leak.SecretInfo), Logger: logger,
		Now: n.now, ExportSelection: n.ExportSelection})
	n.Ledger = ledger.New(ledger.Config{Store: store, Name: name, Key: key, Now: func() time.Time { return n.Now() }, Logger: logger})
	return n
}

// The node's log is what federation serves to the partners witnessing it.
var _ federation.Log = (*translog.Log)(nil)

// Bootstrap records a new node in s, an empty store: its name and key,
// and the log's first event. It refuses, changing nothing, a store that
// already holds a node.
func Bootstrap(ctx context.Context, s detente.Store, name string, key detente.PublicKey) error {
	err := s.Update(ctx, func(tx detente.Tx) error {
		if other, err := tx.Meta(ctx, "name"); err == nil {
			return detente.Errorf(detente.EEXISTS, "the database already holds node %s; nothing changed", other)
		}
		ev, err := detente.NewEvent(time.Now(), detente.EventNodeInit, "", map[string]string{"name": name, "key": key.String()})
		if err != nil {
			return err
		}
		return errors.Join(tx.SetMeta(ctx, "name", name), tx.SetMeta(ctx, "key", key.String()), tx.AppendEvent(ctx, ev))
	})
	if err != nil {
		return fmt.Errorf("initialise store: %w", err)
	}
	return nil
}

// PublicKey returns the node's public key.
func (n *Node) PublicKey() detente.PublicKey {
	return detente.PublicKey(n.Key.Public().(ed25519.PublicKey))
}

// SubKey returns a 32-byte key for one purpose, derived (HKDF-SHA-256)
// from the node key, so that every process serving the node derives the
// same one and a copy of the database alone reveals none. info names the
// purpose, e.g. "detente/taxii/cursor/v1".
func (n *Node) SubKey(info string) []byte {
	k, err := hkdf.Key(sha256.New, n.Key.Seed(), nil, info, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce; 32 bytes it always can
	}
	return k
}

// Close closes the node's store.
func (n *Node) Close() error { return n.Store.Close() }

func (n *Node) now() time.Time { return n.Now().UTC() }

// DefaultMaxSkew is how far in the future an object's times may lie unless
// the node's config says otherwise.
const DefaultMaxSkew = 24 * time.Hour

func (n *Node) maxSkew() time.Duration {
	if n.MaxSkew > 0 {
		return n.MaxSkew
	}
	return DefaultMaxSkew
}

// logEvent appends an event to the log inside tx.
func (n *Node) logEvent(ctx context.Context, tx detente.Tx, typ, partner string, body any) error {
	e, err := detente.NewEvent(n.now(), typ, partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// commit returns the hex SHA-256 of b: what the log records in place of
// protected content.
func commit(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// hidingCommit returns a commitment to a short, guessable value (an
// object's version key): the hex SHA-256 of a nonce and the value, the
// nonce an HMAC of the value under a key derived from the node key. A plain
// hash of "id@modified" could be found by trying ids; this cannot without
// the nonce, which the node can reveal for one entry to open it.
func (n *Node) hidingCommit(value string) string {
	m := hmac.New(sha256.New, n.SubKey("detente/log/commitment-nonce/v1"))
	m.Write([]byte(value))
	h := sha256.New()
	h.Write(m.Sum(nil))
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil))
}

// ---- tokens ----

// TokenPrefix starts every token secret, so a leaked one is recognisable
// (and findable by secret scanners).
const TokenPrefix = "dtk_"

// CreateToken creates a bearer token with role and returns it with its
// secret, which is shown only now: the store keeps only its hash.
func (n *Node) CreateToken(ctx context.Context, role detente.Role, label string) (*detente.Token, string, error) {
	if _, err := detente.ParseRole(string(role)); err != nil {
		return nil, "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", fmt.Errorf("generate token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	h := detente.TokenHash(secret)
	t := &detente.Token{ID: "tok_" + hex.EncodeToString(h[:6]), Hash: h, Role: role, Label: label, Created: n.now()}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutToken(ctx, t); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventTokenCreated, "", map[string]string{"token": t.ID, "role": string(role)})
	})
	if err != nil {
		return nil, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// RevokeToken revokes the token with id.
func (n *Node) RevokeToken(ctx context.Context, id string) error {
	return n.Store.Update(ctx, func(tx detente.Tx) error {
		ts, err := tx.Tokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID == id {
				t.Revoked = true
				if err := tx.PutToken(ctx, t); err != nil {
					return err
				}
				return n.logEvent(ctx, tx, detente.EventTokenRevoked, "", map[string]string{"token": id})
			}
		}
		return detente.Errorf(detente.ENOTFOUND, "token %s not found", id)
	})
}

// Authenticate returns the live token whose secret is secret.
func (n *Node) Authenticate(ctx context.Context, secret string) (*detente.Token, error) {
	var t *detente.Token
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		t, err = tx.TokenByHash(ctx, detente.TokenHash(secret))
		return err
	})
	if err != nil || t.Revoked {
		return nil, detente.Errorf(detente.EUNAUTHORIZED, "invalid or revoked token")
	}
	return t, nil
}

// ---- partners ----

// AddPartner records a new partner, pinned by its key.
func (n *Node) AddPartner(ctx context.Context, name string, key detente.PublicKey, url string) (*detente.Partner, error) {
	if key.Equal(n.PublicKey()) {
		return nil, detente.Errorf(detente.EINVALID, "that key is this node's own key")
	}
	if name == detente.OriginSelf || name == n.Name {
		// Originator "self" is this node: a partner of that name would pass
		// for it, its objects for this node's own.
		return nil, detente.Errorf(detente.EINVALID, "partner name %q is reserved for this node itself: choose another", name)
	}
	now := n.now()
	p := &detente.Partner{Name: name, Key: key, URL: url, State: detente.PartnerActive, Created: now, Updated: now}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		if q, err := tx.Partner(ctx, name); err == nil && q.State == detente.PartnerRemoved {
			return detente.Errorf(detente.EEXISTS, "partner %s was removed; its name stays with its history: choose another", name)
		} else if err == nil {
			return detente.Errorf(detente.EEXISTS, "partner %s already exists", name)
		} else if detente.ErrorCode(err) != detente.ENOTFOUND {
			return err
		}
		if err := keyFree(ctx, tx, key); err != nil {
			return err
		}
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventPartnerAdded, name, map[string]string{"name": name, "key": key.String(), "url": url})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// SetPartnerState suspends or resumes a partner, with a reason. A removed
// partner (RemovePartner) cannot change.
func (n *Node) SetPartnerState(ctx context.Context, name string, state detente.PartnerState, reason string) (*detente.Partner, error) {
	if reason == "" {
		return nil, detente.Errorf(detente.EINVALID, "a reason is required")
	}
	if state != detente.PartnerActive && state != detente.PartnerSuspended {
		return nil, detente.Errorf(detente.EINVALID, "a partner is suspended or resumed; to remove one, use RemovePartner")
	}
	var p *detente.Partner
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		var err error
		if p, err = tx.Partner(ctx, name); err != nil {
			return err
		}
		if p.State == detente.PartnerRemoved {
			return removedError(p)
		}
		p.State, p.StateReason, p.Updated = state, reason, n.now()
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventPartnerChanged, name, map[string]string{"name": name, "state": string(state), "reason": reason})
	})
	return p, err
}

// Partners lists the partners.
func (n *Node) Partners(ctx context.Context) ([]*detente.Partner, error) {
	var ps []*detente.Partner
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { ps, err = tx.Partners(ctx); return })
	return ps, err
}

// PartnerByKey returns the partner pinned to key (ENOTFOUND when none
// is), whatever its state.
func (n *Node) PartnerByKey(ctx context.Context, key detente.PublicKey) (*detente.Partner, error) {
	var p *detente.Partner
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { p, err = tx.PartnerByKey(ctx, key); return })
	return p, err
}

// ---- agreements ----

// AddAgreement records a new agreement (version 1) from a parsed document.
// Every partner it names must be known.
func (n *Node) AddAgreement(ctx context.Context, a *detente.Agreement) (*detente.Agreement, error) {
	if a.ID == "" {
		a.ID = "agreement--" + detente.NewUUID()
	}
	a.Version, a.State, a.Updated = 1, detente.AgreementActive, n.now()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		if _, err := tx.Agreement(ctx, a.ID); err == nil {
			return detente.Errorf(detente.EEXISTS, "agreement %s already exists: change it with suspend, resume or end", a.ID)
		}
		for _, p := range a.Partners {
			q, err := tx.Partner(ctx, p)
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				return detente.Errorf(detente.EINVALID, "agreement names partner %s, who is not known: add it first with 'detente partner add'", p)
			} else if err != nil {
				return err
			}
			if q.State == detente.PartnerRemoved {
				return detente.Errorf(detente.EINVALID, "agreement names partner %s, who was removed", p)
			}
		}
		if err := refuseCopy(ctx, tx, a, n.now()); err != nil {
			return err
		}
		if err := tx.PutAgreement(ctx, a); err != nil {
			return err
		}
		return n.logAgreement(ctx, tx, detente.EventAgreementAdded, a)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// refuseCopy refuses a new agreement with the same partners and terms as
// one that is or may again be in force (active or suspended, not past its
// window): with two, suspending one would leave sharing on under the other.
func refuseCopy(ctx context.Context, tx detente.Tx, a *detente.Agreement, now time.Time) error {
	existing, err := tx.Agreements(ctx, a.Partners[0])
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.State != detente.AgreementEnded && now.Before(e.Until) && e.SameTerms(a) {
			return detente.Errorf(detente.EEXISTS, "agreement %s (%s) already has these partners and terms: suspend, resume or end it rather than adding a copy", e.ID, e.State)
		}
	}
	return nil
}

func (n *Node) logAgreement(ctx context.Context, tx detente.Tx, typ string, a *detente.Agreement) error {
	for _, p := range a.Partners {
		body := map[string]any{"id": a.ID, "version": a.Version, "state": a.State, "reason": a.StateReason, "hash": a.Hash()}
		if err := n.logEvent(ctx, tx, typ, p, body); err != nil {
			return err
		}
	}
	return nil
}

// SetAgreementState makes a new version of agreement id in state, with a
// reason. An ended agreement cannot be changed again.
func (n *Node) SetAgreementState(ctx context.Context, id string, state detente.AgreementState, reason string) (*detente.Agreement, error) {
	if reason == "" {
		return nil, detente.Errorf(detente.EINVALID, "a reason is required")
	}
	var a *detente.Agreement
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		var err error
		if a, err = tx.Agreement(ctx, id); err != nil {
			return err
		}
		if a.State == detente.AgreementEnded {
			return detente.Errorf(detente.ECONFLICT, "agreement %s has ended and cannot change", id)
		}
		if a.State == state {
			return detente.Errorf(detente.ECONFLICT, "agreement %s is already %s", id, state)
		}
		a.Version++
		a.State, a.StateReason, a.Updated = state, reason, n.now()
		if err := tx.PutAgreement(ctx, a); err != nil {
			return err
		}
		return n.logAgreement(ctx, tx, detente.EventAgreementChanged, a)
	})
	return a, err
}

// Agreements lists the latest version of every agreement.
func (n *Node) Agreements(ctx context.Context) ([]*detente.Agreement, error) {
	var as []*detente.Agreement
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { as, err = tx.Agreements(ctx, ""); return })
	return as, err
}
