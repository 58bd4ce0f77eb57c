package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/federation"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/screen"
	"detente/internal/screening"
	"detente/internal/server"
	"detente/internal/stix"
	"detente/internal/taxii"
)

// peer is one real node serving on loopback.
type peer struct {
	*node.Node
	srv *server.Server
	dir string
}

func startPeer(t testing.TB, name string) *peer {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := nodetest.Init(ctx, dir, name); err != nil {
		t.Fatal(err)
	}
	return openPeer(t, dir, "127.0.0.1:0")
}

func openPeer(t testing.TB, dir, addr string) *peer {
	t.Helper()
	n, err := nodetest.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{Node: n, dir: dir, srv: server.New(n, nil, server.Options{})}
	if err := p.srv.Listen(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *peer) stop() {
	if p.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p.srv.Shutdown(ctx)
		cancel()
		p.Node.Close()
		p.srv = nil
	}
}

// link makes a and b partners with an agreement on each side.
func link(t testing.TB, a, b *peer, ceiling string, types ...string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, pair := range [][2]*peer{{a, b}, {b, a}} {
		x, y := pair[0], pair[1]
		if _, err := x.AddPartner(ctx, y.Name, y.PublicKey(), y.srv.URL()); err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(map[string]any{"partner": y.Name, "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
			"tlp_ceiling": ceiling, "types": types, "onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"})
		ag, err := detente.ParseAgreement(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.AddAgreement(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
}

var intel = []string{"indicator", "report", "threat-actor", "identity", "relationship", "marking-definition"}

func indicator(id, marking, name string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": name, "pattern": "[user-account:account_login = 'x']",
		"pattern_type": "stix", "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": []string{marking}}
}

func ingest(t testing.TB, p *peer, objs ...map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs})
	if _, err := p.Ingest(context.Background(), b, node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}}); err != nil {
		t.Fatal(err)
	}
}

func sync(t *testing.T, p *peer, from string) *federation.SyncResult {
	t.Helper()
	r, err := p.Federation.Sync(context.Background(), from, nil)
	if err != nil {
		t.Fatalf("%s syncs from %s: %v", p.Name, from, err)
	}
	return r
}

// holds reports whether p holds object id (not quarantined).
func holds(p *peer, id string) *detente.ObjectVersion {
	ctx := context.Background()
	var o *detente.ObjectVersion
	p.Store.View(ctx, func(tx detente.Tx) (err error) { o, err = tx.Object(ctx, id); return })
	return o
}

const (
	green  = "indicator--00000000-0000-4000-8000-000000000001"
	red    = "indicator--00000000-0000-4000-8000-000000000002"
	amber  = "indicator--00000000-0000-4000-8000-000000000003"
	bravos = "indicator--00000000-0000-4000-8000-000000000004"
)

