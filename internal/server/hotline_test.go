package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/nodetest"
	proto "detente/internal/peer"
	"detente/internal/server"
)

// fastHotline makes retries, escalation and pushes quick enough for tests
// on loopback.
var fastHotline = hotline.RunOptions{Poll: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond,
	MaxBackoff: 300 * time.Millisecond, Escalate: 50 * time.Millisecond, Push: 50 * time.Millisecond}

func startHotlinePeer(t *testing.T, name string, opts hotline.RunOptions) *peer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := nodetest.Init(context.Background(), dir, name); err != nil {
		t.Fatal(err)
	}
	return openHotlinePeer(t, dir, "127.0.0.1:0", opts)
}

func openHotlinePeer(t *testing.T, dir, addr string, opts hotline.RunOptions) *peer {
	t.Helper()
	n, err := nodetest.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{Node: n, dir: dir, srv: server.New(n, nil, server.Options{Hotline: opts})}
	if err := p.srv.Listen(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *peer) restart(t *testing.T, opts hotline.RunOptions) *peer {
	t.Helper()
	dir, addr := p.dir, strings.TrimPrefix(p.srv.URL(), "https://")
	p.stop()
	return openHotlinePeer(t, dir, addr, opts)
}

// eventually waits for cond, polling: the nodes talk over real sockets.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

func stateOf(t *testing.T, p *peer, id string) hotline.State {
	t.Helper()
	ch, err := p.Hotline.Channel(context.Background(), id)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return ch.State
}

// channelEvents returns the bodies of p's channel log events with action.
func channelEvents(t *testing.T, p *peer, action string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	var es []*detente.Event
	if err := p.Store.View(ctx, func(tx detente.Tx) (err error) {
		es, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventChannel})
		return
	}); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range es {
		var b map[string]any
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b["action"] == action {
			out = append(out, b)
		}
	}
	return out
}

func alertsOf(t *testing.T, p *peer) []*detente.Alert {
	t.Helper()
	ctx := context.Background()
	var as []*detente.Alert
	if err := p.Store.View(ctx, func(tx detente.Tx) (err error) { as, err = tx.Alerts(ctx, 1000); return }); err != nil {
		t.Fatal(err)
	}
	return as
}

// openChannel has a propose a channel to the others and each of them
// accept it, and returns its id once it is open everywhere.
func openChannel(t *testing.T, ack map[hotline.MessageType]hotline.Duration, a *peer, others ...*peer) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var names []string
	for _, o := range others {
		names = append(names, o.Name)
	}
	res, err := a.Hotline.ProposeChannel(ctx, hotline.ChannelRequest{Purpose: "Euro 2028 security", Event: "Euro 2028",
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), Partners: names, AckWithin: ack,
		Contacts: map[string][]hotline.Contact{a.Name: {{Name: "J. Smith", Role: hotline.RoleDutyOfficer}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pending) > 0 {
		t.Fatalf("proposal not delivered: %v", res.Pending)
	}
	id := res.Channel.ID
	for _, o := range others {
		if _, err := o.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "agreed"); err != nil {
			t.Fatalf("%s accepts: %v", o.Name, err)
		}
	}
	for _, p := range append([]*peer{a}, others...) {
		eventually(t, p.Name+" sees the channel open", func() bool { return stateOf(t, p, id) == hotline.StateOpen })
	}
	return id
}

