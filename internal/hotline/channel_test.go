package hotline

import (
	"encoding/json"
	"testing"
	"time"

	"detente"
)

func TestLifecycle(t *testing.T) {
	alpha, bravo, charlie := newPeer("alpha"), newPeer("bravo"), newPeer("charlie")
	outsider := newPeer("mallory")

	// step is one attempted transition. mutate, if set, changes it after
	// signing (a tampered or forged transition).
	type step struct {
		to      State
		by      *testPeer
		reason  string
		mutate  func(*Transition)
		code    string // "" for success
		sub     string
		wantNow State // the state after the step
	}
	tests := []struct {
		name    string
		parties []*testPeer
		steps   []step
	}{
		{"full lifecycle", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, wantNow: StateOpen},
			{to: StateSuspended, by: alpha, wantNow: StateSuspended},
			{to: StateOpen, by: bravo, wantNow: StateOpen},
			{to: StateSuspended, by: bravo, wantNow: StateSuspended},
			{to: StateClosed, by: alpha, wantNow: StateClosed},
		}},
		{"rejected proposal", []*testPeer{alpha, bravo}, []step{
			{to: StateClosed, by: bravo, wantNow: StateClosed},
		}},
		{"closed is final", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, wantNow: StateOpen},
			{to: StateClosed, by: bravo, wantNow: StateClosed},
			{to: StateOpen, by: alpha, code: detente.ECONFLICT, sub: "closed is final", wantNow: StateClosed},
			{to: StateSuspended, by: alpha, code: detente.ECONFLICT, sub: "closed is final", wantNow: StateClosed},
		}},
		{"proposer cannot accept its own proposal", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: alpha, code: detente.ECONFLICT, sub: "already agreed", wantNow: StateProposed},
		}},
		{"proposed cannot be suspended", []*testPeer{alpha, bravo}, []step{
			{to: StateSuspended, by: bravo, code: detente.ECONFLICT, sub: "cannot go from proposed to suspended", wantNow: StateProposed},
		}},
		{"open cannot go back to proposed", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, wantNow: StateOpen},
			{to: StateProposed, by: bravo, code: detente.ECONFLICT, sub: "cannot go from open to proposed", wantNow: StateOpen},
			{to: StateOpen, by: bravo, code: detente.ECONFLICT, sub: "cannot go from open to open", wantNow: StateOpen},
		}},
		{"a reason is required", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, reason: " ", code: detente.EINVALID, sub: "needs a reason", wantNow: StateProposed},
		}},
		{"outsider", []*testPeer{alpha, bravo}, []step{
			{to: StateClosed, by: outsider, code: detente.EFORBIDDEN, sub: "not a party", wantNow: StateProposed},
		}},
		{"tampered reason", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, mutate: func(t *Transition) { t.Reason = "agreed, reluctantly" }, code: detente.EINVALID, sub: "signature", wantNow: StateProposed},
		}},
		{"signed by another party's key", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: charlie, mutate: func(t *Transition) { t.By = bravo.pub }, code: detente.EINVALID, sub: "signature", wantNow: StateProposed},
		}},
		{"other terms", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, mutate: func(t *Transition) { t.TermsHash = make([]byte, 32); t.Sign(bravo.priv) }, code: detente.EINVALID, sub: "other terms", wantNow: StateProposed},
		}},
		{"out of sequence", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, mutate: func(t *Transition) { t.Seq = 5; t.Sign(bravo.priv) }, code: detente.ECONFLICT, sub: "out of sequence", wantNow: StateProposed},
		}},
		{"wrong from-state", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, wantNow: StateOpen},
			{to: StateClosed, by: bravo, mutate: func(t *Transition) { t.From = StateSuspended; t.Sign(bravo.priv) }, code: detente.ECONFLICT, sub: "is open, not suspended", wantNow: StateOpen},
		}},
		{"time going back", []*testPeer{alpha, bravo}, []step{
			{to: StateOpen, by: bravo, mutate: func(t *Transition) { t.Time = t.Time.Add(-time.Hour); t.Sign(bravo.priv) }, code: detente.EINVALID, sub: "before the previous", wantNow: StateProposed},
		}},
		{"three parties open with the last acceptance", []*testPeer{alpha, bravo, charlie}, []step{
			{to: StateOpen, by: bravo, wantNow: StateProposed},
			{to: StateOpen, by: bravo, code: detente.ECONFLICT, sub: "already agreed", wantNow: StateProposed},
			{to: StateOpen, by: charlie, wantNow: StateOpen},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := Propose(testTerms("channel--test", tt.parties...), "liaison for the tournament", t0, tt.parties[0].priv)
			if err != nil {
				t.Fatal(err)
			}
			if ch.State != StateProposed {
				t.Fatalf("state %s after proposal", ch.State)
			}
			now := t0
			for i, s := range tt.steps {
				now = now.Add(time.Minute)
				reason := s.reason
				if reason == "" {
					reason = "step reason"
				}
				tr := NewTransition(ch, s.to, reason, now, s.by.priv)
				if s.mutate != nil {
					s.mutate(&tr)
				}
				before := jsonOf(t, ch)
				err := Apply(ch, tr)
				if s.code == "" && err != nil {
					t.Fatalf("step %d (%s by %s): %v", i, s.to, s.by.name, err)
				}
				if s.code != "" {
					wantCode(t, err, s.code, s.sub)
					if after := jsonOf(t, ch); after != before {
						t.Fatalf("step %d: a refused transition changed the channel", i)
					}
				}
				if ch.State != s.wantNow {
					t.Fatalf("step %d: state %s, want %s", i, ch.State, s.wantNow)
				}
			}
		})
	}
}

