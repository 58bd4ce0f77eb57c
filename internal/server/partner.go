package server

import (
	"context"
	"log/slog"
	"net/http"

	"detente/internal/node"
	"detente/internal/peer"
)

// partnerRoutes serves what partner nodes ask of each other besides TAXII,
// the protocol of internal/peer: the transparency log and consents
// (answered by the federation service), liaison channels (the hotline
// service) and private matching (the matching service). Every route is
// partner-only: the caller's node key, from its TLS client certificate,
// must be an active partner's pinned key.
func partnerRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	peers := peer.NewServer(mux, n.PartnerByKey, logger)
	peers.LogRoutes(n.Federation)
	peers.ConsentRoutes(n.Federation)
	peers.ChannelRoutes(n.Hotline)
	peers.MatchRoutes(n.Matching)
}

// startHotline runs the node's hotline (outbox, escalator, heartbeats,
// channel histories) until ctx is done.
func (s *Server) startHotline(ctx context.Context) {
	r := s.node.Hotline.NewRunner(s.opts.Hotline)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); r.Run(ctx) }()
}
