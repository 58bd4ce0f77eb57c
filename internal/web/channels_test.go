package web

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/matching"
)

// addChannel opens a channel between alpha and bravo (bravo's acceptance
// signed with bravoKey) whose purpose, contacts and messages are hostile,
// with an outgoing request, an incoming crisis alert left unacknowledged
// past its deadline, an incoming request to answer, and notices of
// planned activity: alpha's and bravo's overlap, bravo's second does not.
// The clock ends past the alert's deadline.
func (f *fixture) addChannel(t testing.TB, bravoKey ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	n := f.node
	bravoPub := detente.PublicKey(bravoKey.Public().(ed25519.PublicKey))
	now := f.clock()
	terms := hotline.Terms{ID: hotline.NewID("channel"), Purpose: "Harbour summit " + xssScript, Event: xssImg,
		Parties: []hotline.Party{
			{Name: "alpha", Key: n.PublicKey(), Contacts: []hotline.Contact{{Name: "Ana Duty", Role: hotline.RoleDutyOfficer, Phone: "+1 555 0100"}}},
			{Name: "bravo", Key: bravoPub, Contacts: []hotline.Contact{{Name: "Bo " + xssScript, Role: "liaison officer", Email: "bo@bravo.example"}}},
		}}
	ch, err := hotline.Propose(terms, "summit", now, n.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := hotline.Apply(ch, hotline.NewTransition(ch, hotline.StateOpen, "accepted", now, bravoKey)); err != nil {
		t.Fatal(err)
	}
	if err := n.Hotline.Store().CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	f.channel = ch.ID

	if _, err := n.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: ch.ID, Type: hotline.TypeRequest, Author: "Ana Duty",
		Subject: "Request " + xssScript, Body: "Please confirm " + xssImg, Due: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var bravo *detente.Partner
	ps, err := n.Partners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == "bravo" {
			bravo = p
		}
	}
	receive := func(m *hotline.Message) {
		t.Helper()
		m.From = bravoPub
		m.Sign(bravoKey)
		b, err := hotline.EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Hotline.ReceiveMessage(ctx, bravo, b); err != nil {
			t.Fatal(err)
		}
	}
	alert := hotline.NewMessage(ch.ID, hotline.TypeCrisisAlert, now)
	alert.Author, alert.Subject, alert.Body = "Bo", "Crisis "+xssScript, "Evacuate "+xssScript
	receive(alert)
	f.alert = alert.ID
	ask := hotline.NewMessage(ch.ID, hotline.TypeRequest, now)
	ask.Author, ask.Subject, ask.Body, ask.Due = "Bo", "Bravo asks "+xssImg, "Confirm the route "+xssScript, now.Add(2*time.Hour)
	receive(ask)
	f.request = ask.ID

	band := hotline.Band{Lower: hotline.Height{Value: 0, Unit: hotline.UnitMetres}, Upper: hotline.Height{Value: 120, Unit: hotline.UnitMetres}}
	own, err := n.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: ch.ID, Author: "Ana Duty", Nature: "UAV trials " + xssScript,
		Area: hotline.Area{Circle: &hotline.Circle{Lon: 2.36, Lat: 48.92, Radius: 3000}}, Band: band,
		Start: now.Add(time.Hour), End: now.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.ownNotice = own.Record.Message.Activity.ID
	for i, ring := range [][][]float64{
		{{2.33, 48.90}, {2.40, 48.90}, {2.40, 48.95}, {2.33, 48.95}, {2.33, 48.90}}, // over alpha's circle
		{{2.50, 49.00}, {2.55, 49.00}, {2.55, 49.03}, {2.50, 49.03}, {2.50, 49.00}}, // clear of it
	} {
		m := hotline.NewMessage(ch.ID, hotline.TypeNotice, now)
		m.Author, m.Subject = "Bo", "planned activity"
		m.Activity = &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive,
			Area: hotline.Area{Polygon: &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{ring}}}, Band: band,
			Start: now.Add(2 * time.Hour), End: now.Add(4 * time.Hour), Nature: []string{"Naval drill " + xssImg, "Survey flight"}[i]}
		receive(m)
		if i == 0 {
			f.theirNotice = m.Activity.ID
		}
	}
	f.advance(6 * time.Minute) // past the crisis alert's acknowledgement deadline
}

// session returns the server-side session of c.
func (c *client) session() *session {
	c.t.Helper()
	u, _ := url.Parse(c.f.srv.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			if se, _ := c.f.h.sessions.get(context.Background(), ck.Value); se != nil {
				return se
			}
		}
	}
	c.t.Fatal("no session")
	return nil
}

