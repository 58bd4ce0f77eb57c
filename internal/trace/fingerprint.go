package trace

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

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
	lay.partsOnce.Do(func() { lay.parts, lay.partsErr = t.openingParts(lay) })
	if lay.partsErr != nil {
		return nil, fmt.Errorf("fingerprint: %w", lay.partsErr)
	}
	canon, err := lay.parts.opening(o)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	c := hashCanonical(canon)
	rec.Commitment = c
	return &Copy{Object: t.render(func(i int) string { return values[i] }), Record: rec, Commitment: c, Opening: canon}, nil
}

// openingParts is the canonical JSON of a template's openings (RFC 8785,
// as Canonicalize writes it), cut where the recipient's values go: the
// nonce, the recipient, and each mark's symbol or label. Building an
// opening from them gives the same bytes as canonicalising it whole
// (TestOpeningCanonical), several times faster.
type openingParts struct {
	head  []byte      // {"format":…,"marks":[
	marks [][2][]byte // per mark: before and after its symbol (label for a subdomain canary)
	tail  []byte      // ,"object":…, up to "recipient":
	end   []byte      // ,"version":…}
}

// labelPlaceholder stands for a label while the parts are cut: labels are
// base32 in lower case, so they need no escaping, like it.
const labelPlaceholder = "@@label@@@"

// openingParts computes the parts of t's openings under lay.
func (t *Template) openingParts(lay *layout) (*openingParts, error) {
	canon := func(v any) ([]byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return stix.Canonicalize(b)
	}
	p := &openingParts{marks: make([][2][]byte, len(t.marks))}
	format, err := canon(OpeningFormat)
	if err != nil {
		return nil, err
	}
	p.head = append(append([]byte(`{"format":`), format...), `,"marks":[`...)
	for i := range t.marks {
		m, d := &t.marks[i], t.desc[i]
		om := OpenedMark{Index: i, Position: lay.pos[i], Path: m.Path, Kind: m.Kind, Alternatives: m.Alternatives, Left: d.left, Right: d.right}
		if m.Kind == KindSubdomain {
			om.Domain, om.Label = m.Domain, labelPlaceholder
		} else {
			om.Bias = lay.bias[i]
		}
		b, err := canon(om)
		if err != nil {
			return nil, err
		}
		// A key with its quotes cannot occur inside a string value, whose
		// quotes are escaped.
		if m.Kind == KindSubdomain {
			cut := []byte(`"label":"` + labelPlaceholder + `"`)
			at := bytes.Index(b, cut)
			if at < 0 {
				return nil, errors.New("opening parts: cannot cut the canonical mark")
			}
			p.marks[i] = [2][]byte{b[:at+len(`"label":"`)], b[at+len(cut)-1:]}
		} else {
			cut := []byte(`"symbol":0}`)
			if !bytes.HasSuffix(b, cut) {
				return nil, errors.New("opening parts: cannot cut the canonical mark")
			}
			p.marks[i] = [2][]byte{b[:len(b)-len("0}")], []byte("}")}
		}
	}
	obj, err := canon(t.id)
	if err != nil {
		return nil, err
	}
	p.tail = append(append([]byte(`,"object":`), obj...), `,"recipient":`...)
	ver, err := canon(t.version)
	if err != nil {
		return nil, err
	}
	p.end = append(append([]byte(`,"version":`), ver...), '}')
	return p, nil
}

// opening returns the canonical JSON of o, whose marks are those the
// parts were cut from.
func (p *openingParts) opening(o *Opening) ([]byte, error) {
	if len(o.Marks) != len(p.marks) {
		return nil, errors.New("opening parts: marks do not fit")
	}
	rec, err := json.Marshal(o.Recipient)
	if err != nil {
		return nil, err
	}
	if rec, err = stix.Canonicalize(rec); err != nil {
		return nil, err
	}
	n := len(p.head) + len(p.tail) + len(p.end) + len(rec) + 64
	for _, m := range p.marks {
		n += len(m[0]) + len(m[1]) + 12
	}
	b := make([]byte, 0, n)
	b = append(b, p.head...)
	for i, m := range p.marks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m[0]...)
		if o.Marks[i].Kind == KindSubdomain {
			b = append(b, o.Marks[i].Label...)
		} else {
			b = strconv.AppendInt(b, int64(o.Marks[i].Symbol), 10)
		}
		b = append(b, m[1]...)
	}
	b = append(b, `],"nonce":"`...)
	b = base64.StdEncoding.AppendEncode(b, o.Nonce)
	b = append(b, '"')
	b = append(b, p.tail...)
	b = append(b, rec...)
	b = append(b, p.end...)
	return b, nil
}

// Reopen rebuilds the opening of the copy rec records (the canonical
// JSON Copy.Opening held), from its template, the record and the nonce of
// its commitment, and checks that it opens rec.Commitment. A node can so
// keep the nonce alone, 32 bytes, instead of the whole opening.
func (s *Scheme) Reopen(t *Template, rec *Record, nonce []byte) ([]byte, error) {
	if err := checkRecord(rec, t, t.subdomains()); err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	if len(nonce) != 32 {
		return nil, errors.New("reopen: the nonce is not 32 bytes")
	}
	lay := t.layout(s, rec.Cutoff)
	lay.partsOnce.Do(func() { lay.parts, lay.partsErr = t.openingParts(lay) })
	if lay.partsErr != nil {
		return nil, fmt.Errorf("reopen: %w", lay.partsErr)
	}
	o := &Opening{Nonce: nonce, Recipient: rec.Recipient, Marks: make([]OpenedMark, len(t.marks))}
	li := 0
	for i := range t.marks {
		o.Marks[i].Kind = t.marks[i].Kind
		if t.marks[i].Kind == KindSubdomain {
			o.Marks[i].Label = rec.Labels[li]
			li++
			continue
		}
		o.Marks[i].Symbol = int(rec.Symbols[i])
	}
	canon, err := lay.parts.opening(o)
	if err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	if hashCanonical(canon) != rec.Commitment {
		return nil, fmt.Errorf("reopen: the rebuilt opening does not open commitment %s", rec.Commitment)
	}
	return canon, nil
}

// subdomains returns the number of subdomain canaries of t.
func (t *Template) subdomains() int {
	n := 0
	for i := range t.marks {
		if t.marks[i].Kind == KindSubdomain {
			n++
		}
	}
	return n
}
