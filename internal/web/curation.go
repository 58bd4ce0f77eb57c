package web

import (
	"fmt"
	"net/http"

	"detente/internal/corroboration"
)

// The curation page: the report on one partner (corroboration.Report),
// with its counts drawn as horizontal bar charts on the server, each with
// its numbers as a table beside it.

// hbar is one bar of a horizontal bar chart, with its label and count.
type hbar struct {
	Y, W, H   int
	Label     string
	Value     string
	Title     string
	LabelX    int
	ValueX    int
	TextY     int
	Highlight bool // drawn hatched: the bar is what the chart is about (single-source, alone)
}

// hbarChart is a horizontal bar chart ready to draw.
type hbarChart struct {
	ID, Title     string
	Width, Height int
	Left          int // where bars start; labels sit to its left
	Bars          []hbar
	More          int // categories not drawn
	Empty         bool
}

// Layout of the curation charts.
const (
	hbarWidth   = 560
	hbarLeft    = 180
	hbarRow     = 24
	hbarMaxRows = 15
)

// hbarsOf lays out counts as a horizontal bar chart, largest first as
// given, at most hbarMaxRows of them.
func hbarsOf(id, title string, counts []corroboration.Count, unit string) hbarChart {
	c := hbarChart{ID: id, Title: title, Width: hbarWidth, Left: hbarLeft, Empty: len(counts) == 0}
	top := 1
	for _, k := range counts {
		top = max(top, k.Count)
	}
	shown := counts
	if len(shown) > hbarMaxRows {
		c.More, shown = len(shown)-hbarMaxRows, shown[:hbarMaxRows]
	}
	span := hbarWidth - hbarLeft - 60
	for i, k := range shown {
		w := max(1, k.Count*span/top)
		y := 4 + i*hbarRow
		c.Bars = append(c.Bars, hbar{Y: y, W: w, H: hbarRow - 8, Label: shortLabel(k.Key), Value: num(k.Count),
			Title: fmt.Sprintf("%s: %s", k.Key, plural(k.Count, unit, unit+"s")), LabelX: hbarLeft - 6, ValueX: hbarLeft + w + 6, TextY: y + (hbarRow-8)/2})
	}
	c.Height = 8 + len(shown)*hbarRow
	return c
}

// shareChart draws a share as one bar split in two: the part in question
// (hatched) and the rest (solid).
func shareChart(id, title, part, rest string, n, total int) hbarChart {
	c := hbarChart{ID: id, Title: title, Width: hbarWidth, Left: hbarLeft, Height: 8 + 2*hbarRow, Empty: total == 0}
	if total == 0 {
		return c
	}
	span := hbarWidth - hbarLeft - 60
	for i, b := range []struct {
		label string
		n     int
	}{{part, n}, {rest, total - n}} {
		w := max(1, b.n*span/total)
		y := 4 + i*hbarRow
		c.Bars = append(c.Bars, hbar{Y: y, W: w, H: hbarRow - 8, Label: b.label, Value: fmt.Sprintf("%s (%d%%)", num(b.n), 100*b.n/total),
			Title: fmt.Sprintf("%s: %d of %d", b.label, b.n, total), LabelX: hbarLeft - 6, ValueX: hbarLeft + w + 6, TextY: y + (hbarRow-8)/2, Highlight: i == 0})
	}
	return c
}

// shortLabel cuts a chart label to fit left of the bars.
func shortLabel(s string) string {
	if r := []rune(s); len(r) > 24 {
		return string(r[:23]) + "…"
	}
	return s
}

// curationPage is the data of a partner's curation page.
type curationPage struct {
	R                                  *corroboration.Report
	Type, Topic, Region, Month, Single hbarChart
	Labels                             hbarChart
}

func (h *Handler) curation(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := r.PathValue("name")
	rep, err := h.node.Corroboration.Report(r.Context(), name)
	if err != nil {
		return err
	}
	p := curationPage{R: rep,
		Type:   hbarsOf("type", "Objects "+name+" shares, by type", rep.ByType, "object"),
		Topic:  hbarsOf("topic", "Objects "+name+" shares, by topic", rep.ByTopic, "object"),
		Region: hbarsOf("region", "Objects "+name+" shares, by the region they name", rep.ByRegion, "object"),
		Month:  hbarsOf("month", "Objects "+name+" shares, by month created", rep.ByMonth, "object"),
		Single: shareChart("single", "Single-source and corroborated objects of "+name, "single-source", "corroborated", rep.SingleSource, rep.Asserting),
		Labels: shareChart("labels", "Terrorist labels of "+name+" no other authority holds", "no other authority", "listed elsewhere", rep.LabelsAlone, len(rep.Labels)),
	}
	h.render(w, r, v, http.StatusOK, "curation", "Curation report on "+name, "partners", p)
	return nil
}