// TestChannelsPage checks what the channels page shows each role: the
// channel, its state and contacts to all; messages (overdue first),
// notices, the map and the conflict to analysts and admins only.
func TestChannelsPage(t *testing.T) {
	f := newFixture(t)
	for _, r := range []detente.Role{admin, analyst} {
		c := f.as(t, r)
		resp, body := c.get("/channels")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", r, resp.StatusCode)
		}
		for _, w := range []string{"Harbour summit &lt;script&gt;", "✓ open", "Ana Duty", "<strong>duty officer</strong>", "555 0100",
			"Bo &lt;script&gt;", "⚠ 1 overdue", "⚠ acknowledgement overdue", "Crisis &lt;script&gt;", "Request &lt;script&gt;",
			"→ to bravo", "← from bravo", "… not yet delivered", "○ awaited", "⚠ 1 conflict", "<svg", `class="area conflict"`,
			"⚠ conflict</text>", "hatch-conflict", "✓ no conflict", "⚠ in conflict (1)", "Survey flight", "°E", "°N"} {
			if !strings.Contains(body, w) {
				t.Errorf("%s: /channels does not show %q", r, w)
			}
		}
		if i, j := strings.Index(body, "Crisis &lt;script&gt;"), strings.Index(body, "Request &lt;script&gt;"); i < 0 || j < 0 || i > j {
			t.Errorf("%s: the overdue crisis alert is not listed before the request", r)
		}
		_, one := c.get("/channels?channel=" + url.QueryEscape(f.channel))
		if !strings.Contains(one, "Show every channel") || !strings.Contains(one, "Crisis &lt;script&gt;") {
			t.Errorf("%s: the channel's own messages are not shown", r)
		}
	}
	c := f.as(t, auditor)
	resp, body := c.get("/channels")
	if resp.StatusCode != 200 {
		t.Fatalf("auditor: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "Harbour summit &lt;script&gt;") || !strings.Contains(body, "Ana Duty") {
		t.Errorf("auditor: the channel and its contacts are not shown")
	}
	for _, w := range []string{"Crisis", "Evacuate", "UAV trials", "Naval drill", "<svg", "⚠ conflict", "Deconfliction"} {
		if strings.Contains(body, w) {
			t.Errorf("auditor sees %q: what channels carry is for analysts", w)
		}
	}
}

