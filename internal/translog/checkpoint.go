package translog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Errors wrapped by the parsers and verifiers of this package.
var (
	// ErrMalformed means a note, checkpoint or bundle is not well formed.
	ErrMalformed = errors.New("malformed")
	// ErrSignature means a required signature is missing or does not verify.
	ErrSignature = errors.New("signature does not verify")
)

// Signature type identifiers of C2SP signed-note, used in key IDs.
const (
	sigTypeEd25519     = 0x01
	sigTypeCosignature = 0x04
)

// OriginPrefix starts the origin of every detente log.
const OriginPrefix = "detente/"

// Origin returns the checkpoint origin (and note key name) of the log of
// the node called node with public key pub:
//
//	detente/<node>/<first 8 bytes of SHA-256(pub), hex>
//
// Node names are chosen locally and may collide between agencies; the key
// fingerprint makes the origin unique to the key that signs the log, which
// is the node's identity.
func Origin(node string, pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return OriginPrefix + node + "/" + hex.EncodeToString(sum[:8])
}

// validKeyName reports whether s can be a note key name (and so an origin):
// non-empty UTF-8 with no Unicode spaces, no plus signs and no control
// characters.
func validKeyName(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || r == '+' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// keyID returns the C2SP signed-note key ID: the first four bytes of
// SHA-256(name || "\n" || sigType || pub), big-endian.
func keyID(name string, sigType byte, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', sigType})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// VerifierKey returns the note verifier key of a log, in the
// "<origin>+<key ID hex>+<base64(0x01 || pub)>" form that
// note.NewVerifier and other C2SP tools accept.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(origin) {
		return "", fmt.Errorf("verifier key: invalid origin %q: %w", origin, ErrMalformed)
	}
	k, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return "", fmt.Errorf("verifier key: %w", err)
	}
	return k, nil
}

// logVerifier returns the note verifier of a log's signatures.
func logVerifier(origin string, pub ed25519.PublicKey) (note.Verifier, error) {
	k, err := VerifierKey(origin, pub)
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(k)
}

// signer is a note.Signer with a raw Ed25519 key.
type signer struct {
	name string
	id   uint32
	priv ed25519.PrivateKey
}