// TestThreeNodes: alpha, bravo and charlie on loopback. alpha shares with
// bravo (AMBER) and bravo with charlie (AMBER); alpha and charlie have no
// agreement. What alpha originates reaches charlie through bravo only with
// alpha's consent, with alpha's signature intact; TLP:RED reaches no one.
func TestThreeNodes(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	link(t, alpha, bravo, "amber", intel...)
	link(t, bravo, charlie, "amber", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "propaganda channel"), indicator(red, detente.MarkingRed, "protected source"),
		indicator(amber, detente.MarkingAmber, "donation wallet"))
	ingest(t, bravo, indicator(bravos, detente.MarkingGreen, "bravo's own"))

	r := sync(t, bravo, "alpha")
	if r.Added != 2 || r.Quarantined != 0 || r.Rejected != 0 {
		t.Fatalf("bravo from alpha: %+v", r)
	}
	if holds(bravo, green) == nil || holds(bravo, amber) == nil || holds(bravo, red) != nil {
		t.Fatal("bravo holds the wrong objects")
	}
	got := holds(bravo, green)
	if got.Originator != "alpha" || !got.Signer.Equal(alpha.PublicKey()) || got.Grading.String() != "B2" {
		t.Errorf("at bravo: originator %q signer %v grading %v", got.Originator, got.Signer, got.Grading)
	}
	// Nothing new: a second pass adds nothing.
	if r := sync(t, bravo, "alpha"); r.Added != 0 {
		t.Errorf("second pass added %d", r.Added)
	}

	// charlie pulls from bravo: bravo's own object, not alpha's (third-party rule).
	r = sync(t, charlie, "bravo")
	if holds(charlie, bravos) == nil || holds(charlie, green) != nil || holds(charlie, amber) != nil || holds(charlie, red) != nil {
		t.Fatalf("charlie after first pull: %+v", r)
	}
	d, _ := bravo.CheckRelease(context.Background(), green, "charlie")
	if d.Allowed || !strings.Contains(fmt.Sprint(d.Reasons), detente.ReasonThirdPartyRule) {
		t.Errorf("bravo→charlie decision: %+v", d)
	}

	// alpha consents to charlie receiving the green indicator. A consent
	// names its recipient by key, so alpha must know charlie's key; it
	// needs no agreement (and no URL) with charlie for that.
	if _, err := alpha.AddPartner(context.Background(), "charlie", charlie.PublicKey(), ""); err != nil {
		t.Fatal(err)
	}
	consent, err := alpha.Federation.IssueConsent(context.Background(), green, "charlie", detente.ConsentObject, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha") // fetches the consent
	sync(t, charlie, "bravo")
	got = holds(charlie, green)
	if got == nil {
		t.Fatal("consented object did not reach charlie")
	}
	if !got.Signer.Equal(alpha.PublicKey()) {
		t.Errorf("alpha's signature did not travel unchanged: signer %v", got.Signer)
	}
	if signer, signed, err := stix.Verify(got.Raw); err != nil || !signed || !signer.Equal(alpha.PublicKey()) {
		t.Errorf("at charlie the object does not verify as alpha's: %v", err)
	}
	if holds(charlie, amber) != nil || holds(charlie, red) != nil {
		t.Error("unconsented or RED objects reached charlie")
	}

	// alpha revokes: once bravo has synced, bravo may no longer pass it on.
	if err := alpha.Federation.RevokeConsent(context.Background(), consent.ID, "operation compromised"); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	if d, _ := bravo.CheckRelease(context.Background(), green, "charlie"); d.Allowed {
		t.Error("bravo may still pass on alpha's object after the consent was revoked")
	}
	if err := bravo.Federation.RevokeConsent(context.Background(), consent.ID, "not mine"); detente.ErrorCode(err) != detente.EFORBIDDEN {
		t.Errorf("a holder revoked the originator's consent: %v", err)
	}

	// Every release is recorded at the releasing node.
	var rel []*detente.Release
	bravo.Store.View(context.Background(), func(tx detente.Tx) (err error) {
		rel, err = tx.Releases(context.Background(), detente.ReleaseFilter{Partner: "charlie"})
		return
	})
	if len(rel) < 2 {
		t.Errorf("bravo recorded %d releases to charlie", len(rel))
	}
}

// TestPartnerAuthentication: a node presenting an unknown key, or a key
// other than the pinned one, gets nothing; a suspended partner gets
// nothing.
func TestPartnerAuthentication(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "x"))
	ctx := context.Background()

	// An impostor with its own key, whom alpha does not know.
	mallory := startPeer(t, "mallory")
	if _, err := mallory.AddPartner(ctx, "alpha", alpha.PublicKey(), alpha.srv.URL()); err != nil {
		t.Fatal(err)
	}
	if r, err := mallory.Federation.Sync(ctx, "alpha", nil); err == nil || holds(mallory, green) != nil {
		t.Fatalf("unknown node synced: %+v", r)
	}

	// bravo pins a wrong key for alpha: the TLS handshake fails.
	wrong, _, _ := ed25519.GenerateKey(nil)
	p := &detente.Partner{Name: "alpha", Key: detente.PublicKey(wrong), URL: alpha.srv.URL(), State: detente.PartnerActive}
	hc, err := bravo.PartnerClient(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(alpha.srv.URL() + "/taxii2/"); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("wrong pinned key: %v", err)
	}

	// Suspended: alpha suspends bravo; bravo's pull gets nothing.
	if _, err := alpha.SetPartnerState(ctx, "bravo", detente.PartnerSuspended, "review"); err != nil {
		t.Fatal(err)
	}
	if _, err := bravo.Federation.Sync(ctx, "alpha", nil); err == nil || holds(bravo, green) != nil {
		t.Error("suspended partner synced")
	}
	if _, err := alpha.SetPartnerState(ctx, "bravo", detente.PartnerActive, "review over"); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	if holds(bravo, green) == nil {
		t.Error("resumed partner did not sync")
	}
}

