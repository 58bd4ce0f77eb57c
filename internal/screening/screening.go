// Package screening is the node's designation lists and name screening: it
// loads each authority's issues into the store (logging additions, changes
// and delistings), records the designations partners share as STIX, keeps
// an in-memory screening index over every active designation (rebuilt when
// any process serving the node changes the lists), and screens names and
// compares lists with internal/screen. The node composes it and hands it
// the store.
package screening

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"detente"
	"detente/internal/lists"
	"detente/internal/screen"
)

// listsVersionKey is the store setting bumped by every list load, so every
// process serving the node knows to rebuild its screening index.
const listsVersionKey = "lists.version"

// ListLoad sums up one load of an authority's list.
type ListLoad struct {
	Authority string                    `json:"authority"`
	Total     int                       `json:"total"`
	Added     int                       `json:"added"`
	Removed   int                       `json:"removed"`
	Changed   int                       `json:"changed"`
	Changes   []detente.DesignationDiff `json:"changes,omitempty"`
}

// MassDelistingPercent is the share of an authority's active entries that
// one issue of its list may delist without ListLoadOptions.AllowMassDelisting.
// A file cut short, or the wrong file, looks like a mass delisting: every
// entry it lacks would stop being screened.
const MassDelistingPercent = 20

// ListLoadOptions tunes LoadList.
type ListLoadOptions struct {
	// AllowMassDelisting lets an issue delist more than
	// MassDelistingPercent of the authority's active entries.
	AllowMassDelisting bool
}

// LoadList replaces the current issue of authority's list with ds, in one
// transaction. Additions, changes and removals are each logged; removed
// entries are kept, marked delisted on the day of the load. Designations of
// different authorities are never merged.
//
// It refuses, changing nothing, an issue with a designation that breaks
// lists.Check or two with the same entity id (EINVALID), and one that would
// delist more than MassDelistingPercent of the authority's active entries
// unless opts.AllowMassDelisting is set (ECONFLICT). The first issue of an
// authority delists nothing.
func (s *Service) LoadList(ctx context.Context, authority string, ds []detente.Designation, opts ListLoadOptions) (*ListLoad, error) {
	if authority == "" || !detente.ValidName(authority) {
		return nil, detente.Errorf(detente.EINVALID, "authority %q must be a short lowercase name, e.g. un, ofac, eu or a partner's name", authority)
	}
	now := s.now()
	seen := make(map[string]bool, len(ds))
	for i := range ds {
		d := &ds[i]
		if err := lists.Check(d, now); err != nil {
			return nil, detente.Errorf(detente.EINVALID, "%s list, designation %d (%s): %v", authority, i+1, d.EntityID, err)
		}
		if seen[d.EntityID] {
			return nil, detente.Errorf(detente.EINVALID, "%s list: entity id %s appears twice", authority, d.EntityID)
		}
		seen[d.EntityID] = true
	}
	res := &ListLoad{Authority: authority, Total: len(ds)}
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		res.Added, res.Removed, res.Changed = 0, 0, 0
		stored, err := tx.Designations(ctx, authority, false)
		if err != nil {
			return err
		}
		old := make([]detente.Designation, len(stored))
		for i, d := range stored {
			old[i] = *d
		}
		next := slices.Clone(ds)
		for i := range next {
			next[i].Authority = authority
		}
		res.Changes = lists.Diff(old, next)
		delisted := 0
		for _, c := range res.Changes {
			if c.Change == detente.DiffRemoved {
				delisted++
			}
		}
		if active := len(old); delisted*100 > active*MassDelistingPercent && !opts.AllowMassDelisting {
			return detente.Errorf(detente.ECONFLICT, "this issue of the %s list would delist %d of its %d active entries (%.1f %%), more than %d %%: "+
				"refused, nothing changed. A file cut short or of the wrong kind does this; if the delistings are real, "+
				"load it again with --allow-mass-delisting (API: allow_mass_delisting=true)",
				authority, delisted, active, float64(delisted)*100/float64(active), MassDelistingPercent)
		}
		today := now.Format("2006-01-02")
		for _, c := range res.Changes {
			var d *detente.Designation
			switch c.Change {
			case detente.DiffAdded:
				res.Added++
				d = c.New
			case detente.DiffChanged:
				res.Changed++
				d = c.New
			case detente.DiffRemoved:
				res.Removed++
				gone := *c.Old
				if gone.DelistedOn == "" {
					gone.DelistedOn = today
				}
				d = &gone
			}
			d.Authority = authority
			if err := tx.PutDesignation(ctx, d); err != nil {
				return err
			}
			body := map[string]any{"authority": authority, "entity_id": c.EntityID, "change": c.Change, "name": c.Name}
			if len(c.Fields) > 0 {
				body["fields"] = c.Fields
			}
			if err := logEvent(ctx, tx, now, body); err != nil {
				return err
			}
		}
		return bumpListsVersion(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("load %s list: %w", authority, err)
	}
	return res, nil
}

