package api

import (
	"net/http"
	"time"
)

// partnerReport serves GET /api/v1/partners/{name}/report: the curation
// report on a partner (corroboration.Report).
func (s *Server) partnerReport(r *http.Request) (any, error) {
	return s.node.Corroboration.Report(r.Context(), r.PathValue("name"))
}

// CorroborationRebuild is the response of POST
// /api/v1/corroboration/rebuild.
type CorroborationRebuild struct {
	// Versions is how many stored versions the rebuilt index has read.
	Versions int `json:"versions"`
	// Took is how long the rebuild took, e.g. "1.2s".
	Took string `json:"took"`
}

// StatusCode is 200: a rebuild creates nothing.
func (CorroborationRebuild) StatusCode() int { return http.StatusOK }

// rebuildCorroboration serves POST /api/v1/corroboration/rebuild: the
// process answering drops its corroboration index and reads it again from
// the store.
func (s *Server) rebuildCorroboration(r *http.Request) (any, error) {
	start := time.Now()
	if err := s.node.Corroboration.Rebuild(r.Context()); err != nil {
		return nil, err
	}
	ix, err := s.node.Corroboration.Index(r.Context())
	if err != nil {
		return nil, err
	}
	return CorroborationRebuild{Versions: ix.Len(), Took: time.Since(start).Round(time.Millisecond).String()}, nil
}
