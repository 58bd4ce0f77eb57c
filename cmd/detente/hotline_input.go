package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente/internal/hotline"
)

// What the channel, message and notice commands read from their flags:
// times, contacts, altitude bands and areas.

// parseWhen reads a time: RFC 3339, a date (midnight UTC), a date and time
// without zone (UTC), or a duration from now ("30m", "+2h", "-1h").
// "" is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2028-05-01, 2028-05-01T18:00:00Z) or a duration from now (2h)", s)
}

var contactRE = regexp.MustCompile(`^(?:([a-z][a-z0-9-]*):)?\s*([^<>]+?)\s*(?:<([^<>]*)>)?$`)

// parseContact reads "Name <role>" (this node's) or "party:Name <role>".
func parseContact(s, self string, partners []string) (string, hotline.Contact, error) {
	m := contactRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(m[2]) == "" {
		return "", hotline.Contact{}, fmt.Errorf("%q: want 'Name <role>' or 'partner:Name <role>'", s)
	}
	party := self
	if m[1] != "" {
		if m[1] != self && !slices.Contains(partners, m[1]) {
			return "", hotline.Contact{}, fmt.Errorf("%q: %s is not a party to the channel", s, m[1])
		}
		party = m[1]
	}
	return party, hotline.Contact{Name: m[2], Role: strings.TrimSpace(m[3])}, nil
}

// parseBand reads "lower..upper", each a number with an optional unit: m
// (the default), ft, or a flight level written FL50.
func parseBand(s string) (hotline.Band, error) {
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		return hotline.Band{}, fmt.Errorf("%q: want lower..upper, e.g. 0..FL50 or 500m..1500m", s)
	}
	l, err1 := parseHeight(lo)
	u, err2 := parseHeight(hi)
	if err1 != nil {
		return hotline.Band{}, err1
	}
	if err2 != nil {
		return hotline.Band{}, err2
	}
	return hotline.Band{Lower: l, Upper: u}, nil
}

func parseHeight(s string) (hotline.Height, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	unit := hotline.UnitMetres
	switch {
	case strings.HasPrefix(v, "fl"):
		unit, v = hotline.UnitFlightLevel, strings.TrimPrefix(v, "fl")
	case strings.HasSuffix(v, "ft"):
		unit, v = hotline.UnitFeet, strings.TrimSuffix(v, "ft")
	case strings.HasSuffix(v, "m"):
		v = strings.TrimSuffix(v, "m")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return hotline.Height{}, fmt.Errorf("height %q: want e.g. 500, 500m, 1500ft or FL50", s)
	}
	return hotline.Height{Value: f, Unit: unit}, nil
}

// readArea reads the area of a notice: a GeoJSON Polygon (or a Feature
// holding one) from a file, or a circle "lat,lon,radius_m".
func readArea(stdin io.Reader, geojson, circle string) (hotline.Area, error) {
	if circle != "" {
		parts := strings.Split(circle, ",")
		var vs []float64
		for _, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				break
			}
			vs = append(vs, f)
		}
		if len(parts) != 3 || len(vs) != 3 {
			return hotline.Area{}, usagef("--circle %q: want lat,lon,radius_m, e.g. 48.9245,2.3602,3000", circle)
		}
		return hotline.Area{Circle: &hotline.Circle{Lat: vs[0], Lon: vs[1], Radius: vs[2]}}, nil
	}
	var b []byte
	var err error
	if geojson == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 8<<20))
	} else {
		b, err = os.ReadFile(geojson)
	}
	if err != nil {
		return hotline.Area{}, fmt.Errorf("read GeoJSON: %w", err)
	}
	var feature struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
	}
	if json.Unmarshal(b, &feature) == nil && feature.Type == "Feature" {
		b = feature.Geometry
	}
	p, err := hotline.ParsePolygon(b)
	if err != nil {
		return hotline.Area{}, err
	}
	return hotline.Area{Polygon: p}, nil
}

func bandText(b hotline.Band) string {
	h := func(x hotline.Height) string {
		if x.Unit == hotline.UnitFlightLevel {
			return "FL" + strconv.FormatFloat(x.Value, 'f', -1, 64)
		}
		return strconv.FormatFloat(x.Value, 'f', -1, 64) + x.Unit
	}
	return h(b.Lower) + ".." + h(b.Upper)
}