// TestChannelLifecycle: propose → open → suspend → reopen → close between
// two real nodes, each transition made on one side, applied and logged on
// both.
func TestChannelLifecycle(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	now := time.Now().UTC()
	res, err := alpha.Hotline.ProposeChannel(ctx, hotline.ChannelRequest{Purpose: "Euro 2028 security", Event: "Euro 2028",
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), Partners: []string{"bravo"},
		AckWithin: map[hotline.MessageType]hotline.Duration{hotline.TypeCrisisAlert: hotline.Duration(5 * time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Channel.ID
	if !slices.Equal(res.Pushed, []string{"bravo"}) || stateOf(t, bravo, id) != hotline.StateProposed {
		t.Fatalf("proposal: pushed %v pending %v, bravo sees %q", res.Pushed, res.Pending, stateOf(t, bravo, id))
	}
	if _, err := alpha.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "self-accept"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("the proposer accepted its own proposal: %v", err)
	}
	steps := []struct {
		by     *peer
		to     hotline.State
		reason string
	}{
		{bravo, hotline.StateOpen, "agreed for the tournament"},
		{alpha, hotline.StateSuspended, "incident under review"},
		{bravo, hotline.StateOpen, "review over"},
		{alpha, hotline.StateClosed, "tournament over"},
	}
	for _, s := range steps {
		res, err := s.by.Hotline.ChangeChannel(ctx, id, s.to, s.reason)
		if err != nil {
			t.Fatalf("%s → %s: %v", s.by.Name, s.to, err)
		}
		if len(res.Pending) > 0 {
			t.Fatalf("%s → %s not delivered: %v", s.by.Name, s.to, res.Pending)
		}
		if a, b := stateOf(t, alpha, id), stateOf(t, bravo, id); a != s.to || b != s.to {
			t.Fatalf("after %s → %s: alpha %s, bravo %s", s.by.Name, s.to, a, b)
		}
	}
	if _, err := bravo.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "again"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("a closed channel reopened: %v", err)
	}
	for _, p := range []*peer{alpha, bravo} {
		var got []string
		for _, e := range channelEvents(t, p, "transition") {
			got = append(got, fmt.Sprintf("%v:%v:%v", e["seq"], e["to"], e["by"]))
		}
		want := []string{"1:proposed:alpha", "2:open:bravo", "3:suspended:alpha", "4:open:bravo", "5:closed:alpha"}
		if !slices.Equal(got, want) {
			t.Errorf("%s logged %v, want %v", p.Name, got, want)
		}
	}
	// The running nodes do not push what the partner holds already.
	ch, _ := bravo.Hotline.Channel(ctx, id)
	if len(ch.Transitions) != 5 {
		t.Errorf("bravo holds %d transitions", len(ch.Transitions))
	}
}

// TestChannelThreeNodes: a channel of three opens with the last
// acceptance, and a message reaches both partners.
func TestChannelThreeNodes(t *testing.T) {
	ctx := context.Background()
	alpha, bravo, charlie := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline), startHotlinePeer(t, "charlie", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	link(t, alpha, charlie, "amber", intel...)
	link(t, bravo, charlie, "amber", intel...)
	now := time.Now().UTC()
	res, err := alpha.Hotline.ProposeChannel(ctx, hotline.ChannelRequest{Purpose: "Euro 2028 security", Partners: []string{"bravo", "charlie"},
		NotBefore: now.Add(-time.Hour), Reason: "tournament liaison"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Channel.ID
	if _, err := bravo.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "bravo agrees"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{alpha, bravo, charlie} {
		eventually(t, p.Name+" holds bravo's acceptance", func() bool {
			ch, err := p.Hotline.Channel(ctx, id)
			return err == nil && len(ch.Transitions) == 2
		})
		if s := stateOf(t, p, id); s != hotline.StateProposed {
			t.Fatalf("%s: channel is %s after one of two acceptances", p.Name, s)
		}
	}
	if _, err := charlie.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "charlie agrees"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{alpha, bravo, charlie} {
		eventually(t, p.Name+" sees the channel open", func() bool { return stateOf(t, p, id) == hotline.StateOpen })
	}
	sent, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeRequest, Author: "J. Smith",
		Subject: "stadium perimeter", Body: "Confirm your teams' arrival times.", Due: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	mid := sent.Record.Message.ID
	for _, p := range []*peer{bravo, charlie} {
		eventually(t, p.Name+" holds the request", func() bool { _, err := p.Hotline.Message(ctx, mid); return err == nil })
	}
	eventually(t, "alpha sees it delivered", func() bool {
		r, _ := alpha.Hotline.Message(ctx, mid)
		return r.State == hotline.Delivered
	})
	// bravo answers; the response goes to alpha only.
	resp, err := bravo.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeResponse, InReplyTo: mid, Body: "18:00 at gate C"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "alpha sees the request answered", func() bool {
		r, _ := alpha.Hotline.Message(ctx, mid)
		return r.State == hotline.Answered
	})
	if _, err := charlie.Hotline.Message(ctx, resp.Record.Message.ID); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("charlie received bravo's response to alpha: %v", err)
	}
}

// TestMessagesAcrossRestart: messages queued while the recipient is down,
// with the sender restarting too, all arrive once; acknowledgements come
// back; redelivery is a duplicate.
func TestMessagesAcrossRestart(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)

	bravoDir, bravoAddr := bravo.dir, strings.TrimPrefix(bravo.srv.URL(), "https://")
	bravo.stop()
	var ids []string
	send := func(typ hotline.MessageType, i int) {
		req := hotline.MessageRequest{Channel: id, Type: typ, Author: "J. Smith", Subject: fmt.Sprintf("message %d", i), Body: "text"}
		if typ == hotline.TypeRequest {
			req.Due = time.Now().Add(time.Hour)
		}
		r, err := alpha.Hotline.SendMessage(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Record.Message.ID)
	}
	for i := range 5 {
		send(hotline.TypeRequest, i)
	}
	send(hotline.TypeCrisisAlert, 5)
	// Let the outbox fail a few times, then restart the sender as well.
	eventually(t, "alpha's outbox has tried", func() bool {
		r, _ := alpha.Hotline.Message(ctx, ids[0])
		return r.Deliveries[0].Attempts >= 2
	})
	alpha = alpha.restart(t, fastHotline)
	bravo = openHotlinePeer(t, bravoDir, bravoAddr, fastHotline)

	incoming := func(p *peer) map[string]int {
		rs, err := p.Hotline.Store().Messages(ctx, hotline.MessageFilter{Channel: id})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, r := range rs {
			if !r.Outgoing {
				got[r.Message.ID]++
			}
		}
		return got
	}
	eventually(t, "bravo holds all six", func() bool { return len(incoming(bravo)) == len(ids) })
	eventually(t, "alpha sees all delivered", func() bool {
		for _, mid := range ids {
			if r, _ := alpha.Hotline.Message(ctx, mid); r.State == hotline.Sent {
				return false
			}
		}
		return true
	})

	// bravo acknowledges the crisis alert, then restarts before alpha is
	// even told: the acknowledgement still arrives.
	crisis := ids[5]
	if _, err := bravo.Hotline.AckMessage(ctx, crisis, "K. Jones"); err != nil {
		t.Fatal(err)
	}
	bravo = bravo.restart(t, fastHotline)
	eventually(t, "alpha sees the crisis alert acknowledged", func() bool {
		r, _ := alpha.Hotline.Message(ctx, crisis)
		return r.State == hotline.Acknowledged
	})
	r, _ := alpha.Hotline.Message(ctx, crisis)
	if r.Deliveries[0].AckedBy != "K. Jones" {
		t.Errorf("acknowledged by %q", r.Deliveries[0].AckedBy)
	}
	if _, err := bravo.Hotline.AckMessage(ctx, crisis, "K. Jones"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("second acknowledgement: %v", err)
	}

	// Three more after bravo's restart.
	for i := range 3 {
		send(hotline.TypeRequest, 10+i)
	}
	eventually(t, "bravo holds all nine", func() bool { return len(incoming(bravo)) == len(ids) })

	// Redelivery of a stored message is a duplicate: success, not stored again.
	stored, _ := alpha.Hotline.Message(ctx, ids[0])
	b, _ := hotline.EncodeMessage(stored.Message)
	status, body := postTo(t, alpha, bravo, proto.ChannelMessagesPath, b)
	if status != http.StatusOK || !strings.Contains(body, `"duplicate":true`) {
		t.Errorf("redelivery: %d %s", status, body)
	}
	got := incoming(bravo)
	for _, mid := range ids {
		if got[mid] != 1 {
			t.Errorf("bravo holds message %s %d times", mid, got[mid])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("bravo holds %d messages, want %d", len(got), len(ids))
	}
	// Logged once each on the receiving side.
	logged := map[string]int{}
	for _, e := range channelEvents(t, bravo, "message") {
		if e["direction"] == "in" {
			logged[e["message"].(string)]++
		}
	}
	for _, mid := range ids {
		if logged[mid] != 1 {
			t.Errorf("bravo logged message %s %d times", mid, logged[mid])
		}
	}
}

// postTo posts body to path on to's node over from's mutual TLS, and
// returns the status and body.
func postTo(t *testing.T, from, to *peer, path string, body []byte) (int, string) {
	t.Helper()
	hc, err := from.PartnerClient(&detente.Partner{Name: to.Name, Key: to.PublicKey(), URL: to.srv.URL(), State: detente.PartnerActive})
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(to.srv.URL()+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func signed(t *testing.T, m *hotline.Message, key ed25519.PrivateKey) []byte {
	t.Helper()
	m.Sign(key)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChannelStates: a suspended channel carries only crisis alerts and
// their acknowledgements; a closed one carries nothing, whoever sends.
func TestChannelStates(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)
	if _, err := alpha.Hotline.ChangeChannel(ctx, id, hotline.StateSuspended, "incident under review"); err != nil {
		t.Fatal(err)
	}
	_, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeRequest, Subject: "x", Due: time.Now().Add(time.Hour)})
	if detente.ErrorCode(err) != detente.ECONFLICT || !strings.Contains(err.Error(), "suspended") {
		t.Errorf("request on a suspended channel: %v", err)
	}
	// A partner that ignores the state is refused by bravo.
	m := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	m.Subject = "routine"
	if status, body := postTo(t, alpha, bravo, proto.ChannelMessagesPath, signed(t, m, alpha.Key)); status != http.StatusConflict || !strings.Contains(body, "suspended") {
		t.Errorf("notice on a suspended channel: %d %s", status, body)
	}
	crisis, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeCrisisAlert, Subject: "drone over the stadium"})
	if err != nil {
		t.Fatal(err)
	}
	cid := crisis.Record.Message.ID
	eventually(t, "bravo holds the crisis alert", func() bool { _, err := bravo.Hotline.Message(ctx, cid); return err == nil })
	if _, err := bravo.Hotline.AckMessage(ctx, cid, "K. Jones"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alpha sees the acknowledgement", func() bool {
		r, _ := alpha.Hotline.Message(ctx, cid)
		return r.State == hotline.Acknowledged
	})

	if _, err := bravo.Hotline.ChangeChannel(ctx, id, hotline.StateClosed, "tournament over"); err != nil {
		t.Fatal(err)
	}
	_, err = alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeCrisisAlert, Subject: "late alert"})
	if detente.ErrorCode(err) != detente.ECONFLICT || !strings.Contains(err.Error(), "closed") {
		t.Errorf("crisis alert on a closed channel: %v", err)
	}
	m = hotline.NewMessage(id, hotline.TypeCrisisAlert, time.Now())
	m.Subject = "late alert"
	if status, body := postTo(t, alpha, bravo, proto.ChannelMessagesPath, signed(t, m, alpha.Key)); status != http.StatusConflict || !strings.Contains(body, "closed") {
		t.Errorf("crisis alert on a closed channel: %d %s", status, body)
	}
	codes := map[any]int{}
	for _, e := range channelEvents(t, bravo, "refused") {
		codes[e["code"]]++
	}
	if codes[detente.ECONFLICT] != 2 {
		t.Errorf("bravo logged refusals %v, want 2 conflicts", codes)
	}
}

