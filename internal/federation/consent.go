package federation

import (
	"context"
	"fmt"
	"time"

	"detente"
	"detente/internal/peer"
)

// IssueConsent signs, as originator, a consent for partner recipient to
// receive object (or, with scope report, every object the report's current
// version references, the version named in the consent) from whichever
// partner holds it. The object must be one this node originated. The
// consent is stored, logged, and offered to partners that were released
// the object (they fetch it when they sync).
func (s *Service) IssueConsent(ctx context.Context, object, recipient, scope string, until time.Time) (*detente.Consent, error) {
	if scope == "" {
		scope = detente.ConsentObject
	}
	object = detente.NormalID(object)
	c := &detente.Consent{ID: newID("consent"), Originator: s.publicKey(), Object: object, Scope: scope,
		Issued: s.clock().Truncate(time.Second), Until: until.UTC(), Received: s.clock()}
	err := s.store.Update(ctx, func(tx detente.Tx) error {
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
		c.Sign(s.key)
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, detente.EventConsentAdded, recipient, map[string]string{"id": c.ID, "object": object, "scope": scope, "recipient": recipient})
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
func (s *Service) AddConsent(ctx context.Context, c *detente.Consent) error {
	if err := c.Verify(); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx detente.Tx) error {
		p, err := tx.PartnerByKey(ctx, c.Originator)
		if err != nil {
			return detente.Errorf(detente.EINVALID, "consent %s is signed by %s, who is not a partner", c.ID, c.Originator)
		}
		// Only an object's originator speaks for it: a consent signed by
		// another node for an object this node holds from someone else is
		// refused, not kept to mislead whoever reads the list.
		if owner, err := tx.Owner(ctx, c.Object); err == nil && !owner.Equal(c.Originator) {
			// An observable is each originator's own: a version of it
			// from the signer makes the consent the signer's to give.
			if _, err := tx.ObjectFrom(ctx, c.Object, c.Originator); detente.ErrorCode(err) == detente.ENOTFOUND {
				return s.refuseConsent(ctx, tx, p, c, "it names an object "+p.Name+" did not originate")
			} else if err != nil {
				return err
			}
		} else if err != nil && detente.ErrorCode(err) != detente.ENOTFOUND {
			return err
		}
		// A consent is found by its id and its originator: another node's
		// consent under the same id is another consent. The originator's
		// own consent held under the id, unrevoked or different, must
		// change nothing.
		h, err := tx.Consent(ctx, c.ID, c.Originator)
		switch {
		case err == nil:
			if !sameConsent(h, c) {
				return s.refuseConsent(ctx, tx, p, c, p.Name+" issued a different consent under that id before")
			}
			if h.Revoked || !c.Revoked {
				return nil // nothing new: a revocation is final
			}
			h.Revoked, h.RevokedReason = true, c.RevokedReason
			if err := tx.PutConsent(ctx, h); err != nil {
				return err
			}
			return s.logEvent(ctx, tx, detente.EventConsentRevoked, p.Name, map[string]string{"id": c.ID, "reason": c.RevokedReason})
		case detente.ErrorCode(err) != detente.ENOTFOUND:
			return err
		}
		c.Received = s.clock()
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, detente.EventConsentAdded, p.Name, map[string]any{"id": c.ID, "object": c.Object, "scope": c.Scope, "revoked": c.Revoked})
	})
}

