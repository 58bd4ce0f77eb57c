package node

// Private matching (docs/matching.md): watchlists, the owner's side of the
// protocols of internal/psi (terms, encoded watchlists, budgeted VOPRF
// evaluations, bulk and count exchanges) and the querier's side (Matcher).

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"
	"detente/internal/psi"
)

// Event types of private matching besides detente.EventMatchQuery, which
// records every query and every bulk or count exchange, on both sides.
const (
	// EventWatchlist records a watchlist added to or removed: its name,
	// type, marking and size, never its values.
	EventWatchlist = "watchlist.changed"
	// EventMatchEpoch records the encoded watchlist published to a
	// partner for an epoch, with the SHA-256 of the epoch's public key, so
	// that an owner cannot use a different key for one partner unnoticed.
	EventMatchEpoch = "match.epoch"
)

// Document kinds (detente.Tx.PutDoc) of private matching.
const (
	docWatchlist = "match.watchlist" // by watchlist name
	docOwnerKey  = "match.owner-key" // "current": the sealed OwnerKey seed
	docBudget    = "match.budget"    // by epoch: a partner's usage in a period
	docEncoding  = "match.encoding"  // by epoch: the encoded watchlist published
)

// MatchDocKinds lists the document kinds private matching keeps, for
// audits and tests.
var MatchDocKinds = []string{docWatchlist, docOwnerKey, docBudget, docEncoding}

// Limits of private matching.
const (
	// MaxWatchlistFile bounds a watchlist or selector file.
	MaxWatchlistFile = 256 << 20
	// maxEncoded bounds an encoded watchlist fetched from a partner.
	maxEncoded = 128 << 20
	// MaxQueryBody bounds a query request a partner sends.
	MaxQueryBody = 4 << 20
	// MaxBulkBody bounds a bulk hello a partner sends.
	MaxBulkBody = 40 << 20
	// maxLineErrors bounds the bad lines reported at once.
	maxLineErrors = 20
)

// ---- selectors and watchlists ----

// SelectorLine is a selector read from a file or a request, with where it
// came from and its text exactly as given (what a match reports).
type SelectorLine struct {
	Line     int          `json:"line"`
	Text     string       `json:"text"`
	Selector psi.Selector `json:"selector"`
}

// LineError is a selector that could not be read or canonicalised.
type LineError struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// LinesError reports every bad line of an input (at most 20 are listed).
func LinesError(what string, errs []LineError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d invalid selector(s)", what, len(errs))
	for i, e := range errs {
		if i == maxLineErrors {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		b.WriteString("; " + e.String())
	}
	return detente.Errorf(detente.EINVALID, "%s", b.String())
}

// ParseSelectorType checks a selector type name.
func ParseSelectorType(s string) (psi.Type, error) {
	t := psi.Type(s)
	if !slices.Contains(psi.Types, t) {
		names := make([]string, len(psi.Types))
		for i, t := range psi.Types {
			names[i] = string(t)
		}
		return "", detente.Errorf(detente.EINVALID, "selector type %q must be one of %s", s, strings.Join(names, ", "))
	}
	return t, nil
}

// ParseSelectorFile reads selectors of type typ: one per line (blank lines
// and lines starting with # are skipped), or for persons a CSV with the
// columns name,dob (an optional header line "name,dob"). Each selector is
// canonicalised; those that fail are returned as LineErrors with their
// line numbers.
func ParseSelectorFile(typ psi.Type, data []byte) ([]SelectorLine, []LineError) {
	var out []SelectorLine
	var bad []LineError
	lines := strings.Split(string(data), "\n")
	add := func(line int, sel psi.Selector) {
		text := strings.TrimSpace(lines[line-1])
		if _, err := sel.Keys(); err != nil {
			bad = append(bad, LineError{Line: line, Err: err.Error()})
			return
		}
		out = append(out, SelectorLine{Line: line, Text: text, Selector: sel})
	}
	if typ != psi.TypePerson {
		for i, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			add(i+1, psi.Selector{Type: typ, Value: l})
		}
		return out, bad
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad = append(bad, LineError{Line: line, Err: "malformed CSV: " + err.Error()})
			if pe == nil {
				break
			}
			continue
		}
		if first && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "name") && strings.EqualFold(strings.TrimSpace(rec[1]), "dob") {
			continue
		}
		if len(rec) != 2 {
			bad = append(bad, LineError{Line: line, Err: fmt.Sprintf("want 2 columns (name,dob), got %d", len(rec))})
			continue
		}
		add(line, psi.Person(strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])))
	}
	return out, bad
}

