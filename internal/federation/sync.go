package federation

import (
	"context"
	"sync"
	"time"

	"detente"
	"detente/internal/peer"
	"detente/internal/taxii"
)

// SyncResult sums up one pull from one partner.
type SyncResult struct {
	Partner     string `json:"partner"`
	Pages       int    `json:"pages"`
	Added       int    `json:"added"`
	Unchanged   int    `json:"unchanged"`
	Quarantined int    `json:"quarantined"`
	Rejected    int    `json:"rejected"`
	Error       string `json:"error,omitempty"`
}

// SyncPageSize is how many objects a pull asks for per page.
const SyncPageSize = 500

// Sync pulls from partner everything released to this node since the last
// cursor, page by page. Each page is stored (under the ingress policy)
// together with the new cursor in one transaction, so a node stopped at
// any point, kill -9 included, resumes where it was: nothing is lost or
// stored twice. Then it takes the partner's consents and witnesses its
// log. progress, when set, is called after each page.
func (s *Service) Sync(ctx context.Context, partner string, progress func(SyncResult)) (*SyncResult, error) {
	res := &SyncResult{Partner: partner}
	var p *detente.Partner
	if err := s.store.View(ctx, func(tx detente.Tx) (err error) { p, err = tx.Partner(ctx, partner); return }); err != nil {
		return res, err
	}
	if p.State != detente.PartnerActive {
		return res, detente.Errorf(detente.EDENIED, "partner %s is %s: not syncing", partner, p.State)
	}
	if p.URL == "" {
		return res, detente.Errorf(detente.EINVALID, "partner %s has no URL", partner)
	}
	if err := detente.ValidPartnerURL(p.URL); err != nil {
		return res, err // stored before URLs were checked: never pulled in cleartext
	}
	err := s.pull(ctx, p, res, progress)
	if err2 := s.recordSyncAttempt(context.WithoutCancel(ctx), partner, err); err == nil {
		err = err2
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

func (s *Service) pull(ctx context.Context, p *detente.Partner, res *SyncResult, progress func(SyncResult)) error {
	pc, err := s.peer(p)
	if err != nil {
		return err
	}
	defer pc.Close()
	var st *detente.SyncState
	if err := s.store.View(ctx, func(tx detente.Tx) (err error) { st, err = tx.SyncState(ctx, p.Name); return }); err != nil {
		return err
	}
	c := s.taxii(p, pc.HTTP)
	f := taxii.Filter{Versions: []string{"all"}, AddedAfter: st.Cursor, Limit: SyncPageSize}
	// The pull is pipelined: the next page is fetched (and decoded) while
	// the previous one is verified and stored. Pages are stored in order,
	// each with its cursor, so a stop at any point still resumes exactly.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan taxii.Page, 1)
	walkErr := make(chan error, 1)
	go func() {
		defer close(pages)
		walkErr <- c.Walk(wctx, peer.CollectionShared, f, func(page taxii.Page) error {
			select {
			case pages <- page:
				return nil
			case <-wctx.Done():
				return wctx.Err()
			}
		})
	}()
	for page := range pages {
		err := s.receive(ctx, p.Name, page.Objects, func(tx detente.Tx, r Received) error {
			st, err := tx.SyncState(ctx, p.Name)
			if err != nil {
				return err
			}
			if !page.DateAddedLast.IsZero() {
				st.Cursor = page.DateAddedLast
			}
			st.Received += int64(r.Added + r.Quarantined)
			st.Quarantined += int64(r.Quarantined)
			st.Rejected += int64(r.Rejected)
			res.Pages++
			res.Added, res.Unchanged, res.Quarantined, res.Rejected = res.Added+r.Added, res.Unchanged+r.Unchanged, res.Quarantined+r.Quarantined, res.Rejected+r.Rejected
			return tx.PutSyncState(ctx, st)
		})
		if err != nil {
			cancel()
			for range pages { // let the walk end
			}
			<-walkErr
			return err
		}
		if progress != nil {
			progress(*res)
		}
	}
	if err := <-walkErr; err != nil {
		return err
	}
	// The consents the partner issued for what it released, this pass's
	// pages included.
	if err := s.fetchConsents(ctx, pc, p); err != nil {
		return err
	}
	// Witness the partner's log after each pull, so what was received is
	// covered by a checkpoint this node has cosigned.
	return s.Witness(ctx, pc, p)
}

// recordSyncAttempt stores the outcome of a pass in the partner's state.
func (s *Service) recordSyncAttempt(ctx context.Context, partner string, syncErr error) error {
	return s.store.Update(ctx, func(tx detente.Tx) error {
		st, err := tx.SyncState(ctx, partner)
		if err != nil {
			return err
		}
		st.LastAttempt = s.clock()
		if syncErr == nil {
			st.LastSuccess, st.Errors, st.LastError = st.LastAttempt, 0, ""
		} else {
			st.Errors++
			st.LastError = syncErr.Error()
		}
		return tx.PutSyncState(ctx, st)
	})
}

// SyncAll runs one pass over every active partner with a URL.
func (s *Service) SyncAll(ctx context.Context, progress func(SyncResult)) ([]*SyncResult, error) {
	ps, err := s.partners(ctx)
	if err != nil {
		return nil, err
	}
	var out []*SyncResult
	for _, p := range ps {
		if p.State != detente.PartnerActive || p.URL == "" {
			continue
		}
		r, _ := s.Sync(ctx, p.Name, progress) // the error is in r and in the partner's state
		out = append(out, r)
	}
	return out, nil
}

// RunSync pulls from every active partner every interval until ctx ends.
// Each partner is pulled on its own (at most passWidth at once) under its
// own deadline, so a partner that is slow, down, or never ends its pages
// delays no other; a pull cut short resumes at the next tick from the last
// page stored. A partner that fails is retried with exponential backoff,
// up to maxBackoff, so a partner that is down is not hammered and one that
// comes back is picked up.
func (s *Service) RunSync(ctx context.Context, interval, maxBackoff time.Duration) {
	r := &syncRunner{s: s, interval: interval, maxBackoff: maxBackoff,
		next: map[string]time.Time{}, fails: map[string]int{}, running: map[string]bool{},
		slots: make(chan struct{}, passWidth)}
	defer r.wg.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.startDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// passWidth is how many partners RunSync pulls from at once, and
// passDeadline the least time one pull may take (ten sync intervals if
// that is longer).
const (
	passWidth    = 4
	passDeadline = 5 * time.Minute
)

// syncRunner is RunSync's state: when each partner is next due, its
// failures in a row, and which pulls are running.
type syncRunner struct {
	s                    *Service
	interval, maxBackoff time.Duration
	slots                chan struct{}
	wg                   sync.WaitGroup

	mu      sync.Mutex
	next    map[string]time.Time
	fails   map[string]int
	running map[string]bool
}

// startDue starts a pull from every active partner that is due, not
// already being pulled, and for which a slot is free.
func (r *syncRunner) startDue(ctx context.Context) {
	ps, err := r.s.partners(ctx)
	if err != nil && ctx.Err() == nil {
		r.s.logger.WarnContext(ctx, "sync: list partners", "err", err)
	}
	for _, p := range ps {
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		due := p.State == detente.PartnerActive && p.URL != "" && !r.running[p.Name] && !time.Now().Before(r.next[p.Name])
		r.mu.Unlock()
		if !due {
			continue
		}
		select {
		case r.slots <- struct{}{}:
		default:
			return // every slot busy: the rest wait for the next tick
		}
		release, ok := r.s.lease(ctx, "sync/"+p.Name)
		if !ok {
			<-r.slots
			continue // another process serving this node is pulling it
		}
		r.mu.Lock()
		r.running[p.Name] = true
		r.mu.Unlock()
		r.wg.Add(1)
		go func(name string) {
			defer r.wg.Done()
			defer func() { <-r.slots }()
			defer release()
			r.pull(ctx, name)
		}(p.Name)
	}
}

// pull runs one partner's pull under its deadline and schedules the next.
func (r *syncRunner) pull(ctx context.Context, name string) {
	pctx, cancel := context.WithTimeout(ctx, max(passDeadline, 10*r.interval))
	defer cancel()
	res, err := r.s.Sync(pctx, name, nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[name] = false
	if err != nil {
		r.fails[name]++
		wait := min(r.maxBackoff, r.interval<<min(r.fails[name], 16))
		r.next[name] = time.Now().Add(wait)
		if ctx.Err() == nil {
			r.s.logger.WarnContext(ctx, "sync failed", "partner", name, "retry_in", wait, "err", err)
		}
		return
	}
	r.fails[name], r.next[name] = 0, time.Time{}
	if res.Added+res.Quarantined+res.Rejected > 0 {
		r.s.logger.InfoContext(ctx, "synced", "partner", name, "added", res.Added, "quarantined", res.Quarantined, "rejected", res.Rejected)
	}
}

// leaser is a store whose processes can share work: only the holder of a
// lease runs the work it names. The PostgreSQL store is one; a store that
// is not (SQLite, one process) runs everything.
type leaser interface {
	Lease(ctx context.Context, name string) (release func(), ok bool, err error)
}

// lease takes the store's lease name when the store has leases, so that of
// several processes serving one node only one pulls from partners at a
// time (two pulls could move a cursor backwards).
func (s *Service) lease(ctx context.Context, name string) (func(), bool) {
	l, ok := s.store.(leaser)
	if !ok {
		return func() {}, true
	}
	release, ok, err := l.Lease(ctx, name)
	if err != nil {
		s.logger.WarnContext(ctx, "lease", "name", name, "err", err)
		return nil, false
	}
	return release, ok
}

// SyncStates returns every partner's sync state, in the order of the
// partner list.
func (s *Service) SyncStates(ctx context.Context) ([]*detente.SyncState, error) {
	var out []*detente.SyncState
	err := s.store.View(ctx, func(tx detente.Tx) error {
		ps, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			st, err := tx.SyncState(ctx, p.Name)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}
