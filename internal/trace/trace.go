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
func (s *Scheme) Trace(cands []Candidate, leaked ...[]byte) (*Result, error) {
	if len(leaked) == 0 {
		return nil, errors.New("trace: no leaked document")
	}
	eps := s.epsilon()
	if !(eps > 0 && eps < 1) {
		return nil, fmt.Errorf("trace: epsilon %v is not in (0, 1)", eps)
	}
	h := newHaystack(leaked)
	res := &Result{Epsilon: eps, leaked: leaked}
	seen := map[[2]string]bool{}
	for i := range cands {
		c := &cands[i]
		t := c.Template
		if t == nil {
			return nil, fmt.Errorf("trace: candidate %d has no template", i)
		}
		if k := [2]string{t.id, t.version}; seen[k] {
			continue
		} else {
			seen[k] = true
		}
		if hit := extractObject(t, h); hit != nil {
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

// term is one observed position in one recipient's copy.
type term struct {
	pos   Position
	p     float64 // bias of the observed symbol
	match bool    // the recipient holds it
}

// tally is what a leak says of one recipient, before judging.
type tally struct {
	terms    []term
	canaries []string        // its own labels found
	labels   map[string]bool // every label found in front of its canaries' domains
}

func (s *Scheme) score(res *Result) error {
	tallies := map[string]*tally{}
	get := func(r string) *tally {
		if tallies[r] == nil {
			tallies[r] = &tally{labels: map[string]bool{}}
		}
		return tallies[r]
	}
	for _, hit := range res.hits {
		t := hit.cand.Template
		om := ObjectMatch{Object: t.id, Version: t.version}
		for i, m := range t.marks {
			switch {
			case m.Kind == KindSubdomain:
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
			if err := checkRecord(rec, t); err != nil {
				return fmt.Errorf("trace: %w", err)
			}
			lay := t.layout(s, rec.Cutoff)
			ta := get(rec.Recipient)
			li := 0
			for i, m := range t.marks {
				if m.Kind == KindSubdomain {
					label := rec.Labels[li]
					li++
					for _, l := range hit.labels[i] {
						ta.labels[l] = true
					}
					if slices.Contains(hit.labels[i], label) && uniqueLabel(hit.cand.Records, li-1, label) {
						ta.canaries = append(ta.canaries, label+"."+m.Domain)
					}
					continue
				}
				if hit.state[i] != observed {
					continue
				}
				y := hit.sym[i]
				ta.terms = append(ta.terms, term{lay.pos[i], lay.bias[i][y], int(rec.Symbols[i]) == y})
			}
		}
	}
	res.Recipients = len(tallies)
	for r, ta := range tallies {
		res.Scores = append(res.Scores, assess(r, ta, res.Recipients, len(ta.labels), res.Epsilon))
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

// checkRecord checks that rec is a release of t.
func checkRecord(rec *Record, t *Template) error {
	subs := 0
	for _, m := range t.marks {
		if m.Kind == KindSubdomain {
			subs++
		}
	}
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

// assess scores one recipient and bounds the probability of a false
// accusation: n recipients were scored, labels distinct canary labels
// were found in the leak, eps is the threshold.
func assess(recipient string, ta *tally, n, labels int, eps float64) Score {
	ts := slices.Clone(ta.terms)
	slices.SortFunc(ts, func(a, b term) int { return cmp.Compare(a.pos, b.pos) })
	sc := Score{Recipient: recipient, Positions: len(ts), Canaries: ta.canaries}
	ps := make([]float64, len(ts))
	for i, t := range ts {
		ps[i] = t.p
		if t.match {
			sc.Score += scoreMatch(t.p)
			sc.Matches++
		} else {
			sc.Score += scoreMiss(t.p)
		}
	}
	l := newLaw(ps)
	logN := math.Log(float64(max(n, 1)))
	if z := l.threshold(logN - math.Log(eps)); !math.IsInf(z, 1) {
		sc.Threshold = &z
	}
	logB := l.logBound(sc.Score) + logN
	if len(ta.canaries) > 0 {
		logB = min(logB, logN+math.Log(float64(max(labels, 1)))-labelBits*math.Ln2)
	}
	logB = min(logB, 0)
	sc.Log10Bound = logB / math.Ln10
	sc.FalseAccusationBound = math.Exp(logB)
	sc.Accused = logB <= math.Log(eps)
	return sc
}
