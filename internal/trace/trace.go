package trace

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Candidate is one released object version a leak may come from: its
// local marked copy, parsed, and the records of its releases.
type Candidate struct {
	Template *Template
	Records  []*Record // one per recipient; others are ignored
}

// Result is what Trace found.
type Result struct {
	Epsilon    float64       `json:"epsilon"`    // the accusation threshold used
	Recipients int           `json:"recipients"` // recipients scored: the N of the union bound
	Objects    []ObjectMatch `json:"objects"`    // the released object versions found in the leak
	// Scores has every recipient of those object versions, the most
	// suspect first; Suspects those of them accused.
	Scores   []Score `json:"scores"`
	Suspects []Score `json:"suspects"`

	leaked [][]byte
	hits   []*objectHit
}

// ObjectMatch is one released object version found in a leak.
type ObjectMatch struct {
	Object    string   `json:"object"`
	Version   string   `json:"version"`
	Positions int      `json:"positions"`          // positions of the code in the object (marks other than subdomain canaries)
	Observed  int      `json:"observed"`           // of which the leak shows exactly one symbol
	Ambiguous int      `json:"ambiguous"`          // of which it shows several (merged copies)
	Canaries  []string `json:"canaries,omitempty"` // subdomain canaries found, as label.domain
}

// Score is what a leak says of one recipient.
type Score struct {
	Recipient string  `json:"recipient"`
	Score     float64 `json:"score"`     // symmetric Tardos score over the observed positions of its copies
	Positions int     `json:"positions"` // observed positions in its copies
	Matches   int     `json:"matches"`   // of which it holds the observed symbol
	// Threshold is the score at which the code alone accuses it: where
	// the bound below reaches Epsilon; nil when these positions cannot
	// reach it at all (too few).
	Threshold *float64 `json:"threshold"`
	Canaries  []string `json:"canaries,omitempty"` // its own subdomain canaries found in the leak
	// FalseAccusationBound bounds the probability that any innocent
	// recipient among the Recipients scored would look at least this
	// guilty: the smaller of the code's bound (Recipients times the
	// Chernoff bound on an innocent's score, see law) and, when its
	// canary subdomains are in the leak, the canaries' bound (Recipients
	// times the distinct labels found in front of its canaries' domains
	// times 2⁻⁵⁰: the chance of writing an innocent's label without
	// holding it). Log10Bound is its decimal
	// logarithm, which stays exact where the bound underflows to 0.
	FalseAccusationBound float64 `json:"false_accusation_bound"`
	Log10Bound           float64 `json:"log10_false_accusation_bound"`
	Accused              bool    `json:"accused"` // FalseAccusationBound ≤ Epsilon
}

// Releases returns the records of recipient's releases of the object
// versions found in the leak: those whose commitments, openings and
// release events Evidence needs.
func (res *Result) Releases(recipient string) []*Record {
	var out []*Record
	for _, hit := range res.hits {
		for _, rec := range hit.cand.Records {
			if rec != nil && rec.Recipient == recipient {
				out = append(out, rec)
				break
			}
		}
	}
	return out
}

// objectHit is what extraction found in one candidate.
type objectHit struct {
	cand   *Candidate
	sym    []int        // observed symbol per mark, −1 if none
	state  []matchState // per mark
	labels [][]string   // subdomain canaries: labels found per mark
}

// Trace reads the leaked documents (STIX objects or bundles in any JSON
// form, or plain text: see the package documentation) against the
// candidate releases, scores every recipient of the object versions
// found in them and accuses those whose false-accusation bound is at most
// Epsilon. Several documents are read together: their positions add up,
// and a position they show different symbols at counts for nobody.
// Candidates of the same object version are merged.
func (s *Scheme) Trace(cands []Candidate, leaked ...[]byte) (*Result, error) {
	return s.TraceLoading(cands, nil, leaked...)
}

