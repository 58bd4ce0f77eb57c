package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/datadir"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/stix"
)

func newNode(t testing.TB, name string) *node.Node {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := nodetest.Init(ctx, dir, name); err != nil {
		t.Fatal(err)
	}
	n, err := nodetest.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

const (
	indID    = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	actorID  = "threat-actor--56f3f0db-b5d5-431c-ae56-c18f02caf500"
	reportID = "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"
	redID    = "indicator--11111111-2222-4333-8444-555555555555"
)

func indicator(id, marking, modified string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id,
		"created": "2026-01-10T10:00:00.000Z", "modified": modified, "name": "channel handle",
		"pattern": "[user-account:account_login = 'x']", "pattern_type": "stix", "valid_from": "2026-01-10T10:00:00Z",
		"object_marking_refs": []string{marking}}
}

func bundle(objs ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs})
	return b
}

func count(t *testing.T, n *node.Node) (objects, events int64) {
	t.Helper()
	ctx := context.Background()
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) {
		if objects, err = tx.CountObjects(ctx); err != nil {
			return err
		}
		events, err = tx.CountEvents(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects, events
}

func TestInitRefusesExistingNode(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "n")
	key, err := nodetest.Init(ctx, dir, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, datadir.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	before := snapshot(t, dir)
	_, err = nodetest.Init(ctx, dir, "other")
	if detente.ErrorCode(err) != detente.EEXISTS {
		t.Fatalf("second init = %v, want EEXISTS", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatalf("second init changed the data directory:\nbefore %s\nafter  %s", before, after)
	}
	priv, err := datadir.ReadKey(dir)
	if err != nil || !detente.PublicKey(priv.Public().(ed25519.PublicKey)).Equal(key) {
		t.Fatalf("key changed: %v", err)
	}
	for _, bad := range []string{"", "Alpha", "1abc", "a b"} {
		if _, err := nodetest.Init(ctx, filepath.Join(t.TempDir(), "x"), bad); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("Init(name %q) = %v, want EINVALID", bad, err)
		}
	}
}

// snapshot summarises a directory's files, sizes and modes.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "-shm") || strings.HasSuffix(e.Name(), "-wal") {
			continue // SQLite's own bookkeeping
		}
		info, _ := e.Info()
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s:%d:%v:%x ", e.Name(), info.Size(), info.Mode(), data[:min(len(data), 64)])
	}
	return b.String()
}

func TestReadKeyRefusesOpenPermissions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "n")
	if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, datadir.KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := nodetest.Open(ctx, dir, nil); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("Open with a world-readable key = %v", err)
	}
}