// TestHotlineBadInput: what a partner sends wrongly is refused with a
// clear error and logged; so is a local notice with malformed GeoJSON.
func TestHotlineBadInput(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)
	_, other, _ := ed25519.GenerateKey(nil)

	unsigned := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	unsigned.Subject, unsigned.From = "no signature", alpha.PublicKey()
	unsignedBody, _ := json.Marshal(unsigned)

	wrong := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	wrong.Subject = "signed by someone else"
	wrong.Sign(other)
	wrong.From = alpha.PublicKey()
	wrongBody, _ := json.Marshal(wrong)

	impostor := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	impostor.Subject = "claims another sender"

	unknownAck := hotline.NewAck(&hotline.Message{ID: "message--00000000-0000-4000-8000-000000000000", Channel: id}, "J. Smith", time.Now(), alpha.Key)

	badGeo := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	badGeo.Subject = "flights"
	badGeo.Activity = &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive,
		Area:  hotline.Area{Polygon: &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{{{2.25, 48.83}, {181, 48.83}, {2.27, 48.85}, {2.25, 48.83}}}}},
		Band:  hotline.Band{Lower: hotline.Height{Value: 0, Unit: "m"}, Upper: hotline.Height{Value: 100, Unit: "m"}},
		Start: time.Now(), End: time.Now().Add(time.Hour), Nature: "UAV flights"}

	cases := []struct {
		name   string
		body   []byte
		status int
		want   string
	}{
		{"unsigned", unsignedBody, 400, "signature does not verify"},
		{"wrongly signed", wrongBody, 400, "signature does not verify"},
		{"another sender", signed(t, impostor, other), 403, "claims to be from"},
		{"ack of unknown message", signed(t, unknownAck, alpha.Key), 400, "unknown message"},
		{"malformed GeoJSON", signed(t, badGeo, alpha.Key), 400, "longitude 181 is outside"},
		{"not JSON", []byte(`{"id":`), 400, "decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := postTo(t, alpha, bravo, proto.ChannelMessagesPath, c.body)
			if status != c.status || !strings.Contains(body, c.want) {
				t.Errorf("got %d %s, want %d and %q", status, body, c.status, c.want)
			}
		})
	}
	refused := channelEvents(t, bravo, "refused")
	if len(refused) != len(cases) {
		t.Errorf("bravo logged %d refusals, want %d: %v", len(refused), len(cases), refused)
	}
	for _, e := range refused {
		if e["error"] == "" || e["code"] == "" {
			t.Errorf("refusal logged without its reason: %v", e)
		}
	}
	rs, _ := bravo.Hotline.Store().Messages(ctx, hotline.MessageFilter{})
	if len(rs) != 0 {
		t.Errorf("bravo stored %d refused messages", len(rs))
	}

	// The same mistakes made locally are refused before anything is stored.
	if _, err := bravo.Hotline.AckMessage(ctx, "message--00000000-0000-4000-8000-000000000000", "K. Jones"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("local ack of an unknown message: %v", err)
	}
	_, err := alpha.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Area: badGeo.Activity.Area, Band: badGeo.Activity.Band,
		Start: time.Now(), End: time.Now().Add(time.Hour), Nature: "UAV flights"})
	if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "GeoJSON polygon: exterior ring position 1") {
		t.Errorf("local malformed GeoJSON: %v", err)
	}
	if _, err := hotline.ParsePolygon([]byte(`{"type":"Polygon","coordinates":[[[2.25,48.83],[2.27,48.83]]]}`)); err == nil {
		t.Error("an unclosed two-point ring parsed")
	}
	// A transition signed by a non-party is refused and logged too.
	ch, _ := alpha.Hotline.Channel(ctx, id)
	tr := hotline.NewTransition(ch, hotline.StateClosed, "not yours", time.Now(), other)
	var w proto.ChannelHistory
	for _, x := range append(ch.Transitions, tr) {
		b, _ := json.Marshal(x)
		w.Transitions = append(w.Transitions, b)
	}
	b, _ := json.Marshal(w)
	if status, body := postTo(t, alpha, bravo, proto.ChannelTransitionsPath, b); status != http.StatusForbidden || !strings.Contains(body, "not a party") {
		t.Errorf("transition by a non-party: %d %s", status, body)
	}
	if s := stateOf(t, bravo, id); s != hotline.StateOpen {
		t.Errorf("bravo's channel is %s", s)
	}
}

