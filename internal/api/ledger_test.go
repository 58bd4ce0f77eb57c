package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/ledger"
	"detente/internal/node"
)

// TestLedger: the balances with their series, the holds, and an admin's
// release of a hold with a reason, refused to others and without one.
func TestLedger(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	n := f.node
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(make([]byte, 32)), "https://bravo.example:8443"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc, _ := json.Marshal(map[string]any{"partner": "bravo", "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
		"tlp_ceiling": "amber", "types": []string{"indicator"}, "onward_sharing": "none", "purpose": "counter-terrorism",
		"reciprocity": map[string]any{"window": "720h", "min_ratio": 0.5, "action": "hold"}})
	ag, err := detente.ParseAgreement(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddAgreement(ctx, ag); err != nil {
		t.Fatal(err)
	}
	id := "indicator--00000000-0000-4000-8000-000000000001"
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []any{
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
			"modified": "2026-01-10T10:00:00.000Z", "name": "x", "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix",
			"valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": []string{detente.MarkingGreen}}}})
	if _, err := n.Ingest(ctx, b, node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Release(ctx, id, "bravo"); err != nil {
		t.Fatal(err)
	}

	code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/ledger?period=7d", "")
	var bs []*ledger.Balance
	if code != http.StatusOK || json.Unmarshal([]byte(raw), &bs) != nil || len(bs) != 1 {
		t.Fatalf("GET ledger: %d %s", code, raw)
	}
	if b := bs[0]; b.Partner != "bravo" || b.Given != 1 || b.Ratio == nil || *b.Ratio != 0 || len(b.Series) != ledger.Buckets {
		t.Errorf("balance: %s", raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/ledger?period=soon", ""); code != http.StatusBadRequest {
		t.Errorf("bad period: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/ledger?partner=delta", ""); code != http.StatusNotFound {
		t.Errorf("unknown partner: %d %s", code, raw)
	}

	if err := n.Ledger.Enforce(ctx); err != nil {
		t.Fatal(err)
	}
	code, _, raw = f.do(t, detente.RoleAnalyst, "GET", "/api/v1/ledger/holds", "")
	if code != http.StatusOK || !strings.Contains(raw, `"state": "held"`) {
		t.Errorf("holds: %d %s", code, raw)
	}
	code, _, raw = f.do(t, detente.RoleAnalyst, "GET", "/api/v1/releases/check?object="+id+"&partner=bravo", "")
	if !strings.Contains(raw, detente.ReasonReciprocityHeld) {
		t.Errorf("release check while held: %d %s", code, raw)
	}
	if code, _, _ := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/ledger/holds/bravo/release", `{"reason":"x"}`); code != http.StatusForbidden {
		t.Errorf("an analyst released a hold: %d", code)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/ledger/holds/bravo/release", `{}`); code != http.StatusBadRequest {
		t.Errorf("release without a reason: %d %s", code, raw)
	}
	code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/ledger/holds/bravo/release", `{"reason":"joint operation"}`)
	if code != http.StatusOK || m["state"] != ledger.HoldWaived || m["reason"] != "joint operation" || !strings.HasPrefix(m["by"].(string), "tok_") {
		t.Errorf("release: %d %s", code, raw)
	}
	if code, _, _ := f.do(t, detente.RoleAdmin, "POST", "/api/v1/ledger/holds/bravo/release", `{"reason":"again"}`); code != http.StatusNotFound {
		t.Errorf("releasing a hold that is not held: %d", code)
	}
}

// TestGrades: grading a partner and an assertion through the API, and the
// object's gradings side by side.
func TestGrades(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.node.AddPartner(ctx, "bravo", detente.PublicKey(make([]byte, 32)), ""); err != nil {
		t.Fatal(err)
	}
	id := "indicator--00000000-0000-4000-8000-000000000001"
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []any{
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
			"modified": "2026-01-10T10:00:00.000Z", "name": "x", "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix",
			"valid_from": "2026-01-10T10:00:00Z"}}})
	if _, err := f.node.Ingest(ctx, b, node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := f.do(t, detente.RoleAuditor, "POST", "/api/v1/grades/partners/bravo", `{"reliability":"C"}`); code != http.StatusForbidden {
		t.Errorf("an auditor graded: %d", code)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/grades/partners/bravo", `{"reliability":"Z"}`); code != http.StatusBadRequest {
		t.Errorf("reliability Z: %d %s", code, raw)
	}
	if code, m, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/grades/partners/bravo", `{"reliability":"C","note":"rumours"}`); code != http.StatusCreated || m["reliability"] != "C" {
		t.Errorf("grade bravo: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/grades/objects/"+id, `{"credibility":5}`); code != http.StatusCreated {
		t.Errorf("grade object: %d %s", code, raw)
	}
	code, m, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/objects/"+id+"/grading", "")
	if code != http.StatusOK || m["originator_grading"] != "B2" || m["own_grading"] != "?5" {
		t.Errorf("grading: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAuditor, "GET", "/api/v1/grades", ""); code != http.StatusOK || !strings.Contains(raw, "partner/bravo") {
		t.Errorf("grades: %d %s", code, raw)
	}

	// Feedback goes back to a partner's object, never this node's own.
	for body, want := range map[string]int{
		`{"kind":"sighting"}`:                                                            http.StatusBadRequest,
		`{"object":"` + id + `","kind":"sighting"}`:                                      http.StatusBadRequest,
		`{"object":"` + id + `","kind":"rumour"}`:                                        http.StatusBadRequest,
		`{"object":"indicator--00000000-0000-4000-8000-000000000009","kind":"sighting"}`: http.StatusNotFound,
	} {
		if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/feedback", body); code != want {
			t.Errorf("feedback %s: %d %s, want %d", body, code, raw, want)
		}
	}
	if code, _, _ := f.do(t, detente.RoleAuditor, "POST", "/api/v1/feedback", `{}`); code != http.StatusForbidden {
		t.Errorf("an auditor sent feedback: %d", code)
	}
}
