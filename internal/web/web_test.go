package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"detente"
)

const (
	admin   = detente.RoleAdmin
	analyst = detente.RoleAnalyst
	auditor = detente.RoleAuditor
	nobody  = detente.Role("")
)

// TestAuthorization checks every page and action for every role and for a
// logged-out visitor: the same role sets as the JSON API.
func TestAuthorization(t *testing.T) {
	f := newFixture(t)
	clients := map[detente.Role]*client{}
	for _, r := range []detente.Role{admin, analyst, auditor, nobody} {
		clients[r] = f.as(t, r)
	}
	all := map[detente.Role]int{admin: 200, analyst: 200, auditor: 200}
	intelOnly := map[detente.Role]int{admin: 200, analyst: 200, auditor: 403}
	logOnly := map[detente.Role]int{admin: 200, analyst: 403, auditor: 200}
	pages := []struct {
		path string
		want map[detente.Role]int
	}{
		{"/", all},
		{"/objects", intelOnly},
		{"/objects?q=harbour&tlp=amber&reliability=B", intelOnly},
		{"/objects/" + f.report, intelOnly},
		{"/release-check", all},
		{"/release-check?object=" + f.report + "&partner=bravo", all},
		{"/partners", all},
		{"/partners/bravo", all},
		{"/log", logOnly},
		{"/log?type=release&partner=bravo", logOnly},
		{"/log?from=0", logOnly},
		{"/log/0", logOnly},
		{"/screening", all},
		{"/screening?name=Karimov", all},
		{"/screening?compare=1&authority=un&authority=eu", all},
		{"/matching", all},
		{"/channels", all},
		{"/channels?channel=" + url.QueryEscape(f.channel), all},
		{"/channels?channel=nope", all},
		{"/messages/" + f.request, intelOnly},
		{"/messages/" + f.alert, intelOnly},
		{"/notices/" + f.ownNotice, intelOnly},
		{"/notices/" + f.theirNotice, intelOnly},
		{"/objects/" + f.actor, intelOnly},
		{"/objects?before=5", intelOnly},
		{"/objects?after=2", intelOnly},
		{"/log?before=5", logOnly},
	}
	for _, p := range pages {
		for _, r := range []detente.Role{admin, analyst, auditor, nobody} {
			t.Run(string(r)+p.path, func(t *testing.T) {
				c := clients[r]
				c.t = t
				resp, body := c.get(p.path)
				if r == nobody {
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Fatalf("logged out: %d %q, want 303 to the login", resp.StatusCode, resp.Header.Get("Location"))
					}
					if strings.Contains(body, "alpha") && strings.Contains(body, "<table") {
						t.Errorf("logged out: the redirect carries content")
					}
					return
				}
				if resp.StatusCode != p.want[r] {
					t.Fatalf("%s: %d, want %d\n%s", r, resp.StatusCode, p.want[r], body)
				}
				if resp.StatusCode == 403 && strings.Contains(body, "Harbour plot") {
					t.Errorf("a refused page shows intelligence")
				}
			})
		}
	}

	// Actions: only an admin may change partners and agreements.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	actions := []struct {
		path string
		form url.Values
	}{
		{"/partners", url.Values{"name": {"delta"}, "key": {detente.PublicKey(other.Public().(ed25519.PublicKey)).String()}, "url": {"https://delta.example"}}},
		{"/partners/charlie/state", url.Values{"state": {"suspended"}, "reason": {"review"}}},
		{"/agreements", url.Values{"partner": {"charlie"}, "from": {"2026-01-01"}, "until": {"2027-01-01"}, "tlp_ceiling": {"green"},
			"types": {"indicator, report"}, "onward_sharing": {"none"}, "purpose": {"counter-terrorism"}}},
		{"/agreements/" + f.agreeID + "/state", url.Values{"state": {"suspended"}, "reason": {"audit"}}},
	}
	for _, a := range actions {
		for _, r := range []detente.Role{nobody, auditor, analyst, admin} {
			t.Run("POST "+string(r)+a.path, func(t *testing.T) {
				c := clients[r]
				c.t = t
				c.get("/partners") // a fresh CSRF token
				form := url.Values{}
				for k, v := range a.form {
					form[k] = v
				}
				resp, body := c.post(a.path, form)
				switch r {
				case nobody:
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Fatalf("logged out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
					}
				case admin:
					if resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("admin: %d\n%s", resp.StatusCode, body)
					}
					_, page := c.get(resp.Header.Get("Location"))
					if !strings.Contains(page, "Done:") {
						t.Errorf("admin: no confirmation after %s:\n%s", a.path, page)
					}
				default:
					if resp.StatusCode != http.StatusForbidden {
						t.Fatalf("%s: %d, want 403\n%s", r, resp.StatusCode, body)
					}
				}
			})
		}
	}

	// What the admin did is done and logged.
	ctx := context.Background()
	ps, _ := f.node.Partners(ctx)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name+":"+string(p.State))
	}
	if got := strings.Join(names, " "); got != "bravo:active charlie:suspended delta:active" {
		t.Errorf("partners after the actions: %s", got)
	}
	as, _ := f.node.Agreements(ctx)
	if len(as) != 2 {
		t.Errorf("%d agreements, want 2", len(as))
	}
	for _, a := range as {
		if a.ID == f.agreeID && (a.State != detente.AgreementSuspended || a.StateReason != "audit") {
			t.Errorf("agreement %s: %s %q", a.ID, a.State, a.StateReason)
		}
	}
}

