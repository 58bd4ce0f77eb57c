// Package corroboration indexes what object versions assert — observable
// values, the values indicator patterns compare, the names of threat
// actors, intrusion sets and identities — across originators, and tells
// for each version which other originators independently assert the same
// thing, and which versions nobody else corroborates (single-source). It
// also builds the curation report on a partner: what it shares, how much of
// it stands alone, its terrorist labels against every other authority's
// lists, and what others contradict. docs/corroboration.md describes it.
//
// Independence comes from provenance: a version counts for its origin
// (detente.ObjectVersion.OriginKey), so a copy a partner relays from
// another originator counts for that originator, and one originator's
// several objects and versions asserting a value count once.
//
// The index lives in memory. The node feeds it what it stores (Note, right
// after the commit) and it catches up with the store by Seq whenever the
// store holds versions it has not seen (another process on the same
// PostgreSQL database, a path that stores without the hook), so it is
// always rebuilt from the store and never stored twice.
package corroboration

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"detente"
)

// Service keeps a node's corroboration index in step with its store.
type Service struct {
	store detente.Store
	lists Lists
	now   func() time.Time

	mu      sync.Mutex // serialises catching up
	ix      *Index
	seq     int64 // every version with Seq <= seq is in ix
	checked time.Time
}

// Config is what a Service needs from the node.
type Config struct {
	Store detente.Store
	// Lists returns the screening index over every authority's active
	// designations (the node's screening); nil screens labels against
	// nothing.
	Lists Lists
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// New returns the corroboration of a node. The index is built on first
// use (or by Build).
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{store: c.Store, lists: c.Lists, now: c.Now}
}

// recheck is how often a query asks the store whether it holds versions
// the index has not seen.
const recheck = time.Second

// scanPage is how many versions a catch-up reads per store call.
const scanPage = 5000

// Note adds versions the node has just stored (committed), with their
// top-level properties (fields[i] for vs[i]; nil entries are parsed from
// Raw). It does nothing until the index is built: the first query reads the
// store anyway.
func (s *Service) Note(vs []*detente.ObjectVersion, fields []map[string]any) {
	s.mu.Lock()
	ix := s.ix
	s.mu.Unlock()
	if ix == nil {
		return
	}
	for i, v := range vs {
		var f map[string]any
		if i < len(fields) {
			f = fields[i]
		}
		if f == nil {
			f = parseFields(v.Raw)
		}
		ix.Add(v, f)
	}
}

// Build builds the index from the store if it is not built yet, and
// catches up with what the store holds.
func (s *Service) Build(ctx context.Context) error {
	_, err := s.index(ctx, true)
	return err
}

// Rebuild drops the index and reads it again from the store.
func (s *Service) Rebuild(ctx context.Context) error {
	s.mu.Lock()
	s.ix, s.seq = nil, 0
	s.mu.Unlock()
	return s.Build(ctx)
}

// Index returns the index, caught up with the store.
func (s *Service) Index(ctx context.Context) (*Index, error) { return s.index(ctx, false) }

func (s *Service) index(ctx context.Context, force bool) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix != nil && !force && time.Since(s.checked) < recheck {
		return s.ix, nil
	}
	if s.ix == nil {
		s.ix, s.seq = NewIndex(), 0
	}
	err := s.store.View(ctx, func(tx detente.Tx) error {
		count, err := tx.CountObjects(ctx)
		if err != nil {
			return err
		}
		if int64(s.ix.Len()) == count {
			// Seqs are unique and versions never deleted: the index holds
			// exactly what the store holds.
			s.seq = s.ix.MaxSeq()
			return nil
		}
		for {
			vs, err := tx.Objects(ctx, detente.ObjectFilter{AfterSeq: s.seq, WithQuarantined: true, Limit: scanPage})
			if err != nil {
				return err
			}
			addPage(s.ix, vs)
			if len(vs) > 0 {
				s.seq = vs[len(vs)-1].Seq
			}
			if len(vs) < scanPage {
				return nil
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("corroboration index: %w", err)
	}
	s.checked = time.Now()
	return s.ix, nil
}

// Of returns the corroboration of each of vs, in order.
func (s *Service) Of(ctx context.Context, vs []*detente.ObjectVersion) ([]Corroboration, error) {
	ix, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Corroboration, len(vs))
	for i, v := range vs {
		out[i] = ix.Of(v, func() map[string]any { return parseFields(v.Raw) })
	}
	return out, nil
}

// addPage indexes a page of stored versions, reading what they assert
// from their JSON on every core: most of the cost of a rebuild.
func addPage(ix *Index, vs []*detente.ObjectVersion) {
	type extracted struct {
		as      []Assertion
		revoked bool
	}
	out := make([]extracted, len(vs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(vs)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(vs); i += workers {
				if vs[i].Quarantine != "" {
					continue
				}
				f := assertingFields(vs[i].Raw)
				out[i].as = Extract(vs[i].Type, f)
				out[i].revoked, _ = f["revoked"].(bool)
			}
		}()
	}
	wg.Wait()
	for i, v := range vs {
		ix.add(v, out[i].as, out[i].revoked)
	}
}

// asserting holds the properties Extract reads, and revoked: decoding
// into it skips the rest of an object, which a map would build.
type asserting struct {
	Value        string         `json:"value"`
	Hashes       map[string]any `json:"hashes"`
	AccountLogin string         `json:"account_login"`
	Currency     string         `json:"currency"`
	Chain        string         `json:"chain"`
	Address      string         `json:"address"`
	Number       string         `json:"number"`
	Pattern      string         `json:"pattern"`
	PatternType  string         `json:"pattern_type"`
	Name         string         `json:"name"`
	Aliases      []any          `json:"aliases"`
	Revoked      bool           `json:"revoked"`
}

// assertingFields returns the properties of a stored object's JSON that
// Extract reads, as Extract takes them.
func assertingFields(raw []byte) map[string]any {
	var a asserting
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	f := make(map[string]any, 4)
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("value", a.Value)
	set("account_login", a.AccountLogin)
	set("currency", a.Currency)
	set("chain", a.Chain)
	set("address", a.Address)
	set("number", a.Number)
	set("pattern", a.Pattern)
	set("pattern_type", a.PatternType)
	set("name", a.Name)
	if a.Hashes != nil {
		f["hashes"] = a.Hashes
	}
	if a.Aliases != nil {
		f["aliases"] = a.Aliases
	}
	if a.Revoked {
		f["revoked"] = true
	}
	return f
}

// parseFields returns the top-level properties of a stored object's JSON
// (nil when it does not parse, which stored objects always do).
func parseFields(raw []byte) map[string]any {
	var f map[string]any
	if json.Unmarshal(raw, &f) != nil {
		return nil
	}
	return f
}
