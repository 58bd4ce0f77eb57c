package psi

import (
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"filippo.io/edwards25519/field"
)

// bulkRun runs one exchange and returns both results.
func bulkRun(t testing.TB, p BulkParams, x, y *Set, opt BulkOptions) (ri, rr *BulkResult) {
	t.Helper()
	bi, hello, err := NewBulkInitiator(p, x, opt)
	if err != nil {
		t.Fatal(err)
	}
	br, reply, err := RespondBulk(p, y, roundTrip(t, hello), opt)
	if err != nil {
		t.Fatal(err)
	}
	ri, fin, err := bi.HandleReply(roundTrip(t, reply))
	if err != nil {
		t.Fatal(err)
	}
	if (fin != nil) != p.responderLearns() {
		t.Fatalf("finish %v for learner %s", fin, p.Learner)
	}
	if fin == nil {
		return ri, br.Result()
	}
	rr, err = br.HandleFinish(roundTrip(t, fin))
	if err != nil {
		t.Fatal(err)
	}
	return ri, rr
}

// TestBulkRandomised checks every mode and learner over random sets with
// known overlaps, asserting the intersections exactly.
func TestBulkRandomised(t *testing.T) {
	learners := []Learner{LearnerInitiator, LearnerResponder, LearnerBoth}
	for _, mode := range []Mode{ModeIntersection, ModeCount} {
		for _, learner := range learners {
			for trial := range 3 {
				t.Run(fmt.Sprintf("%s/%s/%d", mode, learner, trial), func(t *testing.T) {
					r := mrand.New(mrand.NewPCG(uint64(trial), 11))
					nx, ny := 10+r.IntN(150), 10+r.IntN(150)
					common := r.IntN(min(nx, ny) + 1)
					xs := append(randomSelectors(0, common), randomSelectors(1000, nx-common)...)
					ys := append(randomSelectors(0, common), randomSelectors(5000, ny-common)...)
					r.Shuffle(nx, func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
					r.Shuffle(ny, func(i, j int) { ys[i], ys[j] = ys[j], ys[i] })
					X, err := NewSet(xs, mode)
					if err != nil {
						t.Fatal(err)
					}
					Y, _ := NewSet(ys, mode)
					p := BulkParams{Session: NewSession(), Mode: mode, Learner: learner}
					ri, rr := bulkRun(t, p, X, Y, BulkOptions{NoPadding: trial == 0})

					inY := make(map[Selector]bool)
					for _, s := range ys {
						inY[s] = true
					}
					var wantX, wantY []int
					for i, s := range xs {
						if inY[s] {
							wantX = append(wantX, i)
						}
					}
					inX := make(map[Selector]bool)
					for _, s := range xs {
						inX[s] = true
					}
					for i, s := range ys {
						if inX[s] {
							wantY = append(wantY, i)
						}
					}
					check := func(side string, res *BulkResult, learns bool, want []int) {
						t.Helper()
						if res.Learned != learns {
							t.Fatalf("%s learned = %v, want %v", side, res.Learned, learns)
						}
						if !learns {
							if res.Count != 0 || res.Matches != nil {
								t.Fatalf("%s learned %+v", side, res)
							}
							return
						}
						if res.Count != common {
							t.Fatalf("%s count %d, want %d", side, res.Count, common)
						}
						if mode == ModeCount {
							if len(res.Matches) != 0 {
								t.Fatalf("%s learned matches in count mode", side)
							}
							return
						}
						if !slices.Equal(res.Matches, want) && !(len(want) == 0 && len(res.Matches) == 0) {
							t.Fatalf("%s matches %v, want %v", side, res.Matches, want)
						}
					}
					check("initiator", ri, p.initiatorLearns(), wantX)
					check("responder", rr, p.responderLearns(), wantY)
					if trial > 0 && (ri.Size != Bucket(nx) || ri.PeerSize != Bucket(ny)) {
						t.Fatalf("sizes %d/%d, want buckets %d/%d", ri.Size, ri.PeerSize, Bucket(nx), Bucket(ny))
					}
				})
			}
		}
	}
}

// TestBulkPersons checks that a bulk intersection maps person keys back to
// their selectors, across scripts.
func TestBulkPersons(t *testing.T) {
	xs := []Selector{Person("Sergey Lavrov", "1950-03-21"), Person("Jane Roe", "1980")}
	ys := []Selector{Person("Сергей Лавров", "1950-03-21"), Person("John Doe", "1980")}
	X, _ := NewSet(xs, ModeIntersection)
	Y, _ := NewSet(ys, ModeIntersection)
	p := BulkParams{Session: NewSession(), Mode: ModeIntersection, Learner: LearnerBoth}
	ri, rr := bulkRun(t, p, X, Y, BulkOptions{})
	if !slices.Equal(ri.Matches, []int{0}) || !slices.Equal(rr.Matches, []int{0}) {
		t.Fatalf("matches %v / %v, want [0] / [0]", ri.Matches, rr.Matches)
	}
}

// TestBulkMinSetSize checks that count mode refuses small sets on both
// sides, so that a count cannot become a membership test.
func TestBulkMinSetSize(t *testing.T) {
	small, _ := NewSet(randomSelectors(0, 3), ModeCount)
	big, _ := NewSet(randomSelectors(0, 50), ModeCount)
	p := BulkParams{Session: NewSession(), Mode: ModeCount, Learner: LearnerInitiator}

	if _, _, err := NewBulkInitiator(p, small, BulkOptions{}); !errors.Is(err, ErrSetSize) {
		t.Fatalf("initiator with 3 elements: %v, want ErrSetSize", err)
	}
	// A cheating initiator sends 3 elements: the responder refuses.
	cheatP := p
	cheatP.Mode = ModeIntersection
	_, hello, err := NewBulkInitiator(cheatP, small, BulkOptions{NoPadding: true})
	if err != nil {
		t.Fatal(err)
	}
	hello.Params = p
	if _, _, err := RespondBulk(p, big, hello, BulkOptions{}); !errors.Is(err, ErrSetSize) {
		t.Fatalf("responder given 3 elements: %v, want ErrSetSize", err)
	}
	// The responder's own set must be large enough too.
	_, hello, _ = NewBulkInitiator(p, big, BulkOptions{})
	if _, _, err := RespondBulk(p, small, hello, BulkOptions{}); !errors.Is(err, ErrSetSize) {
		t.Fatalf("responder with 3 elements: %v, want ErrSetSize", err)
	}
	// A cheating responder replies with 3 elements: the initiator refuses.
	bi, hello, _ := NewBulkInitiator(p, big, BulkOptions{})
	_, reply, err := RespondBulk(p, big, hello, BulkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reply.Elements = reply.Elements[:3*ElementSize]
	if _, _, err := bi.HandleReply(reply); !errors.Is(err, ErrSetSize) {
		t.Fatalf("initiator given 3 elements: %v, want ErrSetSize", err)
	}
	// MinSetSize cannot lower the floor.
	p.MinSetSize = 2
	if _, _, err := NewBulkInitiator(p, small, BulkOptions{NoPadding: true}); !errors.Is(err, ErrSetSize) {
		t.Fatalf("MinSetSize 2 lowered the floor: %v", err)
	}
	// Repeating one element ten times is refused.
	_, hello, _ = NewBulkInitiator(BulkParams{Session: p.Session, Mode: ModeCount, Learner: LearnerInitiator}, big, BulkOptions{})
	for i := 1; i < 10; i++ {
		copy(hello.Elements[i*ElementSize:], hello.Elements[:ElementSize])
	}
	hello.Params.MinSetSize = 0
	p.MinSetSize = 0
	if _, _, err := RespondBulk(p, big, hello, BulkOptions{}); !errors.Is(err, ErrMessage) {
		t.Fatalf("repeated elements: %v, want ErrMessage", err)
	}
}

// TestBulkParams checks that the sides refuse messages whose terms differ
// from their own.
func TestBulkParams(t *testing.T) {
	set, _ := NewSet(randomSelectors(0, 20), ModeIntersection)
	p := BulkParams{Session: NewSession(), Mode: ModeIntersection, Learner: LearnerInitiator}
	_, hello, err := NewBulkInitiator(p, set, BulkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := p
	other.Learner = LearnerResponder
	if _, _, err := RespondBulk(other, set, hello, BulkOptions{}); !errors.Is(err, ErrParams) {
		t.Fatalf("learner mismatch: %v, want ErrParams", err)
	}
	other = p
	other.Mode = ModeCount
	if _, _, err := RespondBulk(other, set, hello, BulkOptions{}); !errors.Is(err, ErrParams) {
		t.Fatalf("mode mismatch: %v, want ErrParams", err)
	}
	for _, bad := range []BulkParams{
		{Mode: ModeCount, Learner: LearnerBoth},
		{Session: "s", Mode: "all", Learner: LearnerBoth},
		{Session: "s", Mode: ModeCount, Learner: "nobody"},
		{Session: "s", Mode: ModeCount, Learner: LearnerBoth, MaxSetSize: 5},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}

// TestBulkPrivacy checks that no message holds a selector or an unkeyed
// hash of one.
func TestBulkPrivacy(t *testing.T) {
	xs, ys := randomSelectors(0, 40), randomSelectors(20, 40)
	X, _ := NewSet(xs, ModeIntersection)
	Y, _ := NewSet(ys, ModeIntersection)
	p := BulkParams{Session: NewSession(), Mode: ModeIntersection, Learner: LearnerBoth}
	bi, hello, _ := NewBulkInitiator(p, X, BulkOptions{})
	_, reply, err := RespondBulk(p, Y, hello, BulkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, fin, err := bi.HandleReply(reply)
	if err != nil {
		t.Fatal(err)
	}
	forms := append(canonicalForms(t, xs), canonicalForms(t, ys)...)
	for name, m := range map[string]any{"hello": hello, "reply": reply, "finish": fin} {
		b, _ := json.Marshal(m)
		assertNoLeak(t, name, b, forms)
	}
}

// TestBulkBinary checks the binary framing and the bytes per element pair.
func TestBulkBinary(t *testing.T) {
	const n = 1024
	X, _ := NewSet(randomSelectors(0, n), ModeIntersection)
	Y, _ := NewSet(randomSelectors(n/2, n), ModeIntersection)
	for _, learner := range []Learner{LearnerInitiator, LearnerResponder} {
		p := BulkParams{Session: NewSession(), Mode: ModeIntersection, Learner: learner}
		bi, hello, _ := NewBulkInitiator(p, X, BulkOptions{})
		hb, _ := hello.MarshalBinary()
		var hello2 BulkHello
		if err := hello2.UnmarshalBinary(hb); err != nil {
			t.Fatal(err)
		}
		br, reply, err := RespondBulk(p, Y, &hello2, BulkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := reply.MarshalBinary()
		var reply2 BulkReply
		if err := reply2.UnmarshalBinary(rb); err != nil {
			t.Fatal(err)
		}
		ri, fin, err := bi.HandleReply(&reply2)
		if err != nil {
			t.Fatal(err)
		}
		total := len(hb) + len(rb)
		count := ri.Count
		if fin != nil {
			fb, _ := fin.MarshalBinary()
			var fin2 BulkFinish
			if err := fin2.UnmarshalBinary(fb); err != nil {
				t.Fatal(err)
			}
			rr, err := br.HandleFinish(&fin2)
			if err != nil {
				t.Fatal(err)
			}
			count = rr.Count
			total += len(fb)
		}
		if count != n/2 {
			t.Fatalf("%s: count %d, want %d", learner, count, n/2)
		}
		perPair := float64(total) / n
		t.Logf("learner %s: %.1f bytes per element pair (binary)", learner, perPair)
		if perPair >= 80 {
			t.Fatalf("learner %s: %.1f bytes per element pair, want < 80", learner, perPair)
		}
	}
}

// TestBulkHostileElements checks that a responder refuses elements a
// cheating initiator could use to probe its key or inflate a count: a
// non-canonical encoding, a point of small order, and an element disguised
// as another by a small-order component (u and 1/u are P and P + T for the
// point T of order 2, which X25519's clamped scalars map to one product).
func TestBulkHostileElements(t *testing.T) {
	set, _ := NewSet(randomSelectors(0, 40), ModeCount)
	p := BulkParams{Session: NewSession(), Mode: ModeCount, Learner: LearnerInitiator}
	for _, c := range []struct {
		name string
		edit func(e []byte)
		want string
	}{
		{"top bit set", func(e []byte) { e[ElementSize+31] |= 0x80 }, "not a canonical encoding"},
		{"u = p", func(e []byte) {
			copy(e[ElementSize:], mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
		}, "not a canonical encoding"},
		{"small order", func(e []byte) { clear(e[ElementSize : 2*ElementSize]) }, "small order"},
		{"disguised repeat", func(e []byte) {
			u, err := new(field.Element).SetBytes(e[:ElementSize])
			if err != nil {
				t.Fatal(err)
			}
			copy(e[ElementSize:], new(field.Element).Invert(u).Bytes())
		}, "repeats an earlier one"},
	} {
		_, hello, err := NewBulkInitiator(p, set, BulkOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.edit(hello.Elements)
		_, _, err = RespondBulk(p, set, hello, BulkOptions{})
		if !errors.Is(err, ErrMessage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrMessage saying %q", c.name, err, c.want)
		}
	}
}