func TestIngestSignsAndRecords(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	res, err := n.Ingest(ctx, bundle(indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")), node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.Objects[0].Originator != detente.OriginSelf {
		t.Fatalf("result = %+v", res)
	}
	var o *detente.ObjectVersion
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { o, err = tx.Object(ctx, indID); return }); err != nil {
		t.Fatal(err)
	}
	if o.Grading.String() != "B2" || !o.Signer.Equal(n.PublicKey()) || o.Received.IsZero() {
		t.Errorf("stored version = grading %q signer %v received %v", o.Grading, o.Signer, o.Received)
	}
	signer, signed, err := stix.Verify(o.Raw)
	if err != nil || !signed || !signer.Equal(n.PublicKey()) {
		t.Errorf("stored object does not carry a verifying signature: %v %v", signed, err)
	}
	// The log records a commitment, never the content.
	var events []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		events, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventObjectIngested})
		return
	})
	if len(events) != 1 || strings.Contains(string(events[0].Body), "user-account") || !strings.Contains(string(events[0].Body), "sha256") {
		t.Errorf("ingest events = %v", events)
	}
	// Ingesting the same bundle again changes nothing.
	res, err = n.Ingest(ctx, bundle(indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")), node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}})
	if err != nil || res.Added != 0 || res.Unchanged != 1 {
		t.Errorf("re-ingest = %+v, %v", res, err)
	}
}

// TestIngestBadInput: each bad bundle is refused with an error naming what
// is wrong, and the store is left exactly as it was.
func TestIngestBadInput(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	good := indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	if _, err := n.Ingest(ctx, bundle(good), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	// A version signed by someone else, then tampered with.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	raw, _ := json.Marshal(indicator(actorID[:0]+"indicator--0a7b3f6e-3b8c-4a5e-9c1d-2e4f6a8b0c1d", detente.MarkingGreen, "2026-01-10T10:00:00.000Z"))
	signedRaw, err := stix.Sign(raw, otherKey, detente.Grading{})
	if err != nil {
		t.Fatal(err)
	}
	var tampered map[string]any
	json.Unmarshal(signedRaw, &tampered)
	tampered["name"] = "changed after signing"

	missing := indicator("indicator--22222222-3333-4444-8555-666666666666", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	delete(missing, "pattern")
	wrongPrefix := indicator("indicator--33333333-3333-4444-8555-666666666666", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	wrongPrefix["id"] = "malware--33333333-3333-4444-8555-666666666666"
	unknown := map[string]any{"type": "spy-gadget", "spec_version": "2.1", "id": "spy-gadget--44444444-3333-4444-8555-666666666666",
		"created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-10T10:00:00.000Z"}
	conflict := indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	conflict["name"] = "same version, other content"
	okNew := indicator("indicator--55555555-3333-4444-8555-666666666666", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")

	cases := []struct {
		name string
		data []byte
		want []string // substrings of the error
	}{
		{"malformed JSON", []byte(`{"type": "bundle", "objects": [`), []string{"JSON"}},
		{"not JSON", []byte("hello"), []string{"JSON"}},
		{"missing property", bundle(okNew, missing), []string{"indicator--22222222", "pattern"}},
		{"wrong id prefix", bundle(okNew, wrongPrefix), []string{"malware--33333333"}},
		{"unknown type", bundle(okNew, unknown), []string{"spy-gadget"}},
		{"tampered signature", bundle(okNew, tampered), []string{"indicator--0a7b3f6e", "signature"}},
		{"conflicting version", bundle(okNew, conflict), []string{indID}},
	}
	objects, events := count(t, n)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := n.Ingest(ctx, c.data, node.IngestOptions{})
			if err == nil {
				t.Fatal("accepted")
			}
			if code := detente.ErrorCode(err); code != detente.EINVALID && code != detente.ECONFLICT {
				t.Errorf("code = %s (%v), want invalid or conflict", code, err)
			}
			for _, w := range c.want {
				if !strings.Contains(detente.ErrorMessage(err), w) {
					t.Errorf("error %q does not name %q", detente.ErrorMessage(err), w)
				}
			}
			if o, e := count(t, n); o != objects || e != events {
				t.Errorf("store changed: %d→%d objects, %d→%d events", objects, o, events, e)
			}
		})
	}
}

func TestIngestKeepsPartnerSignature(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(pub), "https://bravo.example"); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z"))
	signed, err := stix.Sign(raw, priv, detente.Grading{Reliability: 'C', Credibility: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(ctx, signed, node.IngestOptions{Grading: detente.Grading{Reliability: 'A', Credibility: 1}}); err != nil {
		t.Fatal(err)
	}
	var o *detente.ObjectVersion
	n.Store.View(ctx, func(tx detente.Tx) (err error) { o, err = tx.Object(ctx, indID); return })
	if o.Originator != "bravo" || o.Grading.String() != "C3" || string(o.Raw) != string(signed) {
		t.Errorf("partner's object was altered: originator %q grading %q same bytes %v", o.Originator, o.Grading, string(o.Raw) == string(signed))
	}
}

// setupRelease gives alpha a partner bravo under an AMBER agreement and a
// report whose closure holds a RED indicator.
func setupRelease(t *testing.T) *node.Node {
	t.Helper()
	n := newNode(t, "alpha")
	ctx := context.Background()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(pub), "https://bravo.example"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc := fmt.Sprintf(`{"partner": "bravo", "from": %q, "until": %q, "tlp_ceiling": "amber",
		"types": ["indicator", "report", "threat-actor"], "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`,
		now.AddDate(0, -1, 0).Format(time.RFC3339), now.AddDate(1, 0, 0).Format(time.RFC3339))
	a, err := detente.ParseAgreement([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddAgreement(ctx, a); err != nil {
		t.Fatal(err)
	}
	actor := map[string]any{"type": "threat-actor", "spec_version": "2.1", "id": actorID, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": "Black Meridian Front", "object_marking_refs": []string{detente.MarkingGreen}}
	report := func(id string, refs ...string) map[string]any {
		return map[string]any{"type": "report", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
			"modified": "2026-01-10T10:00:00.000Z", "name": "BMF", "published": "2026-01-10T10:00:00Z",
			"object_refs": refs, "object_marking_refs": []string{detente.MarkingAmber}}
	}
	data := bundle(actor, indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z"),
		indicator(redID, detente.MarkingRed, "2026-01-10T10:00:00.000Z"),
		report(reportID, actorID, indID), report("report--99999999-2222-4333-8444-555555555555", actorID, redID))
	if _, err := n.Ingest(ctx, data, node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReleaseRecordsDecision(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	res, err := n.Release(ctx, reportID, "bravo")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Decision.Allowed {
		t.Fatalf("denied: %+v", res.Decision.Reasons)
	}
	objs, err := stix.ParseBundle(res.Bundle)
	if err != nil {
		t.Fatalf("released bundle does not parse: %v", err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
		if stix.IsPredefined(o.ID) {
			continue // the definitions the bundle carries: unsigned, as published
		}
		if _, signed, err := stix.Verify(o.Raw); !signed || err != nil {
			t.Errorf("%s leaves without a verifying signature: %v", o.ID, err)
		}
	}
	for _, want := range []string{reportID, actorID, indID} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("bundle lacks %s: %v", want, ids)
		}
	}

	// The report citing a RED indicator is denied, naming it, and nothing leaves.
	res, err = n.Release(ctx, "report--99999999-2222-4333-8444-555555555555", "bravo")
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision.Allowed || res.Bundle != nil || !strings.Contains(fmt.Sprint(res.Decision.Reasons), redID) {
		t.Fatalf("leaky report: allowed=%v reasons=%v", res.Decision.Allowed, res.Decision.Reasons)
	}
	var rel []*detente.Release
	var evs []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		if rel, err = tx.Releases(ctx, detente.ReleaseFilter{Partner: "bravo"}); err != nil {
			return err
		}
		evs, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventRelease})
		return err
	})
	if len(rel) != 2 || rel[0].Allowed || !rel[1].Allowed {
		t.Errorf("stored releases = %+v", rel)
	}
	if len(evs) != 2 || strings.Contains(string(evs[1].Body), "99999999") {
		t.Errorf("release events = %d; a denied release must not name its object in the log: %s", len(evs), evs[len(evs)-1].Body)
	}
	// A check records nothing.
	if _, err := n.CheckRelease(ctx, reportID, "bravo"); err != nil {
		t.Fatal(err)
	}
	if _, e := count(t, n); e != int64(len(evs))+countOther(t, n) {
		t.Errorf("CheckRelease wrote to the log")
	}
}

func countOther(t *testing.T, n *node.Node) int64 {
	ctx := context.Background()
	var all []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) { all, err = tx.Events(ctx, detente.EventFilter{}); return })
	var c int64
	for _, e := range all {
		if e.Type != detente.EventRelease {
			c++
		}
	}
	return c
}

func TestAgreementLifecycle(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	as, _ := n.Agreements(ctx)
	id := as[0].ID
	if _, err := n.SetAgreementState(ctx, id, detente.AgreementSuspended, ""); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("suspend without reason = %v", err)
	}
	a, err := n.SetAgreementState(ctx, id, detente.AgreementSuspended, "leak under investigation")
	if err != nil || a.Version != 2 {
		t.Fatalf("suspend = %+v, %v", a, err)
	}
	d, _ := n.CheckRelease(ctx, reportID, "bravo")
	if d.Allowed {
		t.Error("release allowed under a suspended agreement")
	}
	if _, err := n.SetAgreementState(ctx, id, detente.AgreementEnded, "programme closed"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SetAgreementState(ctx, id, detente.AgreementActive, "reopen"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("resume of an ended agreement = %v, want conflict", err)
	}
	var evs []*detente.Event
	n.Store.View(ctx, func(tx detente.Tx) (err error) {
		evs, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventAgreementChanged})
		return
	})
	if len(evs) != 2 || !strings.Contains(string(evs[0].Body), "leak under investigation") {
		t.Errorf("agreement events = %v", evs)
	}
}