// RevokeConsent withdraws a consent this node issued. Partners learn of it
// at their next sync; until then a partner that already passed the object
// on cannot take it back, which is why consents should be narrow.
func (s *Service) RevokeConsent(ctx context.Context, id, reason string) error {
	if reason == "" {
		return detente.Errorf(detente.EINVALID, "a reason is required")
	}
	return s.store.Update(ctx, func(tx detente.Tx) error {
		all, err := tx.Consents(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range all {
			if c.ID != id {
				continue
			}
			if !c.Originator.Equal(s.publicKey()) {
				return detente.Errorf(detente.EFORBIDDEN, "consent %s was issued by another node: only its originator can revoke it", id)
			}
			c.Revoked, c.RevokedReason = true, reason
			if err := tx.PutConsent(ctx, c); err != nil {
				return err
			}
			return s.logEvent(ctx, tx, detente.EventConsentRevoked, "", map[string]string{"id": id, "reason": reason})
		}
		return detente.Errorf(detente.ENOTFOUND, "consent %s not found", id)
	})
}

// Consents returns every consent the node holds, issued or received.
func (s *Service) Consents(ctx context.Context) ([]*detente.Consent, error) {
	var cs []*detente.Consent
	err := s.store.View(ctx, func(tx detente.Tx) (err error) { cs, err = tx.Consents(ctx, ""); return })
	return cs, err
}

// ConsentsFor returns the consents this node issued for objects it released
// to partner: what that partner needs to pass them on. A consent for an
// object never released to partner is left out: the partner must not
// learn of it.
func (s *Service) ConsentsFor(ctx context.Context, partner string) ([]peer.IssuedConsent, error) {
	out := []peer.IssuedConsent{}
	err := s.store.View(ctx, func(tx detente.Tx) error {
		all, err := tx.Consents(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range all {
			if !c.Originator.Equal(s.publicKey()) {
				continue
			}
			rs, err := tx.Releases(ctx, detente.ReleaseFilter{Object: c.Object, Partner: partner, Limit: 1})
			if err != nil {
				return err
			}
			if len(rs) == 0 || !rs[0].Allowed {
				continue // never released to this partner: it must not learn of the consent
			}
			out = append(out, peer.IssuedConsent{Consent: c, Revoked: c.Revoked, RevokedReason: c.RevokedReason})
		}
		return nil
	})
	return out, err
}

// fetchConsents takes, through pc, the consents partner p issued for what
// it released to this node, and stores those p originated.
func (s *Service) fetchConsents(ctx context.Context, pc *peer.Client, p *detente.Partner) error {
	ws, err := pc.Consents(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.Consent == nil || !w.Consent.Originator.Equal(p.Key) {
			continue // a partner speaks only for its own consents
		}
		w.Consent.Revoked, w.Consent.RevokedReason = w.Revoked, w.RevokedReason
		if err := s.AddConsent(ctx, w.Consent); err != nil {
			s.logger.WarnContext(ctx, "consent refused", "partner", p.Name, "id", w.Consent.ID, "err", err)
		}
	}
	return nil
}

// sameConsent reports whether a and b are the same signed consent.
func sameConsent(a, b *detente.Consent) bool {
	return a.ID == b.ID && a.Object == b.Object && a.Scope == b.Scope && a.Recipient.Equal(b.Recipient) &&
		a.Issued.Equal(b.Issued) && a.Until.Equal(b.Until) && a.Version.Equal(b.Version) && string(a.Signature) == string(b.Signature)
}

// refusedConsentDoc is the document kind remembering the consents refused
// (id: originator key and consent id).
const refusedConsentDoc = "refused-consent"

// refuseConsent records, once, a consent partner p signed that cannot
// stand (why says why): an alert for the admins naming p, and one log
// entry, so that the log grows by one entry for a refused consent as for
// an added one (what a partner reads of the log's size says nothing of
// which ids the node holds). It leaves any held consent as it is.
func (s *Service) refuseConsent(ctx context.Context, tx detente.Tx, p *detente.Partner, c *detente.Consent, why string) error {
	key := c.Originator.String() + "/" + c.ID
	if _, err := tx.Doc(ctx, refusedConsentDoc, key); err == nil {
		return nil // refused before
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return err
	}
	if err := tx.PutDoc(ctx, refusedConsentDoc, key, []byte(c.ID), true); err != nil {
		return err
	}
	a := &detente.Alert{Time: s.clock(), Kind: detente.AlertQuarantine, Key: "consent-refused/" + key, Partner: p.Name,
		Message: fmt.Sprintf("consent %s signed by %s refused: %s", c.ID, p.Name, why)}
	if err := tx.PutAlert(ctx, a); err != nil {
		return err
	}
	s.logger.WarnContext(ctx, "consent refused", "partner", p.Name, "id", c.ID, "why", why)
	return s.logEvent(ctx, tx, detente.EventConsentRefused, p.Name, map[string]string{"id": c.ID})
}