func (s signer) Name() string                    { return s.name }
func (s signer) KeyHash() uint32                 { return s.id }
func (s signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// Checkpoint is a verified C2SP tlog-checkpoint of a log.
type Checkpoint struct {
	Origin     string
	Size       int64
	Root       tlog.Hash
	Extensions []string          // extension lines, without newlines
	Key        ed25519.PublicKey // the log key that signed it
	Note       []byte            // the signed note as received, cosignatures included
}

// checkpointText returns the note text of a checkpoint.
func checkpointText(origin string, size int64, root tlog.Hash, ext []string) (string, error) {
	if !validKeyName(origin) {
		return "", fmt.Errorf("invalid origin %q: %w", origin, ErrMalformed)
	}
	if size < 0 {
		return "", fmt.Errorf("negative tree size %d: %w", size, ErrMalformed)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", origin, size, root)
	for _, e := range ext {
		if e == "" || strings.ContainsAny(e, "\n") {
			return "", fmt.Errorf("extension line %q is empty or has a newline: %w", e, ErrMalformed)
		}
		b.WriteString(e + "\n")
	}
	return b.String(), nil
}

// Sign returns the checkpoint of the log origin at size with root hash
// root, as a C2SP signed note signed with priv under the key name origin,
// with optional extension lines ext.
func Sign(origin string, size int64, root tlog.Hash, priv ed25519.PrivateKey, ext ...string) ([]byte, error) {
	text, err := checkpointText(origin, size, root, ext)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("sign checkpoint: not an Ed25519 private key")
	}
	pub := priv.Public().(ed25519.PublicKey)
	s := signer{origin, keyID(origin, sigTypeEd25519, pub), priv}
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// maxNote bounds the size of a note this package parses.
const maxNote = 64 << 10

// ParseCheckpoint verifies that msg is a checkpoint of the log origin
// signed by pub and returns it. Other signatures (cosignatures) are kept in
// Note, unverified: see VerifyCosignature.
func ParseCheckpoint(msg []byte, origin string, pub ed25519.PublicKey) (*Checkpoint, error) {
	if len(msg) > maxNote {
		return nil, fmt.Errorf("parse checkpoint: note is over %d bytes: %w", maxNote, ErrMalformed)
	}
	v, err := logVerifier(origin, pub)
	if err != nil {
		return nil, fmt.Errorf("parse checkpoint: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return nil, fmt.Errorf("parse checkpoint: not signed by the key of %s: %w", origin, ErrSignature)
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("parse checkpoint: signature of %s: %w", origin, ErrSignature)
	case err != nil:
		return nil, fmt.Errorf("parse checkpoint: %v: %w", err, ErrMalformed)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return nil, fmt.Errorf("parse checkpoint: %w", err)
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("parse checkpoint: origin is %q, want %q: %w", c.Origin, origin, ErrMalformed)
	}
	c.Key = pub
	c.Note = bytes.Clone(msg)
	return c, nil
}

// parseCheckpointText parses the text of a checkpoint note, strictly.
func parseCheckpointText(text string) (*Checkpoint, error) {
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return nil, fmt.Errorf("checkpoint does not end in a newline: %w", ErrMalformed)
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint has %d lines, want at least 3: %w", len(lines), ErrMalformed)
	}
	c := &Checkpoint{Origin: lines[0]}
	if !validKeyName(c.Origin) {
		return nil, fmt.Errorf("invalid origin %q: %w", c.Origin, ErrMalformed)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, fmt.Errorf("invalid tree size %q: %w", lines[1], ErrMalformed)
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, fmt.Errorf("invalid root hash %q: %w", lines[2], ErrMalformed)
	}
	c.Root = tlog.Hash(root)
	for _, e := range lines[3:] {
		if e == "" {
			return nil, fmt.Errorf("empty extension line: %w", ErrMalformed)
		}
	}
	c.Extensions = lines[3:]
	return c, nil
}

// noteText returns the text of a signed note (without its signatures) and
// its signatures, without verifying any.
func noteText(msg []byte) (string, []note.Signature, error) {
	if len(msg) > maxNote {
		return "", nil, fmt.Errorf("note is over %d bytes: %w", maxNote, ErrMalformed)
	}
	_, err := note.Open(msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return "", nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	return unverified.Note.Text, unverified.Note.UnverifiedSigs, nil
}

// VerifyInclusion checks that proof proves that the event with leaf hash
// leaf is at index in the tree c commits to.
func (c *Checkpoint) VerifyInclusion(index int64, leaf tlog.Hash, proof tlog.RecordProof) error {
	if index < 0 || index >= c.Size {
		return fmt.Errorf("entry %d is not in a tree of size %d", index, c.Size)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, leaf); err != nil {
		return fmt.Errorf("entry %d: inclusion in tree of size %d: %w", index, c.Size, err)
	}
	return nil
}

// VerifyConsistency checks that proof proves that c's tree extends old's.
// Same-size checkpoints need an empty proof and equal roots.
func (c *Checkpoint) VerifyConsistency(old *Checkpoint, proof tlog.TreeProof) error {
	switch {
	case old.Size > c.Size:
		return fmt.Errorf("tree of size %d cannot extend one of size %d", c.Size, old.Size)
	case old.Size == c.Size:
		if old.Root != c.Root {
			return fmt.Errorf("two trees of size %d with different roots", c.Size)
		}
		return nil
	case old.Size == 0:
		return nil
	}
	if err := tlog.CheckTree(proof, c.Size, c.Root, old.Size, old.Root); err != nil {
		return fmt.Errorf("consistency of size %d with %d: %w", old.Size, c.Size, err)
	}
	return nil
}
