package trace

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"strconv"
	"sync"
)

// MinKeySize is the smallest node secret NewScheme accepts, in bytes.
const MinKeySize = 32

// DefaultEpsilon is the default accusation threshold of Scheme.Trace: a
// recipient is accused only when the probability that any innocent among
// the recipients scored would look as guilty is at most 10⁻⁶.
const DefaultEpsilon = 1e-6

// Scheme is a node's fingerprinting code: the node secret and the
// parameters. Everything a recipient's copy carries is derived from the
// secret, the recipient's identity and the object's id, version and
// markup, so nothing but those is needed to regenerate a codeword. A
// Scheme is safe for concurrent use once its fields are set.
type Scheme struct {
	key []byte
	id  [16]byte // identifies the key in caches, not secret

	// Cutoff is the cutoff δ of new fingerprints (DefaultCutoff when 0).
	// Each Record keeps the cutoff it was made with, so changing it only
	// affects later releases.
	Cutoff float64
	// Epsilon is the accusation threshold of Trace (DefaultEpsilon when
	// 0): the bound on the probability that any innocent recipient among
	// those scored is accused.
	Epsilon float64
	// Rand is the source of commitment nonces (crypto/rand when nil).
	Rand io.Reader
}

// NewScheme returns the scheme of the node secret key, which must be at
// least MinKeySize random bytes kept as secret as the node's signing key:
// whoever holds it can tell every recipient's copy apart.
func NewScheme(key []byte) (*Scheme, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("fingerprint key: %d bytes, want at least %d", len(key), MinKeySize)
	}
	s := &Scheme{key: append([]byte(nil), key...)}
	sum := s.newPRF().sum("key-id")
	copy(s.id[:], sum[:])
	return s, nil
}

func (s *Scheme) cutoff() float64 {
	if s.Cutoff == 0 {
		return DefaultCutoff
	}
	return s.Cutoff
}

func (s *Scheme) epsilon() float64 {
	if s.Epsilon == 0 {
		return DefaultEpsilon
	}
	return s.Epsilon
}

// prf is HMAC-SHA256 under the node secret, over domain-separated,
// length-prefixed messages:
//
//	"detente-trace/v1" 0x00 tag 0x00 (uvarint(len(part)) part)*
//
// so that no two different (tag, parts) lists give the same message.
type prf struct {
	h   hash.Hash
	buf []byte
	out [sha256.Size]byte
}

func (s *Scheme) newPRF() *prf { return &prf{h: hmac.New(sha256.New, s.key)} }

const prfDomain = "detente-trace/v1"

func (p *prf) sum(tag string, parts ...[]byte) [sha256.Size]byte {
	b := append(p.buf[:0], prfDomain...)
	b = append(b, 0)
	b = append(b, tag...)
	b = append(b, 0)
	for _, x := range parts {
		b = binary.AppendUvarint(b, uint64(len(x)))
		b = append(b, x...)
	}
	p.buf = b
	p.h.Reset()
	p.h.Write(b)
	p.h.Sum(p.out[:0])
	return p.out
}

// Position is a global position of the code: where one mark of one
// object version sits among all the positions the node ever used. Its text
// form is 16 hexadecimal digits.
type Position uint64

// String returns the text form of p.
func (p Position) String() string { return fmt.Sprintf("%016x", uint64(p)) }

// MarshalText implements encoding.TextMarshaler.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Position) UnmarshalText(b []byte) error {
	if len(b) != 16 {
		return errors.New("position: want 16 hexadecimal digits")
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return errors.New("position: want 16 hexadecimal digits")
	}
	*p = Position(v)
	return nil
}

