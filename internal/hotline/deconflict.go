package hotline

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/golang/geo/s2"

	"detente"
)

// Ref names one version of one party's activity.
type Ref struct {
	Owner   string `json:"owner"` // the node that gave notice, e.g. "bravo"
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// Conflict is a pair of activities of different owners that overlap in
// space, altitude and time.
type Conflict struct {
	A Ref `json:"a"` // the activity that was being put when the conflict was found
	B Ref `json:"b"`
	// Start and End bound the overlap of the two windows, [Start, End).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Lower and Upper bound the overlap of the two bands, in metres above
	// mean sea level; Lower == Upper when the bands only touch.
	Lower float64 `json:"lower_m"`
	Upper float64 `json:"upper_m"`
}

// Overlap returns the overlap of the two bands as a band in metres (to
// the millimetre), which Band.String writes "0m..120m".
func (c Conflict) Overlap() Band {
	mm := func(v float64) Height { return Height{Value: math.Round(v*1000) / 1000, Unit: UnitMetres} }
	return Band{Lower: mm(c.Lower), Upper: mm(c.Upper)}
}

// Change is what putting or removing an activity changed.
type Change struct {
	New      []Conflict `json:"new,omitempty"`      // conflicts that did not exist before
	Kept     []Conflict `json:"kept,omitempty"`     // conflicts that exist still, re-evaluated
	Resolved []Conflict `json:"resolved,omitempty"` // conflicts that no longer exist
}

// Deconflictor holds the active activities of every party and finds
// conflicts between those of different owners. A spatial index (a covering
// of each area by S2 cells) keeps a check against thousands of activities
// to a few exact geometry tests. It is safe for concurrent use.
//
// It is in memory: the Service rebuilds it from the stored notices,
// putting each activity's latest version, whenever another process or an
// uncommitted transaction may have changed them.
type Deconflictor struct {
	mu        sync.Mutex
	entries   map[string]*entry          // by owner and id
	cover     map[s2.CellID][]*entry     // cells of each covering
	ancestors map[s2.CellID][]*entry     // strict ancestors of those cells
	conflicts map[[2]string]Conflict     // by pair of entry keys, ordered
	byEntry   map[string]map[string]bool // entry key → keys it conflicts with
}

type entry struct {
	key   string
	owner string
	act   *Activity
	c     *compiled
	cells s2.CellUnion
	raw   []byte // the activity's JSON, to recognise a repeat
}

// NewDeconflictor returns an empty Deconflictor.
func NewDeconflictor() *Deconflictor {
	return &Deconflictor{
		entries:   map[string]*entry{},
		cover:     map[s2.CellID][]*entry{},
		ancestors: map[s2.CellID][]*entry{},
		conflicts: map[[2]string]Conflict{},
		byEntry:   map[string]map[string]bool{},
	}
}

// coverer covers areas for the index. Coverings are conservative: every
// point of the area, and every point within TouchTolerance of it, is in
// a cell of its covering.
var coverer = &s2.RegionCoverer{MinLevel: 0, MaxLevel: 16, LevelMod: 1, MaxCells: 8}

func entryKey(owner, id string) string { return owner + "\x00" + id }

func newEntry(owner string, a *Activity) (*entry, error) {
	if !detente.ValidName(owner) {
		return nil, detente.Errorf(detente.EINVALID, "activity owner %q is not a valid node name", owner)
	}
	c, err := a.compile()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "activity %s: %v", a.ID, err)
	}
	cu := coverer.Covering(c.region.bound)
	// Grow the covering by a little more than the touch tolerance, so that
	// areas that touch along a cell boundary share a cell.
	cu.ExpandByRadius(metresToAngle(2*TouchTolerance), 2)
	cp := *a
	return &entry{key: entryKey(owner, a.ID), owner: owner, act: &cp, c: c, cells: cu, raw: raw}, nil
}

