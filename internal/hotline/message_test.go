package hotline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"detente"
)

const tlpAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

// msg returns a valid signed message of type typ from p on channel ch.
func msg(p *testPeer, ch string, typ MessageType, now time.Time) *Message {
	m := NewMessage(ch, typ, now)
	m.Author = "Liaison " + p.name
	switch typ {
	case TypeNotice:
		m.Subject, m.Body = "fan movement", "3,000 supporters travelling by train"
		m.Markings = []string{tlpAmber}
		m.Refs = []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}
	case TypeRequest:
		m.Subject, m.Due = "manifest of flight XY123", now.Add(time.Hour)
	case TypeCrisisAlert:
		m.Subject, m.Body = "credible threat", "vehicle sighted near stadium gate 4"
	case TypeHeartbeat:
		m.Author = ""
	}
	m.Sign(p.priv)
	return m
}

func reply(p *testPeer, to *Message, typ MessageType, now time.Time) *Message {
	m := NewMessage(to.Channel, typ, now)
	m.InReplyTo, m.Author = to.ID, "Duty "+p.name
	if typ == TypeResponse {
		m.Body = "manifest attached"
	}
	m.Sign(p.priv)
	return m
}

// TestChannelRules checks which messages each state carries, end to end:
// bravo sends through its outbox, alpha receives.
func TestChannelRules(t *testing.T) {
	ctx := context.Background()
	type kind struct {
		typ   MessageType
		ackOf MessageType // for acks
	}
	kinds := []kind{
		{TypeNotice, ""}, {TypeRequest, ""}, {TypeResponse, ""}, {TypeCrisisAlert, ""},
		{TypeAck, TypeCrisisAlert}, {TypeAck, TypeNotice}, {TypeHeartbeat, ""},
	}
	allowed := map[State]map[kind]bool{
		StateOpen: {{TypeNotice, ""}: true, {TypeRequest, ""}: true, {TypeResponse, ""}: true, {TypeCrisisAlert, ""}: true,
			{TypeAck, TypeCrisisAlert}: true, {TypeAck, TypeNotice}: true, {TypeHeartbeat, ""}: true},
		StateSuspended: {{TypeCrisisAlert, ""}: true, {TypeAck, TypeCrisisAlert}: true, {TypeHeartbeat, ""}: true},
		StateProposed:  {},
		StateClosed:    {},
	}
	for _, state := range []State{StateOpen, StateSuspended, StateProposed, StateClosed} {
		for _, k := range kinds {
			name := string(state) + "/" + string(k.typ)
			if k.ackOf != "" {
				name += "-of-" + string(k.ackOf)
			}
			t.Run(name, func(t *testing.T) {
				alpha, bravo := newPeer("alpha"), newPeer("bravo")
				ch := openChannel(t, t0, alpha, bravo)
				now := t0.Add(time.Minute)
				// What bravo replies to: messages alpha sent while open.
				out := NewOutbox(alpha.st, newNetwork(alpha, bravo).from(alpha), alpha.pub, OutboxOptions{})
				refs := map[MessageType]*Message{}
				for _, typ := range []MessageType{TypeRequest, TypeCrisisAlert, TypeNotice} {
					m := msg(alpha, ch.ID, typ, now)
					if _, err := out.Enqueue(ctx, m); err != nil {
						t.Fatal(err)
					}
					if _, err := Receive(ctx, bravo.st, alpha.pub, m, now); err != nil {
						t.Fatal(err)
					}
					refs[typ] = m
				}
				switch state {
				case StateSuspended:
					setState(t, ch.ID, StateSuspended, alpha, alpha, bravo)
				case StateClosed:
					setState(t, ch.ID, StateClosed, alpha, alpha, bravo)
				case StateProposed:
					// A second channel, still proposed.
					p, err := Propose(testTerms("channel--proposed", alpha, bravo), "liaison", t0, alpha.priv)
					if err != nil {
						t.Fatal(err)
					}
					for _, st := range []*MemStore{alpha.st, bravo.st} {
						if err := st.CreateChannel(ctx, p); err != nil {
							t.Fatal(err)
						}
					}
				}
				chID := ch.ID
				var m *Message
				switch k.typ {
				case TypeResponse:
					m = reply(bravo, refs[TypeRequest], TypeResponse, now)
				case TypeAck:
					m = reply(bravo, refs[k.ackOf], TypeAck, now)
				default:
					if state == StateProposed {
						chID = "channel--proposed"
					}
					m = msg(bravo, chID, k.typ, now)
				}
				if state == StateProposed && m.Channel != "channel--proposed" {
					t.Skip("replies need messages, which a proposed channel never carried")
				}
				_, err := Receive(ctx, alpha.st, bravo.pub, m, now)
				if allowed[state][k] {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
				} else {
					wantCode(t, err, detente.ECONFLICT, "the channel is "+string(state))
				}
				// The sending side applies the same rule in its outbox.
				if k.typ != TypeHeartbeat && k.typ != TypeAck && k.typ != TypeResponse {
					bout := NewOutbox(bravo.st, newNetwork(alpha, bravo).from(bravo), bravo.pub, OutboxOptions{})
					m2 := msg(bravo, chID, k.typ, now)
					_, err := bout.Enqueue(ctx, m2)
					if allowed[state][k] != (err == nil) {
						t.Fatalf("outbox: allowed %v, err %v", allowed[state][k], err)
					}
				}
			})
		}
	}
}

