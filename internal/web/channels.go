package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/params"
)

// channelsPage is the data of the channels page.
type channelsPage struct {
	Channels []channelRow
	Purpose  map[string]string // channel id → purpose
	// What the channels carry, for roles that may read intelligence.
	Filter    string // the channel whose messages are shown, "" for all
	Messages  []hotline.MessageView
	Overdue   int
	Notices   []noticeRow
	Conflicts []conflictRow
	Map       *noticeMap
}

// channelRow is a channel as the page lists it.
type channelRow struct {
	*hotline.Channel
	InWindow bool
	Since    time.Time // the time of the last transition
}

// noticeRow is a notice of planned activity with its number on the map.
type noticeRow struct {
	hotline.Notice
	Number int
	Drawn  bool // on the map (active notices only)
}

// conflictRow is a conflict with the numbers of its two notices.
type conflictRow struct {
	hotline.Conflict
	A, B int // 0 when the notice is not held
	Text string
}

func (h *Handler) channels(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	chs, err := h.node.Hotline.Channels(ctx)
	if err != nil {
		return err
	}
	now := h.node.Now()
	p := channelsPage{Purpose: map[string]string{}}
	for _, ch := range chs {
		row := channelRow{Channel: ch, InWindow: ch.InWindow(now)}
		if n := len(ch.Transitions); n > 0 {
			row.Since = ch.Transitions[n-1].Time
		}
		p.Channels = append(p.Channels, row)
		p.Purpose[ch.ID] = ch.Purpose
	}
	q, err := params.Parse(r.URL.RawQuery, params.Text("channel"), params.IgnoreOthers)
	if err != nil {
		return err
	}
	if v.Can("intel") {
		if f := q.Text("channel"); f != "" {
			if _, ok := p.Purpose[f]; ok {
				p.Filter = f
			}
		}
		if p.Messages, err = h.node.Hotline.Messages(ctx, p.Filter); err != nil {
			return err
		}
		for _, m := range p.Messages {
			if m.Overdue != "" {
				p.Overdue++
			}
		}
		ns, err := h.node.Hotline.Notices(ctx)
		if err != nil {
			return err
		}
		number := map[string]int{}
		for i, n := range ns {
			row := noticeRow{Notice: n, Number: i + 1, Drawn: n.Activity.Status != hotline.ActivityCancelled}
			p.Notices = append(p.Notices, row)
			number[n.Owner+"\x00"+n.Activity.ID] = i + 1
		}
		cs, err := h.node.Hotline.Conflicts(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			p.Conflicts = append(p.Conflicts, conflictRow{Conflict: c, A: number[c.A.Owner+"\x00"+c.A.ID], B: number[c.B.Owner+"\x00"+c.B.ID], Text: hotline.ConflictText(c)})
		}
		p.Map = drawNotices(p.Notices)
	}
	h.render(w, r, v, http.StatusOK, "channels", "Channels", "channels", p)
	return nil
}

// ackMessage acknowledges an incoming message in the name of the person
// who read it, as detente message ack does; the acknowledgement goes back
// to the sender and is logged on both sides.
func (h *Handler) ackMessage(w http.ResponseWriter, r *http.Request, v *visit) error {
	const back = "/channels#msg-h"
	by := formValue(r, "by")
	if by == "" {
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "name the person who acknowledges"))
	}
	if len(by) > 200 {
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "a name of at most 200 bytes"))
	}
	id := r.PathValue("id")
	if _, err := h.node.Hotline.AckMessage(r.Context(), id, by); err != nil {
		return h.refused(w, r, v, back, err)
	}
	subject := id
	if rec, err := h.node.Hotline.Message(r.Context(), id); err == nil && rec.Message.Subject != "" {
		subject = rec.Message.Subject
	}
	return h.done(w, r, v, back, "acknowledged “"+subject+"” as "+by)
}

// ---- the deconfliction map ----

// noticeMap is a map of notices of planned activity: an equirectangular
// frame (x = longitude, y = latitude) around the notices' areas, with a
// graticule. Areas in conflict are hatched and outlined with a heavy
// dashed line and labelled, so that they differ by more than colour.
type noticeMap struct {
	Width, Height int
	Frame         struct{ X, Y, W, H float64 }
	Lines         []gridLine
	Areas         []mapArea
	LegendY       float64
}

// gridLine is one meridian or parallel with its label.
type gridLine struct {
	X1, Y1, X2, Y2 float64
	Label          string
	LX, LY         float64
	Anchor         string
}

// mapArea is one notice's area on the map.
type mapArea struct {
	Number   int
	Points   string // the polygon's points, "x,y x,y …"
	LX, LY   float64
	Conflict bool
	Title    string
}

// Map dimensions, in SVG user units.
const (
	mapWidth   = 720
	mapPadL    = 56
	mapPadT    = 16
	mapPadB    = 64 // axis labels and the legend
	mapPadR    = 16
	mapMaxH    = 480
	mapCircleN = 48 // vertices of a circle drawn as a polygon
)

