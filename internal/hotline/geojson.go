package hotline

import (
	"fmt"
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"detente"
)

// EarthRadius is the mean Earth radius in metres (IUGG), used to turn
// distances on the ground into angles on the unit sphere.
const EarthRadius = 6371008.8

// Limits on areas.
const (
	MaxVertices = 1000      // positions in all rings of a polygon
	MaxRings    = 64        // rings (exterior and holes) of a polygon
	MaxRadius   = 2_000_000 // metres, the largest circle
)

// Polygon is a GeoJSON Polygon geometry (RFC 7946 §3.1.6): an exterior
// ring and optional holes, each ring a closed list of [longitude, latitude]
// positions in degrees (WGS 84). A third number (altitude) in a position is
// accepted and ignored: altitude is given by the activity's Band.
//
// Edges are geodesics (great-circle arcs), not straight lines on a map, and
// each ring bounds the smaller of the two regions it divides the sphere
// into, whatever its winding: so a ring may cross the antimeridian or
// surround a pole.
type Polygon struct {
	Type        string        `json:"type"` // "Polygon"
	Coordinates [][][]float64 `json:"coordinates"`
}

// ParsePolygon parses and validates a GeoJSON Polygon geometry.
func ParsePolygon(b []byte) (*Polygon, error) {
	var p Polygon
	if err := decodeStrict(b, &p); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "GeoJSON polygon: %v", err)
	}
	if _, err := p.s2(); err != nil {
		return nil, err
	}
	return &p, nil
}

// geoErr returns an EINVALID error about a GeoJSON polygon.
func geoErr(format string, args ...any) error {
	return detente.Errorf(detente.EINVALID, "GeoJSON polygon: %s", fmt.Sprintf(format, args...))
}

// s2 validates p and returns it as an s2 polygon.
func (p *Polygon) s2() (*s2.Polygon, error) {
	if p.Type != "Polygon" {
		return nil, geoErr("type is %q, want \"Polygon\"", p.Type)
	}
	if len(p.Coordinates) == 0 {
		return nil, geoErr("no rings")
	}
	if len(p.Coordinates) > MaxRings {
		return nil, geoErr("more than %d rings", MaxRings)
	}
	total := 0
	loops := make([]*s2.Loop, 0, len(p.Coordinates))
	for i, ring := range p.Coordinates {
		name := "exterior ring"
		if i > 0 {
			name = fmt.Sprintf("hole %d", i)
		}
		if len(ring) < 4 {
			return nil, geoErr("%s has %d positions, needs at least 4 (a closed triangle)", name, len(ring))
		}
		total += len(ring)
		if total > MaxVertices {
			return nil, geoErr("more than %d positions", MaxVertices)
		}
		pts := make([]s2.Point, 0, len(ring)-1)
		for j, pos := range ring {
			if len(pos) != 2 && len(pos) != 3 {
				return nil, geoErr("%s position %d has %d numbers, want [longitude, latitude]", name, j, len(pos))
			}
			lon, lat := pos[0], pos[1]
			if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 {
				return nil, geoErr("%s position %d: longitude %v is outside [-180, 180]", name, j, lon)
			}
			if lat < -90 || lat > 90 {
				return nil, geoErr("%s position %d: latitude %v is outside [-90, 90]", name, j, lat)
			}
			if j < len(ring)-1 {
				pts = append(pts, s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lon)))
			}
		}
		first, last := ring[0], ring[len(ring)-1]
		if first[0] != last[0] || first[1] != last[1] {
			return nil, geoErr("%s is not closed: its last position must repeat its first", name)
		}
		for j := range pts {
			if pts[j] == pts[(j+1)%len(pts)] {
				return nil, geoErr("%s repeats position %d (a pole has one position, whatever its longitude)", name, (j+1)%len(pts))
			}
		}
		if err := selfIntersection(pts); err != nil {
			return nil, geoErr("%s: %v", name, err)
		}
		l := s2.LoopFromPoints(pts)
		if err := l.Validate(); err != nil {
			return nil, geoErr("%s: %v", name, err)
		}
		// The ring bounds the smaller of the two regions it divides the
		// sphere into, whatever its winding (RFC 7946 asks for
		// counter-clockwise exterior rings but tells parsers not to
		// reject others).
		l.Normalize()
		if l.Area()*EarthRadius*EarthRadius < 1 {
			return nil, geoErr("%s encloses no area", name)
		}
		loops = append(loops, l)
	}
	sp := s2.PolygonFromLoops(loops)
	if err := sp.Validate(); err != nil {
		return nil, geoErr("%v", err)
	}
	if len(loops) > 1 {
		// Every hole must lie inside the exterior ring, and rings must not
		// cross one another.
		for i := 1; i < len(loops); i++ {
			if !loops[0].Contains(loops[i]) {
				return nil, geoErr("hole %d is not inside the exterior ring", i)
			}
			for j := 1; j < i; j++ {
				if loops[j].Intersects(loops[i]) {
					return nil, geoErr("holes %d and %d overlap", j, i)
				}
			}
		}
	}
	return sp, nil
}

