package api

import (
	"net/http"

	"detente/internal/ledger"
	"detente/internal/params"
)

// ledgerRoutes serves the reciprocity ledger (docs/ledger.md): the
// balances with each partner, the holds, and an admin's release of one.
func (s *Server) ledgerRoutes() {
	l := s.node.Ledger
	s.handle("GET /api/v1/ledger", anyRole, MaxBody, func(r *http.Request) (any, error) {
		q := query(r)
		p := q.Text("period")
		if p == "" {
			p = "30d"
		}
		period, err := ledger.ParsePeriod(p)
		if err != nil {
			return nil, err
		}
		return l.Balances(r.Context(), q.Text("partner"), period)
	}, params.Text("partner"), params.Text("period"))
	s.handle("GET /api/v1/ledger/holds", anyRole, MaxBody, func(r *http.Request) (any, error) {
		hs, err := l.Holds(r.Context())
		if hs == nil {
			hs = []*ledger.Hold{}
		}
		return hs, err
	})
	s.handle("POST /api/v1/ledger/holds/{partner}/release", admins, MaxBody, func(r *http.Request) (any, error) {
		var req ReasonRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		t := Token(r)
		by := t.ID
		if t.Label != "" {
			by += " (" + t.Label + ")"
		}
		return updated(l.ReleaseHold(r.Context(), r.PathValue("partner"), req.Reason, by))
	})
}
