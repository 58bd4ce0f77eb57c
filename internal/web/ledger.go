package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"detente/internal/ledger"
)

// ledgerPage is the reciprocity ledger: one balance and chart per
// partner, and the holds.
type ledgerPage struct {
	Period string
	Rows   []ledgerRow
}

// ledgerRow is one partner's balance, its chart and its hold.
type ledgerRow struct {
	B     *ledger.Balance
	Ratio string
	Hold  *ledger.Hold
	Chart balanceChart
}

// balanceChart draws a balance's series: what was given (solid) and
// received (hatched) in each step, as bars, and the running balance as a
// line against its own axis on the right.
type balanceChart struct {
	Width, Height            int
	Left, Top, Right, Bottom int
	Bars                     []bar
	XTicks, YTicks, BTicks   []tick
	Line                     string // the balance's polyline points
	Zero                     int    // the y of a zero balance
	Empty                    bool
}

func ledgerChart(b *ledger.Balance) balanceChart {
	c := balanceChart{Width: 760, Height: 260, Left: 56, Top: 16, Right: 700, Bottom: 200}
	top, lo, hi := 0.0, 0.0, 0.0
	for _, p := range b.Series {
		top = math.Max(top, math.Max(p.GivenWeight, p.ReceivedWeight))
		lo, hi = math.Min(lo, p.Balance), math.Max(hi, p.Balance)
	}
	c.Empty = top == 0
	scale := float64(niceCeil(int(math.Ceil(math.Max(top, 1)))))
	plotH := float64(c.Bottom - c.Top)
	y := func(v float64) int { return c.Bottom - int(v*plotH/scale) }
	span := math.Max(hi-lo, 1)
	by := func(v float64) int { return c.Bottom - int((v-lo)*plotH/span) }
	c.Zero = by(0)
	n := len(b.Series)
	if n == 0 {
		return c
	}
	group := (c.Right - c.Left) / n
	barW := max(2, (group-2)/2)
	for i, p := range b.Series {
		x := c.Left + i*group + 1
		label := p.End.UTC().Format("2 Jan 15:04")
		if p.GivenWeight > 0 {
			c.Bars = append(c.Bars, bar{X: x, Y: y(p.GivenWeight), W: barW, H: c.Bottom - y(p.GivenWeight), Fill: fillSent,
				Title: fmt.Sprintf("to %s: given %.2f", label, p.GivenWeight)})
		}
		if p.ReceivedWeight > 0 {
			c.Bars = append(c.Bars, bar{X: x + barW, Y: y(p.ReceivedWeight), W: barW, H: c.Bottom - y(p.ReceivedWeight), Fill: fillReceived,
				Title: fmt.Sprintf("to %s: received %.2f", label, p.ReceivedWeight)})
		}
		c.Line += fmt.Sprintf("%d,%d ", x+barW, by(p.Balance))
		if i%6 == 0 || i == n-1 {
			c.XTicks = append(c.XTicks, tick{X: x + barW, Y: c.Bottom + 18, Label: p.End.UTC().Format("2 Jan")})
		}
	}
	for _, v := range []float64{0, scale / 2, scale} {
		c.YTicks = append(c.YTicks, tick{X: c.Left - 6, Y: y(v), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	for _, v := range []float64{lo, hi} {
		c.BTicks = append(c.BTicks, tick{X: c.Right + 6, Y: by(v), Label: fmt.Sprintf("%+.1f", v)})
	}
	return c
}

func (h *Handler) ledgerPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	period := r.URL.Query().Get("period")
	if period == "" {
		period = "30d"
	}
	d, err := ledger.ParsePeriod(period)
	if err != nil {
		return err
	}
	bs, err := h.node.Ledger.Balances(r.Context(), "", d)
	if err != nil {
		return err
	}
	hs, err := h.node.Ledger.Holds(r.Context())
	if err != nil {
		return err
	}
	holds := map[string]*ledger.Hold{}
	for _, hd := range hs {
		holds[hd.Partner] = hd
	}
	p := ledgerPage{Period: period}
	for _, b := range bs {
		row := ledgerRow{B: b, Ratio: "–", Hold: holds[b.Partner], Chart: ledgerChart(b)}
		if b.Ratio != nil {
			row.Ratio = strconv.FormatFloat(*b.Ratio, 'f', 2, 64)
		}
		p.Rows = append(p.Rows, row)
	}
	h.render(w, r, v, http.StatusOK, "ledger", "Reciprocity ledger", "ledger", p)
	return nil
}

func (h *Handler) releaseHold(w http.ResponseWriter, r *http.Request, v *visit) error {
	partner := r.PathValue("partner")
	back := "/ledger#p-" + url.PathEscape(partner)
	if _, err := h.node.Ledger.ReleaseHold(r.Context(), partner, formValue(r, "reason"), v.Token.ID+" (console)"); err != nil {
		return h.refused(w, r, v, back, err)
	}
	h.logger.InfoContext(r.Context(), "console: reciprocity hold released", "partner", partner, "token", v.Token.ID)
	return h.done(w, r, v, back, "Releases to "+partner+" flow again; the release is logged with its reason.")
}

func (h *Handler) gradePartner(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := r.PathValue("name")
	back := "/partners/" + url.PathEscape(name)
	if _, err := h.node.Ledger.GradePartner(r.Context(), name, formValue(r, "reliability"), formValue(r, "note"), v.Token.ID+" (console)"); err != nil {
		return h.refused(w, r, v, back, err)
	}
	return h.done(w, r, v, back, "Your grading of "+name+" as a source is recorded, signed and logged.")
}

func (h *Handler) gradeObject(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	back := "/objects/" + url.PathEscape(id) + "#grading-h"
	c, err := strconv.Atoi(formValue(r, "credibility"))
	if err != nil {
		c = 0 // refused below with the ledger's words
	}
	if _, err := h.node.Ledger.GradeObject(r.Context(), id, c, formValue(r, "note"), v.Token.ID+" (console)"); err != nil {
		return h.refused(w, r, v, back, err)
	}
	return h.done(w, r, v, back, "Your grading of this assertion is recorded beside the originator's, signed and logged.")
}

// sendFeedback sends a sighting or an opinion about an object back to
// its originator, as 'detente feedback' does.
func (h *Handler) sendFeedback(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	back := "/objects/" + url.PathEscape(id) + "#grading-h"
	f := ledger.Feedback{Object: id, Kind: formValue(r, "kind"), Note: formValue(r, "note")}
	if f.Kind == ledger.FeedbackSighting {
		f.Count, _ = strconv.Atoi(formValue(r, "count"))
	} else {
		f.Opinion = formValue(r, "opinion")
	}
	res, err := h.node.SendFeedback(r.Context(), f)
	if err != nil {
		return h.refused(w, r, v, back, err)
	}
	h.logger.InfoContext(r.Context(), "console: feedback", "object", id, "partner", res.Partner, "allowed", res.Decision.Allowed, "token", v.Token.ID)
	switch {
	case !res.Decision.Allowed:
		return h.done(w, r, v, back, "The "+f.Kind+" is kept here but the egress policy does not let it go to "+res.Partner+" now; check a release of "+res.ID+" to see why.")
	case !res.Delivered:
		return h.done(w, r, v, back, "The "+f.Kind+" is released to "+res.Partner+", which gets it on its next pull ("+res.DeliveryError+").")
	}
	return h.done(w, r, v, back, "The "+f.Kind+" was delivered to "+res.Partner+".")
}
