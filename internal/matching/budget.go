package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/peer"
	"detente/internal/psi"
)

// Budget is a partner's usage of its matching budget in one period,
// stored per partner and period.
type Budget struct {
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

// wire returns the terms as the owner tells the partner.
func (t *matchTerms) wire(used int) *peer.MatchTerms {
	m := t.agreement.Match
	return &peer.MatchTerms{ProtocolVersion: psi.ProtocolVersion, Agreement: t.agreement.ID, Epoch: t.epoch,
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
func (s *Service) termsWith(ctx context.Context, tx detente.Tx, partner, mode string) (*matchTerms, error) {
	as, err := tx.Agreements(ctx, partner)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	slices.SortFunc(as, func(a, b *detente.Agreement) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range as {
		if !a.Covers(partner) || !a.InForce(now) || a.Match == nil {
			continue
		}
		if mode != "" && !a.Match.Allows(mode) {
			return nil, detente.Errorf(detente.EDENIED, "the agreement of %s with %s does not allow private matching in %s mode (allowed: %s)",
				s.name, partner, mode, strings.Join(a.Match.Modes, ", "))
		}
		t := &matchTerms{agreement: a, partner: partner}
		t.epoch, t.start, t.end = EpochOf(a, partner, now)
		return t, nil
	}
	return nil, detente.Errorf(detente.EDENIED, "%s has no agreement in force with %s that allows private matching", s.name, partner)
}

// readBudget returns partner's usage in the period of t.
func readBudget(ctx context.Context, tx detente.Tx, t *matchTerms) (*Budget, error) {
	b := &Budget{Partner: t.partner, Agreement: t.agreement.ID, Epoch: t.epoch, PeriodStart: t.start, PeriodEnd: t.end}
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

// Terms returns the terms in force with partner and its usage, as the
// owner tells partner (GET /detente/v1/match/terms).
func (s *Service) Terms(ctx context.Context, partner string) (*peer.MatchTerms, error) {
	var out *peer.MatchTerms
	err := s.store.View(ctx, func(tx detente.Tx) error {
		t, err := s.termsWith(ctx, tx, partner, "")
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

// Budgets returns the stored budget usage, every partner and period.
func (s *Service) Budgets(ctx context.Context) ([]*Budget, error) {
	var out []*Budget
	err := s.store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docBudget, "", 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			b := new(Budget)
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
func (s *Service) charge(ctx context.Context, partner, mode string, cost int, body map[string]any, check func(detente.Tx, *matchTerms) error) (*Budget, *matchTerms, error) {
	var budget *Budget
	var terms *matchTerms
	var refused error
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		budget, terms, refused = nil, nil, nil
		delete(body, "refused") // in case of a retry
		t, err := s.termsWith(ctx, tx, partner, mode)
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
		return s.logEvent(ctx, tx, detente.EventMatchQuery, partner, body)
	})
	if err != nil {
		return nil, nil, err
	}
	if refused != nil {
		return budget, nil, refused
	}
	return budget, terms, nil
}
