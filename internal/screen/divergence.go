package screen

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"

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
// faction, a branch), or the reverse.
type ScopeDifference struct {
	Whole Member `json:"whole"`
	Part  Member `json:"part"`
	// Words are the words that narrow the part's name ("military wing").
	Words []string `json:"words"`
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
}

// CompareLists resolves the designations of several authorities into
// entities, using names (all scripts and aliases except weak ones), dates of
// birth, nationality and type, and reports which entities every authority
// lists, which some, and which only one, which entries differ in scope, and
// a pairwise summary. Designations of one authority are never merged with
// each other.
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

	type link struct {
		a, b  int
		score float64
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
					// authorities; scope differences of organisations in
					// both, since only the shorter name retrieves the longer.
					scopeOnly := other < d.Authority
					if scopeOnly && d.Type == detente.EntityPerson {
						continue
					}
					best := map[int]float64{}
					for _, n := range screeningNames(d) {
						q := Query{Name: n, Type: d.Type, DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities}
						for _, h := range indexes[other].Search(q, 3) {
							j := origin[other][h.Designation]
							// A wing, faction or branch is not the same entity
							// as the whole, however close the names: an
							// organisation pair whose extra words are all scope
							// words is a scope difference, never a link.
							if d.Type != detente.EntityPerson && ds[j].Type != detente.EntityPerson {
								if w := scopeWordsOf(h.Result); len(w) > 0 {
									myScope = append(myScope, scopeDiff(ds, i, j, h.Result, w))
									continue
								}
							}
							if h.Match && !scopeOnly {
								if h.Score > best[j] {
									best[j] = h.Score
								}
								continue
							}

						}
					}
					for j, s := range best {
						myLinks = append(myLinks, link{i, j, s})
					}
				}
			}
			mu.Lock()
			links = append(links, myLinks...)
			scope = append(scope, myScope...)
			mu.Unlock()
		}()
	}
	for i := range ds {
		next <- i
	}
	close(next)
	wg.Wait()

	// Union the links, never joining two designations of one authority:
	// each entity keeps at most one member per authority, the best linked.
	slices.SortFunc(links, func(x, y link) int {
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
	rep.Scope = slices.CompactFunc(scope, func(a, b ScopeDifference) bool {
		return a.Whole.Designation == b.Whole.Designation && a.Part.Designation == b.Part.Designation
	})
	return rep
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

// scopeWordsOf returns the scope words of the unmatched tokens of an
// organisation comparison in which one name is wholly contained in the
// other ("Hizballah" and "Hizballah Military Wing").
func scopeWordsOf(r Result) []string {
	if max(r.CoverageA, r.CoverageB) < 0.9 {
		return nil
	}
	var words []string
	unA, unB, strong := 0, 0, false
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
			if scopeWords[w] {
				words = append(words, w)
			} else if t.Kind == kindName.String() {
				return nil // a different name, not a narrower scope
			}
		default:
			if t.Score < 0.9 {
				return nil
			}
			if t.Kind == kindName.String() && t.Weight >= 0.7 {
				strong = true
			}
		}
	}
	if !strong || len(words) == 0 || (unA > 0 && unB > 0) {
		return nil
	}
	return words
}

func scopeDiff(ds []detente.Designation, i, j int, r Result, words []string) ScopeDifference {
	mem := func(k int) Member {
		d := &ds[k]
		return Member{Authority: d.Authority, EntityID: d.EntityID, Name: d.PrimaryName(), Type: d.Type,
			Regime: d.Regime, ListedOn: d.ListedOn, Designation: k}
	}
	whole, part := i, j
	// The side whose name carries the scope words is the part.
	for _, t := range r.Tokens {
		if t.A != "" && t.B == "" && scopeWords[t.A] {
			whole, part = j, i
			break
		}
	}
	return ScopeDifference{Whole: mem(whole), Part: mem(part), Words: slices.Compact(sortedCopy(words))}
}

func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.SortFunc(out, strings.Compare)
	return out
}
