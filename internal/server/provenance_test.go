package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/lists"
	"detente/internal/node"
	"detente/internal/screen"
	"detente/internal/stix"
	"detente/internal/taxii"
)

// The tests in this file are the regression tests of the provenance issue:
// each reproduces, through real nodes on loopback, a way a malicious
// partner could unlock what the egress policy withholds or learn what it
// may not see, and checks that it no longer works.

// linkTerms makes a and b partners, each with an agreement on the terms
// given (merged over AMBER, intel types, third-party rule).
func linkTerms(t testing.TB, a, b *peer, terms map[string]any) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, pair := range [][2]*peer{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		if _, err := x.AddPartner(ctx, y.Name, y.PublicKey(), y.srv.URL()); err != nil {
			t.Fatal(err)
		}
		doc := map[string]any{"partner": y.Name, "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
			"tlp_ceiling": "amber", "types": intel, "onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"}
		for k, v := range terms {
			doc[k] = v
		}
		raw, _ := json.Marshal(doc)
		ag, err := detente.ParseAgreement(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.AddAgreement(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
}

// push sends objects, signed by from with its own key, into to's inbound
// collection over TAXII, as a partner node (or a hand-written client with
// the partner's key) would.
func push(t testing.TB, from, to *peer, objs ...map[string]any) taxii.Status {
	t.Helper()
	var raws []json.RawMessage
	for _, o := range objs {
		raw, _ := json.Marshal(o)
		s, err := stix.Sign(raw, from.Key, detente.Grading{Reliability: 'C', Credibility: 3})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, s)
	}
	return pushRaw(t, from, to, raws...)
}

func pushRaw(t testing.TB, from, to *peer, raws ...json.RawMessage) taxii.Status {
	t.Helper()
	hc, err := from.PartnerClient(&detente.Partner{Name: to.Name, Key: to.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	c := &taxii.Client{HTTP: hc, BaseURL: to.srv.URL() + "/taxii2/api/"}
	st, err := c.Add(context.Background(), node.CollectionInbound, raws)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// version returns one stored version of id, quarantined or not.
func version(t testing.TB, p *peer, id string, modified string) *detente.ObjectVersion {
	t.Helper()
	ctx := context.Background()
	m, _ := time.Parse(time.RFC3339Nano, modified)
	var o *detente.ObjectVersion
	if err := p.Store.View(ctx, func(tx detente.Tx) (err error) { o, err = tx.ObjectVersion(ctx, id, m); return }); err != nil {
		t.Fatalf("%s: %s@%s: %v", p.Name, id, modified, err)
	}
	return o
}

func decide(t testing.TB, p *peer, object, partner string) *detente.Decision {
	t.Helper()
	d, err := p.CheckRelease(context.Background(), object, partner)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func report(id string, marking string, refs ...string) map[string]any {
	return map[string]any{"type": "report", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": "report", "published": "2026-01-10T10:00:00Z",
		"object_refs": refs, "object_marking_refs": []string{marking}}
}

const (
	reportR    = "report--00000000-0000-4000-8000-0000000000a1"
	indicatorY = "indicator--00000000-0000-4000-8000-0000000000a2"
	indicatorX = "indicator--00000000-0000-4000-8000-0000000000a3"
)

// TestIDTakeover: charlie signs its own version of alpha's TLP:RED
// indicator (later modified, TLP:GREEN, revoked, another pattern) and
// alpha pulls it. Before id ownership the graph resolved the id to
// charlie's version: alpha's GREEN report citing it went to charlie
// (back-to-originator), and alpha's analysts saw charlie's pattern.
func TestIDTakeover(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, nil)
	ingest(t, alpha, indicator(red, detente.MarkingRed, "protected source"), report(reportR, detente.MarkingGreen, red))
	if d := decide(t, alpha, reportR, "charlie"); d.Allowed {
		t.Fatalf("before: the report citing a RED indicator goes to charlie: %+v", d)
	}

	fake := indicator(red, detente.MarkingGreen, "charlie's version")
	fake["modified"], fake["revoked"], fake["pattern"] = "2026-01-11T10:00:00.000Z", true, "[ipv4-addr:value = '203.0.113.9']"
	ingest(t, charlie, fake)
	sync(t, alpha, "charlie")

	if d := decide(t, alpha, reportR, "charlie"); d.Allowed {
		t.Fatalf("after charlie's takeover version, the report goes to charlie: %+v", d)
	}
	cur := holds(alpha, red)
	if cur == nil || cur.Originator != detente.OriginSelf || !strings.Contains(string(cur.Raw), "protected source") {
		t.Fatalf("alpha's analysts see another version than alpha's own: %+v", cur)
	}
	got := version(t, alpha, red, "2026-01-11T10:00:00Z")
	if !strings.HasPrefix(got.Quarantine, detente.QuarantineForeign+":") || got.Originator != "charlie" {
		t.Errorf("charlie's version stored as %q from %q, want a foreign-version from charlie", got.Quarantine, got.Originator)
	}
	// charlie's view of alpha holds neither.
	sync(t, charlie, "alpha")
	if o := holds(charlie, reportR); o != nil {
		t.Errorf("TAXII served alpha's report to charlie")
	}
	// The alert names charlie.
	var alerts []*detente.Alert
	ctx := context.Background()
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) { alerts, err = tx.Alerts(ctx, 20); return })
	found := false
	for _, a := range alerts {
		if strings.Contains(a.Message, detente.QuarantineForeign) && strings.Contains(a.Message, "charlie") {
			found = true
		}
	}
	if !found {
		t.Errorf("no foreign-version alert naming charlie: %+v", alerts)
	}
}

// TestMarkingTakeover: alpha limits an indicator to bravo with a
// releasable-to caveat; charlie pushes its own marking-definition with the
// caveat's id, a later created time and itself among the recipients.
func TestMarkingTakeover(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	ctx := context.Background()
	caveat := stix.NewCaveatMarking(detente.CaveatReleasableTo, []string{"bravo"}, "", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var m map[string]any
	json.Unmarshal(caveat, &m)
	id := m["id"].(string)
	ind := indicator(green, detente.MarkingGreen, "for bravo only")
	ind["object_marking_refs"] = []string{detente.MarkingGreen, id}
	ingest(t, alpha, m, ind)
	if d := decide(t, alpha, green, "charlie"); d.Allowed {
		t.Fatalf("before: %+v", d)
	}
	if d := decide(t, alpha, green, "bravo"); !d.Allowed {
		t.Fatalf("before, bravo: %+v", d)
	}

	forged := stix.NewCaveatMarking(detente.CaveatReleasableTo, []string{"bravo", "charlie"}, "", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	var f map[string]any
	json.Unmarshal(forged, &f)
	f["id"] = id
	same := stix.NewCaveatMarking(detente.CaveatReleasableTo, []string{"bravo", "charlie"}, "", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var g map[string]any
	json.Unmarshal(same, &g)
	g["id"] = id // the same version key as alpha's definition, other content
	push(t, charlie, alpha, f)
	push(t, charlie, alpha, g)
	if d := decide(t, alpha, green, "charlie"); d.Allowed {
		t.Fatalf("after charlie's forged caveat the indicator goes to charlie: %+v", d)
	}
	if d := decide(t, alpha, green, "bravo"); !d.Allowed {
		t.Errorf("after charlie's forged caveat bravo lost the indicator: %+v", d)
	}
	var vs []*detente.ObjectVersion
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) { vs, err = tx.ObjectVersions(ctx, id); return })
	// alpha's definition, then charlie's two, quarantined: neither the later
	// one nor the one on alpha's own version key displaces it.
	if len(vs) != 3 || vs[0].Quarantine != "" || vs[1].Quarantine == "" || vs[2].Quarantine == "" {
		for _, v := range vs {
			t.Logf("%s signer %v quarantine %q", v.Key(), v.Signer, v.Quarantine)
		}
		t.Errorf("versions of the caveat at alpha: %d", len(vs))
	}
}

// TestConsentStretching: bravo consents to charlie receiving report R
// (scope report). charlie signs its own later version of R whose
// object_refs add bravo's indicator Y and pushes it to alpha; bravo's own
// later version adding Y does not extend the consent either.
func TestConsentStretching(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	ctx := context.Background()
	if _, err := bravo.AddPartner(ctx, "charlie", charlie.PublicKey(), ""); err != nil {
		t.Fatal(err)
	}
	ingest(t, bravo, indicator(indicatorX, detente.MarkingGreen, "in the report"), indicator(indicatorY, detente.MarkingGreen, "not in the report"),
		report(reportR, detente.MarkingGreen, indicatorX))
	if _, err := bravo.Federation.IssueConsent(ctx, reportR, "charlie", detente.ConsentReport, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sync(t, alpha, "bravo")
	if d := decide(t, alpha, indicatorX, "charlie"); !d.Allowed {
		t.Fatalf("the consented report's member does not go to charlie: %+v", d)
	}
	if d := decide(t, alpha, indicatorY, "charlie"); d.Allowed {
		t.Fatalf("before: %+v", d)
	}

	stretched := report(reportR, detente.MarkingGreen, indicatorX, indicatorY)
	stretched["modified"] = "2026-01-10T11:00:00.000Z"
	push(t, charlie, alpha, stretched)
	if d := decide(t, alpha, indicatorY, "charlie"); d.Allowed {
		t.Fatalf("charlie's version of bravo's report stretched bravo's consent: %+v", d)
	}

	// bravo's own later version adds Y: the consent named the first.
	later := report(reportR, detente.MarkingGreen, indicatorX, indicatorY)
	later["modified"] = "2026-01-10T12:00:00.000Z"
	ingest(t, bravo, later)
	sync(t, alpha, "bravo")
	if d := decide(t, alpha, indicatorY, "charlie"); d.Allowed {
		t.Errorf("a later version of the report stretched the consent: %+v", d)
	}
	if d := decide(t, alpha, indicatorX, "charlie"); !d.Allowed {
		t.Errorf("the consented version's member no longer goes to charlie: %+v", d)
	}
}

// TestNoMembershipOracle: what charlie is told of what it pushes does not
// depend on whether alpha held the id or the version.
func TestNoMembershipOracle(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, nil)
	ingest(t, alpha, indicator(red, detente.MarkingRed, "held by alpha"), indicator(amber, detente.MarkingAmber, "held too"))

	heldLater := indicator(red, detente.MarkingGreen, "guess")
	heldLater["modified"] = "2026-01-12T10:00:00.000Z"
	heldSame := indicator(amber, detente.MarkingGreen, "guess, same version key") // conflicts with alpha's version
	notHeld := indicator(green, detente.MarkingGreen, "not held")
	notHeldRed := indicator(bravos, detente.MarkingRed, "not held, beyond the agreement")
	st := push(t, charlie, alpha, heldLater, heldSame, notHeld, notHeldRed)
	if st.SuccessCount != 4 || st.FailureCount != 0 {
		t.Fatalf("status: %+v", st)
	}
	for _, d := range st.Successes {
		if d.Message != "received" {
			t.Errorf("%s: %q tells charlie more than that it was received", d.ID, d.Message)
		}
	}
	// Alpha knows what happened.
	if got := version(t, alpha, red, "2026-01-12T10:00:00Z"); !strings.HasPrefix(got.Quarantine, detente.QuarantineForeign) {
		t.Errorf("foreign version: %q", got.Quarantine)
	}
	if o := holds(alpha, amber); o == nil || !strings.Contains(string(o.Raw), "held too") {
		t.Errorf("alpha's version replaced: %+v", o)
	}
}

// TestRelayKeepsProvenance: alpha passes bravo's indicator on to charlie,
// with bravo's consent, redacted by a granular marking. charlie attributes
// the copy to bravo and applies bravo's third-party rule, though alpha's
// own agreement with charlie permits onward sharing.
func TestRelayKeepsProvenance(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, map[string]any{"tlp_ceiling": "red"})
	linkTerms(t, alpha, charlie, map[string]any{"onward_sharing": detente.OnwardPermitted})
	ctx := context.Background()
	for _, x := range []*peer{bravo, charlie} {
		y := map[string]*peer{"bravo": charlie, "charlie": bravo}[x.Name]
		if _, err := x.AddPartner(ctx, y.Name, y.PublicKey(), ""); err != nil {
			t.Fatal(err)
		}
	}
	ind := indicator(indicatorY, detente.MarkingGreen, "bravo's indicator")
	ind["description"] = "source: a named informant"
	ind["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{"description"}}}
	ingest(t, bravo, ind)
	if _, err := bravo.Federation.IssueConsent(ctx, indicatorY, "charlie", detente.ConsentObject, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// bravo's agreement with alpha admits RED, so alpha holds the whole.
	sync(t, alpha, "bravo")
	if o := holds(alpha, indicatorY); o == nil || !strings.Contains(string(o.Raw), "informant") {
		t.Fatalf("alpha does not hold bravo's whole indicator: %+v", o)
	}
	sync(t, charlie, "alpha")
	got := holds(charlie, indicatorY)
	if got == nil {
		t.Fatal("the redacted copy did not reach charlie")
	}
	if strings.Contains(string(got.Raw), "informant") {
		t.Fatal("the redacted property reached charlie")
	}
	if got.Originator != "bravo" || !got.Origin.Equal(bravo.PublicKey()) || !got.Signer.Equal(alpha.PublicKey()) {
		t.Errorf("at charlie: originator %q origin %v signer %v; want bravo's, relayed by alpha", got.Originator, got.Origin, got.Signer)
	}
	o, _ := stix.ParseObject(got.Raw)
	r, ok := o.RelayOf()
	if !ok || !r.Origin.Equal(bravo.PublicKey()) || len(r.SHA256) != 64 {
		t.Errorf("relay statement: %+v %v", r, ok)
	}
	// charlie may pass on what alpha originates (permitted), but this is
	// bravo's: bravo's third-party rule holds, and bravo consented to
	// charlie, not to delta.
	delta := startPeer(t, "delta")
	linkTerms(t, charlie, delta, map[string]any{"onward_sharing": detente.OnwardPermitted})
	d := decide(t, charlie, indicatorY, "delta")
	if d.Allowed || !strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonThirdPartyRule) {
		t.Errorf("charlie passes bravo's object on to delta: %+v", d)
	}
	// Sent back to bravo, the copy is bravo's own.
	if d := decide(t, charlie, indicatorY, "bravo"); strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonOriginatorUnknown) {
		t.Errorf("charlie cannot establish the originator of the relayed copy: %+v", d)
	}
}

// TestOpaqueCursor: walking with limit=1, bravo learns nothing from next
// of the objects it may not see between those it may, and another partner
// cannot use bravo's next.
func TestOpaqueCursor(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	var objs []map[string]any
	for i := range 6 {
		marking := detente.MarkingGreen
		if i%2 == 1 {
			marking = detente.MarkingRed // withheld from bravo, between the others
		}
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-0000000001%02d", i), marking, "x"))
	}
	ingest(t, alpha, objs...)
	hc, _ := bravo.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	c := &taxii.Client{HTTP: hc, BaseURL: alpha.srv.URL() + "/taxii2/api/"}
	ctx := context.Background()
	var nexts []string
	next := ""
	for {
		p, err := c.Objects(ctx, node.CollectionShared, taxii.Filter{Types: []string{"indicator"}, Limit: 1}, next)
		if err != nil {
			t.Fatal(err)
		}
		if !p.More {
			break
		}
		nexts = append(nexts, p.Next)
		next = p.Next
	}
	if len(nexts) != 2 {
		t.Fatalf("walk: %d next values, want 2 (three objects)", len(nexts))
	}
	for _, n := range nexts {
		raw, _ := base64.RawURLEncoding.DecodeString(n)
		for seq := uint64(1); seq < 100; seq++ { // store positions, and view positions (after the definitions)
			if bytes.Contains(raw, binary.BigEndian.AppendUint64(nil, seq)) {
				t.Errorf("next %q holds store position %d in the clear", n, seq)
			}
		}
	}
	// charlie replays bravo's next: refused.
	hc2, _ := charlie.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	resp, err := hc2.Get(alpha.srv.URL() + "/taxii2/api/collections/" + node.CollectionShared + "/objects/?limit=1&next=" + nexts[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("charlie used bravo's next: %s", resp.Status)
	}
}

// TestOneObjectDoesNotBlockTheFeed: an object whose projection for bravo
// would be invalid (the only URL of an external reference is RED) is
// withheld from bravo alone; bravo's pages and sync go on, bravo sees no
// detail, alpha records why, and ingest warned about it.
func TestOneObjectDoesNotBlockTheFeed(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkTerms(t, alpha, bravo, nil)
	bad := indicator(amber, detente.MarkingGreen, "cites a protected URL")
	bad["external_references"] = []map[string]any{{"source_name": "internal", "url": "https://intranet.alpha.example/case/77"}}
	bad["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{"external_references.[0].url"}}}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
		"objects": []any{indicator(green, detente.MarkingGreen, "before"), bad, indicator(bravos, detente.MarkingGreen, "after")}})
	res, err := alpha.Ingest(context.Background(), b, node.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], amber) || !strings.Contains(res.Warnings[0], "bravo") {
		t.Errorf("ingest warnings: %q", res.Warnings)
	}
	r := sync(t, bravo, "alpha")
	if r.Added != 2 || holds(bravo, green) == nil || holds(bravo, bravos) == nil || holds(bravo, amber) != nil {
		t.Fatalf("bravo's sync: %+v", r)
	}
	// The page itself answers 200 with no trace of the withheld object.
	hc, _ := bravo.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	resp, err := hc.Get(alpha.srv.URL() + "/taxii2/api/collections/" + node.CollectionShared + "/objects/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), amber) || strings.Contains(string(body), "intranet") {
		t.Errorf("page: %s %s", resp.Status, body)
	}
	// release check says what release would do (the red team found it
	// saying allowed while release withheld the object).
	if d := decide(t, alpha, amber, "bravo"); d.Allowed || !strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonProjectionInvalid) {
		t.Errorf("release check of the invalid projection: %+v", d)
	}
	rel, err := alpha.Release(context.Background(), amber, "bravo")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Decision.Allowed || len(rel.Bundle) != 0 || !strings.Contains(fmt.Sprint(rel.Decision.Reasons), detente.ReasonProjectionInvalid) {
		t.Errorf("release of the invalid projection: %+v", rel.Decision)
	}
	var rs []*detente.Release
	ctx := context.Background()
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) {
		rs, err = tx.Releases(ctx, detente.ReleaseFilter{Object: amber, Partner: "bravo"})
		return
	})
	withheld := false
	for _, r := range rs {
		if !r.Allowed && strings.Contains(fmt.Sprint(r.Reasons), detente.ReasonProjectionInvalid) {
			withheld = true
		}
	}
	if !withheld {
		t.Errorf("alpha recorded no withheld release: %+v", rs)
	}
	// bravo's release receipts (the log entries about it) say nothing of it.
	var events []*detente.Event
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) {
		events, err = tx.Events(ctx, detente.EventFilter{Partner: "bravo", Type: detente.EventRelease})
		return
	})
	for _, e := range events {
		var b struct {
			Allowed bool `json:"allowed"`
		}
		json.Unmarshal(e.Body, &b)
		if b.Allowed && (strings.Contains(string(e.Body), "withheld") || strings.Contains(string(e.Body), detente.ReasonProjectionInvalid)) {
			t.Errorf("a release entry about bravo tells of what was withheld: %s", e.Body)
		}
	}
}

