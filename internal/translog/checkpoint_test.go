package translog

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// testKey returns a deterministic Ed25519 key.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func TestSignParseCheckpoint(t *testing.T) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	origin := Origin("alpha", pub)
	if !strings.HasPrefix(origin, "detente/alpha/") || len(origin) != len("detente/alpha/")+16 {
		t.Fatalf("Origin = %q", origin)
	}
	root := tlog.RecordHash([]byte("x"))
	msg, err := Sign(origin, 42, root, priv, "ext one")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCheckpoint(msg, origin, pub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != origin || c.Size != 42 || c.Root != root || len(c.Extensions) != 1 || c.Extensions[0] != "ext one" {
		t.Fatalf("parsed %+v", c)
	}
	wantText := origin + "\n42\n" + root.String() + "\next one\n\n— " + origin + " "
	if !strings.HasPrefix(string(msg), wantText) {
		t.Fatalf("note =\n%s", msg)
	}

	// The verifier key works with the note package, and its key ID is the
	// C2SP one.
	vkey, err := VerifierKey(origin, pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyHash() != keyID(origin, sigTypeEd25519, pub) {
		t.Errorf("key ID %08x, want %08x", v.KeyHash(), keyID(origin, sigTypeEd25519, pub))
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("note.Open: %v", err)
	}
}

func TestParseCheckpointErrors(t *testing.T) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	other := testKey(2).Public().(ed25519.PublicKey)
	const origin = "detente/alpha/0123456789abcdef"
	root := tlog.RecordHash([]byte("x"))
	// signText signs arbitrary text as the log would.
	signText := func(text string) []byte {
		s := signer{origin, keyID(origin, sigTypeEd25519, pub), priv}
		msg, err := note.Sign(&note.Note{Text: text}, s)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	good, err := Sign(origin, 5, root, priv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		msg    []byte
		origin string
		pub    ed25519.PublicKey
		want   error
	}{
		{"other key", good, origin, other, ErrSignature},
		{"other origin", good, "detente/beta/0123456789abcdef", pub, ErrSignature},
		{"changed size", bytes.Replace(good, []byte("\n5\n"), []byte("\n6\n"), 1), origin, pub, ErrSignature},
		{"no signature", []byte(origin + "\n5\n" + root.String() + "\n"), origin, pub, ErrMalformed},
		{"garbage", []byte("hello"), origin, pub, ErrMalformed},
		{"leading zero", signText(origin + "\n05\n" + root.String() + "\n"), origin, pub, ErrMalformed},
		{"negative", signText(origin + "\n-5\n" + root.String() + "\n"), origin, pub, ErrMalformed},
		{"short hash", signText(origin + "\n5\nAAAA\n"), origin, pub, ErrMalformed},
		{"two lines", signText(origin + "\n5\n"), origin, pub, ErrMalformed},
		{"empty extension", signText(origin + "\n5\n" + root.String() + "\n\nx\n"), origin, pub, ErrMalformed},
		{"origin line differs", signText("detente/beta\n5\n" + root.String() + "\n"), origin, pub, ErrMalformed},
		{"invalid origin", good, "bad origin", pub, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCheckpoint(tt.msg, tt.origin, tt.pub)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseCheckpoint error = %v, want %v", err, tt.want)
			}
		})
	}
	for _, o := range []string{"", "a b", "a+b", "a\nb"} {
		if _, err := Sign(o, 1, root, priv); err == nil {
			t.Errorf("Sign accepted origin %q", o)
		}
	}
	if _, err := Sign(origin, 1, root, priv, "a\nb"); err == nil {
		t.Error("Sign accepted an extension line with a newline")
	}
}

func TestCheckpointProofs(t *testing.T) {
	hs, events := testLog(t, 20)
	ctx := t.Context()
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	origin := Origin("alpha", pub)
	cp := func(size int64) *Checkpoint {
		root, err := TreeHash(ctx, hs, size)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := Sign(origin, size, root, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCheckpoint(msg, origin, pub)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c7, c20 := cp(7), cp(20)
	p, err := ProveInclusion(ctx, hs, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := c20.VerifyInclusion(3, LeafHash(events[3]), p); err != nil {
		t.Error(err)
	}
	if err := c20.VerifyInclusion(4, LeafHash(events[3]), p); err == nil {
		t.Error("inclusion at the wrong index verified")
	}
	tp, err := ProveConsistency(ctx, hs, 7, 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := c20.VerifyConsistency(c7, tp); err != nil {
		t.Error(err)
	}
	if err := c7.VerifyConsistency(c20, tp); err == nil {
		t.Error("shrinking tree verified")
	}
	if err := c20.VerifyConsistency(c20, nil); err != nil {
		t.Error(err)
	}
	if err := c20.VerifyConsistency(cp(0), nil); err != nil {
		t.Error(err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	const origin = "detente/alpha/0123456789abcdef"
	good, err := Sign(origin, 5, tlog.RecordHash(nil), priv, "ext")
	if err != nil {
		f.Fatal(err)
	}
	cosig, err := Cosign(good, "witness", testKey(2), testTime)
	if err != nil {
		f.Fatal(err)
	}
	both, err := AddSignatures(good, cosig)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(both)
	f.Add([]byte(origin + "\n5\nAAAA\n\n— x AAAAAAA=\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, err := ParseCheckpoint(msg, origin, pub)
		if err == nil {
			if c.Size < 0 || c.Origin != origin {
				t.Fatalf("bad checkpoint accepted: %+v", c)
			}
			text, err := checkpointText(c.Origin, c.Size, c.Root, c.Extensions)
			if err != nil || !bytes.HasPrefix(msg, []byte(text+"\n")) {
				t.Fatalf("checkpoint does not round-trip: %q, %v", text, err)
			}
		}
		// Parsing the text alone must not panic either.
		_, _ = parseCheckpointText(string(msg))
		_, _ = VerifyCosignature(msg, "witness", testKey(2).Public().(ed25519.PublicKey))
	})
}
