package api

import (
	"net/http"

	"detente"
	"detente/internal/matching"
)

// MatchRequest is the body of POST /api/v1/match: selectors of one type
// (a person as "name|dob"), matched against partner's watchlists in mode
// (query, the default; bulk; count).
type MatchRequest struct {
	Partner   string   `json:"partner"`
	Type      string   `json:"type"`
	Mode      string   `json:"mode,omitempty"`
	Selectors []string `json:"selectors"`
}

// matchRoutes serves private matching to analysts, through the node's
// matching service (one cache of partners' encoded watchlists for every
// request).
func (s *Server) matchRoutes() {
	m := s.node.Matching
	s.handle("POST /api/v1/match", analysts, MaxObjectsBody, func(r *http.Request) (any, error) {
		var req MatchRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		if req.Partner == "" {
			return nil, detente.Errorf(detente.EINVALID, "partner is required")
		}
		typ, err := matching.ParseSelectorType(req.Type)
		if err != nil {
			return nil, err
		}
		if len(req.Selectors) > detente.MaxMatchSetSize {
			return nil, detente.Errorf(detente.ETOOLARGE, "at most %d selectors per request", detente.MaxMatchSetSize)
		}
		sels, bad := matching.SelectorsOf(typ, req.Selectors)
		if len(bad) > 0 {
			return nil, matching.LinesError("selectors (line is the position in the list)", bad)
		}
		res, err := m.Match(r.Context(), matching.Request{Partner: req.Partner, Type: typ, Mode: req.Mode, Selectors: sels})
		if err != nil {
			return nil, err
		}
		return statusOK{res}, nil
	})
}
