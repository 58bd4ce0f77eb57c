// Package leak is leak attribution in a node (docs/trace.md): it marks
// what the originator ingests with fingerprint markup, gives every partner
// a copy of its own of each marked object version, commits to that copy
// in the transparency log in the transaction that records the release,
// traces a leaked document back to the partners whose copies it was made
// from, and writes evidence a partner checks offline.
//
// internal/trace is the cryptography and the code; this package is what a
// node does with them. It keeps its state as store documents: which
// versions are marked, one record per release (to trace) and one opening
// per commitment (secret, for evidence). The node composes a Service from
// its store, its key, a secret derived from it (SecretInfo) and its log's
// selection export; the package never imports the node.
package leak

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"detente"
	"detente/internal/stix"
	"detente/internal/trace"
	"detente/internal/translog"
)

// SecretInfo names the fingerprinting secret, derived from the node key
// (HKDF-SHA-256): every process serving the node derives the same one, and
// a copy of the database alone cannot tell the copies apart.
const SecretInfo = "detente/trace/fingerprint/v1"

// Document kinds (detente.Tx.PutDoc) of leak attribution.
const (
	docMarked  = "leak.marked"  // by version key: the version was ingested with markup
	docRecord  = "leak.record"  // by version key, "|" and a hash of the recipient: one partner's copy
	docOpening = "leak.opening" // by commitment: the nonce of the opening, kept secret until evidence shows it
)

// DocKinds lists the document kinds leak attribution keeps, for audits
// and tests.
var DocKinds = []string{docMarked, docRecord, docOpening}

// MaxEvidence bounds an evidence file read for verification.
const MaxEvidence = 64 << 20

// Config is what a Service needs from its node.
type Config struct {
	// Store holds the marks, records and openings, and the log.
	Store detente.Store
	// Key is the node's signing key: it signs the fingerprinted copies
	// and the evidence.
	Key ed25519.PrivateKey
	// Secret is the fingerprinting secret (at least 32 bytes), derived
	// from the node key for SecretInfo.
	Secret []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger logs what operators should know; nil logs nothing.
	Logger *slog.Logger
	// ExportSelection returns the log entries at seqs, each with its
	// inclusion proof in a freshly signed checkpoint.
	ExportSelection func(ctx context.Context, seqs []int64) (*translog.Bundle, error)
}

// Service is leak attribution for one node. It caches the parsed
// templates of marked versions (they never change). It is safe for
// concurrent use.
type Service struct {
	cfg    Config
	scheme *trace.Scheme
	self   detente.PublicKey

	mu        sync.Mutex
	templates map[string]*trace.Template // by version key
}

// New returns the Service of cfg. It panics when cfg.Secret is shorter
// than trace.MinKeySize: a derived secret never is.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	sc, err := trace.NewScheme(cfg.Secret)
	if err != nil {
		panic("leak: " + err.Error())
	}
	return &Service{cfg: cfg, scheme: sc, self: detente.PublicKey(cfg.Key.Public().(ed25519.PublicKey)),
		templates: map[string]*trace.Template{}}
}

// decode decodes JSON keeping numbers as json.Number, as the STIX
// canonicaliser does, so a re-encoded object keeps its numbers exact.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// versionText is the version a template and its records name.
func versionText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func versionKey(id string, modified time.Time) string {
	return detente.NormalID(id) + "@" + versionText(modified)
}

// recipientHash shortens a recipient's identity for a document id.
func recipientHash(recipient string) string {
	h := sha256.Sum256([]byte(recipient))
	return hex.EncodeToString(h[:12])
}

// record is what the node keeps of one partner's copy (records.go has
// its binary form).
type record struct {
	Partner string
	Seq     int64 // the release event that first carried its commitment
	Record  *trace.Record
}

// Marked reports whether v was ingested with fingerprint markup: its
// local copy holds markup, and every partner gets a copy of its own.
func (s *Service) Marked(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion) (bool, error) {
	if !v.OriginKey().Equal(s.self) {
		return false, nil
	}
	return MarkedIn(ctx, tx, v)
}

