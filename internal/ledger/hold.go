package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"detente"
)

// Hold states.
const (
	// HoldHeld: new releases to the partner are held.
	HoldHeld = "held"
	// HoldWaived: an admin released the hold; it does not engage again
	// before WaivedUntil unless the balance first recovers.
	HoldWaived = "waived"
)

// Hold is a reciprocity hold on one partner, kept while the partner's
// ratio stays below its agreement's minimum.
type Hold struct {
	Partner   string    `json:"partner"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`     // when the hold engaged
	Agreement string    `json:"agreement"` // whose terms engaged it
	Window    string    `json:"window"`
	MinRatio  float64   `json:"min_ratio"`
	Ratio     float64   `json:"ratio"` // the ratio when it engaged
	// WaivedUntil, Reason and By are set when an admin released the hold.
	WaivedUntil time.Time `json:"waived_until,omitzero"`
	Reason      string    `json:"reason,omitempty"`
	By          string    `json:"by,omitempty"`
}

// Detail is the sentence a release check shows for the hold.
func (h *Hold) Detail() string {
	return fmt.Sprintf("releases to %s are held since %s: over %s it gave back %.2f of what it received, below the %.2f its agreement %s asks",
		h.Partner, h.Since.UTC().Format(time.RFC3339), h.Window, h.Ratio, h.MinRatio, h.Agreement)
}

// Held returns the hold in force on partner, nil when releases to it are
// not held.
func Held(ctx context.Context, tx detente.Tx, partner string) (*Hold, error) {
	h, err := readHold(ctx, tx, partner)
	if err != nil || h == nil || h.State != HoldHeld {
		return nil, err
	}
	return h, nil
}

func readHold(ctx context.Context, tx detente.Tx, partner string) (*Hold, error) {
	raw, err := tx.Doc(ctx, docHold, partner)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h := new(Hold)
	if err := json.Unmarshal(raw, h); err != nil {
		return nil, fmt.Errorf("decode hold on %s: %w", partner, err)
	}
	return h, nil
}

func putHold(ctx context.Context, tx detente.Tx, h *Hold) error {
	raw, _ := json.Marshal(h)
	return tx.PutDoc(ctx, docHold, h.Partner, raw, false)
}

// Holds returns every hold, held or waived, by partner name.
func (s *Service) Holds(ctx context.Context) ([]*Hold, error) {
	var out []*Hold
	err := s.store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docHold, "", 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			h := new(Hold)
			if err := json.Unmarshal(d.Body, h); err != nil {
				return fmt.Errorf("decode hold %s: %w", d.ID, err)
			}
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// term is one agreement's reciprocity terms for one partner.
type term struct {
	agreement string
	terms     detente.ReciprocityTerms
}

// Enforce applies the reciprocity terms of the agreements in force: for
// each partner below a term's minimum ratio over its window, "warn"
// raises an alert and "hold" engages a hold (logged); a hold whose
// partner is back at or above the minimum, or no longer under hold
// terms, is lifted (logged). An admin's release (ReleaseHold) stands
// until its waiver ends. The server runs Enforce periodically.
func (s *Service) Enforce(ctx context.Context) error {
	now := s.now().UTC()
	var (
		events []*detente.Event
		terms  = map[string][]term{}
	)
	err := s.store.View(ctx, func(tx detente.Tx) error {
		ags, err := tx.Agreements(ctx, "")
		if err != nil {
			return err
		}
		for _, a := range ags {
			if a.Reciprocity == nil || !a.InForce(now) {
				continue
			}
			for _, p := range a.Partners {
				terms[p] = append(terms[p], term{a.ID, *a.Reciprocity})
			}
		}
		if len(terms) == 0 {
			return nil // holds left over are lifted below, without reading the log
		}
		var longest time.Duration
		for _, ts := range terms {
			for _, t := range ts {
				longest = max(longest, t.terms.WindowDuration())
			}
		}
		events, err = EventsSince(ctx, tx, readFrom(now, longest))
		return err
	})
	if err != nil {
		return fmt.Errorf("reciprocity: %w", err)
	}
	byWindow := map[time.Duration]map[string]*Balance{}
	balance := func(partner string, window time.Duration) *Balance {
		m, ok := byWindow[window]
		if !ok {
			m = map[string]*Balance{}
			for _, b := range Compute(events, window, now) {
				m[b.Partner] = b
			}
			byWindow[window] = m
		}
		if b := m[partner]; b != nil {
			return b
		}
		return &Balance{Partner: partner}
	}
	return s.store.Update(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docHold, "", 0)
		if err != nil {
			return err
		}
		partners := make([]string, 0, len(terms)+len(docs))
		for p := range terms {
			partners = append(partners, p)
		}
		for _, d := range docs {
			if _, ok := terms[d.ID]; !ok {
				partners = append(partners, d.ID)
			}
		}
		slices.Sort(partners)
		for _, p := range partners {
			if err := s.enforce(ctx, tx, now, p, terms[p], balance); err != nil {
				return err
			}
		}
		return nil
	})
}

