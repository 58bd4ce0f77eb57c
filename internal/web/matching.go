package web

import (
	"net/http"
	"slices"
	"strconv"

	"detente"
	"detente/internal/matching"
	"detente/internal/psi"
)

// matchOutcome is what a private match learned, kept in the session for
// the page the browser is sent to after the post (so that reloading the
// page does not run, and charge, the match again).
type matchOutcome struct {
	Result *matching.Result `json:"result"`
	Sent   int              `json:"sent"` // how many selectors were sent
}

// matchingPage is the data of the private matching page.
type matchingPage struct {
	Partners   []string // active partners, by name
	Types      []psi.Type
	Modes      []string
	Outcome    *matchOutcome
	Budgets    []*matching.Budget
	Watchlists []matching.WatchlistSummary
}

// Modes of private matching, in the order the form offers them.
var matchModes = []string{detente.MatchQuery, detente.MatchBulk, detente.MatchCount}

func (h *Handler) matching(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	p := matchingPage{Types: psi.Types, Modes: matchModes}
	if v.Can("intel") {
		ps, err := h.node.Partners(ctx)
		if err != nil {
			return err
		}
		for _, x := range ps {
			if x.State == detente.PartnerActive {
				p.Partners = append(p.Partners, x.Name)
			}
		}
		if p.Budgets, err = h.node.Matching.Budgets(ctx); err != nil {
			return err
		}
		slices.SortStableFunc(p.Budgets, func(a, b *matching.Budget) int {
			if c := b.PeriodStart.Compare(a.PeriodStart); c != 0 {
				return c
			}
			if a.Partner < b.Partner {
				return -1
			}
			if a.Partner > b.Partner {
				return 1
			}
			return 0
		})
		if p.Watchlists, err = h.node.Matching.Watchlists(ctx); err != nil {
			return err
		}
		if p.Outcome, err = h.sessions.takeMatch(ctx, v.session); err != nil {
			return err
		}
	}
	h.render(w, r, v, http.StatusOK, "matching", "Private matching", "matching", p)
	return nil
}

// runMatch runs a private match against a partner's watchlists, as POST
// /api/v1/match does, and shows what it learned on the matching page.
func (h *Handler) runMatch(w http.ResponseWriter, r *http.Request, v *visit) error {
	const back = "/matching"
	partner := formValue(r, "partner")
	if partner == "" {
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "choose a partner to match against"))
	}
	typ, err := matching.ParseSelectorType(formValue(r, "type"))
	if err != nil {
		return h.refused(w, r, v, back, err)
	}
	mode := formValue(r, "mode")
	if !slices.Contains(matchModes, mode) {
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "mode must be query, bulk or count"))
	}
	sels, bad := matching.ParseSelectorFile(typ, []byte(r.PostForm.Get("selectors")))
	if len(bad) > 0 {
		return h.refused(w, r, v, back, matching.LinesError("selectors (nothing was sent)", bad))
	}
	if len(sels) == 0 {
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "enter at least one selector, one per line"))
	}
	if len(sels) > detente.MaxMatchSetSize {
		return h.refused(w, r, v, back, detente.Errorf(detente.ETOOLARGE, "at most %d selectors per match (nothing was sent)", detente.MaxMatchSetSize))
	}
	res, err := h.node.Matching.Match(r.Context(), matching.Request{Partner: partner, Type: typ, Mode: mode, Selectors: sels})
	if err != nil {
		return h.refused(w, r, v, back, err)
	}
	if err := h.sessions.setMatch(r.Context(), v.session, &matchOutcome{Result: res, Sent: len(sels)}); err != nil {
		return err
	}
	return h.done(w, r, v, back, "matched "+strconv.Itoa(len(sels))+" selector(s) against "+res.Partner+"'s watchlists")
}
