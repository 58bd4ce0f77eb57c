package translog

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// BundleFormat is the Format of every bundle this package writes and reads.
const BundleFormat = "detente-log-bundle/v1"

// ErrVerify is wrapped by VerifyBundle's error when the bundle parsed and
// its checkpoint verified but some entries or the tree do not match.
var ErrVerify = errors.New("bundle does not verify")

// Bundle is an export of (part of) a node's log for offline verification.
// It comes in two modes. With Range set, Entries are the consecutive events
// Range.Start..Range.End-1 and Range.Proof links their leaf hashes to the
// checkpoint's root (empty for a full export); a verifier can then tell an
// entry that is missing, out of order or changed. Without Range, Entries
// are any selection of events, each with its own inclusion proof.
//
// Each entry carries the leaf hash the log stored when it was appended:
// once the stored hashes are proven to be the signed tree, every entry whose
// content hashes differently is named. Earlier checkpoints (in Checkpoints,
// or the verifier's own witnessed copies) locate a rewrite of the stored
// hashes too; see docs/log.md.
type Bundle struct {
	Format      string            `json:"format"`                // BundleFormat
	Origin      string            `json:"origin"`                // the log's origin, its key name
	Key         detente.PublicKey `json:"key"`                   // the node key that signs the log
	Checkpoint  string            `json:"checkpoint"`            // the signed checkpoint note the entries are proven against
	Checkpoints []string          `json:"checkpoints,omitempty"` // earlier signed checkpoints, optional
	Range       *Range            `json:"range,omitempty"`       // set for a range export
	Entries     []Entry           `json:"entries"`
}

// Range describes the entries of a range export.
type Range struct {
	Start int64       `json:"start"` // Seq of the first entry
	End   int64       `json:"end"`   // Seq of the last entry + 1
	Proof []tlog.Hash `json:"proof"` // hashes of the subtrees outside Start..End-1, in RFC 6962 order
}

// Entry is one event of a bundle, with the leaf hash the log stored for it.
type Entry struct {
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`
	Type       string          `json:"type"`
	Partner    string          `json:"partner,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`        // the body, when it is compact valid JSON
	BodyBase64 []byte          `json:"body_base64,omitempty"` // the exact body bytes otherwise
	LeafHash   tlog.Hash       `json:"leaf_hash"`             // as stored by the log
	Proof      []tlog.Hash     `json:"proof,omitempty"`       // inclusion proof, without Range
}

// Event returns the event e records.
func (e *Entry) Event() *detente.Event {
	body := e.BodyBase64
	if body == nil && e.Body != nil {
		var b bytes.Buffer
		if json.Compact(&b, e.Body) == nil {
			body = b.Bytes()
		} else {
			body = e.Body
		}
	}
	return &detente.Event{Seq: e.Seq, Time: e.Time, Type: e.Type, Partner: e.Partner, Body: body}
}

// newEntry returns the entry of e, whose stored leaf hash is leaf.
func newEntry(e *detente.Event, leaf tlog.Hash) Entry {
	en := Entry{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type, Partner: e.Partner, LeafHash: leaf}
	var b bytes.Buffer
	switch {
	case len(e.Body) == 0:
	case utf8.Valid(e.Body) && json.Compact(&b, e.Body) == nil && bytes.Equal(b.Bytes(), e.Body):
		en.Body = bytes.Clone(e.Body)
	default:
		en.BodyBase64 = bytes.Clone(e.Body)
	}
	return en
}

// Export returns a range export of events, consecutive events of the log
// in hs (ascending Seq), proven against the checkpoint cp. The entries
// carry the leaf hashes stored in hs, not recomputed ones. Add earlier
// checkpoints to Checkpoints to let verifiers locate rewrites.
func Export(ctx context.Context, hs HashStore, cp *Checkpoint, events []*detente.Event) (*Bundle, error) {
	if len(events) == 0 {
		return nil, errors.New("export: no events")
	}
	start := events[0].Seq
	end := start + int64(len(events))
	for i, e := range events {
		if e.Seq != start+int64(i) {
			return nil, fmt.Errorf("export: events are not consecutive at seq %d", e.Seq)
		}
	}
	if start < 0 || end > cp.Size {
		return nil, fmt.Errorf("export: events %d..%d are not in the tree of size %d", start, end-1, cp.Size)
	}
	leaves, err := readLeaves(ctx, hs, start, end)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	proof, err := proveRange(ctx, hs, cp.Size, start, end)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	b := newBundle(cp)
	b.Range = &Range{Start: start, End: end, Proof: proof}
	for i, e := range events {
		b.Entries = append(b.Entries, newEntry(e, leaves[i]))
	}
	return b, nil
}

