package trace

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"detente"
	"detente/internal/stix"
	"detente/internal/translog"
)

// EvidenceFormat is the Format of every evidence bundle.
const EvidenceFormat = "detente-leak-evidence/v1"

// ErrEvidence is wrapped by VerifyEvidence's errors when the evidence
// parsed but does not hold.
var ErrEvidence = errors.New("evidence does not verify")

// Evidence is a self-contained, offline-checkable account of a trace,
// about some of the recipients scored (those the node chooses to show it
// to: the releases of other partners are not in it):
//
//   - the leaked documents, as they were traced;
//   - for each release of those recipients among the object versions
//     found, its opening, its commitment and the seq of the release event
//     that carries the commitment (EventField);
//   - a selection export of the node's transparency log holding those
//     events with their inclusion proofs in one signed checkpoint;
//   - the symbols observed at the positions of those releases;
//   - each recipient's score and bound;
//   - the node's Ed25519 signature over all of it (signedBytes).
//
// It holds no secret: the openings reveal the committed variants, not the
// key, and the verifier recomputes the observed symbols from the leaked
// documents and the openings, and the scores and bounds from those.
type Evidence struct {
	Format     string            `json:"format"`     // EvidenceFormat
	Epsilon    float64           `json:"epsilon"`    // accusation threshold of the trace
	Recipients int               `json:"recipients"` // recipients the trace scored (N of the union bound), as the node counted them
	Leaked     []Leak            `json:"leaked"`
	Releases   []EvidenceRelease `json:"releases"`
	Observed   []Observation     `json:"observed"`
	Suspects   []Suspect         `json:"suspects"`
	Log        *translog.Bundle  `json:"log"`
	Signature  []byte            `json:"signature,omitempty"` // Ed25519, by the node key, over evidenceTag and the canonical JSON without this member
}

// Leak is one leaked document as it was traced: Text when it is UTF-8,
// Data otherwise.
type Leak struct {
	Text string `json:"text,omitempty"`
	Data []byte `json:"data,omitempty"`
}

func (l *Leak) bytes() []byte {
	if l.Data != nil {
		return l.Data
	}
	return []byte(l.Text)
}

// EvidenceRelease is one release in evidence.
type EvidenceRelease struct {
	Seq        int64           `json:"seq"`     // the log entry of the release event
	Partner    string          `json:"partner"` // the partner the event names
	Commitment Commitment      `json:"commitment"`
	Opening    json.RawMessage `json:"opening"`
}

// Observation is the symbol a leak shows at one position.
type Observation struct {
	Position Position `json:"position"`
	Object   string   `json:"object"`
	Version  string   `json:"version"`
	Index    int      `json:"index"`  // of the mark in the object
	Symbol   int      `json:"symbol"` // index into the mark's alternatives
	Text     string   `json:"text"`   // the alternative
}

// Suspect is one recipient's score in evidence, with the partner the log
// names for its releases.
type Suspect struct {
	Partner string `json:"partner"`
	Score
}

const evidenceTag = "detente-leak-evidence/v1\n"

