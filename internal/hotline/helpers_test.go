package hotline

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"
)

// testPeer is one node in a test: its key and its store.
type testPeer struct {
	name string
	priv ed25519.PrivateKey
	pub  detente.PublicKey
	st   *MemStore
}

func newPeer(name string) *testPeer {
	seed := sha256.Sum256([]byte("hotline test key " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return &testPeer{name: name, priv: priv, pub: detente.PublicKey(priv.Public().(ed25519.PublicKey)), st: NewMemStore()}
}

func (p *testPeer) party() Party {
	return Party{Name: p.name, Key: p.pub, Contacts: []Contact{
		{Name: "Liaison " + p.name, Role: "liaison officer"},
		{Name: "Duty " + p.name, Role: RoleDutyOfficer, Phone: "+1 555 0100"},
	}}
}

var t0 = time.Date(2028, 5, 1, 12, 0, 0, 0, time.UTC)

func testTerms(id string, peers ...*testPeer) Terms {
	t := Terms{
		ID: id, Purpose: "Euro 2028 security", Event: "UEFA Euro 2028",
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		AckWithin: map[MessageType]Duration{TypeCrisisAlert: Duration(5 * time.Minute), TypeRequest: Duration(15 * time.Minute)},
	}
	for _, p := range peers {
		t.Parties = append(t.Parties, p.party())
	}
	return t
}

// openChannel proposes a channel from peers[0], has every other peer
// accept it, and stores the open channel in every peer's store.
func openChannel(t testing.TB, now time.Time, peers ...*testPeer) *Channel {
	t.Helper()
	ch, err := Propose(testTerms("channel--"+strings.Repeat("0", 8)+"-euro", peers...), "tournament security liaison", now, peers[0].priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers[1:] {
		if err := Apply(ch, NewTransition(ch, StateOpen, "agreed", now, p.priv)); err != nil {
			t.Fatal(err)
		}
	}
	if ch.State != StateOpen {
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
func setState(t testing.TB, id string, s State, by *testPeer, peers ...*testPeer) {
	t.Helper()
	for _, p := range peers {
		err := p.st.UpdateChannel(context.Background(), id, func(ch *Channel) error {
			return Apply(ch, NewTransition(ch, s, "test", ch.Transitions[len(ch.Transitions)-1].Time, by.priv))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
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

func (n *network) from(p *testPeer) Transport { return &wire{n: n, from: p} }

type wire struct {
	n    *network
	from *testPeer
}

func (w *wire) Send(ctx context.Context, partner string, m *Message) error {
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
	b, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	got, err := DecodeMessage(b)
	if err != nil {
		return err
	}
	if _, err := Receive(ctx, to.st, w.from.pub, got, time.Now()); err != nil {
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
func count(t testing.TB, st Store, f MessageFilter) int {
	t.Helper()
	rs, err := st.Messages(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

func mustRecord(t testing.TB, st Store, id string) *Record {
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

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
