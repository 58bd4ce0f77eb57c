package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"

	"detente"
	"detente/internal/node"
	"detente/internal/stix"
)

// TestReferrers checks what references an object: the current versions
// that reference it, not an older version that did.
func TestReferrers(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	rs, err := n.Referrers(ctx, actorID, 0)
	if err != nil || len(rs) != 2 || rs[0].ID != reportID {
		t.Fatalf("referrers of the actor: %v, %v", rs, err)
	}
	// The report's new version leaves the actor out.
	newer := map[string]any{"type": "report", "spec_version": "2.1", "id": reportID, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-11T10:00:00.000Z", "name": "BMF", "published": "2026-01-10T10:00:00Z",
		"object_refs": []string{indID}, "object_marking_refs": []string{detente.MarkingAmber}}
	if _, err := n.Ingest(ctx, bundle(newer), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if rs, err := n.Referrers(ctx, actorID, 0); err != nil || len(rs) != 1 || rs[0].ID == reportID {
		t.Fatalf("referrers after the report dropped the actor: %v, %v", rs, err)
	}
	if rs, err := n.Referrers(ctx, indID, 1); err != nil || len(rs) != 1 || rs[0].ID != reportID {
		t.Fatalf("referrers of the indicator, at most 1: %v, %v", rs, err)
	}
	cur, err := n.CurrentObjects(ctx, []string{actorID, "identity--00000000-0000-4000-8000-000000000000"})
	if err != nil || len(cur) != 1 || cur[actorID] == nil {
		t.Fatalf("current objects: %v, %v", cur, err)
	}
	if _, err := n.ObjectVersions(ctx, "identity--00000000-0000-4000-8000-000000000000"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Fatalf("versions of an object not held: %v", err)
	}
}

// TestQuarantineAlertPerObject checks that an object quarantined again
// (a new version, also above the agreement's ceiling) updates its alert
// rather than adding one.
func TestQuarantineAlertPerObject(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(ctx, "charlie", detente.PublicKey(pub), "https://charlie.example"); err != nil {
		t.Fatal(err)
	}
	const id = "indicator--22222222-2222-4333-8444-555555555555"
	for _, modified := range []string{"2026-01-10T10:00:00.000Z", "2026-01-11T10:00:00.000Z"} {
		raw, _ := json.Marshal(indicator(id, detente.MarkingRed, modified))
		signed, err := stix.Sign(raw, priv, detente.Grading{Reliability: 'C', Credibility: 3})
		if err != nil {
			t.Fatal(err)
		}
		res, err := n.Receive(ctx, "charlie", []json.RawMessage{signed}, nil)
		if err != nil || res.Quarantined != 1 {
			t.Fatalf("receive: %+v, %v", res, err)
		}
	}
	gs, err := n.AlertGroups(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Kind != detente.AlertQuarantine || gs[0].Alerts != 1 || gs[0].Raised != 2 ||
		gs[0].Latest[0].Count != 2 || gs[0].Latest[0].Key != id {
		t.Fatalf("alert groups: %+v", gs)
	}
}
