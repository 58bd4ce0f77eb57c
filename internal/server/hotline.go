package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"detente"
	"detente/internal/hotline"
	"detente/internal/httperr"
	"detente/internal/node"
)

// hotlineRoutes serves what partner nodes send each other on liaison
// channels: channel histories (signed transitions) and messages. Both
// are partner-only: the caller's node key, from its TLS client
// certificate, is the key each signature must verify against. A
// duplicate is a success, so that the sender stops retrying.
func hotlineRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		httperr.Write(w, r, logger, "hotline request failed", err)
	}
	read := func(w http.ResponseWriter, r *http.Request) ([]byte, error) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, hotline.MaxMessageSize+1))
		if err != nil {
			return nil, detente.Errorf(detente.ETOOLARGE, "request body is over %d bytes", hotline.MaxMessageSize)
		}
		return b, nil
	}
	mux.Handle("POST "+node.HotlineTransitionsPath, partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		b, err := read(w, r)
		if err != nil {
			fail(w, r, err)
			return
		}
		ans, err := n.ReceiveTransitions(r.Context(), p, b)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, ans)
	}))
	mux.Handle("POST "+node.HotlineMessagesPath, partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		b, err := read(w, r)
		if err != nil {
			fail(w, r, err)
			return
		}
		rc, err := n.ReceiveMessage(r.Context(), p, b)
		if err != nil {
			fail(w, r, err)
			return
		}
		ans := map[string]any{"duplicate": rc.Duplicate}
		if rc.Record != nil {
			ans["message"], ans["state"] = rc.Record.Message.ID, rc.Record.State
		}
		writeJSON(w, ans)
	}))
}

// startHotline runs the node's hotline (outbox, escalator, heartbeats,
// channel histories) until ctx is done.
func (s *Server) startHotline(ctx context.Context) {
	h := s.node.NewHotline(s.opts.Hotline)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); h.Run(ctx) }()
}