// ExportProofs returns an export of any events of the log in hs, each with
// its stored leaf hash and its inclusion proof in the checkpoint cp.
func ExportProofs(ctx context.Context, hs HashStore, cp *Checkpoint, events []*detente.Event) (*Bundle, error) {
	b := newBundle(cp)
	for _, e := range events {
		if e.Seq < 0 || e.Seq >= cp.Size {
			return nil, fmt.Errorf("export: event %d is not in the tree of size %d", e.Seq, cp.Size)
		}
		leaf, err := readLeaves(ctx, hs, e.Seq, e.Seq+1)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		proof, err := ProveInclusion(ctx, hs, cp.Size, e.Seq)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		en := newEntry(e, leaf[0])
		en.Proof = proof
		b.Entries = append(b.Entries, en)
	}
	return b, nil
}

func newBundle(cp *Checkpoint) *Bundle {
	return &Bundle{
		Format:     BundleFormat,
		Origin:     cp.Origin,
		Key:        detente.PublicKey(cp.Key),
		Checkpoint: string(cp.Note),
		Entries:    []Entry{},
	}
}

// readLeaves returns the stored leaf hashes of events start..end-1.
func readLeaves(ctx context.Context, hs HashStore, start, end int64) ([]tlog.Hash, error) {
	nodes := make([]Node, 0, end-start)
	for i := start; i < end; i++ {
		nodes = append(nodes, Node{0, i})
	}
	hashes, err := hs.ReadHashes(ctx, nodes)
	if err == nil && len(hashes) != len(nodes) {
		err = fmt.Errorf("read hashes: asked for %d, got %d", len(nodes), len(hashes))
	}
	return hashes, err
}

// Marshal returns the JSON of b, one entry per line. It does not escape
// HTML characters, so bodies keep their exact bytes; write bundles with it
// rather than json.Marshal.
func (b *Bundle) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseBundle decodes and checks the form of a bundle. It verifies
// nothing: see VerifyBundle. Callers bound the size of data.
func ParseBundle(data []byte) (*Bundle, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("parse bundle: %v: %w", err, ErrMalformed)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse bundle: data after the bundle: %w", ErrMalformed)
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("parse bundle: format %q, want %q: %w", b.Format, BundleFormat, ErrMalformed)
	}
	if b.Range != nil && len(b.Range.Proof) > maxProof {
		return nil, fmt.Errorf("parse bundle: range proof too long: %w", ErrMalformed)
	}
	for _, e := range b.Entries {
		if e.Body != nil && e.BodyBase64 != nil {
			return nil, fmt.Errorf("parse bundle: entry %d has both body and body_base64: %w", e.Seq, ErrMalformed)
		}
		if len(e.Proof) > maxProof || (b.Range != nil && e.Proof != nil) {
			return nil, fmt.Errorf("parse bundle: entry %d: unexpected or too long proof: %w", e.Seq, ErrMalformed)
		}
	}
	return &b, nil
}

// ProblemKind classifies what VerifyBundle found wrong.
type ProblemKind string

// Kinds of Problem.
const (
	Changed     ProblemKind = "changed"      // an entry's content does not match the log's leaf hash
	Missing     ProblemKind = "missing"      // entries of the range are absent
	OutOfOrder  ProblemKind = "out_of_order" // entries are not in Seq order
	Duplicate   ProblemKind = "duplicate"    // an entry appears twice
	Unexpected  ProblemKind = "unexpected"   // an entry outside the range
	BadLeafHash ProblemKind = "bad_leaf"     // the bundle's leaf_hash is wrong; the entry matches the log
	NotInLog    ProblemKind = "not_in_log"   // an inclusion proof fails for entry and leaf hash alike
	Unproven    ProblemKind = "unproven"     // the entries do not hash to the checkpoint's root
	Rewritten   ProblemKind = "rewritten"    // entries contradict an earlier signed checkpoint
	SplitView   ProblemKind = "split_view"   // two signed checkpoints of one size with different roots
	RolledBack  ProblemKind = "rolled_back"  // a signed checkpoint covers more entries than the bundle's
	Uncompared  ProblemKind = "uncompared"   // a checkpoint the verifier gave cannot be compared with a partial export
)

