package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"detente"
	"detente/internal/feed/feedtest"
)

// TestFeedsAPI adds, lists, pulls and removes a feed through the API: only
// admins add and remove, analysts pull, everyone reads; a password or
// token in the request is refused.
func TestFeedsAPI(t *testing.T) {
	f := setup(t)
	srv := feedtest.NewServer(t, 2)
	srv.Add(feedtest.Indicators(0, 5)...)
	ca, pw := srv.Files(t, t.TempDir())
	body := func(extra string) string {
		b, _ := json.Marshal(map[string]any{"name": "cti", "url": srv.CollectionURL(), "username": feedtest.User,
			"password_file": pw, "ca_file": ca, "tlp": "green", "grading": "C3"})
		return strings.TrimSuffix(string(b), "}") + extra + "}"
	}
	if code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/feeds", body(`,"password":"`+feedtest.Password+`"`)); code != 400 || errCode(m) != detente.EINVALID || !strings.Contains(raw, "password_file") {
		t.Errorf("a password in the request: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/feeds", body("")); code != http.StatusForbidden {
		t.Errorf("an analyst adds a feed: %d %s", code, raw)
	}
	code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/feeds", body(""))
	if code != http.StatusCreated || m["name"] != "cti" || m["tlp"] != "green" || strings.Contains(raw, feedtest.Password) {
		t.Fatalf("add: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/feeds", body("")); code != http.StatusConflict {
		t.Errorf("the same feed again: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/feeds", ""); code != 200 || !strings.Contains(raw, `"name": "cti"`) {
		t.Errorf("list: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "POST", "/api/v1/feeds/cti/pull", ""); code != http.StatusForbidden {
		t.Errorf("an auditor pulls: %d %s", code, raw)
	}
	code, m, raw = f.do(t, detente.RoleAnalyst, "POST", "/api/v1/feeds/cti/pull", "")
	if code != 200 || m["objects"] != float64(5) || m["pages"] != float64(3) {
		t.Errorf("pull: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/feeds/zulu/pull", ""); code != 404 {
		t.Errorf("pull of an unknown feed: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/feeds/status", ""); code != 200 || !strings.Contains(raw, `"objects": 5`) {
		t.Errorf("status: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/feeds/cti/remove", ""); code != http.StatusForbidden {
		t.Errorf("an analyst removes: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/feeds/cti/remove", ""); code != 200 {
		t.Errorf("remove: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "GET", "/api/v1/feeds", ""); code != 200 || strings.TrimSpace(raw) != "[]" {
		t.Errorf("list after remove: %d %s", code, raw)
	}
}
