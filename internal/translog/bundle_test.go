package translog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"detente"
)

// testNode is a node's log in memory: its events and hash store.
type testNode struct {
	t      testing.TB
	hs     *MemStore
	events []*detente.Event
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	origin string
}

func newTestNode(t testing.TB, n int) *testNode {
	hs, events := testLog(t, n)
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	return &testNode{t, hs, events, priv, pub, Origin("alpha", pub)}
}

// checkpoint signs the node's tree at size.
func (n *testNode) checkpoint(size int64) *Checkpoint {
	n.t.Helper()
	c, err := ParseCheckpoint(testSigned(n.t, n.hs, n.origin, n.priv, size), n.origin, n.pub)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

// rebuild recomputes every stored hash from the events, as a node that
// rewrites its whole log would.
func (n *testNode) rebuild() {
	n.t.Helper()
	n.hs = NewMemStore()
	if err := Append(context.Background(), n.hs, 0, n.events...); err != nil {
		n.t.Fatal(err)
	}
}

// roundTrip marshals and parses b, as a bundle file would.
func roundTrip(t testing.TB, b *Bundle) *Bundle {
	t.Helper()
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	return b2
}

// hasProblem reports whether r has a problem of kind about entries
// first..last whose message starts with msg.
func hasProblem(r *Report, kind ProblemKind, first, last int64, msg string) bool {
	return r != nil && slices.ContainsFunc(r.Problems, func(p Problem) bool {
		return p.Kind == kind && p.First == first && p.Last == last && strings.HasPrefix(p.Message, msg)
	})
}

func changedBody(e *detente.Event) *detente.Event {
	c := *e
	c.Body = []byte(`{"object":"report--forged","allowed":true}`)
	return &c
}

func TestBundleFull(t *testing.T) {
	ctx := context.Background()
	const size = 50
	type want struct {
		kind        ProblemKind
		first, last int64
		msg         string
	}
	tests := []struct {
		name    string
		store   func(n *testNode) // tampering with the node before export
		bundle  func(b *Bundle)   // tampering with the bundle after export
		earlier []int64           // sizes of earlier checkpoints signed before tampering
		known   []int64           // same, held by the verifier
		resign  bool              // the node signs a new checkpoint after tampering
		want    []want            // nil: verifies
	}{
		{name: "untouched"},
		{
			name:   "body changed in the bundle",
			bundle: func(b *Bundle) { b.Entries[17].Body = []byte(`{"object":"x"}`) },
			want:   []want{{Changed, 17, 17, "entry 17: leaf hash does not match the log (body changed?)"}},
		},
		{
			name: "event changed in the store",
			store: func(n *testNode) {
				n.events[17] = changedBody(n.events[17])
			},
			want: []want{{Changed, 17, 17, "entry 17: leaf hash does not match the log (body changed?)"}},
		},
		{
			name:   "time changed",
			bundle: func(b *Bundle) { b.Entries[3].Time = b.Entries[3].Time.Add(1) },
			want:   []want{{Changed, 3, 3, ""}},
		},
		{
			name:   "entry deleted",
			bundle: func(b *Bundle) { b.Entries = slices.Delete(b.Entries, 17, 18) },
			want:   []want{{Missing, 17, 17, "entry 17 missing"}},
		},
		{
			name:   "entries deleted",
			bundle: func(b *Bundle) { b.Entries = slices.Delete(b.Entries, 17, 20) },
			want:   []want{{Missing, 17, 19, "entries 17..19 missing"}},
		},
		{
			name:   "last entry deleted",
			bundle: func(b *Bundle) { b.Entries = b.Entries[:size-1] },
			want:   []want{{Missing, 49, 49, "entry 49 missing"}},
		},
		{
			name: "entries swapped",
			bundle: func(b *Bundle) {
				b.Entries[17], b.Entries[18] = b.Entries[18], b.Entries[17]
			},
			want: []want{{OutOfOrder, 17, 17, "entries out of order at 17"}},
		},
		{
			name:   "entry duplicated",
			bundle: func(b *Bundle) { b.Entries = slices.Insert(b.Entries, 18, b.Entries[17]) },
			want:   []want{{Duplicate, 17, 17, "entry 17: appears more than once"}},
		},
		{
			name: "entry deleted and the rest renumbered",
			bundle: func(b *Bundle) {
				b.Entries = slices.Delete(b.Entries, 17, 18)
				for i := 17; i < len(b.Entries); i++ {
					b.Entries[i].Seq--
				}
			},
			want: []want{{Missing, 49, 49, ""}, {Changed, 17, 17, ""}, {Changed, 48, 48, ""}},
		},
		{
			name:   "leaf hash changed in the bundle",
			bundle: func(b *Bundle) { b.Entries[17].LeafHash[0] ^= 1 },
			want:   []want{{BadLeafHash, 17, 17, ""}},
		},
		{
			name: "event and stored leaf hash changed in the store",
			store: func(n *testNode) {
				n.events[17] = changedBody(n.events[17])
				n.hs.set(Node{0, 17}, LeafHash(n.events[17]))
			},
			want: []want{{Unproven, 0, 49, ""}},
		},
		{
			name: "stored hashes rewritten, earlier checkpoints in the bundle",
			store: func(n *testNode) {
				n.events[17] = changedBody(n.events[17])
				n.hs.set(Node{0, 17}, LeafHash(n.events[17]))
			},
			earlier: []int64{10, 17, 18, 30},
			want: []want{
				{Unproven, 0, 49, ""},
				{Rewritten, 17, 17, "entry 17: rewritten: the bundle's checkpoints[2], signed by detente/alpha/"},
			},
		},
		{
			name: "whole log rewritten and re-signed, verifier holds earlier checkpoints",
			store: func(n *testNode) {
				n.events[17] = changedBody(n.events[17])
				n.rebuild()
			},
			known:  []int64{16, 32},
			resign: true,
			want:   []want{{Rewritten, 16, 31, ""}},
		},
		{
			name: "whole log rewritten and re-signed, same size as a known checkpoint",
			store: func(n *testNode) {
				n.events[17] = changedBody(n.events[17])
				n.rebuild()
			},
			known:  []int64{size},
			resign: true,
			want:   []want{{SplitView, -1, -1, "split view: checkpoint cp-50.txt, signed by detente/alpha/"}, {Rewritten, 0, 49, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, size)
			cp := n.checkpoint(size)
			var earlier [][]byte
			var known []KnownCheckpoint
			for _, s := range tt.earlier {
				earlier = append(earlier, n.checkpoint(s).Note)
			}
			for _, s := range tt.known {
				known = append(known, KnownCheckpoint{fmt.Sprintf("cp-%d.txt", s), n.checkpoint(s).Note})
			}
			if tt.store != nil {
				tt.store(n)
			}
			if tt.resign {
				cp = n.checkpoint(size)
			}
			b, err := Export(ctx, n.hs, cp, n.events)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range earlier {
				b.Checkpoints = append(b.Checkpoints, string(e))
			}
			b = roundTrip(t, b)
			if tt.bundle != nil {
				tt.bundle(b)
				b = roundTrip(t, b)
			}
			r, err := VerifyBundle(b, n.pub, known...)
			if r == nil {
				t.Fatalf("no report: %v", err)
			}
			if tt.want == nil {
				if err != nil || !r.OK() || r.Verified != size {
					t.Fatalf("err = %v, report %+v", err, r)
				}
				return
			}
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("error = %v, want ErrVerify", err)
			}
			for _, w := range tt.want {
				if !hasProblem(r, w.kind, w.first, w.last, w.msg) {
					t.Errorf("no problem %v %d..%d %q in %+v", w.kind, w.first, w.last, w.msg, r.Problems)
				}
			}
			t.Log(err)
		})
	}
}

