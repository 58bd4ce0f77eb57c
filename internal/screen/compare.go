package screen

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"detente"
)

// DefaultThreshold is the score from which Compare and Search report a match.
const DefaultThreshold = 0.82

// Query is a name to screen or compare, with the evidence that comes with it.
// Only Name is required.
type Query struct {
	// Name is the full name in any script.
	Name string `json:"name"`
	// Type is the kind of entity, when known.
	Type detente.EntityType `json:"type,omitempty"`
	// DatesOfBirth are YYYY, YYYY-MM or YYYY-MM-DD.
	DatesOfBirth []string `json:"dates_of_birth,omitempty"`
	// Nationalities are ISO 3166 alpha-2 codes (or country names).
	Nationalities []string `json:"nationalities,omitempty"`
	// Threshold is the score from which a comparison or hit is a match,
	// in (0, 1]; DefaultThreshold when 0. Compare uses the first query's.
	// See docs/screening.md for the precision and recall it buys.
	Threshold float64 `json:"threshold,omitempty"`
}

// ErrThreshold is returned by CheckThreshold for a threshold outside (0, 1].
var ErrThreshold = errors.New("threshold must be a number above 0 and at most 1")

// CheckThreshold reports whether t is a usable Query.Threshold: 0 (the
// default) or a number in (0, 1]. The CLI and the API call it on the value
// a user gives.
func CheckThreshold(t float64) error {
	if t < 0 || t > 1 || t != t {
		return ErrThreshold
	}
	return nil
}

// threshold returns q's threshold, or def when q has none or a bad one.
func (q *Query) threshold(def float64) float64 {
	if q.Threshold > 0 && q.Threshold <= 1 {
		return q.Threshold
	}
	return def
}

// Result is the outcome of comparing two names, with its explanation.
type Result struct {
	// NameA and NameB are the names compared, as given.
	NameA string `json:"name_a"`
	NameB string `json:"name_b"`
	// Score is the final score in 0..1: NameScore plus evidence.
	Score float64 `json:"score"`
	// NameScore is the score of the names alone.
	NameScore float64 `json:"name_score"`
	// Match reports Score >= Threshold.
	Match     bool    `json:"match"`
	Threshold float64 `json:"threshold"`
	// CoverageA and CoverageB are the weighted share of each name's tokens
	// that found a partner in the other name.
	CoverageA float64 `json:"coverage_a"`
	CoverageB float64 `json:"coverage_b"`
	// Tokens lists the token alignment: pairs, then unmatched and ignored
	// tokens of either side.
	Tokens []TokenMatch `json:"tokens"`
	// Evidence lists the adjustments made for date of birth, nationality and
	// entity type, and the penalties applied to the name score.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Explanation is a one-line human-readable account of the above.
	Explanation string `json:"explanation"`
}

// TokenMatch is one line of a token alignment.
type TokenMatch struct {
	// A and B are the tokens (canonical Latin spelling); one of them is
	// empty for an unmatched or ignored token.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
	// Method is one of the Method… constants, "unmatched", or "ignored".
	Method string `json:"method"`
	// Kind is the token class: name, common, legal-form, stopword,
	// particle, initial, number.
	Kind string `json:"kind"`
	// Score is the token similarity in 0..1.
	Score float64 `json:"score"`
	// Weight is how much the token counts.
	Weight float64 `json:"weight"`
}

// Evidence is one adjustment of the score, for or against a match.
type Evidence struct {
	// Kind is "dob", "nationality", "type" or "name".
	Kind string `json:"kind"`
	// Detail says what was found.
	Detail string `json:"detail"`
	// Adjustment is added to the score.
	Adjustment float64 `json:"adjustment"`
}

// parsed is a name prepared for comparison.
type parsed struct {
	name  string
	toks  []token
	joins []joinCand // toks written together, for mergeJoined
}

