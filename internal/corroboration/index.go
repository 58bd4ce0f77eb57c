package corroboration

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"detente"
	"detente/internal/screen"
)

// entry is one stored version in the index: what it asserts and who
// originated it.
type entry struct {
	id         string
	modified   time.Time
	origin     string // the origin key's text form: who asserts, relayed or not
	assertions []Assertion
}

// Index is the in-memory index of what object versions assert, keyed by
// assertion, across originators. It counts each originator once per
// assertion whatever the number of its objects, versions and relays: a
// version relayed by one node from another is indexed under its origin
// (detente.ObjectVersion.OriginKey), never under the relay. It is safe for
// concurrent use.
type Index struct {
	mu      sync.RWMutex
	bySeq   map[int64]*entry // every version seen, by Seq; nil for versions not indexed (quarantined)
	byKey   map[Assertion][]*entry
	revoked map[string]bool   // origin + " " + id of objects whose originator revoked them
	names   map[string]string // origin key → the name it was last seen under
	maxSeq  int64

	// nameIndex is the name matcher's index over every KindName value,
	// rebuilt when a name is added.
	nameIndex *screen.Index
	nameVals  []string
	nameDirty bool
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{bySeq: map[int64]*entry{}, byKey: map[Assertion][]*entry{}, revoked: map[string]bool{}, names: map[string]string{}}
}

// Len returns how many versions the index has seen, indexed or not.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.bySeq)
}

// MaxSeq returns the highest Seq the index has seen.
func (ix *Index) MaxSeq() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.maxSeq
}

// Add indexes stored version v, whose top-level properties are fields.
// Adding a version with a Seq already seen does nothing, so the store can
// be replayed over what a hook already added. Quarantined versions are
// counted as seen but assert nothing: they are kept apart and never used.
func (ix *Index) Add(v *detente.ObjectVersion, fields map[string]any) {
	var as []Assertion
	if v.Quarantine == "" {
		as = Extract(v.Type, fields)
	}
	revoked, _ := fields["revoked"].(bool)
	ix.add(v, as, revoked)
}

