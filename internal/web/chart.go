package web

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"detente"
	"detente/internal/screen"
)

// The charts are drawn on the server as SVG: the templates only place
// the shapes computed here. Series are told apart by pattern and by a
// text legend, never by colour alone, and every chart comes with its data
// as a table.

// chartDays is how many days, today (UTC) included, the exchange chart
// covers.
const chartDays = 30

// chartWindow bounds how many of the newest log events the exchange chart
// reads, as the API's log statistics do.
const chartWindow = 100_000

// dayCount is one day of a partner's exchanges.
type dayCount struct {
	Date     time.Time
	Sent     int // objects released to the partner (allowed releases)
	Refused  int // releases to the partner the policy denied
	Received int // objects received from the partner (quarantined included)
}

// exchanges counts, per UTC day, what the node released to partner and
// received from it, from the log's release and object.received /
// object.quarantined events.
func (h *Handler) exchanges(ctx context.Context, partner string) ([]dayCount, bool, error) {
	now := h.node.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(chartDays - 1))
	days := make([]dayCount, chartDays)
	for i := range days {
		days[i].Date = first.AddDate(0, 0, i)
	}
	truncated := false
	err := h.node.Store.View(ctx, func(tx detente.Tx) error {
		size, err := tx.CountEvents(ctx)
		if err != nil {
			return err
		}
		from := max(0, size-chartWindow)
		truncated = from > 0
		for {
			es, err := tx.Events(ctx, detente.EventFilter{FromSeq: from, Partner: partner, Limit: scanBatch * 10})
			if err != nil {
				return err
			}
			for _, e := range es {
				t := e.Time.UTC()
				if t.Before(first) {
					continue
				}
				d := int(t.Sub(first) / (24 * time.Hour))
				if d >= chartDays {
					continue
				}
				switch e.Type {
				case detente.EventRelease:
					var b struct {
						Allowed bool `json:"allowed"`
					}
					json.Unmarshal(e.Body, &b) // a body without it counts as refused
					if b.Allowed {
						days[d].Sent++
					} else {
						days[d].Refused++
					}
				case detente.EventObjectReceived, detente.EventObjectQuarantined:
					days[d].Received++
				}
			}
			if len(es) < scanBatch*10 {
				return nil
			}
			from = es[len(es)-1].Seq + 1
		}
	})
	return days, truncated, err
}

// tick is an axis label.
type tick struct {
	X, Y  int
	Label string
}

// bar is one rectangle of a bar chart.
type bar struct {
	X, Y, W, H int
	Fill       string // a colour or a pattern reference
	Title      string // the tooltip: what the bar counts, in words
}

// barChart is a grouped bar chart ready to draw.
type barChart struct {
	Width, Height            int
	Left, Top, Right, Bottom int // the plot area
	Bars                     []bar
	XTicks, YTicks           []tick
	Max                      int
	Empty                    bool
}

// Exchange chart fills: sent is solid, received is hatched, so the two
// differ without colour.
const (
	fillSent     = "#1f4e79"
	fillReceived = "url(#hatch-received)"
)