func parse(name string) parsed {
	p := parsed{name: name, toks: tokenize(name)}
	p.joins = joinCands(p.toks)
	return p
}

// Compare compares two names with their evidence and explains the score.
func Compare(a, b Query) Result {
	r := compareNames(parse(a.Name), parse(b.Name), classOf(a.Type, b.Type), false)
	applyEvidence(&r, a.Type, b.Type, a.DatesOfBirth, b.DatesOfBirth, a.Nationalities, b.Nationalities, false)
	finish(&r, a.threshold(b.threshold(DefaultThreshold)))
	return r
}

// CompareNames compares two names alone.
func CompareNames(a, b string) Result { return Compare(Query{Name: a}, Query{Name: b}) }

// cmpBuf is the working memory of compareNames, reused across calls.
type cmpBuf struct {
	pairs        []pairScore
	usedA, usedB []bool
}

var cmpBufs = sync.Pool{New: func() any { return new(cmpBuf) }}

type pairScore struct {
	i, j int
	s    float64
	how  string
}

// nameClass is what two names are known to be, which decides some rules.
type nameClass uint8

const (
	classUnknown nameClass = iota
	classPerson
	classOrg
)

// classOf returns the class of two names from their entity types: person
// when either is a person, organisation when either is an organisation
// and neither a person.
func classOf(a, b detente.EntityType) nameClass {
	switch {
	case a == detente.EntityPerson || b == detente.EntityPerson:
		return classPerson
	case a == detente.EntityOrganization || b == detente.EntityOrganization:
		return classOrg
	}
	return classUnknown
}

// addedMarkerPenalty is what a country or series marker that only one
// organisation name has costs.
const addedMarkerPenalty = 0.12

// brandScore returns the score of an organisation name that is a brand
// alone (one distinctive word, with at most legal forms beside it) matched
// by the other name's first distinctive word, followed only by common
// words, countries and legal forms (Faberlic, Faberlic Europe Sp. z o.o.);
// 0 when the rule does not apply.
func brandScore(ta, tb []token, pairs []pairScore) float64 {
	distinct := func(ts []token) []int {
		var out []int
		for i := range ts {
			if ts[i].kind == kindName && ts[i].weight >= 0.7 {
				out = append(out, i)
			}
		}
		return out
	}
	da, db := distinct(ta), distinct(tb)
	if len(da) != 1 && len(db) != 1 {
		return 0
	}
	content := func(ts []token) int {
		n := 0
		for i := range ts {
			if ts[i].weight > 0 {
				n++
			}
		}
		return n
	}
	brandA := len(da) == 1 && (len(db) != 1 || content(ta) <= content(tb))
	brand, bi, fd := ta, da, db
	if !brandA {
		brand, bi, fd = tb, db, da
	}
	if content(brand) != 1 || len(fd) != 1 {
		return 0
	}
	for _, p := range pairs {
		i, j := p.i, p.j
		if !brandA {
			i, j = p.j, p.i
		}
		if i == bi[0] && j == fd[0] && p.s >= 0.9 {
			return 0.85 + 0.1*(p.s-0.9)
		}
	}
	return 0
}

// orgFuzzyOK reports whether a fuzzy match of two words of organisation
// names counts: common words must agree exactly (Gas, Oil; Construction,
// Constructors), distinctive ones may differ by one edit, or two in long
// words (Petromechanical, Petrochemical differ by more).
func orgFuzzyOK(a, b *token) bool {
	d := editDistance(a.text, b.text)
	if a.kind == kindCommon || b.kind == kindCommon || a.kind == kindCountry || b.kind == kindCountry {
		return d <= 1 // spelling only (Organisation, Organization)
	}
	return d <= 1 || d == 2 && max(len(a.text), len(b.text)) >= 7
}