// TestProposalTravels checks that a partner rebuilds the channel from the
// transitions alone, as it receives them.
func TestProposalTravels(t *testing.T) {
	alpha, bravo := newPeer("alpha"), newPeer("bravo")
	ch, err := Propose(testTerms("channel--travel", alpha, bravo), "liaison", t0, alpha.priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ch.Transitions[0])
	if err != nil {
		t.Fatal(err)
	}
	tr, err := DecodeTransition(b)
	if err != nil {
		t.Fatal(err)
	}
	remote := &Channel{}
	if err := Apply(remote, *tr); err != nil {
		t.Fatal(err)
	}
	if remote.State != StateProposed || remote.Purpose != "Euro 2028 security" || string(remote.Hash()) != string(ch.Hash()) {
		t.Fatalf("rebuilt channel %+v", remote)
	}
	acc := NewTransition(remote, StateOpen, "agreed", t0.Add(time.Minute), bravo.priv)
	if err := Apply(remote, acc); err != nil {
		t.Fatal(err)
	}
	if err := Apply(ch, acc); err != nil {
		t.Fatal(err)
	}
	if ch.State != StateOpen || remote.State != StateOpen {
		t.Fatalf("states %s and %s", ch.State, remote.State)
	}

	// A proposal without terms, or with invalid ones, is refused.
	bad := ch.Transitions[0]
	bad.Terms = nil
	wantCode(t, Apply(&Channel{}, bad), detente.EINVALID, "")
	if _, err := DecodeTransition([]byte(`{"channel":"x","bogus":1}`)); detente.ErrorCode(err) != detente.EINVALID {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestTermsValidate(t *testing.T) {
	alpha, bravo := newPeer("alpha"), newPeer("bravo")
	tests := []struct {
		name   string
		mutate func(*Terms)
		sub    string
	}{
		{"ok", func(*Terms) {}, ""},
		{"id", func(t *Terms) { t.ID = "euro" }, "must start with"},
		{"purpose", func(t *Terms) { t.Purpose = "" }, "purpose"},
		{"window", func(t *Terms) { t.NotAfter = t.NotBefore }, "validity window"},
		{"one party", func(t *Terms) { t.Parties = t.Parties[:1] }, "at least one partner"},
		{"twice", func(t *Terms) { t.Parties[1] = t.Parties[0] }, "listed twice"},
		{"bad name", func(t *Terms) { t.Parties[1].Name = "Bravo!" }, "not a valid node name"},
		{"no key", func(t *Terms) { t.Parties[1].Key = nil }, "no Ed25519 key"},
		{"contact", func(t *Terms) { t.Parties[1].Contacts = []Contact{{Role: "x"}} }, "has no name"},
		{"deadline", func(t *Terms) { t.AckWithin[TypeNotice] = 0 }, "must be positive"},
		{"ack of ack", func(t *Terms) { t.AckWithin[TypeAck] = Duration(time.Minute) }, "no acknowledgement deadline"},
		{"heartbeat", func(t *Terms) { t.Heartbeat = Duration(time.Minute) }, "heartbeat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terms := testTerms("channel--x", alpha, bravo)
			tt.mutate(&terms)
			err := terms.Validate()
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

func TestTermsDefaults(t *testing.T) {
	terms := Terms{}
	if d, ok := terms.AckDeadline(TypeCrisisAlert); !ok || d != DefaultCrisisAck {
		t.Fatalf("crisis alert deadline %v %v", d, ok)
	}
	if _, ok := terms.AckDeadline(TypeNotice); ok {
		t.Fatal("a notice needs no acknowledgement by default")
	}
	if terms.HeartbeatInterval() != DefaultHeartbeat {
		t.Fatal("default heartbeat")
	}
	w := Terms{NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(-1), false}, {t0, true}, {t0.Add(time.Hour - 1), true}, {t0.Add(time.Hour), false}} {
		if got := w.InWindow(c.at); got != c.want {
			t.Errorf("InWindow(%v) = %v", c.at, got)
		}
	}
}