func (e *entry) ref() Ref { return Ref{Owner: e.owner, ID: e.act.ID, Version: e.act.Version} }

// Check returns the conflicts that activity a of owner would have with the
// activities held, without holding it.
func (d *Deconflictor) Check(owner string, a *Activity) ([]Conflict, error) {
	e, err := newEntry(owner, a)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if a.Status == ActivityCancelled {
		return nil, nil
	}
	return d.find(e), nil
}

// Put holds activity a of owner (a new notice, an amendment or a
// cancellation) and re-evaluates its conflicts. An amendment or
// cancellation must have a higher Version than the version held; putting
// the version held again changes nothing; an older version, or the same
// version with other content, is an ECONFLICT error.
func (d *Deconflictor) Put(owner string, a *Activity) (Change, error) {
	e, err := newEntry(owner, a)
	if err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.entries[e.key]
	if old != nil {
		switch {
		case a.Version == old.act.Version && bytes.Equal(e.raw, old.raw):
			return Change{Kept: d.conflictsOf(old.key)}, nil
		case a.Version <= old.act.Version:
			return Change{}, detente.Errorf(detente.ECONFLICT, "activity %s of %s: version %d is not newer than version %d held", a.ID, owner, a.Version, old.act.Version)
		}
	}
	before := map[string]Conflict{}
	if old != nil {
		for _, c := range d.conflictsOf(old.key) {
			before[other(c, old.key)] = c
		}
		d.remove(old)
	}
	var ch Change
	if a.Status == ActivityActive {
		found := d.find(e)
		d.insert(e, found)
		for _, c := range found {
			k := entryKey(c.B.Owner, c.B.ID)
			if _, ok := before[k]; ok {
				ch.Kept = append(ch.Kept, c)
				delete(before, k)
			} else {
				ch.New = append(ch.New, c)
			}
		}
	}
	for _, c := range before {
		ch.Resolved = append(ch.Resolved, c)
	}
	sortConflicts(ch.Resolved)
	return ch, nil
}

// Remove drops the activity id of owner (for instance when its channel
// closes) and returns the conflicts that went with it.
func (d *Deconflictor) Remove(owner, id string) Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.entries[entryKey(owner, id)]
	if e == nil {
		return Change{}
	}
	resolved := d.conflictsOf(e.key)
	d.remove(e)
	return Change{Resolved: resolved}
}

// Expire drops every activity whose window ended at or before now, and
// returns them.
func (d *Deconflictor) Expire(now time.Time) []Ref {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Ref
	for _, e := range d.entries {
		if !e.act.End.After(now) {
			out = append(out, e.ref())
			d.remove(e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Owner+out[i].ID < out[j].Owner+out[j].ID })
	return out
}

// Conflicts returns the conflicts of the activity id of owner; every
// conflict when owner and id are "".
func (d *Deconflictor) Conflicts(owner, id string) []Conflict {
	d.mu.Lock()
	defer d.mu.Unlock()
	if owner == "" && id == "" {
		out := make([]Conflict, 0, len(d.conflicts))
		for _, c := range d.conflicts {
			out = append(out, c)
		}
		sortConflicts(out)
		return out
	}
	return d.conflictsOf(entryKey(owner, id))
}

// Len returns how many activities are held.
func (d *Deconflictor) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// conflictsOf returns the conflicts of entry key k, each with k's activity
// as A.
func (d *Deconflictor) conflictsOf(k string) []Conflict {
	var out []Conflict
	for o := range d.byEntry[k] {
		c := d.conflicts[pair(k, o)]
		if entryKey(c.A.Owner, c.A.ID) != k {
			c.A, c.B = c.B, c.A
		}
		out = append(out, c)
	}
	sortConflicts(out)
	return out
}

func other(c Conflict, k string) string {
	if a := entryKey(c.A.Owner, c.A.ID); a != k {
		return a
	}
	return entryKey(c.B.Owner, c.B.ID)
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

func sortConflicts(cs []Conflict) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.A.Owner+a.A.ID != b.A.Owner+b.A.ID {
			return a.A.Owner+a.A.ID < b.A.Owner+b.A.ID
		}
		return a.B.Owner+a.B.ID < b.B.Owner+b.B.ID
	})
}

