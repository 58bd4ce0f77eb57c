package node

import (
	"context"

	"detente"
)

// More of the node's read queries (read.go), for the console: each runs
// in one read-only transaction of the store.

// CurrentObjects returns the current version (Tx.Object: the newest
// non-quarantined one, its owner's first) of each of ids that the node
// holds, by id as given.
func (n *Node) CurrentObjects(ctx context.Context, ids []string) (map[string]*detente.ObjectVersion, error) {
	out := make(map[string]*detente.ObjectVersion, len(ids))
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		for _, id := range ids {
			if _, ok := out[id]; ok {
				continue
			}
			o, err := tx.Object(ctx, id)
			switch {
			case detente.ErrorCode(err) == detente.ENOTFOUND:
			case err != nil:
				return err
			default:
				out[id] = o
			}
		}
		return nil
	})
	return out, err
}

// Referrers returns the current version of each object whose current
// version references id, at most limit (0 for every one), in the order
// they were first stored. An object that referenced id in an older
// version only, or only in a quarantined one, is not among them.
func (n *Node) Referrers(ctx context.Context, id string, limit int) ([]*detente.ObjectVersion, error) {
	var out []*detente.ObjectVersion
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		out = nil // fn may run again
		ids, err := tx.Referrers(ctx, id, 0)
		if err != nil {
			return err
		}
		want := detente.NormalID(id)
		for _, rid := range ids {
			o, err := tx.Object(ctx, rid)
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			for _, r := range o.Refs {
				if detente.NormalID(r.ID) == want {
					out = append(out, o)
					break
				}
			}
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// TokenByHash returns the token whose secret hashes to hash, revoked or
// not; ENOTFOUND when there is none. (Authenticate takes the secret; the
// console's sessions keep only its hash.)
func (n *Node) TokenByHash(ctx context.Context, hash []byte) (*detente.Token, error) {
	var t *detente.Token
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { t, err = tx.TokenByHash(ctx, hash); return })
	return t, err
}

// AlertGroups returns the alerts by kind, with the latest perKind of each
// (Tx.AlertGroups).
func (n *Node) AlertGroups(ctx context.Context, perKind int) ([]detente.AlertGroup, error) {
	var gs []detente.AlertGroup
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { gs, err = tx.AlertGroups(ctx, perKind); return })
	return gs, err
}
