// Package hotlinetest is the conformance suite for hotline.Store. Every
// implementation runs it unchanged — the in-memory one and the one over
// the node's documents, on SQLite and on PostgreSQL — so that they keep
// the same behaviour:
//
//	func TestMemStore(t *testing.T) {
//		hotlinetest.Run(t, func(t *testing.T) hotline.Store { return hotline.NewMemStore() })
//	}
//
// open must return a new, empty store each time it is called and arrange
// for it to be closed when the test ends. Besides the contract of each
// method, the suite runs the package's protocol over the stores: receiving
// (verification, deduplication, channel rules), the outbox across a
// restart, escalation and heartbeats, each node of a test on a store of
// its own.
package hotlinetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) hotline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) hotline.Store)
	}{
		// The contract, method by method.
		{"Channels", testChannels},
		{"UpdateChannel", testUpdateChannel},
		{"PutMessage", testPutMessage},
		{"Messages", testMessages},
		{"UpdateMessage", testUpdateMessage},
		{"Heard", testHeard},
		{"Copies", testCopies},
		{"ConcurrentPutMessage", testConcurrentPutMessage},
		// The protocol over the store.
		{"ChannelRules", testChannelRules},
		{"ReceiveVerifies", testReceiveVerifies},
		{"Idempotency", testIdempotency},
		{"AckAndResponse", testAckAndResponse},
		{"OutboxRestart", testOutboxRestart},
		{"OutboxPermanentFailure", testOutboxPermanentFailure},
		{"OutboxSuspended", testOutboxSuspended},
		{"Escalation", testEscalation},
		{"EscalationBackoff", testEscalationBackoff},
		{"RequestOverdue", testRequestOverdue},
		{"EscalationStopsOnClose", testEscalationStopsOnClose},
		{"Heartbeats", testHeartbeats},
		{"HeartbeatsSuspended", testHeartbeatsSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// testPeer is one node in a test: its key and its store.
type testPeer struct {
	name string
	priv ed25519.PrivateKey
	pub  detente.PublicKey
	st   hotline.Store
}

// newPeer returns the node called name, on a new store.
func newPeer(t *testing.T, open func(t *testing.T) hotline.Store, name string) *testPeer {
	t.Helper()
	seed := sha256.Sum256([]byte("hotline test key " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return &testPeer{name: name, priv: priv, pub: detente.PublicKey(priv.Public().(ed25519.PublicKey)), st: open(t)}
}

func (p *testPeer) party() hotline.Party {
	return hotline.Party{Name: p.name, Key: p.pub, Contacts: []hotline.Contact{
		{Name: "Liaison " + p.name, Role: "liaison officer"},
		{Name: "Duty " + p.name, Role: hotline.RoleDutyOfficer, Phone: "+1 555 0100"},
	}}
}

var t0 = time.Date(2028, 5, 1, 12, 0, 0, 0, time.UTC)

const tlpAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

func testTerms(id string, peers ...*testPeer) hotline.Terms {
	t := hotline.Terms{
		ID: id, Purpose: "Euro 2028 security", Event: "UEFA Euro 2028",
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		AckWithin: map[hotline.MessageType]hotline.Duration{
			hotline.TypeCrisisAlert: hotline.Duration(5 * time.Minute), hotline.TypeRequest: hotline.Duration(15 * time.Minute)},
	}
	for _, p := range peers {
		t.Parties = append(t.Parties, p.party())
	}
	return t
}

// openChannel proposes a channel from peers[0], has every other peer
// accept it, and stores the open channel in every peer's store.
func openChannel(t testing.TB, now time.Time, peers ...*testPeer) *hotline.Channel {
	t.Helper()
	ch, err := hotline.Propose(testTerms("channel--"+strings.Repeat("0", 8)+"-euro", peers...), "tournament security liaison", now, peers[0].priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers[1:] {
		if err := hotline.Apply(ch, hotline.NewTransition(ch, hotline.StateOpen, "agreed", now, p.priv)); err != nil {
			t.Fatal(err)
		}
	}
	if ch.State != hotline.StateOpen {
		t.Fatalf("state %s after every party agreed", ch.State)
	}
	for _, p := range peers {
		if err := p.st.CreateChannel(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// setState moves the stored channel in every peer's store to state s
// through signed transitions made by by.
func setState(t testing.TB, id string, s hotline.State, by *testPeer, peers ...*testPeer) {
	t.Helper()
	for _, p := range peers {
		err := p.st.UpdateChannel(context.Background(), id, func(ch *hotline.Channel) error {
			return hotline.Apply(ch, hotline.NewTransition(ch, s, "test", ch.Transitions[len(ch.Transitions)-1].Time, by.priv))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// msg returns a valid signed message of type typ from p on channel ch.
func msg(p *testPeer, ch string, typ hotline.MessageType, now time.Time) *hotline.Message {
	m := hotline.NewMessage(ch, typ, now)
	m.Author = "Liaison " + p.name
	switch typ {
	case hotline.TypeNotice:
		m.Subject, m.Body = "fan movement", "3,000 supporters travelling by train"
		m.Markings = []string{tlpAmber}
		m.Refs = []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}
	case hotline.TypeRequest:
		m.Subject, m.Due = "manifest of flight XY123", now.Add(time.Hour)
	case hotline.TypeCrisisAlert:
		m.Subject, m.Body = "credible threat", "vehicle sighted near stadium gate 4"
	case hotline.TypeHeartbeat:
		m.Author = ""
	}
	m.Sign(p.priv)
	return m
}

// reply returns p's reply of type typ to message to.
func reply(p *testPeer, to *hotline.Message, typ hotline.MessageType, now time.Time) *hotline.Message {
	m := hotline.NewMessage(to.Channel, typ, now)
	m.InReplyTo, m.Author = to.ID, "Duty "+p.name
	if typ == hotline.TypeResponse {
		m.Body = "manifest attached"
	}
	m.Sign(p.priv)
	return m
}

// network is an in-memory network of peers: the Transport each peer's outbox
// uses. Messages go through their wire encoding.
type network struct {
	mu    sync.Mutex
	peers map[string]*testPeer
	// down makes every send to the named peer fail (not delivered).
	down map[string]bool
	// lose makes the next n sends to the named peer deliver the message
	// but fail on the way back, as when a response is lost.
	lose map[string]int
	// sends counts Send calls per recipient.
	sends map[string]int
}

func newNetwork(peers ...*testPeer) *network {
	n := &network{peers: map[string]*testPeer{}, down: map[string]bool{}, lose: map[string]int{}, sends: map[string]int{}}
	for _, p := range peers {
		n.peers[p.name] = p
	}
	return n
}

func (n *network) from(p *testPeer) hotline.Transport { return &wire{n: n, from: p} }

type wire struct {
	n    *network
	from *testPeer
}

// Send implements hotline.Transport: the message goes through its wire
// encoding into the recipient's store, as hotline.Receive stores it.
func (w *wire) Send(ctx context.Context, partner string, m *hotline.Message) error {
	w.n.mu.Lock()
	to := w.n.peers[partner]
	down := w.n.down[partner]
	lose := w.n.lose[partner] > 0
	if lose {
		w.n.lose[partner]--
	}
	w.n.sends[partner]++
	w.n.mu.Unlock()
	if to == nil {
		return detente.Errorf(detente.EINVALID, "no partner %s", partner)
	}
	if down {
		return detente.Errorf(detente.EUNAVAILABLE, "%s is down", partner)
	}
	b, err := hotline.EncodeMessage(m)
	if err != nil {
		return err
	}
	got, err := hotline.DecodeMessage(b)
	if err != nil {
		return err
	}
	if _, err := hotline.Receive(ctx, to.st, w.from.pub, got, time.Now()); err != nil {
		return err
	}
	if lose {
		return detente.Errorf(detente.EUNAVAILABLE, "connection reset")
	}
	return nil
}

func (n *network) sent(partner string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sends[partner]
}

func (n *network) setDown(partner string, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down[partner] = down
}

// count returns how many messages st holds that f selects.
func count(t testing.TB, st hotline.Store, f hotline.MessageFilter) int {
	t.Helper()
	rs, err := st.Messages(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

func mustRecord(t testing.TB, st hotline.Store, id string) *hotline.Record {
	t.Helper()
	r, err := st.Message(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantCode fails t unless err has detente code code and, if sub is not
// "", a message containing sub.
func wantCode(t testing.TB, err error, code, sub string) {
	t.Helper()
	if got := detente.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if sub != "" && !strings.Contains(detente.ErrorMessage(err), sub) {
		t.Fatalf("error %q does not mention %q", detente.ErrorMessage(err), sub)
	}
}
