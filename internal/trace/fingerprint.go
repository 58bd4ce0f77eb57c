package trace

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"detente/internal/stix"
)

// Commitment is a hiding commitment to one recipient's variant of one
// object version: SHA-256 over a domain tag and the RFC 8785 canonical
// JSON of its Opening, which holds a random 32-byte nonce. Written in the
// transparency log at release time, it fixes what the recipient was given
// without revealing it; the opening, shown later, proves it. Its text form
// is 64 hexadecimal digits.
type Commitment [sha256.Size]byte

// String returns the text form of c.
func (c Commitment) String() string { return hex.EncodeToString(c[:]) }

// MarshalText implements encoding.TextMarshaler.
func (c Commitment) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Commitment) UnmarshalText(b []byte) error {
	if len(b) != 2*sha256.Size {
		return errors.New("commitment: want 64 hexadecimal digits")
	}
	if _, err := hex.Decode(c[:], b); err != nil {
		return errors.New("commitment: want 64 hexadecimal digits")
	}
	return nil
}

// EventField is the property of a release event's JSON body that lists
// the commitments of the fingerprinted objects it released, as an array
// of their text forms: {"fingerprints": ["9f86d0…", …], …}. VerifyEvidence
// looks for a release's commitment there.
const EventField = "fingerprints"

// commitmentTag separates commitments from every other use of SHA-256.
const commitmentTag = "detente-fingerprint-commitment/v1\n"

// OpeningFormat is the Format of every Opening.
const OpeningFormat = "detente-fingerprint-opening/v1"

// Opening is what a commitment commits to: the recipient, the object
// version and, for every mark, what it was, how it is recognised in a leak
// and what the recipient got. The node keeps it secret (it reveals the
// variant, and the nonce makes the commitment hiding) and reveals it only
// in evidence.
type Opening struct {
	Format    string       `json:"format"` // OpeningFormat
	Nonce     []byte       `json:"nonce"`  // 32 random bytes
	Object    string       `json:"object"`
	Version   string       `json:"version"`
	Recipient string       `json:"recipient"`
	Marks     []OpenedMark `json:"marks"`
}

// OpenedMark is one mark of an opening.
type OpenedMark struct {
	Index        int       `json:"index"`
	Position     Position  `json:"position"`
	Path         string    `json:"path"`
	Kind         Kind      `json:"kind"`
	Alternatives []string  `json:"alternatives,omitempty"` // as in Mark
	Left         []string  `json:"left,omitempty"`         // contexts on the left, "\u001f" marking the property's start
	Right        []string  `json:"right,omitempty"`        // contexts on the right, "\u001f" marking its end
	Bias         []float64 `json:"bias,omitempty"`         // probability of each symbol
	Symbol       int       `json:"symbol"`                 // the recipient's symbol (0 for a subdomain canary)
	Domain       string    `json:"domain,omitempty"`       // subdomain canary
	Label        string    `json:"label,omitempty"`        // the recipient's label (subdomain canary)
}

// commitmentOf returns the commitment to the opening whose JSON is b.
func commitmentOf(b []byte) (Commitment, error) {
	canon, err := stix.Canonicalize(b)
	if err != nil {
		return Commitment{}, fmt.Errorf("canonicalise opening: %w", err)
	}
	return hashCanonical(canon), nil
}

// hashCanonical returns the commitment to an opening in canonical JSON.
func hashCanonical(canon []byte) Commitment {
	h := sha256.New()
	h.Write([]byte(commitmentTag))
	h.Write(canon)
	var c Commitment
	h.Sum(c[:0])
	return c
}

// ParseOpening decodes an opening strictly (no unknown fields) and checks
// its form.
func ParseOpening(b []byte) (*Opening, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o Opening
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("parse opening: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse opening: data after the opening")
	}
	if o.Format != OpeningFormat {
		return nil, fmt.Errorf("parse opening: format %q, want %q", o.Format, OpeningFormat)
	}
	if len(o.Nonce) != 32 || o.Object == "" || o.Version == "" || o.Recipient == "" {
		return nil, errors.New("parse opening: nonce, object, version and recipient are required")
	}
	for i, m := range o.Marks {
		if err := m.check(i); err != nil {
			return nil, fmt.Errorf("parse opening: mark %d: %w", i, err)
		}
	}
	return &o, nil
}