// TestEdges: timestamps that cannot be stored or lie in the future, an
// upper-case spelling of a held id, and cleartext partner URLs.
func TestEdges(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, nil)
	ctx := context.Background()
	bundle := func(objs ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs})
		return b
	}

	far := indicator(green, detente.MarkingGreen, "from the year 9999")
	far["modified"] = "9999-12-31T23:59:59.000Z"
	if _, err := alpha.Ingest(ctx, bundle(far), node.IngestOptions{}); detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "stored exactly") {
		t.Errorf("ingest of modified 9999: %v", err)
	}
	future := indicator(green, detente.MarkingGreen, "dated tomorrow and a half")
	future["modified"] = time.Now().UTC().Add(36 * time.Hour).Format("2006-01-02T15:04:05.000Z")
	if _, err := alpha.Ingest(ctx, bundle(future), node.IngestOptions{}); detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("ingest of modified 36h ahead: %v", err)
	}
	st := push(t, charlie, alpha, future)
	if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "in the future") {
		t.Errorf("push of modified 36h ahead: %+v", st)
	}
	soon := indicator(green, detente.MarkingGreen, "an hour ahead: a partner's clock")
	soon["modified"] = time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05.000Z")
	if _, err := alpha.Ingest(ctx, bundle(soon), node.IngestOptions{}); err != nil {
		t.Errorf("ingest of modified 1h ahead: %v", err)
	}

	// One id, two spellings: the upper-case one is the same object.
	ingest(t, alpha, indicator(red, detente.MarkingRed, "alpha's"))
	upper := "indicator--" + strings.ToUpper(red[len("indicator--"):])
	shout := indicator(upper, detente.MarkingGreen, "charlie's, in capitals")
	shout["modified"] = "2026-01-13T10:00:00.000Z"
	push(t, charlie, alpha, shout)
	var vs []*detente.ObjectVersion
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) { vs, err = tx.ObjectVersions(ctx, red); return })
	if len(vs) != 2 || !strings.HasPrefix(vs[1].Quarantine, detente.QuarantineForeign) {
		t.Fatalf("versions of the id under both spellings: %+v", vs)
	}
	if !strings.Contains(string(vs[1].Raw), upper) {
		t.Errorf("the upper-case object lost its bytes")
	}
	if o := holds(alpha, upper); o == nil || o.Originator != detente.OriginSelf {
		t.Errorf("lookup by the upper-case spelling: %+v", o)
	}

	// A partner named "self", or this node's own name, would pass for it.
	for _, name := range []string{"self", "alpha"} {
		if _, err := alpha.AddPartner(ctx, name, charlie.PublicKey(), ""); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("partner named %q: %v", name, err)
		}
	}

	// Partners talk over mutual TLS only.
	for _, u := range []string{"http://bravo.example:8443", "notaurl", "https://user:pw@bravo.example", "ftp://bravo.example"} {
		if _, err := alpha.AddPartner(ctx, "bravo", charlie.PublicKey(), u); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("partner URL %q: %v", u, err)
		}
	}
}

