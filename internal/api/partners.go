package api

import (
	"net/http"

	"detente"
	"detente/internal/node"
)

// PartnerUpdateRequest is the body of PATCH /api/v1/partners/{name}: the
// fields to change, and why. An absent field stays as it is.
type PartnerUpdateRequest struct {
	URL    *string `json:"url"`
	Key    string  `json:"key"`
	Reason string  `json:"reason"`
}

func (s *Server) patchPartner(r *http.Request) (any, error) {
	var req PartnerUpdateRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ch := node.PartnerChange{URL: req.URL}
	if req.Key != "" {
		k, err := detente.ParsePublicKey(req.Key)
		if err != nil {
			return nil, err
		}
		ch.Key = k
	}
	return updated(s.node.UpdatePartner(r.Context(), r.PathValue("name"), ch, req.Reason))
}

// PartnerRemoval is the response of POST /api/v1/partners/{name}/remove:
// the removed partner and the agreements its removal ended.
type PartnerRemoval struct {
	Partner *detente.Partner     `json:"partner"`
	Ended   []*detente.Agreement `json:"ended_agreements"`
}

func (s *Server) removePartner(r *http.Request) (any, error) {
	var req ReasonRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	p, ended, err := s.node.RemovePartner(r.Context(), r.PathValue("name"), req.Reason)
	if ended == nil {
		ended = []*detente.Agreement{}
	}
	return updated(PartnerRemoval{p, ended}, err)
}