// Problem is one thing wrong with a bundle.
type Problem struct {
	Kind ProblemKind
	// First and Last are the Seqs of the entries concerned (First == Last
	// for one entry), -1 when the problem concerns no entry in particular.
	First, Last int64
	Message     string // e.g. "entry 17: leaf hash does not match the log (body changed?)"
}

// Report is what VerifyBundle found.
type Report struct {
	Origin   string
	Size     int64     // tree size of the bundle's checkpoint
	Root     tlog.Hash // its root
	Entries  int       // entries in the bundle
	Verified int       // entries proven unchanged in the signed tree
	Problems []Problem
	// Notes say what could not be checked without being a problem: an
	// earlier checkpoint that a partial or selection export cannot be
	// compared with.
	Notes []string `json:",omitempty"`
}

// OK reports whether the bundle verified with no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(kind ProblemKind, first, last int64, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{kind, first, last, fmt.Sprintf(format, args...)})
}

// KnownCheckpoint is a signed checkpoint note of a log that a verifier
// holds independently of any bundle, typically one its node accepted as a
// witness, with the name reports give it (e.g. its file name).
type KnownCheckpoint struct {
	Name string
	Note []byte
}

// earlier is a checkpoint a bundle is compared with, and how reports name
// it.
type earlier struct {
	*Checkpoint
	label string // "checkpoint witnessed.txt", "the bundle's checkpoints[3]"
	known bool   // given by the verifier, not carried by the bundle
}

// VerifyBundle verifies b against pub, the node key the verifier pinned,
// and known, signed checkpoints of the same log the verifier holds
// independently (its witnessed copies). It recomputes every entry's leaf
// hash and the tree root and checks them against the signed checkpoint,
// and checks that the bundle's log extends every earlier checkpoint, the
// bundle's own and known: a known checkpoint larger than the bundle's is a
// log rolled back or truncated, one of the same size with another root a
// split view, and one that the bundle's first entries do not hash to a
// rewrite. An error wrapping ErrMalformed or ErrSignature, with a nil
// report, means the bundle, its checkpoint or a known checkpoint cannot be
// used at all; otherwise the report lists every problem found, each naming
// the entries concerned, the most precise first (single entries before
// ranges), and the error, if any, wraps ErrVerify and gives the first.
func VerifyBundle(b *Bundle, pub ed25519.PublicKey, known ...KnownCheckpoint) (*Report, error) {
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("verify bundle: format %q, want %q: %w", b.Format, BundleFormat, ErrMalformed)
	}
	if len(b.Key) != 0 && !b.Key.Equal(detente.PublicKey(pub)) {
		return nil, fmt.Errorf("verify bundle: signed by %s, not the expected key: %w", b.Key, ErrSignature)
	}
	cp, err := ParseCheckpoint([]byte(b.Checkpoint), b.Origin, pub)
	if err != nil {
		return nil, fmt.Errorf("verify bundle: %w", err)
	}
	var others []earlier
	for i, k := range known {
		label := "checkpoint " + k.Name
		if k.Name == "" {
			label = fmt.Sprintf("known checkpoint %d", i+1)
		}
		c, err := parseEarlier(k.Note, b.Origin, pub, label)
		if err != nil {
			return nil, fmt.Errorf("verify bundle: %w", err)
		}
		others = append(others, earlier{c, label, true})
	}
	for i, n := range b.Checkpoints {
		label := fmt.Sprintf("the bundle's checkpoints[%d]", i)
		c, err := parseEarlier([]byte(n), b.Origin, pub, label)
		if err != nil {
			return nil, fmt.Errorf("verify bundle: %w", err)
		}
		others = append(others, earlier{c, label, false})
	}
	r := &Report{Origin: cp.Origin, Size: cp.Size, Root: cp.Root, Entries: len(b.Entries)}
	holds := fmt.Sprintf("the bundle's checkpoint covers %d entries", cp.Size)
	if b.Range != nil && b.Range.Start == 0 && b.Range.End == cp.Size {
		holds = fmt.Sprintf("the bundle holds %d entries", cp.Size)
	}
	for _, c := range others {
		switch {
		case c.Size > cp.Size:
			r.add(RolledBack, cp.Size, c.Size-1, "%s but %s, signed by %s, covers %d: the log was rolled back or truncated",
				holds, c.label, c.Origin, c.Size)
		case c.Size == cp.Size && c.Root != cp.Root:
			r.add(SplitView, -1, -1, "split view: %s, signed by %s, has root %s at size %d, but the bundle's checkpoint of that size has root %s",
				c.label, c.Origin, c.Root, c.Size, cp.Root)
		}
	}
	if b.Range != nil {
		if err := verifyRange(b, cp, others, r); err != nil {
			return nil, fmt.Errorf("verify bundle: %w", err)
		}
	} else {
		verifyProofs(b, cp, r)
	}
	// The most precise problems first: single entries before ranges; what
	// could not be compared last.
	slices.SortStableFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Last-a.First, b.Last-b.First), cmp.Compare(a.First, b.First))
	})
	uncompared(b, cp, others, r)
	switch len(r.Problems) {
	case 0:
		return r, nil
	case 1:
		return r, fmt.Errorf("verify bundle: %s: %w", r.Problems[0].Message, ErrVerify)
	default:
		return r, fmt.Errorf("verify bundle: %s (and %d more): %w", r.Problems[0].Message, len(r.Problems)-1, ErrVerify)
	}
}

