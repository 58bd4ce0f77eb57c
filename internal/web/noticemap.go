package web

import (
	"math"
	"strconv"
	"strings"

	"detente/internal/hotline"
)

// The deconfliction map: the areas of the notices of planned activity,
// drawn on the server as SVG over Natural Earth's coastlines and land
// borders (world.go), in the Mercator projection. Mercator is conformal:
// a circle on the ground small enough to fit a map of notices is a
// circle on the map, whatever its latitude, where an equirectangular
// frame drew circles as ellipses stretched by 1/cos(latitude). Circles
// are drawn as geodesic polygons (every point at the radius along the
// surface) and polygon edges follow great circles, as deconfliction
// computes them. Labels are placed so that none overlaps another, with a
// leader line when a label had to move away from its area.

// noticeMap is a map of notices ready to draw.
type noticeMap struct {
	Width, Height int
	Frame         struct{ X, Y, W, H float64 }
	Lines         []gridLine
	// Coast and Borders are SVG path data of the coastlines and land
	// borders crossing the frame (the template clips them to it).
	Coast, Borders string
	Areas          []mapArea
	Labels         []mapLabel
	LegendY        float64
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
	Conflict bool
	Title    string
}

// mapLabel is a notice's number on the map, placed apart from the other
// labels; Leader is set when it stands away from its area, with the line
// from the label to the area.
type mapLabel struct {
	Number         int
	Text           string
	X, Y           float64 // the text's middle and baseline
	Box            labelBox
	Conflict       bool
	Leader         bool
	X1, Y1, X2, Y2 float64
}

// labelBox is a rectangle on the map, in SVG user units.
type labelBox struct{ X, Y, W, H float64 }

func (a labelBox) overlaps(b labelBox) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

func (a labelBox) inside(b labelBox) bool {
	return a.X >= b.X && a.Y >= b.Y && a.X+a.W <= b.X+b.W && a.Y+a.H <= b.Y+b.H
}

// Map dimensions, in SVG user units.
const (
	mapWidth   = 720
	mapPadL    = 56
	mapPadT    = 16
	mapPadB    = 64 // axis labels and the legend
	mapPadR    = 16
	mapMaxH    = 480
	mapCircleN = 72   // vertices of a circle
	mapMaxLat  = 85.0 // Mercator's limit here
	labelH     = 18
)

// mercY is the Mercator ordinate of lat, in degrees of the equator.
func mercY(lat float64) float64 {
	lat = math.Max(-mapMaxLat, math.Min(mapMaxLat, lat))
	return math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)) * 180 / math.Pi
}

// mercLat is the latitude whose Mercator ordinate is y.
func mercLat(y float64) float64 { return math.Atan(math.Sinh(y*math.Pi/180)) * 180 / math.Pi }

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }

// circleRing returns the geodesic circle c as mapCircleN [lon, lat]
// points: each at c.Radius from the centre along the sphere.
func circleRing(c hotline.Circle) [][2]float64 {
	d := c.Radius / hotline.EarthRadius
	φ1, λ1 := rad(c.Lat), rad(c.Lon)
	out := make([][2]float64, 0, mapCircleN)
	for i := range mapCircleN {
		θ := 2 * math.Pi * float64(i) / mapCircleN
		φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(θ))
		λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
		out = append(out, [2]float64{deg(λ2), deg(φ2)})
	}
	return out
}

// unit returns the unit vector of [lon, lat].
func unit(p [2]float64) [3]float64 {
	λ, φ := rad(p[0]), rad(p[1])
	return [3]float64{math.Cos(φ) * math.Cos(λ), math.Cos(φ) * math.Sin(λ), math.Sin(φ)}
}

// densify adds points along each edge of ring longer than half a degree,
// so that the edge is drawn along its great circle.
func densify(ring [][2]float64) [][2]float64 {
	var out [][2]float64
	for i, p := range ring {
		out = append(out, p)
		if i == len(ring)-1 {
			break
		}
		a, b := unit(p), unit(ring[i+1])
		dot := math.Max(-1, math.Min(1, a[0]*b[0]+a[1]*b[1]+a[2]*b[2]))
		ω := math.Acos(dot)
		n := int(deg(ω) / 0.5)
		if n < 1 || math.Sin(ω) < 1e-12 {
			continue
		}
		for k := 1; k <= n; k++ {
			t := float64(k) / float64(n+1)
			s0, s1 := math.Sin((1-t)*ω)/math.Sin(ω), math.Sin(t*ω)/math.Sin(ω)
			v := [3]float64{s0*a[0] + s1*b[0], s0*a[1] + s1*b[1], s0*a[2] + s1*b[2]}
			out = append(out, [2]float64{deg(math.Atan2(v[1], v[0])), deg(math.Asin(math.Max(-1, math.Min(1, v[2]))))})
		}
	}
	return out
}