// The tests below come from a red-team pass on the running binary, after
// the fixes above: each is a hole next to one of them.

// TestRelayCannotDesignate: charlie relays a "copy" of bravo's designation
// that delists one of bravo's entries; bravo's list at alpha stays as bravo
// shared it.
func TestRelayCannotDesignate(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	ctx := context.Background()
	d := detente.Designation{Authority: "bravo", EntityID: "EST-2025-01", Type: detente.EntityOrganization,
		Names: []detente.DesignationName{{Name: "Sons of the Tide", Kind: detente.NameKindPrimary}}}
	raw, err := lists.ToSTIX(d, detente.MarkingGreen, time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	json.Unmarshal(raw, &obj)
	ingest(t, bravo, obj)
	sync(t, alpha, "bravo")
	if got := listState(t, alpha, "bravo"); got != "1 active, 0 delisted" {
		t.Fatalf("bravo's list at alpha: %s", got)
	}

	d.DelistedOn = "2026-12-01"
	forged, _ := lists.ToSTIX(d, detente.MarkingGreen, time.Date(2026, 1, 11, 10, 0, 0, 0, time.UTC))
	var f map[string]any
	json.Unmarshal(forged, &f)
	f["id"] = "identity--00000000-0000-4000-8000-0000000000d1" // a fresh id: no owner to be foreign to
	fb, _ := json.Marshal(f)
	relayed, err := stix.SignRelayed(fb, charlie.Key, detente.Grading{}, stix.Relay{Origin: bravo.PublicKey(), SHA256: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	pushRaw(t, charlie, alpha, relayed)
	if got := listState(t, alpha, "bravo"); got != "1 active, 0 delisted" {
		t.Errorf("after charlie's relayed delisting, bravo's list at alpha: %s", got)
	}
	hits, err := alpha.Screening.Screen(ctx, screen.Query{Name: "Sons of the Tide"}, 5)
	if err != nil || len(hits) == 0 {
		t.Errorf("screening no longer finds bravo's entry: %v, %v", hits, err)
	}
}

func listState(t testing.TB, p *peer, authority string) string {
	t.Helper()
	ls, err := p.Screening.Lists(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Authority == authority {
			return fmt.Sprintf("%d active, %d delisted", l.Active, l.Delisted)
		}
	}
	return "no list"
}

// TestVersionSquatting: charlie pushes to bravo a version of alpha's
// indicator on the version key alpha's revocation will have; alpha's
// revocation still arrives. And charlie's claim of an observable does not
// block alpha's own ingest of it, nor lower what alpha's own objects that
// reference it may release.
func TestVersionSquatting(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, bravo, charlie, nil)
	linkTerms(t, alpha, charlie, nil)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "alpha's"))
	sync(t, bravo, "alpha")

	squat := indicator(green, detente.MarkingGreen, "charlie's junk on alpha's next key")
	squat["modified"] = "2026-01-11T10:00:00.000Z"
	push(t, charlie, bravo, squat)
	revoked := indicator(green, detente.MarkingGreen, "alpha's")
	revoked["modified"], revoked["revoked"] = "2026-01-11T10:00:00.000Z", true
	ingest(t, alpha, revoked)
	sync(t, bravo, "alpha")
	if o := holds(bravo, green); o == nil || !o.Signer.Equal(alpha.PublicKey()) || !strings.Contains(string(o.Raw), `"revoked":true`) {
		t.Fatalf("bravo's current version of alpha's indicator after the squat: %+v", o)
	}

	// An observable charlie names first.
	const ip = "ipv4-addr--3aa8b8e3-3b0f-5a51-a4a7-1e9c0e3fbc3e"
	sco := func(marking string) map[string]any {
		return map[string]any{"type": "ipv4-addr", "spec_version": "2.1", "id": ip, "value": "198.51.100.7", "object_marking_refs": []string{marking}}
	}
	push(t, charlie, alpha, sco(detente.MarkingGreen))
	od := map[string]any{"type": "observed-data", "spec_version": "2.1", "id": "observed-data--00000000-0000-4000-8000-0000000000e1",
		"created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z", "first_observed": "2026-01-10T10:00:00Z",
		"last_observed": "2026-01-10T10:00:00Z", "number_observed": 1, "object_refs": []string{ip}, "object_marking_refs": []string{detente.MarkingGreen}}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []any{sco(detente.MarkingRed), od}})
	res, err := alpha.Ingest(context.Background(), b, node.IngestOptions{})
	if err != nil || res.Added != 2 || res.Quarantined != 0 {
		t.Fatalf("alpha's own ingest of an observable charlie named first: %+v, %v", res, err)
	}
	// alpha's observed-data cites alpha's own (RED) observation of the
	// value, not charlie's GREEN one: it does not go to bravo.
	if d := decide(t, alpha, "observed-data--00000000-0000-4000-8000-0000000000e1", "bravo"); d.Allowed {
		t.Errorf("alpha's observed-data citing its RED observable goes out through charlie's GREEN copy: %+v", d)
	}
}