// position returns the global position of mark index of an object
// version: the PRF of the three, so that the positions of successive
// releases (new objects, new versions) never collide in practice and
// scores add up across leaked documents.
func (p *prf) position(id, version string, index int) Position {
	out := p.sum("position", []byte(id), []byte(version), binary.BigEndian.AppendUint32(nil, uint32(index)))
	return Position(binary.BigEndian.Uint64(out[:8]))
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// uniform returns the i-th of the four uniform numbers in [0, 1) of 53
// bits that a PRF output holds.
func uniform(out *[sha256.Size]byte, i int) float64 {
	return float64(binary.BigEndian.Uint64(out[8*i:])>>11) / (1 << 53)
}

// bias returns the bias vector of a position with q symbols.
func (p *prf) bias(pos Position, q int, levels []float64, cutoff float64) []float64 {
	if q == 2 {
		out := p.sum("bias", be64(uint64(pos)), []byte{2})
		v := levels[int(out[0])%BiasLevels]
		return []float64{1 - v, v}
	}
	// Dirichlet(½): normalised Gamma(½) variates, Z²/2 for standard
	// normal Z, from Box–Muller on PRF uniforms (four per block).
	g := make([]float64, q)
	sum := 0.0
	var out [sha256.Size]byte
	for i := range q {
		if i%4 == 0 {
			out = p.sum("bias", be64(uint64(pos)), []byte{byte(q)}, []byte{byte(i / 4)})
		}
		pair := (i % 4) / 2
		u1, u2 := 1-uniform(&out, 2*pair), uniform(&out, 2*pair+1) // u1 in (0, 1]
		r := math.Sqrt(-2 * math.Log(u1))
		z := r * math.Cos(2*math.Pi*u2)
		if i%2 == 1 {
			z = r * math.Sin(2*math.Pi*u2)
		}
		g[i] = z * z / 2
		sum += g[i]
	}
	floor := min(cutoff, 1/(2*float64(q)))
	for i := range g {
		share := 1 / float64(q)
		if sum > 0 {
			share = g[i] / sum
		}
		g[i] = floor + (1-float64(q)*floor)*share
	}
	return g
}

// symbol returns the recipient's symbol at a position with bias vector b:
// the first symbol whose cumulative probability exceeds a PRF uniform.
func (p *prf) symbol(pos Position, recipient string, b []float64) int {
	out := p.sum("symbol", be64(uint64(pos)), []byte(recipient))
	u := uniform(&out, 0)
	c := 0.0
	for a, v := range b {
		c += v
		if u < c {
			return a
		}
	}
	return len(b) - 1
}

var labelEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// label returns the recipient's label for a subdomain canary at pos.
func (p *prf) label(pos Position, recipient string) string {
	out := p.sum("label", be64(uint64(pos)), []byte(recipient))
	return labelEncoding.EncodeToString(out[:8])[:labelLen]
}

// layoutKey identifies the layout of a template under one key and cutoff.
type layoutKey struct {
	key    [16]byte
	cutoff float64
}

// layout is where a template's marks sit in the code under one key and
// cutoff: their global positions and bias vectors (nil for subdomain
// canaries).
type layout struct {
	pos  []Position
	bias [][]float64

	// The canonical JSON of the openings, in parts computed once
	// (openingParts): what varies per recipient goes between them.
	partsOnce sync.Once
	parts     *openingParts
	partsErr  error
}

// layout returns the template's layout, computed once per key and cutoff.
func (t *Template) layout(s *Scheme, cutoff float64) *layout {
	k := layoutKey{s.id, cutoff}
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.layouts[k]; l != nil {
		return l
	}
	p := s.newPRF()
	levels := binaryLevels(cutoff)
	l := &layout{pos: make([]Position, len(t.marks)), bias: make([][]float64, len(t.marks))}
	for i := range t.marks {
		m := &t.marks[i]
		l.pos[i] = p.position(t.id, t.version, i)
		if q := m.Symbols(); q > 0 {
			l.bias[i] = p.bias(l.pos[i], q, levels, cutoff)
		}
	}
	if t.layouts == nil {
		t.layouts = map[layoutKey]*layout{}
	}
	t.layouts[k] = l
	return l
}
