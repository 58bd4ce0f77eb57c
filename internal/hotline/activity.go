package hotline

import (
	"math"
	"strconv"
	"strings"
	"time"

	"detente"
)

// Height units.
const (
	UnitMetres      = "m"  // metres above mean sea level
	UnitFeet        = "ft" // feet above mean sea level
	UnitFlightLevel = "fl" // flight level: hundreds of feet of pressure altitude
)

// Height is one bound of an altitude band.
//
// Flight levels are converted at the standard atmosphere, FL n = n × 100 ft
// = n × 30.48 m, as if pressure altitude were altitude above mean sea
// level. Real pressure shifts flight levels by up to a few hundred metres,
// so a band in flight levels next to one in metres should keep a margin:
// detente compares what the notices say and does not add one.
type Height struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"` // UnitMetres, UnitFeet or UnitFlightLevel
}

// Millimetres returns h in whole millimetres above mean sea level, so that
// bands given in different units compare exactly (FL100 = 3 048 000 mm).
func (h Height) Millimetres() (int64, error) {
	if math.IsNaN(h.Value) || math.IsInf(h.Value, 0) || h.Value < -1000 || h.Value > 1_000_000 {
		return 0, detente.Errorf(detente.EINVALID, "height %v %s is out of range", h.Value, h.Unit)
	}
	var mm float64
	switch h.Unit {
	case UnitMetres:
		mm = h.Value * 1000
	case UnitFeet:
		mm = h.Value * 304.8
	case UnitFlightLevel:
		mm = h.Value * 30480
	default:
		return 0, detente.Errorf(detente.EINVALID, "height unit %q: want m, ft or fl", h.Unit)
	}
	return int64(math.Round(mm)), nil
}

// String writes h as people and the command line write it: "120m",
// "1500ft", "FL50".
func (h Height) String() string {
	v := strconv.FormatFloat(h.Value, 'f', -1, 64)
	if h.Unit == UnitFlightLevel {
		return "FL" + v
	}
	return v + h.Unit
}

// ParseHeight reads a height as Height.String writes it, a unit
// optional (metres by default), in any case: "120", "120m", "1500ft",
// "FL50", "fl 50".
func ParseHeight(s string) (Height, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	unit := UnitMetres
	switch {
	case strings.HasPrefix(v, "fl"):
		unit, v = UnitFlightLevel, strings.TrimPrefix(v, "fl")
	case strings.HasSuffix(v, "ft"):
		unit, v = UnitFeet, strings.TrimSuffix(v, "ft")
	case strings.HasSuffix(v, "m"):
		v = strings.TrimSuffix(v, "m")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return Height{}, detente.Errorf(detente.EINVALID, "height %q: want e.g. 500, 500m, 1500ft or FL50", s)
	}
	return Height{Value: f, Unit: unit}, nil
}

// Band is an altitude band: the closed interval [Lower, Upper]. Two bands
// that touch (one's upper bound equals the other's lower bound) overlap:
// both activities may be at that height.
type Band struct {
	Lower Height `json:"lower"`
	Upper Height `json:"upper"`
}

// String writes b in the one notation detente uses everywhere (the
// command line's --alt, the console, conflict alerts): "0m..FL30",
// "500m..1500ft".
func (b Band) String() string { return b.Lower.String() + ".." + b.Upper.String() }

// ParseBand reads a band as Band.String writes it: "lower..upper", each
// bound as ParseHeight reads it, e.g. "0..FL50" or "500m..1500m".
func ParseBand(s string) (Band, error) {
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		return Band{}, detente.Errorf(detente.EINVALID, "altitude %q: want lower..upper, e.g. 0..FL50 or 500m..1500m", s)
	}
	l, err := ParseHeight(lo)
	if err != nil {
		return Band{}, err
	}
	u, err := ParseHeight(hi)
	if err != nil {
		return Band{}, err
	}
	return Band{Lower: l, Upper: u}, nil
}

// millimetres returns the band's bounds in millimetres.
func (b Band) millimetres() (lo, hi int64, err error) {
	if lo, err = b.Lower.Millimetres(); err != nil {
		return 0, 0, err
	}
	if hi, err = b.Upper.Millimetres(); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, detente.Errorf(detente.EINVALID, "altitude band: upper bound is below lower bound")
	}
	return lo, hi, nil
}

// Activity statuses.
const (
	ActivityActive    = "active"
	ActivityCancelled = "cancelled"
)

// Activity is a notice of planned activity, for deconfliction: what will
// happen where, at which altitudes, when. An amendment is the same ID with
// a higher Version; a cancellation is a version with Status
// ActivityCancelled.
type Activity struct {
	ID      string `json:"id"`      // "activity--<uuid>", stable across versions
	Version int    `json:"version"` // 1 for the first notice, then 2, 3, …
	Status  string `json:"status"`  // ActivityActive or ActivityCancelled
	Area    Area   `json:"area"`
	Band    Band   `json:"band"`
	// Start and End bound the half-open window [Start, End): an activity
	// ending at the instant another starts does not overlap it.
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Nature string    `json:"nature"` // free text, e.g. "UAV flights, counter-drone trials"
}

// Validate checks a, including its geometry.
func (a *Activity) Validate() error {
	_, err := a.compile()
	return err
}

// compiled is a validated activity ready for conflict checks.
type compiled struct {
	region *region
	lo, hi int64 // band in millimetres
}

func (a *Activity) compile() (*compiled, error) {
	switch {
	case !strings.HasPrefix(a.ID, "activity--") || len(a.ID) > 100 || !printable(a.ID):
		return nil, detente.Errorf(detente.EINVALID, "activity id %q must start with \"activity--\"", a.ID)
	case a.Version < 1:
		return nil, detente.Errorf(detente.EINVALID, "activity %s: version must be 1 or more", a.ID)
	case a.Status != ActivityActive && a.Status != ActivityCancelled:
		return nil, detente.Errorf(detente.EINVALID, "activity %s: status must be active or cancelled", a.ID)
	case a.Start.IsZero() || !a.End.After(a.Start):
		return nil, detente.Errorf(detente.EINVALID, "activity %s: the time window must end after it starts", a.ID)
	case strings.TrimSpace(a.Nature) == "" || len(a.Nature) > maxText:
		return nil, detente.Errorf(detente.EINVALID, "activity %s: the nature of the activity is required", a.ID)
	}
	lo, hi, err := a.Band.millimetres()
	if err != nil {
		return nil, wrapActivity(a.ID, err)
	}
	r, err := a.Area.compile()
	if err != nil {
		return nil, wrapActivity(a.ID, err)
	}
	return &compiled{region: r, lo: lo, hi: hi}, nil
}

// wrapActivity prefixes err's message with the activity id, keeping its code.
func wrapActivity(id string, err error) error {
	return detente.Errorf(detente.ErrorCode(err), "activity %s: %s", id, detente.ErrorMessage(err))
}