// TestAuditorSeesNoIntelligence checks that no page an auditor may open
// shows intelligence content: object names and descriptions, and outside
// the log (whose designation entries name what was listed, as the API's
// log shows auditors) designations.
func TestAuditorSeesNoIntelligence(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, auditor)
	for _, p := range []string{"/", "/release-check", "/release-check?object=" + f.report + "&partner=bravo", "/partners", "/partners/bravo",
		"/log", "/log/5", "/screening", "/screening?name=Karimov", "/screening?compare=1&authority=un&authority=eu"} {
		resp, body := c.get(p)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		for _, secret := range []string{"Harbour plot", "Courier phone", "Source identity", "From bravo", "Yusuf Karimov", "Black Meridian"} {
			if strings.HasPrefix(p, "/log") && (secret == "Yusuf Karimov" || secret == "Black Meridian") {
				continue
			}
			if strings.Contains(body, secret) {
				t.Errorf("%s shows the auditor %q", p, secret)
			}
		}
	}
}

// TestEscaping ingests objects, a partner's objects and a designation
// whose names and descriptions are HTML and script, and checks that every
// page shows them as text.
func TestEscaping(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, admin)
	pages := []string{"/", "/objects", "/objects?q=alert", "/objects/" + f.report, "/objects/" + f.received,
		"/release-check", "/release-check?object=" + f.report + "&partner=bravo",
		"/partners", "/partners/bravo", "/log", "/log?from=0", "/screening?name=" + url.QueryEscape(xssScript),
		"/screening?name=" + url.QueryEscape("Alert Script Brigade"), "/screening?compare=1&authority=un&authority=eu",
		"/objects?q=" + url.QueryEscape(xssImg), "/release-check?object=" + url.QueryEscape(xssImg) + "&partner=bravo",
		"/matching", "/channels", "/channels?channel=" + url.QueryEscape(f.channel),
		"/messages/" + f.request, "/messages/" + f.alert, "/notices/" + f.ownNotice, "/notices/" + f.theirNotice,
		"/objects/" + f.actor, "/objects?q=black",
	}
	// Every log entry too: designation events carry names.
	size, _ := countEvents(f)
	for i := range size {
		pages = append(pages, "/log/"+itoa(i))
	}
	shown := 0
	for _, p := range pages {
		resp, body := c.get(p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
			continue
		}
		for _, raw := range []string{xssScript, "<img src=x", "onerror=alert(1)>", "<script>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s contains %q unescaped", p, raw)
			}
		}
		if strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			shown++
		}
	}
	if shown < 8 {
		t.Errorf("the payloads were shown (escaped) on only %d pages: the fixture does not exercise escaping", shown)
	}
}

func countEvents(f *fixture) (int64, error) {
	var n int64
	err := f.node.Store.View(context.Background(), func(tx detente.Tx) (err error) { n, err = tx.CountEvents(context.Background()); return })
	return n, err
}

func itoa(i int64) string { return strings.TrimSpace(strings.Replace(num(i), ",", "", -1)) }

