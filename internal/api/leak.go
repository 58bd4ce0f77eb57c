package api

import (
	"io"
	"net/http"
	"strings"

	"detente/internal/params"
	"detente/internal/trace"
)

// leakRoutes are leak attribution (docs/trace.md): tracing a leaked
// document to the partners whose copies it was made from, and the
// evidence about them.
func (s *Server) leakRoutes() {
	s.handle("POST /api/v1/leak/trace", analysts, trace.MaxLeak, s.postLeakTrace)
	s.handle("POST /api/v1/leak/evidence", analysts, trace.MaxLeak, s.postLeakEvidence, params.List("for"))
}

// postLeakTrace traces the leaked document in the body (a STIX object or
// bundle in any JSON form, or plain text).
func (s *Server) postLeakTrace(r *http.Request) (any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	res, err := s.node.Leak.Trace(r.Context(), data)
	if err != nil {
		return nil, err
	}
	return statusOK{res}, nil
}

// postLeakEvidence traces the leaked document in the body and returns the
// evidence about the partners named by for (the suspects when none is),
// for 'detente leak verify'. for may be repeated or comma-separated.
func (s *Server) postLeakEvidence(r *http.Request) (any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	res, err := s.node.Leak.Trace(r.Context(), data)
	if err != nil {
		return nil, err
	}
	var partners []string
	for _, f := range query(r).List("for") {
		for p := range strings.SplitSeq(f, ",") {
			if p = strings.TrimSpace(p); p != "" {
				partners = append(partners, p)
			}
		}
	}
	ev, err := s.node.Leak.Evidence(r.Context(), res, partners...)
	if err != nil {
		return nil, err
	}
	return rawResponse{contentType: "application/json", filename: "leak-evidence.json", body: ev}, nil
}