// TestOwnObjectsGoBackAlone: charlie's reports naming ids alpha holds and
// withholds, and one alpha does not hold, all come back to charlie alike.
func TestOwnObjectsGoBackAlone(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, nil)
	ingest(t, alpha, indicator(red, detente.MarkingRed, "withheld from charlie"))
	probes := []map[string]any{
		report("report--00000000-0000-4000-8000-0000000000f1", detente.MarkingClear, red),
		report("report--00000000-0000-4000-8000-0000000000f2", detente.MarkingClear, "indicator--00000000-0000-4000-8000-0000000000ff"),
	}
	push(t, charlie, alpha, probes...)
	for _, p := range probes {
		d := decide(t, alpha, p["id"].(string), "charlie")
		if !d.Allowed || len(d.Closure) != 1 {
			t.Errorf("charlie's own %s going back: %+v", p["id"], d)
		}
	}
	// Nor does whether charlie's own object comes back say whether alpha
	// held its id: charlie's indicator under the id of alpha's RED one
	// (kept apart as a foreign version) comes back like one under a fresh
	// id.
	taken := indicator(red, detente.MarkingGreen, "charlie's, under alpha's id")
	taken["modified"] = "2026-01-12T10:00:00.000Z"
	fresh := indicator("indicator--00000000-0000-4000-8000-0000000000f9", detente.MarkingGreen, "charlie's, under a fresh id")
	push(t, charlie, alpha, taken, fresh)
	hc, _ := charlie.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	for _, id := range []string{red, fresh["id"].(string)} {
		resp, err := hc.Get(alpha.srv.URL() + "/taxii2/api/collections/" + node.CollectionShared + "/objects/" + id + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "charlie's") || strings.Contains(string(body), "withheld from charlie") {
			t.Errorf("charlie's own object under %s: %s %s", id, resp.Status, body)
		}
	}
}

