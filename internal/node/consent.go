package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"detente"
)

// IssueConsent signs, as originator, a consent for partner recipient to
// receive object (or, with scope report, every object the report's current
// version references, the version named in the consent) from whichever
// partner holds it. The object must be one this node
// originated. The consent is stored, logged, and offered to partners that
// were released the object (they fetch it when they sync).
func (n *Node) IssueConsent(ctx context.Context, object, recipient, scope string, until time.Time) (*detente.Consent, error) {
	if scope == "" {
		scope = detente.ConsentObject
	}
	object = detente.NormalID(object)
	c := &detente.Consent{ID: "consent--" + newUUID(), Originator: n.PublicKey(), Object: object, Scope: scope,
		Issued: n.now().Truncate(time.Second), Until: until.UTC(), Received: n.now()}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		o, err := tx.Object(ctx, object)
		if err != nil {
			return err
		}
		if o.Originator != detente.OriginSelf {
			return detente.Errorf(detente.EFORBIDDEN, "%s was originated by %s, not this node: only its originator can consent", object, orUnknown(o.Originator))
		}
		if scope == detente.ConsentReport {
			if o.Type != "report" {
				return detente.Errorf(detente.EINVALID, "%s is not a report: use scope object", object)
			}
			// The consent covers what this version references, and
			// nothing a later version (or anyone else's) adds.
			c.Version = o.Modified
		}
		p, err := tx.Partner(ctx, recipient)
		if err != nil {
			return err
		}
		c.Recipient = p.Key
		c.Sign(n.Key)
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventConsentAdded, recipient, map[string]string{"id": c.ID, "object": object, "scope": scope, "recipient": recipient})
	})
	if err != nil {
		return nil, fmt.Errorf("issue consent: %w", err)
	}
	return c, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown signer"
	}
	return s
}

// AddConsent stores a consent signed by a partner (the originator of the
// object it names), after verifying its signature. Adding a consent already
// held records its revocation if it is now revoked.
func (n *Node) AddConsent(ctx context.Context, c *detente.Consent) error {
	if err := c.Verify(); err != nil {
		return err
	}
	return n.Store.Update(ctx, func(tx detente.Tx) error {
		p, err := tx.PartnerByKey(ctx, c.Originator)
		if err != nil {
			return detente.Errorf(detente.EINVALID, "consent %s is signed by %s, who is not a partner", c.ID, c.Originator)
		}
		held, err := tx.Consents(ctx, c.Object)
		if err != nil {
			return err
		}
		for _, h := range held {
			if h.ID != c.ID {
				continue
			}
			if h.Revoked || !c.Revoked {
				return nil // nothing new
			}
			h.Revoked, h.RevokedReason = true, c.RevokedReason
			if err := tx.PutConsent(ctx, h); err != nil {
				return err
			}
			return n.logEvent(ctx, tx, detente.EventConsentRevoked, p.Name, map[string]string{"id": c.ID, "reason": c.RevokedReason})
		}
		c.Received = n.now()
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventConsentAdded, p.Name, map[string]any{"id": c.ID, "object": c.Object, "scope": c.Scope, "revoked": c.Revoked})
	})
}

// RevokeConsent withdraws a consent this node issued. Partners learn of it
// at their next sync; until then a partner that already passed the object
// on cannot take it back, which is why consents should be narrow.
func (n *Node) RevokeConsent(ctx context.Context, id, reason string) error {
	if reason == "" {
		return detente.Errorf(detente.EINVALID, "a reason is required")
	}
	return n.Store.Update(ctx, func(tx detente.Tx) error {
		all, err := tx.Consents(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range all {
			if c.ID != id {
				continue
			}
			if !c.Originator.Equal(n.PublicKey()) {
				return detente.Errorf(detente.EFORBIDDEN, "consent %s was issued by another node: only its originator can revoke it", id)
			}
			c.Revoked, c.RevokedReason = true, reason
			if err := tx.PutConsent(ctx, c); err != nil {
				return err
			}
			return n.logEvent(ctx, tx, detente.EventConsentRevoked, "", map[string]string{"id": id, "reason": reason})
		}
		return detente.Errorf(detente.ENOTFOUND, "consent %s not found", id)
	})
}

// Consents returns every consent the node holds, issued or received.
func (n *Node) Consents(ctx context.Context) ([]*detente.Consent, error) {
	var cs []*detente.Consent
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { cs, err = tx.Consents(ctx, ""); return })
	return cs, err
}

// ConsentWire is a consent as nodes exchange it: the signed consent and its
// revocation state.
type ConsentWire struct {
	Consent       *detente.Consent `json:"consent"`
	Revoked       bool             `json:"revoked"`
	RevokedReason string           `json:"revoked_reason,omitempty"`
}

// ConsentsFor returns the consents this node issued for objects it released
// to partner: what that partner needs to pass them on.
func (n *Node) ConsentsFor(ctx context.Context, partner string) ([]ConsentWire, error) {
	out := []ConsentWire{}
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		all, err := tx.Consents(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range all {
			if !c.Originator.Equal(n.PublicKey()) {
				continue
			}
			rs, err := tx.Releases(ctx, detente.ReleaseFilter{Object: c.Object, Partner: partner, Limit: 1})
			if err != nil {
				return err
			}
			if len(rs) == 0 || !rs[0].Allowed {
				continue // never released to this partner: it must not learn of the consent
			}
			out = append(out, ConsentWire{Consent: c, Revoked: c.Revoked, RevokedReason: c.RevokedReason})
		}
		return nil
	})
	return out, err
}

// maxConsentsBody bounds a partner's consent list.
const maxConsentsBody = 16 << 20

// fetchConsents pulls the consents partner p issued for what it released to
// this node.
func (n *Node) fetchConsents(ctx context.Context, hc *http.Client, p *detente.Partner) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.URL, "/")+"/detente/v1/consents", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("fetch consents: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch consents: %s", resp.Status)
	}
	var ws []ConsentWire
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxConsentsBody)).Decode(&ws); err != nil {
		return fmt.Errorf("fetch consents: %w", err)
	}
	for _, w := range ws {
		if w.Consent == nil || !w.Consent.Originator.Equal(p.Key) {
			continue // a partner speaks only for its own consents
		}
		w.Consent.Revoked, w.Consent.RevokedReason = w.Revoked, w.RevokedReason
		if err := n.AddConsent(ctx, w.Consent); err != nil {
			n.Logger.WarnContext(ctx, "consent refused", "partner", p.Name, "id", w.Consent.ID, "err", err)
		}
	}
	return nil
}
