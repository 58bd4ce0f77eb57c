package hotlinetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
)

// The contract of hotline.Store, method by method.

// newChannel returns a new open channel between alpha and bravo, not
// yet stored, with id.
func newChannel(t *testing.T, id string, alpha, bravo *testPeer) *hotline.Channel {
	t.Helper()
	ch, err := hotline.Propose(testTerms(id, alpha, bravo), "liaison", t0, alpha.priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := hotline.Apply(ch, hotline.NewTransition(ch, hotline.StateOpen, "agreed", t0, bravo.priv)); err != nil {
		t.Fatal(err)
	}
	return ch
}

// outgoing returns a record of a notice alpha sends to bravo, stored at
// stored.
func outgoing(alpha, bravo *testPeer, ch string, stored time.Time) *hotline.Record {
	m := msg(alpha, ch, hotline.TypeNotice, stored)
	return &hotline.Record{Message: m, Outgoing: true, State: hotline.Sent, Stored: stored, Pending: true, Open: true,
		Deliveries: []hotline.Delivery{{Partner: bravo.name, Key: bravo.pub, NextAttempt: stored}}}
}

// incoming returns a record of a crisis alert alpha received from bravo,
// stored at stored.
func incoming(bravo *testPeer, ch string, stored time.Time) *hotline.Record {
	m := msg(bravo, ch, hotline.TypeCrisisAlert, stored)
	return &hotline.Record{Message: m, State: hotline.Delivered, Stored: stored, AckDue: stored.Add(5 * time.Minute)}
}

// testChannels: a channel is stored once, read back as stored, listed by
// id; a missing one is ENOTFOUND.
func testChannels(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	if chs, err := st.Channels(ctx); err != nil || len(chs) != 0 {
		t.Fatalf("an empty store lists %v, %v", chs, err)
	}
	b := newChannel(t, "channel--b", alpha, bravo)
	a := newChannel(t, "channel--a", alpha, bravo)
	for _, ch := range []*hotline.Channel{b, a} {
		if err := st.CreateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, st.CreateChannel(ctx, a), detente.EEXISTS, "")
	got, err := st.Channel(ctx, "channel--a")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.State != hotline.StateOpen || len(got.Transitions) != 2 || string(got.Hash()) != string(a.Hash()) ||
		got.Parties[1].Contacts[1].Phone != "+1 555 0100" || got.AckWithin[hotline.TypeCrisisAlert] != hotline.Duration(5*time.Minute) {
		t.Fatalf("read back %+v", got)
	}
	// What is read back still verifies: nothing signed was changed.
	for _, tr := range got.Transitions {
		if err := tr.VerifySignature(); err != nil {
			t.Fatalf("transition %d: %v", tr.Seq, err)
		}
	}
	chs, err := st.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 2 || chs[0].ID != "channel--a" || chs[1].ID != "channel--b" {
		t.Fatalf("Channels: %d, want a then b", len(chs))
	}
	_, err = st.Channel(ctx, "channel--nope")
	wantCode(t, err, detente.ENOTFOUND, "")
}

// testUpdateChannel: an update is stored; fn's error comes back unchanged
// and changes nothing.
func testUpdateChannel(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	ch := newChannel(t, "channel--a", alpha, bravo)
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	err := st.UpdateChannel(ctx, ch.ID, func(c *hotline.Channel) error {
		return hotline.Apply(c, hotline.NewTransition(c, hotline.StateSuspended, "incident", t0.Add(time.Minute), alpha.priv))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Channel(ctx, ch.ID); got.State != hotline.StateSuspended || len(got.Transitions) != 3 {
		t.Fatalf("after the update: %s, %d transitions", got.State, len(got.Transitions))
	}
	boom := detente.Errorf(detente.EINVALID, "boom")
	err = st.UpdateChannel(ctx, ch.ID, func(c *hotline.Channel) error { c.Purpose = "changed"; return boom })
	if err != boom {
		t.Fatalf("failed update returned %v", err)
	}
	if got, _ := st.Channel(ctx, ch.ID); got.Purpose != "Euro 2028 security" {
		t.Fatal("a failed update changed the channel")
	}
	called := false
	err = st.UpdateChannel(ctx, "channel--nope", func(*hotline.Channel) error { called = true; return nil })
	wantCode(t, err, detente.ENOTFOUND, "")
	if called {
		t.Fatal("fn called for a missing channel")
	}
}

// testPutMessage: insert-if-absent by (sender, idempotency key); the same
// id under another sender or key is ECONFLICT. (From the node's store
// test.)
func testPutMessage(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	ch := newChannel(t, "channel--a", alpha, bravo)
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	r := outgoing(alpha, bravo, ch.ID, t0)
	m := r.Message
	got, ins, err := st.PutMessage(ctx, r)
	if err != nil || !ins || got.Message.ID != m.ID {
		t.Fatalf("put: %v %v %v", got, ins, err)
	}
	retry := *m
	retry.ID = hotline.NewID("message") // a retry rebuilt with a new id, same key
	if got, ins, err := st.PutMessage(ctx, &hotline.Record{Message: &retry, Outgoing: true, Stored: t0}); err != nil || ins || got.Message.ID != m.ID {
		t.Errorf("same idempotency key: %v %v %v", got, ins, err)
	}
	other := *m
	other.IdempotencyKey = "another"
	_, _, err = st.PutMessage(ctx, &hotline.Record{Message: &other, Stored: t0})
	wantCode(t, err, detente.ECONFLICT, "")
	// The same key from another sender is another message.
	theirs := msg(bravo, ch.ID, hotline.TypeNotice, t0)
	theirs.IdempotencyKey = m.IdempotencyKey
	theirs.Sign(bravo.priv)
	if _, ins, err := st.PutMessage(ctx, &hotline.Record{Message: theirs, State: hotline.Delivered, Stored: t0}); err != nil || !ins {
		t.Errorf("same key, another sender: %v %v", ins, err)
	}
	if n := count(t, st, hotline.MessageFilter{}); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
	_, err = st.Message(ctx, "message--00000000-0000-4000-8000-000000000000")
	wantCode(t, err, detente.ENOTFOUND, "")
}

// testMessages: the filters, oldest first, and the limit.
func testMessages(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	a, b := newChannel(t, "channel--a", alpha, bravo), newChannel(t, "channel--b", alpha, bravo)
	for _, ch := range []*hotline.Channel{a, b} {
		if err := st.CreateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	put := func(r *hotline.Record) {
		t.Helper()
		if _, _, err := st.PutMessage(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	r3 := outgoing(alpha, bravo, a.ID, t0.Add(3*time.Second))
	r1 := incoming(bravo, a.ID, t0.Add(time.Second))
	r2 := outgoing(alpha, bravo, b.ID, t0.Add(2*time.Second))
	r2.Pending, r2.Open = false, true
	r4 := outgoing(alpha, bravo, a.ID, t0.Add(4*time.Second))
	r4.Pending, r4.Open = false, false
	for _, r := range []*hotline.Record{r1, r2, r3, r4} {
		put(r)
	}
	ids := []string{r1.Message.ID, r2.Message.ID, r3.Message.ID, r4.Message.ID}
	for _, c := range []struct {
		name string
		f    hotline.MessageFilter
		want []string
	}{
		{"all", hotline.MessageFilter{}, ids},
		{"channel", hotline.MessageFilter{Channel: a.ID}, []string{ids[0], ids[2], ids[3]}},
		{"outgoing", hotline.MessageFilter{Outgoing: true}, ids[1:]},
		{"pending", hotline.MessageFilter{Pending: true}, []string{ids[2]}},
		{"open", hotline.MessageFilter{Open: true}, []string{ids[1], ids[2]}},
		{"open on a channel", hotline.MessageFilter{Open: true, Channel: b.ID}, []string{ids[1]}},
		{"awaiting", hotline.MessageFilter{Awaiting: true}, ids[:1]},
		{"awaiting on another channel", hotline.MessageFilter{Awaiting: true, Channel: b.ID}, nil},
		{"limit", hotline.MessageFilter{Limit: 2}, ids[:2]},
		{"none", hotline.MessageFilter{Channel: "channel--nope"}, nil},
	} {
		rs, err := st.Messages(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Message.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// testUpdateMessage: an update is stored and moves the record in and out
// of the pending and open selections; fn's error comes back unchanged and
// changes nothing. (From the node's store test.)
func testUpdateMessage(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	ch := newChannel(t, "channel--a", alpha, bravo)
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	r := outgoing(alpha, bravo, ch.ID, t0)
	if _, _, err := st.PutMessage(ctx, r); err != nil {
		t.Fatal(err)
	}
	id := r.Message.ID
	if n := count(t, st, hotline.MessageFilter{Pending: true}); n != 1 {
		t.Errorf("pending: %d", n)
	}
	boom := detente.Errorf(detente.EINVALID, "boom")
	if err := st.UpdateMessage(ctx, id, func(r *hotline.Record) error { r.Pending = false; return boom }); err != boom {
		t.Errorf("failed update returned %v", err)
	}
	if n := count(t, st, hotline.MessageFilter{Pending: true}); n != 1 {
		t.Error("a failed update changed the record")
	}
	err := st.UpdateMessage(ctx, id, func(r *hotline.Record) error {
		r.Pending, r.State, r.Deliveries[0].DeliveredAt = false, hotline.Delivered, t0.Add(time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, hotline.MessageFilter{Pending: true}); n != 0 {
		t.Error("the pending selection kept a delivered message")
	}
	if n := count(t, st, hotline.MessageFilter{Open: true}); n != 1 {
		t.Errorf("open: %d", n)
	}
	if err := st.UpdateMessage(ctx, id, func(r *hotline.Record) error { r.Open = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, hotline.MessageFilter{Open: true}); n != 0 {
		t.Error("the open selection kept a settled message")
	}
	got := mustRecord(t, st, id)
	if got.State != hotline.Delivered || !got.Deliveries[0].DeliveredAt.Equal(t0.Add(time.Second)) || got.Pending || got.Open {
		t.Errorf("read back %+v", got)
	}
	called := false
	err = st.UpdateMessage(ctx, "message--00000000-0000-4000-8000-000000000000", func(*hotline.Record) error { called = true; return nil })
	wantCode(t, err, detente.ENOTFOUND, "")
	if called {
		t.Fatal("fn called for a missing message")
	}
}

// testHeard: the latest time wins, per channel and partner. (From the
// node's store test.)
func testHeard(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	st := open(t)
	now := t0.Add(time.Hour)
	if h, err := st.Heard(ctx, "channel--a"); err != nil || len(h) != 0 {
		t.Fatalf("nothing heard yet: %v %v", h, err)
	}
	for _, x := range []struct {
		channel, partner string
		at               time.Time
	}{
		{"channel--a", "bravo", now},
		{"channel--a", "bravo", now.Add(-time.Minute)}, // earlier: ignored
		{"channel--a", "charlie", now.Add(-time.Hour)},
		{"channel--b", "bravo", now.Add(time.Hour)},
	} {
		if err := st.PutHeard(ctx, x.channel, x.partner, x.at); err != nil {
			t.Fatal(err)
		}
	}
	h, err := st.Heard(ctx, "channel--a")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || !h["bravo"].Equal(now) || !h["charlie"].Equal(now.Add(-time.Hour)) {
		t.Errorf("heard on a: %v", h)
	}
	if h, _ := st.Heard(ctx, "channel--b"); len(h) != 1 || !h["bravo"].Equal(now.Add(time.Hour)) {
		t.Errorf("heard on b: %v", h)
	}
}

// testCopies: what callers hold is theirs; changing it changes nothing
// stored.
func testCopies(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	ch := newChannel(t, "channel--a", alpha, bravo)
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	ch.Purpose = "changed after storing"
	got, _ := st.Channel(ctx, ch.ID)
	got.Purpose = "changed after reading"
	if again, _ := st.Channel(ctx, ch.ID); again.Purpose != "Euro 2028 security" {
		t.Errorf("stored channel changed to %q", again.Purpose)
	}
	r := outgoing(alpha, bravo, ch.ID, t0)
	stored, _, err := st.PutMessage(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	r.Message.Subject, stored.Deliveries[0].Attempts = "changed after storing", 9
	read := mustRecord(t, st, r.Message.ID)
	read.State = hotline.Answered
	if again := mustRecord(t, st, r.Message.ID); again.Message.Subject != "fan movement" || again.Deliveries[0].Attempts != 0 || again.State != hotline.Sent {
		t.Errorf("stored record changed: %+v", again)
	}
}

// testConcurrentPutMessage: deliveries of one message racing each other
// store it once.
func testConcurrentPutMessage(t *testing.T, open func(t *testing.T) hotline.Store) {
	ctx := context.Background()
	alpha, bravo := newPeer(t, open, "alpha"), newPeer(t, open, "bravo")
	st := alpha.st
	ch := newChannel(t, "channel--a", alpha, bravo)
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	r := incoming(bravo, ch.ID, t0)
	const n = 8
	var wg sync.WaitGroup
	inserted := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := *r
			got, ins, err := st.PutMessage(ctx, &c)
			if err == nil && got.Message.ID != r.Message.ID {
				err = fmt.Errorf("stored %s, want %s", got.Message.ID, r.Message.ID)
			}
			inserted[i], errs[i] = ins, err
		})
	}
	wg.Wait()
	ins := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("delivery %d: %v", i, errs[i])
		}
		if inserted[i] {
			ins++
		}
	}
	if ins != 1 || count(t, st, hotline.MessageFilter{}) != 1 {
		t.Errorf("%d deliveries inserted, %d stored; want 1 and 1", ins, count(t, st, hotline.MessageFilter{}))
	}
}
