package screen

import (
	"cmp"
	"slices"
	"sync"
	"unicode/utf8"

	"detente"
)

// Hit is one designation found by Search.
type Hit struct {
	Authority string             `json:"authority"`
	EntityID  string             `json:"entity_id"`
	Type      detente.EntityType `json:"type"`
	Regime    string             `json:"regime,omitempty"`
	ListedOn  string             `json:"listed_on,omitempty"`
	// DatesOfBirth and Nationalities are the listed entry's, for the
	// analyst who decides whether the hit is the person screened.
	DatesOfBirth  []string `json:"dates_of_birth,omitempty"`
	Nationalities []string `json:"nationalities,omitempty"`
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
	pool   sync.Pool // *scratch
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

// scratch is the working memory of one search, reused through Index.pool
// so that a query allocates little: per-vocabulary and per-name arrays
// with the lists of entries touched, cleared after use.
type scratch struct {
	cand     []int32 // vocab id → trigram count, or keyHit
	candSeen []int32
	best     []float64 // name id → best similarity for the current token
	bestSeen []int32
	acc      []float64 // name id → accumulated weighted similarity
	accSeen  []int32
	hits     []vocabHit
	buf      []byte
	tris     []string
}

// keyHit marks a vocabulary token retrieved by a whole key (spelling,
// skeleton, consonant key) rather than by trigrams.
const keyHit = 1 << 20

func (ix *Index) getScratch() *scratch {
	if sc, ok := ix.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{
		cand: make([]int32, len(ix.vocab)),
		best: make([]float64, len(ix.names)),
		acc:  make([]float64, len(ix.names)),
	}
}

func (sc *scratch) addCand(v int32, n int32) {
	if sc.cand[v] == 0 {
		sc.candSeen = append(sc.candSeen, v)
	}
	if n == keyHit {
		sc.cand[v] = keyHit
	} else if sc.cand[v] < keyHit {
		sc.cand[v] += n
	}
}

func (ix *Index) addCands(sc *scratch, l []int32) {
	for _, v := range l {
		sc.addCand(v, keyHit)
	}
}

// addTrigrams counts the padded trigrams of a token's spellings against
// the index, each distinct trigram once, so that a token with five
// spellings does not retrieve five times as much.
func (ix *Index) addTrigrams(sc *scratch, q *token) {
	sc.tris = sc.tris[:0]
	for s := -1; s < len(q.alts); s++ {
		text := q.text
		if s >= 0 {
			text = q.alts[s]
		}
		if !isASCII(text) {
			sc.tris = append(sc.tris, trigrams(text)...)
			continue
		}
		b := append(append(append(sc.buf[:0], '^'), text...), '$')
		sc.buf = b
		for i := 0; i+3 <= len(b); i++ {
			sc.tris = append(sc.tris, string(b[i:i+3]))
		}
	}
	slices.Sort(sc.tris)
	sc.tris = slices.Compact(sc.tris)
	for _, g := range sc.tris {
		for _, v := range ix.byTri[g] {
			sc.addCand(v, 1)
		}
	}
}

// similarVocab returns the vocabulary tokens that match q well enough to
// retrieve candidates, in sc.hits.
func (ix *Index) similarVocab(sc *scratch, q *token) []vocabHit {
	if q.abjad {
		q.consonantKeys(func(k string) bool {
			ix.addCands(sc, ix.byCKey[k])
			// Latin vocabulary meets abjads on consonant keys.
			ix.addCands(sc, ix.latCK[k])
			return true
		})
	} else {
		for s := -1; s < len(q.alts); s++ {
			text, skel := q.text, q.skel
			if s >= 0 {
				text, skel = q.alts[s], q.skels[s]
			}
			ix.addCands(sc, ix.byText[text])
			ix.addCands(sc, ix.bySkel[skel])
		}
		ix.addTrigrams(sc, q)
		if q.latin {
			ix.addCands(sc, ix.byCKey[q.ckey])
		} else {
			ix.addCands(sc, ix.byText[q.raw])
		}
	}
	need := int32(max(2, (utf8.RuneCountInString(q.text)+2)/3))
	out := sc.hits[:0]
	for _, v := range sc.candSeen {
		n := sc.cand[v]
		sc.cand[v] = 0
		if n < need {
			continue
		}
		s, _ := tokenSim(q, &ix.vocab[v])
		if s >= 0.7 {
			out = append(out, vocabHit{v, s})
		}
	}
	sc.candSeen = sc.candSeen[:0]
	sc.hits = out
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
	sc := ix.getScratch()
	defer ix.pool.Put(sc)
	var qWeight float64
	for i := range qp.toks {
		qt := &qp.toks[i]
		if qt.weight == 0 {
			continue
		}
		qWeight += qt.weight
		for _, vh := range ix.similarVocab(sc, qt) {
			for _, n := range ix.post[vh.v] {
				if sc.best[n] == 0 {
					sc.bestSeen = append(sc.bestSeen, n)
				}
				if vh.s > sc.best[n] {
					sc.best[n] = vh.s
				}
			}
		}
		for _, n := range sc.bestSeen {
			if sc.acc[n] == 0 {
				sc.accSeen = append(sc.accSeen, n)
			}
			sc.acc[n] += sc.best[n] * qt.weight
			sc.best[n] = 0
		}
		sc.bestSeen = sc.bestSeen[:0]
	}
	type cand struct {
		n int32
		s float64
	}
	var cands []cand
	for _, n := range sc.accSeen {
		if s := sc.acc[n]; qWeight > 0 && s >= 0.4*qWeight {
			cands = append(cands, cand{n, s})
		}
		sc.acc[n] = 0
	}
	sc.accSeen = sc.accSeen[:0]
	if qWeight == 0 {
		return nil
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
	// Score every candidate quietly, keep each designation's best name,
	// then explain only the hits returned.
	type scoredName struct {
		n     int32
		score float64
	}
	best := map[int32]scoredName{}
	for _, c := range cands {
		r := ix.score(q, qp, c.n, th, true)
		in := &ix.names[c.n]
		if b, ok := best[in.desig]; ok && b.score >= r.Score {
			continue
		}
		best[in.desig] = scoredName{c.n, r.Score}
	}
	top := make([]scoredName, 0, len(best))
	for _, b := range best {
		top = append(top, b)
	}
	slices.SortFunc(top, func(a, b scoredName) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(ix.names[a.n].desig, ix.names[b.n].desig)
	})
	if len(top) > limit {
		top = top[:limit]
	}
	hits := make([]Hit, len(top))
	for i, t := range top {
		in := &ix.names[t.n]
		d := &ix.ds[in.desig]
		r := ix.score(q, qp, t.n, th, false)
		explain(&r)
		hits[i] = Hit{
			Authority: d.Authority, EntityID: d.EntityID, Type: d.Type, Regime: d.Regime, ListedOn: d.ListedOn,
			DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities,
			Name: d.Names[in.name].Name, NameKind: d.Names[in.name].Kind,
			Score: r.Score, Match: r.Match, Result: r, Designation: int(in.desig),
		}
	}
	return hits
}

// score compares the query with indexed name n and decides the match at
// threshold th; a quiet score leaves out the alignment and evidence.
func (ix *Index) score(q Query, qp parsed, n int32, th float64, quiet bool) Result {
	in := &ix.names[n]
	d := &ix.ds[in.desig]
	r := compareNames(qp, in.p, classOf(q.Type, d.Type), quiet)
	applyEvidence(&r, q.Type, d.Type, q.DatesOfBirth, d.DatesOfBirth, q.Nationalities, d.Nationalities, quiet)
	if in.weak && r.Score > th-0.01 && r.NameScore < 1 {
		// A weak alias is too broad to alert on unless it is exact.
		if !quiet {
			r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "weak alias matched inexactly", Adjustment: -0.1})
		}
		r.Score = clamp(r.Score - 0.1)
	}
	decide(&r, th)
	return r
}
