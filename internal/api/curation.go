package api

import "net/http"

// partnerReport serves GET /api/v1/partners/{name}/report: the curation
// report on a partner (corroboration.Report).
func (s *Server) partnerReport(r *http.Request) (any, error) {
	return s.node.Corroboration.Report(r.Context(), r.PathValue("name"))
}