// TestHotlineDeconfliction: overlapping notices filed on each side
// raise a conflict alert on both, naming both notices; amending one away
// resolves it on both, amending it back raises it again, and cancelling
// it resolves it on both.
func TestHotlineDeconfliction(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	a, err := alpha.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "J. Smith",
		Area:  hotline.Area{Circle: &hotline.Circle{Lat: 48.9245, Lon: 2.3602, Radius: 3000}},
		Band:  hotline.Band{Lower: hotline.Height{Value: 0, Unit: "m"}, Upper: hotline.Height{Value: 50, Unit: "fl"}},
		Start: start, End: start.Add(4 * time.Hour), Nature: "police helicopter patrols"})
	if err != nil {
		t.Fatal(err)
	}
	poly := &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{{{2.37, 48.91}, {2.42, 48.91}, {2.42, 48.94}, {2.37, 48.94}, {2.37, 48.91}}}}
	b, err := bravo.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "K. Jones", Area: hotline.Area{Polygon: poly},
		Band:  hotline.Band{Lower: hotline.Height{Value: 500, Unit: "m"}, Upper: hotline.Height{Value: 1500, Unit: "m"}},
		Start: start.Add(2 * time.Hour), End: start.Add(8 * time.Hour), Nature: "counter-drone trials"})
	if err != nil {
		t.Fatal(err)
	}
	aid, bid := a.Record.Message.Activity.ID, b.Record.Message.Activity.ID
	names := func(p *peer) bool {
		for _, al := range alertsOf(t, p) {
			if al.Kind == detente.AlertChannel && strings.Contains(al.Message, aid) && strings.Contains(al.Message, bid) {
				return true
			}
		}
		return false
	}
	for _, p := range []*peer{alpha, bravo} {
		eventually(t, p.Name+" has a conflict alert naming both notices", func() bool { return names(p) })
		cs, err := p.Hotline.Conflicts(ctx)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s conflicts: %v %v", p.Name, cs, err)
		}
		if c := cs[0]; !c.Start.Equal(start.Add(2*time.Hour)) || !c.End.Equal(start.Add(4*time.Hour)) || c.Lower != 500 || c.Upper != 1500 {
			t.Errorf("%s: overlap %+v", p.Name, c)
		}
		if len(channelEvents(t, p, "conflict")) != 1 {
			t.Errorf("%s did not log the conflict once", p.Name)
		}
	}
	// Amending alpha's notice to end when bravo's starts resolves the
	// conflict on both sides; amending it again to overlap raises it again.
	early, later := start.Add(2*time.Hour), start.Add(3*time.Hour)
	am, err := alpha.Hotline.AmendNotice(ctx, aid, hotline.AmendNoticeRequest{Author: "J. Smith", End: &early, Reason: "patrols end earlier"})
	if err != nil {
		t.Fatal(err)
	}
	if v := am.Record.Message.Activity.Version; v != 2 || len(am.Conflicts) != 0 {
		t.Errorf("amendment: version %d, conflicts %v", v, am.Conflicts)
	}
	for _, p := range []*peer{alpha, bravo} {
		eventually(t, p.Name+" sees the conflict resolved by the amendment", func() bool { cs, _ := p.Hotline.Conflicts(ctx); return len(cs) == 0 })
	}
	held := func(p *peer) int {
		ns, _ := p.Hotline.Notices(ctx)
		for _, x := range ns {
			if x.Activity.ID == aid {
				return x.Activity.Version
			}
		}
		return 0
	}
	eventually(t, "bravo holds version 2 of alpha's notice", func() bool { return held(bravo) == 2 })
	if _, err := alpha.Hotline.AmendNotice(ctx, aid, hotline.AmendNoticeRequest{End: &early}); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("an amendment that changes nothing: %v", err)
	}
	if _, err := alpha.Hotline.AmendNotice(ctx, bid, hotline.AmendNoticeRequest{End: &early}); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("amending bravo's notice at alpha: %v", err)
	}
	if _, err := alpha.Hotline.AmendNotice(ctx, aid, hotline.AmendNoticeRequest{End: &later}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{alpha, bravo} {
		eventually(t, p.Name+" sees the conflict again", func() bool {
			cs, _ := p.Hotline.Conflicts(ctx)
			return len(cs) == 1 && cs[0].End.Equal(later)
		})
	}
	if _, err := alpha.Hotline.CancelNotice(ctx, aid, "J. Smith", "patrols moved"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{alpha, bravo} {
		eventually(t, p.Name+" sees the conflict resolved", func() bool { cs, _ := p.Hotline.Conflicts(ctx); return len(cs) == 0 })
	}
	if _, err := alpha.Hotline.AmendNotice(ctx, aid, hotline.AmendNoticeRequest{End: &later}); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("amending a cancelled notice: %v", err)
	}
}

