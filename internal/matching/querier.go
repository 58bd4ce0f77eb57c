package matching

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"detente"
	"detente/internal/peer"
	"detente/internal/psi"
)

// Request is what a querier asks of a partner's watchlists.
type Request struct {
	Partner   string
	Type      psi.Type
	Mode      string // query (default), bulk or count
	Selectors []SelectorLine
}

// Result is what a querier learned. Matches are the selectors that
// matched, exactly as given, in input order (query and bulk modes; an
// empty list when none did); Count is the intersection's size (count mode).
// Cost is what the exchange charged to the budget (evaluations, or set
// elements sent, padding included).
type Result struct {
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

// Match asks partner which of req's selectors are on its watchlists (query
// and bulk modes), or how many (count mode). This node's own agreement
// with partner must allow the mode too. The exchange is logged here with
// counts only. Query mode uses the partner's encoded watchlist of the
// current epoch, fetched once per epoch and kept in memory.
func (s *Service) Match(ctx context.Context, req Request) (*Result, error) {
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
	for i, sl := range req.Selectors {
		if sl.Selector.Type != req.Type {
			return nil, detente.Errorf(detente.EINVALID, "line %d: a %s selector in a %s match", sl.Line, sl.Selector.Type, req.Type)
		}
		sels[i] = sl.Selector
	}
	var p *detente.Partner
	err := s.store.View(ctx, func(tx detente.Tx) error {
		var err error
		if p, err = tx.Partner(ctx, req.Partner); err != nil {
			return err
		}
		_, err = s.termsWith(ctx, tx, req.Partner, req.Mode)
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
	c, err := s.peerClient(p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var res *Result
	var logBody map[string]any
	if req.Mode == detente.MatchQuery {
		res, logBody, err = s.query(ctx, c, req, sels)
	} else {
		res, logBody, err = s.bulk(ctx, c, req, sels)
	}
	if err != nil {
		return nil, err
	}
	res.Partner, res.Type, res.Mode = p.Name, req.Type, req.Mode
	logBody["role"], logBody["mode"], logBody["cost"] = "querier", req.Mode, res.Cost
	err = s.store.Update(ctx, func(tx detente.Tx) error {
		return s.logEvent(ctx, tx, detente.EventMatchQuery, p.Name, logBody)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// query runs a VOPRF query against the partner's encoded watchlist, and
// returns what was learned and the log body (counts only).
func (s *Service) query(ctx context.Context, c *peer.Client, req Request, sels []psi.Selector) (*Result, map[string]any, error) {
	for attempt := 0; ; attempt++ {
		terms, err := c.MatchTerms(ctx)
		if err != nil {
			return nil, nil, err
		}
		w, ok := s.cache.Get(c.Partner, terms.Epoch)
		if !ok {
			if w, err = c.MatchWatchlist(ctx); err != nil {
				return nil, nil, err
			}
			if w.Epoch != terms.Epoch {
				if attempt == 0 {
					continue // the period turned between the two calls
				}
				return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s's encoded watchlist is for epoch %s, not %s", c.Partner, w.Epoch, terms.Epoch)
			}
			s.cache.Put(c.Partner, w)
		}
		q, qreq, err := psi.NewQuery(w, sels, psi.QueryOptions{})
		if err != nil {
			return nil, nil, psiError(err)
		}
		if qreq.Count() > terms.MaxSetSize {
			return nil, nil, detente.Errorf(detente.ETOOLARGE, "%d selectors make a query of %d elements, over the agreed maximum of %d", len(sels), qreq.Count(), terms.MaxSetSize)
		}
		resp, u, err := c.MatchQuery(ctx, qreq)
		if errors.Is(err, psi.ErrEpoch) && attempt == 0 {
			continue // the next Get drops the stale encoding
		}
		if err != nil {
			return nil, nil, err
		}
		hits, err := q.Finalize(resp)
		if err != nil {
			return nil, nil, psiError(err)
		}
		res := &Result{Matches: make([]string, 0, len(hits)), Cost: resp.Cost, Epoch: w.Epoch}
		for _, h := range hits {
			res.Matches = append(res.Matches, req.Selectors[h.Index].Text)
		}
		res.Used, res.Limit = u.Used, u.Limit
		pk := sha256.Sum256(w.PublicKey)
		return res, map[string]any{"epoch": w.Epoch, "public_key_sha256": hex.EncodeToString(pk[:]), "elements": qreq.Count(), "hits": len(hits)}, nil
	}
}

// bulk runs a bulk or count exchange with the partner, this node the
// initiator (the only side that learns), and returns what was learned and
// the log body (counts only).
func (s *Service) bulk(ctx context.Context, c *peer.Client, req Request, sels []psi.Selector) (*Result, map[string]any, error) {
	terms, err := c.MatchTerms(ctx)
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
	reply, u, err := c.MatchBulk(ctx, req.Type, hello)
	if err != nil {
		return nil, nil, err
	}
	r, _, err := bi.HandleReply(reply)
	if err != nil {
		return nil, nil, psiError(err)
	}
	res := &Result{Cost: len(hello.Elements) / psi.ElementSize, Session: params.Session}
	res.Used, res.Limit = u.Used, u.Limit
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
