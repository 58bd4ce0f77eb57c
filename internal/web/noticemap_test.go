package web

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"detente/internal/hotline"
)

// points parses a polygon's "x,y x,y …".
func points(t *testing.T, s string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, pt := range strings.Fields(s) {
		var x, y float64
		if _, err := fmt.Sscanf(pt, "%f,%f", &x, &y); err != nil {
			t.Fatalf("point %q: %v", pt, err)
		}
		out = append(out, [2]float64{x, y})
	}
	return out
}

func circleNotice(n int, lon, lat, radius float64, conflict bool) noticeRow {
	row := noticeRow{Number: n, Drawn: true, Notice: hotline.Notice{Owner: "alpha", Activity: &hotline.Activity{Nature: "n",
		Area: hotline.Area{Circle: &hotline.Circle{Lon: lon, Lat: lat, Radius: radius}}}}}
	if conflict {
		row.Conflicts = []hotline.Conflict{{}}
	}
	return row
}

// TestNoticeMap checks the map's geometry: a frame around the areas, a
// graticule, conflicts marked by pattern, outline and text, cancelled
// notices left out.
func TestNoticeMap(t *testing.T) {
	ns := []noticeRow{
		circleNotice(1, 10, 50, 5000, true),
		{Number: 2, Drawn: true, Notice: hotline.Notice{Owner: "bravo", Activity: &hotline.Activity{Nature: "b",
			Area: hotline.Area{Polygon: &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{{{10.2, 50.1}, {10.3, 50.1}, {10.3, 50.2}, {10.2, 50.1}}}}}}}},
		{Number: 3, Drawn: false, Notice: hotline.Notice{Owner: "bravo", Activity: &hotline.Activity{Status: hotline.ActivityCancelled}}},
	}
	m := drawNotices(ns)
	if m == nil || len(m.Areas) != 2 || len(m.Labels) != 2 {
		t.Fatalf("map %+v", m)
	}
	if !m.Areas[0].Conflict || m.Areas[1].Conflict || !strings.Contains(m.Areas[0].Title, "in conflict") || m.Labels[0].Text != "1 ⚠ conflict" {
		t.Errorf("conflict marks: %+v %+v", m.Areas, m.Labels)
	}
	if len(m.Lines) < 4 {
		t.Errorf("%d graticule lines", len(m.Lines))
	}
	for _, l := range m.Lines {
		if strings.Contains(l.Label, "00000") {
			t.Errorf("graticule label %q", l.Label)
		}
	}
	for _, a := range m.Areas {
		for _, p := range points(t, a.Points) {
			if p[0] < m.Frame.X || p[0] > m.Frame.X+m.Frame.W || p[1] < m.Frame.Y || p[1] > m.Frame.Y+m.Frame.H {
				t.Fatalf("point %v outside the frame %+v", p, m.Frame)
			}
		}
	}
	if m := drawNotices(nil); m != nil {
		t.Errorf("a map of no notices")
	}
}

