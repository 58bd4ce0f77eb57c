package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"detente"
	"detente/internal/node"
	"detente/internal/taxii"
)

// TestLocalPostMixedEnvelope: a local tool (a MISP or OpenCTI connector)
// POSTs a TAXII envelope with one invalid object: the valid ones are
// stored and the status lists each outcome, the failure with its reason,
// as TAXII 2.1's status resource does; the status can be read again.
func TestLocalPostMixedEnvelope(t *testing.T) {
	ctx := context.Background()
	p := startPeer(t, "alpha")
	_, secret, err := p.CreateToken(ctx, detente.RoleAnalyst, "connector")
	if err != nil {
		t.Fatal(err)
	}
	good1 := indicator("indicator--55555555-5555-4555-8555-555555555555", detente.MarkingGreen, "one")
	good2 := indicator("indicator--66666666-6666-4666-8666-666666666666", detente.MarkingAmber, "two")
	bad := indicator("indicator--77777777-7777-4777-8777-777777777777", detente.MarkingAmber, "three")
	delete(bad, "pattern")
	custom := map[string]any{"type": "x-misp-attribute", "spec_version": "2.1", "id": "x-misp-attribute--5e384ae7-0e44-4c4a-a1b1-1d6e0c2f3a4b",
		"created": "2026-02-12T09:11:00.000Z", "modified": "2026-02-12T09:11:00.000Z", "x_misp_type": "btc", "x_misp_value": "1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE",
		"object_marking_refs": []string{detente.MarkingAmber}}
	// An object without a usable id is a failure too, not a reason to
	// refuse the envelope (the interop check found the whole POST 400).
	noID := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid", "created": "2020-01-01T00:00:00.000Z"}
	env, _ := json.Marshal(map[string]any{"objects": []any{good1, bad, good2, custom, noID}})

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := p.srv.URL() + "/taxii2/api/"
	do := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth("connector", secret)
		req.Header.Set("Accept", taxii.MediaType)
		if body != "" {
			req.Header.Set("Content-Type", taxii.MediaType)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := do("POST", "collections/"+node.CollectionLocal+"/objects/", string(env))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", code, body)
	}
	var st taxii.Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != taxii.StatusComplete || st.TotalCount != 5 || st.SuccessCount != 3 || st.FailureCount != 2 || st.PendingCount != 0 {
		t.Fatalf("status: %s", body)
	}
	if f := st.Failures[0]; f.ID != "indicator--77777777-7777-4777-8777-777777777777" || !strings.Contains(f.Message, "pattern") {
		t.Errorf("failure: %+v", f)
	}
	// Failures carry the version the object spells (TAXII 2.1 §4.3.1).
	var raw struct{ Failures []map[string]any }
	json.Unmarshal(body, &raw)
	for i, want := range []any{bad["modified"], noID["created"]} {
		if len(raw.Failures) != 2 || raw.Failures[i]["version"] != want {
			t.Errorf("failure %d: %v, want version %v", i, raw.Failures, want)
		}
	}
	for _, id := range []string{"indicator--55555555-5555-4555-8555-555555555555", "indicator--66666666-6666-4666-8666-666666666666", "x-misp-attribute--5e384ae7-0e44-4c4a-a1b1-1d6e0c2f3a4b"} {
		if holds(p, id) == nil {
			t.Errorf("%s not stored", id)
		}
	}
	code, again := do("GET", "status/"+st.ID+"/", "")
	if code != 200 || !strings.Contains(string(again), `"failure_count":2`) {
		t.Errorf("status again: %d %s", code, again)
	}
}

// TestVersionSpelledAsTheObject: manifests, versions and statuses write
// a version as the object spells its modified (the interop check found
// "…00Z" served as "…00.000Z" in the manifest, two versions to a client
// comparing strings).
func TestVersionSpelledAsTheObject(t *testing.T) {
	ctx := context.Background()
	p := startPeer(t, "alpha")
	_, secret, err := p.CreateToken(ctx, detente.RoleAnalyst, "connector")
	if err != nil {
		t.Fatal(err)
	}
	const id = "indicator--88888888-8888-4888-8888-888888888888"
	ind := indicator(id, detente.MarkingGreen, "spelt")
	ind["created"], ind["modified"] = "2018-03-01T00:00:00Z", "2020-02-02T02:02:02.5Z"
	env, _ := json.Marshal(map[string]any{"objects": []any{ind}})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	do := func(method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, p.srv.URL()+"/taxii2/api/collections/"+node.CollectionLocal+path, strings.NewReader(body))
		req.SetBasicAuth("connector", secret)
		req.Header.Set("Accept", taxii.MediaType)
		if body != "" {
			req.Header.Set("Content-Type", taxii.MediaType)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const want = `"2020-02-02T02:02:02.5Z"`
	for _, c := range []struct{ what, body string }{
		{"status", do("POST", "/objects/", string(env))},
		{"versions", do("GET", "/objects/"+id+"/versions/", "")},
		{"manifest", do("GET", "/manifest/?match[id]="+id, "")},
		{"object", do("GET", "/objects/"+id+"/", "")},
	} {
		if !strings.Contains(c.body, want) || strings.Contains(c.body, "02.500Z") {
			t.Errorf("%s does not spell the version %s: %s", c.what, want, c.body)
		}
	}
}