// TestCSRF checks that form posts without the session's token, with
// another session's token, or from another origin are refused.
func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, admin)
	other := f.as(t, admin)
	form := func() url.Values { return url.Values{"state": {"suspended"}, "reason": {"csrf test"}} }
	path := "/partners/charlie/state"
	cases := []struct {
		name   string
		csrf   string
		header []string
	}{
		{"no token", "-", nil},
		{"wrong token", "forged", nil},
		{"another session's token", other.csrf, nil},
		{"cross-origin", c.csrf, []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", c.csrf, []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			fm := form()
			if tc.csrf != "-" {
				fm.Set("csrf", tc.csrf)
			}
			resp, body := c.do(http.MethodPost, path, fm, tc.header...)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%d, want 403\n%s", resp.StatusCode, body)
			}
		})
	}
	p, _ := f.node.Partners(context.Background())
	for _, x := range p {
		if x.State != detente.PartnerActive {
			t.Errorf("partner %s was changed by a refused post", x.Name)
		}
	}
	// The same post, same origin, with the token, goes through.
	c.t = t
	c.get("/partners")
	fm := form()
	fm.Set("csrf", c.csrf)
	if resp, body := c.do(http.MethodPost, path, fm, "Origin", f.srv.URL, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a genuine post: %d\n%s", resp.StatusCode, body)
	}

	// Logout needs the token too.
	if resp, _ := c.do(http.MethodPost, "/logout", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the token: %d, want 403", resp.StatusCode)
	}
	// The login form has its own token, bound to a pre-login cookie.
	s := f.client(t)
	if resp, _ := s.do(http.MethodPost, "/login", url.Values{"token": {f.tokens[admin]}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the form's token: %d, want 403", resp.StatusCode)
	}
	s.get("/login")
	if resp, _ := s.do(http.MethodPost, "/login", url.Values{"token": {f.tokens[admin]}, "csrf": {s.csrf}}, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin login: %d, want 403", resp.StatusCode)
	}
	if resp, _ := s.do(http.MethodPost, "/login", url.Values{"token": {f.tokens[admin]}, "csrf": {other.csrf}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with another form's token: %d, want 403", resp.StatusCode)
	}
}

// TestSecurityHeaders checks the headers of every kind of response.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, analyst)
	s := f.client(t)
	checks := []struct {
		c    *client
		path string
	}{
		{s, "/login"}, {s, "/"}, {s, "/static/console.css"}, {s, "/static/console.js"}, {s, "/static/nope.css"},
		{c, "/"}, {c, "/objects/" + f.report}, {c, "/log"}, {c, "/no/such/page"}, {c, "/objects/indicator--nope"},
	}
	want := map[string]string{
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": contentSecurityPolicy,
	}
	for _, ch := range checks {
		resp, body := ch.c.get(ch.path)
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s: %q, want %q", ch.path, k, got, v)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP lacks %s", ch.path, d)
			}
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") || strings.Contains(body, " style=") {
				t.Errorf("%s: inline script or style, which the CSP forbids", ch.path)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", ch.path, resp.Header.Get("Cache-Control"))
			}
		}
	}
	if resp, _ := c.get("/no/such/page"); resp.StatusCode != 404 {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
	if resp, _ := s.get("/no/such/page"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("unknown page, logged out: %d, want the login", resp.StatusCode)
	}
}

