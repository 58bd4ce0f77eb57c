package server

import (
	"context"
	"encoding/json"
	"net/http"

	"detente"
	"detente/internal/node"
)

// partnerKey is the context key of the partner a request authenticated as.
type partnerKey struct{}

// partnerOnly admits only requests from an active partner, authenticated
// by the node key of its TLS client certificate; anyone else gets 401.
func partnerOnly(n *node.Node, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := partnerOf(n, r)
		if p == nil {
			writeJSONError(w, http.StatusUnauthorized, detente.EUNAUTHORIZED, "partner authentication (mutual TLS with a pinned node key) required")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), partnerKey{}, p)))
	})
}

// partnerOf returns the active partner whose node certificate r presented,
// or nil.
func partnerOf(n *node.Node, r *http.Request) *detente.Partner {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	raw := make([][]byte, len(r.TLS.PeerCertificates))
	for i, c := range r.TLS.PeerCertificates {
		raw[i] = c.Raw
	}
	key, err := node.CertificateKey(raw)
	if err != nil {
		return nil
	}
	var p *detente.Partner
	if err := n.Store.View(r.Context(), func(tx detente.Tx) (err error) { p, err = tx.PartnerByKey(r.Context(), key); return }); err != nil {
		return nil
	}
	if p.State != detente.PartnerActive {
		return nil
	}
	return p
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// partnerRoutes serves what partner nodes ask of each other besides TAXII.
func partnerRoutes(mux *http.ServeMux, n *node.Node, logger interface {
	ErrorContext(context.Context, string, ...any)
}) {
	mux.Handle("GET /detente/v1/consents", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		cs, err := n.ConsentsFor(r.Context(), p.Name)
		if err != nil {
			logger.ErrorContext(r.Context(), "consents for partner", "partner", p.Name, "err", err)
			writeJSONError(w, http.StatusInternalServerError, detente.EINTERNAL, "internal error")
			return
		}
		writeJSON(w, cs)
	}))
}
