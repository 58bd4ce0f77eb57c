package view

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/ledger"
)

// A partner's page is recorded as it is read. Every version it serves is
// a release, stored with the policy's reasons and logged (one entry for
// the page, which the partner fetches as its receipt), and the versions
// the policy allows but whose projection is not valid STIX are stored as
// refusals. All of it commits before the page is served. Reading and
// recording each take about half of a page's time, so they overlap: the
// viewer hands the recorder the page in parts of recordPart versions, and
// the recorder stores each part, in one write transaction, while the next
// is read and decided.

// recordPart is how many served versions the viewer reads and decides
// before it hands them to the recorder.
const recordPart = 256

// recordWait and recordHold bound how long the recorder's write
// transaction waits for the next part, and how long it stays open while
// the page is read. The transaction keeps every other writer of the node
// waiting (ingest, sync, the hotline), and a sparse view can take long to
// yield its parts: past either bound the recorder rolls back and records
// the page whole once it has been read, as it did before parts.
const (
	recordWait = 20 * time.Millisecond
	recordHold = 30 * time.Millisecond
)

// pagePart is a part of a page: the versions served, with their decisions
// and fingerprinted copies, and the versions withheld, with theirs.
type pagePart struct {
	served    []*detente.ObjectVersion
	decisions []detente.Decision
	copies    []*leak.Copy
	withheld  []*detente.ObjectVersion
	why       []detente.Decision
}

func (p *pagePart) empty() bool { return len(p.served)+len(p.withheld) == 0 }

// serve notes that o goes to the partner with decision d (and c, its
// fingerprinted copy, when it has one), and hands the part to the write
// transaction once it holds recordPart versions. On a nil recorder (a
// caller whose reads are not recorded) it does nothing.
func (r *recorder) serve(o *detente.ObjectVersion, d detente.Decision, c *leak.Copy) {
	if r == nil {
		return
	}
	p := &r.pending
	p.served, p.decisions = append(p.served, o), append(p.decisions, d)
	if c != nil {
		p.copies = append(p.copies, c)
	}
	if len(p.served) >= recordPart {
		r.flush()
	}
}

// withhold notes that o, which the policy allows, is withheld from the
// partner with decision d (its projection is not valid STIX).
func (r *recorder) withhold(o *detente.ObjectVersion, d detente.Decision) {
	if r != nil {
		r.pending.withheld, r.pending.why = append(r.pending.withheld, o), append(r.pending.why, d)
	}
}

// flush hands the part read since the last flush to the write
// transaction.
func (r *recorder) flush() {
	if r != nil && !r.pending.empty() {
		r.add(r.pending)
		r.pending = pagePart{}
	}
}

// errAbandoned is what the recorder's transaction fails with when the
// page it records is not served.
var errAbandoned = errors.New("view: page abandoned before it was served")

// errSlowPart is what the recorder's transaction fails with when the next
// part took longer than recordWait to come.
var errSlowPart = errors.New("view: the next part of the page is slow to come")

// recorder records one page served to partner. Its write transaction
// starts with the first part. The store may run the transaction's
// function again (a retry, or PostgreSQL's group commit), and the
// recorder itself runs it again, after the page is read, when a part was
// slow to come (recordWait): every part is kept, and each run replays
// them from the first.
type recorder struct {
	s       *taxiiSource
	ctx     context.Context // the page request's
	partner string
	// pending is what was served or withheld since the last flush; only
	// the reading goroutine touches it.
	pending pagePart

	mu      sync.Mutex
	parts   []pagePart
	more    chan struct{} // closed, and replaced, when a part is added or the page ends
	ended   bool          // no part will be added
	over    chan struct{} // closed when ended
	served  bool          // ended, and the page is to be served
	started bool          // the write transaction is under way
	done    chan error    // the write transaction's outcome
}

// recorder returns the recorder of one page served to partner.
func (s *taxiiSource) recorder(ctx context.Context, partner string) *recorder {
	return &recorder{s: s, ctx: ctx, partner: partner, more: make(chan struct{}), over: make(chan struct{}), done: make(chan error, 1)}
}

// add hands the recorder one part of the page, starting the write
// transaction with the first.
func (r *recorder) add(p pagePart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.parts = append(r.parts, p)
	close(r.more)
	r.more = make(chan struct{})
	if !r.started {
		r.started = true
		go r.write()
	}
}

