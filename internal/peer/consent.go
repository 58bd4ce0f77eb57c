package peer

import (
	"context"
	"fmt"
	"net/http"

	"detente"
)

// The consent endpoint:
//
//	GET /detente/v1/consents   the consents the node issued for what it released to the caller (JSON)
const pathConsents = Prefix + "consents"

// maxConsents bounds the consent list a partner sends.
const maxConsents = 16 << 20

// IssuedConsent is a consent as its originator's node hands it out: the
// signed consent and whether the originator has revoked it since.
type IssuedConsent struct {
	Consent       *detente.Consent `json:"consent"`
	Revoked       bool             `json:"revoked"`
	RevokedReason string           `json:"revoked_reason,omitempty"`
}

// ConsentService answers the consent endpoint.
type ConsentService interface {
	// ConsentsFor returns the consents the node issued for objects it
	// released to partner, and none for objects it did not release to
	// it: a partner must not learn of those.
	ConsentsFor(ctx context.Context, partner string) ([]IssuedConsent, error)
}

// ConsentRoutes registers the consent endpoint, answered by cs.
func (s *Server) ConsentRoutes(cs ConsentService) {
	s.handle("GET "+pathConsents, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		out, err := cs.ConsentsFor(r.Context(), p.Name)
		if err != nil {
			return fmt.Errorf("consents for partner %s: %w", p.Name, err)
		}
		if out == nil {
			out = []IssuedConsent{}
		}
		return writeJSON(w, out)
	})
}

// Consents returns the consents the partner issued for what it released
// to this node. They are as the partner sent them: the caller verifies
// each one, and keeps only those the partner originated.
func (c *Client) Consents(ctx context.Context) ([]IssuedConsent, error) {
	_, b, err := c.do(ctx, http.MethodGet, pathConsents, nil, "", nil)
	if err != nil {
		return nil, fmt.Errorf("fetch consents: %w", err)
	}
	if len(b) > maxConsents {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "fetch consents: partner %s sent over %d bytes", c.Partner, maxConsents)
	}
	var out []IssuedConsent
	if err := decodeAnswer(c.Partner, pathConsents, b, &out); err != nil {
		return nil, fmt.Errorf("fetch consents: %w", err)
	}
	return out, nil
}
