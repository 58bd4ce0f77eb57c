package screen

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"detente"
)

// Member is one authority's designation within a resolved entity.
type Member struct {
	Authority string             `json:"authority"`
	EntityID  string             `json:"entity_id"`
	Name      string             `json:"name"`
	Type      detente.EntityType `json:"type"`
	Regime    string             `json:"regime,omitempty"`
	ListedOn  string             `json:"listed_on,omitempty"`
	// Designation is the index of the designation in CompareLists' input.
	Designation int `json:"-"`
}

// Agreement levels of a resolved entity.
const (
	ListedByAll  = "all"
	ListedBySome = "some"
	ListedByOne  = "one"
)

// Entity is one person, group or object resolved across authorities: the
// designations that name it, however spelled.
type Entity struct {
	Members []Member `json:"members"`
	// ListedBy names the authorities that list the entity, sorted.
	ListedBy []string `json:"listed_by"`
	// Agreement is ListedByAll, ListedBySome or ListedByOne.
	Agreement string `json:"agreement"`
	// Score is the weakest link that joined the members (1 for one member).
	Score float64 `json:"score"`
}

// ScopeDifference is a pair of entries of two authorities where one lists
// an organisation and the other only a part of it (its military wing, a
// faction, a branch), or the reverse. It is reported only with evidence
// that the part belongs to the whole (see CompareLists).
type ScopeDifference struct {
	Whole Member `json:"whole"`
	Part  Member `json:"part"`
	// WholeName and PartName are the names (primary or alias) that
	// compared: the part's is the whole's plus Words.
	WholeName string `json:"whole_name"`
	PartName  string `json:"part_name"`
	// Words are the words that narrow the part's name ("military wing").
	Words []string `json:"words"`
	// Shared are the distinctive words both names hold: not generic, not
	// a place, not an institution's.
	Shared []string `json:"shared"`
}

