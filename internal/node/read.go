package node

import (
	"context"
	"slices"

	"detente"
)

// The node's read queries, for the faces (API, console, CLI): each runs in
// one read-only transaction of the store.

// ObjectVersions returns every version of id, oldest first, quarantined
// ones included; ENOTFOUND when the node holds none.
func (n *Node) ObjectVersions(ctx context.Context, id string) ([]*detente.ObjectVersion, error) {
	var vs []*detente.ObjectVersion
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { vs, err = tx.ObjectVersions(ctx, id); return })
	if err == nil && len(vs) == 0 {
		err = detente.Errorf(detente.ENOTFOUND, "object %s not found", id)
	}
	return vs, err
}

// CurrentObject returns the current version of id (detente.Tx.Object),
// except that of an observable this node observed itself, its analysts
// see its own observation, whoever named the value first.
func (n *Node) CurrentObject(ctx context.Context, id string) (*detente.ObjectVersion, error) {
	var o *detente.ObjectVersion
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) {
		if o, err = tx.Object(ctx, id); err != nil || !o.Created.IsZero() || o.Originator == detente.OriginSelf {
			return err
		}
		if own, err := tx.ObjectFrom(ctx, id, n.PublicKey()); err == nil {
			o = own
		} else if detente.ErrorCode(err) != detente.ENOTFOUND {
			return err
		}
		return nil
	})
	return o, err
}

// FindObjects returns the object versions f selects, ordered by arrival.
func (n *Node) FindObjects(ctx context.Context, f detente.ObjectFilter) ([]*detente.ObjectVersion, error) {
	var objs []*detente.ObjectVersion
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { objs, err = tx.Objects(ctx, f); return })
	return objs, err
}

// Tokens returns every token, oldest first (their secrets are not kept).
func (n *Node) Tokens(ctx context.Context) ([]*detente.Token, error) {
	var ts []*detente.Token
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { ts, err = tx.Tokens(ctx); return })
	return ts, err
}

// NewestObjects returns the versions f selects, most recently stored
// first, at most limit of them (all for limit <= 0). The store lists in
// order of arrival only, so it reads a window of the newest versions,
// widening it until it holds limit objects: with n versions stored, each
// with its own positive Seq, the w newest all have Seq > n-w.
func (n *Node) NewestObjects(ctx context.Context, f detente.ObjectFilter, limit int) ([]*detente.ObjectVersion, error) {
	var objs []*detente.ObjectVersion
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		count, err := tx.CountObjects(ctx)
		if err != nil {
			return err
		}
		for w := int64(max(limit, 1)); ; w *= 4 {
			f.AfterSeq = 0
			if limit > 0 {
				f.AfterSeq = max(0, count-w)
			}
			if objs, err = tx.Objects(ctx, f); err != nil {
				return err
			}
			if f.AfterSeq == 0 || len(objs) >= limit {
				return nil
			}
		}
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(objs) // Objects lists by Seq
	if limit > 0 && len(objs) > limit {
		objs = objs[:limit]
	}
	return objs, nil
}