// Service holds a node's designation lists and screens against them.
type Service struct {
	store detente.Store
	name  string
	now   func() time.Time

	// The in-memory screening index, rebuilt when the lists change (in this
	// process or another one on the same store).
	mu      sync.Mutex
	index   *screen.Index
	ids     *screen.IdentifierIndex
	byKey   map[string]int // designation key → its place in index.Designations()
	version string
	checked time.Time

	// Comparisons of lists running or done, by authorities.
	jobsMu sync.Mutex
	jobs   map[string]*CompareJob
}

// New returns the screening of the node called name over store; now is
// its clock (nil for time.Now).
func New(store detente.Store, name string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, name: name, now: func() time.Time { return now().UTC() }}
}

// indexRecheck is how often a process checks whether another process
// changed the lists.
const indexRecheck = time.Second

// Index returns the current screening index over every active
// designation, building it on first use and after any list changes.
func (s *Service) Index(ctx context.Context) (*screen.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index != nil && time.Since(s.checked) < indexRecheck {
		return s.index, nil
	}
	var version string
	var ds []*detente.Designation
	err := s.store.View(ctx, func(tx detente.Tx) error {
		version, _ = tx.Meta(ctx, listsVersionKey)
		if s.index != nil && version == s.version {
			return nil
		}
		var err error
		ds, err = tx.Designations(ctx, "", false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("screening index: %w", err)
	}
	s.checked = time.Now()
	if s.index != nil && version == s.version {
		return s.index, nil
	}
	flat := make([]detente.Designation, len(ds))
	ids := screen.NewIdentifierIndex()
	byKey := make(map[string]int, len(ds))
	for i, d := range ds {
		flat[i] = *d
		byKey[d.Key()] = i
		for _, id := range d.Identifiers {
			// A listed value nothing can read (no digit of a number left)
			// is left out; everything else is indexed, as written if need be.
			_ = ids.Add(d.Key(), ScreenIdentifier(id))
		}
	}
	s.index, s.ids, s.byKey, s.version = screen.NewIndex(flat), ids, byKey, version
	return s.index, nil
}

// ScreenIdentifier converts a designation's identifier to screen's.
func ScreenIdentifier(id detente.DesignationIdentifier) screen.Identifier {
	return screen.Identifier{Type: screen.IdentifierType(id.Type), Value: id.Value, Chain: id.Chain, Country: id.Country}
}

// IdentifierHit is one designation that carries a screened identifier.
type IdentifierHit struct {
	Authority     string             `json:"authority"`
	EntityID      string             `json:"entity_id"`
	Type          detente.EntityType `json:"type"`
	Name          string             `json:"name"`
	Regime        string             `json:"regime,omitempty"`
	ListedOn      string             `json:"listed_on,omitempty"`
	DatesOfBirth  []string           `json:"dates_of_birth,omitempty"`
	Nationalities []string           `json:"nationalities,omitempty"`
	// Query is the identifier screened, Listed the one the list gives,
	// Canonical the key both share.
	Query     screen.Identifier `json:"query"`
	Listed    screen.Identifier `json:"listed"`
	Canonical string            `json:"canonical"`
	// Branch, StateUnconfirmed and AsWritten qualify the match (see
	// screen.IdentifierHit).
	Branch           bool `json:"branch,omitempty"`
	StateUnconfirmed bool `json:"state_unconfirmed,omitempty"`
	AsWritten        bool `json:"as_written,omitempty"`
}

// ScreenIdentifiers looks each identifier up exactly, after
// canonicalisation, in every authority's active designations. An
// identifier that cannot be canonicalised (and that no list writes the
// same) is EINVALID naming it.
func (s *Service) ScreenIdentifiers(ctx context.Context, ids []screen.Identifier) ([]IdentifierHit, error) {
	if len(ids) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "an identifier to screen is required")
	}
	if _, err := s.Index(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	idx, x, byKey := s.index, s.ids, s.byKey
	s.mu.Unlock()
	ds := idx.Designations()
	out := []IdentifierHit{}
	for _, id := range ids {
		hits, err := x.ScreenIdentifier(id)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "%s", strings.TrimPrefix(err.Error(), screen.ErrIdentifier.Error()+": "))
		}
		for _, h := range hits {
			i, ok := byKey[h.Designation]
			if !ok {
				continue
			}
			d := &ds[i]
			out = append(out, IdentifierHit{Authority: d.Authority, EntityID: d.EntityID, Type: d.Type, Name: d.PrimaryName(),
				Regime: d.Regime, ListedOn: d.ListedOn, DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities,
				Query: id, Listed: h.Listed, Canonical: h.Canonical, Branch: h.Branch, StateUnconfirmed: h.StateUnconfirmed, AsWritten: h.AsWritten})
		}
	}
	return out, nil
}

// IdentifierCount returns the number of identifiers the active
// designations of authority carry, by type.
func (s *Service) IdentifierCount(ctx context.Context, authority string) (map[string]int, error) {
	out := map[string]int{}
	err := s.store.View(ctx, func(tx detente.Tx) error {
		ds, err := tx.Designations(ctx, authority, false)
		for _, d := range ds {
			for _, id := range d.Identifiers {
				out[id.Type]++
			}
		}
		return err
	})
	return out, err
}

