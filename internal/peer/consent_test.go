package peer_test

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/peer"
)

// fakeConsents answers the consent endpoint with fixed consents.
type fakeConsents []peer.IssuedConsent

func (f fakeConsents) ConsentsFor(_ context.Context, partner string) ([]peer.IssuedConsent, error) {
	if partner != "bravo" {
		return nil, detente.Errorf(detente.EFORBIDDEN, "asked for %s's consents", partner)
	}
	return f, nil
}

// TestConsents: the consents a node issued reach the partner as signed,
// with their revocation; none is written as [].
func TestConsents(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	recipient, _, _ := ed25519.GenerateKey(nil)
	c := &detente.Consent{ID: "consent--00000000-0000-4000-8000-000000000001", Originator: detente.PublicKey(key.Public().(ed25519.PublicKey)),
		Recipient: detente.PublicKey(recipient),
		Object:    "indicator--00000000-0000-4000-8000-000000000002", Scope: detente.ConsentObject, Issued: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	c.Sign(key)

	x := newExchange(t)
	x.server.ConsentRoutes(fakeConsents{{Consent: c, Revoked: true, RevokedReason: "operation compromised"}})
	code, ct, body := x.get(t, "GET", "/detente/v1/consents", "")
	if code != 200 || ct != "application/json" || !strings.HasPrefix(body, `[{"consent":{"id":"consent--00000000-0000-4000-8000-000000000001",`) ||
		!strings.HasSuffix(body, `},"revoked":true,"revoked_reason":"operation compromised"}]`+"\n") {
		t.Errorf("GET /detente/v1/consents = %d %q\n%s", code, ct, body)
	}
	got, err := x.client.Consents(ctx)
	if err != nil || len(got) != 1 || !got[0].Revoked || got[0].RevokedReason != "operation compromised" {
		t.Fatalf("Consents = %+v, %v", got, err)
	}
	if err := got[0].Consent.Verify(); err != nil {
		t.Errorf("the consent received does not verify: %v", err)
	}

	y := newExchange(t)
	y.server.ConsentRoutes(fakeConsents(nil))
	if _, _, body := y.get(t, "GET", "/detente/v1/consents", ""); body != "[]\n" {
		t.Errorf("no consents: %q", body)
	}
	if got, err := y.client.Consents(ctx); err != nil || len(got) != 0 {
		t.Errorf("Consents of none = %+v, %v", got, err)
	}
}