// parseEarlier parses an earlier checkpoint note of the log origin signed
// by pub. Its errors name it by label and say whether it belongs to
// another log or was not signed by pub.
func parseEarlier(note []byte, origin string, pub ed25519.PublicKey, label string) (*Checkpoint, error) {
	c, err := ParseCheckpoint(note, origin, pub)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrSignature) {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if text, _, terr := noteText(note); terr == nil {
		if o, _, _ := strings.Cut(text, "\n"); o != origin {
			return nil, fmt.Errorf("%s is a checkpoint of another log, %q, not of %s: %w", label, o, origin, ErrSignature)
		}
	}
	return nil, fmt.Errorf("%s is not signed by %s, the key of the log %s: %w", label, detente.PublicKey(pub), origin, ErrSignature)
}

// uncompared notes the earlier checkpoints smaller than the bundle's that
// the bundle cannot be compared with: that takes the log's first entries,
// a range export from entry 0 up to at least their size.
func uncompared(b *Bundle, cp *Checkpoint, others []earlier, r *Report) {
	for _, c := range others {
		if c.Size == 0 || c.Size >= cp.Size || (b.Range != nil && b.Range.Start == 0 && c.Size <= b.Range.End) {
			continue
		}
		if c.known {
			// A checkpoint the verifier gave is what it relies on: a
			// partial export (which a rolled-back or forked log can
			// still pass) must not verify "OK" beside it.
			r.add(Uncompared, -1, -1, "%s (size %d) cannot be compared with this partial export: a forked or rolled-back log could pass it; "+
				"verify an export from entry 0 to at least entry %d", c.label, c.Size, c.Size-1)
			continue
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s (size %d) was not compared with the log: that takes an export from entry 0 to at least entry %d", c.label, c.Size, c.Size-1))
	}
}

// verifyProofs checks each entry of a bundle without range on its own.
func verifyProofs(b *Bundle, cp *Checkpoint, r *Report) {
	for i := range b.Entries {
		en := &b.Entries[i]
		s := en.Seq
		if s < 0 || s >= cp.Size {
			r.add(NotInLog, s, s, "entry %d: beyond the checkpoint's tree size %d", s, cp.Size)
			continue
		}
		leaf := LeafHash(en.Event())
		switch {
		case tlog.CheckRecord(en.Proof, cp.Size, cp.Root, s, leaf) == nil:
			r.Verified++
		case tlog.CheckRecord(en.Proof, cp.Size, cp.Root, s, en.LeafHash) == nil:
			r.add(Changed, s, s, "entry %d: leaf hash does not match the log (body changed?)", s)
		default:
			r.add(NotInLog, s, s, "entry %d: not in the log at position %d (inclusion proof fails)", s, s)
		}
	}
}

// verifyRange checks the entries of a range export. It returns an error
// only for a malformed range.
func verifyRange(b *Bundle, cp *Checkpoint, others []earlier, r *Report) error {
	rg := b.Range
	if rg.Start < 0 || rg.Start >= rg.End || rg.End > cp.Size {
		return fmt.Errorf("range %d..%d is not in the tree of size %d: %w", rg.Start, rg.End, cp.Size, ErrMalformed)
	}
	// Form: every seq of the range exactly once, in order.
	pos := make(map[int64]int, len(b.Entries))
	last, disorder := int64(-1), false
	for i, en := range b.Entries {
		s := en.Seq
		switch _, dup := pos[s]; {
		case s < rg.Start || s >= rg.End:
			r.add(Unexpected, s, s, "entry %d: outside the exported range %d..%d", s, rg.Start, rg.End-1)
			continue
		case dup:
			r.add(Duplicate, s, s, "entry %d: appears more than once", s)
			continue
		}
		if s < last && !disorder {
			r.add(OutOfOrder, s, s, "entries out of order at %d", s)
			disorder = true
		}
		last = max(last, s)
		pos[s] = i
	}
	seqs := make([]int64, 0, len(pos))
	for s := range pos {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	next := rg.Start
	for _, s := range append(seqs, rg.End) {
		switch {
		case s == next+1:
			r.add(Missing, next, next, "entry %d missing", next)
		case s > next+1:
			r.add(Missing, next, s-1, "entries %d..%d missing", next, s-1)
		}
		next = s + 1
	}

	// Content: recomputed and stored leaf hashes, in Seq order.
	n := len(seqs)
	rec, stored := make([]tlog.Hash, n), make([]tlog.Hash, n)
	for k, s := range seqs {
		en := &b.Entries[pos[s]]
		rec[k], stored[k] = LeafHash(en.Event()), en.LeafHash
	}
	mismatches := func(kind ProblemKind, format string) {
		for k, s := range seqs {
			if rec[k] != stored[k] {
				r.add(kind, s, s, format, s)
			}
		}
	}
	if int64(n) != rg.End-rg.Start {
		mismatches(Changed, "entry %d: leaf hash does not match the entry (body changed?)")
		r.add(Unproven, rg.Start, rg.End-1, "entries %d..%d cannot be checked against the checkpoint while some are missing", rg.Start, rg.End-1)
		return nil
	}
	rootRec, err := rootFromRange(cp.Size, rg.Start, rec, rg.Proof)
	if err != nil {
		return fmt.Errorf("range proof: %v: %w", err, ErrMalformed)
	}
	rootStored, _ := rootFromRange(cp.Size, rg.Start, stored, rg.Proof)
	leaves := rec
	switch {
	case rootStored == cp.Root:
		// The stored hashes are the signed tree: each mismatch is a changed entry.
		mismatches(Changed, "entry %d: leaf hash does not match the log (body changed?)")
		leaves = stored
		for k := range seqs {
			if rec[k] == stored[k] {
				r.Verified++
			}
		}
	case rootRec == cp.Root:
		// The entries are the signed tree; the bundle's leaf hashes are not.
		mismatches(BadLeafHash, "entry %d: the bundle's leaf_hash is wrong (the entry itself matches the log)")
		r.Verified = n
	default:
		mismatches(Changed, "entry %d: leaf hash does not match the entry (body changed?)")
		r.add(Unproven, rg.Start, rg.End-1,
			"entries %d..%d do not hash to the signed checkpoint of size %d: the log or the bundle was rewritten%s",
			rg.Start, rg.End-1, cp.Size, locateHint(rg, others))
	}
	if rg.Start == 0 {
		locate(leaves, others, r)
	}
	return nil
}

func locateHint(rg *Range, others []earlier) string {
	if rg.Start != 0 || len(others) == 0 {
		return " (earlier checkpoints and a full export locate the change)"
	}
	return ""
}

// locate compares the roots of prefixes of leaves (the log from entry 0)
// with earlier signed checkpoints, and reports the smallest interval
// between a matching and a contradicting one: the first rewritten entry is
// in it.
func locate(leaves []tlog.Hash, others []earlier, r *Report) {
	cps := slices.Clone(others)
	slices.SortStableFunc(cps, func(a, b earlier) int { return cmp.Compare(a.Size, b.Size) })
	var p prefixRoots
	good := int64(0)
	for _, c := range cps {
		if c.Size == 0 || c.Size > int64(len(leaves)) {
			continue
		}
		for p.n < c.Size {
			p.add(leaves[p.n])
		}
		root := p.root()
		if root == c.Root {
			good = c.Size
			continue
		}
		why := fmt.Sprintf("%s, signed by %s, has root %s at size %d, but the bundle's first %d entries hash to %s",
			c.label, c.Origin, c.Root, c.Size, c.Size, root)
		if c.Size-good == 1 {
			r.add(Rewritten, good, good, "entry %d: rewritten: %s", good, why)
		} else {
			r.add(Rewritten, good, c.Size-1, "entries %d..%d: the first rewritten entry is among these: %s", good, c.Size-1, why)
		}
		return
	}
}