// TestIngressFaults: a partner pushing a tampered object, an unsigned one,
// and TLP:RED beyond its agreement.
func TestIngressFaults(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	ctx := context.Background()
	pc, _ := bravo.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	client := &taxii.Client{HTTP: pc, BaseURL: alpha.srv.URL() + "/taxii2/api/"}

	sign := func(o map[string]any) json.RawMessage {
		raw, _ := json.Marshal(o)
		s, err := stix.Sign(raw, bravo.Key, detente.Grading{Reliability: 'C', Credibility: 3})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(indicator(green, detente.MarkingGreen, "fine"))
	redObj := sign(indicator(red, detente.MarkingRed, "beyond the agreement"))
	var tampered map[string]any
	json.Unmarshal(sign(indicator(amber, detente.MarkingGreen, "original")), &tampered)
	tampered["name"] = "changed in transit"
	tb, _ := json.Marshal(tampered)
	unsigned, _ := json.Marshal(indicator(bravos, detente.MarkingGreen, "unsigned"))

	st, err := client.Add(ctx, node.CollectionInbound, []json.RawMessage{good, redObj, tb, unsigned})
	if err != nil {
		t.Fatal(err)
	}
	// The partner learns only what depends on the bytes it sent: the
	// tampered and unsigned objects are refused with a reason; the RED one
	// is "received", like the good one, though alpha quarantines it.
	if st.SuccessCount != 2 || st.FailureCount != 2 {
		t.Fatalf("status: %+v", st)
	}
	for _, d := range st.Successes {
		if d.Message != "received" {
			t.Errorf("success %s says %q, want only \"received\"", d.ID, d.Message)
		}
	}
	if o := holds(alpha, green); o == nil || o.Originator != "bravo" {
		t.Error("good object not stored as bravo's")
	}
	// RED beyond the agreement is quarantined: stored apart, not usable, never released.
	if holds(alpha, red) != nil {
		t.Error("RED object is usable")
	}
	var q []*detente.ObjectVersion
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) {
		q, err = tx.Objects(ctx, detente.ObjectFilter{IDs: []string{red}, WithQuarantined: true})
		return
	})
	if len(q) != 1 || !strings.Contains(q[0].Quarantine, detente.ReasonAboveCeiling) {
		t.Errorf("RED object not quarantined with a reason: %+v", q)
	}
	if holds(alpha, amber) != nil || holds(alpha, bravos) != nil {
		t.Error("tampered or unsigned object stored")
	}
	var alerts []*detente.Alert
	alpha.Store.View(ctx, func(tx detente.Tx) (err error) { alerts, err = tx.Alerts(ctx, 10); return })
	// One alert for the quarantine, one for the batch's rejections (both
	// of them named), and one log entry for the batch, whatever its size.
	if len(alerts) != 2 {
		t.Errorf("alerts = %d, want 2 (quarantine; tampered and unsigned)", len(alerts))
	}
	for _, a := range alerts {
		if strings.HasPrefix(a.Key, "rejected/") && !strings.Contains(a.Message, "2 object(s) from bravo rejected") {
			t.Errorf("rejection alert: %q", a.Message)
		}
	}
	// A quarantined object is never re-released.
	alpha.AddPartner(ctx, "charlie", startPeer(t, "charlie").PublicKey(), "")
	if d, err := alpha.CheckRelease(ctx, red, "bravo"); err == nil && d.Allowed {
		t.Error("quarantined object releasable")
	}
}