// Evidence builds the evidence of the trace about the given recipients
// (usually those of res.Suspects). openings returns the opening the node
// kept for a commitment (Copy.Opening); log is a selection export
// (translog.ExportProofs) of the node's log that holds the release events
// of those recipients' releases of the object versions found (see
// Releases); priv is the node's signing key, whose public half signs the
// log. It needs no fingerprinting secret.
func (res *Result) Evidence(recipients []string, openings func(Commitment) ([]byte, error), log *translog.Bundle, priv ed25519.PrivateKey) (*Evidence, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("evidence: not an Ed25519 private key")
	}
	if log == nil {
		return nil, errors.New("evidence: no log bundle")
	}
	ev := &Evidence{Format: EvidenceFormat, Epsilon: res.Epsilon, Recipients: res.Recipients, Log: log,
		Observed: []Observation{}, Suspects: []Suspect{}, Releases: []EvidenceRelease{}}
	for _, d := range res.leaked {
		if utf8.Valid(d) {
			ev.Leaked = append(ev.Leaked, Leak{Text: string(d)})
		} else {
			ev.Leaked = append(ev.Leaked, Leak{Data: bytes.Clone(d)})
		}
	}
	want := map[string]bool{}
	for _, r := range recipients {
		if !slices.ContainsFunc(res.Scores, func(sc Score) bool { return sc.Recipient == r }) {
			return nil, fmt.Errorf("evidence: %s was not scored by the trace", r)
		}
		want[r] = true
	}
	obs := map[Position]bool{}
	for _, hit := range res.hits {
		t := hit.cand.Template
		done := map[string]bool{}
		for _, rec := range hit.cand.Records {
			if rec == nil || !want[rec.Recipient] || done[rec.Recipient] {
				continue
			}
			done[rec.Recipient] = true
			raw, err := openings(rec.Commitment)
			if err != nil {
				return nil, fmt.Errorf("evidence: opening of %s@%s for %s: %w", rec.Object, rec.Version, rec.Recipient, err)
			}
			o, err := openRelease(raw, rec.Commitment)
			if err != nil {
				return nil, fmt.Errorf("evidence: %s@%s for %s: %w", rec.Object, rec.Version, rec.Recipient, err)
			}
			if o.Object != t.id || o.Version != t.version || o.Recipient != rec.Recipient || len(o.Marks) != len(t.marks) {
				return nil, fmt.Errorf("evidence: the opening of %s does not belong to %s@%s for %s", rec.Commitment, t.id, t.version, rec.Recipient)
			}
			en, err := findEntry(log, rec.Commitment)
			if err != nil {
				return nil, fmt.Errorf("evidence: %s@%s for %s: %w", rec.Object, rec.Version, rec.Recipient, err)
			}
			ev.Releases = append(ev.Releases, EvidenceRelease{Seq: en.Seq, Partner: en.Partner, Commitment: rec.Commitment, Opening: raw})
			for i, m := range o.Marks {
				if hit.state[i] == observed && !obs[m.Position] {
					obs[m.Position] = true
					y := hit.sym[i]
					ev.Observed = append(ev.Observed, Observation{Position: m.Position, Object: o.Object, Version: o.Version, Index: i, Symbol: y, Text: m.Alternatives[y]})
				}
			}
		}
	}
	slices.SortFunc(ev.Observed, func(a, b Observation) int { return cmp.Compare(a.Position, b.Position) })
	// The scores are recomputed from the openings, as a verifier will.
	c, err := ev.check(newHaystack(res.leaked))
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	ev.Suspects = c.suspects
	if err := ev.sign(priv); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return ev, nil
}

// openRelease parses an opening and checks it against its commitment.
func openRelease(raw []byte, c Commitment) (*Opening, error) {
	got, err := commitmentOf(raw)
	if err != nil {
		return nil, err
	}
	if got != c {
		return nil, fmt.Errorf("the opening does not open commitment %s", c)
	}
	return ParseOpening(raw)
}

// findEntry returns the release event of log that lists commitment c.
func findEntry(log *translog.Bundle, c Commitment) (*translog.Entry, error) {
	for i := range log.Entries {
		en := &log.Entries[i]
		if en.Type != detente.EventRelease {
			continue
		}
		var body map[string]json.RawMessage
		if json.Unmarshal(en.Event().Body, &body) != nil {
			continue
		}
		var list []Commitment
		if json.Unmarshal(body[EventField], &list) == nil && slices.Contains(list, c) {
			return en, nil
		}
	}
	return nil, fmt.Errorf("no release event in the log bundle lists commitment %s", c)
}