// TestLogGrowthSaysNothing: what charlie pushes grows alpha's log by one
// entry per object whatever alpha held or decided; charlie reads the size
// from alpha's checkpoints.
func TestLogGrowthSaysNothing(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	linkTerms(t, bravo, charlie, nil)
	ingest(t, bravo, indicator(bravos, detente.MarkingGreen, "bravo's, shared with both"))
	sync(t, alpha, "bravo")
	sync(t, charlie, "bravo")
	ctx := context.Background()
	size := func() int64 {
		var n int64
		alpha.Store.View(ctx, func(tx detente.Tx) (err error) { n, err = tx.CountEvents(ctx); return })
		return n
	}
	held := holds(charlie, bravos) // bravo's exact bytes, which alpha holds too
	before := size()
	pushRaw(t, charlie, alpha, json.RawMessage(held.Raw))
	replay := size() - before
	before = size()
	push(t, charlie, alpha, indicator(green, detente.MarkingGreen, "fresh"))
	fresh := size() - before
	if replay != fresh {
		t.Errorf("log growth: %d for bytes alpha held, %d for fresh ones", replay, fresh)
	}
	// A designation on an id alpha holds from bravo (foreign, quarantined)
	// and on a new one (stored, designating) grow the log alike.
	d := detente.Designation{Authority: "charlie", EntityID: "C-1", Names: []detente.DesignationName{{Name: "Someone", Kind: detente.NameKindPrimary}}}
	raw, _ := lists.ToSTIX(d, detente.MarkingGreen, time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC))
	var owned, fresher map[string]any
	json.Unmarshal(raw, &owned)
	json.Unmarshal(raw, &fresher)
	owned["id"] = "identity--00000000-0000-4000-8000-0000000000c1"
	ingest(t, alpha, map[string]any{"type": "identity", "spec_version": "2.1", "id": "identity--00000000-0000-4000-8000-0000000000c1",
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "alpha's own", "identity_class": "organization"})
	before = size()
	push(t, charlie, alpha, owned)
	foreign := size() - before
	before = size()
	push(t, charlie, alpha, fresher)
	designating := size() - before
	if foreign != designating {
		t.Errorf("log growth: %d for a designation on an id alpha owns, %d on a new one", foreign, designating)
	}
}

