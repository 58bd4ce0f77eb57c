package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/node"
	"detente/internal/stix"
	"detente/internal/taxii"
	"detente/internal/trace"
)

const markedID = "report--0f1e2d3c-4b5a-4968-8776-655443322110"

// markedReport returns a GREEN report whose description has n marked
// sentences, a subdomain canary and a time canary.
func markedReport(n int) map[string]any {
	words := [][2]string{{"acquired", "obtained"}, {"rifles", "firearms"}, {"met", "gathered"}, {"moved", "transferred"},
		{"planned", "prepared"}, {"recently", "lately"}, {"vehicle", "car"}, {"observed", "seen"}}
	var b strings.Builder
	for i := range n {
		w := words[i%len(words)]
		fmt.Fprintf(&b, "Item %d: the subject [[%s|%s]] on day %d. ", i, w[0], w[1], i)
	}
	b.WriteString("Beacons reached {{canary:subdomain:sinkhole.example.net}} at {{canary:time:2026-03-01T10:00:00Z~15m}}.")
	return map[string]any{"type": "report", "spec_version": "2.1", "id": markedID,
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-02T08:30:00.000Z",
		"name": "Procurement [[network|ring]] of cell K", "description": b.String(), "published": "2026-03-02T08:30:00Z",
		"object_refs": []string{actorID}, "object_marking_refs": []string{detente.MarkingGreen}}
}