// check checks the form of an opened mark.
func (m *OpenedMark) check(i int) error {
	if m.Index != i {
		return fmt.Errorf("index %d out of order", m.Index)
	}
	if m.Kind == KindSubdomain {
		if m.Domain == "" || len(m.Label) != labelLen || m.Alternatives != nil || m.Bias != nil || m.Symbol != 0 {
			return errors.New("a subdomain canary has a domain and a label and nothing else")
		}
		return nil
	}
	switch m.Kind {
	case KindWording, KindTime, KindNumber:
	default:
		return fmt.Errorf("unknown kind %q", m.Kind)
	}
	q := len(m.Alternatives)
	if q < 2 || q > MaxAlternatives || len(m.Bias) != q || m.Symbol < 0 || m.Symbol >= q {
		return errors.New("alternatives, bias and symbol do not fit")
	}
	sum := 0.0
	for _, p := range m.Bias {
		if !(p > 0 && p < 1) {
			return errors.New("a bias is not a probability")
		}
		sum += p
	}
	if sum < 1-1e-9 || sum > 1+1e-9 {
		return errors.New("the biases do not add up to 1")
	}
	return nil
}

// descriptor returns how the opened mark is recognised in a leak.
func (m *OpenedMark) descriptor() *descriptor {
	return buildDescriptor(m.Kind, m.Alternatives, m.Left, m.Right, m.Domain)
}

// Record is what the node keeps of one fingerprinted release, to trace
// leaks later: which object version, to whom, with which symbols, and the
// commitment logged for it. It holds no secret: the symbols mean nothing
// without the template and the key.
type Record struct {
	Object     string     `json:"object"`
	Version    string     `json:"version"`
	Recipient  string     `json:"recipient"`
	Cutoff     float64    `json:"cutoff"`           // the cutoff δ the biases were drawn with
	Symbols    []byte     `json:"symbols"`          // one per mark, 0 for subdomain canaries
	Labels     []string   `json:"labels,omitempty"` // one per subdomain canary, in mark order
	Commitment Commitment `json:"commitment"`
}

// Copy is one recipient's fingerprinted copy of an object version.
type Copy struct {
	// Object is the recipient's variant: one wording per [[…]], canary
	// facts filled in, markup and escapes gone; a copy of its own.
	Object map[string]any
	// Record is kept by the node to trace leaks.
	Record *Record
	// Commitment goes into the release's log event (EventField).
	Commitment Commitment
	// Opening is the canonical JSON of the opening: kept secret by the
	// node, shown only in evidence.
	Opening []byte
}

// Fingerprint returns recipient's copy of the object version of t.
// recipient is the recipient's stable identity, e.g. the text form of its
// node key; the same recipient always gets the same variant of a version.
func (s *Scheme) Fingerprint(t *Template, recipient string) (*Copy, error) {
	if recipient == "" {
		return nil, errors.New("fingerprint: empty recipient")
	}
	cutoff := s.cutoff()
	if err := checkCutoff(cutoff); err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	lay := t.layout(s, cutoff)
	p := s.newPRF()
	rec := &Record{Object: t.id, Version: t.version, Recipient: recipient, Cutoff: cutoff, Symbols: make([]byte, len(t.marks))}
	o := &Opening{Format: OpeningFormat, Nonce: make([]byte, 32), Object: t.id, Version: t.version, Recipient: recipient,
		Marks: make([]OpenedMark, len(t.marks))}
	values := make([]string, len(t.marks))
	for i := range t.marks {
		m, d := &t.marks[i], t.desc[i]
		om := &o.Marks[i]
		*om = OpenedMark{Index: i, Position: lay.pos[i], Path: m.Path, Kind: m.Kind, Alternatives: m.Alternatives,
			Left: d.left, Right: d.right}
		if m.Kind == KindSubdomain {
			om.Domain = m.Domain
			om.Label = p.label(lay.pos[i], recipient)
			rec.Labels = append(rec.Labels, om.Label)
			values[i] = om.Label + "." + m.Domain
			continue
		}
		om.Bias = lay.bias[i]
		om.Symbol = p.symbol(lay.pos[i], recipient, lay.bias[i])
		rec.Symbols[i] = byte(om.Symbol)
		values[i] = m.Alternatives[om.Symbol]
	}
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, o.Nonce); err != nil {
		return nil, fmt.Errorf("fingerprint: nonce: %w", err)
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: encode opening: %w", err)
	}
	canon, err := stix.Canonicalize(raw)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: canonicalise opening: %w", err)
	}
	c := hashCanonical(canon)
	rec.Commitment = c
	return &Copy{Object: t.render(func(i int) string { return values[i] }), Record: rec, Commitment: c, Opening: canon}, nil
}
