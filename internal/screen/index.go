package screen

import (
	"cmp"
	"slices"

	"detente"
)

// Hit is one designation found by Search.
type Hit struct {
	Authority string             `json:"authority"`
	EntityID  string             `json:"entity_id"`
	Type      detente.EntityType `json:"type"`
	Regime    string             `json:"regime,omitempty"`
	ListedOn  string             `json:"listed_on,omitempty"`
	// Name is the listed name or alias that matched best, and NameKind its
	// kind (primary, alias, weak-alias, original-script).
	Name     string  `json:"name"`
	NameKind string  `json:"name_kind"`
	Score    float64 `json:"score"`
	Match    bool    `json:"match"`
	// Result explains the score.
	Result Result `json:"result"`
	// Designation is the index of the designation in the slice the index
	// was built from.
	Designation int `json:"-"`
}

// indexedName is one name of one designation, tokenised.
type indexedName struct {
	desig int32
	name  int32
	p     parsed
	weak  bool
}

// Index is an in-memory index of designations for screening. It is
// immutable once built and safe for concurrent use; rebuild it with
// NewIndex when the lists change.
type Index struct {
	ds     []detente.Designation
	names  []indexedName
	vocab  []token
	post   [][]int32 // vocab id → name ids
	byText map[string][]int32
	bySkel map[string][]int32
	byCKey map[string][]int32 // consonant keys of Arabic-script tokens
	latCK  map[string][]int32 // consonant keys of Latin tokens
	byTri  map[string][]int32
	// Threshold is the score from which hits are matches.
	Threshold float64
}

// NewIndex indexes every name of every designation in ds. Weak aliases are
// indexed but a hit on a weak alias alone is reported with its kind so that
// the caller can discount it.
func NewIndex(ds []detente.Designation) *Index {
	ix := &Index{
		ds:        ds,
		byText:    map[string][]int32{},
		bySkel:    map[string][]int32{},
		byCKey:    map[string][]int32{},
		latCK:     map[string][]int32{},
		byTri:     map[string][]int32{},
		Threshold: DefaultThreshold,
	}
	vocabID := map[string]int32{}
	for di := range ds {
		for ni, n := range ds[di].Names {
			p := parse(n.Name)
			if len(p.toks) == 0 {
				continue
			}
			id := int32(len(ix.names))
			ix.names = append(ix.names, indexedName{desig: int32(di), name: int32(ni), p: p, weak: n.Kind == detente.NameKindWeakAlias})
			for _, t := range p.toks {
				if t.weight == 0 {
					continue
				}
				key := t.text
				if t.abjad {
					key = "\x00" + t.raw
				}
				v, ok := vocabID[key]
				if !ok {
					v = int32(len(ix.vocab))
					vocabID[key] = v
					ix.vocab = append(ix.vocab, t)
					ix.post = append(ix.post, nil)
					ix.addVocab(v, &t)
				}
				if l := ix.post[v]; len(l) == 0 || l[len(l)-1] != id {
					ix.post[v] = append(l, id)
				}
			}
		}
	}
	return ix
}

func (ix *Index) addVocab(v int32, t *token) {
	if t.abjad {
		t.consonantKeys(func(k string) bool {
			if k != "" {
				ix.byCKey[k] = appendOnce(ix.byCKey[k], v)
			}
			return true
		})
		return
	}
	t.spellings(func(text, skel string) bool {
		ix.byText[text] = appendOnce(ix.byText[text], v)
		if skel != "" {
			ix.bySkel[skel] = appendOnce(ix.bySkel[skel], v)
		}
		for _, g := range trigrams(text) {
			ix.byTri[g] = appendOnce(ix.byTri[g], v)
		}
		return true
	})
	if !t.latin {
		ix.byText[t.raw] = appendOnce(ix.byText[t.raw], v)
	} else if len(t.ckey) >= 2 {
		ix.latCK[t.ckey] = appendOnce(ix.latCK[t.ckey], v)
	}
}

func appendOnce(l []int32, v int32) []int32 {
	if len(l) > 0 && l[len(l)-1] == v {
		return l
	}
	return append(l, v)
}

// trigrams returns the padded character trigrams of s.
func trigrams(s string) []string {
	rs := []rune("^" + s + "$")
	if len(rs) < 3 {
		return nil
	}
	out := make([]string, 0, len(rs)-2)
	for i := 0; i+3 <= len(rs); i++ {
		out = append(out, string(rs[i:i+3]))
	}
	return out
}