// TestMessageEgress: a message refers to STIX objects only if each may be
// released to the partner, and carries a marking only within the
// agreement's TLP ceiling.
func TestMessageEgress(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "ok"), indicator(red, detente.MarkingRed, "protected source"))
	id := openChannel(t, nil, alpha, bravo)
	_, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeNotice, Subject: "see these", Refs: []string{green, red}})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), red) || strings.Contains(err.Error(), green+":") {
		t.Errorf("refs with a RED object: %v", err)
	}
	_, err = alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeNotice, Subject: "eyes only", Markings: []string{detente.MarkingRed}})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "TLP:RED") {
		t.Errorf("RED message under an AMBER agreement: %v", err)
	}
	ok, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeNotice, Subject: "see this", Refs: []string{green}, Markings: []string{detente.MarkingAmber}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "bravo holds the message", func() bool { _, err := bravo.Hotline.Message(ctx, ok.Record.Message.ID); return err == nil })
}

// TestHotlineEscalation: an unacknowledged crisis alert is resent,
// alerts alpha's duty officer (alerts table and webhook) and is shown
// overdue first.
func TestHotlineEscalation(t *testing.T) {
	ctx := context.Background()
	var mu gosync.Mutex
	var hooks []hotline.Alert
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a hotline.Alert
		json.NewDecoder(r.Body).Decode(&a)
		mu.Lock()
		hooks = append(hooks, a)
		mu.Unlock()
	}))
	defer hook.Close()
	opts := fastHotline
	opts.Webhook = hook.URL
	alpha, bravo := startHotlinePeer(t, "alpha", opts), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, map[hotline.MessageType]hotline.Duration{hotline.TypeCrisisAlert: hotline.Duration(300 * time.Millisecond)}, alpha, bravo)
	if _, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeNotice, Subject: "routine"}); err != nil {
		t.Fatal(err)
	}
	c, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeCrisisAlert, Subject: "drone over the fan zone"})
	if err != nil {
		t.Fatal(err)
	}
	cid := c.Record.Message.ID
	eventually(t, "the webhook gets the missed acknowledgement", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(hooks, func(a hotline.Alert) bool { return a.Kind == hotline.AlertAckOverdue && a.Message == cid })
	})
	mu.Lock()
	i := slices.IndexFunc(hooks, func(a hotline.Alert) bool { return a.Kind == hotline.AlertAckOverdue })
	if a := hooks[i]; a.DutyOfficer != "J. Smith" || a.Node != "alpha" || !slices.Equal(a.Partners, []string{"bravo"}) {
		t.Errorf("webhook alert %+v", a)
	}
	mu.Unlock()
	if !slices.ContainsFunc(alertsOf(t, alpha), func(a *detente.Alert) bool {
		return a.Kind == detente.AlertChannel && strings.Contains(a.Message, cid)
	}) {
		t.Error("no alert in alpha's alerts table")
	}
	if len(channelEvents(t, alpha, "alert")) == 0 {
		t.Error("the missed acknowledgement is not logged")
	}
	for _, p := range []*peer{alpha, bravo} {
		eventually(t, p.Name+" lists the crisis alert first, overdue", func() bool {
			vs, err := p.Hotline.Messages(ctx, id)
			return err == nil && len(vs) == 2 && vs[0].Message.ID == cid && vs[0].Overdue == "ack"
		})
	}
	if _, err := bravo.Hotline.AckMessage(ctx, cid, "K. Jones"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the acknowledgement ends the escalation", func() bool {
		vs, _ := alpha.Hotline.Messages(ctx, id)
		return len(vs) == 2 && vs[0].Overdue == "" && slices.ContainsFunc(vs, func(v hotline.MessageView) bool { return v.State == hotline.Acknowledged })
	})

}

