package hotline

import (
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