// TraceLoading is Trace for callers that keep records apart from
// templates: load, when set, is called once for each candidate object
// version the leak shows, and returns its records (added to the
// candidate's). Only the records of what the leak shows are read.
func (s *Scheme) TraceLoading(cands []Candidate, load func(*Template) ([]*Record, error), leaked ...[]byte) (*Result, error) {
	if len(leaked) == 0 {
		return nil, errors.New("trace: no leaked document")
	}
	eps := s.epsilon()
	if !(eps > 0 && eps < 1) {
		return nil, fmt.Errorf("trace: epsilon %v is not in (0, 1)", eps)
	}
	h := newHaystack(leaked)
	res := &Result{Epsilon: eps, leaked: leaked}
	// One candidate per object version: the records of repeated ones join
	// the first.
	var merged []*Candidate
	byVersion := map[[2]string]*Candidate{}
	for i := range cands {
		c := &cands[i]
		t := c.Template
		if t == nil {
			return nil, fmt.Errorf("trace: candidate %d has no template", i)
		}
		k := [2]string{t.id, t.version}
		if m := byVersion[k]; m != nil {
			m.Records = append(m.Records, c.Records...)
			continue
		}
		m := &Candidate{Template: t, Records: slices.Clone(c.Records)}
		byVersion[k] = m
		merged = append(merged, m)
	}
	for _, c := range merged {
		if hit := extractObject(c.Template, h); hit != nil {
			if load != nil {
				recs, err := load(c.Template)
				if err != nil {
					return nil, fmt.Errorf("trace: records of %s@%s: %w", c.Template.id, c.Template.version, err)
				}
				c.Records = append(c.Records, recs...)
			}
			hit.cand = c
			res.hits = append(res.hits, hit)
		}
	}
	if err := s.score(res); err != nil {
		return nil, err
	}
	return res, nil
}

// extractObject reads every mark of t in h; nil when none is found.
func extractObject(t *Template, h *haystack) *objectHit {
	hit := &objectHit{sym: make([]int, len(t.marks)), state: make([]matchState, len(t.marks)), labels: make([][]string, len(t.marks))}
	any := false
	for i, d := range t.desc {
		hit.sym[i] = -1
		if d.kind == KindSubdomain {
			hit.labels[i] = d.labels(h)
			any = any || len(hit.labels[i]) > 0
			continue
		}
		hit.sym[i], hit.state[i] = d.match(h)
		any = any || hit.state[i] != unobserved
	}
	if !any {
		return nil
	}
	return hit
}

// tally is what a leak says of one recipient, before judging.
type tally struct {
	score              float64
	positions, matches int
	parts              []partKey       // the releases its law is made of, in order
	partsHash          uint64          // a hash of parts
	canaries           []string        // its own labels found
	labels             map[string]bool // every label found in front of its canaries' domains
}

// add adds the term of one observed position whose symbol has bias p.
func (ta *tally) add(p float64, match bool) {
	ta.positions++
	if match {
		ta.score += scoreMatch(p)
		ta.matches++
	} else {
		ta.score += scoreMiss(p)
	}
}

// partKey names the observed positions of one release: those of the
// hit-th object version found, under one cutoff.
type partKey struct {
	hit    int
	cutoff uint64 // math.Float64bits
}

// judged is a law with its accusation threshold, shared by every
// recipient of the same releases.
type judged struct {
	parts     []partKey
	l         *law
	threshold float64
}

func (s *Scheme) score(res *Result) error {
	tallies := map[string]*tally{}
	parts := map[partKey][]float64{} // biases of the observed symbols of each release
	for hi, hit := range res.hits {
		t := hit.cand.Template
		om := ObjectMatch{Object: t.id, Version: t.version}
		subs := 0
		for i, m := range t.marks {
			switch {
			case m.Kind == KindSubdomain:
				subs++
				for _, l := range hit.labels[i] {
					om.Canaries = append(om.Canaries, l+"."+m.Domain)
				}
				continue
			case hit.state[i] == observed:
				om.Observed++
			case hit.state[i] == ambiguous:
				om.Ambiguous++
			}
			om.Positions++
		}
		res.Objects = append(res.Objects, om)
		done := map[string]bool{}
		for _, rec := range hit.cand.Records {
			if rec == nil || done[rec.Recipient] {
				continue
			}
			done[rec.Recipient] = true
			if err := checkRecord(rec, t, subs); err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			lay := t.layout(s, rec.Cutoff)
			ta := tallies[rec.Recipient]
			if ta == nil {
				ta = &tally{labels: map[string]bool{}}
				tallies[rec.Recipient] = ta
			}
			key := partKey{hi, math.Float64bits(rec.Cutoff)}
			ta.parts = append(ta.parts, key)
			ta.partsHash = (ta.partsHash^uint64(hi+1)^key.cutoff<<1)*0x100000001b3 + 0x9e3779b97f4a7c15
			_, known := parts[key]
			var ps []float64
			li := 0
			for i, m := range t.marks {
				if m.Kind == KindSubdomain {
					label := rec.Labels[li]
					for _, l := range hit.labels[i] {
						ta.labels[l] = true
					}
					if slices.Contains(hit.labels[i], label) && uniqueLabel(hit.cand.Records, li, label) {
						ta.canaries = append(ta.canaries, label+"."+m.Domain)
					}
					li++
					continue
				}
				if hit.state[i] != observed {
					continue
				}
				y := hit.sym[i]
				p := lay.bias[i][y]
				ta.add(p, int(rec.Symbols[i]) == y)
				if !known {
					ps = append(ps, p)
				}
			}
			if !known {
				parts[key] = ps
			}
		}
	}
	res.Recipients = len(tallies)
	logNE := math.Log(float64(max(res.Recipients, 1))) - math.Log(res.Epsilon)
	laws := map[uint64][]*judged{}
	for r, ta := range tallies {
		var j *judged
		for _, c := range laws[ta.partsHash] {
			if slices.Equal(c.parts, ta.parts) {
				j = c
			}
		}
		if j == nil {
			var ps []float64
			for _, k := range ta.parts {
				ps = append(ps, parts[k]...)
			}
			l := newLaw(ps)
			j = &judged{ta.parts, l, l.threshold(logNE)}
			laws[ta.partsHash] = append(laws[ta.partsHash], j)
		}
		res.Scores = append(res.Scores, assess(r, ta, j, res.Recipients, res.Epsilon))
	}
	slices.SortFunc(res.Scores, compareScores)
	for _, sc := range res.Scores {
		if sc.Accused {
			res.Suspects = append(res.Suspects, sc)
		}
	}
	return nil
}

