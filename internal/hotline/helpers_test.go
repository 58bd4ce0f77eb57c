package hotline

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"strings"
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
