package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"detente"
	"detente/internal/corroboration"
	"detente/internal/lists"
	"detente/internal/node"
	"detente/internal/stix"
)

// TestCurationReport: a partner's report counts what it shares, flags
// its single-source assertions and the labels no other authority holds,
// and lists what others dispute.
func TestCurationReport(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(pub), "https://bravo.example"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)
	designation := func(authority, id, name, country string) []byte {
		b, err := lists.ToSTIX(detente.Designation{Authority: authority, EntityID: id, Type: detente.EntityOrganization,
			Names: []detente.DesignationName{{Name: name, Kind: detente.NameKindPrimary}}, Nationalities: []string{country},
			Regime: "terrorism", ListedOn: "2026-01-01"}, detente.MarkingGreen, t0)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ingest := func(raw []byte, signer ed25519.PrivateKey) {
		t.Helper()
		if signer != nil {
			var err error
			if raw, err = stix.Sign(raw, signer, detente.Grading{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := n.Ingest(ctx, raw, node.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	obj := func(o map[string]any) []byte { b, _ := json.Marshal(o); return b }
	ind := func(id, pattern string, labels ...string) map[string]any {
		o := indicator(id, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
		o["pattern"] = pattern
		if len(labels) > 0 {
			o["labels"] = labels
		}
		return o
	}
	const (
		corroborated = "indicator--00000000-0000-4000-8000-00000000000a"
		alone        = "indicator--00000000-0000-4000-8000-00000000000b"
		withdrawn    = "indicator--00000000-0000-4000-8000-00000000000c"
		ours         = "indicator--00000000-0000-4000-8000-00000000000d"
	)
	// alpha itself lists the Black Meridian Front.
	ingest(designation("alpha", "A-1", "Black Meridian Front", "XA"), nil)
	ingest(obj(ind(ours, "[domain-name:value = 'meridian-news.example']")), nil)
	// bravo lists the same front and a cultural union nobody else lists.
	ingest(designation("bravo", "B-1", "Black Meridian Front", "XA"), priv)
	ingest(designation("bravo", "B-2", "Nationalist Cultural Union", "XB"), priv)
	ingest(obj(ind(corroborated, "[domain-name:value = 'Meridian-News.example']", "propaganda")), priv)
	ingest(obj(ind(alone, "[ipv4-addr:value = '203.0.113.50']", "propaganda", "recruitment")), priv)
	w := ind(withdrawn, "[ipv4-addr:value = '203.0.113.51']")
	w["revoked"] = true
	ingest(obj(w), priv)
	// alpha disputes bravo's lone indicator twice.
	ingest(obj(map[string]any{"type": "opinion", "spec_version": "2.1", "id": "opinion--00000000-0000-4000-8000-000000000001",
		"created": "2026-01-11T10:00:00.000Z", "modified": "2026-01-11T10:00:00.000Z", "opinion": "strongly-disagree",
		"explanation": "a university address", "object_refs": []string{alone}}), nil)
	ingest(obj(map[string]any{"type": "sighting", "spec_version": "2.1", "id": "sighting--00000000-0000-4000-8000-000000000001",
		"created": "2026-01-11T10:00:00.000Z", "modified": "2026-01-11T10:00:00.000Z", "sighting_of_ref": alone,
		"labels": []string{"false-positive"}}), nil)

	r, err := n.Corroboration.Report(ctx, "bravo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(r, "", " ")
	t.Logf("%s", b)
	if r.Objects != 5 || r.Asserting != 4 || r.SingleSource != 2 {
		t.Errorf("objects %d asserting %d single-source %d, want 5, 4 (the withdrawn left out), 2 (the union, the lone address)", r.Objects, r.Asserting, r.SingleSource)
	}
	if len(r.ByTopic) == 0 || r.ByTopic[0] != (corroboration.Count{Key: "propaganda", Count: 2}) {
		t.Errorf("topics %v, want propaganda first with 2", r.ByTopic)
	}
	if len(r.ByRegion) != 2 || len(r.ByType) != 2 || len(r.ByMonth) != 1 {
		t.Errorf("regions %v types %v months %v", r.ByRegion, r.ByType, r.ByMonth)
	}
	if len(r.Labels) != 2 || r.LabelsAlone != 1 {
		t.Fatalf("labels %+v, want 2, 1 alone", r.Labels)
	}
	for _, l := range r.Labels {
		switch l.Name {
		case "Black Meridian Front":
			if l.Alone || len(l.HeldBy) != 1 || l.HeldBy[0] != "alpha" {
				t.Errorf("the front: %+v, want held by alpha", l)
			}
		case "Nationalist Cultural Union":
			if !l.Alone {
				t.Errorf("the union: %+v, want alone", l)
			}
		}
	}
	got := map[string]bool{}
	for _, c := range r.Contradicted {
		got[c.How+" "+c.ID] = true
	}
	for _, w := range []string{"revoked " + withdrawn, "opinion " + alone, "sighting " + alone} {
		if !got[w] {
			t.Errorf("contradictions %+v lack %s", r.Contradicted, w)
		}
	}
	if _, err := n.Corroboration.Report(ctx, "nobody"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("report on an unknown partner: %v, want ENOTFOUND", err)
	}
}
