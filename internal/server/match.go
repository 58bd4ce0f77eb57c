package server

import (
	"context"
	"log/slog"
	"net/http"

	"detente"
	"detente/internal/node"
	"detente/internal/peer"
)

// matchRoutes serves the watchlist owner's side of private matching
// (docs/matching.md) to partners: the endpoints of internal/peer
// (peer.Server.MatchRoutes), answered by the node's matching service.
func matchRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	peer.NewServer(mux, matchPartnerByKey(n), logger).MatchRoutes(n.Matching)
}

// matchPartnerByKey looks a partner up by its pinned node key in n's
// store, for authenticating partners' matching requests.
func matchPartnerByKey(n *node.Node) peer.PartnerByKey {
	return func(ctx context.Context, key detente.PublicKey) (*detente.Partner, error) {
		var p *detente.Partner
		err := n.Store.View(ctx, func(tx detente.Tx) (err error) { p, err = tx.PartnerByKey(ctx, key); return })
		return p, err
	}
}