// TestBundleRollback: the node's newest entries were deleted, with the
// hashes and checkpoints that covered them, and the node signed the
// shorter log. A verifier holding a checkpoint from before the deletion
// must refuse the bundle, whatever its mode, and say what happened.
func TestBundleRollback(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, 50)
	witnessed := KnownCheckpoint{"old.txt", n.checkpoint(50).Note}
	older := KnownCheckpoint{"older.txt", n.checkpoint(30).Note}
	n.events = n.events[:40]
	n.rebuild()
	cp := n.checkpoint(40)
	full, err := Export(ctx, n.hs, cp, n.events)
	if err != nil {
		t.Fatal(err)
	}
	full.Checkpoints = append(full.Checkpoints, string(older.Note))
	full = roundTrip(t, full)
	part, err := Export(ctx, n.hs, cp, n.events[10:20])
	if err != nil {
		t.Fatal(err)
	}
	proofs, err := ExportProofs(ctx, n.hs, cp, []*detente.Event{n.events[3], n.events[17]})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("the bundle holds 40 entries but checkpoint old.txt, signed by %s, covers 50: the log was rolled back or truncated", n.origin)
	for name, b := range map[string]*Bundle{"full": full, "range": roundTrip(t, part), "selection": roundTrip(t, proofs)} {
		t.Run(name, func(t *testing.T) {
			r, err := VerifyBundle(b, n.pub, older, witnessed)
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("error = %v, want ErrVerify", err)
			}
			msg := want
			if name != "full" {
				msg = strings.Replace(want, "the bundle holds", "the bundle's checkpoint covers", 1)
			}
			if !hasProblem(r, RolledBack, 40, 49, msg) {
				t.Errorf("no problem %q in %+v", msg, r.Problems)
			}
			if !strings.Contains(err.Error(), "rolled back") {
				t.Errorf("error %q does not say rolled back", err)
			}
		})
	}
	// Checkpoints the shorter log extends are no problem.
	if r, err := VerifyBundle(full, n.pub, older, KnownCheckpoint{"same.txt", cp.Note}); err != nil || !r.OK() || len(r.Notes) != 0 {
		t.Errorf("consistent checkpoints: %v, %+v", err, r)
	}
	// A partial export cannot be compared with a checkpoint the verifier
	// gives, and a forked or rolled-back log could pass it: it fails,
	// saying what export would do.
	r, err := VerifyBundle(roundTrip(t, part), n.pub, older)
	if !errors.Is(err, ErrVerify) || !hasProblem(r, Uncompared, -1, -1, "checkpoint older.txt (size 30) cannot be compared with this partial export") ||
		!strings.Contains(err.Error(), "export from entry 0 to at least entry 29") {
		t.Errorf("partial export with an older checkpoint: %v, %+v", err, r)
	}

	// The log grew again past the checkpoint, with other entries: the
	// witnessed checkpoint is no prefix of it, and the report gives the
	// size and both roots.
	for i := int64(40); i < 55; i++ {
		n.events = append(n.events, changedBody(testEvent(i)))
	}
	n.rebuild()
	cp = n.checkpoint(55)
	regrown, err := Export(ctx, n.hs, cp, n.events)
	if err != nil {
		t.Fatal(err)
	}
	r, err = VerifyBundle(roundTrip(t, regrown), n.pub, older, witnessed)
	if !errors.Is(err, ErrVerify) || !hasProblem(r, Rewritten, 30, 49, "entries 30..49: the first rewritten entry is among these: checkpoint old.txt") {
		t.Fatalf("regrown log: %v, %+v", err, r)
	}
	old, _ := ParseCheckpoint(witnessed.Note, n.origin, n.pub)
	for _, s := range []string{"at size 50", old.Root.String()} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("report %q does not give %q", err, s)
		}
	}
}