// find returns the conflicts of e with the entries held, e as A. The
// spatial index yields the candidates whose coverings share a cell with
// e's; time and altitude, cheap to test, go before the exact geometry.
func (d *Deconflictor) find(e *entry) []Conflict {
	seen := map[*entry]bool{}
	var out []Conflict
	test := func(o *entry) {
		if seen[o] || o.owner == e.owner {
			return
		}
		seen[o] = true
		if c, ok := conflict(e, o); ok {
			out = append(out, c)
		}
	}
	for _, id := range e.cells {
		for _, o := range d.cover[id] {
			test(o)
		}
		for _, o := range d.ancestors[id] {
			test(o)
		}
		for l := id.Level() - 1; l >= 0; l-- {
			for _, o := range d.cover[id.Parent(l)] {
				test(o)
			}
		}
	}
	sortConflicts(out)
	return out
}

// conflict tests two activities exactly: windows [Start, End) overlap,
// bands [Lower, Upper] overlap (touching counts), areas share a point or
// touch.
func conflict(a, b *entry) (Conflict, bool) {
	start, end := later(a.act.Start, b.act.Start), earlier(a.act.End, b.act.End)
	if !start.Before(end) {
		return Conflict{}, false
	}
	lo, hi := max(a.c.lo, b.c.lo), min(a.c.hi, b.c.hi)
	if lo > hi {
		return Conflict{}, false
	}
	if !a.c.region.intersects(b.c.region) {
		return Conflict{}, false
	}
	return Conflict{
		A: a.ref(), B: b.ref(), Start: start, End: end,
		Lower: float64(lo) / 1000, Upper: float64(hi) / 1000,
	}, true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// insert adds e to the index with its conflicts found.
func (d *Deconflictor) insert(e *entry, found []Conflict) {
	d.entries[e.key] = e
	anc := map[s2.CellID]bool{}
	for _, id := range e.cells {
		d.cover[id] = append(d.cover[id], e)
		for l := id.Level() - 1; l >= 0; l-- {
			anc[id.Parent(l)] = true
		}
	}
	for id := range anc {
		d.ancestors[id] = append(d.ancestors[id], e)
	}
	for _, c := range found {
		o := entryKey(c.B.Owner, c.B.ID)
		d.conflicts[pair(e.key, o)] = c
		d.link(e.key, o)
		d.link(o, e.key)
	}
}

func (d *Deconflictor) link(a, b string) {
	m := d.byEntry[a]
	if m == nil {
		m = map[string]bool{}
		d.byEntry[a] = m
	}
	m[b] = true
}

// remove takes e out of the index with its conflicts.
func (d *Deconflictor) remove(e *entry) {
	delete(d.entries, e.key)
	anc := map[s2.CellID]bool{}
	for _, id := range e.cells {
		d.cover[id] = without(d.cover[id], e)
		if len(d.cover[id]) == 0 {
			delete(d.cover, id)
		}
		for l := id.Level() - 1; l >= 0; l-- {
			anc[id.Parent(l)] = true
		}
	}
	for id := range anc {
		d.ancestors[id] = without(d.ancestors[id], e)
		if len(d.ancestors[id]) == 0 {
			delete(d.ancestors, id)
		}
	}
	for o := range d.byEntry[e.key] {
		delete(d.conflicts, pair(e.key, o))
		delete(d.byEntry[o], e.key)
	}
	delete(d.byEntry, e.key)
}

func without(s []*entry, e *entry) []*entry {
	for i, x := range s {
		if x == e {
			s[i] = s[len(s)-1]
			s[len(s)-1] = nil
			return s[:len(s)-1]
		}
	}
	return s
}
