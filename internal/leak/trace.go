package leak

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"detente"
	"detente/internal/trace"
)

// Result is a trace: what internal/trace found, with the partners the
// recipients are.
type Result struct {
	*trace.Result
	// Suspects are the accused recipients, the most suspect first; Scores
	// every recipient scored. Each names its partner.
	Suspects []Suspect `json:"suspects"`
	Scores   []Suspect `json:"scores"`

	seqs      map[trace.Commitment]int64
	templates map[string]*trace.Template // of the versions found, by version key
}

// Suspect is one recipient's score with the partner it is.
type Suspect struct {
	Partner string `json:"partner"`
	trace.Score
}

// MarshalJSON writes the result with partner names.
func (r *Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Epsilon    float64             `json:"epsilon"`
		Recipients int                 `json:"recipients"`
		Objects    []trace.ObjectMatch `json:"objects"`
		Suspects   []Suspect           `json:"suspects"`
		Scores     []Suspect           `json:"scores"`
	}{r.Epsilon, r.Recipients, nonNil(r.Objects), r.Suspects, r.Scores})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Trace reads the leaked documents (STIX objects or bundles in any JSON
// form, or plain text) against every marked version this node released,
// and scores the partners who received copies of the versions found.
func (s *Service) Trace(ctx context.Context, leaked ...[]byte) (*Result, error) {
	if len(leaked) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "nothing to trace: give the leaked document")
	}
	total := 0
	for _, l := range leaked {
		total += len(l)
	}
	if total > trace.MaxLeak {
		return nil, detente.Errorf(detente.EINVALID, "the leaked documents hold %d bytes: at most %d are traced", total, trace.MaxLeak)
	}
	var (
		cands   []trace.Candidate
		toParse []*detente.ObjectVersion // marked versions whose templates are not in memory
		at      []int                    // their candidates
	)
	err := s.cfg.Store.View(ctx, func(tx detente.Tx) error {
		cands, toParse, at = cands[:0], toParse[:0], at[:0]
		docs, err := tx.Docs(ctx, docMarked, "", 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			var m struct{ ID, Modified string }
			if err := json.Unmarshal(d.Body, &m); err != nil {
				return fmt.Errorf("marked version %s: %w", d.ID, err)
			}
			mod, err := time.Parse(time.RFC3339Nano, m.Modified)
			if err != nil {
				return fmt.Errorf("marked version %s: %w", d.ID, err)
			}
			t := s.cached(d.ID)
			if t == nil {
				v, err := tx.ObjectVersion(ctx, m.ID, mod)
				if detente.ErrorCode(err) == detente.ENOTFOUND {
					continue
				} else if err != nil {
					return err
				}
				toParse, at = append(toParse, v), append(at, len(cands))
			}
			cands = append(cands, trace.Candidate{Template: t})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	// Parsing the templates is most of a cold trace: on every core.
	errs := make([]error, len(toParse))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(toParse))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(toParse); i += workers {
				cands[at[i]].Template, errs[i] = s.template(toParse[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	byKey := make(map[string]*trace.Template, len(cands))
	for _, c := range cands {
		byKey[detente.NormalID(c.Template.ID())+"@"+c.Template.Version()] = c.Template
	}
	// Only the records of the versions the leak shows are read.
	partners := map[string]string{}
	seqs := map[trace.Commitment]int64{}
	var res *trace.Result
	err = s.cfg.Store.View(ctx, func(tx detente.Tx) error {
		clear(partners)
		clear(seqs)
		load := func(t *trace.Template) ([]*trace.Record, error) {
			docs, err := tx.Docs(ctx, docRecord, detente.NormalID(t.ID())+"@"+t.Version()+"|", 0)
			if err != nil {
				return nil, err
			}
			var out []*trace.Record
			for _, d := range docs {
				recs, err := parseRecords(d.Body, t.ID(), t.Version())
				if err != nil {
					return nil, fmt.Errorf("%s: %w", d.ID, err)
				}
				for _, r := range recs {
					out = append(out, r.Record)
					partners[r.Record.Recipient] = r.Partner
					seqs[r.Record.Commitment] = r.Seq
				}
			}
			return out, nil
		}
		var err error
		res, err = s.scheme.TraceLoading(cands, load, leaked...)
		return err
	})
	if err != nil {
		return nil, err // the library's errors say "trace: " already
	}
	out := &Result{Result: res, seqs: seqs, Suspects: []Suspect{}, Scores: []Suspect{}, templates: map[string]*trace.Template{}}
	for _, o := range res.Objects {
		k := detente.NormalID(o.Object) + "@" + o.Version
		out.templates[k] = byKey[k]
	}
	for _, sc := range res.Suspects {
		out.Suspects = append(out.Suspects, Suspect{Partner: partners[sc.Recipient], Score: sc})
	}
	for _, sc := range res.Scores {
		out.Scores = append(out.Scores, Suspect{Partner: partners[sc.Recipient], Score: sc})
	}
	return out, nil
}

// cached returns the template of a version key if it is in memory.
func (s *Service) cached(k string) *trace.Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.templates[k]
}

// Evidence writes the evidence of res about the given partners (its
// suspects when none are given): their copies' openings and commitments,
// the release events carrying the commitments with their inclusion proofs
// in a freshly signed checkpoint, the observed symbols and their scores,
// signed by the node (docs/trace.md). It is JSON that Verify checks.
func (s *Service) Evidence(ctx context.Context, res *Result, partners ...string) ([]byte, error) {
	var recipients []string
	if len(partners) == 0 {
		for _, sc := range res.Suspects {
			recipients = append(recipients, sc.Recipient)
		}
		if len(recipients) == 0 {
			return nil, detente.Errorf(detente.EINVALID, "the trace accuses nobody: name the partners the evidence is for")
		}
	}
	for _, p := range partners {
		i := slices.IndexFunc(res.Scores, func(sc Suspect) bool { return sc.Partner == p })
		if i < 0 {
			return nil, detente.Errorf(detente.EINVALID, "partner %s received no copy of what the leak shows: no evidence about it", p)
		}
		recipients = append(recipients, res.Scores[i].Recipient)
	}
	var seqs []int64
	for _, r := range recipients {
		for _, rec := range res.Releases(r) {
			if seq, ok := res.seqs[rec.Commitment]; ok && !slices.Contains(seqs, seq) {
				seqs = append(seqs, seq)
			}
		}
	}
	slices.Sort(seqs)
	if len(seqs) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "no release of what the leak shows to %s", strings.Join(partners, ", "))
	}
	log, err := s.cfg.ExportSelection(ctx, seqs)
	if err != nil {
		return nil, err
	}
	records := map[trace.Commitment]*trace.Record{}
	for _, r := range recipients {
		for _, rec := range res.Releases(r) {
			records[rec.Commitment] = rec
		}
	}
	openings := func(c trace.Commitment) ([]byte, error) {
		rec := records[c]
		if rec == nil {
			return nil, fmt.Errorf("no record of commitment %s", c)
		}
		t := res.templates[detente.NormalID(rec.Object)+"@"+rec.Version]
		if t == nil {
			return nil, fmt.Errorf("the template of %s@%s is not loaded", rec.Object, rec.Version)
		}
		var nonce []byte
		err := s.cfg.Store.View(ctx, func(tx detente.Tx) (err error) { nonce, err = tx.Doc(ctx, docOpening, c.String()); return })
		if err != nil {
			return nil, err
		}
		return s.scheme.Reopen(t, rec, nonce)
	}
	ev, err := res.Evidence(recipients, openings, log, s.cfg.Key)
	if err != nil {
		return nil, err
	}
	return ev.Marshal()
}

// Verify checks evidence offline against the key of the node that wrote
// it (trace.VerifyEvidence): it needs nothing else. Evidence that does not
// hold is an EINVALID error saying why.
func Verify(data []byte, key detente.PublicKey) (*trace.EvidenceReport, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, detente.Errorf(detente.EINVALID, "not an Ed25519 node key")
	}
	if len(data) > MaxEvidence {
		return nil, detente.Errorf(detente.EINVALID, "evidence of %d bytes: at most %d are read", len(data), MaxEvidence)
	}
	rep, err := trace.VerifyEvidence(data, ed25519.PublicKey(key))
	if err != nil {
		if errors.Is(err, trace.ErrEvidence) {
			return nil, detente.Errorf(detente.EINVALID, "%v", err)
		}
		return nil, detente.Errorf(detente.EINVALID, "evidence does not verify: %v", err)
	}
	return rep, nil
}
