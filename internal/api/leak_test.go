package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/stix"
)

// TestLeakEndpoints: ingest with ?fingerprint=true, release to bravo,
// trace bravo's copy and fetch evidence that verifies.
func TestLeakEndpoints(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := f.node.AddPartner(ctx, "bravo", detente.PublicKey(pub), "https://bravo.example"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc, _ := json.Marshal(map[string]any{"partner": "bravo", "from": now.AddDate(0, -1, 0), "until": now.AddDate(1, 0, 0),
		"tlp_ceiling": "green", "types": []string{"report"}, "onward_sharing": "none", "purpose": "counter-terrorism"})
	a, err := detente.ParseAgreement(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.node.AddAgreement(ctx, a); err != nil {
		t.Fatal(err)
	}
	const id = "report--0f1e2d3c-4b5a-4968-8776-655443322110"
	report := fmt.Sprintf(`{"type": "report", "spec_version": "2.1", "id": %q, "created": "2026-03-01T10:00:00.000Z",
	  "modified": "2026-03-02T08:30:00.000Z", "name": "Courier [[network|ring]]", "published": "2026-03-02T08:30:00Z",
	  "description": "The courier [[met|gathered with]] the owner. Beacons to {{canary:subdomain:sinkhole.example.net}}.",
	  "object_refs": [%q], "object_marking_refs": [%q]}`, id, id, detente.MarkingGreen)
	code, m, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/objects?fingerprint=true", report)
	if code != 201 || m["objects"].([]any)[0].(map[string]any)["marks"] != 3.0 {
		t.Fatalf("ingest: %d %s", code, raw)
	}
	res, err := f.node.Release(ctx, id, "bravo")
	if err != nil || !res.Decision.Allowed {
		t.Fatalf("release: %v %+v", err, res)
	}
	objs, _ := stix.ParseBundle(res.Bundle)
	var desc string // the report's: the bundle also carries the definitions it references
	for _, o := range objs {
		if o.ID == id {
			desc, _ = o.Fields["description"].(string)
		}
	}
	code, m, raw = f.do(t, detente.RoleAnalyst, "POST", "/api/v1/leak/trace", "Leaked: "+desc)
	if code != 200 || !strings.Contains(raw, `"partner": "bravo"`) || len(m["suspects"].([]any)) != 1 {
		t.Fatalf("trace: %d %s", code, raw)
	}
	if code, _, _ := f.do(t, detente.RoleAuditor, "POST", "/api/v1/leak/trace", desc); code != http.StatusForbidden {
		t.Errorf("auditor traced: %d", code)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/leak/evidence?for=bravo", strings.NewReader(desc))
	req.Header.Set("Authorization", "Bearer "+f.tokens[detente.RoleAnalyst])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ev json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil || resp.StatusCode != 200 {
		t.Fatalf("evidence: %d %v", resp.StatusCode, err)
	}
	if _, err := leak.Verify(ev, f.node.PublicKey()); err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "POST", "/api/v1/leak/evidence?for=charlie", desc); code != 400 || !strings.Contains(raw, "charlie") {
		t.Errorf("evidence about a partner without a copy: %d %s", code, raw)
	}
}