// TestBundleBadKnownCheckpoint: a checkpoint the verifier gives that is
// not signed by the pinned key, or not of this log, is an error naming it.
func TestBundleBadKnownCheckpoint(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, 10)
	b, err := Export(ctx, n.hs, n.checkpoint(10), n.events)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := testKey(9)
	otherLog := Origin("other", otherKey.Public().(ed25519.PublicKey))
	forged := testSigned(t, n.hs, n.origin, otherKey, 5)
	edited := bytes.Replace(n.checkpoint(5).Note, []byte("\n5\n"), []byte("\n6\n"), 1)
	tests := []struct {
		name string
		note []byte
		want error
		msg  string
	}{
		{"another key", forged, ErrSignature, "checkpoint x.txt is not signed by " + detente.PublicKey(n.pub).String()},
		{"edited", edited, ErrSignature, "checkpoint x.txt is not signed by"},
		{"another log", testSigned(t, n.hs, otherLog, otherKey, 5), ErrSignature, "checkpoint x.txt is a checkpoint of another log, \"" + otherLog + "\""},
		{"not a note", []byte("hello\n"), ErrMalformed, "checkpoint x.txt: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := VerifyBundle(b, n.pub, KnownCheckpoint{"x.txt", tt.note})
			if r != nil || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error = %v, want %v with %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestBundleRange(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, 50)
	cp := n.checkpoint(50)
	b, err := Export(ctx, n.hs, cp, n.events[10:20])
	if err != nil {
		t.Fatal(err)
	}
	if r, err := VerifyBundle(roundTrip(t, b), n.pub); err != nil || r.Verified != 10 {
		t.Fatalf("range export: %v, %+v", err, r)
	}

	changed := roundTrip(t, b)
	changed.Entries[5].Body = []byte(`{}`)
	r, err := VerifyBundle(changed, n.pub)
	if !errors.Is(err, ErrVerify) || !hasProblem(r, Changed, 15, 15, "entry 15: leaf hash does not match the log (body changed?)") {
		t.Fatalf("changed entry: %v", err)
	}

	deleted := roundTrip(t, b)
	deleted.Entries = slices.Delete(deleted.Entries, 5, 6)
	if r, err := VerifyBundle(deleted, n.pub); !hasProblem(r, Missing, 15, 15, "entry 15 missing") {
		t.Fatalf("deleted entry: %v", err)
	}

	outside := roundTrip(t, b)
	outside.Entries = append(outside.Entries, newEntry(n.events[30], LeafHash(n.events[30])))
	if r, err := VerifyBundle(outside, n.pub); !hasProblem(r, Unexpected, 30, 30, "") {
		t.Fatalf("entry outside the range: %v", err)
	}

	badProof := roundTrip(t, b)
	badProof.Range.Proof[0][0] ^= 1
	if r, err := VerifyBundle(badProof, n.pub); !hasProblem(r, Unproven, 10, 19, "") {
		t.Fatalf("bad range proof: %v", err)
	}
}

func TestBundleProofs(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, 50)
	cp := n.checkpoint(50)
	b, err := ExportProofs(ctx, n.hs, cp, []*detente.Event{n.events[3], n.events[17], n.events[40]})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := VerifyBundle(roundTrip(t, b), n.pub); err != nil || r.Verified != 3 {
		t.Fatalf("proof export: %v, %+v", err, r)
	}
	tests := []struct {
		name   string
		tamper func(b *Bundle)
		kind   ProblemKind
		seq    int64
	}{
		{"body changed", func(b *Bundle) { b.Entries[1].Body = []byte(`{}`) }, Changed, 17},
		{"moved", func(b *Bundle) { b.Entries[1].Seq = 18 }, NotInLog, 18},
		{"proof damaged", func(b *Bundle) { b.Entries[2].Proof[0][3] ^= 1 }, NotInLog, 40},
		{"beyond the tree", func(b *Bundle) { b.Entries[2].Seq = 50 }, NotInLog, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := roundTrip(t, b)
			tt.tamper(b)
			r, err := VerifyBundle(b, n.pub)
			if !errors.Is(err, ErrVerify) || !hasProblem(r, tt.kind, tt.seq, tt.seq, "") || r.Verified != 2 {
				t.Fatalf("error %v, report %+v", err, r)
			}
		})
	}
}