// MarkedIn reports whether v was noted as marked (NoteMarked) in tx's
// store, whoever originated it: for the egress policy's graph, which asks
// only about this node's own versions.
func MarkedIn(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion) (bool, error) {
	if !MayHoldMarkup(v.Raw) {
		return false, nil
	}
	_, err := tx.Doc(ctx, docMarked, versionKey(v.ID, v.Modified))
	switch {
	case err == nil:
		return true, nil
	case detente.ErrorCode(err) == detente.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// MayHoldMarkup reports whether raw may hold fingerprint markup
// (docs/trace.md): a cheap test before parsing it as a template.
func MayHoldMarkup(raw []byte) bool {
	return bytes.Contains(raw, []byte("[[")) || bytes.Contains(raw, []byte("{{canary:"))
}

// Display returns v as its recipients see it, less their variations:
// for a marked version, its markup resolved to the first wording and the
// declared canaries (the form Prepare validated at ingest), canonical; for
// any other version, v.Raw. The local copy of a marked version is not
// valid STIX where a canary stands for a timestamp, so whatever checks
// what partners will receive checks this instead.
func (s *Service) Display(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion) ([]byte, error) {
	marked, err := s.Marked(ctx, tx, v)
	if err != nil || !marked {
		return v.Raw, err
	}
	return s.DisplayMarked(v)
}

// DisplayMarked is Display for a version Marked reports marked.
func (s *Service) DisplayMarked(v *detente.ObjectVersion) ([]byte, error) {
	t, err := s.template(v)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(t.Strip())
	if err != nil {
		return nil, fmt.Errorf("marked version %s: %w", v.Key(), err)
	}
	return stix.Canonicalize(raw)
}

// template returns the parsed template of a marked version.
func (s *Service) template(v *detente.ObjectVersion) (*trace.Template, error) {
	k := versionKey(v.ID, v.Modified)
	s.mu.Lock()
	t := s.templates[k]
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	m, err := decode(v.Raw)
	if err != nil {
		return nil, fmt.Errorf("marked version %s: %w", v.Key(), err)
	}
	obj, ok := m.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("marked version %s: not a JSON object", v.Key())
	}
	if t, err = trace.Parse(obj, v.ID, versionText(v.Modified)); err != nil {
		return nil, fmt.Errorf("marked version %s: %w", v.Key(), err)
	}
	s.mu.Lock()
	if len(s.templates) >= maxTemplates {
		clear(s.templates)
	}
	s.templates[k] = t
	s.mu.Unlock()
	return t, nil
}

// maxTemplates bounds the templates cached in memory.
const maxTemplates = 20000

// Copy is one partner's fingerprinted copy of a marked version, not yet
// recorded: Released records it with the release event.
type Copy struct {
	Raw     []byte // the copy as the partner receives it, signed by this node
	Partner string
	key     string // version key
	copy    *trace.Copy
}

// Fingerprint returns partner's copy of the marked version v: one wording
// per position and the partner's canary values, the properties sels
// removed (granular markings), signed by this node with a relay statement
// naming this node and the hash of the local copy, so that a partner
// passing it on does so as a relay (docs/stix.md).
func (s *Service) Fingerprint(v *detente.ObjectVersion, partner string, key detente.PublicKey, sels []string) (*Copy, error) {
	t, err := s.template(v)
	if err != nil {
		return nil, err
	}
	c, err := s.scheme.Fingerprint(t, key.String())
	if err != nil {
		return nil, err
	}
	if exts, ok := c.Object["extensions"].(map[string]any); ok {
		delete(exts, stix.ExtensionID)
		if len(exts) == 0 {
			delete(c.Object, "extensions")
		}
	}
	raw, err := json.Marshal(c.Object)
	if err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", v.Key(), err)
	}
	if len(sels) > 0 {
		if raw, err = stix.Project(raw, sels); err != nil {
			return nil, err
		}
	}
	h := sha256.Sum256(v.Raw)
	signed, err := stix.SignRelayed(raw, s.cfg.Key, v.Grading, stix.Relay{Origin: s.self, SHA256: hex.EncodeToString(h[:])})
	if err != nil {
		return nil, err
	}
	return &Copy{Raw: signed, Partner: partner, key: versionKey(v.ID, v.Modified), copy: c}, nil
}