// Sentence says the difference in words, with its evidence.
func (sd ScopeDifference) Sentence() string {
	return fmt.Sprintf("%s lists %q (%s) as a whole; %s lists only a part of it, %q (%s): its name is the other's plus %q, "+
		"both hold the distinctive %s %s, %q names no other entry on any list, and %s does not list the whole itself.",
		strings.ToUpper(sd.Whole.Authority), sd.Whole.Name, sd.Whole.EntityID, strings.ToUpper(sd.Part.Authority), sd.Part.Name, sd.Part.EntityID,
		strings.Join(sd.Words, " "), plural(len(sd.Shared), "word", "words"), quoteAll(sd.Shared), sd.WholeName, strings.ToUpper(sd.Part.Authority))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func quoteAll(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// PairSummary counts what two authorities agree on.
type PairSummary struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Both  int    `json:"both"`
	OnlyA int    `json:"only_a"`
	OnlyB int    `json:"only_b"`
}

// Report compares the lists of several authorities.
type Report struct {
	Authorities []string `json:"authorities"`
	// Entities are all resolved entities, those listed by most authorities
	// first.
	Entities []Entity `json:"entities"`
	// ListedByAll, ListedBySome and ListedByOne count entities by
	// agreement; OnlyBy counts, per authority, the entities only it lists.
	ListedByAll  int            `json:"listed_by_all"`
	ListedBySome int            `json:"listed_by_some"`
	ListedByOne  int            `json:"listed_by_one"`
	OnlyBy       map[string]int `json:"only_by"`
	// Scope lists entries whose scope differs between authorities.
	Scope []ScopeDifference `json:"scope,omitempty"`
	// Pairs is the pairwise summary matrix, one entry per pair of
	// authorities in the order of Authorities.
	Pairs []PairSummary `json:"pairs"`
}

// CompareOptions tunes CompareLists. The zero value is usable.
type CompareOptions struct {
	// Threshold is the score from which two designations of different
	// authorities are taken for the same entity; DefaultThreshold when 0.
	Threshold float64
	// Workers bounds the goroutines used; GOMAXPROCS when 0.
	Workers int
	// Progress, when set, is called from one goroutine as designations
	// are resolved: done of total, at most about a hundred times.
	Progress func(done, total int)
}

// CompareLists resolves the designations of several authorities into
// entities, using names (all scripts and aliases except weak ones), dates of
// birth, nationality and type, and reports which entities every authority
// lists, which some, and which only one, which entries differ in scope, and
// a pairwise summary. Designations of one authority are never merged with
// each other, and a name that fits several entries of an authority equally
// well links them only after every unambiguous link.
//
// A scope difference needs evidence that it is one organisation, not
// shared generic words: the part's name is the whole's plus words that
// mean a part (wing, faction, branch, …; not brigade or battalion, which
// name units of their own); the two share a distinctive word (not a
// generic one, a place or an institution's: ministry, defence); the
// whole's name names no other entry on any list; and the part's authority
// does not list the whole itself.
func CompareLists(ds []detente.Designation, opt CompareOptions) Report {
	if opt.Threshold == 0 {
		opt.Threshold = DefaultThreshold
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	var auths []string
	byAuth := map[string][]int{}
	for i := range ds {
		a := ds[i].Authority
		if _, ok := byAuth[a]; !ok {
			auths = append(auths, a)
		}
		byAuth[a] = append(byAuth[a], i)
	}
	slices.Sort(auths)
	// One index per authority; each designation is screened against the
	// other authorities' indexes.
	indexes := map[string]*Index{}
	origin := map[string][]int{}
	for _, a := range auths {
		sub := make([]detente.Designation, len(byAuth[a]))
		for k, i := range byAuth[a] {
			sub[k] = ds[i]
		}
		ix := NewIndex(sub)
		ix.Threshold = opt.Threshold
		indexes[a] = ix
		origin[a] = byAuth[a]
	}

	// The word skeletons of each authority's names of parts (a name with
	// wing, faction, branch, …): only a name sharing one can be their
	// whole, so only such names are searched for scope differences alone.
	partStems := map[string]map[string]bool{}
	for _, a := range auths {
		partStems[a] = map[string]bool{}
	}
	for i := range ds {
		for _, n := range screeningNames(&ds[i]) {
			ws := strings.Fields(nameKey(n))
			if !slices.ContainsFunc(ws, func(w string) bool { return corePartWords[w] }) {
				continue
			}
			for _, w := range ws {
				if len(w) > 2 && !partWords[w] {
					partStems[ds[i].Authority][Skeleton(w)] = true
				}
			}
		}
	}
	mayBeWhole := func(d *detente.Designation, other string) bool {
		for _, n := range screeningNames(d) {
			for _, w := range strings.Fields(nameKey(n)) {
				if len(w) > 2 && partStems[other][Skeleton(w)] {
					return true
				}
			}
		}
		return false
	}
	// Names several entries of one authority carry (an alias two groups
	// share) say nothing about which of them another list's entry is.
	shared := map[string]int{}
	for i := range ds {
		seen := map[string]bool{}
		for _, n := range screeningNames(&ds[i]) {
			k := ds[i].Authority + "\x00" + nameKey(n)
			if !seen[k] {
				seen[k] = true
				shared[k]++
			}
		}
	}
	ambiguousName := func(auth, n string) bool { return shared[auth+"\x00"+nameKey(n)] > 1 }
	type link struct {
		a, b      int
		score     float64
		ambiguous bool // the name fits several entries of b's authority equally
	}
	type best struct {
		score     float64
		ambiguous bool
	}
	var (
		mu    sync.Mutex
		links []link
		scope []ScopeDifference
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var myLinks []link
			var myScope []ScopeDifference
			for i := range next {
				d := &ds[i]
				for _, other := range auths {
					if other == d.Authority {
						continue
					}
					// Links are searched in one direction per pair of
					// authorities, from the shorter list into the longer
					// (fewer searches); scope differences of organisations
					// in both, since only the shorter name retrieves the
					// longer.
					no, nd := len(byAuth[other]), len(byAuth[d.Authority])
					scopeOnly := no < nd || no == nd && other < d.Authority
					if scopeOnly && (d.Type == detente.EntityPerson || !mayBeWhole(d, other)) {
						continue
					}
					bests := map[int]best{}
					for _, n := range screeningNames(d) {
						q := Query{Name: n, Type: d.Type, DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities}
						hits := indexes[other].Search(q, 3)
						for k, h := range hits {
							j := origin[other][h.Designation]
							// A wing, faction or branch is not the same entity
							// as the whole, however close the names: an
							// organisation pair whose extra words are all scope
							// words is a scope difference, never a link.
							if d.Type != detente.EntityPerson && ds[j].Type != detente.EntityPerson {
								if w, shared, partIsHit := scopeWordsOf(h.Result); len(w) > 0 {
									if len(shared) > 0 {
										myScope = append(myScope, scopeDiff(ds, i, j, n, h.Name, partIsHit, w, shared))
									}
									continue
								}
							}
							if h.Match && !scopeOnly {
								// Several entries the name fits equally: an
								// alias shared by different entities.
								amb := ambiguousName(d.Authority, n) || ambiguousName(other, h.Name) ||
									k+1 < len(hits) && hits[k+1].Match && hits[k+1].Score >= h.Score-0.005 ||
									k > 0 && hits[k-1].Match && hits[k-1].Score <= h.Score+0.005
								b, seen := bests[j]
								switch {
								case !seen, b.ambiguous && !amb, b.ambiguous == amb && h.Score > b.score:
									bests[j] = best{h.Score, amb}
								}
							}
						}
					}
					for j, b := range bests {
						myLinks = append(myLinks, link{i, j, b.score, b.ambiguous})
					}
				}
			}
			mu.Lock()
			links = append(links, myLinks...)
			scope = append(scope, myScope...)
			mu.Unlock()
		}()
	}
	step := max(1, len(ds)/100)
	for i := range ds {
		next <- i
		if opt.Progress != nil && i%step == 0 {
			opt.Progress(i, len(ds))
		}
	}
	close(next)
	wg.Wait()
	if opt.Progress != nil {
		opt.Progress(len(ds), len(ds))
	}

	// Union the links, never joining two designations of one authority:
	// each entity keeps at most one member per authority, the best linked.
	slices.SortFunc(links, func(x, y link) int {
		if x.ambiguous != y.ambiguous {
			if x.ambiguous {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	parent := make([]int, len(ds))
	minScore := make([]float64, len(ds))
	members := make([]map[string]bool, len(ds))
	for i := range parent {
		parent[i] = i
		minScore[i] = 1
		members[i] = map[string]bool{ds[i].Authority: true}
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, l := range links {
		ra, rb := find(l.a), find(l.b)
		if ra == rb {
			continue
		}
		clash := false
		for a := range members[rb] {
			if members[ra][a] {
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		parent[rb] = ra
		for a := range members[rb] {
			members[ra][a] = true
		}
		minScore[ra] = min(minScore[ra], minScore[rb], l.score)
	}
	groups := map[int][]int{}
	for i := range ds {
		r := find(i)
		groups[r] = append(groups[r], i)
	}

	rep := Report{Authorities: auths, OnlyBy: map[string]int{}}
	for r, g := range groups {
		e := Entity{Score: round(minScore[r])}
		for _, i := range g {
			d := &ds[i]
			e.Members = append(e.Members, Member{Authority: d.Authority, EntityID: d.EntityID, Name: d.PrimaryName(),
				Type: d.Type, Regime: d.Regime, ListedOn: d.ListedOn, Designation: i})
			if !slices.Contains(e.ListedBy, d.Authority) {
				e.ListedBy = append(e.ListedBy, d.Authority)
			}
		}
		slices.Sort(e.ListedBy)
		slices.SortFunc(e.Members, func(a, b Member) int { return cmp.Compare(a.Authority, b.Authority) })
		switch {
		case len(e.ListedBy) == len(auths) && len(auths) > 1:
			e.Agreement = ListedByAll
			rep.ListedByAll++
		case len(e.ListedBy) > 1:
			e.Agreement = ListedBySome
			rep.ListedBySome++
		default:
			e.Agreement = ListedByOne
			rep.ListedByOne++
			rep.OnlyBy[e.ListedBy[0]]++
		}
		rep.Entities = append(rep.Entities, e)
	}
	slices.SortFunc(rep.Entities, func(a, b Entity) int {
		if c := cmp.Compare(len(b.ListedBy), len(a.ListedBy)); c != 0 {
			return c
		}
		return cmp.Compare(a.Members[0].Designation, b.Members[0].Designation)
	})
	for x := range auths {
		for y := x + 1; y < len(auths); y++ {
			ps := PairSummary{A: auths[x], B: auths[y]}
			for _, e := range rep.Entities {
				inA, inB := slices.Contains(e.ListedBy, auths[x]), slices.Contains(e.ListedBy, auths[y])
				switch {
				case inA && inB:
					ps.Both++
				case inA:
					ps.OnlyA++
				case inB:
					ps.OnlyB++
				}
			}
			rep.Pairs = append(rep.Pairs, ps)
		}
	}
	slices.SortFunc(scope, func(a, b ScopeDifference) int {
		if c := cmp.Compare(a.Whole.Designation, b.Whole.Designation); c != 0 {
			return c
		}
		return cmp.Compare(a.Part.Designation, b.Part.Designation)
	})
	scope = slices.CompactFunc(scope, func(a, b ScopeDifference) bool {
		return a.Whole.Designation == b.Whole.Designation && a.Part.Designation == b.Part.Designation
	})
	for _, sd := range scope {
		if wholeNamesOne(sd, ds, auths, indexes, origin) {
			rep.Scope = append(rep.Scope, sd)
		}
	}
	return rep
}

// sameName is the score from which a name names an entry: the same name,
// however spelled, not a name that merely resembles it (Hizballah,
// Hizballah Brigades).
const sameName = 0.95

// wholeNamesOne reports whether the whole's name names only the whole on
// its own list and at most one entry on each other list, and nothing on
// the part's list but the part (and other parts): a name shared by several
// entries, or an authority that lists the whole as well as the part, is no
// evidence of a difference of scope.
func wholeNamesOne(sd ScopeDifference, ds []detente.Designation, auths []string, indexes map[string]*Index, origin map[string][]int) bool {
	for _, a := range auths {
		n := 0
		for _, h := range indexes[a].Search(Query{Name: sd.WholeName, Type: ds[sd.Whole.Designation].Type}, 5) {
			j := origin[a][h.Designation]
			if h.Score < sameName || j == sd.Whole.Designation || j == sd.Part.Designation {
				continue
			}
			if w, _, _ := scopeWordsOf(h.Result); len(w) > 0 {
				continue // another part of the whole
			}
			n++
		}
		limit := 1
		if a == sd.Whole.Authority || a == sd.Part.Authority {
			limit = 0
		}
		if n > limit {
			return false
		}
	}
	return true
}

// nameKey is a name's letters and digits, lower-cased, words separated by
// one space: two names with the same key are the same name.
func nameKey(n string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(n), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// screeningNames returns the names of d worth screening: primary names,
// good aliases and original-script names, at most five.
func screeningNames(d *detente.Designation) []string {
	var out []string
	for _, n := range d.Names {
		if n.Kind == detente.NameKindWeakAlias {
			continue
		}
		out = append(out, n.Name)
		if len(out) == 5 {
			break
		}
	}
	return out
}

// partWords mean a part of an organisation. Brigade, battalion, unit and
// command are left out: they name formations of their own (Ansar
// al-Sharia's brigades, the PFLP's General Command).
var partWords = set("wing faction branch branches division section cell chapter office offices " +
	"military political armed youth student students women regional")

// corePartWords are the part words that alone make a name a part's.
var corePartWords = set("wing faction branch branches division section cell chapter")

// institutionWords are words of the names of state institutions: two
// ministries sharing them are not one.
var institutionWords = set("ministry ministere ministerio defence defense interior affairs foreign state security " +
	"intelligence police navy naval air guard guards revolutionary national federal republic government " +
	"directorate bureau general central people peoples popular liberation islamic armed forces public")

// scopeWordsOf returns, for an organisation comparison in which one name
// is wholly contained in the other ("Hizballah" and "Hizballah Military
// Wing"), the words that narrow the longer name, the distinctive words the
// two share, and whether the longer name is the hit's (side B). It returns
// no words unless every extra word means a part and one of them alone
// does (wing, faction, branch, …).
func scopeWordsOf(r Result) (words, shared []string, partIsB bool) {
	if max(r.CoverageA, r.CoverageB) < 0.9 {
		return nil, nil, false
	}
	unA, unB, core := 0, 0, false
	for _, t := range r.Tokens {
		switch t.Method {
		case "ignored":
			continue
		case "unmatched":
			w := t.A + t.B
			if t.A != "" {
				unA++
			} else {
				unB++
			}
			if !partWords[w] {
				return nil, nil, false // a different name, not a narrower scope
			}
			core = core || corePartWords[w]
			words = append(words, w)
		default:
			if t.Score < 0.9 {
				return nil, nil, false
			}
			w := t.A
			if t.Kind == kindName.String() && t.Weight >= 0.7 && !commonWords[w] && !countryWords[w] && !institutionWords[w] && !partWords[w] && len(w) > 2 {
				shared = append(shared, w)
			}
		}
	}
	if !core || (unA > 0 && unB > 0) || unA+unB == 0 {
		return nil, nil, false
	}
	return words, shared, unB > 0
}

// scopeDiff builds the difference between designations i (whose name n
// was screened) and j (whose name m was hit); the part is the side whose
// name holds the part words.
func scopeDiff(ds []detente.Designation, i, j int, n, m string, partIsHit bool, words, shared []string) ScopeDifference {
	mem := func(k int) Member {
		d := &ds[k]
		return Member{Authority: d.Authority, EntityID: d.EntityID, Name: d.PrimaryName(), Type: d.Type,
			Regime: d.Regime, ListedOn: d.ListedOn, Designation: k}
	}
	whole, part, wn, pn := i, j, n, m
	if !partIsHit {
		whole, part, wn, pn = j, i, m, n
	}
	return ScopeDifference{Whole: mem(whole), Part: mem(part), WholeName: wn, PartName: pn,
		Words: slices.Compact(sortedCopy(words)), Shared: slices.Compact(sortedCopy(shared))}
}

func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.SortFunc(out, strings.Compare)
	return out
}
