package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"

	"detente"
)

// TestPartnerUpdateAndRemove: admins change a partner's URL and key and
// remove it, with reasons; the removal ends its agreements; analysts and
// auditors may do neither.
func TestPartnerUpdateAndRemove(t *testing.T) {
	f := setup(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners", `{"name": "bravo", "key": "`+detente.PublicKey(pub).String()+`", "url": "https://bravo.example"}`); code != 201 {
		t.Fatalf("add: %d %s", code, raw)
	}
	code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/agreements", `{"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "green", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`)
	if code != 201 {
		t.Fatalf("agreement: %d %s", code, raw)
	}
	agID := m["id"].(string)

	for _, role := range []detente.Role{detente.RoleAuditor, detente.RoleAnalyst} {
		if code, _, raw := f.do(t, role, "PATCH", "/api/v1/partners/bravo", `{"url": "https://bravo.example:9443", "reason": "moved"}`); code != http.StatusForbidden {
			t.Errorf("%s update: %d %s", role, code, raw)
		}
		if code, _, raw := f.do(t, role, "POST", "/api/v1/partners/bravo/remove", `{"reason": "closed"}`); code != http.StatusForbidden {
			t.Errorf("%s remove: %d %s", role, code, raw)
		}
	}
	code, m, raw = f.do(t, detente.RoleAdmin, "PATCH", "/api/v1/partners/bravo", `{"url": "https://bravo.example:9443", "reason": "moved"}`)
	if code != 200 || m["url"] != "https://bravo.example:9443" || m["key"] != detente.PublicKey(pub).String() {
		t.Fatalf("update URL: %d %s", code, raw)
	}
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	code, m, raw = f.do(t, detente.RoleAdmin, "PATCH", "/api/v1/partners/bravo", fmt.Sprintf(`{"key": %q, "reason": "key rotated"}`, detente.PublicKey(pub2)))
	if code != 200 || m["key"] != detente.PublicKey(pub2).String() || m["url"] != "https://bravo.example:9443" {
		t.Fatalf("update key: %d %s", code, raw)
	}
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/api/v1/partners/bravo", `{"url": "https://bravo.example"}`, 400, detente.EINVALID},
		{"/api/v1/partners/bravo", `{"url": "http://bravo.example", "reason": "r"}`, 400, detente.EINVALID},
		{"/api/v1/partners/bravo", `{"key": "notakey", "reason": "r"}`, 400, detente.EINVALID},
		{"/api/v1/partners/bravo", `{"reason": "r"}`, 400, detente.EINVALID},
		{"/api/v1/partners/zulu", `{"url": "https://zulu.example", "reason": "r"}`, 404, detente.ENOTFOUND},
	} {
		if code, m, raw := f.do(t, detente.RoleAdmin, "PATCH", c.path, c.body); code != c.status || errCode(m) != c.code {
			t.Errorf("PATCH %s %s: %d %s, want %d %s", c.path, c.body, code, raw, c.status, c.code)
		}
	}

	if code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/bravo/remove", `{}`); code != 400 || errCode(m) != detente.EINVALID {
		t.Errorf("remove without a reason: %d %s", code, raw)
	}
	code, m, raw = f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/bravo/remove", `{"reason": "programme closed"}`)
	if code != 200 {
		t.Fatalf("remove: %d %s", code, raw)
	}
	p, _ := m["partner"].(map[string]any)
	ended, _ := m["ended_agreements"].([]any)
	if p["state"] != "removed" || p["state_reason"] != "programme closed" || len(ended) != 1 || ended[0].(map[string]any)["id"] != agID {
		t.Errorf("remove: %s", raw)
	}
	if code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/bravo/remove", `{"reason": "again"}`); code != 409 || errCode(m) != detente.ECONFLICT {
		t.Errorf("remove twice: %d %s", code, raw)
	}
	if code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/bravo/resume", `{"reason": "oops"}`); code != 409 || errCode(m) != detente.ECONFLICT {
		t.Errorf("resume a removed partner: %d %s", code, raw)
	}
}

// TestReleaseToUnknownPartner: a partner name the node does not know is
// 404, not a denial, and nothing is recorded.
func TestReleaseToUnknownPartner(t *testing.T) {
	f := setup(t)
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/objects", indicator); code != 201 {
		t.Fatalf("ingest: %d %s", code, raw)
	}
	code, m, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/releases/check?object=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f&partner=delta", "")
	if code != 404 || errCode(m) != detente.ENOTFOUND || m["error"].(map[string]any)["message"] != `no partner named "delta"` {
		t.Errorf("check: %d %s", code, raw)
	}
	if code, m, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/releases", `{"object": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "partner": "delta"}`); code != 404 || errCode(m) != detente.ENOTFOUND {
		t.Errorf("release: %d %s", code, raw)
	}
	if _, _, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/releases", ""); raw != "[]\n" && raw != "[]" {
		t.Errorf("releases recorded: %s", raw)
	}
}