// compareScores orders the most suspect first.
func compareScores(a, b Score) int {
	return cmp.Or(cmp.Compare(a.Log10Bound, b.Log10Bound), cmp.Compare(b.Score, a.Score), cmp.Compare(a.Recipient, b.Recipient))
}

// uniqueLabel reports whether label, the k-th subdomain label of a
// release, belongs to no other recipient of the same object version (a
// collision of 50-bit labels, which would name nobody for sure).
func uniqueLabel(recs []*Record, k int, label string) bool {
	n := 0
	for _, r := range recs {
		if r != nil && k < len(r.Labels) && r.Labels[k] == label {
			n++
		}
	}
	return n == 1
}

// checkRecord checks that rec is a release of t, which has subs
// subdomain canaries.
func checkRecord(rec *Record, t *Template, subs int) error {
	switch {
	case rec.Object != t.id || rec.Version != t.version:
		return fmt.Errorf("record of %s@%s given for %s@%s", rec.Object, rec.Version, t.id, t.version)
	case len(rec.Symbols) != len(t.marks) || len(rec.Labels) != subs:
		return fmt.Errorf("record of %s@%s for %s does not fit the template's %d marks", rec.Object, rec.Version, rec.Recipient, len(t.marks))
	case checkCutoff(rec.Cutoff) != nil:
		return fmt.Errorf("record of %s@%s for %s: %w", rec.Object, rec.Version, rec.Recipient, checkCutoff(rec.Cutoff))
	}
	for i, m := range t.marks {
		if q := m.Symbols(); q > 0 && int(rec.Symbols[i]) >= q {
			return fmt.Errorf("record of %s@%s for %s: symbol %d out of range at mark %d", rec.Object, rec.Version, rec.Recipient, rec.Symbols[i], i)
		}
	}
	return nil
}

// labelBits is the entropy of a subdomain canary's label.
const labelBits = 5 * labelLen

// assess judges one recipient: j is the law of an innocent's score over
// its observed positions, with its threshold; n recipients were scored;
// eps is the accusation threshold.
func assess(recipient string, ta *tally, j *judged, n int, eps float64) Score {
	sc := Score{Recipient: recipient, Score: ta.score, Positions: ta.positions, Matches: ta.matches, Canaries: ta.canaries}
	logN := math.Log(float64(max(n, 1)))
	if !math.IsInf(j.threshold, 1) {
		z := j.threshold
		sc.Threshold = &z
	}
	logB := j.l.logBound(sc.Score) + logN
	if len(ta.canaries) > 0 {
		logB = min(logB, logN+math.Log(float64(max(len(ta.labels), 1)))-labelBits*math.Ln2)
	}
	logB = min(logB, 0)
	sc.Log10Bound = logB / math.Ln10
	sc.FalseAccusationBound = math.Exp(logB)
	sc.Accused = logB <= math.Log(eps)
	return sc
}