// TestSessionCookie checks the cookie's attributes and that the session
// id changes at login.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	c.get("/login")
	resp, _ := c.post("/login", url.Values{"token": {f.tokens[analyst]}, "next": {"/partners"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/partners" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var found bool
	for _, sc := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(sc, sessionCookie+"=") {
			continue
		}
		found = true
		for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
			if !strings.Contains(sc, attr) {
				t.Errorf("session cookie %q lacks %s", sc, attr)
			}
		}
		if strings.Contains(sc, f.tokens[analyst]) {
			t.Errorf("the cookie carries the token")
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
	// An open redirect through next is refused.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		c2 := f.client(t)
		c2.get("/login")
		resp, _ := c2.post("/login", url.Values{"token": {f.tokens[analyst]}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q sent the user to %q", next, loc)
		}
	}
	// A wrong token is refused with a message, and no session.
	c3 := f.client(t)
	c3.get("/login")
	resp, body := c3.post("/login", url.Values{"token": {"dtk_wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
}

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// TestLoginNext: the login's next, from the query (a link, a redirect to
// the login) or from the form, never sends the browser to another site:
// the form carries "/" instead, and so does the redirect after login and
// the one a logged-in visitor gets.
func TestLoginNext(t *testing.T) {
	f := newFixture(t)
	for _, next := range append(hostilePaths, "//evil.example/%2e%2e", "/%5C%5Cevil.example", "/%E2%80%A8/x%0A") {
		if next == "" {
			continue
		}
		t.Run(next, func(t *testing.T) {
			c := f.client(t)
			_, body := c.get("/login?next=" + url.QueryEscape(next))
			if m := nextRE.FindStringSubmatch(body); m == nil || m[1] != "/" {
				t.Errorf("login form's next = %q, want /", m)
			}
			resp, _ := c.post("/login", url.Values{"token": {f.tokens[analyst]}, "next": {next}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Errorf("after login: %d to %q, want /", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, _ = c.get("/login?next=" + url.QueryEscape(next))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Errorf("logged in: %d to %q, want /", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	// The browser's own case: the tab arrives percent-encoded in the URL.
	c := f.client(t)
	_, body := c.get("/login?next=/%09/evil.example/")
	if m := nextRE.FindStringSubmatch(body); m == nil || m[1] != "/" {
		t.Errorf("login form's next = %q, want /", m)
	}
	// A path on the site is kept, query included.
	resp, _ := c.post("/login", url.Values{"token": {f.tokens[analyst]}, "next": {"/objects?tlp=amber&q=a%20b"}})
	if loc := resp.Header.Get("Location"); loc != "/objects?tlp=amber&q=a%20b" {
		t.Errorf("next on the site: sent to %q", loc)
	}
}

// TestSessionLifetime checks logout, idle expiry, maximum age and token
// revocation.
func TestSessionLifetime(t *testing.T) {
	f := newFixture(t)
	loggedOut := func(c *client) bool {
		resp, _ := c.get("/")
		return resp.StatusCode == http.StatusSeeOther
	}

	c := f.as(t, analyst)
	c.post("/logout", nil)
	if !loggedOut(c) {
		t.Error("still logged in after logout")
	}

	c = f.as(t, analyst)
	f.advance(IdleTimeout - time.Minute)
	if loggedOut(c) {
		t.Fatal("logged out before the idle timeout")
	}
	f.advance(IdleTimeout + time.Minute)
	if !loggedOut(c) {
		t.Error("still logged in after the idle timeout")
	}

	c = f.as(t, analyst)
	for range MaxSessionAge / (IdleTimeout / 2) {
		f.advance(IdleTimeout / 2)
		c.get("/")
	}
	f.advance(IdleTimeout / 2)
	if !loggedOut(c) {
		t.Error("still logged in after the maximum session age")
	}

	c = f.as(t, auditor)
	ts, _ := f.tokenID(auditor)
	if err := f.node.RevokeToken(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	if !loggedOut(c) {
		t.Error("still logged in after the token was revoked")
	}
	c.get("/login")
	if resp, _ := c.post("/login", url.Values{"token": {f.tokens[auditor]}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a revoked token: %d", resp.StatusCode)
	}
}

func (f *fixture) tokenID(r detente.Role) (string, error) {
	t, err := f.node.Authenticate(context.Background(), f.tokens[r])
	if err != nil {
		return "", err
	}
	return t.ID, nil
}

// TestPages checks what the main pages show.
func TestPages(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, admin)
	expect := func(path string, wants ...string) {
		t.Helper()
		resp, body := c.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not show %q", path, w)
			}
		}
	}
	expect("/", "Node alpha", "bravo", "charlie", "✓ in force", "no agreement", "Latest signed checkpoint",
		"✓ verified</span> partner <strong>bravo</strong>", "✕ not verified</span> <code>detente/mallory/0011223344556677/witness</code>",
		"⛔ quarantine", "Recently denied releases", "closure")
	expect("/objects", "Harbour plot", "Courier phone", "TLP:AMBER", "B2", "partner bravo")
	expect("/objects?tlp=red", "Source identity")
	expect("/objects?originator=bravo", "From bravo")
	expect("/objects?quarantined=on&tlp=red&originator=bravo", "⛔ quarantined")
	expect("/objects/"+f.report, "✓ valid", "signed by this node", "TLP:AMBER", "Releases", "✕ denied", "Source identity")
	expect("/objects/"+f.received, "signed by partner bravo", "C3")
	expect("/release-check?object="+f.report+"&partner=bravo", "✕ Denied", "closure", "Source identity")
	expect("/release-check?object="+f.report+"&partner=charlie", "✕ Denied", "no-agreement")
	expect("/release-check?object=indicator--nope&partner=bravo", "No decision")
	expect("/partners", "Add a partner", "Record an agreement", "TLP:AMBER")
	expect("/partners/bravo", "<svg", "sent (solid)", "received (hatched)", "1 object sent", "2 objects received")
	expect("/log", "release", "object.received", "designation.changed")
	expect("/log/0", "✓ Verified", "Inclusion proof", "node.init", "Cosigned by partner bravo")
	expect("/screening?name=Yusuf+Karimow", "match", "un", "eu", "Born: 1971-04-02", "Nationality: UZ")
	expect("/screening?kind=document&identifier=UZB%3Afa+1234567", "Screen an identifier", "<code>un-1</code>", "<code>eu-1</code>", "1971-04-02", "passport <code>FA1234567</code> (UZ)")
	expect("/screening?kind=document&identifier=FA1234567", "issuing state unconfirmed")
	expect("/screening?kind=wallet&identifier=0x12", "want CHAIN:ADDRESS")
	expect("/screening?kind=imo&identifier=9074729", "No designation on any list held here carries imo")
	expect("/screening?compare=1&authority=un&authority=eu", "Divergence between authorities", "listed by all")
	expect("/matching", "Private matching", "Match against a partner", `<option value="bravo">`, "Budgets partners used against this node")
	expect("/channels", "Channels and points of contact", "✓ open", "⚠ acknowledgement overdue", "Deconfliction", "<svg")
}

// TestBadParameters sends every console page that takes query parameters
// a bad value of each: the page is refused with 400 and a message naming
// the parameter, never shown as if the parameter were absent. Parameters a
// page does not take are ignored (a bookmark may carry some).
func TestBadParameters(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, admin)
	bad := map[string]map[string][]string{
		"/objects": {
			"type": {"%ff"}, "originator": {"%ff"}, "tlp": {"purple", "TLP:RED"}, "reliability": {"G", "b"},
			"credibility": {"7", "0"}, "q": {"%ff"}, "quarantined": {"yes"}, "after": {"x", "-1"}, "before": {"x", "0"},
		},
		"/release-check": {"object": {"%ff"}, "partner": {"%c3%28"}},
		"/log":           {"type": {"%ff"}, "partner": {"%ff"}, "from": {"x", "-1", "1.5"}, "before": {"x", "0"}},
		"/screening": {
			"name": {"%ff"}, "type": {"ship"}, "dob": {"garbage", "1970-13"}, "country": {"%ff"},
			"compare": {"yes"}, "authority": {"%ff"}, "kind": {"phone"}, "identifier": {"%ff"},
		},
		"/channels": {"channel": {"%ff"}},
	}
	for page, ps := range bad {
		for p, values := range ps {
			for _, v := range values {
				path := page + "?" + p + "=" + v
				t.Run(path, func(t *testing.T) {
					c.t = t
					resp, body := c.get(path)
					if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert">`+p+": ") {
						t.Errorf("%d, want 400 naming %s:\n%s", resp.StatusCode, p, body)
					}
				})
			}
		}
	}
	c.t = t
	for _, path := range []string{"/objects?utm_source=x", "/log?x=%ff", "/screening?name=Karimov&from=feed"} {
		if resp, _ := c.get(path); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200", path, resp.StatusCode)
		}
	}
}

// TestCompareProgress checks that a comparison of lists still running
// shows its progress and reloads the page (issue 16: the console hung
// with no feedback), then shows the result.
func TestCompareProgress(t *testing.T) {
	f := newFixture(t)
	f.h.compareWait = 0
	c := f.as(t, admin)
	path := "/screening?compare=1&authority=un&authority=eu"
	resp, body := c.get(path)
	if resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	t.Logf("first response: Refresh %q", resp.Header.Get("Refresh"))
	if resp.Header.Get("Refresh") != "" {
		if !strings.Contains(body, "<progress") || !strings.Contains(body, "reloads itself") {
			t.Errorf("a pending comparison without its progress:\n%s", body)
		}
	} else if !strings.Contains(body, "Divergence between authorities") {
		t.Errorf("neither the progress nor the result:\n%s", body)
	}
	job, err := f.node.Screening.StartCompare(context.Background(), []string{"eu", "un"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err, ok := job.Wait(context.Background(), time.Minute); !ok || err != nil {
		t.Fatalf("comparison: %v, finished %v", err, ok)
	}
	if d, total := job.Progress(); d != total || total != 5 {
		t.Errorf("progress %d of %d, want 5 of 5", d, total)
	}
	resp, body = c.get(path)
	if resp.Header.Get("Refresh") != "" || !strings.Contains(body, "Divergence between authorities") || strings.Contains(body, "<progress") {
		t.Errorf("a finished comparison: Refresh %q\n%s", resp.Header.Get("Refresh"), body)
	}
}
