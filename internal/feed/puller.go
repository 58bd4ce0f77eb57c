package feed

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"runtime"
	"sync"
	"time"

	"detente"
	"detente/internal/stix"
)

// Sink is where a Puller puts what it pulls: the node's store.
type Sink interface {
	// Cursor returns the cursor stored for feed with its last page, the
	// zero Cursor if the feed was never pulled.
	Cursor(ctx context.Context, feed string) (Cursor, error)
	// Store stores page's items and next as feed's cursor in one
	// transaction: both or neither, durable when Store returns nil. A
	// pull killed at any point then resumes after the last page stored,
	// and nothing is lost or stored twice. Store must not fail the page
	// for one item the store refuses (a conflicting version): it should
	// report it and store the rest, or the feed stops at that page for
	// good. It is never called concurrently for one Puller.
	Store(ctx context.Context, feed string, page *Page, next Cursor) error
}

// Page is one page of a feed: a TAXII page, or one or more MISP events.
type Page struct {
	// Number counts the pages of this pull from 1.
	Number int
	// Items are the objects to store, prepared by the feed's Rules, in the
	// order the server served them.
	Items []*Item
	// Rejected are the objects (or MISP events) of the page that could not
	// be read or prepared: they are not stored, and the cursor moves past
	// them, since pulling them again would give the same result.
	Rejected []Rejected
	// Skipped counts predefined TLP marking-definitions left out (the node
	// has its own).
	Skipped int
	// Events are the uuids of the MISP events the page completes.
	Events []string
	// DateAddedLast is the page's X-TAXII-Date-Added-Last (TAXII), zero if
	// the server sent none.
	DateAddedLast time.Time
}

// Rejected is an object or MISP event a feed served that cannot be stored.
type Rejected struct {
	// ID is the object's id, or the MISP event's uuid; "" when unknown.
	ID string `json:"id,omitempty"`
	// Index is the object's position in the page as served (in its event
	// for MISP), -1 for a whole MISP event.
	Index int `json:"index"`
	// Reason says why, safe to show.
	Reason string `json:"reason"`
}

// Stats sums up a pull so far.
type Stats struct {
	Feed     string        `json:"feed"`
	Pages    int           `json:"pages"`    // pages stored
	Objects  int           `json:"objects"`  // items handed to the Sink
	Rejected int           `json:"rejected"` // objects or events that could not be stored
	Skipped  int           `json:"skipped"`  // predefined TLP marking-definitions
	Cursor   Cursor        `json:"-"`        // the cursor stored with the last page
	Elapsed  time.Duration `json:"elapsed"`
}

// Puller pulls one feed into a Sink. Set Feed and Sink; the other fields
// are optional. A Puller is for one pull at a time.
type Puller struct {
	Feed Config
	Sink Sink
	// Key is the node's private key: it signs the objects of a feed with
	// Feed.Originate.
	Key ed25519.PrivateKey
	// HTTP sends the requests; Feed.HTTPClient() if nil.
	HTTP *http.Client
	// Progress, when set, is called after each page is stored.
	Progress func(Stats)
	// Logger receives one line per rejected object; slog.Default() if nil.
	Logger *slog.Logger
}

// batch is what a source fetched: raw objects or MISP events, and the
// cursor that follows them.
type batch struct {
	misp          bool              // events, not raws
	raws          []json.RawMessage // TAXII objects as served
	events        []fetchedEvent    // MISP events
	rejected      []Rejected        // MISP events that could not be fetched
	dateAddedLast time.Time
	next          Cursor
	more          bool  // another batch follows
	stop          error // after storing this batch, the pull fails with stop
}

// source fetches a feed's batches. fetch returns the batch that follows
// cur.
type source interface {
	fetch(ctx context.Context, cur Cursor) (*batch, error)
}

// Pull pulls everything new from the feed: from the Sink's cursor, page by
// page, until the feed has nothing more, storing each page with the cursor
// that follows it. The next page is fetched and prepared while the
// previous one is stored. It returns what was stored, and the first error
// (the feed's, with a message for the operator, or the Sink's); what was
// stored before it stays stored.
func (p *Puller) Pull(ctx context.Context) (st Stats, err error) {
	start := time.Now()
	st.Feed = p.Feed.Name
	defer func() { st.Elapsed = time.Since(start) }()
	if err := p.Feed.Validate(); err != nil {
		return st, err
	}
	if p.Feed.Originate && len(p.Key) != ed25519.PrivateKeySize {
		return st, detente.Errorf(detente.EINVALID, "feed %s: originate needs the node's key", p.Feed.Name)
	}
	src, err := p.source()
	if err != nil {
		return st, err
	}
	cur, err := p.Sink.Cursor(ctx, p.Feed.Name)
	if err != nil {
		return st, err
	}
	st.Cursor = cur
	rules := p.Feed.Rules(p.Key)

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	type fetched struct {
		b   *batch
		err error
	}
	type prepared struct {
		page *Page
		b    *batch
		err  error
	}
	fetchedc := make(chan fetched, 1)
	preparedc := make(chan prepared, 1)
	wg.Go(func() { // fetch
		defer close(fetchedc)
		c := cur
		for {
			b, err := src.fetch(ctx, c)
			select {
			case fetchedc <- fetched{b, explain(p.Feed.Name, err)}:
			case <-ctx.Done():
				return
			}
			if err != nil || !b.more || b.stop != nil {
				return
			}
			c = b.next
		}
	})
	wg.Go(func() { // prepare
		defer close(preparedc)
		n := 0
		for f := range fetchedc {
			out := prepared{b: f.b, err: f.err}
			if f.err == nil {
				n++
				out.page = p.prepare(&rules, f.b, n)
			}
			select {
			case preparedc <- out:
			case <-ctx.Done():
				return
			}
		}
	})
	for pr := range preparedc {
		if pr.err != nil {
			return st, pr.err
		}
		b, page := pr.b, pr.page
		if len(page.Items) > 0 || len(page.Rejected) > 0 || page.Skipped > 0 || !sameCursor(b.next, st.Cursor) {
			if err := p.Sink.Store(ctx, p.Feed.Name, page, b.next); err != nil {
				return st, err
			}
			st.Pages++
			st.Objects += len(page.Items)
			st.Rejected += len(page.Rejected)
			st.Skipped += page.Skipped
			st.Cursor = b.next
			st.Elapsed = time.Since(start)
			p.logRejected(ctx, page)
			if p.Progress != nil {
				p.Progress(st)
			}
		}
		if b.stop != nil {
			return st, b.stop
		}
	}
	return st, ctx.Err()
}

