package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"detente"
	"detente/internal/hotline"
)

// TestCrisisBanner checks the banner of unacknowledged crisis alerts:
// on every page for analysts and administrators, with the alert's text
// (escaped) and the forms to act on it; never for auditors; gone once
// the alert is acknowledged, from any page, which the browser comes back
// to.
func TestCrisisBanner(t *testing.T) {
	f := newFixture(t)
	pages := []string{"/", "/objects", "/partners", "/channels", "/screening", "/matching", "/release-check", "/objects/" + f.report}
	for _, r := range []detente.Role{admin, analyst} {
		c := f.as(t, r)
		for _, p := range pages {
			_, body := c.get(p)
			for _, w := range []string{`class="crisis"`, "A crisis alert awaits", "Crisis &lt;script&gt;", "Evacuate &lt;script&gt;",
				"⚠ acknowledgement overdue since", `action="/messages/` + f.alert + `/ack"`, `href="/messages/` + f.alert + `#reply"`,
				`name="back" value="` + p + `"`, "1 request from partners awaits an answer"} {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s: the banner does not show %q", r, p, w)
				}
			}
		}
	}
	aud := f.as(t, auditor)
	for _, p := range []string{"/", "/partners", "/channels", "/log"} {
		if _, body := aud.get(p); strings.Contains(body, `class="crisis"`) || strings.Contains(body, "Evacuate") {
			t.Errorf("auditor %s: the banner (and what channels carry) is shown", p)
		}
	}
	// Acknowledged from the partners page: back there, the banner gone.
	c := f.as(t, analyst)
	c.get("/partners")
	resp, _ := c.post("/messages/"+f.alert+"/ack", url.Values{"by": {"Ana Duty"}, "back": {"/partners"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/partners" {
		t.Fatalf("acknowledge: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.get("/partners")
	if !strings.Contains(body, "acknowledged “Crisis &lt;script&gt;") || strings.Contains(body, `class="crisis"`) {
		t.Errorf("after the acknowledgement: no confirmation, or the banner is still shown")
	}
	// A "back" that leaves the node is not followed.
	c.get("/channels")
	resp, _ = c.post("/messages/"+f.alert+"/ack", url.Values{"by": {"Ana Duty"}, "back": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/channels#msg-h" {
		t.Errorf("a foreign back address: sent to %q", loc)
	}
}

// TestChannelActions checks acting from the console: each action refused
// to auditors and strangers and without the CSRF token, done for
// analysts and admins through the hotline service (stored, logged,
// queued for the partner), and each refusal explained.
func TestChannelActions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	actions := []struct {
		name, path string
		form       url.Values
	}{
		{"send", "/messages", url.Values{"channel": {f.channel}, "type": {"notice"}, "subject": {"Gate 4 closed"}, "body": {"From 18:00"}}},
		{"request", "/messages", url.Values{"channel": {f.channel}, "type": {"request"}, "subject": {"Confirm?"}, "due": {"2h"}, "tlp": {"green"}}},
		{"crisis alert", "/messages", url.Values{"channel": {f.channel}, "type": {"crisis-alert"}, "subject": {"Device found"}, "by": {"Ana Duty"}}},
		{"notice", "/notices", url.Values{"channel": {f.channel}, "nature": {"Patrol"}, "lat": {"48.93"}, "lon": {"2.36"}, "radius": {"500"},
			"alt": {"0..FL30"}, "from": {"1h"}, "until": {"2h"}}},
	}
	form := func(v url.Values) url.Values { // a copy: post adds the CSRF token
		out := url.Values{}
		for k, x := range v {
			out[k] = x
		}
		return out
	}
	for _, a := range actions {
		for _, r := range []detente.Role{nobody, auditor} {
			c := f.as(t, r)
			c.get("/")
			resp, _ := c.post(a.path, form(a.form))
			want := http.StatusForbidden
			if r == nobody {
				want = http.StatusSeeOther
			}
			if resp.StatusCode != want || r == nobody && !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("%s by %s: %d %q", a.name, r, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		c := f.as(t, analyst)
		c.get("/channels")
		if resp, _ := c.do(http.MethodPost, a.path, a.form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without the CSRF token: %d", a.name, resp.StatusCode)
		}
		for _, r := range []detente.Role{analyst, admin} {
			c := f.as(t, r)
			c.get("/channels")
			resp, _ := c.post(a.path, form(a.form))
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s by %s: %d", a.name, r, resp.StatusCode)
			}
			_, page := c.get(resp.Header.Get("Location"))
			if !strings.Contains(page, "Done:") {
				t.Errorf("%s by %s: at %s, no confirmation", a.name, r, resp.Header.Get("Location"))
			}
		}
	}
	ms, err := f.node.Hotline.Messages(ctx, f.channel)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range ms {
		if m.Outgoing {
			count[string(m.Message.Type)+":"+m.Message.Subject]++
			if m.Message.Subject == "Confirm?" && (len(m.Message.Markings) != 1 || m.Message.Markings[0] != detente.MarkingGreen || m.Message.Due.IsZero()) {
				t.Errorf("the request as sent: %+v", m.Message)
			}
		}
	}
	for _, w := range []string{"notice:Gate 4 closed", "request:Confirm?", "crisis-alert:Device found", "notice:planned activity: Patrol"} {
		if count[w] != 2 {
			t.Errorf("%s sent %d times, want 2 (analyst and admin)", w, count[w])
		}
	}

	// Refusals, each explained on the page the browser is sent back to.
	c := f.as(t, analyst)
	for _, bad := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/messages", url.Values{"channel": {f.channel}, "type": {"ack"}, "subject": {"x"}}, "choose what to send"},
		{"/messages", url.Values{"channel": {f.channel}, "type": {"request"}, "subject": {"x"}}, "needs the time its response is due"},
		{"/messages", url.Values{"channel": {f.channel}, "type": {"request"}, "subject": {"x"}, "due": {"soon"}}, "is not a time"},
		{"/messages", url.Values{"channel": {f.channel}, "type": {"notice"}, "subject": {"x"}, "tlp": {"purple"}}, "choose a TLP marking"},
		{"/messages", url.Values{"channel": {f.channel}, "type": {"notice"}, "subject": {"x"}, "tlp": {"red"}}, "no agreement in force allows TLP:RED"},
		{"/messages", url.Values{"channel": {"channel--nope"}, "type": {"notice"}, "subject": {"x"}}, "not found"},
		{"/notices", url.Values{"channel": {f.channel}, "nature": {"x"}, "lat": {"48.9"}, "lon": {"2.3"}, "radius": {"500"}, "alt": {"0-FL30"},
			"from": {"1h"}, "until": {"2h"}}, "want lower..upper"},
		{"/notices", url.Values{"channel": {f.channel}, "nature": {"x"}, "lat": {"48.9"}, "lon": {"2.3"}, "radius": {"500"}, "alt": {"0..FL30"},
			"geojson": {`{"type": "Polygon"}`}, "from": {"1h"}, "until": {"2h"}}, "not both"},
		{"/notices", url.Values{"channel": {f.channel}, "nature": {"x"}, "lat": {"north"}, "lon": {"2.3"}, "radius": {"500"}, "alt": {"0..FL30"},
			"from": {"1h"}, "until": {"2h"}}, "latitude"},
		{"/notices", url.Values{"channel": {f.channel}, "nature": {"x"}, "lat": {"48.9"}, "lon": {"2.3"}, "radius": {"500"}, "alt": {"0..FL30"}},
			"needs a start and an end"},
		{"/messages/" + f.request + "/reply", url.Values{}, "write the reply"},
		{"/messages/" + f.alert + "/reply", url.Values{"type": {"response"}, "subject": {"x"}}, "a notice or a crisis alert"},
		{"/notices/" + f.theirNotice + "/amend", url.Values{"nature": {"mine now"}}, "not found"},
		{"/notices/" + f.ownNotice + "/amend", url.Values{"nature": {"UAV trials " + xssScript}}, "changes nothing"},
		{"/messages/" + f.alert + "/ack", url.Values{"by": {strings.Repeat("x", 201)}}, "at most 200 bytes"},
	} {
		c.get("/channels")
		resp, body := c.post(bad.path, bad.form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s %v: %d\n%s", bad.path, bad.form, resp.StatusCode, body)
			continue
		}
		if _, page := c.get(resp.Header.Get("Location")); !strings.Contains(page, "Not done:") || !strings.Contains(page, bad.want) {
			t.Errorf("%s %v: the page does not say %q", bad.path, bad.form, bad.want)
		}
	}
}

// TestAnswerAndReply checks answering a partner's request (a response to
// it, which marks it answered) and replying to a crisis alert (a new
// message on its channel), and what the message pages say to do.
func TestAnswerAndReply(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.as(t, analyst)
	_, page := c.get("/messages/" + f.request)
	for _, w := range []string{"Answer this request", "asks this node for a response by", "goes to bravo only", "Bravo asks &#34;&gt;&lt;img"} {
		if !strings.Contains(page, w) {
			t.Errorf("the request's page does not say %q", w)
		}
	}
	if strings.Contains(page, "chase the partner") {
		t.Error("the receiving side is told to chase the partner")
	}
	resp, _ := c.post("/messages/"+f.request+"/reply", url.Values{"subject": {"Route confirmed"}, "body": {"Gate 4"}, "by": {"Ana Duty"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/messages/message--") {
		t.Fatalf("answer: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = c.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "response sent") || !strings.Contains(page, `href="/messages/`+f.request+`"`) {
		t.Errorf("the response's page does not confirm it or link the request")
	}
	if r, err := f.node.Hotline.Message(ctx, f.request); err != nil || r.State != hotline.Answered {
		t.Errorf("the request after the answer: %v %v", r, err)
	}
	if _, page := c.get("/messages/" + f.request); strings.Contains(page, "Answer this request") {
		t.Error("an answered request still asks for an answer")
	}

	_, page = c.get("/messages/" + f.alert)
	for _, w := range []string{"Acknowledge", "waits for this node to acknowledge this crisis alert", "Reply", "crisis alert (needs an acknowledgement"} {
		if !strings.Contains(page, w) {
			t.Errorf("the crisis alert's page does not say %q", w)
		}
	}
	resp, _ = c.post("/messages/"+f.alert+"/reply", url.Values{"type": {"crisis-alert"}, "subject": {"Evacuating gate 4"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	ms, _ := f.node.Hotline.Messages(ctx, f.channel)
	found := false
	for _, m := range ms {
		found = found || m.Outgoing && m.Message.Type == hotline.TypeCrisisAlert && m.Message.Subject == "Evacuating gate 4" && m.Message.InReplyTo == ""
	}
	if !found {
		t.Error("the reply to the crisis alert was not sent as a crisis alert on its channel")
	}
	// This node's own message: what the partner must do, and whom to call.
	var sent string
	for _, m := range ms {
		if m.Outgoing && m.Message.Type == hotline.TypeCrisisAlert {
			sent = m.Message.ID
		}
	}
	f.advance(10 * 60 * 1e9) // past its deadline
	_, page = c.get("/messages/" + sent)
	for _, w := range []string{"Not acknowledged in time", "Call the partner's contacts", "liaison officer", "bo@bravo.example"} {
		if !strings.Contains(page, w) {
			t.Errorf("this node's overdue crisis alert does not say %q", w)
		}
	}
	if strings.Contains(page, `action="/messages/`+sent+`/ack"`) {
		t.Error("this node is offered to acknowledge its own message")
	}
	// The overview: what waits for this node, and what this node waits for.
	_, page = c.get("/")
	for _, w := range []string{"Waiting for this node", "Crisis &lt;script&gt;", "acknowledgement overdue",
		"Not acknowledged or answered by partners in time", "Evacuating gate 4"} {
		if !strings.Contains(page, w) {
			t.Errorf("the analyst's overview does not show %q", w)
		}
	}
}

// TestNoticeActions checks filing, amending and cancelling a notice from
// the console: the notice's page, its conflicts and map, the forms for
// this node's notices only.
func TestNoticeActions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.as(t, analyst)
	_, page := c.get("/notices/" + f.ownNotice)
	for _, w := range []string{"UAV trials &lt;script&gt;", "this node (alpha)", "⚠ in conflict (1)", "0m..120m", "overlap from", "<svg",
		`action="/notices/` + f.ownNotice + `/amend"`, `action="/notices/` + f.ownNotice + `/cancel"`, `value="0m..120m"`} {
		if !strings.Contains(page, w) {
			t.Errorf("alpha's notice page does not show %q", w)
		}
	}
	_, page = c.get("/notices/" + f.theirNotice)
	if strings.Contains(page, "/amend") || !strings.Contains(page, "Only bravo may amend") {
		t.Error("bravo's notice offers to amend it")
	}
	if resp, _ := c.get("/notices/activity--nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown notice: %d", resp.StatusCode)
	}
	// Amend: moved away, the conflict is resolved.
	c.get("/notices/" + f.ownNotice)
	resp, _ := c.post("/notices/"+f.ownNotice+"/amend", url.Values{"lat": {"49.5"}, "lon": {"3.5"}, "radius": {"1000"}, "reason": {"moved"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("amend: %d", resp.StatusCode)
	}
	_, page = c.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "amendment sent (version 2): no conflict") || !strings.Contains(page, "version 2") {
		t.Errorf("after the amendment:\n%s", page)
	}
	if cs, _ := f.node.Hotline.Conflicts(ctx); len(cs) != 0 {
		t.Errorf("conflicts after moving the notice away: %v", cs)
	}
	// Cancel: no more forms.
	c.get("/notices/" + f.ownNotice)
	resp, _ = c.post("/notices/"+f.ownNotice+"/cancel", url.Values{"reason": {"called off"}, "by": {"Ana Duty"}})
	_, page = c.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "notice cancelled") || !strings.Contains(page, "✕ cancelled") || strings.Contains(page, "/amend") {
		t.Errorf("after cancelling:\n%s", page)
	}
	c.get("/notices/" + f.ownNotice)
	resp, _ = c.post("/notices/"+f.ownNotice+"/cancel", url.Values{})
	if _, page := c.get(resp.Header.Get("Location")); !strings.Contains(page, "already cancelled") {
		t.Error("cancelling twice is not refused")
	}
}