// TestMapCircles checks that a circle is drawn round wherever it is: its
// points all at one distance from its centre on the map (Mercator is
// conformal), where the old equirectangular frame stretched it by
// 1/cos(latitude).
func TestMapCircles(t *testing.T) {
	for _, lat := range []float64{0, 48.9, 60, 70, -45} {
		m := drawNotices([]noticeRow{circleNotice(1, 2.35, lat, 3000, false)})
		pts := points(t, m.Areas[0].Points)
		var cx, cy float64
		for _, p := range pts {
			cx, cy = cx+p[0]/float64(len(pts)), cy+p[1]/float64(len(pts))
		}
		lo, hi := math.Inf(1), 0.0
		for _, p := range pts {
			d := math.Hypot(p[0]-cx, p[1]-cy)
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
		if hi-lo > 0.02*hi+0.15 {
			t.Errorf("latitude %v: a circle's radius on the map varies from %.1f to %.1f", lat, lo, hi)
		}
	}
	// Geodesic: each point at the radius along the sphere.
	c := hotline.Circle{Lon: 2.35, Lat: 48.9, Radius: 3000}
	for _, p := range circleRing(c) {
		if d := hotline.EarthRadius * angle(unit([2]float64{c.Lon, c.Lat}), unit(p)); math.Abs(d-c.Radius) > 0.01 {
			t.Fatalf("a circle's point %v is %.3f m from the centre", p, d)
		}
	}
}

func angle(a, b [3]float64) float64 {
	return math.Acos(math.Max(-1, math.Min(1, a[0]*b[0]+a[1]*b[1]+a[2]*b[2])))
}

// TestMapLabels checks that labels never overlap, stay in the frame, and
// that a label moved off its area has a leader line to it.
func TestMapLabels(t *testing.T) {
	var ns []noticeRow
	for i := range 9 { // nine notices on nearly the same spot, some in conflict
		ns = append(ns, circleNotice(i+1, 2.35+float64(i%3)*0.001, 48.9+float64(i/3)*0.001, 200, i%2 == 0))
	}
	ns = append(ns, circleNotice(10, 2.6, 49.2, 2000, false))
	m := drawNotices(ns)
	frame := labelBox{m.Frame.X, m.Frame.Y, m.Frame.W, m.Frame.H}
	moved := 0
	for i, a := range m.Labels {
		if !a.Box.inside(frame) {
			t.Errorf("label %d outside the frame: %+v", a.Number, a.Box)
		}
		for _, b := range m.Labels[i+1:] {
			if a.Box.overlaps(b.Box) {
				t.Errorf("labels %d and %d overlap: %+v %+v", a.Number, b.Number, a.Box, b.Box)
			}
		}
		if a.Leader {
			moved++
			if a.X1 < a.Box.X-0.1 || a.X1 > a.Box.X+a.Box.W+0.1 || a.Y1 < a.Box.Y-0.1 || a.Y1 > a.Box.Y+a.Box.H+0.1 {
				t.Errorf("label %d's leader does not start at the label: %+v", a.Number, a)
			}
		}
	}
	if moved < 7 {
		t.Errorf("only %d labels moved off their areas, with leaders", moved)
	}
}

// TestMapWorld checks the coastlines and borders under the notices: drawn
// near a coast, clipped to the frame, absent far from any.
func TestMapWorld(t *testing.T) {
	ls := worldLines()
	coast, border := 0, 0
	for _, l := range ls {
		switch l.Kind {
		case lineCoast:
			coast++
		case lineBorder:
			border++
		default:
			t.Fatalf("line of kind %d", l.Kind)
		}
		if len(l.Points) < 2 || l.West < -180 || l.East > 180 || l.South < -90 || l.North > 90 {
			t.Fatalf("line %+v", l)
		}
	}
	if coast < 100 || border < 100 {
		t.Errorf("%d coastlines and %d borders", coast, border)
	}
	// Off Calais: the Channel's coasts, the Franco-Belgian border.
	m := drawNotices([]noticeRow{circleNotice(1, 1.6, 50.95, 40000, false)})
	if len(m.Coast) < 50 || len(m.Borders) < 10 {
		t.Errorf("off Calais: coast %q, borders %q", m.Coast, m.Borders)
	}
	for _, path := range []string{m.Coast, m.Borders} {
		for _, f := range strings.FieldsFunc(path, func(r rune) bool { return r == 'M' || r == 'L' }) {
			var x, y float64
			if _, err := fmt.Sscanf(f, "%f %f", &x, &y); err != nil {
				t.Fatalf("path element %q: %v", f, err)
			}
			if x < m.Frame.X-1000 || x > m.Frame.X+m.Frame.W+1000 {
				t.Fatalf("path point %v far outside the frame", x)
			}
		}
	}
	// In the middle of the Pacific, nothing.
	if m := drawNotices([]noticeRow{circleNotice(1, -140, -10, 5000, false)}); m.Coast != "" || m.Borders != "" {
		t.Errorf("mid-Pacific: coast %q, borders %q", m.Coast, m.Borders)
	}
	if _, err := decodeWorld([]byte("WLD1\x01\x00\x00\x00\x01\x05\x00")); err == nil {
		t.Error("a truncated world file decodes")
	}
}

// TestMapAntimeridian checks notices on both sides of the antimeridian:
// drawn side by side across it, not at both ends of the world.
func TestMapAntimeridian(t *testing.T) {
	m := drawNotices([]noticeRow{circleNotice(1, 179.9, -17, 20000, false), circleNotice(2, -179.9, -17, 20000, false),
		{Number: 3, Drawn: true, Notice: hotline.Notice{Owner: "bravo", Activity: &hotline.Activity{Nature: "c",
			Area: hotline.Area{Polygon: &hotline.Polygon{Type: "Polygon", Coordinates: [][][]float64{{{179.8, -16.8}, {-179.8, -16.8}, {-179.8, -16.6}, {179.8, -16.8}}}}}}}}})
	var xs []float64
	for _, a := range m.Areas {
		pts := points(t, a.Points)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range pts {
			lo, hi = math.Min(lo, p[0]), math.Max(hi, p[0])
		}
		if hi-lo > m.Frame.W/2 {
			t.Errorf("notice %d spans %.0f of %.0f units: drawn around the world", a.Number, hi-lo, m.Frame.W)
		}
		xs = append(xs, (lo+hi)/2)
	}
	if math.Abs(xs[0]-xs[1]) > m.Frame.W/2 {
		t.Errorf("notices 1 and 2 at %.0f and %.0f: not side by side", xs[0], xs[1])
	}
	var labels []string
	for _, l := range m.Lines {
		labels = append(labels, l.Label)
	}
	if s := strings.Join(labels, " "); !strings.Contains(s, "180°E") || !strings.Contains(s, "179.8°W") || !strings.Contains(s, "179.8°E") {
		t.Errorf("graticule across the antimeridian: %s", s)
	}
}