// diffWeight is how much an unmatched token counts against a match: a
// common word of an organisation name present on one side only still tells
// two companies apart (Crystalord, Crystalord Systems); a word in
// parentheses, usually an acronym, hardly does.
func diffWeight(t *token, class nameClass) float64 {
	switch {
	case t.paren && t.weight > 0:
		return parenWeight
	case class == classOrg && t.kind == kindCommon:
		return 0.6
	}
	return t.weight
}

// parenWeight is what an unmatched word written in parentheses counts: an
// acronym or alias beside the name says little against a match.
const parenWeight = 0.15

// compareNames scores two parsed names and records the alignment; class
// is what the names are known to be. A quiet comparison computes the
// scores alone, without the alignment and evidence that explain them.
func compareNames(pa, pb parsed, class nameClass, quiet bool) Result {
	rec := !quiet
	r := Result{NameA: pa.name, NameB: pb.name}
	ta := mergeJoined(pa.toks, pa.joins, pb.toks)
	tb := mergeJoined(pb.toks, pb.joins, ta)
	if len(tb) != len(pb.toks) {
		ta = mergeJoined(ta, joinCands(ta), tb)
	}
	if sameTokens(ta, tb) {
		for i := range ta {
			if rec {
				r.Tokens = append(r.Tokens, TokenMatch{A: ta[i].text, B: tb[i].text, Method: MethodExact, Kind: ta[i].kind.String(), Score: 1, Weight: ta[i].weight})
			}
		}
		r.NameScore, r.CoverageA, r.CoverageB = 1, 1, 1
		return r
	}
	roles := hasPatronym(ta) && hasPatronym(tb)
	buf := cmpBufs.Get().(*cmpBuf)
	defer cmpBufs.Put(buf)
	pairs := buf.pairs[:0]
	defer func() { buf.pairs = pairs[:0] }()
	for i := range ta {
		if ta[i].weight == 0 {
			continue
		}
		for j := range tb {
			if tb[j].weight == 0 {
				continue
			}
			s, how := tokenSim(&ta[i], &tb[j])
			if class == classOrg && how == MethodFuzzy && !orgFuzzyOK(&ta[i], &tb[j]) {
				continue
			}
			if roles && ta[i].patronym != tb[j].patronym {
				s *= 0.7 // a given name aligned with a father's name
			}
			if s >= 0.7 {
				pairs = append(pairs, pairScore{i, j, s, how})
			}
		}
	}
	slices.SortStableFunc(pairs, func(x, y pairScore) int {
		if c := cmp.Compare(y.s, x.s); c != 0 {
			return c
		}
		// Prefer pairs in the same relative position.
		return cmp.Compare(abs(x.i-x.j), abs(y.i-y.j))
	})
	buf.usedA = slices.Grow(buf.usedA[:0], len(ta))[:len(ta)]
	buf.usedB = slices.Grow(buf.usedB[:0], len(tb))[:len(tb)]
	clear(buf.usedA)
	clear(buf.usedB)
	usedA, usedB := buf.usedA, buf.usedB
	var numA, numB, denA, denB float64
	strong := false
	for _, p := range pairs {
		if usedA[p.i] || usedB[p.j] {
			continue
		}
		usedA[p.i], usedB[p.j] = true, true
		wa, wb := ta[p.i].weight, tb[p.j].weight
		eff := p.s
		if p.how == MethodFuzzy {
			// Fuzzy similarity below 0.95 says less than it seems: many
			// different names are 0.8 apart.
			eff = clamp((p.s - 0.62) / 0.3)
		}
		numA += wa * eff
		numB += wb * eff
		if p.s >= 0.8 && min(wa, wb) >= 0.7 && ta[p.i].kind != kindInitial {
			strong = true
		}
		if rec {
			r.Tokens = append(r.Tokens, TokenMatch{A: ta[p.i].text, B: tb[p.j].text, Method: p.how,
				Kind: ta[p.i].kind.String(), Score: round(p.s), Weight: round(max(wa, wb))})
		}
	}
	var nA, nB, unA, unB, addA, addB int
	for i := range ta {
		denA += ta[i].weight
		if ta[i].weight > 0 {
			nA++
		}
		if !usedA[i] {
			denA += diffWeight(&ta[i], class) - ta[i].weight
			m := "ignored"
			if ta[i].weight > 0 {
				m = "unmatched"
				if (ta[i].weight >= 0.5 || class == classOrg && ta[i].kind == kindCommon) && !ta[i].paren {
					unA++
				}
				if ta[i].kind == kindCountry || ta[i].kind == kindNumber {
					addA++
				}
			}
			if rec {
				r.Tokens = append(r.Tokens, TokenMatch{A: ta[i].text, Method: m, Kind: ta[i].kind.String(), Weight: ta[i].weight})
			}
		}
	}
	for j := range tb {
		denB += tb[j].weight
		if tb[j].weight > 0 {
			nB++
		}
		if !usedB[j] {
			denB += diffWeight(&tb[j], class) - tb[j].weight
			m := "ignored"
			if tb[j].weight > 0 {
				m = "unmatched"
				if (tb[j].weight >= 0.5 || class == classOrg && tb[j].kind == kindCommon) && !tb[j].paren {
					unB++
				}
				if tb[j].kind == kindCountry || tb[j].kind == kindNumber {
					addB++
				}
			}
			if rec {
				r.Tokens = append(r.Tokens, TokenMatch{B: tb[j].text, Method: m, Kind: tb[j].kind.String(), Weight: tb[j].weight})
			}
		}
	}
	if denA == 0 || denB == 0 {
		if rec {
			r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "no name tokens: legal forms, titles and common words alone never match"})
		}
		return r
	}
	r.CoverageA, r.CoverageB = numA/denA, numB/denB
	covS, covL, nS := r.CoverageA, r.CoverageB, nA
	if nB < nA || (nB == nA && denB < denA) {
		covS, covL, nS = r.CoverageB, r.CoverageA, nB
	}
	alpha := 0.55
	if nS >= 2 {
		alpha = 0.7
		if class == classOrg {
			// Organisations: what one name adds matters as much as what
			// it lacks (Bowne Solutions, Bowne Litigation Solutions).
			alpha = 0.5
		}
	}
	score := alpha*covS + (1-alpha)*covL
	if class == classOrg {
		// A country or series marker that only one name has (Santander,
		// Santander Mexico; fund III, fund) is another entity of the group.
		if (addA > 0) != (addB > 0) {
			score -= addedMarkerPenalty
			if rec {
				r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "a country or series marker on one side only", Adjustment: -addedMarkerPenalty})
			}
		}
		if b := brandScore(ta, tb, pairs); b > score {
			if rec {
				r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "a brand alone matches the company's distinctive name", Adjustment: b - score})
			}
			score = b
		}
	}
	if c := min(unA, unB); c > 0 {
		pen := 0.08 * float64(c)
		score -= pen
		if rec {
			r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: fmt.Sprintf("%d conflicting token(s) on both sides", c), Adjustment: -pen})
		}
	}
	if class == classPerson {
		if pen, why := subsetPenalty(ta, tb, usedA, usedB); pen > 0 {
			score -= pen
			if rec {
				r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: why, Adjustment: -pen})
			}
		}
	}
	if !strong && score > 0.6 {
		if rec {
			r.Evidence = append(r.Evidence, Evidence{Kind: "name", Detail: "no distinctive name token matched well: capped", Adjustment: 0.6 - score})
		}
		score = 0.6
	}
	r.NameScore = clamp(score)
	return r
}

