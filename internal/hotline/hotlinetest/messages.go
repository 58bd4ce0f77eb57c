package hotlinetest

import (
	"context"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
)

// The protocol over the store: what a node receives.

// testChannelRules checks which messages each state carries, end to end:
// bravo sends through its outbox, alpha receives.
func testChannelRules(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	type kind struct {
		typ   hotline.MessageType
		ackOf hotline.MessageType // for acks
	}
	kinds := []kind{
		{hotline.TypeNotice, ""}, {hotline.TypeRequest, ""}, {hotline.TypeResponse, ""}, {hotline.TypeCrisisAlert, ""},
		{hotline.TypeAck, hotline.TypeCrisisAlert}, {hotline.TypeAck, hotline.TypeNotice}, {hotline.TypeHeartbeat, ""},
	}
	allowed := map[hotline.State]map[kind]bool{
		hotline.StateOpen: {{hotline.TypeNotice, ""}: true, {hotline.TypeRequest, ""}: true, {hotline.TypeResponse, ""}: true, {hotline.TypeCrisisAlert, ""}: true,
			{hotline.TypeAck, hotline.TypeCrisisAlert}: true, {hotline.TypeAck, hotline.TypeNotice}: true, {hotline.TypeHeartbeat, ""}: true},
		hotline.StateSuspended: {{hotline.TypeCrisisAlert, ""}: true, {hotline.TypeAck, hotline.TypeCrisisAlert}: true, {hotline.TypeHeartbeat, ""}: true},
		hotline.StateProposed:  {},
		hotline.StateClosed:    {},
	}
	// Each state gets its nodes once; each kind of message is a subtest
	// of its own over them (they touch different messages).
	for _, state := range []hotline.State{hotline.StateOpen, hotline.StateSuspended, hotline.StateProposed, hotline.StateClosed} {
		t.Run(string(state), func(t *testing.T) {
			alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
			ch := openChannel(t, t0, alpha, bravo)
			now := t0.Add(time.Minute)
			// What bravo replies to: messages alpha sent while open.
			out := hotline.NewOutbox(alpha.st, newNetwork(alpha, bravo).from(alpha), alpha.pub, hotline.OutboxOptions{})
			refs := map[hotline.MessageType]*hotline.Message{}
			for _, typ := range []hotline.MessageType{hotline.TypeRequest, hotline.TypeCrisisAlert, hotline.TypeNotice} {
				m := msg(alpha, ch.ID, typ, now)
				if _, err := out.Enqueue(ctx, m); err != nil {
					t.Fatal(err)
				}
				if _, err := hotline.Receive(ctx, bravo.st, alpha.pub, m, now); err != nil {
					t.Fatal(err)
				}
				refs[typ] = m
			}
			switch state {
			case hotline.StateSuspended:
				setState(t, ch.ID, hotline.StateSuspended, alpha, alpha, bravo)
			case hotline.StateClosed:
				setState(t, ch.ID, hotline.StateClosed, alpha, alpha, bravo)
			case hotline.StateProposed:
				// A second channel, still proposed.
				p, err := hotline.Propose(testTerms("channel--proposed", alpha, bravo), "liaison", t0, alpha.priv)
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range []hotline.Store{alpha.st, bravo.st} {
					if err := st.CreateChannel(ctx, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, k := range kinds {
				name := string(k.typ)
				if k.ackOf != "" {
					name += "-of-" + string(k.ackOf)
				}
				t.Run(name, func(t *testing.T) {
					chID := ch.ID
					var m *hotline.Message
					switch k.typ {
					case hotline.TypeResponse:
						m = reply(bravo, refs[hotline.TypeRequest], hotline.TypeResponse, now)
					case hotline.TypeAck:
						m = reply(bravo, refs[k.ackOf], hotline.TypeAck, now)
					default:
						if state == hotline.StateProposed {
							chID = "channel--proposed"
						}
						m = msg(bravo, chID, k.typ, now)
					}
					if state == hotline.StateProposed && m.Channel != "channel--proposed" {
						t.Skip("replies need messages, which a proposed channel never carried")
					}
					_, err := hotline.Receive(ctx, alpha.st, bravo.pub, m, now)
					if allowed[state][k] {
						if err != nil {
							t.Fatalf("refused: %v", err)
						}
					} else {
						wantCode(t, err, detente.ECONFLICT, "the channel is "+string(state))
					}
					// The sending side applies the same rule in its outbox.
					if k.typ != hotline.TypeHeartbeat && k.typ != hotline.TypeAck && k.typ != hotline.TypeResponse {
						bout := hotline.NewOutbox(bravo.st, newNetwork(alpha, bravo).from(bravo), bravo.pub, hotline.OutboxOptions{})
						m2 := msg(bravo, chID, k.typ, now)
						_, err := bout.Enqueue(ctx, m2)
						if allowed[state][k] != (err == nil) {
							t.Fatalf("outbox: allowed %v, err %v", allowed[state][k], err)
						}
					}
				})
			}
		})
	}
}

func testReceiveVerifies(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo, charlie := newPeer(t, open, "alpha"), newPeer(t, open, "bravo"), newPeer(t, open, "charlie")
	ch := openChannel(t, t0, alpha, bravo)
	now := t0.Add(time.Minute)
	tests := []struct {
		name string
		from detente.PublicKey
		m    func() *hotline.Message
		code string
		sub  string
	}{
		{"good", bravo.pub, func() *hotline.Message { return msg(bravo, ch.ID, hotline.TypeNotice, now) }, "", ""},
		{"tampered body", bravo.pub, func() *hotline.Message {
			m := msg(bravo, ch.ID, hotline.TypeNotice, now)
			m.Body = "nothing to see"
			return m
		}, detente.EINVALID, "signature"},
		{"tampered markings", bravo.pub, func() *hotline.Message {
			m := msg(bravo, ch.ID, hotline.TypeNotice, now)
			m.Markings = nil
			return m
		}, detente.EINVALID, "signature"},
		{"signed by another key", bravo.pub, func() *hotline.Message {
			m := msg(charlie, ch.ID, hotline.TypeNotice, now)
			m.From = bravo.pub
			return m
		}, detente.EINVALID, "signature"},
		{"claims another sender", charlie.pub, func() *hotline.Message { return msg(bravo, ch.ID, hotline.TypeNotice, now) }, detente.EFORBIDDEN, "claims to be from"},
		{"not a party", charlie.pub, func() *hotline.Message { return msg(charlie, ch.ID, hotline.TypeNotice, now) }, detente.EFORBIDDEN, "not a party"},
		// Whether a channel exists, and what it holds, is told only to
		// its parties: the same refusal for a channel unknown here, and
		// a non-party's reply is refused before the message it names is
		// looked up.
		{"unknown channel", bravo.pub, func() *hotline.Message { return msg(bravo, "channel--nope", hotline.TypeNotice, now) }, detente.EFORBIDDEN, "not a party"},
		{"non-party reply", charlie.pub, func() *hotline.Message {
			return reply(charlie, &hotline.Message{ID: "message--nope", Channel: ch.ID}, hotline.TypeAck, now)
		}, detente.EFORBIDDEN, "not a party"},
		{"ack of unknown message", bravo.pub, func() *hotline.Message {
			return reply(bravo, &hotline.Message{ID: "message--nope", Channel: ch.ID}, hotline.TypeAck, now)
		}, detente.EINVALID, "unknown message"},
		{"response to unknown request", bravo.pub, func() *hotline.Message {
			return reply(bravo, &hotline.Message{ID: "message--nope", Channel: ch.ID}, hotline.TypeResponse, now)
		}, detente.EINVALID, "unknown message"},
		{"ack of a message alpha did not send", bravo.pub, func() *hotline.Message {
			m := msg(bravo, ch.ID, hotline.TypeCrisisAlert, now)
			if _, err := hotline.Receive(ctx, alpha.st, bravo.pub, m, now); err != nil {
				t.Fatal(err)
			}
			return reply(bravo, m, hotline.TypeAck, now)
		}, detente.EINVALID, "did not send"},
		{"outside the window", bravo.pub, func() *hotline.Message {
			if err := alpha.st.UpdateChannel(ctx, ch.ID, func(c *hotline.Channel) error { c.NotAfter = now; return nil }); err != nil {
				t.Fatal(err)
			}
			return msg(bravo, ch.ID, hotline.TypeNotice, now)
		}, detente.ECONFLICT, "validity window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hotline.Receive(ctx, alpha.st, tt.from, tt.m(), now)
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

func testIdempotency(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	ch := openChannel(t, t0, alpha, bravo)
	now := t0.Add(time.Minute)
	m := msg(bravo, ch.ID, hotline.TypeCrisisAlert, now)
	rc, err := hotline.Receive(ctx, alpha.st, bravo.pub, m, now)
	if err != nil || rc.Duplicate || rc.Partner != "bravo" {
		t.Fatalf("first delivery: %+v %v", rc, err)
	}
	if !rc.Record.AckDue.Equal(now.Add(5*time.Minute)) || rc.Record.State != hotline.Delivered {
		t.Fatalf("record %+v", rc.Record)
	}
	for range 3 {
		rc, err := hotline.Receive(ctx, alpha.st, bravo.pub, m, now.Add(time.Second))
		if err != nil || !rc.Duplicate {
			t.Fatalf("redelivery: %+v %v", rc, err)
		}
	}
	// The same idempotency key under a new message id is a duplicate too.
	again := *m
	again.ID = hotline.NewID("message")
	again.Sign(bravo.priv)
	rc, err = hotline.Receive(ctx, alpha.st, bravo.pub, &again, now)
	if err != nil || !rc.Duplicate || rc.Record.Message.ID != m.ID {
		t.Fatalf("same key, new id: %+v %v", rc, err)
	}
	// The same key with other content is a duplicate too: the first
	// message stored under a key wins.
	other := *m
	other.ID = hotline.NewID("message")
	other.Body = "something else"
	other.Sign(bravo.priv)
	rc, err = hotline.Receive(ctx, alpha.st, bravo.pub, &other, now)
	if err != nil || !rc.Duplicate || rc.Record.Message.Body != m.Body {
		t.Fatalf("same key, other content: %+v %v", rc, err)
	}
	// The same id under another key is a conflict.
	clash := msg(bravo, ch.ID, hotline.TypeNotice, now)
	clash.ID = m.ID
	clash.Sign(bravo.priv)
	_, err = hotline.Receive(ctx, alpha.st, bravo.pub, clash, now)
	wantCode(t, err, detente.ECONFLICT, "already stored")
	if n := count(t, alpha.st, hotline.MessageFilter{}); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	// The same key from another sender is another message.
	mine := msg(alpha, ch.ID, hotline.TypeNotice, now)
	mine.IdempotencyKey = m.IdempotencyKey
	mine.Sign(alpha.priv)
	if _, err := hotline.Receive(ctx, bravo.st, alpha.pub, mine, now); err != nil {
		t.Fatal(err)
	}
}

// testAckAndResponse follows a request and a crisis alert through their
// delivery states on both sides.
func testAckAndResponse(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	n := newNetwork(alpha, bravo)
	ch := openChannel(t, t0, alpha, bravo)
	aout := hotline.NewOutbox(alpha.st, n.from(alpha), alpha.pub, hotline.OutboxOptions{})
	bout := hotline.NewOutbox(bravo.st, n.from(bravo), bravo.pub, hotline.OutboxOptions{})
	now := time.Now()

	req := msg(alpha, ch.ID, hotline.TypeRequest, now)
	rec, err := aout.Enqueue(ctx, req)
	if err != nil || rec.State != hotline.Sent || !rec.Pending {
		t.Fatalf("enqueue: %+v %v", rec, err)
	}
	if _, err := aout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := mustRecord(t, alpha.st, req.ID).State; s != hotline.Delivered {
		t.Fatalf("after flush: %s", s)
	}
	// Bravo's copy awaits an acknowledgement and an answer (Awaiting);
	// alpha's own never awaits alpha.
	awaiting := func(st hotline.Store) int { return count(t, st, hotline.MessageFilter{Awaiting: true}) }
	if awaiting(bravo.st) != 1 || awaiting(alpha.st) != 0 {
		t.Fatalf("awaiting before the ack: bravo %d, alpha %d", awaiting(bravo.st), awaiting(alpha.st))
	}
	// Bravo's duty officer acknowledges, then answers.
	ack := hotline.NewAck(req, "Duty bravo", now, bravo.priv)
	if _, err := bout.Enqueue(ctx, ack); err != nil {
		t.Fatal(err)
	}
	if awaiting(bravo.st) != 1 {
		t.Fatal("an acknowledged request no longer awaits its answer")
	}
	if r := mustRecord(t, bravo.st, req.ID); r.State != hotline.Acknowledged || r.AckedBy != "Duty bravo" {
		t.Fatalf("bravo's copy: %+v", r)
	}
	if _, err := bout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := mustRecord(t, alpha.st, req.ID)
	if r.State != hotline.Acknowledged || r.Deliveries[0].AckedBy != "Duty bravo" || r.Deliveries[0].AckID != ack.ID {
		t.Fatalf("after ack: %+v", r)
	}
	if !r.Open {
		t.Fatal("an unanswered request stays open")
	}
	resp := reply(bravo, req, hotline.TypeResponse, now)
	if _, err := bout.Enqueue(ctx, resp); err != nil {
		t.Fatal(err)
	}
	if _, err := bout.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = mustRecord(t, alpha.st, req.ID)
	if r.State != hotline.Answered || r.Answer != resp.ID || r.Open {
		t.Fatalf("after response: %+v", r)
	}
	if s := mustRecord(t, bravo.st, req.ID).State; s != hotline.Answered {
		t.Fatalf("bravo's copy after response: %s", s)
	}
	if awaiting(bravo.st) != 0 {
		t.Fatal("an answered request still awaits")
	}
	// Acks and responses go only to the sender of what they reply to.
	if got := mustRecord(t, bravo.st, ack.ID).Deliveries; len(got) != 1 || got[0].Partner != "alpha" {
		t.Fatalf("ack deliveries %+v", got)
	}
	// Bravo cannot answer its own messages, nor acknowledge unknown ones.
	own := msg(bravo, ch.ID, hotline.TypeRequest, now)
	if _, err := bout.Enqueue(ctx, own); err != nil {
		t.Fatal(err)
	}
	_, err = bout.Enqueue(ctx, reply(bravo, own, hotline.TypeResponse, now))
	wantCode(t, err, detente.EINVALID, "did not receive")
	_, err = bout.Enqueue(ctx, reply(bravo, &hotline.Message{ID: "message--nope", Channel: ch.ID}, hotline.TypeAck, now))
	wantCode(t, err, detente.EINVALID, "unknown message")
	// Only this node's signed messages go into its outbox.
	_, err = bout.Enqueue(ctx, msg(alpha, ch.ID, hotline.TypeNotice, now))
	wantCode(t, err, detente.EFORBIDDEN, "")
	_, err = bout.Enqueue(ctx, msg(bravo, ch.ID, hotline.TypeHeartbeat, now))
	wantCode(t, err, detente.EINVALID, "heartbeats")
}