// ring returns an area's outline as [lon, lat] pairs: a polygon's outer
// ring, or a circle approximated by mapCircleN points (a spherical cap,
// its radius along a meridian and scaled by the latitude along a parallel).
func ring(a hotline.Area) [][2]float64 {
	var out [][2]float64
	switch {
	case a.Polygon != nil && len(a.Polygon.Coordinates) > 0:
		for _, pt := range a.Polygon.Coordinates[0] {
			if len(pt) >= 2 {
				out = append(out, [2]float64{pt[0], pt[1]})
			}
		}
	case a.Circle != nil:
		c := a.Circle
		dlat := c.Radius / hotline.EarthRadius * 180 / math.Pi
		cos := math.Max(math.Cos(c.Lat*math.Pi/180), 0.01)
		for i := range mapCircleN {
			t := 2 * math.Pi * float64(i) / mapCircleN
			out = append(out, [2]float64{c.Lon + dlat/cos*math.Cos(t), math.Max(-90, math.Min(90, c.Lat+dlat*math.Sin(t)))})
		}
	}
	return out
}

// gridStep returns a graticule step, in degrees, giving a few lines over
// span degrees.
func gridStep(span float64) float64 {
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 45, 60, 90} {
		if span/s <= 8 {
			return s
		}
	}
	return 90
}

// degrees formats a graticule label: 12.5°E, 3°S.
func degrees(v float64, pos, neg string) string {
	h := pos
	if v < 0 {
		h, v = neg, -v
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "°" + h
}

// drawNotices returns the map of the active notices, nil when there are
// none to draw.
func drawNotices(ns []noticeRow) *noticeMap {
	minLon, maxLon, minLat, maxLat := 180.0, -180.0, 90.0, -90.0
	rings := map[int][][2]float64{}
	for _, n := range ns {
		if !n.Drawn {
			continue
		}
		rg := ring(n.Activity.Area)
		if len(rg) == 0 {
			continue
		}
		rings[n.Number] = rg
		for _, pt := range rg {
			minLon, maxLon = math.Min(minLon, pt[0]), math.Max(maxLon, pt[0])
			minLat, maxLat = math.Min(minLat, pt[1]), math.Max(maxLat, pt[1])
		}
	}
	if len(rings) == 0 {
		return nil
	}
	// A margin of a fifth of the extent (at least 0.05°), then a frame
	// whose step-aligned bounds hold it.
	mLon := math.Max((maxLon-minLon)*0.2, 0.05)
	mLat := math.Max((maxLat-minLat)*0.2, 0.05)
	step := gridStep(math.Max(maxLon-minLon+2*mLon, maxLat-minLat+2*mLat))
	west := math.Max(-180, math.Floor((minLon-mLon)/step)*step)
	east := math.Min(180, math.Ceil((maxLon+mLon)/step)*step)
	south := math.Max(-90, math.Floor((minLat-mLat)/step)*step)
	north := math.Min(90, math.Ceil((maxLat+mLat)/step)*step)
	innerW := float64(mapWidth - mapPadL - mapPadR)
	scale := innerW / (east - west)
	if h := (north - south) * scale; h > mapMaxH {
		scale = mapMaxH / (north - south)
	}
	m := &noticeMap{Width: mapWidth}
	m.Frame.X, m.Frame.Y = mapPadL, mapPadT
	m.Frame.W, m.Frame.H = (east-west)*scale, (north-south)*scale
	m.Height = int(math.Ceil(mapPadT + m.Frame.H + mapPadB))
	m.LegendY = mapPadT + m.Frame.H + 34
	x := func(lon float64) float64 { return round1(mapPadL + (lon-west)*scale) }
	y := func(lat float64) float64 { return round1(mapPadT + (north-lat)*scale) }
	for lon := west; lon <= east+step/1e6; lon += step {
		m.Lines = append(m.Lines, gridLine{X1: x(lon), Y1: y(north), X2: x(lon), Y2: y(south),
			Label: degrees(roundTo(lon, step), "E", "W"), LX: x(lon), LY: y(south) + 16, Anchor: "middle"})
	}
	for lat := south; lat <= north+step/1e6; lat += step {
		m.Lines = append(m.Lines, gridLine{X1: x(west), Y1: y(lat), X2: x(east), Y2: y(lat),
			Label: degrees(roundTo(lat, step), "N", "S"), LX: x(west) - 6, LY: y(lat) + 4, Anchor: "end"})
	}
	for _, n := range ns {
		rg, ok := rings[n.Number]
		if !ok {
			continue
		}
		var b strings.Builder
		var cx, cy float64
		for i, pt := range rg {
			if i > 0 {
				b.WriteByte(' ')
			}
			px, py := x(pt[0]), y(pt[1])
			cx, cy = cx+px, cy+py
			b.WriteString(strconv.FormatFloat(px, 'f', 1, 64) + "," + strconv.FormatFloat(py, 'f', 1, 64))
		}
		a := mapArea{Number: n.Number, Points: b.String(), LX: round1(cx / float64(len(rg))), LY: round1(cy/float64(len(rg)) + 5),
			Conflict: len(n.Conflicts) > 0}
		// Keep labels of areas that share a centre apart.
		for moved := true; moved; {
			moved = false
			for _, o := range m.Areas {
				if math.Abs(o.LX-a.LX) < 60 && math.Abs(o.LY-a.LY) < 16 {
					a.LY = round1(o.LY + 18)
					moved = true
				}
			}
		}
		a.Title = "Notice " + strconv.Itoa(n.Number) + ": " + n.Owner + ", " + n.Activity.Nature
		if a.Conflict {
			a.Title += " (in conflict with " + strconv.Itoa(len(n.Conflicts)) + " other notice(s))"
		}
		m.Areas = append(m.Areas, a)
	}
	return m
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// roundTo removes the float error of a multiple of step.
func roundTo(v, step float64) float64 {
	r := math.Round(v/step) * step
	return math.Round(r*1e6) / 1e6
}