// TestChannelsAck checks acknowledging an incoming message from the
// console: analysts and admins may, in a named person's name; the overdue
// alert is then acknowledged and no longer overdue; auditors may not;
// a missing name or an unknown message is refused with the reason.
func TestChannelsAck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ms, err := f.node.Hotline.Messages(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var alert string
	for _, m := range ms {
		if m.Message.Type == hotline.TypeCrisisAlert {
			alert = m.Message.ID
		}
	}
	if alert == "" {
		t.Fatal("no crisis alert in the fixture")
	}
	path := "/messages/" + alert + "/ack"

	aud := f.as(t, auditor)
	aud.get("/channels")
	if resp, _ := aud.post(path, url.Values{"by": {"Al Auditor"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor: %d, want 403", resp.StatusCode)
	}
	c := f.as(t, analyst)
	_, page := c.get("/channels")
	// The banner and the alert's row both offer it, and nothing else.
	if strings.Count(page, `action="`+path+`"`) != 2 || strings.Count(page, ">Acknowledge</button>") != 2 {
		t.Errorf("the page does not offer to acknowledge the incoming alert, and it alone, in the banner and its row")
	}
	for _, bad := range []struct{ path, by, want string }{
		{path, " ", "name the person"},
		{"/messages/message--00000000-0000-4000-8000-000000000000/ack", "Ana Duty", "not found"},
	} {
		resp, _ := c.post(bad.path, url.Values{"by": {bad.by}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s by %q: %d", bad.path, bad.by, resp.StatusCode)
		}
		if _, page := c.get(resp.Header.Get("Location")); !strings.Contains(page, bad.want) {
			t.Errorf("%s by %q: the page does not say %q", bad.path, bad.by, bad.want)
		}
	}
	resp, _ := c.post(path, url.Values{"by": {"Ana <b>Duty</b>"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", resp.StatusCode)
	}
	_, page = c.get(resp.Header.Get("Location"))
	for _, w := range []string{"Done:", "acknowledged “Crisis &lt;script&gt;", "✓ by Ana &lt;b&gt;Duty&lt;/b&gt;"} {
		if !strings.Contains(page, w) {
			t.Errorf("after acknowledging, the page does not show %q", w)
		}
	}
	if strings.Contains(page, "⚠ 1 overdue") || strings.Contains(page, ">Acknowledge</button>") {
		t.Errorf("the alert is still shown overdue or awaiting acknowledgement")
	}
	r, err := f.node.Hotline.Message(ctx, alert)
	if err != nil || r.State != hotline.Acknowledged {
		t.Errorf("stored alert: %v %v", r, err)
	}
}

// TestMatchingEmpty checks the empty states of the matching page: no
// budgets used, no watchlists, and what to do next.
func TestMatchingEmpty(t *testing.T) {
	f := newFixture(t)
	if m := drawNotices(nil); m != nil {
		t.Errorf("a map of no notices")
	}
	c := f.as(t, admin)
	_, body := c.get("/matching")
	for _, w := range []string{"No partner has matched against this node", "This node has no watchlists", "detente watchlist add"} {
		if !strings.Contains(body, w) {
			t.Errorf("/matching does not say %q", w)
		}
	}
}

// TestMatching checks the matching page and its form: auditors may not
// run matches or read budgets; a refused match is explained; a match's
// outcome is shown once, as text.
func TestMatching(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"partner": {"bravo"}, "type": {"phone"}, "mode": {"query"}, "selectors": {"+44 20 7946 0018\n+44 20 7946 0019"}}
	for _, r := range []detente.Role{nobody, auditor, analyst, admin} {
		t.Run(string(r), func(t *testing.T) {
			c := f.as(t, r)
			c.get("/matching")
			fm := url.Values{}
			for k, v := range form {
				fm[k] = v
			}
			resp, body := c.post("/matching", fm)
			switch r {
			case nobody:
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Fatalf("logged out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
				}
			case auditor:
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("auditor: %d, want 403\n%s", resp.StatusCode, body)
				}
				_, page := c.get("/matching")
				if strings.Contains(page, `action="/matching"`) || strings.Contains(page, "Budgets partners used") {
					t.Errorf("auditor sees the form or the budgets")
				}
			default:
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/matching" {
					t.Fatalf("%s: %d %q\n%s", r, resp.StatusCode, resp.Header.Get("Location"), body)
				}
				_, page := c.get("/matching")
				if !strings.Contains(page, "Not done:") || !strings.Contains(page, "allows private matching") {
					t.Errorf("%s: the refusal (no agreement allows matching) is not explained:\n%s", r, page)
				}
			}
		})
	}
	c := f.as(t, analyst)
	c.get("/matching")
	// Without the CSRF token: refused.
	if resp, _ := c.do(http.MethodPost, "/matching", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a match without the CSRF token: %d, want 403", resp.StatusCode)
	}
	// A bad line: nothing sent, the line named.
	bad := url.Values{"partner": {"bravo"}, "type": {"email"}, "mode": {"query"}, "selectors": {"not an email " + xssScript}}
	c.post("/matching", bad)
	if _, page := c.get("/matching"); !strings.Contains(page, "line 1") || strings.Contains(page, xssScript) {
		t.Errorf("a bad selector line is not reported, or not escaped")
	}
	// An outcome, shown once and escaped.
	count := 1
	c.f.h.sessions.setMatch(context.Background(), c.session(), &matchOutcome{Sent: 3, Result: &matching.Result{Partner: "bravo", Type: "email", Mode: "query",
		Matches: []string{xssScript}, Cost: 3, Used: 7, Limit: 100}})
	_, page := c.get("/matching")
	for _, w := range []string{"What bravo told this node", "● on the watchlist", "&lt;script&gt;alert(1)&lt;/script&gt;", "7 of 100"} {
		if !strings.Contains(page, w) {
			t.Errorf("the match outcome does not show %q", w)
		}
	}
	if strings.Contains(page, xssScript) {
		t.Errorf("a matched selector is not escaped")
	}
	if _, again := c.get("/matching"); strings.Contains(again, "What bravo told this node") {
		t.Errorf("the outcome is shown again on reload")
	}
	c.f.h.sessions.setMatch(context.Background(), c.session(), &matchOutcome{Sent: 5, Result: &matching.Result{Partner: "bravo", Type: "email", Mode: "count", Count: &count}})
	if _, page := c.get("/matching"); !strings.Contains(page, "<strong>1</strong> of them") {
		t.Errorf("a count is not shown")
	}
}