// signedBytes returns what the signature of the evidence whose JSON is
// data covers — evidenceTag and the RFC 8785 canonical form of the JSON
// text without its "signature" member — and the signature, decoded from
// strict base64. Both come from the text, not from decoded values, so
// that no edit goes unnoticed, not even one that decodes to the same
// value (a changed padding bit of base64).
func signedBytes(data []byte) (msg, sig []byte, err error) {
	if _, err := stix.Canonicalize(data); err != nil { // refuses duplicate members anywhere
		return nil, nil, fmt.Errorf("canonicalise evidence: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("decode evidence: %w", err)
	}
	if raw, ok := top["signature"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, nil, errors.New("the signature is not a string")
		}
		if sig, err = base64.StdEncoding.Strict().DecodeString(s); err != nil {
			return nil, nil, errors.New("the signature is not in standard base64")
		}
		delete(top, "signature")
	}
	b, err := json.Marshal(top)
	if err != nil {
		return nil, nil, fmt.Errorf("encode evidence: %w", err)
	}
	canon, err := stix.Canonicalize(b)
	if err != nil {
		return nil, nil, fmt.Errorf("canonicalise evidence: %w", err)
	}
	return append([]byte(evidenceTag), canon...), sig, nil
}

func (ev *Evidence) sign(priv ed25519.PrivateKey) error {
	c := *ev
	c.Signature = nil
	data, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("encode evidence: %w", err)
	}
	b, _, err := signedBytes(data)
	if err != nil {
		return err
	}
	ev.Signature = ed25519.Sign(priv, b)
	return nil
}

// Marshal returns the JSON of ev, indented, without HTML escaping.
func (ev *Evidence) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("encode evidence: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseEvidence decodes evidence strictly. It verifies nothing: see
// VerifyEvidence. Callers bound the size of data.
func ParseEvidence(data []byte) (*Evidence, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ev Evidence
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("parse evidence: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse evidence: data after the evidence")
	}
	if ev.Format != EvidenceFormat {
		return nil, fmt.Errorf("parse evidence: format %q, want %q", ev.Format, EvidenceFormat)
	}
	if ev.Log == nil {
		return nil, errors.New("parse evidence: no log bundle")
	}
	return &ev, nil
}

// EvidenceReport is what VerifyEvidence established.
type EvidenceReport struct {
	Origin     string    // the log the releases are in
	TreeSize   int64     // size of the signed checkpoint they are proven in
	Releases   int       // releases whose commitments were opened and found in the log
	Positions  int       // positions whose symbols were recomputed from the leaked documents
	Observed   int       // of which the leak shows one symbol
	Suspects   []Suspect // as recomputed
	Recipients int       // the N the bounds use, as the node stated it
}

// VerifyEvidence checks evidence offline against nodeKey, the node's
// pinned public key: the signature; the log bundle (translog.VerifyBundle:
// every release event is in the signed tree); that each opening opens its
// commitment and that the commitment is in its release event; the
// observed symbols, extracted again from the leaked documents with the
// openings' descriptions of the marks; and every score and bound,
// recomputed from those. Anything edited — a byte of the signed content,
// an opening, a symbol, a score — makes it fail. The number of recipients
// scored (the N of the bounds) is the node's statement, covered by its
// signature but not checkable without the other partners' releases.
func VerifyEvidence(data []byte, nodeKey ed25519.PublicKey) (*EvidenceReport, error) {
	ev, err := ParseEvidence(data)
	if err != nil {
		return nil, err
	}
	if len(nodeKey) != ed25519.PublicKeySize {
		return nil, errors.New("verify evidence: not an Ed25519 public key")
	}
	b, sig, err := signedBytes(data)
	if err != nil {
		return nil, fmt.Errorf("verify evidence: %w", err)
	}
	if !ed25519.Verify(nodeKey, b, sig) {
		return nil, fmt.Errorf("verify evidence: the node's signature does not verify (edited, or signed by another key): %w", ErrEvidence)
	}
	rep, err := translog.VerifyBundle(ev.Log, nodeKey)
	if err != nil {
		return nil, fmt.Errorf("verify evidence: log: %w: %w", err, ErrEvidence)
	}
	if !rep.OK() {
		return nil, fmt.Errorf("verify evidence: log: %s: %w", rep.Problems[0].Message, ErrEvidence)
	}
	docs := make([][]byte, len(ev.Leaked))
	for i := range ev.Leaked {
		docs[i] = ev.Leaked[i].bytes()
	}
	c, err := ev.check(newHaystack(docs))
	if err != nil {
		return nil, fmt.Errorf("verify evidence: %v: %w", err, ErrEvidence)
	}
	if len(c.suspects) != len(ev.Suspects) {
		return nil, fmt.Errorf("verify evidence: %d suspects stated, %d recomputed: %w", len(ev.Suspects), len(c.suspects), ErrEvidence)
	}
	for i := range c.suspects {
		if err := sameSuspect(&ev.Suspects[i], &c.suspects[i]); err != nil {
			return nil, fmt.Errorf("verify evidence: %v: %w", err, ErrEvidence)
		}
	}
	return &EvidenceReport{Origin: rep.Origin, TreeSize: rep.Size, Releases: len(ev.Releases), Positions: c.positions,
		Observed: len(ev.Observed), Suspects: c.suspects, Recipients: ev.Recipients}, nil
}