// unwrap makes consecutive longitudes differ by less than 180°, so that
// a ring crossing the antimeridian is drawn across it, not around the
// world.
func unwrap(ring [][2]float64) [][2]float64 {
	for i := 1; i < len(ring); i++ {
		for ring[i][0]-ring[i-1][0] > 180 {
			ring[i][0] -= 360
		}
		for ring[i][0]-ring[i-1][0] < -180 {
			ring[i][0] += 360
		}
	}
	return ring
}

// ring returns an area's outline as [lon, lat] points, ready to project:
// a polygon's outer ring with its edges along great circles, or a
// geodesic circle.
func ring(a hotline.Area) [][2]float64 {
	var out [][2]float64
	switch {
	case a.Polygon != nil && len(a.Polygon.Coordinates) > 0:
		for _, pt := range a.Polygon.Coordinates[0] {
			if len(pt) >= 2 {
				out = append(out, [2]float64{pt[0], pt[1]})
			}
		}
		out = densify(out)
	case a.Circle != nil:
		out = circleRing(*a.Circle)
	}
	return unwrap(out)
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

// degrees formats a graticule label at a multiple of step: 12.5°E, 3°S;
// longitudes beyond the antimeridian are brought back to [-180, 180].
func degrees(v, step float64, pos, neg string) string {
	if pos == "E" {
		v = math.Mod(v+540, 360) - 180
		if v == -180 {
			v = 180
		}
	}
	v = roundTo(v, step)
	h := pos
	if v < 0 {
		h, v = neg, -v
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "°" + h
}

// projection maps [lon, lat] to the map's user units.
type projection struct {
	west, north, scale float64 // north in Mercator ordinates
	x0, y0             float64
}

func (p projection) xy(pt [2]float64) (float64, float64) {
	return p.x0 + (pt[0]-p.west)*p.scale, p.y0 + (p.north-mercY(pt[1]))*p.scale
}

// drawNotices returns the map of the active notices, nil when there are
// none to draw.
func drawNotices(ns []noticeRow) *noticeMap {
	rings := map[int][][2]float64{}
	var order []int
	for _, n := range ns {
		if !n.Drawn {
			continue
		}
		if rg := ring(n.Activity.Area); len(rg) > 0 {
			rings[n.Number] = rg
			order = append(order, n.Number)
		}
	}
	if len(rings) == 0 {
		return nil
	}
	placeAcrossAntimeridian(rings)
	west, east, south, north := 1e9, -1e9, 1e9, -1e9 // lon, and Mercator ordinates
	for _, rg := range rings {
		for _, pt := range rg {
			west, east = math.Min(west, pt[0]), math.Max(east, pt[0])
			y := mercY(pt[1])
			south, north = math.Min(south, y), math.Max(north, y)
		}
	}
	// A margin of a fifth of the extent (at least 0.05°), then as wide
	// as the map allows: more land around the notices to place them by.
	mx := math.Max((east-west)*0.2, 0.05)
	my := math.Max((north-south)*0.2, 0.05)
	west, east, south, north = west-mx, east+mx, south-my, north+my
	innerW := float64(mapWidth - mapPadL - mapPadR)
	scale := innerW / (east - west)
	if (north-south)*scale > mapMaxH {
		scale = mapMaxH / (north - south)
		if grow := (innerW/scale - (east - west)) / 2; east-west+2*grow <= 360 {
			west, east = west-grow, east+grow
		}
	}
	m := &noticeMap{Width: mapWidth}
	m.Frame.X, m.Frame.Y = mapPadL, mapPadT
	m.Frame.W, m.Frame.H = round1((east-west)*scale), round1((north-south)*scale)
	m.Height = int(math.Ceil(mapPadT + m.Frame.H + mapPadB))
	m.LegendY = mapPadT + m.Frame.H + 34
	pr := projection{west: west, north: north, scale: scale, x0: mapPadL, y0: mapPadT}
	frame := labelBox{m.Frame.X, m.Frame.Y, m.Frame.W, m.Frame.H}
	m.graticule(pr, west, east, mercLat(south), mercLat(north))
	m.Coast, m.Borders = worldPaths(pr, frame, west, east, mercLat(south), mercLat(north))

	anchors := map[int][2]float64{}
	bounds := map[int]labelBox{}
	byNumber := map[int]noticeRow{}
	for _, n := range ns {
		byNumber[n.Number] = n
	}
	for _, num := range order {
		n := byNumber[num]
		var b strings.Builder
		var cx, cy float64
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for i, pt := range rings[num] {
			px, py := pr.xy(pt)
			px, py = round1(px), round1(py)
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(px, 'f', 1, 64) + "," + strconv.FormatFloat(py, 'f', 1, 64))
			cx, cy = cx+px, cy+py
			minX, minY, maxX, maxY = math.Min(minX, px), math.Min(minY, py), math.Max(maxX, px), math.Max(maxY, py)
		}
		k := float64(len(rings[num]))
		anchors[num] = [2]float64{cx / k, cy / k}
		bounds[num] = labelBox{minX, minY, maxX - minX, maxY - minY}
		a := mapArea{Number: num, Points: b.String(), Conflict: len(n.Conflicts) > 0,
			Title: "Notice " + strconv.Itoa(num) + ": " + n.Owner + ", " + n.Activity.Nature}
		if a.Conflict {
			a.Title += " (in conflict with " + strconv.Itoa(len(n.Conflicts)) + " other notice(s))"
		}
		m.Areas = append(m.Areas, a)
	}
	m.Labels = placeLabels(m.Areas, anchors, bounds, frame)
	return m
}

// placeAcrossAntimeridian moves the rings west of 0° by 360° when that
// makes the set of them narrower: notices on both sides of the
// antimeridian are then drawn side by side.
func placeAcrossAntimeridian(rings map[int][][2]float64) {
	span := func(shift bool) float64 {
		w, e := 1e9, -1e9
		for _, rg := range rings {
			d := 0.0
			if shift && rg[0][0] < 0 {
				d = 360
			}
			for _, pt := range rg {
				w, e = math.Min(w, pt[0]+d), math.Max(e, pt[0]+d)
			}
		}
		return e - w
	}
	if span(true) >= span(false) {
		return
	}
	for _, rg := range rings {
		if rg[0][0] < 0 {
			for i := range rg {
				rg[i][0] += 360
			}
		}
	}
}

// graticule adds meridians and parallels every step degrees, with their
// labels under and left of the frame.
func (m *noticeMap) graticule(pr projection, west, east, south, north float64) {
	step := gridStep(math.Max(east-west, north-south))
	for lon := math.Ceil(west/step) * step; lon <= east+step/1e6; lon += step {
		x, _ := pr.xy([2]float64{lon, 0})
		x = round1(x)
		m.Lines = append(m.Lines, gridLine{X1: x, Y1: m.Frame.Y, X2: x, Y2: m.Frame.Y + m.Frame.H,
			Label: degrees(lon, step, "E", "W"), LX: x, LY: m.Frame.Y + m.Frame.H + 16, Anchor: "middle"})
	}
	for lat := math.Ceil(south/step) * step; lat <= north+step/1e6; lat += step {
		_, y := pr.xy([2]float64{0, lat})
		y = round1(y)
		m.Lines = append(m.Lines, gridLine{X1: m.Frame.X, Y1: y, X2: m.Frame.X + m.Frame.W, Y2: y,
			Label: degrees(lat, step, "N", "S"), LX: m.Frame.X - 6, LY: y + 4, Anchor: "end"})
	}
}

// worldPaths returns the SVG path data of the coastlines and the land
// borders that cross the frame, each line shifted by a whole turn where
// the frame lies beyond the antimeridian. Segments outside the frame are
// left out, and points closer than a pixel to the previous one: at world
// scale the map stays small.
func worldPaths(pr projection, frame labelBox, west, east, south, north float64) (coast, borders string) {
	var c, bd strings.Builder
	for _, l := range worldLines() {
		for _, shift := range []float64{-360, 0, 360} {
			if l.East+shift < west || l.West+shift > east || l.North < south || l.South > north {
				continue
			}
			b := &c
			if l.Kind == lineBorder {
				b = &bd
			}
			writePath(b, pr, frame, l.Points, shift)
		}
	}
	return c.String(), bd.String()
}

func writePath(b *strings.Builder, pr projection, frame labelBox, pts [][2]float64, shift float64) {
	const margin = 2
	drawing := false
	var lx, ly float64
	pt := func(cmd byte, x, y float64) {
		b.WriteByte(cmd)
		b.WriteString(strconv.FormatFloat(round1(x), 'f', -1, 64))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatFloat(round1(y), 'f', -1, 64))
		lx, ly = x, y
	}
	for i := 1; i < len(pts); i++ {
		ax, ay := pr.xy([2]float64{pts[i-1][0] + shift, pts[i-1][1]})
		bx, by := pr.xy([2]float64{pts[i][0] + shift, pts[i][1]})
		if math.Max(ax, bx) < frame.X-margin || math.Min(ax, bx) > frame.X+frame.W+margin ||
			math.Max(ay, by) < frame.Y-margin || math.Min(ay, by) > frame.Y+frame.H+margin {
			drawing = false
			continue
		}
		if !drawing {
			pt('M', ax, ay)
			drawing = true
		}
		if math.Hypot(bx-lx, by-ly) < 1 && i < len(pts)-1 {
			continue
		}
		pt('L', bx, by)
	}
}

