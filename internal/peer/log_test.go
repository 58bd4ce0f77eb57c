package peer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/peer"
)

// fakeLog answers the log endpoints from fixed values and records what
// it was asked.
type fakeLog struct {
	note      []byte
	proof     []tlog.Hash
	receipts  []peer.Receipt
	witnessed map[string][]byte
	err       error // returned by every method when set

	asked        []int64 // the sizes or seqs of the last proof asked for
	receiptsFor  string
	cosignatures []peer.Cosignature
}

func (f *fakeLog) SignedCheckpoint(context.Context) ([]byte, error) { return f.note, f.err }

func (f *fakeLog) ConsistencyProof(_ context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	f.asked = []int64{oldSize, newSize}
	return f.proof, f.err
}

func (f *fakeLog) InclusionProof(_ context.Context, seq, size int64) (tlog.RecordProof, error) {
	f.asked = []int64{seq, size}
	return f.proof, f.err
}

func (f *fakeLog) ReleaseReceipts(_ context.Context, partner string, after, size int64) ([]peer.Receipt, error) {
	f.receiptsFor, f.asked = partner, []int64{after, size}
	return f.receipts, f.err
}

func (f *fakeLog) AddCosignature(_ context.Context, from *detente.Partner, c peer.Cosignature) error {
	if f.err == nil {
		f.cosignatures = append(f.cosignatures, c)
	}
	return f.err
}

func (f *fakeLog) WitnessedCheckpoint(_ context.Context, origin string) ([]byte, error) {
	return f.witnessed[origin], f.err
}