// TestConsentIDSquatting: consents are keyed by (id, originator), so a
// partner's consent under another originator's consent id occupies
// nothing: not a revoked one (it cannot un-revoke it), not one still to
// come (the red team's charlie served its own consent under bravo's id
// before bravo's arrived, and bravo's was refused). A consent signed for
// an object its signer did not originate is refused, with an alert naming
// the signer. Every consent, added or refused, grows the log by one entry.
func TestConsentIDSquatting(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, bravo, charlie, nil)
	ctx := context.Background()
	if _, err := alpha.AddPartner(ctx, "charlie", charlie.PublicKey(), ""); err != nil {
		t.Fatal(err)
	}
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "alpha's"), indicator(amber, detente.MarkingGreen, "alpha's too"))
	c, err := alpha.Federation.IssueConsent(ctx, green, "charlie", detente.ConsentObject, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	if d := decide(t, bravo, green, "charlie"); !d.Allowed {
		t.Fatalf("before the revocation: %+v", d)
	}
	if err := alpha.Federation.RevokeConsent(ctx, c.ID, "operation compromised"); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	if d := decide(t, bravo, green, "charlie"); d.Allowed {
		t.Fatalf("after the revocation: %+v", d)
	}
	// charlie's consent, same id, its own object, not revoked: what
	// charlie's consents endpoint would serve bravo.
	charlies := "indicator--00000000-0000-4000-8000-0000000000c9"
	sign := func(id, object string) *detente.Consent {
		f := &detente.Consent{ID: id, Originator: charlie.PublicKey(), Recipient: charlie.PublicKey(),
			Object: object, Scope: detente.ConsentObject, Issued: c.Issued}
		f.Sign(charlie.Key)
		return f
	}
	before := logSize(t, bravo)
	for range 3 {
		if err := bravo.Federation.AddConsent(ctx, sign(c.ID, charlies)); err != nil {
			t.Errorf("charlie's consent under alpha's id: %v", err)
		}
	}
	if d := decide(t, bravo, green, "charlie"); d.Allowed {
		t.Errorf("charlie un-revoked alpha's consent at bravo: %+v", d)
	}
	if got := logSize(t, bravo); got != before+1 {
		t.Errorf("charlie's consent grew bravo's log by %d, want 1", got-before)
	}

	// charlie squats the id of a consent alpha has yet to issue: alpha's,
	// arriving later, is stored and counts.
	const nextID = "consent--00000000-0000-4000-8000-0000000000cb"
	if err := bravo.Federation.AddConsent(ctx, sign(nextID, charlies)); err != nil {
		t.Fatal(err)
	}
	genuine := &detente.Consent{ID: nextID, Originator: alpha.PublicKey(), Recipient: charlie.PublicKey(),
		Object: amber, Scope: detente.ConsentObject, Issued: c.Issued}
	genuine.Sign(alpha.Key)
	if err := bravo.Federation.AddConsent(ctx, genuine); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, bravo, amber, "charlie"); !d.Allowed {
		t.Errorf("alpha's consent after charlie squatted its id: %+v", d)
	}

	// A consent for an object its signer did not originate is refused,
	// once, with an alert naming the signer, and one log entry.
	before = logSize(t, bravo)
	for range 3 {
		if err := bravo.Federation.AddConsent(ctx, sign("consent--00000000-0000-4000-8000-0000000000cc", amber)); err != nil {
			t.Fatal(err)
		}
	}
	if got := logSize(t, bravo); got != before+1 {
		t.Errorf("a refused consent grew bravo's log by %d, want 1", got-before)
	}
	groups, err := bravo.AlertGroups(ctx, 10)
	found := false
	for _, g := range groups {
		for _, a := range g.Latest {
			found = found || strings.Contains(a.Message, "signed by charlie refused: it names an object charlie did not originate")
		}
	}
	if err != nil || !found {
		t.Errorf("no alert naming charlie for the refused consent: %v", err)
	}
	cs, err := bravo.Federation.Consents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cs {
		if k.Object == amber && k.Originator.Equal(charlie.PublicKey()) {
			t.Errorf("charlie's consent for alpha's object is listed: %+v", k)
		}
	}
}

