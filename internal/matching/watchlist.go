package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/psi"
)

// Watchlist is a named set of selectors of one type with a marking. Only
// watchlists marked at or below an agreement's TLP ceiling are matched
// against for that agreement's partners.
type Watchlist struct {
	Name    string           `json:"name"`
	Type    psi.Type         `json:"type"`
	Marking detente.TLP      `json:"marking"`
	Entries []WatchlistEntry `json:"entries"`
	Updated time.Time        `json:"updated"`
}

// WatchlistEntry is one selector of a watchlist: its value (from which
// every key is derived again) and its canonical value (for display and
// deduplication).
type WatchlistEntry struct {
	Value     string `json:"value"`
	Canonical string `json:"canonical"`
}

// WatchlistSummary describes a watchlist without its values.
type WatchlistSummary struct {
	Name    string      `json:"name"`
	Type    psi.Type    `json:"type"`
	Marking detente.TLP `json:"marking"`
	Entries int         `json:"entries"`
	Updated time.Time   `json:"updated"`
}

// WatchlistChange is the outcome of AddToWatchlist.
type WatchlistChange struct {
	WatchlistSummary
	Added     int `json:"added"`
	Unchanged int `json:"unchanged"` // already on the list
}

// AddToWatchlist creates watchlist name (of type typ, marked marking) or
// adds selectors to it. Selectors already on it (same canonical value)
// are left alone. The change is logged with counts only.
func (s *Service) AddToWatchlist(ctx context.Context, name string, typ psi.Type, marking detente.TLP, sels []SelectorLine) (*WatchlistChange, error) {
	if !detente.ValidName(name) {
		return nil, detente.Errorf(detente.EINVALID, "watchlist name %q must be lowercase letters, digits and hyphens, starting with a letter", name)
	}
	if _, err := ParseSelectorType(string(typ)); err != nil {
		return nil, err
	}
	if marking < detente.TLPClear || marking > detente.TLPRed {
		return nil, detente.Errorf(detente.EINVALID, "watchlist marking is required")
	}
	entries := make([]WatchlistEntry, 0, len(sels))
	for _, sl := range sels {
		if sl.Selector.Type != typ {
			return nil, detente.Errorf(detente.EINVALID, "line %d: a %s selector on a %s watchlist", sl.Line, sl.Selector.Type, typ)
		}
		c, err := sl.Selector.Canonical()
		if err != nil {
			return nil, LinesError("watchlist", []LineError{{Line: sl.Line, Err: err.Error()}})
		}
		entries = append(entries, WatchlistEntry{Value: sl.Selector.Value, Canonical: c})
	}
	res := &WatchlistChange{}
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		*res = WatchlistChange{}
		w := &Watchlist{Name: name, Type: typ, Marking: marking}
		b, err := tx.Doc(ctx, docWatchlist, name)
		switch {
		case err == nil:
			if err := json.Unmarshal(b, w); err != nil {
				return fmt.Errorf("decode watchlist %s: %w", name, err)
			}
			if w.Type != typ {
				return detente.Errorf(detente.ECONFLICT, "watchlist %s holds %s selectors, not %s", name, w.Type, typ)
			}
			if w.Marking != marking {
				return detente.Errorf(detente.ECONFLICT, "watchlist %s is marked TLP:%s, not TLP:%s", name, strings.ToUpper(w.Marking.String()), strings.ToUpper(marking.String()))
			}
		case detente.ErrorCode(err) != detente.ENOTFOUND:
			return err
		}
		seen := make(map[string]bool, len(w.Entries))
		for _, e := range w.Entries {
			k, err := entryKey(psi.Selector{Type: typ, Value: e.Value})
			if err != nil {
				return fmt.Errorf("watchlist %s: stored entry: %w", name, err)
			}
			seen[k] = true
		}
		for _, e := range entries {
			k, _ := entryKey(psi.Selector{Type: typ, Value: e.Value}) // canonicalised above
			if seen[k] {
				res.Unchanged++
				continue
			}
			seen[k] = true
			w.Entries = append(w.Entries, e)
			res.Added++
		}
		w.Updated = s.clock()
		body, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("encode watchlist: %w", err)
		}
		if err := tx.PutDoc(ctx, docWatchlist, name, body, false); err != nil {
			return err
		}
		res.WatchlistSummary = summary(w)
		return s.logEvent(ctx, tx, detente.EventWatchlist, "", map[string]any{
			"name": name, "type": typ, "marking": marking, "entries": len(w.Entries), "added": res.Added})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// entryKey is what deduplicates watchlist entries: the canonical value,
// and for a person every key (spellings of a name share a skeleton key
// but not their spelling keys).
func entryKey(sel psi.Selector) (string, error) {
	ks, err := sel.Keys()
	if err != nil {
		return "", err
	}
	if sel.Type != psi.TypePerson {
		return ks[0].Value, nil
	}
	vs := make([]string, len(ks))
	for i, k := range ks {
		vs[i] = k.Tag + "=" + k.Value
	}
	return strings.Join(vs, "\n"), nil
}

func summary(w *Watchlist) WatchlistSummary {
	return WatchlistSummary{Name: w.Name, Type: w.Type, Marking: w.Marking, Entries: len(w.Entries), Updated: w.Updated}
}

// Watchlists lists this node's watchlists, by name.
func (s *Service) Watchlists(ctx context.Context) ([]WatchlistSummary, error) {
	ws, err := s.watchlists(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WatchlistSummary, len(ws))
	for i, w := range ws {
		out[i] = summary(w)
	}
	return out, nil
}

func (s *Service) watchlists(ctx context.Context) ([]*Watchlist, error) {
	var ws []*Watchlist
	err := s.store.View(ctx, func(tx detente.Tx) error {
		var err error
		ws, err = readWatchlists(ctx, tx)
		return err
	})
	return ws, err
}

func readWatchlists(ctx context.Context, tx detente.Tx) ([]*Watchlist, error) {
	docs, err := tx.Docs(ctx, docWatchlist, "", 0)
	if err != nil {
		return nil, err
	}
	ws := make([]*Watchlist, 0, len(docs))
	for _, d := range docs {
		w := new(Watchlist)
		if err := json.Unmarshal(d.Body, w); err != nil {
			return nil, fmt.Errorf("decode watchlist %s: %w", d.ID, err)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// RemoveWatchlist deletes watchlist name.
func (s *Service) RemoveWatchlist(ctx context.Context, name string) error {
	return s.store.Update(ctx, func(tx detente.Tx) error {
		if _, err := tx.Doc(ctx, docWatchlist, name); err != nil {
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				return detente.Errorf(detente.ENOTFOUND, "watchlist %s not found", name)
			}
			return err
		}
		if err := tx.DeleteDoc(ctx, docWatchlist, name); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, detente.EventWatchlist, "", map[string]any{"name": name, "removed": true})
	})
}