// selfIntersection returns an error if two non-adjacent edges of the
// closed ring pts cross or touch. It is quadratic, which MaxVertices keeps
// affordable; s2's Loop.Validate does not check this.
func selfIntersection(pts []s2.Point) error {
	n := len(pts)
	for i := range n {
		a, b := pts[i], pts[(i+1)%n]
		cr := s2.NewEdgeCrosser(a, b)
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through the closing edge
			}
			if cr.CrossingSign(pts[j], pts[(j+1)%n]) != s2.DoNotCross {
				return fmt.Errorf("edges %d and %d cross", i, j)
			}
		}
	}
	return nil
}

// Circle is a disc on the ground: a centre and a radius in metres, as in a
// NOTAM ("within 5 NM of …"). It is a spherical cap: every point within
// Radius metres of the centre along the surface.
type Circle struct {
	Lon    float64 `json:"lon"`    // degrees, [-180, 180]
	Lat    float64 `json:"lat"`    // degrees, [-90, 90]
	Radius float64 `json:"radius"` // metres, (0, MaxRadius]
}

func (c *Circle) validate() error {
	switch {
	case math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180:
		return detente.Errorf(detente.EINVALID, "circle: longitude %v is outside [-180, 180]", c.Lon)
	case math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90:
		return detente.Errorf(detente.EINVALID, "circle: latitude %v is outside [-90, 90]", c.Lat)
	case math.IsNaN(c.Radius) || c.Radius <= 0 || c.Radius > MaxRadius:
		return detente.Errorf(detente.EINVALID, "circle: radius %v m is not in (0, %d]", c.Radius, MaxRadius)
	}
	return nil
}

// Area is where an activity takes place: exactly one of a GeoJSON polygon
// or a circle.
type Area struct {
	Polygon *Polygon `json:"polygon,omitempty"`
	Circle  *Circle  `json:"circle,omitempty"`
}

// region is an area compiled for geometry on the unit sphere.
type region struct {
	poly   *s2.Polygon    // nil for a circle
	index  *s2.ShapeIndex // poly's edges, for distance queries
	center s2.Point       // circle only
	radius s1.Angle       // circle only
	bound  s2.Region      // poly, or the circle's cap
}

// compile validates a and returns its region.
func (a *Area) compile() (*region, error) {
	switch {
	case a.Polygon != nil && a.Circle != nil:
		return nil, detente.Errorf(detente.EINVALID, "area: give a polygon or a circle, not both")
	case a.Polygon != nil:
		p, err := a.Polygon.s2()
		if err != nil {
			return nil, err
		}
		idx := s2.NewShapeIndex()
		idx.Add(p)
		return &region{poly: p, index: idx, bound: p}, nil
	case a.Circle != nil:
		if err := a.Circle.validate(); err != nil {
			return nil, err
		}
		c := s2.PointFromLatLng(s2.LatLngFromDegrees(a.Circle.Lat, a.Circle.Lon))
		r := metresToAngle(a.Circle.Radius)
		return &region{center: c, radius: r, bound: s2.CapFromCenterAngle(c, r)}, nil
	}
	return nil, detente.Errorf(detente.EINVALID, "area: a polygon or a circle is required")
}

func metresToAngle(m float64) s1.Angle { return s1.Angle(m / EarthRadius) }

// TouchTolerance is how close, in metres, two areas' boundaries must come to
// count as touching. It absorbs rounding of coordinates typed at five
// decimal places (about 1.1 m).
const TouchTolerance = 1.5

// intersects reports whether regions a and b share a point or come within
// TouchTolerance of each other: touching counts as a conflict.
func (a *region) intersects(b *region) bool {
	tol := metresToAngle(TouchTolerance)
	switch {
	case a.poly == nil && b.poly == nil:
		return a.center.Distance(b.center) <= a.radius+b.radius+tol
	case a.poly == nil:
		return b.withinOfPoint(a.center, a.radius+tol)
	case b.poly == nil:
		return a.withinOfPoint(b.center, b.radius+tol)
	}
	// Cheap rejection on the bounding caps.
	ca, cb := a.poly.CapBound(), b.poly.CapBound()
	if ca.Center().Distance(cb.Center()) > ca.Radius()+cb.Radius()+tol {
		return false
	}
	if a.poly.Intersects(b.poly) {
		return true
	}
	// s2 polygons have semi-open boundaries, so two polygons sharing an
	// edge do not intersect; their boundaries are at distance zero.
	q := s2.NewClosestEdgeQuery(a.index, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false))
	limit := s1.ChordAngleFromAngle(tol)
	for i := range b.poly.NumEdges() {
		e := b.poly.Edge(i)
		if q.IsConservativeDistanceLessOrEqual(s2.NewMinDistanceToEdgeTarget(e), limit) {
			return true
		}
	}
	return false
}

// withinOfPoint reports whether polygon region r contains p or comes
// within angle d of it.
func (r *region) withinOfPoint(p s2.Point, d s1.Angle) bool {
	if r.poly.ContainsPoint(p) {
		return true
	}
	q := s2.NewClosestEdgeQuery(r.index, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false))
	return q.IsConservativeDistanceLessOrEqual(s2.NewMinDistanceToPointTarget(p), s1.ChordAngleFromAngle(d))
}
