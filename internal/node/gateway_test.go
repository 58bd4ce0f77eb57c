package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"detente"
	"detente/internal/lists"
	"detente/internal/node"
	"detente/internal/stix"
)

// TestIngestPartial: by default one bad object sinks the bundle; with
// Partial the valid objects are stored and each other one is reported with
// its position and reason.
func TestIngestPartial(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	held := indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	if _, err := n.Ingest(ctx, bundle(held), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	conflict := indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	conflict["name"] = "another name, same version"
	invalid := indicator("indicator--22222222-2222-4222-8222-222222222222", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	delete(invalid, "pattern")
	future := indicator("indicator--33333333-3333-4333-8333-333333333333", detente.MarkingGreen, "2099-01-10T10:00:00.000Z")
	future["created"] = "2099-01-10T10:00:00.000Z"
	// A signature that does not verify: signed, then changed.
	o, err := stix.ParseObject(mustJSON(indicator("indicator--44444444-4444-4444-8444-444444444444", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")))
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	so, err := o.Sign(other, detente.Grading{})
	if err != nil {
		t.Fatal(err)
	}
	var forged map[string]any
	json.Unmarshal(so.Raw, &forged)
	forged["name"] = "tampered"
	good1 := indicator("indicator--55555555-5555-4555-8555-555555555555", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	good2 := indicator("indicator--66666666-6666-4666-8666-666666666666", detente.MarkingAmber, "2026-01-10T10:00:00.000Z")
	data := bundle(good1, invalid, conflict, future, forged, good2)

	objects, events := count(t, n)
	if _, err := n.Ingest(ctx, data, node.IngestOptions{}); err == nil {
		t.Fatal("a bundle with bad objects ingested whole")
	}
	if o2, e2 := count(t, n); o2 != objects || e2 != events {
		t.Fatalf("a refused bundle changed the store: %d/%d -> %d/%d", objects, events, o2, e2)
	}
	res, err := n.Ingest(ctx, data, node.IngestOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 2 || res.Rejected != 4 {
		t.Fatalf("partial: %+v", res)
	}
	rejected := map[int]string{}
	for _, o := range res.Objects {
		if o.Status == node.IngestRejected {
			rejected[*o.Index] = o.Reason
		}
	}
	for i, want := range map[int]string{1: "pattern", 2: "already stored", 3: "future", 4: "signature"} {
		if !strings.Contains(rejected[i], want) {
			t.Errorf("object %d: reason %q, want one about %s", i, rejected[i], want)
		}
	}
	for _, id := range []string{"indicator--55555555-5555-4555-8555-555555555555", "indicator--66666666-6666-4666-8666-666666666666"} {
		if _, err := n.CurrentObject(ctx, id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
	}
	// Not a bundle at all is still an error.
	if _, err := n.Ingest(ctx, []byte(`[1,2]`), node.IngestOptions{Partial: true}); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("not STIX: %v", err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestIngestMISPExport ingests a STIX 2.1 bundle as MISP's converter
// (misp-stix) exports an event, x-misp-attribute, x-misp-object and
// x-misp-galaxy-cluster objects included: it goes in whole, the custom
// objects kept as they are, the predefined TLP 1.0 definition skipped.
func TestIngestMISPExport(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	data, err := os.ReadFile("testdata/misp-export.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Ingest(ctx, data, node.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 7 || res.Rejected != 0 {
		t.Fatalf("MISP export: %+v", res)
	}
	o, err := n.CurrentObject(ctx, "x-misp-object--5e384ae7-a1f4-4b4e-8f4e-2e0b8f6c7d8e")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(o.Raw, &m)
	if attrs, _ := m["x_misp_attributes"].([]any); len(attrs) != 2 || m["x_misp_name"] != "bank-account" {
		t.Errorf("x-misp-object not kept as it came: %s", o.Raw)
	}
	r, err := n.CurrentObject(ctx, "report--5e384ae7-672c-4250-9cda-3b4da964451a")
	if err != nil || len(r.Refs) < 6 {
		t.Errorf("report: %+v, %v", r, err)
	}
}

// TestDefinitionIDs: the extension-definitions every view carries are the
// ones the node writes.
func TestDefinitionIDs(t *testing.T) {
	if stix.DesignationExtensionID != lists.DesignationExtensionID {
		t.Errorf("designation extension %s, lists writes %s", stix.DesignationExtensionID, lists.DesignationExtensionID)
	}
}