// write runs the recorder's write transaction and reports its outcome on
// r.done, a panic included (finish raises it again in the request's
// goroutine, where it would have been raised before parts).
func (r *recorder) write() {
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = &recordPanic{p}
		}
		r.done <- err
	}()
	err = r.s.cfg.Store.Update(r.ctx, r.record)
	if !errors.Is(err, errSlowPart) {
		return
	}
	// Rolled back: record the page whole once it is read, if served.
	select {
	case <-r.over:
	case <-r.ctx.Done():
		err = r.ctx.Err()
		return
	}
	r.mu.Lock()
	served := r.served
	r.mu.Unlock()
	if !served {
		err = errAbandoned
		return
	}
	err = r.s.cfg.Store.Update(r.ctx, r.record)
}

// recordPanic carries a panic in the recorder's write transaction to
// finish.
type recordPanic struct{ value any }

func (p *recordPanic) Error() string { return fmt.Sprint("view: recording a page panicked: ", p.value) }

// end says that no part will be added, and whether the page is served.
func (r *recorder) end(served bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.ended, r.served = true, served
	close(r.more)
	close(r.over)
}

// finish ends the page as served and waits until its releases are
// committed (nil when there were none).
func (r *recorder) finish() error {
	if r == nil {
		return nil
	}
	r.end(true)
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	if !started {
		return nil
	}
	err := <-r.done
	if p, ok := err.(*recordPanic); ok {
		panic(p.value)
	}
	withheld := 0
	r.mu.Lock()
	for _, p := range r.parts {
		withheld += len(p.withheld)
	}
	r.mu.Unlock()
	if err == nil && withheld > 0 {
		r.s.cfg.Logger.WarnContext(r.ctx, "versions withheld from a partner: their projection is not valid STIX", "partner", r.partner, "count", withheld)
	}
	return err
}

// abandon ends the page as not served, when reading it failed (or
// panicked): the write transaction rolls back. After finish, a no-op.
func (r *recorder) abandon() {
	if r != nil {
		r.end(false)
	}
}

// part returns the i-th part of the page, waiting for it at most
// recordWait and not past deadline; ok is false when the page ended with fewer
// parts and is served.
func (r *recorder) part(i int, deadline time.Time) (p pagePart, ok bool, err error) {
	for {
		r.mu.Lock()
		switch {
		case r.ended && !r.served:
			r.mu.Unlock()
			return p, false, errAbandoned
		case i < len(r.parts):
			p = r.parts[i]
			r.mu.Unlock()
			return p, true, nil
		case r.ended:
			r.mu.Unlock()
			return p, false, nil
		}
		more := r.more
		r.mu.Unlock()
		timer := time.NewTimer(min(recordWait, time.Until(deadline)))
		select {
		case <-more:
			timer.Stop()
		case <-timer.C:
			return p, false, errSlowPart
		case <-r.ctx.Done():
			timer.Stop()
			return p, false, r.ctx.Err()
		}
	}
}

// record is the write transaction's function: it stores each part's
// releases and gifts (for the reciprocity ledger) as the part comes, and
// at the end logs the page's releases as one entry.
func (r *recorder) record(tx detente.Tx) error {
	ctx := r.ctx
	now := r.s.cfg.Now().UTC()
	var (
		pkey   detente.PublicKey
		known  bool // pkey is the partner's key
		keys   []string
		worth  []ledger.Worth
		copies []*leak.Copy
	)
	deadline := time.Now().Add(recordHold)
	for i := 0; ; i++ {
		p, ok, err := r.part(i, deadline)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		rs := make([]*detente.Release, 0, len(p.served)+len(p.withheld))
		for j, o := range p.served {
			rs = append(rs, &detente.Release{Object: o.ID, Modified: o.Modified, Partner: r.partner, Allowed: true, Reasons: p.decisions[j].Reasons, Time: now})
		}
		for j, o := range p.withheld {
			rs = append(rs, &detente.Release{Object: o.ID, Modified: o.Modified, Partner: r.partner, Reasons: p.why[j].Reasons, Time: now})
		}
		if err := tx.PutReleases(ctx, rs); err != nil {
			return err
		}
		if len(p.served) == 0 {
			continue
		}
		if !known {
			pt, err := tx.Partner(ctx, r.partner)
			if err != nil {
				return err
			}
			pkey, known = pt.Key, true
		}
		w, err := ledger.Given(ctx, tx, r.partner, pkey, p.served)
		if err != nil {
			return err
		}
		worth = append(worth, w...)
		for _, o := range p.served {
			keys = append(keys, o.Key())
		}
		copies = append(copies, p.copies...)
	}
	// The log entry, which the partner fetches as its release receipt,
	// names only what was released: a view never tells a partner that
	// something was kept from it, not even by the log's growth.
	if len(keys) == 0 {
		return nil
	}
	return r.s.cfg.Record(ctx, tx, r.partner, map[string]any{"allowed": true, "via": "taxii", "objects": keys, "worth": worth}, copies)
}