func TestTokens(t *testing.T) {
	n := newNode(t, "alpha")
	ctx := context.Background()
	tok, secret, err := n.CreateToken(ctx, detente.RoleAuditor, "audit desk")
	if err != nil || !strings.HasPrefix(secret, node.TokenPrefix) {
		t.Fatalf("CreateToken = %v, %q", err, secret)
	}
	got, err := n.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Role != detente.RoleAuditor {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if _, err := n.Authenticate(ctx, secret+"x"); detente.ErrorCode(err) != detente.EUNAUTHORIZED {
		t.Errorf("wrong secret = %v", err)
	}
	if err := n.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, secret); detente.ErrorCode(err) != detente.EUNAUTHORIZED {
		t.Errorf("revoked token still works: %v", err)
	}
	if _, _, err := n.CreateToken(ctx, "root", ""); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("unknown role = %v", err)
	}
}

func TestReleaseRedactsGranularMarkings(t *testing.T) {
	n := setupRelease(t)
	ctx := context.Background()
	ind := indicator("indicator--77777777-2222-4333-8444-555555555555", detente.MarkingGreen, "2026-01-10T10:00:00.000Z")
	ind["description"] = "names the protected source"
	ind["granular_markings"] = []map[string]any{{"marking_ref": detente.MarkingRed, "selectors": []string{"description"}}}
	if _, err := n.Ingest(ctx, bundle(ind), node.IngestOptions{Grading: detente.Grading{Reliability: 'A', Credibility: 2}}); err != nil {
		t.Fatal(err)
	}
	res, err := n.Release(ctx, ind["id"].(string), "bravo")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Decision.Allowed || len(res.Decision.Redacted) != 1 {
		t.Fatalf("decision = %+v", res.Decision)
	}
	if strings.Contains(string(res.Bundle), "protected source") {
		t.Fatalf("redacted property left the node: %s", res.Bundle)
	}
	objs, err := stix.ParseBundle(res.Bundle)
	objs = slices.DeleteFunc(objs, func(o *stix.Object) bool { return stix.IsPredefined(o.ID) })
	if err != nil || len(objs) != 1 {
		t.Fatalf("bundle = %v, %v", objs, err)
	}
	signer, signed, err := stix.Verify(objs[0].Raw)
	if err != nil || !signed || !signer.Equal(n.PublicKey()) || objs[0].Grading().String() != "A2" {
		t.Errorf("projection signature: signed=%v err=%v grading=%v", signed, err, objs[0].Grading())
	}
}