func TestReceiveVerifies(t *testing.T) {
	ctx := context.Background()
	alpha, bravo, charlie := newPeer("alpha"), newPeer("bravo"), newPeer("charlie")
	ch := openChannel(t, t0, alpha, bravo)
	now := t0.Add(time.Minute)
	tests := []struct {
		name string
		from detente.PublicKey
		m    func() *Message
		code string
		sub  string
	}{
		{"good", bravo.pub, func() *Message { return msg(bravo, ch.ID, TypeNotice, now) }, "", ""},
		{"tampered body", bravo.pub, func() *Message {
			m := msg(bravo, ch.ID, TypeNotice, now)
			m.Body = "nothing to see"
			return m
		}, detente.EINVALID, "signature"},
		{"tampered markings", bravo.pub, func() *Message {
			m := msg(bravo, ch.ID, TypeNotice, now)
			m.Markings = nil
			return m
		}, detente.EINVALID, "signature"},
		{"signed by another key", bravo.pub, func() *Message {
			m := msg(charlie, ch.ID, TypeNotice, now)
			m.From = bravo.pub
			return m
		}, detente.EINVALID, "signature"},
		{"claims another sender", charlie.pub, func() *Message { return msg(bravo, ch.ID, TypeNotice, now) }, detente.EFORBIDDEN, "claims to be from"},
		{"not a party", charlie.pub, func() *Message { return msg(charlie, ch.ID, TypeNotice, now) }, detente.EFORBIDDEN, "not a party"},
		{"unknown channel", bravo.pub, func() *Message { return msg(bravo, "channel--nope", TypeNotice, now) }, detente.EINVALID, "unknown channel"},
		{"ack of unknown message", bravo.pub, func() *Message {
			return reply(bravo, &Message{ID: "message--nope", Channel: ch.ID}, TypeAck, now)
		}, detente.EINVALID, "unknown message"},
		{"response to unknown request", bravo.pub, func() *Message {
			return reply(bravo, &Message{ID: "message--nope", Channel: ch.ID}, TypeResponse, now)
		}, detente.EINVALID, "unknown message"},
		{"ack of a message alpha did not send", bravo.pub, func() *Message {
			m := msg(bravo, ch.ID, TypeCrisisAlert, now)
			if _, err := Receive(ctx, alpha.st, bravo.pub, m, now); err != nil {
				t.Fatal(err)
			}
			return reply(bravo, m, TypeAck, now)
		}, detente.EINVALID, "did not send"},
		{"outside the window", bravo.pub, func() *Message {
			if err := alpha.st.UpdateChannel(ctx, ch.ID, func(c *Channel) error { c.NotAfter = now; return nil }); err != nil {
				t.Fatal(err)
			}
			return msg(bravo, ch.ID, TypeNotice, now)
		}, detente.ECONFLICT, "validity window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Receive(ctx, alpha.st, tt.from, tt.m(), now)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code, tt.sub)
		})
	}
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := newPeer("alpha"), newPeer("bravo")
	ch := openChannel(t, t0, alpha, bravo)
	now := t0.Add(time.Minute)
	m := msg(bravo, ch.ID, TypeCrisisAlert, now)
	rc, err := Receive(ctx, alpha.st, bravo.pub, m, now)
	if err != nil || rc.Duplicate || rc.Partner != "bravo" {
		t.Fatalf("first delivery: %+v %v", rc, err)
	}
	if !rc.Record.AckDue.Equal(now.Add(5*time.Minute)) || rc.Record.State != Delivered {
		t.Fatalf("record %+v", rc.Record)
	}
	for range 3 {
		rc, err := Receive(ctx, alpha.st, bravo.pub, m, now.Add(time.Second))
		if err != nil || !rc.Duplicate {
			t.Fatalf("redelivery: %+v %v", rc, err)
		}
	}
	// The same idempotency key under a new message id is a duplicate too.
	again := *m
	again.ID = NewID("message")
	again.Sign(bravo.priv)
	rc, err = Receive(ctx, alpha.st, bravo.pub, &again, now)
	if err != nil || !rc.Duplicate || rc.Record.Message.ID != m.ID {
		t.Fatalf("same key, new id: %+v %v", rc, err)
	}
	// The same key with other content is a duplicate too: the first
	// message stored under a key wins.
	other := *m
	other.ID = NewID("message")
	other.Body = "something else"
	other.Sign(bravo.priv)
	rc, err = Receive(ctx, alpha.st, bravo.pub, &other, now)
	if err != nil || !rc.Duplicate || rc.Record.Message.Body != m.Body {
		t.Fatalf("same key, other content: %+v %v", rc, err)
	}
	// The same id under another key is a conflict.
	clash := msg(bravo, ch.ID, TypeNotice, now)
	clash.ID = m.ID
	clash.Sign(bravo.priv)
	_, err = Receive(ctx, alpha.st, bravo.pub, clash, now)
	wantCode(t, err, detente.ECONFLICT, "already stored")
	if n := count(t, alpha.st, MessageFilter{}); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	// The same key from another sender is another message.
	mine := msg(alpha, ch.ID, TypeNotice, now)
	mine.IdempotencyKey = m.IdempotencyKey
	mine.Sign(alpha.priv)
	if _, err := Receive(ctx, bravo.st, alpha.pub, mine, now); err != nil {
		t.Fatal(err)
	}
}

