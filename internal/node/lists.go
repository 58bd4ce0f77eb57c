package node

import (
	"context"
	"encoding/json"

	"detente"
	"detente/internal/lists"
)

// ShareList turns the active designations of authority into STIX
// identities carrying the designation extension, marked with marking, and
// ingests them as this node's own: partners whose agreements cover
// identities receive them by sync and hold them as this node's list.
func (n *Node) ShareList(ctx context.Context, authority, marking string) (*IngestResult, error) {
	var ds []*detente.Designation
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { ds, err = tx.Designations(ctx, authority, true); return }); err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, detente.Errorf(detente.ENOTFOUND, "no designations of authority %s to share", authority)
	}
	objs := make([]json.RawMessage, 0, len(ds))
	now := n.now()
	for _, d := range ds {
		b, err := lists.ToSTIX(*d, marking, now)
		if err != nil {
			return nil, err
		}
		objs = append(objs, b)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + detente.NewUUID(), "objects": objs})
	return n.Ingest(ctx, bundle, IngestOptions{})
}
