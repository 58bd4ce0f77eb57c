package hotline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"detente"
)

func circleArea(lon, lat, radius float64) Area {
	return Area{Circle: &Circle{Lon: lon, Lat: lat, Radius: radius}}
}

func polygonArea(t testing.TB, geojson string) Area {
	t.Helper()
	p, err := ParsePolygon([]byte(geojson))
	if err != nil {
		t.Fatal(err)
	}
	return Area{Polygon: p}
}

// box returns a polygon area from (lon0, lat0) to (lon1, lat1), going
// east from lon0 to lon1 (so across the antimeridian when lon1 < lon0).
func box(lon0, lat0, lon1, lat1 float64) Area {
	return Area{Polygon: &Polygon{Type: "Polygon", Coordinates: [][][]float64{{
		{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0},
	}}}}
}

func fl(n float64) Height     { return Height{Value: n, Unit: UnitFlightLevel} }
func metres(n float64) Height { return Height{Value: n, Unit: UnitMetres} }

func testActivity(id string, area Area) *Activity {
	return &Activity{
		ID: id, Version: 1, Status: ActivityActive, Area: area,
		Band:  Band{Lower: metres(0), Upper: fl(100)},
		Start: t0, End: t0.Add(2 * time.Hour),
		Nature: "UAV flights",
	}
}