// exchangeChart lays out days as pairs of bars: sent, then received.
func exchangeChart(days []dayCount) barChart {
	c := barChart{Width: 760, Height: 280, Left: 48, Top: 16, Right: 744, Bottom: 220}
	for _, d := range days {
		c.Max = max(c.Max, d.Sent, d.Received)
	}
	c.Empty = c.Max == 0
	top := niceCeil(max(c.Max, 1))
	plotH := c.Bottom - c.Top
	group := (c.Right - c.Left) / len(days)
	barW := max(2, (group-4)/2)
	y := func(v int) int { return c.Bottom - v*plotH/top }
	for i, d := range days {
		x := c.Left + i*group + 2
		label := d.Date.Format("2 Jan")
		if d.Sent > 0 {
			c.Bars = append(c.Bars, bar{X: x, Y: y(d.Sent), W: barW, H: c.Bottom - y(d.Sent), Fill: fillSent,
				Title: fmt.Sprintf("%s: %s sent", label, plural(d.Sent, "object", "objects"))})
		}
		if d.Received > 0 {
			c.Bars = append(c.Bars, bar{X: x + barW, Y: y(d.Received), W: barW, H: c.Bottom - y(d.Received), Fill: fillReceived,
				Title: fmt.Sprintf("%s: %s received", label, plural(d.Received, "object", "objects"))})
		}
		if i%5 == 0 || i == len(days)-1 {
			c.XTicks = append(c.XTicks, tick{X: x + barW, Y: c.Bottom + 18, Label: label})
		}
	}
	for _, v := range []int{0, top / 2, top} {
		if v == top/2 && (top%2 != 0 || top < 2) {
			continue
		}
		c.YTicks = append(c.YTicks, tick{X: c.Left - 6, Y: y(v), Label: num(v)})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}

// heatCell is one cell of the divergence heat map.
type heatCell struct {
	X, Y, Size int
	Fill       string
	Ink        string // the text colour, contrasting with Fill
	Label      string // the count, always shown
	Sub        string // the share, always shown
	Title      string // the cell in words
	Diagonal   bool
}

// heatMap is the divergence matrix between authorities ready to draw: row
// A, column B holds how many of the entities A lists B also lists.
type heatMap struct {
	Width, Height int
	Cells         []heatCell
	Rows, Cols    []tick
	Legend        []legendStep
	LegendY       int
}

// legendStep is one shade of the heat map's scale, with its range in words.
type legendStep struct {
	X     int
	Fill  string
	Label string
}

// Shades of the heat map, from least to most agreement. Each cell also
// prints its share, so the shade is never the only carrier.
var heatShades = []string{"#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"}

func shadeOf(share float64) (fill, ink string) {
	i := min(len(heatShades)-1, int(share*float64(len(heatShades))))
	fill, ink = heatShades[i], "#111111"
	if i >= 3 {
		ink = "#ffffff"
	}
	return fill, ink
}

// divergenceMap lays out r's pairwise summary as a heat map.
func divergenceMap(r *screen.Report) heatMap {
	n := len(r.Authorities)
	const cell, left, top = 88, 110, 40
	m := heatMap{Width: max(left+n*cell+10, 520), Height: top + n*cell + 70, LegendY: top + n*cell + 24}
	index := map[string]int{}
	for i, a := range r.Authorities {
		index[a] = i
		m.Cols = append(m.Cols, tick{X: left + i*cell + cell/2, Y: top - 10, Label: a})
		m.Rows = append(m.Rows, tick{X: left - 8, Y: top + i*cell + cell/2 + 5, Label: a})
	}
	total := make([]int, n)
	for _, e := range r.Entities {
		for _, a := range e.ListedBy {
			if i, ok := index[a]; ok {
				total[i]++
			}
		}
	}
	both := make([][]int, n)
	for i := range both {
		both[i] = make([]int, n)
	}
	for _, p := range r.Pairs {
		i, ok1 := index[p.A]
		j, ok2 := index[p.B]
		if ok1 && ok2 {
			both[i][j], both[j][i] = p.Both, p.Both
		}
	}
	for i, a := range r.Authorities {
		for j, b := range r.Authorities {
			c := heatCell{X: left + j*cell, Y: top + i*cell, Size: cell}
			if i == j {
				c.Diagonal, c.Fill, c.Ink = true, "url(#hatch-diagonal)", "#111111"
				c.Label, c.Sub = num(total[i]), "listed"
				c.Title = fmt.Sprintf("%s lists %s", a, plural(total[i], "entity", "entities"))
			} else {
				share := 0.0
				if total[i] > 0 {
					share = float64(both[i][j]) / float64(total[i])
				}
				c.Fill, c.Ink = shadeOf(share)
				c.Label = num(both[i][j])
				c.Sub = fmt.Sprintf("%.0f%%", share*100)
				c.Title = fmt.Sprintf("of the %s %s lists, %s also lists %s (%.0f%%)",
					plural(total[i], "entity", "entities"), a, b, num(both[i][j]), share*100)
			}
			m.Cells = append(m.Cells, c)
		}
	}
	labels := []string{"0–19%", "20–39%", "40–59%", "60–79%", "80–100%"}
	for i, s := range heatShades {
		m.Legend = append(m.Legend, legendStep{X: 10 + i*100, Fill: s, Label: labels[i]})
	}
	return m
}
