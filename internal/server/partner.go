package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"detente"
	"detente/internal/httperr"
	"detente/internal/node"
	"detente/internal/peer"
)

// partnerKey is the context key of the partner a request authenticated as.
type partnerKey struct{}

// partnerOnly admits only requests from an active partner, authenticated
// by the node key of its TLS client certificate; anyone else gets 401.
func partnerOnly(n *node.Node, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := peer.Authenticate(r, n.PartnerByKey)
		if p == nil {
			httperr.Write(w, r, nil, "", detente.Errorf(detente.EUNAUTHORIZED, "partner authentication (mutual TLS with a pinned node key) required"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), partnerKey{}, p)))
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// partnerRoutes serves what partner nodes ask of each other besides TAXII
// and the endpoints internal/peer serves (the log, consents): private
// matching and liaison channels.
func partnerRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	matchRoutes(mux, n, logger)
	hotlineRoutes(mux, n, logger)
}