// Len returns the number of designations indexed.
func (ix *Index) Len() int { return len(ix.ds) }

// Designations returns the designations the index was built from.
func (ix *Index) Designations() []detente.Designation { return ix.ds }

type vocabHit struct {
	v int32
	s float64
}

// similarVocab returns the vocabulary tokens that match q well enough to
// retrieve candidates.
func (ix *Index) similarVocab(q *token) []vocabHit {
	cand := map[int32]int{}
	if q.abjad {
		q.consonantKeys(func(k string) bool {
			for _, v := range ix.byCKey[k] {
				cand[v] = 99
			}
			// Latin vocabulary meets abjads on consonant keys.
			for _, v := range ix.latCK[k] {
				cand[v] = 99
			}
			return true
		})
	} else {
		q.spellings(func(text, skel string) bool {
			for _, v := range ix.byText[text] {
				cand[v] = 99
			}
			for _, v := range ix.bySkel[skel] {
				cand[v] = 99
			}
			for _, g := range trigrams(text) {
				for _, v := range ix.byTri[g] {
					cand[v]++
				}
			}
			return true
		})
		if q.latin {
			for _, v := range ix.byCKey[q.ckey] {
				cand[v] = 99
			}
		} else {
			for _, v := range ix.byText[q.raw] {
				cand[v] = 99
			}
		}
	}
	need := max(2, (len([]rune(q.text))+2)/3)
	var out []vocabHit
	for v, n := range cand {
		if n < need {
			continue
		}
		s, _ := tokenSim(q, &ix.vocab[v])
		if s >= 0.7 {
			out = append(out, vocabHit{v, s})
		}
	}
	return out
}

// maxCandidates bounds how many names Search scores in full.
const maxCandidates = 150

// Search screens q against the index and returns at most limit hits, best
// first, one per designation; q.Threshold, when set, replaces the index's
// Threshold. Hits below the threshold are included when
// there are fewer than limit matches, so that near misses can be shown;
// check Hit.Match.
func (ix *Index) Search(q Query, limit int) []Hit {
	if limit <= 0 {
		limit = 10
	}
	th := q.threshold(ix.Threshold)
	qp := parse(q.Name)
	var qWeight float64
	acc := map[int32]float64{}
	for i := range qp.toks {
		qt := &qp.toks[i]
		if qt.weight == 0 {
			continue
		}
		qWeight += qt.weight
		best := map[int32]float64{}
		for _, vh := range ix.similarVocab(qt) {
			for _, n := range ix.post[vh.v] {
				if vh.s > best[n] {
					best[n] = vh.s
				}
			}
		}
		for n, s := range best {
			acc[n] += s * qt.weight
		}
	}
	if qWeight == 0 {
		return nil
	}
	type cand struct {
		n int32
		s float64
	}
	cands := make([]cand, 0, len(acc))
	for n, s := range acc {
		if s >= 0.4*qWeight {
			cands = append(cands, cand{n, s})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.s, a.s); c != 0 {
			return c
		}
		return cmp.Compare(a.n, b.n)
	})
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	best := map[int32]Hit{}
	for _, c := range cands {
		in := &ix.names[c.n]
		d := &ix.ds[in.desig]
		r := compareNames(qp, in.p, classOf(q.Type, d.Type))
		applyEvidence(&r, q.Type, d.Type, q.DatesOfBirth, d.DatesOfBirth, q.Nationalities, d.Nationalities)
		if in.weak && r.Score > th-0.01 && r.NameScore < 1 {
			// A weak alias is too broad to alert on unless it is exact.
			r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "weak alias matched inexactly", Adjustment: -0.1})
			r.Score = clamp(r.Score - 0.1)
		}
		finish(&r, th)
		if h, ok := best[in.desig]; ok && h.Score >= r.Score {
			continue
		}
		best[in.desig] = Hit{
			Authority: d.Authority, EntityID: d.EntityID, Type: d.Type, Regime: d.Regime, ListedOn: d.ListedOn,
			Name: d.Names[in.name].Name, NameKind: d.Names[in.name].Kind,
			Score: r.Score, Match: r.Match, Result: r, Designation: int(in.desig),
		}
	}
	hits := make([]Hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Designation, b.Designation)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}