func TestBundleRejects(t *testing.T) {
	ctx := context.Background()
	n := newTestNode(t, 5)
	b, err := Export(ctx, n.hs, n.checkpoint(5), n.events)
	if err != nil {
		t.Fatal(err)
	}
	other := testKey(7).Public().(ed25519.PublicKey)
	if _, err := VerifyBundle(b, other); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	b2 := roundTrip(t, b)
	b2.Key = nil
	if _, err := VerifyBundle(b2, other); !errors.Is(err, ErrSignature) {
		t.Errorf("other key, no key in bundle: %v", err)
	}
	b2.Checkpoint = strings.Replace(b2.Checkpoint, "\n5\n", "\n4\n", 1)
	if _, err := VerifyBundle(b2, n.pub); !errors.Is(err, ErrSignature) {
		t.Errorf("edited checkpoint: %v", err)
	}
	data, _ := b.Marshal()
	for _, bad := range []string{
		``, `{}`, `[]`, `{"format":"detente-log-bundle/v2"}`,
		strings.Replace(string(data), `"entries"`, `"entries2"`, 1),
		string(data) + `{}`,
	} {
		if _, err := ParseBundle([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseBundle(%.40q) error = %v", bad, err)
		}
	}
	if _, err := Export(ctx, n.hs, n.checkpoint(4), n.events); err == nil {
		t.Error("exported events beyond the checkpoint")
	}
	if _, err := Export(ctx, n.hs, n.checkpoint(5), []*detente.Event{n.events[0], n.events[2]}); err == nil {
		t.Error("exported a range with a gap")
	}
}

// TestBundleBodies checks that bodies keep their exact bytes through a
// bundle, and that re-indenting a bundle does not break it.
func TestBundleBodies(t *testing.T) {
	ctx := context.Background()
	bodies := []string{`{"a":"<b> & c"}`, `{ "a" : 1 }`, `not json`, ``, `null`, "{\"a\":\"\u2028\"}", `{"a":"\u003c"}`}
	hs := NewMemStore()
	var events []*detente.Event
	for i, body := range bodies {
		e := testEvent(int64(i))
		e.Body = []byte(body)
		if body == "" {
			e.Body = nil
		}
		events = append(events, e)
	}
	if err := Append(ctx, hs, 0, events...); err != nil {
		t.Fatal(err)
	}
	n := &testNode{t, hs, events, testKey(1), testKey(1).Public().(ed25519.PublicKey), "detente/alpha/x"}
	b, err := Export(ctx, hs, n.checkpoint(int64(len(events))), events)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&indented, compact.Bytes(), "", "\t"); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string][]byte{"as written": data, "compacted": compact.Bytes(), "re-indented": indented.Bytes()} {
		b2, err := ParseBundle(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyBundle(b2, n.pub); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for i, en := range b2.Entries {
			if got := en.Event().Body; !bytes.Equal(got, events[i].Body) {
				t.Errorf("%s: body %d = %q, want %q", name, i, got, events[i].Body)
			}
		}
	}
}

func FuzzParseBundle(f *testing.F) {
	ctx := context.Background()
	n := newTestNode(f, 9)
	cp := n.checkpoint(9)
	full, err := Export(ctx, n.hs, cp, n.events)
	if err != nil {
		f.Fatal(err)
	}
	full.Checkpoints = []string{string(n.checkpoint(4).Note)}
	part, err := Export(ctx, n.hs, cp, n.events[2:5])
	if err != nil {
		f.Fatal(err)
	}
	proofs, err := ExportProofs(ctx, n.hs, cp, n.events[6:8])
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range []*Bundle{full, part, proofs} {
		data, err := b.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format":"detente-log-bundle/v1","range":{"start":0,"end":9223372036854775807},"entries":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		r, err := VerifyBundle(b, n.pub)
		if err == nil && (r == nil || !r.OK()) {
			t.Fatalf("nil error with report %+v", r)
		}
		if r != nil && !r.OK() && !errors.Is(err, ErrVerify) {
			t.Fatalf("problems without ErrVerify: %v", err)
		}
	})
}
