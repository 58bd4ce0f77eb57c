package detente

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
)

// NodeKeyPrefix starts the text form of a node's public key.
const NodeKeyPrefix = "detente-node:"

// PublicKey is a node's Ed25519 public key. Its text form is
// "detente-node:" followed by the standard base64 of the 32 key bytes, so a
// key pasted in the wrong place is recognised for what it is.
type PublicKey []byte

// String returns the typed text form of k.
func (k PublicKey) String() string {
	return NodeKeyPrefix + base64.StdEncoding.EncodeToString(k)
}

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	p, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return string(k) == string(o) }

// ParsePublicKey parses the typed text form of a node key.
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, NodeKeyPrefix)
	if !ok {
		return nil, Errorf(EINVALID, "node key must start with %q", NodeKeyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, Errorf(EINVALID, "node key is not %d bytes of base64", ed25519.PublicKeySize)
	}
	return PublicKey(b), nil
}
