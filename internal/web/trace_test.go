package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/node"
	"detente/internal/stix"
)

// TestTracePage: an analyst pastes or uploads a leaked copy, sees bravo
// accused with its bound, and downloads evidence that verifies; an
// auditor may not trace.
func TestTracePage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := "report--" + uuid4()
	var desc strings.Builder
	for i := range 30 {
		fmt.Fprintf(&desc, "Item %d: the subject [[met|gathered]] the courier on day %d. ", i, i)
	}
	desc.WriteString("Beacons reached {{canary:subdomain:sinkhole.example.net}}.")
	ts := stix.FormatTimestamp(f.now.Add(-time.Hour))
	report := map[string]any{"type": "report", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": "Courier network", "description": desc.String(), "published": ts, "object_refs": []string{id},
		"object_marking_refs": []string{detente.MarkingGreen}}
	b, _ := json.Marshal(report)
	if _, err := f.node.Ingest(ctx, b, node.IngestOptions{Fingerprint: true}); err != nil {
		t.Fatal(err)
	}
	res, err := f.node.Release(ctx, id, "bravo")
	if err != nil || !res.Decision.Allowed {
		t.Fatalf("release: %v %+v", err, res)
	}
	objs, _ := stix.ParseBundle(res.Bundle)
	var copyDesc string
	for _, o := range objs {
		if o.ID == id {
			copyDesc = o.Fields["description"].(string)
		}
	}

	if resp, _ := f.as(t, detente.RoleAuditor).get("/trace"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor GET /trace: %d", resp.StatusCode)
	}
	c := f.as(t, detente.RoleAnalyst)
	resp, body := c.get("/trace")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/trace"`) || !strings.Contains(body, `href="/trace"`) {
		t.Fatalf("GET /trace: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.post("/trace", url.Values{"leak": {"Sent on Telegram: " + copyDesc}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<strong>bravo</strong>") || !strings.Contains(body, "● yes") {
		t.Fatalf("POST /trace: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.post("/trace/evidence", url.Values{"partner": {"bravo"}, "leak": {"Sent on Telegram: " + copyDesc}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "leak-evidence-bravo.json") {
		t.Fatalf("POST /trace/evidence: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := leak.Verify([]byte(body), f.node.PublicKey()); err != nil {
		t.Fatalf("downloaded evidence: %v", err)
	}
	// Without the CSRF token, nothing is traced.
	if resp, _ := c.post("/trace", url.Values{"leak": {copyDesc}, "csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", resp.StatusCode)
	}

	// An upload.
	var mb bytes.Buffer
	mw := multipart.NewWriter(&mb)
	mw.WriteField("csrf", c.csrf)
	fw, _ := mw.CreateFormFile("file", "leak.json")
	fw.Write(res.Bundle)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/trace", &mb)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	up, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Body.Close()
	page, _ := io.ReadAll(up.Body)
	if up.StatusCode != http.StatusOK || !strings.Contains(string(page), "<strong>bravo</strong>") {
		t.Fatalf("upload: %d\n%s", up.StatusCode, page)
	}
}

// TestObjectPageFingerprintTemplate: the object page of this node's
// fingerprint template, whose time canary stands for a timestamp (so it
// is not valid STIX), shows its signature as valid, by this node; an
// edited template does not verify.
func TestObjectPageFingerprintTemplate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := "threat-actor--" + uuid4()
	ts := stix.FormatTimestamp(f.now.Add(-time.Hour))
	actor := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": "Cell [[K|Kilo]]", "first_seen": "{{canary:time:2026-02-01T10:00:00Z~15m}}",
		"description":         "Seen at {{canary:subdomain:sinkhole.example.net}}.",
		"object_marking_refs": []string{detente.MarkingGreen}}
	b, _ := json.Marshal(actor)
	if _, err := f.node.Ingest(ctx, b, node.IngestOptions{Fingerprint: true}); err != nil {
		t.Fatal(err)
	}
	resp, body := f.as(t, detente.RoleAnalyst).get("/objects/" + id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET object: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "✓ valid</span>, signed by this node") || strings.Contains(body, "does not verify") {
		t.Errorf("the template's signature is not shown valid:\n%s", body)
	}

	vs, err := f.node.ObjectVersions(ctx, id)
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions: %v %d", err, len(vs))
	}
	edited := *vs[0]
	edited.Raw = bytes.Replace(vs[0].Raw, []byte("Kilo"), []byte("Lima"), 1)
	if s := viewSignature(&edited, f.node.PublicKey(), nil); s.Status != "invalid" {
		t.Errorf("an edited template: %+v, want invalid", s)
	}
	if s := viewSignature(vs[0], f.node.PublicKey(), nil); s.Status != "valid" || s.Who != "this node" {
		t.Errorf("the template: %+v, want valid by this node", s)
	}
}
