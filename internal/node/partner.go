package node

import (
	"context"
	"detente/internal/federation"
	"fmt"

	"detente"
)

// PartnerChange is a change to a partner's record; what it leaves nil
// stays as it is.
type PartnerChange struct {
	URL *string           // the partner node's base URL ("" for none)
	Key detente.PublicKey // a new key to pin
}

// UpdatePartner changes the URL or the pinned key of a partner, with a
// reason; the change and the reason are logged. A new key re-pins the
// partner: its connections and signatures are checked against the new key
// from now on, and what this node witnessed of the partner's log is
// dropped, as that log's checkpoints are signed with the old key (the new
// key's log is witnessed afresh). A removed partner cannot change.
func (n *Node) UpdatePartner(ctx context.Context, name string, ch PartnerChange, reason string) (*detente.Partner, error) {
	switch {
	case reason == "":
		return nil, detente.Errorf(detente.EINVALID, "a reason is required")
	case ch.URL == nil && ch.Key == nil:
		return nil, detente.Errorf(detente.EINVALID, "nothing to change: give a new URL or key")
	case ch.Key != nil && ch.Key.Equal(n.PublicKey()):
		return nil, detente.Errorf(detente.EINVALID, "that key is this node's own key")
	}
	if ch.URL != nil {
		if err := detente.ValidPartnerURL(*ch.URL); err != nil {
			return nil, err
		}
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
		body := map[string]string{"name": name, "reason": reason}
		changed := false
		if ch.URL != nil && *ch.URL != p.URL {
			p.URL, body["url"], changed = *ch.URL, *ch.URL, true
		}
		if ch.Key != nil && !ch.Key.Equal(p.Key) {
			if err := keyFree(ctx, tx, ch.Key); err != nil {
				return err
			}
			body["previous_key"], body["key"] = p.Key.String(), ch.Key.String()
			// The partner's ids stay its own under the new key; the old
			// key is retired: what it signs later is foreign or refused,
			// and no partner may be pinned to it again.
			if _, err := tx.ReassignOwner(ctx, p.Key, ch.Key); err != nil {
				return err
			}
			if err := tx.PutDoc(ctx, detente.RetiredKeyDoc, p.Key.String(), []byte(name), false); err != nil {
				return err
			}
			p.Key, changed = ch.Key, true
			// The old key's log is another log: witness the new one afresh.
			if err := federation.ForgetWitnessed(ctx, tx, name); err != nil {
				return err
			}
		}
		if !changed {
			return detente.Errorf(detente.ECONFLICT, "partner %s already has that URL and key: nothing changed", name)
		}
		p.Updated = n.now()
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, detente.EventPartnerChanged, name, body)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// RemovePartner ends the partnership with name, with a reason that is
// logged: the partner is "removed", so nothing is served to it or synced
// from it, and every agreement naming it ends in the same transaction —
// a circle's too, as its terms were agreed with the partner in it — so
// none can be in force again. Its record, objects and log entries are
// kept; its name and key stay taken. It returns the partner and the
// agreements it ended.
func (n *Node) RemovePartner(ctx context.Context, name, reason string) (*detente.Partner, []*detente.Agreement, error) {
	if reason == "" {
		return nil, nil, detente.Errorf(detente.EINVALID, "a reason is required")
	}
	var (
		p     *detente.Partner
		ended []*detente.Agreement
	)
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		var err error
		if p, err = tx.Partner(ctx, name); err != nil {
			return err
		}
		if p.State == detente.PartnerRemoved {
			return removedError(p)
		}
		now := n.now()
		p.State, p.StateReason, p.Updated = detente.PartnerRemoved, reason, now
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		if err := n.logEvent(ctx, tx, detente.EventPartnerChanged, name, map[string]string{"name": name, "state": string(p.State), "reason": reason}); err != nil {
			return err
		}
		as, err := tx.Agreements(ctx, name)
		if err != nil {
			return err
		}
		for _, a := range as {
			if a.State == detente.AgreementEnded {
				continue
			}
			a.Version++
			a.State, a.StateReason, a.Updated = detente.AgreementEnded, fmt.Sprintf("partner %s removed: %s", name, reason), now
			if err := tx.PutAgreement(ctx, a); err != nil {
				return err
			}
			if err := n.logAgreement(ctx, tx, detente.EventAgreementChanged, a); err != nil {
				return err
			}
			ended = append(ended, a)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p, ended, nil
}

// removedError is the refusal to change a removed partner.
func removedError(p *detente.Partner) error {
	return detente.Errorf(detente.ECONFLICT, "partner %s was removed (%s) and cannot change", p.Name, p.StateReason)
}

// keyFree refuses a key another partner, removed ones included, holds or
// once held.
func keyFree(ctx context.Context, tx detente.Tx, key detente.PublicKey) error {
	if who, err := tx.Doc(ctx, detente.RetiredKeyDoc, key.String()); err == nil {
		return detente.Errorf(detente.EEXISTS, "that key was partner %s's before it changed keys: a retired key stays retired", who)
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return err
	}
	q, err := tx.PartnerByKey(ctx, key)
	switch {
	case err == nil && q.State == detente.PartnerRemoved:
		return detente.Errorf(detente.EEXISTS, "that key is partner %s's, which was removed: a removed partner's key stays with its history", q.Name)
	case err == nil:
		return detente.Errorf(detente.EEXISTS, "that key is already partner %s's", q.Name)
	case detente.ErrorCode(err) != detente.ENOTFOUND:
		return err
	}
	return nil
}