// checked is what check recomputed.
type checked struct {
	suspects  []Suspect
	positions int
}

// check opens every release, finds its event in the log bundle, extracts
// the symbols of every position of the openings from h, compares them with
// ev.Observed, and recomputes each recipient's score.
func (ev *Evidence) check(h *haystack) (*checked, error) {
	if !(ev.Epsilon > 0 && ev.Epsilon < 1) || ev.Recipients < 1 {
		return nil, errors.New("epsilon or recipients out of range")
	}
	if len(ev.Releases) == 0 {
		return nil, errors.New("the evidence holds no release")
	}
	type pos struct {
		m   *OpenedMark
		o   *Opening
		sym int
		st  matchState
	}
	positions := map[Position]*pos{}
	byRecipient := map[string][]*Opening{}
	partner := map[string]string{}
	seen := map[Commitment]bool{}
	for i := range ev.Releases {
		r := &ev.Releases[i]
		if seen[r.Commitment] {
			return nil, fmt.Errorf("release %s appears twice", r.Commitment)
		}
		seen[r.Commitment] = true
		o, err := openRelease(r.Opening, r.Commitment)
		if err != nil {
			return nil, fmt.Errorf("release %s: %v", r.Commitment, err)
		}
		en, err := findEntry(ev.Log, r.Commitment)
		if err != nil {
			return nil, err
		}
		if en.Seq != r.Seq || en.Partner != r.Partner || en.Partner == "" {
			return nil, fmt.Errorf("release %s: stated as entry %d to %q, the log has entry %d to %q", r.Commitment, r.Seq, r.Partner, en.Seq, en.Partner)
		}
		if p, ok := partner[o.Recipient]; ok && p != en.Partner {
			return nil, fmt.Errorf("recipient %s is partner %q in one release and %q in another", o.Recipient, p, en.Partner)
		}
		partner[o.Recipient] = en.Partner
		for _, other := range byRecipient[o.Recipient] {
			if other.Object == o.Object && other.Version == o.Version {
				return nil, fmt.Errorf("two releases of %s@%s to %s", o.Object, o.Version, o.Recipient)
			}
		}
		byRecipient[o.Recipient] = append(byRecipient[o.Recipient], o)
		for j := range o.Marks {
			m := &o.Marks[j]
			if p := positions[m.Position]; p != nil {
				if !sameMark(p.m, m) || p.o.Object != o.Object || p.o.Version != o.Version {
					return nil, fmt.Errorf("position %s is described differently by two openings", m.Position)
				}
				continue
			}
			p := &pos{m: m, o: o, sym: -1}
			if m.Kind != KindSubdomain {
				p.sym, p.st = m.descriptor().match(h)
			}
			positions[m.Position] = p
		}
	}
	// The observed symbols stated must be exactly those recomputed.
	var want []Observation
	for at, p := range positions {
		if p.st == observed {
			want = append(want, Observation{Position: at, Object: p.o.Object, Version: p.o.Version, Index: p.m.Index, Symbol: p.sym, Text: p.m.Alternatives[p.sym]})
		}
	}
	slices.SortFunc(want, func(a, b Observation) int { return cmp.Compare(a.Position, b.Position) })
	if !slices.Equal(want, ev.Observed) {
		return nil, fmt.Errorf("the observed symbols stated (%d) are not those the leaked documents show (%d)", len(ev.Observed), len(want))
	}
	c := &checked{positions: len(positions)}
	for r, os := range byRecipient {
		ta := &tally{labels: map[string]bool{}}
		type term struct {
			pos   Position
			p     float64
			match bool
		}
		var terms []term
		for _, o := range os {
			for j := range o.Marks {
				m := &o.Marks[j]
				if m.Kind == KindSubdomain {
					found := m.descriptor().labels(h)
					for _, l := range found {
						ta.labels[l] = true
					}
					if slices.Contains(found, m.Label) {
						ta.canaries = append(ta.canaries, m.Label+"."+m.Domain)
					}
					continue
				}
				if p := positions[m.Position]; p.st == observed {
					terms = append(terms, term{m.Position, m.Bias[p.sym], m.Symbol == p.sym})
				}
			}
		}
		slices.SortFunc(terms, func(a, b term) int { return cmp.Compare(a.pos, b.pos) })
		ps := make([]float64, len(terms))
		for i, t := range terms {
			ta.add(t.p, t.match)
			ps[i] = t.p
		}
		l := newLaw(ps)
		j := &judged{l: l, threshold: l.threshold(math.Log(float64(ev.Recipients)) - math.Log(ev.Epsilon))}
		c.suspects = append(c.suspects, Suspect{Partner: partner[r], Score: assess(r, ta, j, ev.Recipients, ev.Epsilon)})
	}
	slices.SortFunc(c.suspects, func(a, b Suspect) int { return compareScores(a.Score, b.Score) })
	return c, nil
}