// Screen searches every authority's active designations for q and returns
// the best hits, each with its authority, regime, listing date, matched
// name and explanation.
func (s *Service) Screen(ctx context.Context, q screen.Query, limit int) ([]screen.Hit, error) {
	if q.Name == "" {
		return nil, detente.Errorf(detente.EINVALID, "a name to screen is required")
	}
	idx, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	hits := idx.Search(q, limit)
	if hits == nil {
		hits = []screen.Hit{}
	}
	return hits, nil
}

// CompareLists resolves the active designations of the given authorities
// (all when none is given) into entities and reports where they agree and
// disagree.
func (s *Service) CompareLists(ctx context.Context, authorities []string) (*screen.Report, error) {
	return s.CompareListsProgress(ctx, authorities, nil)
}

// CompareListsProgress is CompareLists calling progress (when not nil), from
// one goroutine, as designations are resolved.
func (s *Service) CompareListsProgress(ctx context.Context, authorities []string, progress func(done, total int)) (*screen.Report, error) {
	var ds []detente.Designation
	err := s.store.View(ctx, func(tx detente.Tx) error {
		all, err := tx.Designations(ctx, "", false)
		if err != nil {
			return err
		}
		for _, d := range all {
			if len(authorities) == 0 || slices.Contains(authorities, d.Authority) {
				ds = append(ds, *d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range authorities {
		if !slices.ContainsFunc(ds, func(d detente.Designation) bool { return d.Authority == a }) {
			return nil, detente.Errorf(detente.ENOTFOUND, "no designations of authority %s: load its list with 'detente lists load'", a)
		}
	}
	r := screen.CompareLists(ds, screen.CompareOptions{Progress: progress})
	return &r, nil
}

// ListSummary is one authority's list as the node holds it.
type ListSummary struct {
	Authority string `json:"authority"`
	Active    int    `json:"active"`
	Delisted  int    `json:"delisted"`
	// Identifiers counts the identifiers of the active designations.
	Identifiers int `json:"identifiers"`
}

// Lists summarises the lists the node holds.
func (s *Service) Lists(ctx context.Context) ([]ListSummary, error) {
	var out []ListSummary
	err := s.store.View(ctx, func(tx detente.Tx) error {
		all, err := tx.Designations(ctx, "", true)
		if err != nil {
			return err
		}
		for _, d := range all {
			if len(out) == 0 || out[len(out)-1].Authority != d.Authority {
				out = append(out, ListSummary{Authority: d.Authority})
			}
			if d.DelistedOn != "" {
				out[len(out)-1].Delisted++
			} else {
				out[len(out)-1].Active++
				out[len(out)-1].Identifiers += len(d.Identifiers)
			}
		}
		return nil
	})
	if out == nil {
		out = []ListSummary{}
	}
	return out, err
}

// NoteDesignation records, in tx, the designation a STIX identity or
// threat-actor carries (the designation extension, docs/lists.md),
// attributed to the object's signer: this node's name for its own, the
// partner's name for a partner's. Objects of unknown originators designate
// nothing, and neither do relayed copies, whose originator only the relay
// vouches for: a partner must not add to or delist from another
// authority's list. It returns the log entry body of the change (nil when
// there is none): the caller logs it, as an event of its own or within the
// object's.
func (s *Service) NoteDesignation(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion, fields map[string]any) (map[string]any, error) {
	if (v.Type != "identity" && v.Type != "threat-actor") || v.Quarantine != "" || v.Originator == "" || v.Relayed() {
		return nil, nil
	}
	authority := v.Originator
	if authority == detente.OriginSelf {
		authority = s.name
	}
	d, ok, err := lists.FromSTIX(v.ID, fields, authority)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	// A partner's designations meet the limits a list file must.
	if err := lists.Check(d, s.now()); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "designation %s of %s: %v", d.EntityID, authority, err)
	}
	if err := tx.PutDesignation(ctx, d); err != nil {
		return nil, err
	}
	change := "shared"
	if d.DelistedOn != "" {
		change = detente.DiffRemoved
	}
	if err := bumpListsVersion(ctx, tx); err != nil {
		return nil, err
	}
	return map[string]any{"authority": authority, "entity_id": d.EntityID, "change": change, "name": d.PrimaryName(), "object": v.ID}, nil
}

// LogDesignation logs the body NoteDesignation returned as an event of its
// own, in tx.
func (s *Service) LogDesignation(ctx context.Context, tx detente.Tx, body map[string]any) error {
	if body == nil {
		return nil
	}
	return logEvent(ctx, tx, s.now(), body)
}

// logEvent appends a designation event to the log in tx.
func logEvent(ctx context.Context, tx detente.Tx, now time.Time, body any) error {
	e, err := detente.NewEvent(now, detente.EventDesignation, "", body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

func bumpListsVersion(ctx context.Context, tx detente.Tx) error {
	v, _ := tx.Meta(ctx, listsVersionKey)
	k, _ := strconv.Atoi(v)
	return tx.SetMeta(ctx, listsVersionKey, strconv.Itoa(k+1))
}
