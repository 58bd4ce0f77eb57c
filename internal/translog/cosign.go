package translog

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// cosignatureHeader starts the message a tlog-cosignature/v1 signs.
const cosignatureHeader = "cosignature/v1\ntime "

// cosignedMessage returns the message a cosignature/v1 at unix time ts
// signs over the checkpoint text.
func cosignedMessage(ts uint64, text []byte) []byte {
	m := make([]byte, 0, len(cosignatureHeader)+21+len(text))
	m = append(m, cosignatureHeader...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// CosignatureKeyID returns the key ID of the Ed25519 cosigner name with
// key pub: SHA-256(name || "\n" || 0x04 || pub)[:4].
func CosignatureKeyID(name string, pub ed25519.PublicKey) uint32 {
	return keyID(name, sigTypeCosignature, pub)
}

// Cosign returns a C2SP tlog-cosignature/v1 signature line (ending in a
// newline) by the cosigner name with key priv over the checkpoint in
// checkpointNote, timestamped now. It checks only that the note's text is a
// checkpoint: a witness must verify the log's signature and consistency
// first (see Witness). Add the line to the note with AddSignatures.
func Cosign(checkpointNote []byte, name string, priv ed25519.PrivateKey, now time.Time) ([]byte, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("cosign: invalid cosigner name %q: %w", name, ErrMalformed)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("cosign: not an Ed25519 private key")
	}
	if now.Unix() < 0 {
		return nil, fmt.Errorf("cosign: time %v is before 1970", now)
	}
	text, _, err := noteText(checkpointNote)
	if err != nil {
		return nil, fmt.Errorf("cosign: %w", err)
	}
	if _, err := parseCheckpointText(text); err != nil {
		return nil, fmt.Errorf("cosign: %w", err)
	}
	ts := uint64(now.Unix())
	pub := priv.Public().(ed25519.PublicKey)
	sig := make([]byte, 4+8, 4+8+ed25519.SignatureSize)
	binary.BigEndian.PutUint32(sig, CosignatureKeyID(name, pub))
	binary.BigEndian.PutUint64(sig[4:], ts)
	sig = append(sig, ed25519.Sign(priv, cosignedMessage(ts, []byte(text)))...)
	return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"), nil
}

// cosigVerifier is a note.Verifier of tlog-cosignature/v1 signatures.
type cosigVerifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func (v cosigVerifier) Name() string    { return v.name }
func (v cosigVerifier) KeyHash() uint32 { return v.id }
func (v cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	return ts <= math.MaxInt64 && ed25519.Verify(v.pub, cosignedMessage(ts, msg), sig[8:])
}

// CosignatureVerifier returns a note.Verifier of the tlog-cosignature/v1
// signatures of the cosigner name with key pub, to pass to note.Open
// together with a log's verifier.
func CosignatureVerifier(name string, pub ed25519.PublicKey) note.Verifier {
	return cosigVerifier{name, CosignatureKeyID(name, pub), pub}
}

// VerifyCosignature checks that the signed note msg carries a valid
// tlog-cosignature/v1 by the cosigner name with key pub, and returns the
// time it states. It does not verify the log's own signature: use
// ParseCheckpoint for that.
func VerifyCosignature(msg []byte, name string, pub ed25519.PublicKey) (time.Time, error) {
	if len(pub) != ed25519.PublicKeySize {
		return time.Time{}, errors.New("verify cosignature: not an Ed25519 public key")
	}
	if len(msg) > maxNote {
		return time.Time{}, fmt.Errorf("verify cosignature: note is over %d bytes: %w", maxNote, ErrMalformed)
	}
	v := CosignatureVerifier(name, pub)
	n, err := note.Open(msg, note.VerifierList(v))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return time.Time{}, fmt.Errorf("verify cosignature: no cosignature by %s: %w", name, ErrSignature)
	case errors.As(err, &invalid):
		return time.Time{}, fmt.Errorf("verify cosignature by %s: %w", name, ErrSignature)
	case err != nil:
		return time.Time{}, fmt.Errorf("verify cosignature: %v: %w", err, ErrMalformed)
	}
	if _, err := parseCheckpointText(n.Text); err != nil {
		return time.Time{}, fmt.Errorf("verify cosignature: %w", err)
	}
	for _, s := range n.Sigs {
		if s.Name == name && s.Hash == v.KeyHash() {
			b, _ := base64.StdEncoding.DecodeString(s.Base64)
			return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), 0).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("verify cosignature: no cosignature by %s: %w", name, ErrSignature)
}

// AddSignatures returns the signed note msg with the signature lines added
// (each "— <name> <base64>\n", as Cosign returns). A line whose key name and
// key ID match a signature already in msg replaces it, so a newer
// cosignature by the same witness supersedes the older one. The note's text
// and other signatures are kept byte for byte; no signature is verified.
func AddSignatures(msg []byte, lines ...[]byte) ([]byte, error) {
	text, sigs, err := noteText(msg)
	if err != nil {
		return nil, fmt.Errorf("add signatures: %w", err)
	}
	for _, l := range lines {
		s, err := parseSignatureLine(l)
		if err != nil {
			return nil, fmt.Errorf("add signatures: %w", err)
		}
		replaced := false
		for i := range sigs {
			if sigs[i].Name == s.Name && sigs[i].Hash == s.Hash {
				sigs[i], replaced = s, true
			}
		}
		if !replaced {
			sigs = append(sigs, s)
		}
	}
	var b strings.Builder
	b.WriteString(text + "\n")
	for _, s := range sigs {
		b.WriteString("— " + s.Name + " " + s.Base64 + "\n")
	}
	out := []byte(b.String())
	if _, _, err := noteText(out); err != nil {
		return nil, fmt.Errorf("add signatures: %w", err)
	}
	return out, nil
}

// parseSignatureLine parses one signed-note signature line.
func parseSignatureLine(l []byte) (note.Signature, error) {
	s, ok := strings.CutSuffix(string(l), "\n")
	if ok {
		s, ok = strings.CutPrefix(s, "— ")
	}
	name, b64, ok2 := strings.Cut(s, " ")
	if !ok || !ok2 || !validKeyName(name) {
		return note.Signature{}, fmt.Errorf("signature line %q: %w", l, ErrMalformed)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) < 5 {
		return note.Signature{}, fmt.Errorf("signature line %q: %w", l, ErrMalformed)
	}
	return note.Signature{Name: name, Hash: binary.BigEndian.Uint32(sig), Base64: b64}, nil
}