// subsetPenalty applies to persons the rule that a shorter name found
// whole inside a longer one stands for the same person only if it holds
// one of the longer name's family names and one of its given names, and
// the first family name when the longer name has two written before a
// comma (GARCIA LOPEZ, Juan Carlos: Juan Garcia, not Juan Lopez or Juan
// Carlos). Without a comma which words are family names is not known (the
// last word in one culture, the first in another), and the rule does not
// apply.
func subsetPenalty(ta, tb []token, usedA, usedB []bool) (float64, string) {
	content := func(ts []token) int {
		n := 0
		for i := range ts {
			if ts[i].weight >= 0.5 && ts[i].kind != kindInitial {
				n++
			}
		}
		return n
	}
	ns, nl := content(ta), content(tb)
	short, long, usedS, usedL := ta, tb, usedA, usedB
	if ns > nl {
		short, long, usedS, usedL = tb, ta, usedB, usedA
		ns, nl = nl, ns
	}
	if ns < 2 || nl < 3 || nl <= ns {
		return 0, ""
	}
	for i := range short {
		if short[i].weight >= 0.5 && !usedS[i] {
			return 0, "" // not a subset: the scoring already counts it
		}
	}
	var fam []int
	for i := range long {
		if long[i].family && long[i].weight > 0 {
			fam = append(fam, i)
		}
	}
	first := -1
	if len(fam) == 2 {
		first = fam[0] // a double family name: the first one counts
	}
	if len(fam) == 0 {
		return 0, "" // which words are family names is not known
	}
	coversFam, coversFirst, coversGiven := false, false, false
	for i := range long {
		if !usedL[i] || long[i].weight == 0 {
			continue
		}
		if slices.Contains(fam, i) {
			coversFam = true
			coversFirst = coversFirst || i == first
		} else {
			coversGiven = true
		}
	}
	switch {
	case !coversFam:
		return 0.15, "the shorter name holds none of the longer name's family names"
	case !coversGiven:
		return 0.15, "the shorter name holds only family names of the longer name"
	case first >= 0 && !coversFirst:
		return 0.1, "the shorter name holds the second family name, not the first"
	}
	return 0, ""
}