func TestConflicts(t *testing.T) {
	a := func(area Area) *Activity { return testActivity("activity--a", area) }
	b := func(area Area) *Activity { return testActivity("activity--b", area) }
	withBand := func(x *Activity, lo, hi Height) *Activity { x.Band = Band{lo, hi}; return x }
	withTime := func(x *Activity, start, end time.Time) *Activity { x.Start, x.End = start, end; return x }
	polar := `{"type":"Polygon","coordinates":[[[0,85],[90,85],[180,85],[-90,85],[0,85]]]}`
	antimeridian := box(179, -1, -179, 1)

	tests := []struct {
		name string
		a, b *Activity
		want bool
	}{
		{"overlapping polygons", a(box(2, 48, 3, 49)), b(box(2.5, 48.5, 3.5, 49.5)), true},
		{"polygon inside polygon", a(box(0, 0, 10, 10)), b(box(4, 4, 5, 5)), true},
		{"polygons touching along an edge on a cell face boundary", a(box(44, 10, 45, 11)), b(box(45, 10, 46, 11)), true},
		{"polygons touching along an edge", a(box(2, 48, 3, 49)), b(box(3, 48.5, 4, 49.5)), true},
		{"polygons touching at a vertex", a(box(0, 0, 1, 1)), b(box(1, 1, 2, 2)), true},
		{"polygons 110 m apart", a(box(0, 0, 1, 1)), b(box(1.001, 0, 2, 1)), false},
		{"polygon with a hole, other inside the hole", a(polygonArea(t, `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]}`)), b(box(4.5, 4.5, 5.5, 5.5)), false},
		{"circle inside polygon", a(box(0, 0, 1, 1)), b(circleArea(0.5, 0.5, 100)), true},
		{"circle reaching into polygon", a(box(0, 0, 1, 1)), b(circleArea(1.01, 0.5, 1200)), true},
		{"circle short of polygon", a(box(0, 0, 1, 1)), b(circleArea(1.01, 0.5, 1000)), false},
		{"circle around polygon", a(box(0, 0, 0.01, 0.01)), b(circleArea(0.005, 0.005, 50_000)), true},
		{"circles overlapping", a(circleArea(2.35, 48.85, 600)), b(circleArea(2.35, 48.86, 600)), true},
		{"circles apart", a(circleArea(2.35, 48.85, 400)), b(circleArea(2.35, 48.86, 400)), false},
		{"antimeridian: polygons on both sides", a(antimeridian), b(box(179.5, 0, 180, 0.5)), true},
		{"antimeridian: west side", a(antimeridian), b(box(-179.5, 0, -179.2, 0.5)), true},
		{"antimeridian: clockwise ring is the same area", a(polygonArea(t, `{"type":"Polygon","coordinates":[[[179,-1],[179,1],[-179,1],[-179,-1],[179,-1]]]}`)), b(box(-179.5, 0, -179.2, 0.5)), true},
		{"antimeridian: circle on the line", a(antimeridian), b(circleArea(-180, 0, 1000)), true},
		{"antimeridian: far away", a(antimeridian), b(box(170, 0, 171, 0.5)), false},
		{"north pole: circle at the pole", a(polygonArea(t, polar)), b(circleArea(0, 90, 1000)), true},
		{"north pole: polygon across the pole's far side", a(polygonArea(t, polar)), b(box(170, 86, -170, 87)), true},
		{"north pole: far south", a(polygonArea(t, polar)), b(box(0, 60, 1, 61)), false},
		{"south pole", a(polygonArea(t, `{"type":"Polygon","coordinates":[[[0,-89.95],[-90,-89.95],[180,-89.95],[90,-89.95],[0,-89.95]]]}`)), b(circleArea(123, -90, 10)), true},
		{"bands touching", withBand(a(box(0, 0, 1, 1)), metres(0), fl(100)), withBand(b(box(0, 0, 1, 1)), metres(3048), metres(5000)), true},
		{"bands touching in feet", withBand(a(box(0, 0, 1, 1)), metres(0), fl(100)), withBand(b(box(0, 0, 1, 1)), Height{10000, UnitFeet}, fl(200)), true},
		{"bands apart", withBand(a(box(0, 0, 1, 1)), metres(0), fl(100)), withBand(b(box(0, 0, 1, 1)), metres(3049), metres(5000)), false},
		{"band inside band", withBand(a(box(0, 0, 1, 1)), metres(0), fl(300)), withBand(b(box(0, 0, 1, 1)), fl(100), fl(120)), true},
		{"windows meeting at an instant", a(box(0, 0, 1, 1)), withTime(b(box(0, 0, 1, 1)), t0.Add(2*time.Hour), t0.Add(3*time.Hour)), false},
		{"windows overlapping by a nanosecond", a(box(0, 0, 1, 1)), withTime(b(box(0, 0, 1, 1)), t0.Add(2*time.Hour-1), t0.Add(3*time.Hour)), true},
		{"windows apart", a(box(0, 0, 1, 1)), withTime(b(box(0, 0, 1, 1)), t0.Add(-3*time.Hour), t0.Add(-2*time.Hour)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				first, second := tt.a, tt.b
				if swap {
					first, second = second, first
				}
				d := NewDeconflictor()
				if _, err := d.Put("alpha", first); err != nil {
					t.Fatal(err)
				}
				ch, err := d.Put("bravo", second)
				if err != nil {
					t.Fatal(err)
				}
				if got := len(ch.New) == 1; got != tt.want {
					t.Fatalf("swap %v: conflict %v, want %v (%+v)", swap, got, tt.want, ch)
				}
				// The same activities of one owner never conflict.
				d2 := NewDeconflictor()
				d2.Put("alpha", first)
				if cs, _ := d2.Check("alpha", &Activity{ID: "activity--c", Version: 1, Status: ActivityActive, Area: second.Area, Band: second.Band, Start: second.Start, End: second.End, Nature: "x"}); len(cs) != 0 {
					t.Fatal("an owner's own activities conflict")
				}
			}
		})
	}
}

func TestConflictDetails(t *testing.T) {
	d := NewDeconflictor()
	a := testActivity("activity--a", box(0, 0, 1, 1))
	b := testActivity("activity--b", box(0.5, 0.5, 1.5, 1.5))
	b.Band = Band{Lower: metres(1000), Upper: fl(200)}
	b.Start, b.End = t0.Add(time.Hour), t0.Add(5*time.Hour)
	d.Put("alpha", a)
	ch, err := d.Put("bravo", b)
	if err != nil {
		t.Fatal(err)
	}
	want := Conflict{
		A: Ref{"bravo", "activity--b", 1}, B: Ref{"alpha", "activity--a", 1},
		Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Lower: 1000, Upper: 3048,
	}
	if len(ch.New) != 1 || jsonOf(t, ch.New[0]) != jsonOf(t, want) {
		t.Fatalf("got %+v, want %+v", ch.New, want)
	}
	if cs := d.Conflicts("alpha", "activity--a"); len(cs) != 1 || cs[0].A.Owner != "alpha" {
		t.Fatalf("conflicts of a: %+v", cs)
	}
}

