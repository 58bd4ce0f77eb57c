package node

import (
	"context"
	"encoding/json"

	"detente"
	"detente/internal/taxii"
	"detente/internal/view"
)

// TAXII collection ids (internal/view). Every caller sees only the
// collections for its kind, so the list reveals nothing about other
// partners.
const (
	// CollectionShared is, for a partner, what the egress policy releases
	// to that partner.
	CollectionShared = view.CollectionShared
	// CollectionInbound is where a partner pushes objects.
	CollectionInbound = view.CollectionInbound
	// CollectionLocal is, for local users and tools, everything the node
	// holds that is not quarantined.
	CollectionLocal = view.CollectionLocal
)

// TAXIISource returns the node's store as its TAXII collections
// (internal/view), wired to the node's policy graph, copies and log.
func (n *Node) TAXIISource() taxii.Source {
	return view.New(n.viewConfig())
}

// viewConfig is what the node's TAXII views need of it.
func (n *Node) viewConfig() view.Config {
	return view.Config{
		Store: n.Store, Self: n.PublicKey(), Now: n.now, Logger: n.Logger,
		Graph:  func(tx detente.Tx) view.Graph { return newGraph(tx) },
		Held:   heldDetail,
		Serve:  n.served,
		Local:  n.local,
		Sign:   n.signProjection,
		Record: n.logRelease,
		Receive: func(ctx context.Context, partner string, objects []json.RawMessage) ([]view.Outcome, error) {
			res, err := n.Receive(ctx, partner, objects, nil)
			if err != nil {
				return nil, err
			}
			out := make([]view.Outcome, len(res.Receipts))
			for i, r := range res.Receipts {
				ok, msg := r.Public() // only what depends on the bytes the partner sent
				out[i] = view.Outcome{ID: r.ID, Modified: r.Modified, OK: ok, Message: msg}
			}
			return out, nil
		},
		Ingest: func(ctx context.Context, bundle []byte) ([]view.Outcome, error) {
			res, err := n.Ingest(ctx, bundle, IngestOptions{Partial: true})
			if err != nil {
				return nil, err
			}
			out := make([]view.Outcome, len(res.Objects))
			for i, o := range res.Objects {
				out[i] = view.Outcome{ID: o.ID, Modified: o.Modified, OK: o.Status != IngestRejected, Message: o.Status}
				if !out[i].OK {
					out[i].Message = o.Reason
				}
			}
			return out, nil
		},
	}
}

// Err returns the first store error a lookup met (view.Graph).
func (g *graph) Err() error { return g.err }