// labelText is what a notice's label says.
func labelText(a mapArea) string {
	if a.Conflict {
		return strconv.Itoa(a.Number) + " ⚠ conflict"
	}
	return strconv.Itoa(a.Number)
}

// labelWidth estimates the width of a bold 14-unit label.
func labelWidth(s string) float64 { return float64(len([]rune(s)))*8.6 + 8 }

// placeLabels places each area's label, in order, at the first place
// that overlaps no label placed before and stays in the frame: on the
// area, then beside it, then further out. A label away from its area
// gets a leader line to the area's centre.
func placeLabels(areas []mapArea, anchors map[int][2]float64, bounds map[int]labelBox, frame labelBox) []mapLabel {
	var placed []labelBox
	var out []mapLabel
	for _, a := range areas {
		text := labelText(a)
		w := labelWidth(text)
		c := anchors[a.Number]
		bb := bounds[a.Number]
		at := func(x, y float64) labelBox { return labelBox{x - w/2, y - labelH/2, w, labelH} }
		cands := []labelBox{at(c[0], c[1])}
		for d := 0.0; d <= 160; d += 20 {
			cands = append(cands,
				at(c[0], bb.Y-labelH/2-4-d),              // above
				at(c[0], bb.Y+bb.H+labelH/2+4+d),         // below
				at(bb.X+bb.W+w/2+6+d, c[1]),              // right
				at(bb.X-w/2-6-d, c[1]),                   // left
				at(bb.X+bb.W+w/2+6+d, bb.Y-labelH/2-4-d), // above right
				at(bb.X-w/2-6-d, bb.Y-labelH/2-4-d),      // above left
				at(bb.X+bb.W+w/2+6+d, bb.Y+bb.H+labelH/2+4+d),
				at(bb.X-w/2-6-d, bb.Y+bb.H+labelH/2+4+d),
			)
		}
		box := cands[0]
		for _, cand := range cands {
			free := cand.inside(frame)
			for _, p := range placed {
				free = free && !cand.overlaps(p)
			}
			if free {
				box = cand
				break
			}
		}
		placed = append(placed, box)
		l := mapLabel{Number: a.Number, Text: text, X: round1(box.X + box.W/2), Y: round1(box.Y + 13), Box: box, Conflict: a.Conflict}
		if box != cands[0] {
			// From the label's nearest edge point to the area's centre.
			l.Leader = true
			l.X1 = round1(math.Max(box.X, math.Min(c[0], box.X+box.W)))
			l.Y1 = round1(math.Max(box.Y, math.Min(c[1], box.Y+box.H)))
			l.X2, l.Y2 = round1(c[0]), round1(c[1])
		}
		out = append(out, l)
	}
	return out
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// roundTo removes the float error of a multiple of step.
func roundTo(v, step float64) float64 {
	r := math.Round(v/step) * step
	return math.Round(r*1e6) / 1e6
}