// TestAmendCancel follows one activity through amendments and its
// cancellation.
func TestAmendCancel(t *testing.T) {
	d := NewDeconflictor()
	if _, err := d.Put("alpha", testActivity("activity--a", box(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := testActivity("activity--b", box(0.5, 0.5, 1.5, 1.5))
	put := func(v int, mutate func(*Activity)) (Change, error) {
		x := *b
		x.Version = v
		mutate(&x)
		return d.Put("bravo", &x)
	}
	counts := func(c Change) string { return fmt.Sprintf("%d/%d/%d", len(c.New), len(c.Kept), len(c.Resolved)) }
	steps := []struct {
		name   string
		v      int
		mutate func(*Activity)
		want   string // new/kept/resolved
		code   string
	}{
		{"notice", 1, func(*Activity) {}, "1/0/0", ""},
		{"repeat", 1, func(*Activity) {}, "0/1/0", ""},
		{"same version, other content", 1, func(x *Activity) { x.Nature = "other" }, "", detente.ECONFLICT},
		{"moved away", 2, func(x *Activity) { x.Area = box(5, 5, 6, 6) }, "0/0/1", ""},
		{"moved back", 3, func(*Activity) {}, "1/0/0", ""},
		{"narrowed, still conflicting", 4, func(x *Activity) { x.End = t0.Add(time.Hour) }, "0/1/0", ""},
		{"older version", 3, func(*Activity) {}, "", detente.ECONFLICT},
		{"cancelled", 5, func(x *Activity) { x.Status = ActivityCancelled }, "0/0/1", ""},
		{"reinstated", 6, func(*Activity) {}, "1/0/0", ""},
	}
	for _, s := range steps {
		ch, err := put(s.v, s.mutate)
		if s.code != "" {
			wantCode(t, err, s.code, "")
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := counts(ch); got != s.want {
			t.Fatalf("%s: new/kept/resolved %s, want %s", s.name, got, s.want)
		}
	}
	if got := counts(d.Remove("alpha", "activity--a")); got != "0/0/1" {
		t.Fatalf("remove: %s", got)
	}
	if len(d.Conflicts("", "")) != 0 || d.Len() != 1 {
		t.Fatalf("after remove: %d conflicts, %d activities", len(d.Conflicts("", "")), d.Len())
	}
	if got := d.Expire(t0.Add(2 * time.Hour)); len(got) != 1 || got[0].ID != "activity--b" || d.Len() != 0 {
		t.Fatalf("expire: %+v", got)
	}
}

func TestParsePolygonErrors(t *testing.T) {
	tests := []struct {
		name, in, sub string
	}{
		{"not json", `{"type":`, "GeoJSON polygon"},
		{"point", `{"type":"Point","coordinates":[[[0,0]]]}`, `type is "Point"`},
		{"unknown field", `{"type":"Polygon","coordinates":[],"crs":{}}`, "unknown field"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, "no rings"},
		{"three positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "needs at least 4"},
		{"not closed", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "not closed"},
		{"one number", `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}`, "has 1 numbers"},
		{"longitude", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, "longitude 181"},
		{"latitude", `{"type":"Polygon","coordinates":[[[0,0],[1,-91],[1,1],[0,0]]]}`, "latitude -91"},
		{"repeated position", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,0]]]}`, "repeats position"},
		{"bow tie", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, "cross"},
		{"hole outside", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[5,5],[6,5],[6,6],[5,6],[5,5]]]}`, "not inside"},
		{"degenerate", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[0,0]]]}`, "GeoJSON polygon"},
		{"string coordinates", `{"type":"Polygon","coordinates":[[["0","0"]]]}`, "GeoJSON polygon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolygon([]byte(tt.in))
			wantCode(t, err, detente.EINVALID, tt.sub)
		})
	}
	// With an altitude per position (ignored) and a hole: valid.
	if _, err := ParsePolygon([]byte(`{"type":"Polygon","coordinates":[[[0,0,10],[10,0,10],[10,10,10],[0,10,10],[0,0,10]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]}`)); err != nil {
		t.Fatal(err)
	}
}

func TestActivityValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Activity)
		sub    string
	}{
		{"ok", func(*Activity) {}, ""},
		{"id", func(a *Activity) { a.ID = "x" }, "must start with"},
		{"status", func(a *Activity) { a.Status = "planned" }, "status"},
		{"window", func(a *Activity) { a.End = a.Start }, "time window"},
		{"nature", func(a *Activity) { a.Nature = "" }, "nature"},
		{"unit", func(a *Activity) { a.Band.Upper.Unit = "km" }, "unit"},
		{"band upside down", func(a *Activity) { a.Band = Band{fl(100), metres(0)} }, "below lower"},
		{"no area", func(a *Activity) { a.Area = Area{} }, "polygon or a circle is required"},
		{"both areas", func(a *Activity) { a.Area.Circle = &Circle{Radius: 1} }, "not both"},
		{"radius", func(a *Activity) { a.Area = circleArea(0, 0, 0) }, "radius"},
		{"huge radius", func(a *Activity) { a.Area = circleArea(0, 0, 3e6) }, "radius"},
		{"circle latitude", func(a *Activity) { a.Area = circleArea(0, 95, 10) }, "latitude"},
		{"bad polygon", func(a *Activity) { a.Area = box(0, 0, 200, 1) }, "longitude 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testActivity("activity--a", box(0, 0, 1, 1))
			tt.mutate(a)
			err := a.Validate()
			if tt.sub == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, detente.EINVALID, tt.sub)
			if !strings.Contains(err.Error(), "activity--a") && tt.name != "id" {
				t.Fatalf("error %q does not name the activity", err)
			}
		})
	}
}

// randomActivity returns a random activity: anywhere on Earth if span is
// 0; near the antimeridian and the poles if span is negative; else in a
// span°×0.6·span° box with its south-west corner at 10°W 35°N (span 40
// covers Europe).
func randomActivity(r *rand.Rand, id string, span float64) *Activity {
	lon, lat := r.Float64()*360-180, math.Asin(r.Float64()*2-1)*180/math.Pi
	switch {
	case span > 0:
		lon, lat = -10+r.Float64()*span, 35+r.Float64()*span*0.6
	case span < 0:
		lon = 178 + r.Float64()*4 // wrapped below
		lat = 85 + r.Float64()*4.9
		if r.IntN(2) == 0 {
			lat = -lat
		}
		if r.IntN(3) == 0 {
			lon = r.Float64()*360 - 180 // anywhere around the pole
		}
	}
	if lon > 180 {
		lon -= 360
	}
	size := 0.01 + r.Float64()*0.2 // degrees
	var area Area
	if r.IntN(2) == 0 {
		area = circleArea(lon, lat, size*111_000/2)
	} else {
		// A quadrilateral around (lon, lat), kept off the poles.
		lat = math.Max(-89, math.Min(89, lat))
		dl := size / math.Max(math.Cos(lat*math.Pi/180), 0.05)
		wrap := func(x float64) float64 {
			for x > 180 {
				x -= 360
			}
			for x < -180 {
				x += 360
			}
			return x
		}
		area = Area{Polygon: &Polygon{Type: "Polygon", Coordinates: [][][]float64{{
			{wrap(lon - dl), lat - size/2}, {wrap(lon + dl), lat - size/3}, {wrap(lon + dl/2), lat + size/2},
			{wrap(lon - dl), lat + size/2}, {wrap(lon - dl), lat - size/2},
		}}}}
	}
	start := t0.Add(time.Duration(r.IntN(30*24)) * time.Hour)
	lo := float64(r.IntN(300))
	return &Activity{
		ID: id, Version: 1, Status: ActivityActive, Area: area,
		Band:  Band{Lower: fl(lo), Upper: fl(lo + float64(10+r.IntN(100)))},
		Start: start, End: start.Add(time.Duration(1+r.IntN(72)) * time.Hour),
		Nature: "exercise",
	}
}

// TestIndexMatchesBruteForce checks that the spatial index finds exactly
// the conflicts that testing every pair finds.
func TestIndexMatchesBruteForce(t *testing.T) {
	for _, span := range []float64{1, -1, 0} {
		r := rand.New(rand.NewPCG(1, 2))
		d := NewDeconflictor()
		var all []*entry
		n := 600
		if span == 0 {
			n = 1500 // sparse: few conflicts, but the whole sphere
		}
		for i := range n {
			owner := []string{"alpha", "bravo", "charlie"}[i%3]
			a := randomActivity(r, fmt.Sprintf("activity--%d", i), span)
			e, err := newEntry(owner, a)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, o := range all {
				if _, ok := conflict(e, o); ok && o.owner != owner {
					want++
				}
			}
			ch, err := d.Put(owner, a)
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.New) != want {
				t.Fatalf("span %v activity %d: index found %d conflicts, brute force %d", span, i, len(ch.New), want)
			}
			all = append(all, e)
		}
		t.Logf("span %v: %d conflicts among %d activities", span, len(d.Conflicts("", "")), n)
		if span != 0 && len(d.Conflicts("", "")) == 0 {
			t.Fatal("the dense test found no conflicts at all")
		}
	}
}

func FuzzParsePolygon(f *testing.F) {
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[179,-1],[-179,-1],[-179,1],[179,1],[179,-1]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,85],[90,85],[180,85],[-90,85],[0,85]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`))
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[0,90],[10,80],[20,80],[0,90]]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolygon(b)
		if err != nil {
			if detente.ErrorCode(err) != detente.EINVALID {
				t.Fatalf("error with code %q: %v", detente.ErrorCode(err), err)
			}
			return
		}
		// A valid polygon is usable: it compiles, covers and intersects
		// itself.
		a := &Activity{ID: "activity--f", Version: 1, Status: ActivityActive, Area: Area{Polygon: p},
			Band: Band{metres(0), metres(100)}, Start: t0, End: t0.Add(time.Hour), Nature: "fuzz"}
		d := NewDeconflictor()
		if _, err := d.Put("alpha", a); err != nil {
			t.Fatal(err)
		}
		b2 := *a
		ch, err := d.Put("bravo", &b2)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.New) != 1 {
			t.Fatalf("a polygon does not conflict with itself: %s", b)
		}
	})
}

// BenchmarkConflictCheck checks one new notice against 10,000 active
// notices over Europe, of three partners, over a month.
func BenchmarkConflictCheck(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	d := NewDeconflictor()
	for i := range 10_000 {
		if _, err := d.Put([]string{"bravo", "charlie", "delta"}[i%3], randomActivity(r, fmt.Sprintf("activity--%d", i), 40)); err != nil {
			b.Fatal(err)
		}
	}
	probes := make([]*Activity, 64)
	for i := range probes {
		probes[i] = randomActivity(r, fmt.Sprintf("activity--probe-%d", i), 40)
		lon, lat := -10+r.Float64()*40, 35+r.Float64()*25
		probes[i].Area = box(lon, lat, lon+0.3, lat+0.2) // about 20 km by 20 km
	}
	i, conflicts := 0, 0
	for b.Loop() {
		cs, err := d.Check("alpha", probes[i%len(probes)])
		if err != nil {
			b.Fatal(err)
		}
		conflicts += len(cs)
		i++
	}
	b.ReportMetric(float64(conflicts)/float64(i), "conflicts/op")
}