// TestAckAndResponse follows a request and a crisis alert through their
// delivery states on both sides.
func TestAckAndResponse(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := newPeer("alpha"), newPeer("bravo")
	n := newNetwork(alpha, bravo)
	ch := openChannel(t, t0, alpha, bravo)
	aout := NewOutbox(alpha.st, n.from(alpha), alpha.pub, OutboxOptions{})
	bout := NewOutbox(bravo.st, n.from(bravo), bravo.pub, OutboxOptions{})
	now := time.Now()

	req := msg(alpha, ch.ID, TypeRequest, now)
	rec, err := aout.Enqueue(ctx, req)
	if err != nil || rec.State != Sent || !rec.Pending {
		t.Fatalf("enqueue: %+v %v", rec, err)
	}
	if _, err := aout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := mustRecord(t, alpha.st, req.ID).State; s != Delivered {
		t.Fatalf("after flush: %s", s)
	}
	// Bravo's duty officer acknowledges, then answers.
	ack := NewAck(req, "Duty bravo", now, bravo.priv)
	if _, err := bout.Enqueue(ctx, ack); err != nil {
		t.Fatal(err)
	}
	if r := mustRecord(t, bravo.st, req.ID); r.State != Acknowledged || r.AckedBy != "Duty bravo" {
		t.Fatalf("bravo's copy: %+v", r)
	}
	if _, err := bout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := mustRecord(t, alpha.st, req.ID)
	if r.State != Acknowledged || r.Deliveries[0].AckedBy != "Duty bravo" || r.Deliveries[0].AckID != ack.ID {
		t.Fatalf("after ack: %+v", r)
	}
	if !r.Open {
		t.Fatal("an unanswered request stays open")
	}
	resp := reply(bravo, req, TypeResponse, now)
	if _, err := bout.Enqueue(ctx, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := bout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = mustRecord(t, alpha.st, req.ID)
	if r.State != Answered || r.Answer != resp.ID || r.Open {
		t.Fatalf("after response: %+v", r)
	}
	if s := mustRecord(t, bravo.st, req.ID).State; s != Answered {
		t.Fatalf("bravo's copy after response: %s", s)
	}
	// Acks and responses go only to the sender of what they reply to.
	if got := mustRecord(t, bravo.st, ack.ID).Deliveries; len(got) != 1 || got[0].Partner != "alpha" {
		t.Fatalf("ack deliveries %+v", got)
	}
	// Bravo cannot answer its own messages, nor acknowledge unknown ones.
	own := msg(bravo, ch.ID, TypeRequest, now)
	if _, err := bout.Enqueue(ctx, own); err != nil {
		t.Fatal(err)
	}
	_, err = bout.Enqueue(ctx, reply(bravo, own, TypeResponse, now))
	wantCode(t, err, detente.EINVALID, "did not receive")
	_, err = bout.Enqueue(ctx, reply(bravo, &Message{ID: "message--nope", Channel: ch.ID}, TypeAck, now))
	wantCode(t, err, detente.EINVALID, "unknown message")
	// Only this node's signed messages go into its outbox.
	_, err = bout.Enqueue(ctx, msg(alpha, ch.ID, TypeNotice, now))
	wantCode(t, err, detente.EFORBIDDEN, "")
	_, err = bout.Enqueue(ctx, msg(bravo, ch.ID, TypeHeartbeat, now))
	wantCode(t, err, detente.EINVALID, "heartbeats")
}

func TestMessageValidate(t *testing.T) {
	bravo := newPeer("bravo")
	tests := []struct {
		name   string
		typ    MessageType
		mutate func(*Message)
		sub    string
	}{
		{"notice", TypeNotice, func(*Message) {}, ""},
		{"bad id", TypeNotice, func(m *Message) { m.ID = "x" }, "must start with"},
		{"bad type", TypeNotice, func(m *Message) { m.Type = "gossip" }, "unknown type"},
		{"no key", TypeNotice, func(m *Message) { m.IdempotencyKey = "" }, "idempotency key"},
		{"key with spaces", TypeNotice, func(m *Message) { m.IdempotencyKey = "a b" }, "idempotency key"},
		{"no time", TypeNotice, func(m *Message) { m.Sent = time.Time{} }, "no time"},
		{"empty notice", TypeNotice, func(m *Message) { m.Subject, m.Body = "", "" }, "needs a subject"},
		{"bad marking", TypeNotice, func(m *Message) { m.Markings = []string{"tlp:amber"} }, "not a marking-definition"},
		{"bad ref", TypeNotice, func(m *Message) { m.Refs = []string{"indicator"} }, "not a STIX id"},
		{"request without due", TypeRequest, func(m *Message) { m.Due = time.Time{} }, "due time"},
		{"request due before sent", TypeRequest, func(m *Message) { m.Due = m.Sent }, "due time"},
		{"notice with due", TypeNotice, func(m *Message) { m.Due = m.Sent.Add(time.Hour) }, "only a request"},
		{"response without request", TypeResponse, func(m *Message) { m.InReplyTo = "" }, "must name the request"},
		{"ack without person", TypeAck, func(m *Message) { m.Author = " " }, "name the person"},
		{"ack with markings", TypeAck, func(m *Message) { m.Markings = []string{tlpAmber} }, "no markings"},
		{"notice replying", TypeNotice, func(m *Message) { m.InReplyTo = "message--x" }, "only a response"},
		{"heartbeat with body", TypeHeartbeat, func(m *Message) { m.Body = "hi" }, "carries nothing"},
		{"activity on a request", TypeRequest, func(m *Message) { m.Activity = testActivity("activity--a", circleArea(0, 0, 10)) }, "only a notice"},
		{"invalid activity", TypeNotice, func(m *Message) { m.Activity = &Activity{ID: "activity--a"} }, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := msg(bravo, "channel--x", tt.typ, t0)
			if tt.typ == TypeResponse || tt.typ == TypeAck {
				m = reply(bravo, &Message{ID: "message--r", Channel: "channel--x"}, tt.typ, t0)
			}
			tt.mutate(m)
			err := m.Validate()
			if tt.sub == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, detente.EINVALID, tt.sub)
		})
	}
}