// Released appends the release event to partner with body (which it
// extends with the commitments of the copies, under trace.EventField)
// and stores each new copy's record and opening, all in tx. A copy
// released to the same partner before keeps its first commitment: the
// copy itself is the same.
func (s *Service) Released(ctx context.Context, tx detente.Tx, partner string, body map[string]any, copies []*Copy) error {
	type bucket struct {
		id   string
		doc  []byte
		recs []*record
		news []*Copy
	}
	buckets := map[string]*bucket{}
	var order []*bucket
	var list []string
	for _, c := range copies {
		recipient := c.copy.Record.Recipient
		id := bucketID(c.key, recipient)
		bk := buckets[id]
		if bk == nil {
			bk = &bucket{id: id}
			raw, err := tx.Doc(ctx, docRecord, id)
			switch {
			case err == nil:
				obj, ver, _ := strings.Cut(c.key, "@")
				if bk.recs, err = parseRecords(raw, obj, ver); err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
				bk.doc = raw
			case detente.ErrorCode(err) == detente.ENOTFOUND:
				bk.doc = []byte{recordFormat}
			default:
				return err
			}
			buckets[id] = bk
			order = append(order, bk)
		}
		if i := slices.IndexFunc(bk.recs, func(r *record) bool { return r.Record.Recipient == recipient }); i >= 0 {
			if cm := bk.recs[i].Record.Commitment.String(); !slices.Contains(list, cm) {
				list = append(list, cm)
			}
			continue
		}
		bk.recs = append(bk.recs, &record{Partner: c.Partner, Record: c.copy.Record})
		bk.news = append(bk.news, c)
		list = append(list, c.copy.Commitment.String())
	}
	if len(list) > 0 {
		body[trace.EventField] = list
	}
	e, err := detente.NewEvent(s.cfg.Now(), detente.EventRelease, partner, body)
	if err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, e); err != nil {
		return err
	}
	for _, bk := range order {
		if len(bk.news) == 0 {
			continue
		}
		for _, c := range bk.news {
			bk.doc = appendRecord(bk.doc, &record{Partner: c.Partner, Seq: e.Seq, Record: c.copy.Record})
			// The opening is rebuilt from the template and the record
			// (trace.Scheme.Reopen): only its nonce is kept.
			nonce, err := openingNonce(c.copy.Opening)
			if err != nil {
				return err
			}
			if err := tx.PutDoc(ctx, docOpening, c.copy.Commitment.String(), nonce, true); err != nil {
				return fmt.Errorf("store fingerprint opening: %w", err)
			}
		}
		if err := tx.PutDoc(ctx, docRecord, bk.id, bk.doc, false); err != nil {
			return fmt.Errorf("store fingerprint records: %w", err)
		}
	}
	return nil
}

// OwnCopy reports whether v, received from a partner, is a fingerprinted
// copy this node made of a version it marked (signed by this node, of a
// marked version it holds): coming back, it is that version, unchanged,
// not a conflicting one.
func (s *Service) OwnCopy(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion) (bool, error) {
	if !v.Signer.Equal(s.self) {
		return false, nil
	}
	stored, err := tx.ObjectVersion(ctx, v.ID, v.Modified)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return s.Marked(ctx, tx, stored)
}

// openingNonce returns the nonce of an opening.
func openingNonce(opening []byte) ([]byte, error) {
	var o struct {
		Nonce []byte `json:"nonce"`
	}
	if err := json.Unmarshal(opening, &o); err != nil || len(o.Nonce) != 32 {
		return nil, fmt.Errorf("fingerprint opening without a nonce: %v", err)
	}
	return o.Nonce, nil
}