// TestHotlineNoOracle: a partner that is not a party to a channel learns
// nothing of it from the hotline endpoints (red team: it learnt whether
// the channel existed, its length, and whether a message id was held,
// with its direction and type). Each probe on bravo's channel with alpha
// gets exactly the answer the same probe gets for a channel bravo does
// not hold, ids aside.
func TestHotlineNoOracle(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	charlie := startHotlinePeer(t, "charlie", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	link(t, charlie, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)
	req, err := bravo.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeRequest, Subject: "held request",
		Due: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	held := req.Record.Message.ID
	const unknown = "channel--00000000-0000-4000-8000-00000000dead"

	same := func(what string, path string, probe func(channel string) []byte) {
		t.Helper()
		s1, b1 := postTo(t, charlie, bravo, path, probe(id))
		s2, b2 := postTo(t, charlie, bravo, path, probe(unknown))
		b2 = strings.ReplaceAll(b2, unknown, id)
		if s1 != s2 || s1 < 400 {
			t.Errorf("%s: %d on the channel, %d on one bravo does not hold", what, s1, s2)
		}
		mask := regexp.MustCompile(`message--[0-9a-f-]{36}`)
		if mask.ReplaceAllString(b1, "M") != mask.ReplaceAllString(b2, "M") {
			t.Errorf("%s: the answers differ:\n%s\n%s", what, b1, b2)
		}
	}
	same("a notice", proto.ChannelMessagesPath, func(ch string) []byte {
		m := hotline.NewMessage(ch, hotline.TypeNotice, time.Now())
		m.Subject = "probe"
		return signed(t, m, charlie.Key)
	})
	for _, ref := range []string{held, "message--00000000-0000-4000-8000-000000000000"} {
		same("a response to "+ref, proto.ChannelMessagesPath, func(ch string) []byte {
			m := hotline.NewMessage(ch, hotline.TypeResponse, time.Now())
			m.Subject, m.InReplyTo = "probe", ref
			return signed(t, m, charlie.Key)
		})
	}
	ch, err := bravo.Hotline.Channel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int{1, 2, 7} {
		same(fmt.Sprintf("a forged transition %d", seq), proto.ChannelTransitionsPath, func(c string) []byte {
			tr := ch.Transitions[0]
			terms := *tr.Terms
			terms.ID = c
			tr.Channel, tr.Seq, tr.Terms, tr.TermsHash, tr.Signature = c, seq, &terms, terms.Hash(), make([]byte, ed25519.SignatureSize)
			b, _ := json.Marshal(tr)
			h, _ := json.Marshal(proto.ChannelHistory{Transitions: []json.RawMessage{b}})
			return h
		})
	}
	// The channel's own history, replayed by a non-party, is refused and
	// changes nothing.
	var w proto.ChannelHistory
	for _, x := range ch.Transitions {
		b, _ := json.Marshal(x)
		w.Transitions = append(w.Transitions, b)
	}
	b, _ := json.Marshal(w)
	if status, body := postTo(t, charlie, bravo, proto.ChannelTransitionsPath, b); status != http.StatusForbidden || !strings.Contains(body, "not a party") {
		t.Errorf("a non-party replaying the history: %d %s", status, body)
	}
	if after, _ := bravo.Hotline.Channel(ctx, id); len(after.Transitions) != len(ch.Transitions) {
		t.Errorf("the channel changed: %d transitions, had %d", len(after.Transitions), len(ch.Transitions))
	}
}