func TestDecodeMessage(t *testing.T) {
	bravo := newPeer("bravo")
	m := msg(bravo, "channel--x", TypeNotice, t0)
	m.Activity = testActivity("activity--a", polygonArea(t, `{"type":"Polygon","coordinates":[[[2,48],[3,48],[3,49],[2,49],[2,48]]]}`))
	m.Sign(bravo.priv)
	b, err := EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.VerifySignature(); err != nil {
		t.Fatalf("signature after the wire: %v", err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	generic["extra"] = 1
	withExtra, _ := json.Marshal(generic)
	for name, c := range map[string]struct {
		in   []byte
		code string
	}{
		"unknown field": {withExtra, detente.EINVALID},
		"trailing data": {append(append([]byte{}, b...), []byte(` {}`)...), detente.EINVALID},
		"not json":      {[]byte(`{"id":`), detente.EINVALID},
		"too large":     {[]byte(`"` + strings.Repeat("a", MaxMessageSize) + `"`), detente.ETOOLARGE},
		"invalid":       {[]byte(`{"id":"message--x","type":"notice"}`), detente.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeMessage(c.in)
			wantCode(t, err, c.code, "")
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	bravo := newPeer("bravo")
	for _, typ := range []MessageType{TypeNotice, TypeRequest, TypeCrisisAlert, TypeHeartbeat} {
		b, _ := EncodeMessage(msg(bravo, "channel--x", typ, t0))
		f.Add(b)
	}
	n := msg(bravo, "channel--x", TypeNotice, t0)
	n.Activity = testActivity("activity--a", circleArea(2.35, 48.85, 500))
	n.Sign(bravo.priv)
	b, _ := EncodeMessage(n)
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"message--1","activity":{"area":{"polygon":{"type":"Polygon","coordinates":[[[0,0]]]}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		_ = m.VerifySignature() // must not panic
		// What decodes re-encodes and decodes to the same signed bytes.
		b2, err := EncodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := DecodeMessage(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if string(m.signedBytes()) != string(m2.signedBytes()) {
			t.Fatalf("signed bytes changed through the wire:\n%s\n%s", m.signedBytes(), m2.signedBytes())
		}
	})
}

func BenchmarkSignVerify(b *testing.B) {
	bravo := newPeer("bravo")
	m := msg(bravo, "channel--x", TypeCrisisAlert, t0)
	for b.Loop() {
		m.Sign(bravo.priv)
		if err := m.VerifySignature(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerify checks the pure verification a receiver runs, without a store.
func TestVerify(t *testing.T) {
	alpha, bravo := newPeer("alpha"), newPeer("bravo")
	ch := openChannel(t, t0, alpha, bravo)
	m := msg(bravo, ch.ID, TypeCrisisAlert, t0)
	if err := Verify(ch, m, bravo.pub, "", t0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, Verify(ch, m, alpha.pub, "", t0), detente.EFORBIDDEN, "claims to be from")
	other := *ch
	other.ID = "channel--other"
	wantCode(t, Verify(&other, m, bravo.pub, "", t0), detente.EINVALID, "not channel--other")
	other = *ch
	other.State = StateClosed
	wantCode(t, Verify(&other, m, bravo.pub, "", t0), detente.ECONFLICT, "closed")

	// Digest is stable through the wire and changes with the content.
	b, _ := EncodeMessage(m)
	got, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Digest()) != string(m.Digest()) {
		t.Fatal("digest changed through the wire")
	}
	got.Body += "!"
	if string(got.Digest()) == string(m.Digest()) {
		t.Fatal("digest ignores the body")
	}
}
