package node

import (
	"context"
	"net/http"
	"strings"
	"time"

	"detente"
	"detente/internal/peer"
	"detente/internal/taxii"
)

// PartnerClient returns an HTTP client for p over mutual TLS: this node
// presents its certificate and accepts only a server carrying p's pinned
// key (peer.ClientTLS).
func (n *Node) PartnerClient(p *detente.Partner) (*http.Client, error) {
	cert, err := n.TLSCertificate(nil)
	if err != nil {
		return nil, err
	}
	return peer.HTTPClient(cert, p), nil
}

// PeerClient returns a client of the partner protocol (internal/peer) for
// p.
func (n *Node) PeerClient(p *detente.Partner) (*peer.Client, error) {
	hc, err := n.PartnerClient(p)
	if err != nil {
		return nil, err
	}
	return &peer.Client{HTTP: hc, BaseURL: p.URL, Partner: p.Name}, nil
}

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
// stored twice. progress, when set, is called after each page.
func (n *Node) Sync(ctx context.Context, partner string, progress func(SyncResult)) (*SyncResult, error) {
	res := &SyncResult{Partner: partner}
	var p *detente.Partner
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { p, err = tx.Partner(ctx, partner); return }); err != nil {
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
	err := n.pull(ctx, p, res, progress)
	if err2 := n.recordSyncAttempt(ctx, partner, err); err == nil {
		err = err2
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

func (n *Node) pull(ctx context.Context, p *detente.Partner, res *SyncResult, progress func(SyncResult)) error {
	hc, err := n.PartnerClient(p)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	var st *detente.SyncState
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { st, err = tx.SyncState(ctx, p.Name); return }); err != nil {
		return err
	}
	c := &taxii.Client{HTTP: hc, BaseURL: strings.TrimSuffix(p.URL, "/") + "/taxii2/api/"}
	f := taxii.Filter{Versions: []string{"all"}, AddedAfter: st.Cursor, Limit: SyncPageSize}
	err = c.Walk(ctx, CollectionShared, f, func(page taxii.Page) error {
		_, err := n.Receive(ctx, p.Name, page.Objects, func(tx detente.Tx, r *ReceiveResult) error {
			s, err := tx.SyncState(ctx, p.Name)
			if err != nil {
				return err
			}
			if !page.DateAddedLast.IsZero() {
				s.Cursor = page.DateAddedLast
			}
			s.Received += int64(r.Added + r.Quarantined)
			s.Quarantined += int64(r.Quarantined)
			s.Rejected += int64(r.Rejected)
			res.Pages++
			res.Added, res.Unchanged, res.Quarantined, res.Rejected = res.Added+r.Added, res.Unchanged+r.Unchanged, res.Quarantined+r.Quarantined, res.Rejected+r.Rejected
			return tx.PutSyncState(ctx, s)
		})
		if err == nil && progress != nil {
			progress(*res)
		}
		return err
	})
	if err != nil {
		return err
	}
	// The consents the partner issued for what it released, this pass's
	// pages included.
	if err := n.fetchConsents(ctx, hc, p); err != nil {
		return err
	}
	// Witness the partner's log after each pull, so what was received is
	// covered by a checkpoint this node has cosigned.
	return n.Witness(ctx, hc, p)
}

// recordSyncAttempt stores the outcome of a pass in the partner's state.
func (n *Node) recordSyncAttempt(ctx context.Context, partner string, syncErr error) error {
	return n.Store.Update(ctx, func(tx detente.Tx) error {
		s, err := tx.SyncState(ctx, partner)
		if err != nil {
			return err
		}
		s.LastAttempt = n.now()
		if syncErr == nil {
			s.LastSuccess, s.Errors, s.LastError = s.LastAttempt, 0, ""
		} else {
			s.Errors++
			s.LastError = syncErr.Error()
		}
		return tx.PutSyncState(ctx, s)
	})
}

// SyncAll runs one pass over every active partner with a URL.
func (n *Node) SyncAll(ctx context.Context, progress func(SyncResult)) ([]*SyncResult, error) {
	ps, err := n.Partners(ctx)
	if err != nil {
		return nil, err
	}
	var out []*SyncResult
	for _, p := range ps {
		if p.State != detente.PartnerActive || p.URL == "" {
			continue
		}
		r, _ := n.Sync(ctx, p.Name, progress) // the error is in r and in the partner's state
		out = append(out, r)
	}
	return out, nil
}

// RunSync pulls from every active partner every interval until ctx ends.
// A partner that fails is retried with exponential backoff, up to
// maxBackoff, so a partner that is down is not hammered and one that comes
// back is picked up.
func (n *Node) RunSync(ctx context.Context, interval, maxBackoff time.Duration) {
	next := map[string]time.Time{}
	fails := map[string]int{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if release, ok := n.lease(ctx, "sync"); ok {
			n.syncPass(ctx, interval, maxBackoff, next, fails)
			release()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
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
func (n *Node) lease(ctx context.Context, name string) (func(), bool) {
	l, ok := n.Store.(leaser)
	if !ok {
		return func() {}, true
	}
	release, ok, err := l.Lease(ctx, name)
	if err != nil {
		n.Logger.WarnContext(ctx, "lease", "name", name, "err", err)
		return nil, false
	}
	return release, ok
}

// syncPass runs one round of RunSync.
func (n *Node) syncPass(ctx context.Context, interval, maxBackoff time.Duration, next map[string]time.Time, fails map[string]int) {
	ps, err := n.Partners(ctx)
	if err != nil && ctx.Err() == nil {
		n.Logger.WarnContext(ctx, "sync: list partners", "err", err)
	}
	for _, p := range ps {
		if ctx.Err() != nil {
			return
		}
		if p.State != detente.PartnerActive || p.URL == "" || time.Now().Before(next[p.Name]) {
			continue
		}
		r, err := n.Sync(ctx, p.Name, nil)
		if err != nil {
			fails[p.Name]++
			wait := min(maxBackoff, interval<<min(fails[p.Name], 16))
			next[p.Name] = time.Now().Add(wait)
			n.Logger.WarnContext(ctx, "sync failed", "partner", p.Name, "retry_in", wait, "err", err)
			continue
		}
		fails[p.Name], next[p.Name] = 0, time.Time{}
		if r.Added+r.Quarantined+r.Rejected > 0 {
			n.Logger.InfoContext(ctx, "synced", "partner", p.Name, "added", r.Added, "quarantined", r.Quarantined, "rejected", r.Rejected)
		}
	}
}

// SyncStates returns every partner's sync state.
func (n *Node) SyncStates(ctx context.Context) ([]*detente.SyncState, error) {
	var out []*detente.SyncState
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		ps, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			s, err := tx.SyncState(ctx, p.Name)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