// TestResumeAfterRestart: a node stopped between passes (its server and
// store closed abruptly) and restarted resumes from its cursor, and a
// partner that is down for a while is picked up when it comes back.
func TestResumeAfterRestart(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	var objs []map[string]any
	for i := range 1200 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", 100+i), detente.MarkingGreen, "x"))
	}
	ingest(t, alpha, objs...)

	// Cancel the pull after its first page: the cursor is committed with that page.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := bravo.Federation.Sync(ctx, "alpha", func(r federation.SyncResult) { cancel() })
	if err == nil {
		t.Fatal("cancelled sync reported success")
	}
	count := func(p *peer) int64 {
		var n int64
		p.Store.View(context.Background(), func(tx detente.Tx) (err error) { n, err = tx.CountObjects(context.Background()); return })
		return n
	}
	first := count(bravo)
	// The first page opens with the view's definitions, which are never stored.
	if want := int64(federation.SyncPageSize - len(stix.Definitions())); first != want {
		t.Fatalf("after one page bravo holds %d objects, want %d", first, want)
	}
	// Restart bravo from its data directory.
	dir := bravo.dir
	bravo.stop()
	bravo = openPeer(t, dir, "127.0.0.1:0")
	r := sync(t, bravo, "alpha")
	if int64(r.Added) != 1200-first || r.Unchanged != 0 || count(bravo) != 1200 {
		t.Fatalf("resumed pass: %+v, bravo holds %d", r, count(bravo))
	}

	// alpha goes down: bravo's pass fails and the failure is recorded.
	alphaDir, alphaAddr := alpha.dir, strings.TrimPrefix(alpha.srv.URL(), "https://")
	alpha.stop()
	if _, err := bravo.Federation.Sync(context.Background(), "alpha", nil); err == nil {
		t.Fatal("sync from a stopped partner succeeded")
	}
	states, _ := bravo.Federation.SyncStates(context.Background())
	if states[0].Errors != 1 || states[0].LastError == "" {
		t.Errorf("state after failure: %+v", states[0])
	}
	// alpha comes back on the same address with something new.
	alpha = openPeer(t, alphaDir, alphaAddr)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "new"))
	if r := sync(t, bravo, "alpha"); r.Added != 1 {
		t.Errorf("after the partner came back: %+v", r)
	}
	states, _ = bravo.Federation.SyncStates(context.Background())
	if states[0].Errors != 0 || states[0].Received != 1201 {
		t.Errorf("state after recovery: %+v", states[0])
	}
}

// TestSharedDesignations: a node publishes its designation list as STIX;
// its partner receives it by sync and holds it as that node's list, never
// merged with its own.
func TestSharedDesignations(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	ctx := context.Background()
	ds := []detente.Designation{
		{EntityID: "NM-1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Yusuf Karimov", Kind: detente.NameKindPrimary}, {Name: "Юсуф Каримов", Kind: detente.NameKindOriginalScript}}, DatesOfBirth: []string{"1984-07-12"}, Regime: "CT", ListedOn: "2025-03-01"},
		{EntityID: "NM-2", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Black Meridian Front", Kind: detente.NameKindPrimary}}, Regime: "CT", ListedOn: "2025-03-01"},
	}
	if _, err := alpha.Screening.LoadList(ctx, "alpha", ds, screening.ListLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bravo.Screening.LoadList(ctx, "bravo", ds[1:], screening.ListLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := alpha.ShareList(ctx, "alpha", detente.MarkingGreen); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	ls, err := bravo.Screening.Lists(ctx)
	if err != nil || len(ls) != 2 || ls[0].Authority != "alpha" || ls[0].Active != 2 || ls[1].Active != 1 {
		t.Fatalf("bravo's lists: %+v %v", ls, err)
	}
	hits, err := bravo.Screening.Screen(ctx, screen.Query{Name: "Jusuf Karimow", DatesOfBirth: []string{"1984-07-12"}}, 3)
	if err != nil || len(hits) == 0 || !hits[0].Match || hits[0].Authority != "alpha" || hits[0].EntityID != "NM-1" {
		t.Errorf("screening alpha's shared list at bravo: %+v %v", hits, err)
	}
}