func logSize(t testing.TB, p *peer) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	if err := p.Store.View(ctx, func(tx detente.Tx) (err error) { n, err = tx.CountEvents(ctx); return }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRetiredKey: alpha re-pins bravo to a new key (the old one leaked).
// A version signed with the old key, forwarded by charlie, changes nothing
// of bravo's objects; the new key's versions are bravo's; the old key can
// be pinned to no partner.
func TestRetiredKey(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkTerms(t, alpha, bravo, nil)
	linkTerms(t, alpha, charlie, nil)
	ctx := context.Background()
	ingest(t, bravo, indicator(bravos, detente.MarkingGreen, "bravo's"))
	sync(t, alpha, "bravo")
	old := bravo.Key
	_, fresh, _ := ed25519.GenerateKey(nil)
	newKey := detente.PublicKey(fresh.Public().(ed25519.PublicKey))
	if _, err := alpha.UpdatePartner(ctx, "bravo", node.PartnerChange{Key: newKey}, "key leaked"); err != nil {
		t.Fatal(err)
	}
	forged := indicator(bravos, detente.MarkingGreen, "bravo's")
	forged["modified"], forged["revoked"], forged["description"] = "2026-01-11T10:00:00.000Z", true, "withdrawn: source burned"
	raw, _ := json.Marshal(forged)
	signedOld, err := stix.Sign(raw, old, detente.Grading{Reliability: 'B', Credibility: 2})
	if err != nil {
		t.Fatal(err)
	}
	pushRaw(t, charlie, alpha, signedOld)
	if o := holds(alpha, bravos); o == nil || strings.Contains(string(o.Raw), "burned") {
		t.Errorf("a version signed with bravo's retired key is current at alpha: %+v", o)
	}
	got := version(t, alpha, bravos, "2026-01-11T10:00:00Z")
	if !strings.HasPrefix(got.Quarantine, detente.QuarantineForeign) {
		t.Errorf("the retired key's version: quarantine %q", got.Quarantine)
	}
	renewed := indicator(bravos, detente.MarkingGreen, "bravo's, under its new key")
	renewed["modified"] = "2026-01-12T10:00:00.000Z"
	raw, _ = json.Marshal(renewed)
	signedNew, _ := stix.Sign(raw, fresh, detente.Grading{Reliability: 'B', Credibility: 2})
	pushRaw(t, charlie, alpha, signedNew)
	if o := holds(alpha, bravos); o == nil || !strings.Contains(string(o.Raw), "new key") || o.Originator != "bravo" {
		t.Errorf("bravo's version under its new key: %+v", o)
	}
	if _, err := alpha.AddPartner(ctx, "mallory", detente.PublicKey(old.Public().(ed25519.PublicKey)), ""); detente.ErrorCode(err) != detente.EEXISTS {
		t.Errorf("a partner pinned to bravo's retired key: %v", err)
	}

	// An id nobody holds yet, signed with the retired key, owns nothing
	// on any path: handed to alpha by a local tool (red team: it was
	// stored unquarantined and owned the id), or pushed by charlie.
	for i, path := range []string{"ingest", "push"} {
		id := fmt.Sprintf("indicator--00000000-0000-4000-8000-0000000000f%d", i)
		made := indicator(id, detente.MarkingGreen, "made by the key's thief")
		raw, _ := json.Marshal(made)
		signed, err := stix.Sign(raw, old, detente.Grading{Reliability: 'B', Credibility: 2})
		if err != nil {
			t.Fatal(err)
		}
		if path == "ingest" {
			if _, err := alpha.Ingest(ctx, signed, node.IngestOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			pushRaw(t, charlie, alpha, signed)
		}
		got := version(t, alpha, id, "2026-01-10T10:00:00Z")
		if !strings.HasPrefix(got.Quarantine, detente.QuarantineForeign) || !strings.Contains(got.Quarantine, "retired key") {
			t.Errorf("%s: a new id signed with bravo's retired key: quarantine %q", path, got.Quarantine)
		}
		// The thief's version claimed nothing (retest: it owned the id, so
		// bravo's genuine version under its new key was foreign).
		genuine := indicator(id, detente.MarkingGreen, "bravo's own, under its new key")
		genuine["modified"] = "2026-01-12T10:00:00.000Z"
		raw, _ = json.Marshal(genuine)
		signedNew, _ := stix.Sign(raw, fresh, detente.Grading{Reliability: 'B', Credibility: 2})
		pushRaw(t, charlie, alpha, signedNew)
		if o := holds(alpha, id); o == nil || o.Quarantine != "" || o.Originator != "bravo" || !strings.Contains(string(o.Raw), "new key") {
			t.Errorf("%s: bravo's genuine version after the thief's: %+v", path, o)
		}
	}
}

// TestNoOracleThroughSameVersionKey: a partner's version that shares an id
// and a modified time with one this node holds (every observable of the
// same value has no modified at all; an SDO can copy the owner's) is a
// version of its own. What comes back to the partner, and the manifest it
// reads, must not depend on whether the node held the other version: the
// red team found a withheld RED observation made charlie's own one 404,
// and a later-held one appear as a second record in charlie's manifest.
func TestNoOracleThroughSameVersionKey(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, map[string]any{"types": append(append([]string{}, intel...), "ipv4-addr")})
	ip := func(id, value, marking string) map[string]any {
		return map[string]any{"type": "ipv4-addr", "spec_version": "2.1", "id": id, "value": value, "object_marking_refs": []string{marking}}
	}
	const (
		heldIP   = "ipv4-addr--00000000-0000-5000-8000-0000000000c1"
		freshIP  = "ipv4-addr--00000000-0000-5000-8000-0000000000c2"
		freshInd = "indicator--00000000-0000-4000-8000-0000000000c3"
	)
	ingest(t, alpha, ip(heldIP, "198.18.0.1", detente.MarkingRed), indicator(red, detente.MarkingRed, "alpha's secret"))

	push(t, charlie, alpha,
		ip(heldIP, "198.18.0.1", detente.MarkingGreen), ip(freshIP, "198.18.0.2", detente.MarkingGreen),
		indicator(red, detente.MarkingGreen, "charlie's, same version key"),
		indicator(freshInd, detente.MarkingGreen, "charlie's, fresh"))
	hc, _ := charlie.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	get := func(path string) (int, string) {
		resp, err := hc.Get(alpha.srv.URL() + "/taxii2/api/collections/" + node.CollectionShared + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, id := range []string{heldIP, freshIP, red, freshInd} {
		for _, path := range []string{"/objects/" + id + "/", "/objects/" + id + "/versions/", "/manifest/?match[id]=" + id + "&match[version]=all"} {
			status, body := get(path)
			if status != http.StatusOK {
				t.Errorf("charlie's own %s: %s answers %d: %s", id, path, status, body)
				continue
			}
			if strings.Contains(body, "alpha's secret") || strings.Contains(body, detente.MarkingRed) {
				t.Errorf("%s: alpha's withheld version shows: %s", path, body)
			}
			if strings.Contains(path, "/manifest/") && strings.Count(body, `"date_added"`) != 1 {
				t.Errorf("%s: want one record, charlie's: %s", path, body)
			}
		}
	}
	// Alpha's own analysts see alpha's version of an observable, whoever
	// named the value first.
	const laterIP = "ipv4-addr--00000000-0000-5000-8000-0000000000c4"
	push(t, charlie, alpha, ip(laterIP, "198.18.0.4", detente.MarkingGreen))
	ingest(t, alpha, ip(laterIP, "198.18.0.4", detente.MarkingRed))
	for _, id := range []string{heldIP, laterIP} {
		if o, err := alpha.CurrentObject(context.Background(), id); err != nil || !strings.Contains(string(o.Raw), detente.MarkingRed) {
			t.Errorf("alpha's current %s is not its own: %+v", id, o)
		}
	}
}

// TestOwnProjectionComesBackUnchanged: bravo releases alpha a projection
// of its indicator (a granular RED part removed, re-signed by bravo);
// alpha's view gives bravo its own object back. Bravo counts it as
// unchanged: the red team saw it refused as a conflicting version, with an
// alert and "1 rejected", on every pull.
func TestOwnProjectionComesBackUnchanged(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkTerms(t, alpha, bravo, nil)
	ind := indicator(bravos, detente.MarkingGreen, "bravo's indicator")
	ind["description"] = "source: a named informant"
	ind["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{"description"}}}
	ingest(t, bravo, ind)
	sync(t, alpha, "bravo")
	if o := holds(alpha, bravos); o == nil || strings.Contains(string(o.Raw), "informant") {
		t.Fatalf("alpha holds %+v, want bravo's projection", o)
	}
	for range 2 {
		if r := sync(t, bravo, "alpha"); r.Rejected != 0 || r.Quarantined != 0 {
			t.Errorf("bravo's own projection coming back: %+v", r)
		}
	}
	if o := holds(bravo, bravos); o == nil || !strings.Contains(string(o.Raw), "informant") {
		t.Errorf("bravo's current version is no longer its whole one: %+v", o)
	}
	groups, err := bravo.AlertGroups(context.Background(), 10)
	if err != nil || len(groups) != 0 {
		t.Errorf("alerts at bravo: %+v, %v", groups, err)
	}
}

// TestJunkCannotGrowTheLog: the red team grew alpha's log by 30,000
// permanent entries with one push of unsigned objects. What the bytes
// alone decide (unsigned, malformed, predefined TLP) is one entry per
// batch, and one alert per partner.
func TestJunkCannotGrowTheLog(t *testing.T) {
	alpha, charlie := startPeer(t, "alpha"), startPeer(t, "charlie")
	linkTerms(t, alpha, charlie, nil)
	var raws []json.RawMessage
	for i := range 2000 {
		o := indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012x", 0xd0000+i), detente.MarkingGreen, "unsigned")
		raw, _ := json.Marshal(o)
		raws = append(raws, raw)
	}
	before := logSize(t, alpha)
	st := pushRaw(t, charlie, alpha, raws...)
	if st.FailureCount != len(raws) {
		t.Fatalf("status: %d failures, want %d", st.FailureCount, len(raws))
	}
	if got := logSize(t, alpha); got != before+1 {
		t.Errorf("a batch of %d rejected objects grew the log by %d, want 1", len(raws), got-before)
	}
	as, err := alpha.Alerts(context.Background(), 100)
	if err != nil || len(as) != 1 || !strings.Contains(as[0].Message, "2000 object(s) from charlie rejected") {
		t.Errorf("alerts: %d, %v", len(as), err)
	}
}

// TestObjectMarkingsNeverRedacted: a granular marking that covers the
// object's own markings (red team: charlie received alpha's GREEN
// indicator with no marking at all) makes the projection invalid: the
// object is withheld from bravo, and ingest warned.
func TestObjectMarkingsNeverRedacted(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkTerms(t, alpha, bravo, nil)
	const id = "indicator--0e6a57c4-7b0d-4c1e-9d8a-3f2b1c0d9e8f"
	for _, sel := range []string{"object_marking_refs", "object_marking_refs.[0]"} {
		o := indicator(id, detente.MarkingGreen, "markings under a RED marking: "+sel)
		o["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{sel}}}
		if sel != "object_marking_refs" {
			o["modified"] = "2026-01-11T10:00:00.000Z"
		}
		b, _ := json.Marshal(o)
		res, err := alpha.Ingest(context.Background(), b, node.IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "bravo") {
			t.Errorf("%s: ingest warnings %q", sel, res.Warnings)
		}
		if d := decide(t, alpha, id, "bravo"); d.Allowed || !strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonProjectionInvalid) {
			t.Errorf("%s: release check %+v", sel, d)
		}
	}
	if r := sync(t, bravo, "alpha"); holds(bravo, id) != nil {
		t.Errorf("bravo received the object: %+v", r)
	}
}

// TestBindingCaveatNeverDropped: a third-party-rule caveat whose own
// definition is withheld from bravo (a RED granular marking on its
// caveat) keeps the indicator that carries it from bravo too (retest: the
// view dropped the reference, re-signed the indicator and served it, so
// bravo received it free of the rule). A control indicator with a plain
// caveat arrives with both its markings.
func TestBindingCaveatNeverDropped(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkTerms(t, alpha, bravo, nil)
	const (
		hiddenDef = "marking-definition--c84b8e63-de2c-48c1-b441-c4e35034b83c"
		plainDef  = "marking-definition--7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
		bound     = "indicator--00000021-8888-4888-8888-888888888888"
		control   = "indicator--00000022-8888-4888-8888-888888888888"
		ext       = "extension-definition--4d0f6b1e-8d3f-4c7a-9a55-1f2c9f3d7e01"
	)
	def := func(id string, granular bool) map[string]any {
		m := map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": id, "created": "2026-01-09T10:00:00.000Z",
			"name":       "detente caveat: third-party-rule",
			"extensions": map[string]any{ext: map[string]any{"extension_type": "property-extension", "caveat": "third-party-rule"}}}
		if granular {
			m["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{"extensions." + ext + ".caveat"}}}
		}
		return m
	}
	withCaveat := func(id, def string) map[string]any {
		o := indicator(id, detente.MarkingGreen, "under the third-party rule")
		o["object_marking_refs"] = []string{detente.MarkingGreen, def}
		return o
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000021-8888-4888-8888-888888888889",
		"objects": []any{def(hiddenDef, true), def(plainDef, false), withCaveat(bound, hiddenDef), withCaveat(control, plainDef)}})
	if _, err := alpha.Ingest(context.Background(), b, node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	if o := holds(bravo, bound); o != nil {
		t.Errorf("bravo holds the indicator without its caveat: markings %v", o.Markings)
	}
	if o := holds(bravo, control); o == nil || !slices.Contains(o.Markings, plainDef) {
		t.Errorf("the control indicator at bravo: %+v", o)
	}
	if d := decide(t, alpha, bound, "bravo"); d.Allowed {
		t.Errorf("release check of the bound indicator: %+v", d)
	}
}