// setupFingerprint gives alpha three partners under a GREEN agreement and
// ingests a marked report (and the actor it references) with
// --fingerprint. It returns alpha and the partners' keys.
func setupFingerprint(t *testing.T, marks int) (*node.Node, map[string]detente.PublicKey) {
	t.Helper()
	n := newNode(t, "alpha")
	ctx := context.Background()
	keys := map[string]detente.PublicKey{}
	now := time.Now().UTC()
	for _, p := range []string{"bravo", "charlie", "delta"} {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		keys[p] = detente.PublicKey(pub)
		if _, err := n.AddPartner(ctx, p, keys[p], "https://"+p+".example"); err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf(`{"partner": %q, "from": %q, "until": %q, "tlp_ceiling": "green",
			"types": ["report", "threat-actor"], "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`,
			p, now.AddDate(0, -1, 0).Format(time.RFC3339), now.AddDate(1, 0, 0).Format(time.RFC3339))
		a, err := detente.ParseAgreement([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.AddAgreement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	actor := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": actorID, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": "Black Meridian Front", "object_marking_refs": []string{detente.MarkingGreen}}
	res, err := n.Ingest(ctx, bundle(actor, markedReport(marks)), node.IngestOptions{Fingerprint: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if o.ID == markedID && o.Marks != marks+3 {
			t.Fatalf("marks = %d, want %d", o.Marks, marks+3)
		}
	}
	return n, keys
}

// copyOf releases the report to partner and returns its copy.
func copyOf(t *testing.T, n *node.Node, partner string) []byte {
	t.Helper()
	res, err := n.Release(context.Background(), markedID, partner)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Decision.Allowed {
		t.Fatalf("denied: %+v", res.Decision.Reasons)
	}
	objs, err := stix.ParseBundle(res.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.ID == markedID {
			return o.Raw
		}
	}
	t.Fatalf("no report in %s", res.Bundle)
	return nil
}

func TestFingerprintedRelease(t *testing.T) {
	n, _ := setupFingerprint(t, 60)
	ctx := context.Background()
	local, err := n.CurrentObject(ctx, markedID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(local.Raw, []byte("[[network|ring]]")) {
		t.Fatalf("the local copy lost its markup: %s", local.Raw)
	}
	copies := map[string][]byte{}
	for _, p := range []string{"bravo", "charlie", "delta"} {
		c := copyOf(t, n, p)
		signer, signed, err := stix.Verify(c)
		if err != nil || !signed || !signer.Equal(n.PublicKey()) {
			t.Fatalf("%s's copy is not signed by alpha: %v", p, err)
		}
		if bytes.Contains(c, []byte("[[")) || bytes.Contains(c, []byte("{{canary")) {
			t.Fatalf("%s's copy carries markup: %s", p, c)
		}
		copies[p] = c
	}
	if bytes.Equal(copies["bravo"], copies["charlie"]) {
		t.Fatal("two partners got the same copy")
	}
	// Released again, the copy and its commitment are the same.
	var before []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		before, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease})
		return
	})
	if again := copyOf(t, n, "bravo"); !bytes.Equal(again, copies["bravo"]) {
		t.Fatal("bravo's copy changed when released again")
	}
	var after []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		after, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease})
		return
	})
	commitments := func(e *detente.Event) []string {
		var body struct {
			F []string `json:"fingerprints"`
		}
		json.Unmarshal(e.Body, &body)
		return body.F
	}
	if a, b := commitments(before[0]), commitments(after[len(after)-1]); len(a) != 1 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("re-release commitments %v, first %v", b, a)
	}

	// The copy, stripped of its signature and re-serialised, names bravo.
	var m map[string]any
	json.Unmarshal(copies["bravo"], &m)
	delete(m, "extensions")
	stripped, _ := json.MarshalIndent(m, "", "  ")
	res, err := n.Leak.Trace(ctx, stripped)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Suspects) != 1 || res.Suspects[0].Partner != "bravo" {
		t.Fatalf("suspects %+v, want bravo alone", res.Suspects)
	}
	ev, err := n.Leak.Evidence(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := leak.Verify(ev, n.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Suspects) != 1 || rep.Suspects[0].Partner != "bravo" {
		t.Fatalf("verified suspects %+v", rep.Suspects)
	}
	edited := bytes.Replace(ev, []byte(`"bravo"`), []byte(`"delta"`), 1)
	if _, err := leak.Verify(edited, n.PublicKey()); err == nil {
		t.Fatal("edited evidence verifies")
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := leak.Verify(ev, detente.PublicKey(other)); err == nil {
		t.Fatal("evidence verifies against another key")
	}
	if !strings.Contains(string(ev), trace.EvidenceFormat) {
		t.Fatal("not evidence")
	}
}

func TestFingerprintRefusals(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	bad := markedReport(2)
	bad["description"] = "the [[a|a]] thing"
	if _, err := n.Ingest(ctx, bundle(bad), node.IngestOptions{Fingerprint: true}); err == nil || !strings.Contains(err.Error(), "description") {
		t.Fatalf("equal wordings: %v", err)
	}
	sco := map[string]any{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "[[a|b]].example"}
	if _, err := n.Ingest(ctx, bundle(sco), node.IngestOptions{Fingerprint: true}); err == nil || !strings.Contains(err.Error(), "observable") {
		t.Fatalf("observable: %v", err)
	}
	// Without --fingerprint, markup is text.
	res, err := n.Ingest(ctx, bundle(markedReport(2)), node.IngestOptions{})
	if err != nil || res.Objects[0].Marks != 0 {
		t.Fatalf("plain ingest: %+v %v", res, err)
	}
}

func TestFingerprintTerms(t *testing.T) {
	n, _ := setupFingerprint(t, 10)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, c := range []struct{ partner, rule string }{{"echo", "never"}, {"foxtrot", "always"}} {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		if _, err := n.AddPartner(ctx, c.partner, detente.PublicKey(pub), "https://"+c.partner+".example"); err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf(`{"partner": %q, "from": %q, "until": %q, "tlp_ceiling": "green", "fingerprint": %q,
			"types": ["report", "threat-actor", "indicator"], "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`,
			c.partner, now.AddDate(0, -1, 0).Format(time.RFC3339), now.AddDate(1, 0, 0).Format(time.RFC3339), c.rule)
		a, err := detente.ParseAgreement([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.AddAgreement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	caveat := stix.NewCaveatMarking(detente.CaveatFingerprint, nil, "", time.Now())
	cm, _ := stix.ParseObject(caveat)
	ind := indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	ind["object_marking_refs"] = []string{detente.MarkingGreen, cm.ID}
	var cav map[string]any
	json.Unmarshal(caveat, &cav)
	if _, err := n.Ingest(ctx, bundle(cav, ind), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	reasons := func(object, partner string) (bool, string) {
		d, err := n.CheckRelease(ctx, object, partner)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, r.Code)
		}
		return d.Allowed, strings.Join(codes, " ")
	}
	for _, c := range []struct {
		object, partner string
		allowed         bool
		code            string
	}{
		{markedID, "bravo", true, detente.ReasonFingerprinted},
		{actorID, "bravo", true, detente.ReasonAllowed},
		{markedID, "echo", false, detente.ReasonFingerprintRefused},
		{actorID, "echo", true, detente.ReasonAllowed},
		{markedID, "foxtrot", true, detente.ReasonFingerprinted},
		{actorID, "foxtrot", false, detente.ReasonNotFingerprinted},
		{indID, "bravo", false, detente.ReasonNotFingerprinted},
	} {
		allowed, codes := reasons(c.object, c.partner)
		if allowed != c.allowed || !strings.Contains(codes, c.code) {
			t.Errorf("%s to %s: allowed %v %s, want %v with %s", c.object, c.partner, allowed, codes, c.allowed, c.code)
		}
	}
	// The report goes to foxtrot with the actor it references.
	res, err := n.Release(ctx, markedID, "foxtrot")
	if err != nil || !res.Decision.Allowed || !strings.Contains(string(res.Bundle), actorID) {
		t.Fatalf("release to foxtrot: %v %+v", err, res)
	}
}

// TestFingerprintedGranularNoFalseWarning: a fingerprinted object whose
// time canary stands for a timestamp, and whose granular marking redacts a
// property for partners, is checked at ingest in the form partners
// receive. Its local copy (markup in first_seen) is not valid STIX, and
// checking that copy warned that the object would be withheld from every
// partner when it would not.
func TestFingerprintedGranularNoFalseWarning(t *testing.T) {
	n, _ := setupFingerprint(t, 4)
	ctx := context.Background()
	actor := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-01T10:00:00.000Z",
		"name": "Cell [[K|Kilo]]", "first_seen": "{{canary:time:2026-02-01T10:00:00Z~15m}}",
		"description":         "Seen at {{canary:subdomain:sinkhole.example.net}}; source [[protected|sensitive]].",
		"object_marking_refs": []string{detente.MarkingGreen},
		"granular_markings":   []any{map[string]any{"marking_ref": detente.MarkingRed, "selectors": []string{"description"}}}}
	res, err := n.Ingest(ctx, bundle(actor), node.IngestOptions{Fingerprint: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "withheld") {
			t.Errorf("false warning: %s", w)
		}
	}
	if len(res.Objects) != 1 || res.Objects[0].Marks != 4 {
		t.Fatalf("objects = %+v, want one with 4 marks", res.Objects)
	}
}

// TestLocalCollectionDisplayForm: the node's own tools (the local TAXII
// collection: OpenCTI, MISP connectors) receive a fingerprinted version
// as its display form, valid STIX signed by the node, never the stored
// copy with its markup, which is not valid STIX where a canary stands for
// a timestamp.
func TestLocalCollectionDisplayForm(t *testing.T) {
	n, _ := setupFingerprint(t, 4)
	ctx := context.Background()
	const campaignID = "campaign--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	campaign := map[string]any{"type": "campaign", "spec_version": "2.1", "id": campaignID,
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-01T10:00:00.000Z", "name": "Cell K [[procurement|purchasing]]",
		"first_seen": "{{canary:time:2026-03-01T10:00:00Z~15m}}", "object_marking_refs": []string{detente.MarkingGreen}}
	if _, err := n.Ingest(ctx, bundle(campaign), node.IngestOptions{Fingerprint: true}); err != nil {
		t.Fatal(err)
	}
	recs, _, err := n.TAXIISource().Records(ctx, taxii.Caller{LocalRole: detente.RoleAnalyst, CanRead: true}, node.CollectionLocal, taxii.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range recs {
		if r.ID != markedID && r.ID != campaignID {
			continue
		}
		seen++
		if leak.MayHoldMarkup(r.Raw) {
			t.Errorf("%s served to local tools with its markup", r.ID)
		}
		signer, signed, err := stix.Verify(r.Raw)
		if err != nil || !signed || !signer.Equal(n.PublicKey()) {
			t.Errorf("%s: not signed by the node: %v", r.ID, err)
		}
		var o struct {
			Name      string
			FirstSeen string `json:"first_seen"`
		}
		json.Unmarshal(r.Raw, &o)
		switch r.ID {
		case campaignID:
			if o.Name != "Cell K procurement" || o.FirstSeen != "2026-03-01T10:00:00Z" {
				t.Errorf("campaign served as %s", r.Raw)
			}
		case markedID:
			if o.Name != "Procurement network of cell K" {
				t.Errorf("report served as %q", o.Name)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("%d of the 2 marked versions in the local collection", seen)
	}
}