// SelectorsOf reads selectors of type typ given as strings (a person as
// "name|dob"); line numbers are positions counted from 1.
func SelectorsOf(typ psi.Type, values []string) ([]SelectorLine, []LineError) {
	var out []SelectorLine
	var bad []LineError
	for i, v := range values {
		sel := psi.Selector{Type: typ, Value: v}
		if _, err := sel.Keys(); err != nil {
			bad = append(bad, LineError{Line: i + 1, Err: err.Error()})
			continue
		}
		out = append(out, SelectorLine{Line: i + 1, Text: v, Selector: sel})
	}
	return out, bad
}

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
func (n *Node) AddToWatchlist(ctx context.Context, name string, typ psi.Type, marking detente.TLP, sels []SelectorLine) (*WatchlistChange, error) {
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
	for _, s := range sels {
		if s.Selector.Type != typ {
			return nil, detente.Errorf(detente.EINVALID, "line %d: a %s selector on a %s watchlist", s.Line, s.Selector.Type, typ)
		}
		c, err := s.Selector.Canonical()
		if err != nil {
			return nil, LinesError("watchlist", []LineError{{Line: s.Line, Err: err.Error()}})
		}
		entries = append(entries, WatchlistEntry{Value: s.Selector.Value, Canonical: c})
	}
	res := &WatchlistChange{}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
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
		w.Updated = n.now()
		body, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("encode watchlist: %w", err)
		}
		if err := tx.PutDoc(ctx, docWatchlist, name, body, false); err != nil {
			return err
		}
		res.WatchlistSummary = summary(w)
		return n.logEvent(ctx, tx, EventWatchlist, "", map[string]any{
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
func entryKey(s psi.Selector) (string, error) {
	ks, err := s.Keys()
	if err != nil {
		return "", err
	}
	if s.Type != psi.TypePerson {
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
func (n *Node) Watchlists(ctx context.Context) ([]WatchlistSummary, error) {
	ws, err := n.watchlists(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WatchlistSummary, len(ws))
	for i, w := range ws {
		out[i] = summary(w)
	}
	return out, nil
}

func (n *Node) watchlists(ctx context.Context) ([]*Watchlist, error) {
	var ws []*Watchlist
	err := n.Store.View(ctx, func(tx detente.Tx) error {
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
func (n *Node) RemoveWatchlist(ctx context.Context, name string) error {
	return n.Store.Update(ctx, func(tx detente.Tx) error {
		if _, err := tx.Doc(ctx, docWatchlist, name); err != nil {
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				return detente.Errorf(detente.ENOTFOUND, "watchlist %s not found", name)
			}
			return err
		}
		if err := tx.DeleteDoc(ctx, docWatchlist, name); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, EventWatchlist, "", map[string]any{"name": name, "removed": true})
	})
}

// ---- the owner key ----

// ownerKeyDoc is the stored owner key: its seed sealed with AES-256-GCM
// under a key derived (HKDF-SHA-256) from the node key, so a copy of the
// database alone (a PostgreSQL dump) does not reveal it.
type ownerKeyDoc struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Sealed  []byte    `json:"sealed"` // nonce ‖ ciphertext
}

const ownerKeyInfo = "detente/match/owner-key/v1"

func (n *Node) ownerKeyAEAD() (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, n.Key.Seed(), nil, ownerKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive owner key wrapping key: %w", err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// ownerKey returns the node's OwnerKey, creating it on first use.
func (n *Node) ownerKey(ctx context.Context) (*psi.OwnerKey, error) {
	aead, err := n.ownerKeyAEAD()
	if err != nil {
		return nil, err
	}
	open := func(b []byte) (*psi.OwnerKey, error) {
		var d ownerKeyDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("decode owner key: %w", err)
		}
		ns := aead.NonceSize()
		if len(d.Sealed) < ns {
			return nil, errors.New("owner key: sealed seed too short")
		}
		seed, err := aead.Open(nil, d.Sealed[:ns], d.Sealed[ns:], []byte(ownerKeyInfo))
		if err != nil {
			return nil, fmt.Errorf("owner key: does not open under this node's key: %w", err)
		}
		return psi.ParseOwnerKey(seed)
	}
	var stored []byte
	err = n.Store.View(ctx, func(tx detente.Tx) (err error) { stored, err = tx.Doc(ctx, docOwnerKey, "current"); return })
	if err == nil {
		return open(stored)
	}
	if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, err
	}
	k, err := psi.NewOwnerKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate owner key: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(ownerKeyDoc{Version: 1, Created: n.now(), Sealed: aead.Seal(nonce, nonce, k.Seed(), []byte(ownerKeyInfo))})
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		err := tx.PutDoc(ctx, docOwnerKey, "current", body, true)
		if detente.ErrorCode(err) == detente.EEXISTS { // another request made it first
			stored, err = tx.Doc(ctx, docOwnerKey, "current")
			return err
		}
		stored = body
		return err
	})
	if err != nil {
		return nil, err
	}
	return open(stored)
}

// ---- terms, epochs and budgets ----

// MatchTermsWire is what an owner tells a partner of the matching terms in
// force between them: the agreement's terms, the current epoch and period,
// and how much of the period's budget is used.
type MatchTermsWire struct {
	ProtocolVersion int       `json:"protocol_version"`
	Agreement       string    `json:"agreement"`
	Epoch           string    `json:"epoch"`
	PeriodStart     time.Time `json:"period_start"`
	PeriodEnd       time.Time `json:"period_end"`
	Evaluations     int       `json:"evaluations"`
	Used            int       `json:"used"`
	MaxSetSize      int       `json:"max_set_size"`
	MinSetSize      int       `json:"min_set_size,omitempty"`
	Modes           []string  `json:"modes"`
}

// MatchBudget is a partner's usage of its matching budget in one period,
// stored per partner and period.
type MatchBudget struct {
	Partner     string    `json:"partner"`
	Agreement   string    `json:"agreement"`
	Epoch       string    `json:"epoch"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Limit       int       `json:"limit"`
	Used        int       `json:"used"`
	Queries     int       `json:"queries"`
	Exchanges   int       `json:"exchanges"` // bulk and count
	Refused     int       `json:"refused"`
}

// matchTerms are the terms in force with a partner now.
type matchTerms struct {
	agreement *detente.Agreement
	partner   string
	epoch     string
	start     time.Time
	end       time.Time
}

func (t *matchTerms) wire(used int) *MatchTermsWire {
	m := t.agreement.Match
	return &MatchTermsWire{ProtocolVersion: psi.ProtocolVersion, Agreement: t.agreement.ID, Epoch: t.epoch,
		PeriodStart: t.start, PeriodEnd: t.end, Evaluations: m.Evaluations, Used: used,
		MaxSetSize: m.MaxSetSize, MinSetSize: m.MinSetSize, Modes: m.Modes}
}

// EpochOf returns the key epoch and budget period of a's matching terms
// with partner at now: periods of a.Match.Period counted from a.From, the
// last one cut at a.Until. The epoch is "PARTNER/PERIOD-START".
func EpochOf(a *detente.Agreement, partner string, now time.Time) (epoch string, start, end time.Time) {
	p := a.Match.PeriodDuration()
	k := now.Sub(a.From) / p
	start = a.From.Add(k * p).UTC()
	end = start.Add(p)
	if end.After(a.Until) {
		end = a.Until
	}
	return partner + "/" + start.Format("2006-01-02T15:04:05Z"), start, end
}

// termsWith returns the matching terms in force with partner: those of the
// agreement in force that covers partner and has a match block (the first
// by id if several do). Without one, matching is refused: the default is
// deny. mode, when set, must be allowed.
func (n *Node) termsWith(ctx context.Context, tx detente.Tx, partner, mode string) (*matchTerms, error) {
	as, err := tx.Agreements(ctx, partner)
	if err != nil {
		return nil, err
	}
	now := n.now()
	slices.SortFunc(as, func(a, b *detente.Agreement) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range as {
		if !a.Covers(partner) || !a.InForce(now) || a.Match == nil {
			continue
		}
		if mode != "" && !a.Match.Allows(mode) {
			return nil, detente.Errorf(detente.EDENIED, "the agreement of %s with %s does not allow private matching in %s mode (allowed: %s)",
				n.Name, partner, mode, strings.Join(a.Match.Modes, ", "))
		}
		t := &matchTerms{agreement: a, partner: partner}
		t.epoch, t.start, t.end = EpochOf(a, partner, now)
		return t, nil
	}
	return nil, detente.Errorf(detente.EDENIED, "%s has no agreement in force with %s that allows private matching", n.Name, partner)
}

func readBudget(ctx context.Context, tx detente.Tx, t *matchTerms) (*MatchBudget, error) {
	b := &MatchBudget{Partner: t.partner, Agreement: t.agreement.ID, Epoch: t.epoch, PeriodStart: t.start, PeriodEnd: t.end}
	raw, err := tx.Doc(ctx, docBudget, t.epoch)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, b); err != nil {
			return nil, fmt.Errorf("decode budget %s: %w", t.epoch, err)
		}
	case detente.ErrorCode(err) != detente.ENOTFOUND:
		return nil, err
	}
	b.Limit = t.agreement.Match.Evaluations
	return b, nil
}

// MatchTermsFor returns the terms in force with partner and its usage.
func (n *Node) MatchTermsFor(ctx context.Context, partner string) (*MatchTermsWire, error) {
	var out *MatchTermsWire
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		t, err := n.termsWith(ctx, tx, partner, "")
		if err != nil {
			return err
		}
		b, err := readBudget(ctx, tx, t)
		if err != nil {
			return err
		}
		out = t.wire(b.Used)
		return nil
	})
	return out, err
}

// MatchBudgets returns the stored budget usage, every partner and period.
func (n *Node) MatchBudgets(ctx context.Context) ([]*MatchBudget, error) {
	var out []*MatchBudget
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docBudget, "", 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			b := new(MatchBudget)
			if err := json.Unmarshal(d.Body, b); err != nil {
				return fmt.Errorf("decode budget %s: %w", d.ID, err)
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

// charge checks mode and the period's budget for partner and charges cost
// evaluations, logging the request with body (counts only) in the same
// transaction. A refusal is recorded too, in the budget and the log.
func (n *Node) charge(ctx context.Context, partner, mode string, cost int, body map[string]any, check func(detente.Tx, *matchTerms) error) (*MatchBudget, *matchTerms, error) {
	var budget *MatchBudget
	var terms *matchTerms
	var refused error
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		budget, terms, refused = nil, nil, nil
		delete(body, "refused") // in case of a retry
		t, err := n.termsWith(ctx, tx, partner, mode)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(tx, t); err != nil {
				return err
			}
		}
		b, err := readBudget(ctx, tx, t)
		if err != nil {
			return err
		}
		body["role"], body["mode"], body["agreement"], body["cost"] = "owner", mode, t.agreement.ID, cost
		if b.Used+cost > b.Limit {
			b.Refused++
			if b.Used >= b.Limit {
				refused = detente.Errorf(detente.EDENIED, "budget for this period exhausted: %d of %d used", b.Used, b.Limit)
			} else {
				refused = detente.Errorf(detente.EDENIED, "budget for this period exceeded: this request costs %d, %d of %d used", cost, b.Used, b.Limit)
			}
			body["refused"] = detente.ErrorMessage(refused)
		} else {
			b.Used += cost
			if mode == detente.MatchQuery {
				b.Queries++
			} else {
				b.Exchanges++
			}
		}
		body["used"], body["limit"] = b.Used, b.Limit
		raw, _ := json.Marshal(b)
		if err := tx.PutDoc(ctx, docBudget, t.epoch, raw, false); err != nil {
			return err
		}
		budget, terms = b, t
		return n.logEvent(ctx, tx, detente.EventMatchQuery, partner, body)
	})
	if err != nil {
		return nil, nil, err
	}
	if refused != nil {
		return budget, nil, refused
	}
	return budget, terms, nil
}

// ---- the owner's side ----

// includedWatchlists returns the watchlists a partner under t may match
// against: those marked at or below the agreement's TLP ceiling, of type
// typ when typ is set.
func includedWatchlists(ws []*Watchlist, t *matchTerms, typ psi.Type) []*Watchlist {
	var out []*Watchlist
	for _, w := range ws {
		if w.Marking <= t.agreement.TLPCeiling && (typ == "" || w.Type == typ) {
			out = append(out, w)
		}
	}
	return out
}

func selectorsOfWatchlists(ws []*Watchlist) []psi.Selector {
	var out []psi.Selector
	for _, w := range ws {
		for _, e := range w.Entries {
			out = append(out, psi.Selector{Type: w.Type, Value: e.Value})
		}
	}
	return out
}

// encodingDoc is a stored encoded watchlist: what was published to a
// partner for an epoch, and a digest of the watchlists it encodes, so that
// a change of the watchlists makes a new encoding.
type encodingDoc struct {
	Epoch   string `json:"epoch"`
	Digest  string `json:"digest"`
	Entries int    `json:"entries"`
	Encoded []byte `json:"encoded"`
}

// EncodedWatchlist returns the binary encoded watchlist (psi.Watchlist)
// that partner may query in its current epoch: every watchlist of every
// type marked at or below the agreement's ceiling, so that the owner does
// not learn which type the partner is interested in. It is re-encoded when
// the epoch or the watchlists change; each new encoding is logged with the
// SHA-256 of the epoch's public key.
func (n *Node) EncodedWatchlist(ctx context.Context, partner string) ([]byte, error) {
	var t *matchTerms
	var ws []*Watchlist
	var stored *encodingDoc
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		if t, err = n.termsWith(ctx, tx, partner, detente.MatchQuery); err != nil {
			return err
		}
		all, err := readWatchlists(ctx, tx)
		if err != nil {
			return err
		}
		ws = includedWatchlists(all, t, "")
		raw, err := tx.Doc(ctx, docEncoding, t.epoch)
		if err == nil {
			stored = new(encodingDoc)
			return json.Unmarshal(raw, stored)
		}
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, w := range ws {
		b, _ := json.Marshal(w)
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if stored != nil && stored.Digest == digest {
		return stored.Encoded, nil
	}
	key, err := n.ownerKey(ctx)
	if err != nil {
		return nil, err
	}
	w, err := psi.EncodeWatchlist(key, t.epoch, selectorsOfWatchlists(ws))
	if err != nil {
		return nil, fmt.Errorf("encode watchlist for %s: %w", t.epoch, err)
	}
	enc, err := w.MarshalBinary()
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(encodingDoc{Epoch: t.epoch, Digest: digest, Entries: w.Len(), Encoded: enc})
	pk := sha256.Sum256(w.PublicKey)
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		// One encoding per partner: older epochs' go.
		old, err := tx.Docs(ctx, docEncoding, partner+"/", 0)
		if err != nil {
			return err
		}
		for _, d := range old {
			if d.ID != t.epoch {
				if err := tx.DeleteDoc(ctx, docEncoding, d.ID); err != nil {
					return err
				}
			}
		}
		if err := tx.PutDoc(ctx, docEncoding, t.epoch, body, false); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, EventMatchEpoch, partner, map[string]any{
			"epoch": t.epoch, "agreement": t.agreement.ID, "public_key_sha256": hex.EncodeToString(pk[:]), "entries": w.Len()})
	})
	if err != nil {
		return nil, err
	}
	return enc, nil
}

// EvaluateQuery answers partner's VOPRF query in its current epoch. It
// refuses a request for another epoch (*psi.EpochError, without charge), a
// request above the agreed maximum set size, and one the period's budget
// cannot pay for; otherwise it charges req.Count() (padding included)
// before evaluating. The log records the epoch, the count and the budget,
// nothing else: the owner learns nothing more.
func (n *Node) EvaluateQuery(ctx context.Context, partner string, req *psi.QueryRequest) (*psi.QueryResponse, *MatchBudget, error) {
	if err := req.Validate(); err != nil {
		return nil, nil, detente.Errorf(detente.EINVALID, "query: %v", err)
	}
	count := req.Count()
	body := map[string]any{"epoch": req.Epoch, "elements": count}
	b, t, err := n.charge(ctx, partner, detente.MatchQuery, count, body, func(_ detente.Tx, t *matchTerms) error {
		if req.Epoch != t.epoch {
			return &psi.EpochError{Got: req.Epoch, Current: t.epoch}
		}
		if count > t.agreement.Match.MaxSetSize {
			return detente.Errorf(detente.ETOOLARGE, "a query of %d elements is over the agreed maximum of %d", count, t.agreement.Match.MaxSetSize)
		}
		return nil
	})
	if err != nil {
		return nil, b, err
	}
	key, err := n.ownerKey(ctx)
	if err != nil {
		return nil, b, err
	}
	o, err := psi.NewOwner(key, t.epoch)
	if err != nil {
		return nil, b, err
	}
	resp, err := o.Evaluate(req)
	if err != nil {
		return nil, b, psiError(err)
	}
	return resp, b, nil
}

// bulkParams are the parameters of a bulk or count exchange under terms:
// the querier (initiator) learns, the owner learns nothing.
func bulkParams(t *MatchTermsWire, mode, session string) psi.BulkParams {
	p := psi.BulkParams{Session: session, Mode: psi.ModeIntersection, Learner: psi.LearnerInitiator, MaxSetSize: t.MaxSetSize}
	if mode == detente.MatchCount {
		p.Mode, p.MinSetSize = psi.ModeCount, max(t.MinSetSize, psi.CountMinSetSize)
	}
	return p
}

// RespondBulk answers partner's bulk (or count) hello against this node's
// watchlists of type typ marked at or below the agreement's ceiling. It
// checks the mode and the session parameters against the agreement (only
// the initiator learns), charges the hello's padded set size to the
// period's budget before any exponentiation, and logs the session, mode,
// learner, both padded set sizes and the cost.
func (n *Node) RespondBulk(ctx context.Context, partner string, typ psi.Type, hello *psi.BulkHello) (*psi.BulkReply, *MatchBudget, error) {
	if _, err := ParseSelectorType(string(typ)); err != nil {
		return nil, nil, err
	}
	if hello.Version != psi.ProtocolVersion {
		return nil, nil, detente.Errorf(detente.EINVALID, "bulk hello: protocol version %d, this node speaks %d", hello.Version, psi.ProtocolVersion)
	}
	if len(hello.Elements)%psi.ElementSize != 0 {
		return nil, nil, detente.Errorf(detente.EINVALID, "bulk hello: elements are not a multiple of %d bytes", psi.ElementSize)
	}
	mode := detente.MatchBulk
	if hello.Params.Mode == psi.ModeCount {
		mode = detente.MatchCount
	}
	peer := len(hello.Elements) / psi.ElementSize
	var set *psi.Set
	var params psi.BulkParams
	body := map[string]any{"session": hello.Params.Session, "learner": hello.Params.Learner, "type": typ, "peer_size": peer}
	b, _, err := n.charge(ctx, partner, mode, peer, body, func(tx detente.Tx, t *matchTerms) error {
		params = bulkParams(t.wire(0), mode, hello.Params.Session)
		if hello.Params != params {
			return detente.Errorf(detente.ECONFLICT, "bulk session parameters differ from the terms of %s with %s (the initiator learns; set sizes %d to %d)",
				n.Name, partner, params.MinSetSize, params.MaxSetSize)
		}
		if err := hello.Validate(); err != nil {
			return psiError(err)
		}
		all, err := readWatchlists(ctx, tx)
		if err != nil {
			return err
		}
		if set, err = psi.NewSet(selectorsOfWatchlists(includedWatchlists(all, t, typ)), params.Mode); err != nil {
			return fmt.Errorf("watchlists of %s: %w", typ, err)
		}
		if set.Len() < params.MinSetSize || psi.Bucket(set.Len()) > params.MaxSetSize {
			return detente.Errorf(detente.EDENIED, "%s's %s watchlists do not fit the agreed set sizes for %s mode (%d to %d)", n.Name, typ, mode, params.MinSetSize, params.MaxSetSize)
		}
		body["size"] = psi.Bucket(set.Len())
		return nil
	})
	if err != nil {
		return nil, b, err
	}
	_, reply, err := psi.RespondBulk(params, set, hello, psi.BulkOptions{})
	if err != nil {
		return nil, b, psiError(err)
	}
	return reply, b, nil
}

// ---- the querier's side ----

// MatchRequest is what a querier asks of a partner's watchlists.
type MatchRequest struct {
	Partner   string
	Type      psi.Type
	Mode      string // query (default), bulk or count
	Selectors []SelectorLine
}

// MatchResult is what a querier learned. Matches are the selectors that
// matched, exactly as given, in input order (query and bulk modes; an
// empty list when none did); Count is the intersection's size (count mode).
// Cost is what the exchange charged to the budget (evaluations, or set
// elements sent, padding included).
type MatchResult struct {
	Partner string   `json:"partner"`
	Type    psi.Type `json:"type"`
	Mode    string   `json:"mode"`
	Matches []string `json:"matches,omitzero"`
	Count   *int     `json:"count,omitempty"`
	Cost    int      `json:"cost"`
	// Epoch (query mode) or Session (bulk and count modes).
	Epoch   string `json:"epoch,omitempty"`
	Session string `json:"session,omitempty"`
	// Used and Limit are the partner's account of the period's budget
	// after this exchange.
	Used  int `json:"used"`
	Limit int `json:"limit"`
}

// Matcher runs private matching against partners' watchlists. It keeps
// each partner's encoded watchlist for the current epoch in memory (an
// epoch change, or a refusal naming a newer epoch, drops it). It is safe
// for concurrent use.
type Matcher struct {
	node *Node
	// Wrap, when set, wraps the transport of every partner connection
	// (tests use it to see the traffic).
	Wrap  func(http.RoundTripper) http.RoundTripper
	cache psi.Cache
}

// NewMatcher returns a Matcher for n.
func NewMatcher(n *Node) *Matcher { return &Matcher{node: n} }

// Match asks partner which of req's selectors are on its watchlists (query
// and bulk modes), or how many (count mode). This node's own agreement
// with partner must allow the mode too. The exchange is logged here with
// counts only.
func (m *Matcher) Match(ctx context.Context, req MatchRequest) (*MatchResult, error) {
	n := m.node
	if req.Mode == "" {
		req.Mode = detente.MatchQuery
	}
	switch req.Mode {
	case detente.MatchQuery, detente.MatchBulk, detente.MatchCount:
	default:
		return nil, detente.Errorf(detente.EINVALID, "mode %q must be query, bulk or count", req.Mode)
	}
	if _, err := ParseSelectorType(string(req.Type)); err != nil {
		return nil, err
	}
	if len(req.Selectors) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "no selectors to match")
	}
	sels := make([]psi.Selector, len(req.Selectors))
	for i, s := range req.Selectors {
		if s.Selector.Type != req.Type {
			return nil, detente.Errorf(detente.EINVALID, "line %d: a %s selector in a %s match", s.Line, s.Selector.Type, req.Type)
		}
		sels[i] = s.Selector
	}
	var p *detente.Partner
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		if p, err = tx.Partner(ctx, req.Partner); err != nil {
			return err
		}
		_, err = n.termsWith(ctx, tx, req.Partner, req.Mode)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.State != detente.PartnerActive {
		return nil, detente.Errorf(detente.EDENIED, "partner %s is %s", p.Name, p.State)
	}
	if p.URL == "" {
		return nil, detente.Errorf(detente.EINVALID, "partner %s has no URL", p.Name)
	}
	hc, err := n.PartnerClient(p)
	if err != nil {
		return nil, err
	}
	if m.Wrap != nil {
		hc.Transport = m.Wrap(hc.Transport)
	}
	defer hc.CloseIdleConnections()
	c := &matchClient{hc: hc, base: strings.TrimSuffix(p.URL, "/") + "/detente/v1/match", partner: p.Name}
	var res *MatchResult
	var logBody map[string]any
	if req.Mode == detente.MatchQuery {
		res, logBody, err = m.query(ctx, c, req, sels)
	} else {
		res, logBody, err = m.bulk(ctx, c, req, sels)
	}
	if err != nil {
		return nil, err
	}
	res.Partner, res.Type, res.Mode = p.Name, req.Type, req.Mode
	logBody["role"], logBody["mode"], logBody["cost"] = "querier", req.Mode, res.Cost
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		return n.logEvent(ctx, tx, detente.EventMatchQuery, p.Name, logBody)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (m *Matcher) query(ctx context.Context, c *matchClient, req MatchRequest, sels []psi.Selector) (*MatchResult, map[string]any, error) {
	for attempt := 0; ; attempt++ {
		terms, err := c.terms(ctx)
		if err != nil {
			return nil, nil, err
		}
		w, ok := m.cache.Get(c.partner, terms.Epoch)
		if !ok {
			raw, _, err := c.do(ctx, http.MethodGet, "/watchlist", "", nil, maxEncoded)
			if err != nil {
				return nil, nil, err
			}
			if w, err = psi.ParseWatchlist(raw); err != nil {
				return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed encoded watchlist: %v", c.partner, err)
			}
			if w.Epoch != terms.Epoch {
				if attempt == 0 {
					continue // the period turned between the two calls
				}
				return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s's encoded watchlist is for epoch %s, not %s", c.partner, w.Epoch, terms.Epoch)
			}
			m.cache.Put(c.partner, w)
		}
		q, qreq, err := psi.NewQuery(w, sels, psi.QueryOptions{})
		if err != nil {
			return nil, nil, psiError(err)
		}
		if qreq.Count() > terms.MaxSetSize {
			return nil, nil, detente.Errorf(detente.ETOOLARGE, "%d selectors make a query of %d elements, over the agreed maximum of %d", len(sels), qreq.Count(), terms.MaxSetSize)
		}
		body, _ := json.Marshal(qreq)
		raw, hdr, err := c.do(ctx, http.MethodPost, "/query", "application/json", body, MaxQueryBody)
		if errors.Is(err, psi.ErrEpoch) && attempt == 0 {
			continue // the next Get drops the stale encoding
		}
		if err != nil {
			return nil, nil, err
		}
		var resp psi.QueryResponse
		if err := json.Unmarshal(raw, &resp); err != nil {
			return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed query response: %v", c.partner, err)
		}
		hits, err := q.Finalize(&resp)
		if err != nil {
			return nil, nil, psiError(err)
		}
		res := &MatchResult{Matches: make([]string, 0, len(hits)), Cost: resp.Cost, Epoch: w.Epoch}
		for _, h := range hits {
			res.Matches = append(res.Matches, req.Selectors[h.Index].Text)
		}
		res.Used, res.Limit = budgetHeaders(hdr)
		pk := sha256.Sum256(w.PublicKey)
		return res, map[string]any{"epoch": w.Epoch, "public_key_sha256": hex.EncodeToString(pk[:]), "elements": qreq.Count(), "hits": len(hits)}, nil
	}
}

func (m *Matcher) bulk(ctx context.Context, c *matchClient, req MatchRequest, sels []psi.Selector) (*MatchResult, map[string]any, error) {
	terms, err := c.terms(ctx)
	if err != nil {
		return nil, nil, err
	}
	params := bulkParams(terms, req.Mode, psi.NewSession())
	set, err := psi.NewSet(sels, params.Mode)
	if err != nil {
		return nil, nil, psiError(err)
	}
	if set.Len() < params.MinSetSize {
		return nil, nil, detente.Errorf(detente.EINVALID, "%s mode needs at least %d distinct selectors; got %d", req.Mode, params.MinSetSize, set.Len())
	}
	if padded := psi.Bucket(set.Len()); padded > params.MaxSetSize {
		return nil, nil, detente.Errorf(detente.ETOOLARGE, "%d selectors make a set of %d elements (padded), over the agreed maximum of %d", len(sels), padded, params.MaxSetSize)
	}
	bi, hello, err := psi.NewBulkInitiator(params, set, psi.BulkOptions{})
	if err != nil {
		return nil, nil, psiError(err)
	}
	body, err := hello.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	raw, hdr, err := c.do(ctx, http.MethodPost, "/bulk?type="+url.QueryEscape(string(req.Type)), "application/octet-stream", body, MaxBulkBody)
	if err != nil {
		return nil, nil, err
	}
	var reply psi.BulkReply
	if err := reply.UnmarshalBinary(raw); err != nil {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed bulk reply: %v", c.partner, err)
	}
	r, _, err := bi.HandleReply(&reply)
	if err != nil {
		return nil, nil, psiError(err)
	}
	res := &MatchResult{Cost: len(hello.Elements) / psi.ElementSize, Session: params.Session}
	res.Used, res.Limit = budgetHeaders(hdr)
	logBody := map[string]any{"session": params.Session, "learner": params.Learner, "size": r.Size, "peer_size": r.PeerSize}
	if params.Mode == psi.ModeCount {
		res.Count = &r.Count
		logBody["count"] = r.Count
	} else {
		res.Matches = make([]string, 0, len(r.Matches))
		for _, i := range r.Matches {
			res.Matches = append(res.Matches, req.Selectors[i].Text)
		}
		logBody["hits"] = len(r.Matches)
	}
	return res, logBody, nil
}

// Budget headers of the matching endpoints' answers.
const (
	HeaderMatchUsed  = "Detente-Match-Used"
	HeaderMatchLimit = "Detente-Match-Limit"
)

func budgetHeaders(h http.Header) (used, limit int) {
	used, _ = strconv.Atoi(h.Get(HeaderMatchUsed))
	limit, _ = strconv.Atoi(h.Get(HeaderMatchLimit))
	return used, limit
}

// MatchErrorWire is the JSON error body of the matching endpoints: a code
// and message as everywhere, and the current epoch when a request was for
// another one.
type MatchErrorWire struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Epoch   string `json:"epoch,omitempty"`
	} `json:"error"`
}

// matchClient talks to one partner's matching endpoints.
type matchClient struct {
	hc      *http.Client
	base    string
	partner string
}

func (c *matchClient) terms(ctx context.Context) (*MatchTermsWire, error) {
	raw, _, err := c.do(ctx, http.MethodGet, "/terms", "", nil, 64<<10)
	if err != nil {
		return nil, err
	}
	var t MatchTermsWire
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent malformed matching terms: %v", c.partner, err)
	}
	if t.ProtocolVersion != psi.ProtocolVersion {
		return nil, detente.Errorf(detente.ECONFLICT, "partner %s speaks matching protocol version %d, this node %d", c.partner, t.ProtocolVersion, psi.ProtocolVersion)
	}
	return &t, nil
}

// do sends one request. A refusal by the partner becomes a *detente.Error
// with the partner's code and message; a refusal naming another epoch
// wraps psi.ErrEpoch.
func (c *matchClient) do(ctx context.Context, method, path, contentType string, body []byte, limit int64) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %v", c.partner, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %v", c.partner, err)
	}
	if resp.StatusCode == http.StatusOK {
		if int64(len(b)) > limit {
			return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: answer over %d bytes", c.partner, limit)
		}
		return b, resp.Header, nil
	}
	var e MatchErrorWire
	if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %s %s: %s", c.partner, method, path, resp.Status)
	}
	if e.Error.Epoch != "" {
		return nil, nil, &psi.EpochError{Current: e.Error.Epoch}
	}
	code := e.Error.Code
	if code == detente.EINTERNAL || code == detente.EUNAUTHORIZED {
		code = detente.EUNAVAILABLE
	}
	return nil, nil, detente.Errorf(code, "partner %s: %s", c.partner, e.Error.Message)
}

// psiError turns a protocol error into one for users.
func psiError(err error) error {
	var ee *psi.EpochError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, psi.ErrSetSize):
		return detente.Errorf(detente.EINVALID, "set size out of the agreed bounds: %v", err)
	case errors.Is(err, psi.ErrParams):
		return detente.Errorf(detente.ECONFLICT, "session parameters differ: %v", err)
	case errors.Is(err, psi.ErrProof):
		return detente.Errorf(detente.ECONFLICT, "the partner's evaluation does not verify against its published key for the epoch")
	case errors.Is(err, psi.ErrSelector):
		return detente.Errorf(detente.EINVALID, "%v", err)
	case errors.Is(err, psi.ErrMessage):
		return detente.Errorf(detente.EINVALID, "%v", err)
	}
	return err
}
