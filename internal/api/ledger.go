package api

import (
	"net/http"

	"detente"
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
	}, params.Text("partner"), params.Func("period", func(v string) error { _, err := ledger.ParsePeriod(v); return err }))
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
		return updated(l.ReleaseHold(r.Context(), r.PathValue("partner"), req.Reason, tokenName(r)))
	})

	s.handle("GET /api/v1/grades", anyRole, MaxBody, func(r *http.Request) (any, error) {
		gs, err := l.Grades(r.Context())
		if gs == nil {
			gs = []*ledger.Grade{}
		}
		return gs, err
	})
	s.handle("POST /api/v1/grades/partners/{name}", analysts, MaxBody, func(r *http.Request) (any, error) {
		var req GradeRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return l.GradePartner(r.Context(), r.PathValue("name"), req.Reliability, req.Note, tokenName(r))
	})
	s.handle("POST /api/v1/grades/objects/{id}", analysts, MaxBody, func(r *http.Request) (any, error) {
		var req GradeRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return l.GradeObject(r.Context(), r.PathValue("id"), req.Credibility, req.Note, tokenName(r))
	})
	s.handle("GET /api/v1/objects/{id}/grading", analysts, MaxBody, func(r *http.Request) (any, error) {
		return l.Assess(r.Context(), r.PathValue("id"))
	})
}

// GradeRequest is the body of POST /api/v1/grades/partners/{name}
// (reliability) and /api/v1/grades/objects/{id} (credibility).
type GradeRequest struct {
	Reliability string `json:"reliability,omitempty"`
	Credibility int    `json:"credibility,omitempty"`
	Note        string `json:"note,omitempty"`
}

// tokenName names the caller of r in what it records: its token's id and
// label.
func tokenName(r *http.Request) string {
	t := Token(r)
	if t.Label != "" {
		return t.ID + " (" + t.Label + ")"
	}
	return t.ID
}

// feedbackRoutes serves POST /api/v1/feedback: a sighting or opinion sent
// back to an object's originator.
func (s *Server) feedbackRoutes() {
	s.handle("POST /api/v1/feedback", analysts, MaxBody, func(r *http.Request) (any, error) {
		var f ledger.Feedback
		if err := decode(r, &f); err != nil {
			return nil, err
		}
		if f.Object == "" {
			return nil, detente.Errorf(detente.EINVALID, "object is required")
		}
		return s.node.SendFeedback(r.Context(), f)
	})
}
