package translog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

var testTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testCheckpoint(t testing.TB) ([]byte, ed25519.PublicKey) {
	t.Helper()
	priv := testKey(1)
	msg, err := Sign("detente/alpha/0123456789abcdef", 20852163, tlog.RecordHash([]byte("x")), priv)
	if err != nil {
		t.Fatal(err)
	}
	return msg, priv.Public().(ed25519.PublicKey)
}

// TestCosignatureFormat checks the cosignature against the C2SP
// tlog-cosignature v1 definitions, computed by hand.
func TestCosignatureFormat(t *testing.T) {
	msg, _ := testCheckpoint(t)
	w := testKey(3)
	wpub := w.Public().(ed25519.PublicKey)
	line, err := Cosign(msg, "witness.example/w1", w, testTime)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(string(line), "— witness.example/w1 ")
	if !ok || !strings.HasSuffix(rest, "\n") {
		t.Fatalf("line = %q", line)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(rest, "\n"))
	if err != nil || len(sig) != 4+8+64 {
		t.Fatalf("signature of %d bytes, %v", len(sig), err)
	}
	h := sha256Sum([]byte("witness.example/w1\n\x04" + string(wpub)))
	if !bytes.Equal(sig[:4], h[:4]) {
		t.Errorf("key ID %x, want %x", sig[:4], h[:4])
	}
	if ts := binary.BigEndian.Uint64(sig[4:12]); ts != uint64(testTime.Unix()) {
		t.Errorf("timestamp %d, want %d", ts, testTime.Unix())
	}
	text := string(msg[:bytes.Index(msg, []byte("\n\n"))+1])
	signed := "cosignature/v1\ntime 1772366400\n" + text
	if !ed25519.Verify(wpub, []byte(signed), sig[12:]) {
		t.Error("signature is not over the C2SP cosigned message")
	}
}

func TestCosignVerifyMerge(t *testing.T) {
	msg, logKey := testCheckpoint(t)
	w1, w2 := testKey(3), testKey(4)
	pub1, pub2 := w1.Public().(ed25519.PublicKey), w2.Public().(ed25519.PublicKey)
	l1, err := Cosign(msg, "w1", w1, testTime)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Cosign(msg, "w2", w2, testTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := AddSignatures(msg, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(merged, msg) || !bytes.HasSuffix(merged, append(l1, l2...)) {
		t.Fatalf("merged note =\n%s", merged)
	}
	if got, err := VerifyCosignature(merged, "w1", pub1); err != nil || !got.Equal(testTime) {
		t.Errorf("w1: %v, %v", got, err)
	}
	if got, err := VerifyCosignature(merged, "w2", pub2); err != nil || !got.Equal(testTime.Add(time.Hour)) {
		t.Errorf("w2: %v, %v", got, err)
	}
	if _, err := ParseCheckpoint(merged, "detente/alpha/0123456789abcdef", logKey); err != nil {
		t.Errorf("log signature lost: %v", err)
	}
	// A newer cosignature by w1 replaces the older one.
	l1b, err := Cosign(msg, "w1", w1, testTime.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again, err := AddSignatures(merged, l1b)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(again, []byte("— w1 ")) != 1 {
		t.Errorf("w1 signs twice:\n%s", again)
	}
	if got, err := VerifyCosignature(again, "w1", pub1); err != nil || !got.Equal(testTime.Add(2*time.Hour)) {
		t.Errorf("w1 after replacement: %v, %v", got, err)
	}

	tests := []struct {
		name string
		msg  []byte
		key  string
		pub  ed25519.PublicKey
		want error
	}{
		{"absent", msg, "w1", pub1, ErrSignature},
		{"wrong key", merged, "w1", pub2, ErrSignature},
		{"other text", bytes.Replace(merged, []byte("20852163"), []byte("20852164"), 1), "w1", pub1, ErrSignature},
		{"garbage", []byte("x"), "w1", pub1, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := VerifyCosignature(tt.msg, tt.key, tt.pub); !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
	for _, bad := range []string{"w1 AAAA\n", "— w1 AAAA", "— w 1 AAAAAAAA\n", "— w1 !!!\n"} {
		if _, err := AddSignatures(msg, []byte(bad)); err == nil {
			t.Errorf("AddSignatures accepted %q", bad)
		}
	}
	if _, err := Cosign([]byte("not a note"), "w1", w1, testTime); err == nil {
		t.Error("Cosign accepted a non-note")
	}
	notCheckpoint, err := AddSignatures([]byte("hello\n\n— x AAAAAAAA\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Cosign(notCheckpoint, "w1", w1, testTime); err == nil {
		t.Error("Cosign accepted a note that is not a checkpoint")
	}
}
