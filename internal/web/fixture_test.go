package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"detente"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/screening"
	"detente/internal/stix"
	"detente/internal/translog"
)

// Payloads that must always be shown as text.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
)

// fixture is a node with partners, agreements, intelligence (some of it
// hostile), releases, received objects, an alert and designation lists,
// served by the console over TLS.
type fixture struct {
	srv      *httptest.Server
	dir      string                  // the node's data directory
	serving  atomic.Pointer[Handler] // the handler f.srv serves with: f.h unless a test swaps it
	h        *Handler
	node     *node.Node
	tokens   map[detente.Role]string
	report   string // the hostile report's id
	red      string // a TLP:RED indicator's id
	actor    string // a threat actor, the source of a relationship
	received string // an object received from bravo
	agreeID  string // the agreement with bravo
	channel  string // a channel with bravo, with messages and notices
	request  string // a request from bravo on it, to answer
	alert    string // a crisis alert from bravo on it, overdue
	// ownNotice is alpha's notice of planned activity, in conflict with
	// theirNotice, bravo's.
	ownNotice, theirNotice string

	mu  sync.Mutex
	now time.Time
}

// clock returns the fixture's time; tests move it with advance.
func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "alpha")
	if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
		t.Fatal(err)
	}
	n, err := nodetest.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	f := &fixture{node: n, dir: dir, tokens: map[detente.Role]string{}, now: time.Now().UTC()}
	n.Now = f.clock
	for _, r := range []detente.Role{detente.RoleAdmin, detente.RoleAnalyst, detente.RoleAuditor} {
		_, secret, err := n.CreateToken(ctx, r, string(r))
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = secret
	}

	// Partners: bravo (with an agreement up to AMBER) and charlie (none).
	bravoPub, bravoKey, _ := ed25519.GenerateKey(rand.Reader)
	charliePub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(bravoPub), "https://bravo.invalid:8443"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddPartner(ctx, "charlie", detente.PublicKey(charliePub), "https://charlie.invalid:8443"); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"partner": "bravo", "from": f.now.AddDate(0, -1, 0), "until": f.now.AddDate(1, 0, 0),
		"tlp_ceiling": "amber", "types": []string{"indicator", "report", "identity", "marking-definition"},
		"onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"})
	a, err := detente.ParseAgreement(doc)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = n.AddAgreement(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.agreeID = a.ID

	// Intelligence, with hostile names and descriptions.
	ts := stix.FormatTimestamp(f.now.Add(-time.Hour))
	green := "indicator--" + uuid4()
	f.red = "indicator--" + uuid4()
	f.report = "report--" + uuid4()
	f.actor = "threat-actor--" + uuid4()
	wallet := "infrastructure--" + uuid4()
	objs := []map[string]any{
		{"type": "indicator", "spec_version": "2.1", "id": green, "created": ts, "modified": ts, "name": "Courier phone " + xssImg,
			"description": "Used by " + xssScript, "pattern": "[phone-number:value = '+100']", "pattern_type": "stix", "valid_from": ts,
			"object_marking_refs": []string{detente.MarkingGreen}},
		{"type": "indicator", "spec_version": "2.1", "id": f.red, "created": ts, "modified": ts, "name": "Source identity",
			"pattern": "[email-addr:value = 'x@example.org']", "pattern_type": "stix", "valid_from": ts,
			"object_marking_refs": []string{detente.MarkingRed}},
		{"type": "report", "spec_version": "2.1", "id": f.report, "created": ts, "modified": ts, "name": xssScript + " Harbour plot",
			"description": xssImg, "published": ts, "object_refs": []string{green, f.red},
			"object_marking_refs": []string{detente.MarkingAmber}},

		// A relationship, read as "Black Meridian Front uses BMF donation wallet".
		{"type": "threat-actor", "spec_version": "2.1", "id": f.actor, "created": ts, "modified": ts, "name": "Black Meridian Front",
			"aliases": []string{"BMF"}, "object_marking_refs": []string{detente.MarkingGreen}},
		{"type": "infrastructure", "spec_version": "2.1", "id": wallet, "created": ts, "modified": ts, "name": "BMF donation wallet",
			"object_marking_refs": []string{detente.MarkingGreen}},
		{"type": "relationship", "spec_version": "2.1", "id": "relationship--" + uuid4(), "created": ts, "modified": ts,
			"relationship_type": "uses", "source_ref": f.actor, "target_ref": wallet, "object_marking_refs": []string{detente.MarkingGreen}},
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid4(), "objects": objs})
	if _, err := n.Ingest(ctx, bundle, node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}}); err != nil {
		t.Fatal(err)
	}
	// Releases: the report is denied to bravo (its closure holds RED),
	// the green indicator allowed.
	if _, err := n.Release(ctx, f.report, "bravo"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Release(ctx, green, "bravo"); err != nil {
		t.Fatal(err)
	}

	// Objects received from bravo: one accepted, one quarantined (RED is
	// above the agreement's ceiling), which raises an alert.
	f.received = "indicator--" + uuid4()
	var raws []json.RawMessage
	for i, m := range []string{detente.MarkingGreen, detente.MarkingRed} {
		id := f.received
		if i == 1 {
			id = "indicator--" + uuid4()
		}
		raw, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
			"name": "From bravo " + xssScript, "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": ts,
			"object_marking_refs": []string{m}})
		canon, err := stix.Canonicalize(raw)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := stix.Sign(canon, bravoKey, detente.Grading{Reliability: 'C', Credibility: 3})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, signed)
	}
	if _, err := n.Receive(ctx, "bravo", raws, nil); err != nil {
		t.Fatal(err)
	}

	// Two authorities' lists, one name hostile.
	for _, auth := range []string{"un", "eu"} {
		ds := []detente.Designation{
			{EntityID: auth + "-1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Yusuf Karimov", Kind: detente.NameKindPrimary}}, Regime: "test",
				DatesOfBirth: []string{"1971-04-02"}, Nationalities: []string{"UZ"},
				Identifiers: []detente.DesignationIdentifier{{Type: detente.IdentifierPassport, Value: "FA1234567", Country: "UZ"}}},
			{EntityID: auth + "-2", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Black Meridian Front", Kind: detente.NameKindPrimary}}},
		}
		if auth == "un" {
			ds = append(ds, detente.Designation{EntityID: "un-3", Type: detente.EntityOrganization,
				Names: []detente.DesignationName{{Name: "Alert Script Brigade " + xssScript, Kind: detente.NameKindPrimary}}})
		}
		if _, err := n.Screening.LoadList(ctx, auth, ds, screening.ListLoadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f.addChannel(t, bravoKey)

	// A checkpoint cosigned by bravo, and by a witness nobody knows.
	cp, err := n.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, w := range []struct {
		name string
		key  ed25519.PrivateKey
	}{
		{translog.Origin("bravo", bravoPub) + "/witness", bravoKey},
		{"detente/mallory/0011223344556677/witness", strangerKey},
	} {
		line, err := translog.Cosign(cp.Note, w.name, w.key, f.now)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Store.Update(ctx, func(tx detente.Tx) error { return tx.PutCosignature(ctx, cp.Size, w.name, line) })
		if err != nil {
			t.Fatal(err)
		}
	}

	f.h = New(n, nil)
	f.serving.Store(f.h)
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serving.Load().ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	return f
}

func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// client is one browser: a cookie jar and no redirect following.
type client struct {
	t    testing.TB
	f    *fixture
	hc   *http.Client
	csrf string
}

func (f *fixture) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	hc := *f.srv.Client() // a copy: each browser has its own cookies
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, f: f, hc: &hc}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request and returns the status, Location and body.
func (c *client) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.f.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) { return c.do(http.MethodGet, path, nil) }

// post sends a form with the CSRF token of the last page seen.
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	return c.do(http.MethodPost, path, form)
}

// login logs in with secret and fails the test unless it succeeds.
func (c *client) login(secret string) {
	c.t.Helper()
	if resp, _ := c.get("/login"); resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	resp, body := c.post("/login", url.Values{"token": {secret}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST /login: %d\n%s", resp.StatusCode, body)
	}
	if _, body := c.get("/"); !strings.Contains(body, "Log out") {
		c.t.Fatalf("not logged in after login:\n%s", body)
	}
}

// as returns a client logged in with role ("" for none).
func (f *fixture) as(t testing.TB, role detente.Role) *client {
	c := f.client(t)
	if role != "" {
		c.login(f.tokens[role])
	}
	return c
}