func hashOf(s string) tlog.Hash { return tlog.RecordHash([]byte(s)) }

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// TestLogWire pins what the log endpoints write, byte for byte: other
// nodes, of this version and earlier ones, read it.
func TestLogWire(t *testing.T) {
	x := newExchange(t)
	h1, h2 := hashOf("a"), hashOf("b")
	ev := &detente.Event{Seq: 3, Type: detente.EventRelease, Partner: "bravo", Body: json.RawMessage(`{"allowed":true}`)}
	f := &fakeLog{note: []byte("detente/alpha/00\n4\nroot\n\n— detente/alpha/00 sig\n"), proof: []tlog.Hash{h1, h2},
		receipts: []peer.Receipt{{Event: ev, Size: 4, Proof: []tlog.Hash{h1}}}, witnessed: map[string][]byte{"o": []byte("note\n")}}
	x.server.LogRoutes(f)

	tests := []struct {
		name, method, path, body string
		code                     int
		contentType, want        string
	}{
		{"checkpoint", "GET", "/detente/v1/log/checkpoint", "", 200, "text/plain; charset=utf-8", string(f.note)},
		{"consistency", "GET", "/detente/v1/log/consistency?old=2&new=4", "", 200, "application/json",
			`["` + b64(h1) + `","` + b64(h2) + `"]` + "\n"},
		{"proof", "GET", "/detente/v1/log/proof?seq=1&size=4", "", 200, "application/json",
			`{"proof":["` + b64(h1) + `","` + b64(h2) + `"],"seq":1,"size":4}` + "\n"},
		{"receipts", "GET", "/detente/v1/log/receipts?after=-1&size=4", "", 200, "application/json",
			`[{"event":{"seq":3,"time":"0001-01-01T00:00:00Z","type":"release","partner":"bravo","body":{"allowed":true}},"size":4,"proof":["` + b64(h1) + `"]}]` + "\n"},
		{"cosignature", "POST", "/detente/v1/log/cosignature", `{"witness":"w","size":4,"line":"— w x\n","extra":1}`, 204, "", ""},
		{"witnessed", "GET", "/detente/v1/log/witnessed?origin=o", "", 200, "text/plain; charset=utf-8", "note\n"},
		{"not witnessed", "GET", "/detente/v1/log/witnessed?origin=other", "", 204, "", ""},

		{"consistency without new", "GET", "/detente/v1/log/consistency?old=2", "", 400, "application/json",
			`{"error":{"code":"invalid","message":"parameter new must be a tree size"}}` + "\n"},
		{"proof with a negative seq", "GET", "/detente/v1/log/proof?seq=-1&size=4", "", 400, "application/json",
			`{"error":{"code":"invalid","message":"parameter seq must be a tree size"}}` + "\n"},
		{"receipts after -2", "GET", "/detente/v1/log/receipts?after=-2&size=4", "", 400, "application/json",
			`{"error":{"code":"invalid","message":"parameter after must be a sequence number or -1"}}` + "\n"},
		{"receipts without size", "GET", "/detente/v1/log/receipts?after=0", "", 400, "application/json",
			`{"error":{"code":"invalid","message":"parameter size must be a tree size"}}` + "\n"},
		{"cosignature not JSON", "POST", "/detente/v1/log/cosignature", `{"witness":`, 400, "application/json",
			`{"error":{"code":"invalid","message":"cosignature: unexpected EOF"}}` + "\n"},
		{"cosignature too large", "POST", "/detente/v1/log/cosignature", `{"line":"` + strings.Repeat("x", 64<<10) + `"}`, 400, "application/json",
			`{"error":{"code":"invalid","message":"cosignature: http: request body too large"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ct, body := x.get(t, tt.method, tt.path, tt.body)
			if code != tt.code || ct != tt.contentType || body != tt.want {
				t.Errorf("%s %s = %d %q\n%s\nwant %d %q\n%s", tt.method, tt.path, code, ct, body, tt.code, tt.contentType, tt.want)
			}
		})
	}
	if f.receiptsFor != "bravo" {
		t.Errorf("receipts asked for %q, want the caller, bravo", f.receiptsFor)
	}
	if len(f.cosignatures) != 1 || f.cosignatures[0] != (peer.Cosignature{Witness: "w", Size: 4, Line: "— w x\n"}) {
		t.Errorf("cosignatures received: %+v", f.cosignatures)
	}

	// An empty proof is [], never null.
	f.proof = nil
	if _, _, body := x.get(t, "GET", "/detente/v1/log/consistency?old=4&new=4", ""); body != "[]\n" {
		t.Errorf("empty consistency proof: %q", body)
	}
	f.receipts = nil
	if _, _, body := x.get(t, "GET", "/detente/v1/log/receipts?after=3&size=4", ""); body != "[]\n" {
		t.Errorf("no receipts: %q", body)
	}
}

// TestLogClient: each client call reaches its endpoint with its
// parameters and returns what the serving node answered; the serving
// node's refusals come back with their code.
func TestLogClient(t *testing.T) {
	ctx := context.Background()
	x := newExchange(t)
	h1, h2 := hashOf("a"), hashOf("b")
	ev := &detente.Event{Seq: 3, Type: detente.EventRelease, Body: json.RawMessage(`{}`)}
	f := &fakeLog{note: []byte("a note\n"), proof: []tlog.Hash{h1, h2},
		receipts: []peer.Receipt{{Event: ev, Size: 9, Proof: []tlog.Hash{h2}}}, witnessed: map[string][]byte{"o/1": []byte("theirs\n")}}
	x.server.LogRoutes(f)

	if note, err := x.client.Checkpoint(ctx); err != nil || string(note) != "a note\n" {
		t.Errorf("Checkpoint = %q, %v", note, err)
	}
	if p, err := x.client.ConsistencyProof(ctx, 5, 9); err != nil || !slices.Equal(p, f.proof) || !slices.Equal(f.asked, []int64{5, 9}) {
		t.Errorf("ConsistencyProof = %v, %v (asked %v)", p, err, f.asked)
	}
	if p, err := x.client.InclusionProof(ctx, 3, 9); err != nil || !slices.Equal(p, f.proof) || !slices.Equal(f.asked, []int64{3, 9}) {
		t.Errorf("InclusionProof = %v, %v (asked %v)", p, err, f.asked)
	}
	rs, err := x.client.Receipts(ctx, -1, 9)
	if err != nil || len(rs) != 1 || rs[0].Event.Seq != 3 || rs[0].Size != 9 || !slices.Equal(rs[0].Proof, []tlog.Hash{h2}) || !slices.Equal(f.asked, []int64{-1, 9}) {
		t.Errorf("Receipts = %+v, %v (asked %v)", rs, err, f.asked)
	}
	c := peer.Cosignature{Witness: "detente/bravo/00/witness", Size: 9, Line: "— detente/bravo/00/witness abc\n"}
	if err := x.client.Cosign(ctx, c); err != nil || len(f.cosignatures) != 1 || f.cosignatures[0] != c {
		t.Errorf("Cosign: %v; received %+v", err, f.cosignatures)
	}
	if note, err := x.client.Witnessed(ctx, "o/1"); err != nil || string(note) != "theirs\n" {
		t.Errorf("Witnessed = %q, %v", note, err)
	}
	if note, err := x.client.Witnessed(ctx, "another log"); err != nil || note != nil {
		t.Errorf("Witnessed of a log the partner does not witness = %q, %v, want nil", note, err)
	}

	f.err = detente.Errorf(detente.EINVALID, "tree size 12 is not between 1 and the log's size 9")
	_, err = x.client.ConsistencyProof(ctx, 5, 12)
	if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "partner alpha: tree size 12") {
		t.Errorf("refused proof: %v", err)
	}
	f.err = detente.Errorf(detente.EINVALID, "cosignature does not verify")
	if err := x.client.Cosign(ctx, c); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("refused cosignature: %v", err)
	}
	f.err = errors.New("database on fire")
	if _, err := x.client.Checkpoint(ctx); detente.ErrorCode(err) != detente.EUNAVAILABLE || strings.Contains(err.Error(), "fire") {
		t.Errorf("internal failure of the partner: %v, want EUNAVAILABLE without its details", err)
	}

	// A checkpoint is bounded.
	f.err, f.note = nil, []byte(strings.Repeat("n", peer.MaxNote+1))
	if _, err := x.client.Checkpoint(ctx); err == nil {
		t.Error("Checkpoint accepted a note over MaxNote")
	}
}
