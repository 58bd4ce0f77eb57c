package server

import (
	"net/http"

	"detente"
	"detente/internal/bearer"
	"detente/internal/node"
	"detente/internal/peer"
	"detente/internal/taxii"
)

// taxiiAuth establishes the TAXII caller: a partner by the node key in its
// TLS client certificate (it must be a known, active partner), or a local
// user by token (HTTP Bearer, or HTTP Basic with the token as password, as
// TAXII clients send). A certificate from an unknown or suspended node gets
// nothing: the same 401 as no credentials at all.
func taxiiAuth(n *node.Node, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			p := peer.Authenticate(r, n.PartnerByKey)
			if p == nil {
				n.Logger.WarnContext(r.Context(), "taxii: refused a node certificate that is not an active partner's", "remote", r.RemoteAddr)
				next.ServeHTTP(w, r) // no caller: the TAXII server answers 401
				return
			}
			c := taxii.Caller{Partner: p.Name, CanRead: true, CanWrite: true}
			next.ServeHTTP(w, r.WithContext(taxii.WithCaller(r.Context(), c)))
			return
		}
		if secret := bearer.Token(r); secret != "" {
			if t, err := n.Authenticate(r.Context(), secret); err == nil {
				rw := t.Role == detente.RoleAdmin || t.Role == detente.RoleAnalyst
				c := taxii.Caller{LocalRole: t.Role, CanRead: rw, CanWrite: rw}
				next.ServeHTTP(w, r.WithContext(taxii.WithCaller(r.Context(), c)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