// sameMark reports whether two openings describe a position alike (all
// but the recipient's own symbol and label).
func sameMark(a, b *OpenedMark) bool {
	return a.Index == b.Index && a.Path == b.Path && a.Kind == b.Kind && a.Domain == b.Domain &&
		slices.Equal(a.Alternatives, b.Alternatives) && slices.Equal(a.Left, b.Left) &&
		slices.Equal(a.Right, b.Right) && slices.Equal(a.Bias, b.Bias)
}

// sameSuspect compares a stated suspect with the recomputed one: exactly,
// except for floating-point values, which may differ in the last bits
// between machines.
func sameSuspect(got, want *Suspect) error {
	near := func(a, b float64) bool {
		if math.IsInf(a, 0) || math.IsInf(b, 0) {
			return a == b
		}
		return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
	}
	nearPtr := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && near(*a, *b) }
	switch {
	case got.Recipient != want.Recipient || got.Partner != want.Partner:
		return fmt.Errorf("suspect %s (%s) stated where %s (%s) is recomputed", got.Recipient, got.Partner, want.Recipient, want.Partner)
	case got.Positions != want.Positions || got.Matches != want.Matches || !slices.Equal(got.Canaries, want.Canaries) || got.Accused != want.Accused:
		return fmt.Errorf("suspect %s: positions, matches, canaries or accusation differ from those recomputed", got.Recipient)
	case !near(got.Score.Score, want.Score.Score) || !nearPtr(got.Threshold, want.Threshold) ||
		!near(got.Log10Bound, want.Log10Bound) || !near(got.FalseAccusationBound, want.FalseAccusationBound):
		return fmt.Errorf("suspect %s: score %v or bound 10^%v differ from those recomputed (%v, 10^%v)", got.Recipient, got.Score.Score, got.Log10Bound, want.Score.Score, want.Log10Bound)
	}
	return nil
}