// add indexes v as asserting as, revoked or not (Add).
func (ix *Index) add(v *detente.ObjectVersion, as []Assertion, revoked bool) {
	var e *entry
	origin := v.OriginKey().String()
	if v.Quarantine == "" {
		e = &entry{id: v.ID, modified: v.Modified, origin: origin, assertions: as}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, seen := ix.bySeq[v.Seq]; seen {
		return
	}
	ix.bySeq[v.Seq] = e
	ix.maxSeq = max(ix.maxSeq, v.Seq)
	if e == nil {
		return
	}
	if v.Originator != "" {
		ix.names[origin] = v.Originator
	}
	if revoked {
		ix.revoked[origin+" "+v.ID] = true
	}
	for _, a := range e.assertions {
		l := ix.byKey[a]
		if len(l) == 0 && a.Kind == KindName {
			ix.nameVals = append(ix.nameVals, a.Value)
			ix.nameDirty = true
		}
		ix.byKey[a] = append(l, e)
	}
}

// Corroboration is what the index says of one version: how many things it
// asserts, which originators other than its own independently assert at
// least one of them, and which.
type Corroboration struct {
	// Assertions is how many values the version asserts (observable
	// values, pattern comparisons, names). A version that asserts none
	// (a report, a relationship) is neither corroborated nor single-source.
	Assertions int `json:"assertions"`
	// IndependentSources names the originators, other than the version's
	// own, that assert at least one of the same values, sorted. Relays
	// count for the originator they relay; the version's own originator
	// never counts, however many copies of it are held.
	IndependentSources []string `json:"independent_sources"`
	// SingleSource is set when the version asserts something that no
	// independent source asserts.
	SingleSource bool `json:"single_source"`
	// Links lists, per corroborated assertion, who else asserts it.
	Links []Link `json:"links,omitempty"`
}

// Link is one assertion of a version that other originators make too.
type Link struct {
	Assertion
	// Sources names the independent originators asserting it.
	Sources []string `json:"sources"`
	// Objects lists some of their objects (at most maxLinkObjects).
	Objects []string `json:"objects"`
	// Matched is the other spelling the name matcher linked, for names
	// that are not equal after NormalName.
	Matched string `json:"matched,omitempty"`
}

// maxLinkObjects bounds the objects a Link lists.
const maxLinkObjects = 10

// Of returns the corroboration of version v, as the index holds it; v
// need not be indexed (a quarantined version is compared all the same).
// fields are v's top-level properties, used only when v is not indexed.
func (ix *Index) Of(v *detente.ObjectVersion, fields func() map[string]any) Corroboration {
	origin := v.OriginKey().String()
	ix.mu.RLock()
	e := ix.bySeq[v.Seq]
	ix.mu.RUnlock()
	var as []Assertion
	if e != nil && e.id == v.ID {
		as = e.assertions
	} else if fields != nil {
		as = Extract(v.Type, fields())
	}
	return ix.corroborate(origin, as)
}

// corroborate computes the corroboration of assertions as made by origin.
func (ix *Index) corroborate(origin string, as []Assertion) Corroboration {
	c := Corroboration{Assertions: len(as), IndependentSources: []string{}}
	if len(as) == 0 {
		return c
	}
	var names *screen.Index
	if slices.ContainsFunc(as, func(a Assertion) bool { return a.Kind == KindName }) {
		names = ix.nameMatcher()
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	all := map[string]bool{}
	for _, a := range as {
		keys := []Assertion{a}
		matched := map[Assertion]string{}
		if a.Kind == KindName && names != nil {
			for _, h := range names.Search(screen.Query{Name: a.Value}, 10) {
				if k := (Assertion{Kind: KindName, Value: h.EntityID}); h.Match && k != a {
					keys = append(keys, k)
					matched[k] = h.EntityID
				}
			}
		}
		for _, k := range keys {
			link := Link{Assertion: a, Matched: matched[k]}
			srcs := map[string]bool{}
			for _, w := range ix.byKey[k] {
				if w.origin == origin || ix.revoked[w.origin+" "+w.id] {
					continue
				}
				if !srcs[w.origin] {
					srcs[w.origin] = true
					link.Sources = append(link.Sources, ix.nameOf(w.origin))
				}
				if len(link.Objects) < maxLinkObjects && !slices.Contains(link.Objects, w.id) {
					link.Objects = append(link.Objects, w.id)
				}
			}
			for s := range srcs {
				all[s] = true
			}
			if len(link.Sources) > 0 {
				slices.Sort(link.Sources)
				c.Links = append(c.Links, link)
			}
		}
	}
	for s := range all {
		c.IndependentSources = append(c.IndependentSources, ix.nameOf(s))
	}
	slices.Sort(c.IndependentSources)
	c.SingleSource = len(all) == 0
	return c
}

// nameOf names an origin key: the originator name it was seen under
// ("self" for this node), else the key itself.
func (ix *Index) nameOf(origin string) string {
	if n := ix.names[origin]; n != "" {
		return n
	}
	return origin
}

// nameMatcher returns the name matcher's index over every name asserted,
// rebuilding it when names were added.
func (ix *Index) nameMatcher() *screen.Index {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.nameIndex != nil && !ix.nameDirty {
		return ix.nameIndex
	}
	ds := make([]detente.Designation, len(ix.nameVals))
	for i, v := range ix.nameVals {
		ds[i] = detente.Designation{EntityID: v, Type: detente.EntityOther, Names: []detente.DesignationName{{Name: v, Kind: detente.NameKindPrimary}}}
	}
	ix.nameIndex, ix.nameDirty = screen.NewIndex(ds), false
	return ix.nameIndex
}

// Asserters returns the origins (by name) that assert a, equal after
// canonicalisation, leaving out revoked objects.
func (ix *Index) Asserters(a Assertion) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, w := range ix.byKey[a] {
		if !seen[w.origin] && !ix.revoked[w.origin+" "+w.id] {
			seen[w.origin] = true
			out = append(out, ix.nameOf(w.origin))
		}
	}
	slices.Sort(out)
	return out
}

// NameOf names the origin key origin: the originator name the index saw
// it under, else fallback, else the key.
func (ix *Index) NameOf(origin, fallback string) string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if n := ix.names[origin]; n != "" {
		return n
	}
	return cmp.Or(fallback, origin)
}