// sameTokens reports whether two names have the same tokens in the same
// order, at least one of which is more than a legal form or function word.
func sameTokens(ta, tb []token) bool {
	if len(ta) != len(tb) || len(ta) == 0 {
		return false
	}
	content := false
	for i := range ta {
		if ta[i].text != tb[i].text {
			return false
		}
		if ta[i].kind != kindLegal && ta[i].kind != kindStop && ta[i].kind != kindParticle {
			content = true
		}
	}
	return content
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func clamp(x float64) float64 { return min(1, max(0, x)) }

func round(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 3, 64), 64)
	return v
}

// applyEvidence adjusts r.NameScore with entity type, date of birth and
// nationality, recording each adjustment.
func applyEvidence(r *Result, ta, tb detente.EntityType, da, db, na, nb []string, quiet bool) {
	var adj float64
	add := func(e Evidence) {
		if !quiet {
			r.Evidence = append(r.Evidence, e)
		}
		adj += e.Adjustment
	}
	if ta != "" && tb != "" && ta != detente.EntityOther && tb != detente.EntityOther && ta != tb {
		if ta == detente.EntityPerson || tb == detente.EntityPerson {
			add(Evidence{Kind: "type", Detail: fmt.Sprintf("%s vs %s", ta, tb), Adjustment: -0.3})
		} else {
			add(Evidence{Kind: "type", Detail: fmt.Sprintf("%s vs %s", ta, tb), Adjustment: -0.1})
		}
	}
	if len(da) > 0 && len(db) > 0 {
		rel, detail := dobRelation(da, db)
		switch rel {
		case dobSame:
			add(Evidence{Kind: "dob", Detail: "same date of birth " + detail, Adjustment: 0.05})
		case dobSameYear:
			add(Evidence{Kind: "dob", Detail: "same year of birth " + detail, Adjustment: 0.03})
		case dobNear:
			add(Evidence{Kind: "dob", Detail: "years of birth one apart " + detail, Adjustment: 0})
		case dobDiffer:
			add(Evidence{Kind: "dob", Detail: "dates of birth differ " + detail, Adjustment: -0.2})
		}
	}
	if len(na) > 0 && len(nb) > 0 {
		ca, cb := countryCodes(na), countryCodes(nb)
		if intersects(ca, cb) {
			add(Evidence{Kind: "nationality", Detail: "shared nationality " + strings.Join(ca, ","), Adjustment: 0.03})
		} else if len(ca) > 0 && len(cb) > 0 {
			add(Evidence{Kind: "nationality", Detail: fmt.Sprintf("nationality %s vs %s", strings.Join(ca, ","), strings.Join(cb, ",")), Adjustment: -0.05})
		}
	}
	if adj > 0 && r.NameScore < DefaultThreshold-0.1 {
		adj = 0 // supporting evidence does not rescue a weak name
	}
	r.Score = clamp(r.NameScore + adj)
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func countryCodes(ns []string) []string {
	var out []string
	for _, n := range ns {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

type dobRel int

const (
	dobUnknown dobRel = iota
	dobDiffer
	dobNear
	dobSameYear
	dobSame
)

// parseDOB splits YYYY[-MM[-DD]] into numbers, 0 when absent.
func parseDOB(s string) (y, m, d int) {
	parts := strings.SplitN(strings.TrimSpace(s), "-", 3)
	y, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		m, _ = strconv.Atoi(parts[1])
	}
	if len(parts) > 2 {
		d, _ = strconv.Atoi(parts[2])
	}
	return y, m, d
}

// dobRelation returns the closest relation between any two dates.
func dobRelation(da, db []string) (dobRel, string) {
	best, detail := dobUnknown, ""
	for _, a := range da {
		ya, ma, dA := parseDOB(a)
		if ya == 0 {
			continue
		}
		for _, b := range db {
			yb, mb, dB := parseDOB(b)
			if yb == 0 {
				continue
			}
			rel := dobDiffer
			switch {
			case ya == yb && ma == mb && dA == dB && ma != 0 && dA != 0:
				rel = dobSame
			case ya == yb:
				rel = dobSameYear
			case abs(ya-yb) == 1:
				rel = dobNear
			}
			if rel > best {
				best, detail = rel, a+" / "+b
			}
		}
	}
	return best, detail
}

// finish sets Match and the explanation.
func finish(r *Result, threshold float64) {
	decide(r, threshold)
	explain(r)
}

// decide rounds r's scores and sets Match.
func decide(r *Result, threshold float64) {
	r.Threshold = threshold
	r.Score = round(r.Score)
	r.NameScore = round(r.NameScore)
	r.CoverageA = round(r.CoverageA)
	r.CoverageB = round(r.CoverageB)
	r.Match = r.Score >= threshold
}

// explain writes r's one-line explanation.
func explain(r *Result) {
	threshold := r.Threshold
	var b strings.Builder
	fmt.Fprintf(&b, "%q ~ %q: ", r.NameA, r.NameB)
	var parts []string
	for _, t := range r.Tokens {
		switch t.Method {
		case "ignored":
			continue
		case "unmatched":
			parts = append(parts, "unmatched "+t.A+t.B)
		default:
			parts = append(parts, fmt.Sprintf("%s=%s (%s %.2f)", t.A, t.B, t.Method, t.Score))
		}
	}
	b.WriteString(strings.Join(parts, ", "))
	fmt.Fprintf(&b, "; names %.2f", r.NameScore)
	for _, e := range r.Evidence {
		if e.Adjustment != 0 || e.Kind != "name" {
			fmt.Fprintf(&b, "; %s: %s (%+.2f)", e.Kind, e.Detail, e.Adjustment)
		}
	}
	verdict := "no match"
	if r.Match {
		verdict = "match"
	}
	fmt.Fprintf(&b, " → %.2f %s (threshold %.2f)", r.Score, verdict, threshold)
	r.Explanation = b.String()
}