// source returns the fetcher of the feed's format.
func (p *Puller) source() (source, error) {
	creds, err := p.Feed.credentials()
	if err != nil {
		return nil, err
	}
	hc := p.HTTP
	if hc == nil {
		if hc, err = p.Feed.HTTPClient(); err != nil {
			return nil, err
		}
	}
	if p.Feed.format() == FormatMISP {
		return newMISPSource(&p.Feed, hc, creds)
	}
	return newTAXIISource(&p.Feed, hc, creds)
}

// prepare parses and prepares a batch's objects on every core.
func (p *Puller) prepare(rules *Rules, b *batch, number int) *Page {
	page := &Page{Number: number, DateAddedLast: b.dateAddedLast, Rejected: b.rejected}
	type result struct {
		items    []*Item
		rejected []Rejected
		skipped  int
	}
	one := func(o *stix.Object, index int, r *result) {
		it, err := rules.Prepare(o)
		switch {
		case errors.Is(err, ErrPredefined):
			r.skipped++
		case err != nil:
			r.rejected = append(r.rejected, Rejected{ID: o.ID, Index: index, Reason: detente.ErrorMessage(err)})
		default:
			r.items = append(r.items, it)
		}
	}
	var results []result
	if !b.misp {
		results = make([]result, len(b.raws))
		parallel(len(b.raws), func(i int) {
			o, err := stix.ParseObject(b.raws[i])
			if err != nil {
				results[i].rejected = []Rejected{{ID: rawID(b.raws[i]), Index: i, Reason: detente.ErrorMessage(err)}}
				return
			}
			one(o, i, &results[i])
		})
	} else {
		results = make([]result, len(b.events))
		parallel(len(b.events), func(i int) {
			e := b.events[i]
			uuid, objs, bad, err := convertEvent(e.data, rules.Grading)
			r := &results[i]
			if err == nil && uuid != e.uuid {
				err = detente.Errorf(detente.EINVALID, "event file %s.json holds event %s", e.uuid, uuid)
			}
			if err != nil {
				r.rejected = []Rejected{{ID: e.uuid, Index: -1, Reason: detente.ErrorMessage(err)}}
				return
			}
			for _, x := range bad {
				r.rejected = append(r.rejected, Rejected{ID: x.ID, Index: x.Index, Reason: detente.ErrorMessage(x.Err)})
			}
			for j, o := range objs {
				one(o, j, r)
			}
		})
		for _, e := range b.events {
			page.Events = append(page.Events, e.uuid)
		}
	}
	n := 0
	for _, r := range results {
		n += len(r.items)
	}
	page.Items = make([]*Item, 0, n)
	for _, r := range results {
		page.Items = append(page.Items, r.items...)
		page.Rejected = append(page.Rejected, r.rejected...)
		page.Skipped += r.skipped
	}
	return page
}

func (p *Puller) logRejected(ctx context.Context, page *Page) {
	if len(page.Rejected) == 0 {
		return
	}
	l := p.Logger
	if l == nil {
		l = slog.Default()
	}
	for _, r := range page.Rejected {
		l.WarnContext(ctx, "feed object rejected", "feed", p.Feed.Name, "page", page.Number, "id", r.ID, "index", r.Index, "reason", r.Reason)
	}
}

// sameCursor reports whether a and b are the same position.
func sameCursor(a, b Cursor) bool {
	return a.AddedAfter.Equal(b.AddedAfter) && a.Next == b.Next && a.Last.Equal(b.Last) && maps.Equal(a.Events, b.Events)
}

// rawID returns the id of a raw object that failed to parse, if it has a
// string one.
func rawID(raw json.RawMessage) string {
	var o struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(raw, &o)
	s, _ := o.ID.(string)
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// parallel calls fn(0) … fn(n-1) on up to GOMAXPROCS goroutines (one for
// small n) and returns when all are done. fn must only touch index i's
// data.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/32))
	if workers == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
}
