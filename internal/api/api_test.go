package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/api"
	"detente/internal/node"
	"detente/internal/nodetest"
)

type fixture struct {
	srv    *httptest.Server
	node   *node.Node
	tokens map[detente.Role]string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "alpha")
	if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	n, err := nodetest.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	f := &fixture{node: n, tokens: map[detente.Role]string{}}
	for _, r := range []detente.Role{detente.RoleAdmin, detente.RoleAnalyst, detente.RoleAuditor} {
		_, secret, err := n.CreateToken(ctx, r, string(r))
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = secret
	}
	f.srv = httptest.NewServer(api.New(n, nil))
	t.Cleanup(f.srv.Close)
	return f
}

// rawTypes are the Content-Types of the successful responses that are
// not JSON, by path.
var rawTypes = map[string]string{"/api/v1/log/checkpoint": "text/plain; charset=utf-8"}

// do sends a request as role ("" for none) and decodes a JSON response.
func (f *fixture) do(t *testing.T, role detente.Role, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	want := "application/json"
	if ct, ok := rawTypes[path]; ok && resp.StatusCode < 300 {
		want = ct
	}
	if ct := resp.Header.Get("Content-Type"); ct != want {
		t.Errorf("%s %s: Content-Type %q, want %q", method, path, ct, want)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

const indicator = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z", "name": "propaganda channel",
  "pattern": "[user-account:account_login = 'blackmeridian_news']", "pattern_type": "stix",
  "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`

// TestAuthorisation checks every endpoint against every role: each role
// gets exactly the endpoints it should, and no one gets in without a token.
func TestAuthorisation(t *testing.T) {
	f := setup(t)
	const (
		admin   = detente.RoleAdmin
		analyst = detente.RoleAnalyst
		auditor = detente.RoleAuditor
	)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	endpoints := []struct {
		method, path, body string
		allowed            []detente.Role
	}{
		{"GET", "/api/v1/node", "", []detente.Role{admin, analyst, auditor}},
		{"POST", "/api/v1/objects", indicator, []detente.Role{admin, analyst}},
		{"GET", "/api/v1/objects", "", []detente.Role{admin, analyst}},
		{"GET", "/api/v1/objects?quarantined=true", "", []detente.Role{admin}},
		{"GET", "/api/v1/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "", []detente.Role{admin, analyst}},
		{"GET", "/api/v1/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/versions", "", []detente.Role{admin, analyst}},
		{"GET", "/api/v1/partners", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/partners/status", "", []detente.Role{admin, analyst, auditor}},
		{"POST", "/api/v1/partners", `{"name": "bravo", "key": "` + detente.PublicKey(pub).String() + `", "url": "https://bravo.example"}`, []detente.Role{admin}},
		{"POST", "/api/v1/partners/bravo/suspend", `{"reason": "review"}`, []detente.Role{admin}},
		{"GET", "/api/v1/partners/bravo/report", "", []detente.Role{admin, analyst}},
		{"POST", "/api/v1/corroboration/rebuild", "", []detente.Role{admin}},
		{"GET", "/api/v1/agreements", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/releases/check?object=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f&partner=bravo", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/releases", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/events", "", []detente.Role{admin, auditor}},
		{"GET", "/api/v1/log/checkpoint", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/log/checkpoint?format=json", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/log/entries?from=0&to=10", "", []detente.Role{admin, auditor}},
		{"GET", "/api/v1/log/proof/inclusion?seq=0", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/log/proof/consistency?old=1", "", []detente.Role{admin, analyst, auditor}},
		{"GET", "/api/v1/log/export", "", []detente.Role{admin, auditor}},
		{"GET", "/api/v1/log/stats", "", []detente.Role{admin, auditor}},
		{"GET", "/api/v1/alerts", "", []detente.Role{admin, auditor}},
		{"GET", "/api/v1/screen?name=Sergei+Lavrov", "", []detente.Role{admin, analyst}},
		{"POST", "/api/v1/screen/batch", `{"queries": [{"name": "Sergei Lavrov"}]}`, []detente.Role{admin, analyst}},
		{"GET", "/api/v1/names/compare?a=Sergei+Lavrov&b=Sergej+Lawrow", "", []detente.Role{admin, analyst}},
		{"GET", "/api/v1/lists", "", []detente.Role{admin, analyst, auditor}},
		{"POST", "/api/v1/lists/bravo", "entity_id,type,name\nBR-1,person,Sergei Lavrov\n", []detente.Role{admin}},
		{"GET", "/api/v1/lists/compare", "", []detente.Role{admin, analyst}},
		{"GET", "/api/v1/tokens", "", []detente.Role{admin}},
		{"POST", "/api/v1/tokens", `{"role": "auditor"}`, []detente.Role{admin}},
		{"POST", "/api/v1/leak/trace", "a leaked sentence", []detente.Role{admin, analyst}},
	}
	for _, e := range endpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			if code, m, _ := f.do(t, "", e.method, e.path, e.body); code != http.StatusUnauthorized || errCode(m) != detente.EUNAUTHORIZED {
				t.Errorf("no token: %d %v", code, m)
			}
			for _, role := range []detente.Role{auditor, analyst, admin} { // least powerful first: a denied call must change nothing
				code, m, raw := f.do(t, role, e.method, e.path, e.body)
				allowed := false
				for _, r := range e.allowed {
					allowed = allowed || r == role
				}
				if allowed && code >= 400 {
					t.Errorf("%s: %d %s", role, code, raw)
				}
				if !allowed && (code != http.StatusForbidden || errCode(m) != detente.EFORBIDDEN) {
					t.Errorf("%s: %d %s, want 403", role, code, raw)
				}
			}
		})
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/node", nil)
	req.SetBasicAuth("anyone", f.tokens[auditor])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("HTTP Basic with a token as password: %v %v", resp.StatusCode, err)
	}
	req.SetBasicAuth("anyone", "dtk_wrong")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Errorf("wrong Basic password: %d", resp.StatusCode)
	}
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestErrors(t *testing.T) {
	f := setup(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed STIX", "POST", "/api/v1/objects", `{"type": "bundle", "objects": [`, 400, detente.EINVALID},
		{"invalid STIX", "POST", "/api/v1/objects", strings.Replace(indicator, `"pattern_type": "stix",`, "", 1), 400, detente.EINVALID},
		{"bad grading", "POST", "/api/v1/objects?grading=Z9", indicator, 400, detente.EINVALID},
		{"oversized", "POST", "/api/v1/partners", `{"name": "` + strings.Repeat("a", api.MaxBody) + `"}`, 413, detente.ETOOLARGE},
		{"unknown field", "POST", "/api/v1/partners", `{"nom": "bravo"}`, 400, detente.EINVALID},
		{"unknown object", "GET", "/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000", "", 404, detente.ENOTFOUND},
		{"report on an unknown partner", "GET", "/api/v1/partners/nobody/report", "", 404, detente.ENOTFOUND},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", 404, detente.ENOTFOUND},
		{"check without params", "GET", "/api/v1/releases/check", "", 400, detente.EINVALID},
		{"bad agreement", "POST", "/api/v1/agreements", `{"partner": "bravo", "tlp_ceiling": "purple"}`, 400, detente.EINVALID},
		{"agreement for unknown partner", "POST", "/api/v1/agreements", `{"partner": "zulu", "from": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z", "tlp_ceiling": "amber", "types": ["indicator"], "onward_sharing": "none", "purpose": "ct"}`, 400, detente.EINVALID},
		{"bad limit", "GET", "/api/v1/objects?limit=-4", "", 400, detente.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m, raw := f.do(t, detente.RoleAdmin, c.method, c.path, c.body)
			if code != c.status || errCode(m) != c.code {
				t.Fatalf("got %d %s, want %d %s", code, raw, c.status, c.code)
			}
			msg := m["error"].(map[string]any)["message"].(string)
			if msg == "" || strings.Contains(msg, "sql") || strings.Contains(msg, "goroutine") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestIngestAndRelease(t *testing.T) {
	f := setup(t)
	code, m, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/objects?grading=B2", indicator)
	if code != 201 || m["added"].(float64) != 1 {
		t.Fatalf("ingest: %d %s", code, raw)
	}
	_, m, raw = f.do(t, detente.RoleAnalyst, "GET", "/api/v1/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "")
	if m["grading"] != "B2" || m["originator"] != "self" || !strings.HasPrefix(m["signer"].(string), "detente-node:") {
		t.Errorf("object: %s", raw)
	}
	if c, _ := m["corroboration"].(map[string]any); c == nil || c["single_source"] != true || c["independent_sources"] == nil {
		t.Errorf("object without its corroboration: %s", raw)
	}
	if code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/corroboration/rebuild", ""); code != 200 || m["versions"].(float64) < 1 {
		t.Errorf("rebuild: %d %s", code, raw)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners", `{"name": "bravo", "key": "`+detente.PublicKey(pub).String()+`"}`); code != 201 {
		t.Fatalf("partner: %d %s", code, raw)
	}
	now := time.Now().UTC()
	ag := fmt.Sprintf(`{"partner": "bravo", "from": %q, "until": %q, "tlp_ceiling": "green", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	code, m, raw = f.do(t, detente.RoleAdmin, "POST", "/api/v1/agreements", ag)
	if code != 201 {
		t.Fatalf("agreement: %d %s", code, raw)
	}
	agID := m["id"].(string)
	code, m, raw = f.do(t, detente.RoleAnalyst, "POST", "/api/v1/releases", `{"object": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "partner": "bravo"}`)
	if code != 201 || !m["decision"].(map[string]any)["allowed"].(bool) || m["bundle"] == nil {
		t.Fatalf("release: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/agreements/"+agID+"/suspend", `{"reason": "review"}`); code != 200 {
		t.Fatalf("suspend: %d %s", code, raw)
	}
	_, m, _ = f.do(t, detente.RoleAuditor, "GET", "/api/v1/releases/check?object=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f&partner=bravo", "")
	if m["allowed"].(bool) {
		t.Errorf("allowed under a suspended agreement")
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/events?type=release", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[detente.RoleAuditor])
	resp, _ := http.DefaultClient.Do(req)
	var evs []detente.Event
	json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	if len(evs) != 1 || evs[0].Partner != "bravo" {
		t.Errorf("release events: %+v", evs)
	}
}
