package psi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
	"github.com/gtank/ristretto255"
)

// interopInputs returns n distinct PRF inputs, enough to spread the batch
// over several goroutines.
func interopInputs(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = Key{Tag: "detente/psi/test", Value: fmt.Sprint(i)}.Input()
	}
	return out
}

// circlElements decodes concatenated encodings with circl.
func circlElements(t *testing.T, b []byte) []group.Element {
	t.Helper()
	var out []group.Element
	for _, e := range split(b) {
		g := group.Ristretto255.NewElement()
		if err := g.UnmarshalBinary(e); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

// circlEncode concatenates the encodings of circl elements.
func circlEncode(t *testing.T, es []group.Element) []byte {
	t.Helper()
	var out []byte
	for _, e := range es {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// TestVOPRFInteropCircl cross-checks voprf.go against circl's RFC 9497
// implementation, which encoded the watchlists and derived the keys of
// earlier releases: the same epoch keys, and each side's client accepts
// the other side's server.
func TestVOPRFInteropCircl(t *testing.T) {
	suite := oprf.SuiteRistretto255
	owner := newKey(t)
	for _, epoch := range []string{"e", "2026-11", "a long epoch name of printable ASCII ~!"} {
		ours, err := owner.epochKey(epoch)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := oprf.DeriveKey(suite, oprf.VerifiableMode, owner.Seed(), []byte("detente/psi/query/v1/epoch/"+epoch))
		if err != nil {
			t.Fatal(err)
		}
		skb, _ := theirs.MarshalBinary()
		pkb, _ := theirs.Public().MarshalBinary()
		if !bytes.Equal(ours.sk.Encode(nil), skb) || !bytes.Equal(ours.pub.enc, pkb) {
			t.Fatalf("epoch %q: key differs from circl's", epoch)
		}
	}

	key, _ := owner.epochKey("e")
	sk, _ := oprf.DeriveKey(suite, oprf.VerifiableMode, owner.Seed(), []byte("detente/psi/query/v1/epoch/e"))
	srv := oprf.NewVerifiableServer(suite, sk)
	inputs := interopInputs(300)

	t.Run("watchlist encoding", func(t *testing.T) {
		got, err := EncodeWatchlistInputs(owner, "e", inputs)
		if err != nil {
			t.Fatal(err)
		}
		pkb, _ := sk.Public().MarshalBinary()
		want := &Watchlist{Epoch: "e", PublicKey: pkb}
		for _, in := range inputs {
			out, err := srv.FullEvaluate(in)
			if err != nil {
				t.Fatal(err)
			}
			want.entries = append(want.entries, entryTag("e", out))
		}
		slices.Sort(want.entries)
		gb, _ := got.MarshalBinary()
		wb, _ := want.MarshalBinary()
		if !bytes.Equal(gb, wb) {
			t.Fatal("encoded watchlist differs from circl's")
		}
	})

	t.Run("our client, circl server", func(t *testing.T) {
		st, err := voprf.blind(inputs, nil)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := srv.Evaluate(&oprf.EvaluationRequest{Elements: circlElements(t, st.blinded.enc)})
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := ev.Proof.MarshalBinary()
		evals, err := decodeVOPRFBatch(circlEncode(t, ev.Elements))
		if err != nil {
			t.Fatal(err)
		}
		outs, err := st.finalize(&key.pub, evals, proof)
		if err != nil {
			t.Fatalf("finalize circl's evaluation: %v", err)
		}
		for i, in := range inputs {
			want, err := srv.FullEvaluate(in)
			if err != nil || !bytes.Equal(outs[i], want) {
				t.Fatalf("output %d = %x, want circl's %x (%v)", i, outs[i], want, err)
			}
		}
	})

	t.Run("circl client, our server", func(t *testing.T) {
		c := oprf.NewVerifiableClient(suite, sk.Public())
		fin, req, err := c.Blind(inputs)
		if err != nil {
			t.Fatal(err)
		}
		blinded, err := decodeVOPRFBatch(circlEncode(t, req.Elements))
		if err != nil {
			t.Fatal(err)
		}
		ev, proof := key.blindEvaluate(blinded)
		p := new(dleq.Proof)
		if err := p.UnmarshalBinary(group.Ristretto255, proof); err != nil {
			t.Fatal(err)
		}
		outs, err := c.Finalize(fin, &oprf.Evaluation{Elements: circlElements(t, ev.enc), Proof: p})
		if err != nil {
			t.Fatalf("circl refuses our evaluation: %v", err)
		}
		for i, in := range inputs {
			want, err := key.evaluate(in)
			if err != nil || !bytes.Equal(outs[i], want) {
				t.Fatalf("output %d = %x, want %x (%v)", i, outs[i], want, err)
			}
		}
	})
}

// TestQueryRefusesForgedResponses checks that Finalize refuses any
// response but the owner's honest evaluation under the published key:
// tampered proofs, evaluations under another key (with that key's valid
// proof), reordered or substituted elements, and malformed encodings.
func TestQueryRefusesForgedResponses(t *testing.T) {
	key, other := newKey(t), newKey(t)
	w, err := EncodeWatchlist(key, "e", randomSelectors(0, 20))
	if err != nil {
		t.Fatal(err)
	}
	honest, _ := NewOwner(key, "e")
	cheat, _ := NewOwner(other, "e")
	// order is ℓ, the group order: the least non-canonical scalar.
	order := []byte{
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	}
	// nonCanonical is p, the field order: the least non-canonical element.
	nonCanonical := []byte{
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
	}
	for _, tc := range []struct {
		name   string
		forge  func(t *testing.T, resp *QueryResponse, req *QueryRequest)
		reason error
	}{
		{"honest", func(*testing.T, *QueryResponse, *QueryRequest) {}, nil},
		{"challenge bit flipped", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { r.Proof[0] ^= 1 }, ErrProof},
		{"response bit flipped", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { r.Proof[32] ^= 1 }, ErrProof},
		{"scalars swapped", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) {
			r.Proof = append(r.Proof[32:], r.Proof[:32]...)
		}, ErrProof},
		{"challenge not canonical", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { copy(r.Proof, order) }, ErrMessage},
		{"response not canonical", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { copy(r.Proof[32:], order) }, ErrMessage},
		{"other key, its own proof", func(t *testing.T, r *QueryResponse, req *QueryRequest) {
			c, err := cheat.Evaluate(req)
			if err != nil {
				t.Fatal(err)
			}
			*r = *c
		}, ErrProof},
		{"other key, honest proof", func(t *testing.T, r *QueryResponse, req *QueryRequest) {
			c, err := cheat.Evaluate(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Elements = c.Elements
		}, ErrProof},
		{"proof of another query", func(t *testing.T, r *QueryResponse, _ *QueryRequest) {
			_, req2, _ := NewQuery(w, randomSelectors(0, 5), QueryOptions{})
			r2, err := honest.Evaluate(req2)
			if err != nil {
				t.Fatal(err)
			}
			r.Proof = r2.Proof
		}, ErrProof},
		{"elements swapped", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) {
			a := slices.Clone(r.Elements[:32])
			copy(r.Elements[:32], r.Elements[32:64])
			copy(r.Elements[32:64], a)
		}, ErrProof},
		{"element doubled", func(t *testing.T, r *QueryResponse, _ *QueryRequest) {
			e := ristretto255.NewElement()
			if err := e.Decode(r.Elements[:32]); err != nil {
				t.Fatal(err)
			}
			e.Add(e, e).Encode(r.Elements[:0])
		}, ErrProof},
		{"r255Identity element", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { clear(r.Elements[32:64]) }, ErrMessage},
		{"element not canonical", func(_ *testing.T, r *QueryResponse, _ *QueryRequest) { copy(r.Elements[32:64], nonCanonical) }, ErrMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, req, err := NewQuery(w, randomSelectors(0, 5), QueryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := honest.Evaluate(req)
			if err != nil {
				t.Fatal(err)
			}
			resp = roundTrip(t, resp)
			tc.forge(t, resp, req)
			hits, err := q.Finalize(resp)
			switch {
			case tc.reason == nil && err != nil:
				t.Fatalf("Finalize(honest) = %v", err)
			case tc.reason == nil && len(hits) != 5:
				t.Fatalf("Finalize(honest) = %d hits, want 5", len(hits))
			case tc.reason != nil && !errors.Is(err, tc.reason):
				t.Fatalf("Finalize = %d hits, %v; want %v", len(hits), err, tc.reason)
			}
		})
	}
}

// TestOwnerRefusesBadElements checks that the owner evaluates only valid,
// non-identity, canonically encoded elements.
func TestOwnerRefusesBadElements(t *testing.T) {
	key := newKey(t)
	owner, _ := NewOwner(key, "e")
	valid := ristretto255.NewElement().Base().Encode(nil)
	negative := slices.Clone(valid)
	negative[0] |= 1 // an odd s is a negative field element: not canonical
	for _, tc := range []struct {
		name string
		elem []byte
		ok   bool
	}{
		{"valid", valid, true},
		{"r255Identity", make([]byte, 32), false},
		{"field order", bytes.Repeat([]byte{0xff}, 32), false},
		{"negative", negative, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &QueryRequest{Version: ProtocolVersion, Epoch: "e", Elements: slices.Concat(valid, tc.elem)}
			_, err := owner.Evaluate(req)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrMessage)) {
				t.Fatalf("Evaluate = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

// TestInvertScalars checks the batch inversion against one inversion per
// scalar.
func TestInvertScalars(t *testing.T) {
	for _, n := range []int{1, 2, 3, 100} {
		xs := randomR255Scalars(n)
		inv := invertR255Scalars(xs)
		for i, x := range xs {
			want := ristretto255.NewScalar().Invert(x)
			if inv[i].Equal(want) != 1 {
				t.Fatalf("n = %d: inverse %d differs", n, i)
			}
		}
	}
}

// BenchmarkVOPRF measures the steps of a 1,024-element batch.
func BenchmarkVOPRF(b *testing.B) {
	seed := make([]byte, 32)
	rand.Read(seed)
	key, err := voprf.deriveKey(seed, []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	inputs := interopInputs(1024)
	st, _ := voprf.blind(inputs, nil)
	ev, proof := key.blindEvaluate(st.blinded)
	b.Run("Blind", func(b *testing.B) {
		for b.Loop() {
			voprf.blind(inputs, nil)
		}
	})
	b.Run("BlindEvaluate", func(b *testing.B) {
		for b.Loop() {
			key.blindEvaluate(st.blinded)
		}
	})
	b.Run("VerifyProof", func(b *testing.B) {
		for b.Loop() {
			if err := voprf.verifyProof(&key.pub, st.blinded, ev, proof); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unblind", func(b *testing.B) {
		for b.Loop() {
			st.unblind(ev)
		}
	})
}