// enforce applies ts to partner p.
func (s *Service) enforce(ctx context.Context, tx detente.Tx, now time.Time, p string, ts []term, balance func(string, time.Duration) *Balance) error {
	var holdBy *term
	var holdRatio float64
	for i := range ts {
		t := &ts[i]
		b := balance(p, t.terms.WindowDuration())
		if !b.Below(t.terms.MinRatio) {
			continue
		}
		if t.terms.Action == detente.ReciprocityWarn {
			a := &detente.Alert{Key: "reciprocity/" + p, Time: now, Kind: detente.AlertReciprocity, Partner: p,
				Message: fmt.Sprintf("%s gave back %.2f of what it received over %s, below the %.2f agreement %s asks",
					p, *b.Ratio, t.terms.Window, t.terms.MinRatio, t.agreement)}
			if err := tx.PutAlert(ctx, a); err != nil {
				return err
			}
			continue
		}
		if holdBy == nil {
			holdBy, holdRatio = t, *b.Ratio
		}
	}
	h, err := readHold(ctx, tx, p)
	if err != nil {
		return err
	}
	switch {
	case holdBy == nil && h != nil:
		why := "the balance recovered"
		if !slices.ContainsFunc(ts, func(t term) bool { return t.terms.Action == detente.ReciprocityHold }) {
			why = "no agreement in force holds releases to this partner any more"
		}
		if err := tx.DeleteDoc(ctx, docHold, p); err != nil {
			return err
		}
		return s.log(ctx, tx, p, map[string]any{"action": "lifted", "reason": why, "was": h.State})
	case holdBy != nil && (h == nil || h.State == HoldWaived && !now.Before(h.WaivedUntil)):
		fresh := h == nil
		h = &Hold{Partner: p, State: HoldHeld, Since: now, Agreement: holdBy.agreement, Window: holdBy.terms.Window,
			MinRatio: holdBy.terms.MinRatio, Ratio: holdRatio}
		raw, _ := json.Marshal(h)
		// A new hold is an insert-if-absent: when several processes serve
		// the node, one engages it and logs it.
		err := tx.PutDoc(ctx, docHold, p, raw, fresh)
		if fresh && detente.ErrorCode(err) == detente.EEXISTS {
			return nil
		}
		if err != nil {
			return err
		}
		a := &detente.Alert{Key: "reciprocity/" + p, Time: now, Kind: detente.AlertReciprocity, Partner: p, Message: h.Detail()}
		if err := tx.PutAlert(ctx, a); err != nil {
			return err
		}
		s.logger.WarnContext(ctx, "reciprocity hold engaged", "partner", p, "ratio", holdRatio, "min_ratio", h.MinRatio)
		return s.log(ctx, tx, p, map[string]any{"action": "held", "agreement": h.Agreement, "window": h.Window,
			"min_ratio": h.MinRatio, "ratio": holdRatio})
	}
	return nil
}

// ReleaseHold releases the hold on partner by an admin's decision, with a
// reason, logged: releases flow again, and the hold does not engage again
// for one window of its terms unless the balance first recovers.
func (s *Service) ReleaseHold(ctx context.Context, partner, reason, by string) (*Hold, error) {
	if reason == "" {
		return nil, detente.Errorf(detente.EINVALID, "a reason is required to release a reciprocity hold")
	}
	now := s.now().UTC()
	var h *Hold
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		var err error
		if h, err = readHold(ctx, tx, partner); err != nil {
			return err
		}
		if h == nil || h.State != HoldHeld {
			return detente.Errorf(detente.ENOTFOUND, "releases to %s are not held", partner)
		}
		window, _ := time.ParseDuration(h.Window)
		h.State, h.WaivedUntil, h.Reason, h.By = HoldWaived, now.Add(window), reason, by
		if err := putHold(ctx, tx, h); err != nil {
			return err
		}
		return s.log(ctx, tx, partner, map[string]any{"action": "released", "reason": reason, "by": by,
			"waived_until": h.WaivedUntil.Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (s *Service) log(ctx context.Context, tx detente.Tx, partner string, body any) error {
	e, err := detente.NewEvent(s.now(), detente.EventReciprocity, partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// Run enforces the reciprocity terms every interval until ctx ends,
// logging failures.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Enforce(ctx); err != nil && ctx.Err() == nil {
			s.logger.ErrorContext(ctx, "reciprocity enforcement failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
