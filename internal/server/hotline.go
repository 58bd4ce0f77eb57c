package server

import (
	"context"
	"log/slog"
	"net/http"

	"detente"
	"detente/internal/node"
	"detente/internal/peer"
)

// hotlineRoutes serves what partner nodes send each other on liaison
// channels (peer.ChannelRoutes): channel histories and messages, answered
// by the node's hotline service. Both are partner-only: the caller's node
// key, from its TLS client certificate, is the key each signature must
// verify against.
func hotlineRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	peer.NewServer(mux, storedPartner(n.Store), logger).ChannelRoutes(n.Hotline)
}

// storedPartner looks partners up by key in s, for peer.Authenticate.
func storedPartner(s detente.Store) peer.PartnerByKey {
	return func(ctx context.Context, key detente.PublicKey) (p *detente.Partner, err error) {
		err = s.View(ctx, func(tx detente.Tx) error { p, err = tx.PartnerByKey(ctx, key); return err })
		return p, err
	}
}

// startHotline runs the node's hotline (outbox, escalator, heartbeats,
// channel histories) until ctx is done.
func (s *Server) startHotline(ctx context.Context) {
	r := s.node.Hotline.NewRunner(s.opts.Hotline)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); r.Run(ctx) }()
}
