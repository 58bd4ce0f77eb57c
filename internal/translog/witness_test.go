package translog

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// testSigned returns the signed checkpoint of hs at size.
func testSigned(t testing.TB, hs HashStore, origin string, priv ed25519.PrivateKey, size int64) []byte {
	t.Helper()
	root, err := TreeHash(context.Background(), hs, size)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Sign(origin, size, root, priv)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestWitness(t *testing.T) {
	ctx := context.Background()
	logPriv := testKey(1)
	logPub := logPriv.Public().(ed25519.PublicKey)
	origin := Origin("alpha", logPub)
	w := &Witness{Name: "detente/bravo/witness", Key: testKey(5)}
	wpub := w.Key.Public().(ed25519.PublicKey)

	// The honest log, and a fork of it that rewrote entry 5.
	honest, _ := testLog(t, 30)
	forked := NewMemStore()
	for i := range int64(30) {
		e := testEvent(i)
		if i == 5 {
			e.Body = []byte(`{"object":"report--other"}`)
		}
		if err := Append(ctx, forked, i, e); err != nil {
			t.Fatal(err)
		}
	}
	proof := func(hs HashStore, old, new int64) tlog.TreeProof {
		p, err := ProveConsistency(ctx, hs, old, new)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	h10, h20, h30 := testSigned(t, honest, origin, logPriv, 10), testSigned(t, honest, origin, logPriv, 20), testSigned(t, honest, origin, logPriv, 30)
	f20, f30 := testSigned(t, forked, origin, logPriv, 20), testSigned(t, forked, origin, logPriv, 30)
	h3 := testSigned(t, honest, origin, logPriv, 3) // before the fork point

	tests := []struct {
		name       string
		last, next []byte
		proof      tlog.TreeProof
		kind       InconsistencyKind // "" when it must be cosigned
	}{
		{"first checkpoint", nil, h10, nil, ""},
		{"growth", h10, h20, proof(honest, 10, 20), ""},
		{"same checkpoint", h20, h20, nil, ""},
		{"fork history before the fork point", h3, f20, proof(forked, 3, 20), ""},
		{"split view", h20, f20, nil, Fork},
		{"shrink", h30, h20, nil, Shrink},
		{"rewrite with the forked log's proof", h10, f30, proof(forked, 10, 30), Rewrite},
		{"rewrite with the honest log's proof", h10, f30, proof(honest, 10, 30), Rewrite},
		{"growth with a wrong proof", h10, h30, proof(honest, 20, 30), Rewrite},
		{"growth without a proof", h10, h30, nil, Rewrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sig, err := w.Update(origin, logPub, tt.last, tt.next, tt.proof, testTime)
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				cosigned, err := AddSignatures(tt.next, sig)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := VerifyCosignature(cosigned, w.Name, wpub); err != nil {
					t.Fatal(err)
				}
				if string(c.Note) != string(tt.next) {
					t.Fatal("returned checkpoint is not the one given")
				}
				return
			}
			var ie *InconsistencyError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want an *InconsistencyError", err)
			}
			if ie.Kind != tt.kind || string(ie.Old.Note) != string(tt.last) || string(ie.New.Note) != string(tt.next) {
				t.Fatalf("got %s with notes\n%s\n%s", ie.Kind, ie.Old.Note, ie.New.Note)
			}
			if sig != nil || c != nil {
				t.Fatal("inconsistent checkpoint cosigned")
			}
			// The evidence stands on its own: both notes verify with the log key.
			for _, n := range [][]byte{ie.Old.Note, ie.New.Note} {
				if _, err := ParseCheckpoint(n, origin, logPub); err != nil {
					t.Fatalf("evidence does not verify: %v", err)
				}
			}
			t.Log(ie)
		})
	}

	// A note not signed by the log is an error, not evidence.
	forged := testSigned(t, honest, origin, testKey(9), 20)
	_, _, err := w.Update(origin, logPub, h10, forged, proof(honest, 10, 20), testTime)
	var ie *InconsistencyError
	if !errors.Is(err, ErrSignature) || errors.As(err, &ie) {
		t.Fatalf("forged note: error = %v", err)
	}
}
