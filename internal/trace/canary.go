package trace

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Canary facts are details the originator declares equivalent for the
// analysis, of which each recipient gets its own:
//
//	{{canary:subdomain:sinkhole.example.net}}
//
// renders as "<label>.sinkhole.example.net", where the label is ten
// characters of base32 (50 bits) from the keyed PRF of the mark's global
// position and the recipient: it differs for every recipient and every
// release, names its recipient exactly, and cannot be guessed by anyone
// without the node's secret. It is not a symbol of the code: a leak that
// carries it is traced to its recipient directly.
//
//	{{canary:time:2026-03-01T10:00:00Z~15m}}
//
// renders as one of 2m times t±k·(tol/m), k = 1…m, never t itself, in the
// declared timestamp's own format (same fractional digits, same zone
// form). The step tol/m is chosen to be a round number: the coarsest unit
// among hours, minutes, seconds and decimal fractions (no finer than the
// timestamp's precision) that divides tol, with m the largest divisor of
// tol/unit up to 8, preferring m ≥ 4: ~15m gives ±3, 6, 9, 12, 15 minutes
// (10 values), ~1h gives ±10…60 minutes (12 values), ~2s gives ±1, 2 s.
// The tolerance is a Go duration ("90s", "15m", "1h30m").
//
//	{{canary:number:1200~5%}}   {{canary:number:1200~60}}   {{canary:number:3.5~0.5}}
//
// renders as one of 2m numbers v±k·(tol/m) by the same rule over powers of
// ten, with as many decimals as the declared value (5% of 1200 is 60: ±10…
// ±60, 12 values). A tolerance in percent is rounded down to the value's
// precision. A non-negative value never gets a negative variant.
//
// Times and numbers are symbols of a q-ary position of the code (q = 2m ≤
// 16), drawn like any other position's: a leak that keeps one of them adds
// one position to the score, and each of them, unlike a wording, is found
// even in a paraphrase that keeps the exact value.
type canary struct {
	kind     Kind
	declared string   // the value as declared, without tolerance: what Strip shows
	domain   string   // subdomain canaries
	values   []string // time and number canaries: the renderings, in increasing order
}

// labelLen is the length of a subdomain canary's label, in base32
// characters of 5 bits.
const labelLen = 10

// maxHalf bounds m: a time or number canary has at most 2·maxHalf values.
const maxHalf = MaxAlternatives / 2

// parseCanary parses the body of {{canary:KIND:ARG}}.
func parseCanary(body string) (*canary, error) {
	kind, arg, ok := strings.Cut(body, ":")
	if !ok {
		return nil, errors.New("canary must be {{canary:KIND:VALUE}}")
	}
	switch Kind(kind) {
	case KindSubdomain:
		return parseSubdomain(arg)
	case KindTime:
		return parseTimeCanary(arg)
	case KindNumber:
		return parseNumberCanary(arg)
	}
	return nil, fmt.Errorf("unknown canary kind %q (want subdomain, time or number)", kind)
}

func parseSubdomain(d string) (*canary, error) {
	if len(d) > 253-labelLen-1 {
		return nil, fmt.Errorf("subdomain canary: domain %q is too long", d)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return nil, fmt.Errorf("subdomain canary: %q is not a domain name with at least two labels", d)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return nil, fmt.Errorf("subdomain canary: %q is not a valid domain name", d)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i] | 0x20; !(c >= 'a' && c <= 'z' || isDigit(l[i]) || l[i] == '-') {
				return nil, fmt.Errorf("subdomain canary: %q is not a valid domain name (letters, digits, hyphens and dots only)", d)
			}
		}
	}
	return &canary{kind: KindSubdomain, declared: d, domain: d}, nil
}

// halfCount returns m for a tolerance of n units: the largest divisor of n
// no greater than maxHalf.
func halfCount(n int64) int64 {
	for m := int64(maxHalf); m > 1; m-- {
		if n%m == 0 {
			return m
		}
	}
	return 1
}

// chooseStep picks the unit and m for a tolerance tol (in the smallest
// unit), given candidate units from the coarsest to the finest: the
// coarsest unit dividing tol with m ≥ 4, else the one with the largest m.
func chooseStep(tol int64, units []int64) (step, m int64, ok bool) {
	for _, u := range units {
		if u <= 0 || tol%u != 0 {
			continue
		}
		mm := halfCount(tol / u)
		if mm > m {
			step, m, ok = tol/mm, mm, true
		}
		if m >= 4 {
			break
		}
	}
	return step, m, ok
}

func parseTimeCanary(arg string) (*canary, error) {
	ts, tolText, ok := strings.Cut(arg, "~")
	if !ok {
		return nil, errors.New("time canary must be TIMESTAMP~TOLERANCE, e.g. 2026-03-01T10:00:00Z~15m")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, fmt.Errorf("time canary: %q is not an RFC 3339 timestamp", ts)
	}
	layout, digits, err := timeLayout(ts)
	if err != nil {
		return nil, err
	}
	if t.Format(layout) != ts {
		return nil, fmt.Errorf("time canary: %q is not in a form that can be reproduced (write it as %s)", ts, t.Format(layout))
	}
	tol, err := time.ParseDuration(tolText)
	if err != nil || tol <= 0 {
		return nil, fmt.Errorf("time canary: tolerance %q is not a positive duration such as 90s, 15m or 1h", tolText)
	}
	prec := int64(math.Pow10(9 - digits))
	units := []int64{int64(time.Hour), int64(time.Minute), int64(time.Second)}
	for u := int64(time.Second) / 10; u >= 1; u /= 10 {
		units = append(units, u)
	}
	units = unitsNoFiner(units, prec)
	step, m, ok := chooseStep(int64(tol), units)
	if !ok {
		return nil, fmt.Errorf("time canary: tolerance %s is not a whole multiple of the timestamp's precision", tol)
	}
	c := &canary{kind: KindTime, declared: ts}
	for k := -m; k <= m; k++ {
		if k != 0 {
			c.values = append(c.values, t.Add(time.Duration(k*step)).Format(layout))
		}
	}
	return c, nil
}

func unitsNoFiner(units []int64, prec int64) []int64 {
	var out []int64
	for _, u := range units {
		if u >= prec && u%prec == 0 {
			out = append(out, u)
		}
	}
	return out
}

// timeLayout returns the Go layout that reproduces the RFC 3339 timestamp
// ts and its number of fractional digits.
func timeLayout(ts string) (string, int, error) {
	const base = "2006-01-02T15:04:05"
	if len(ts) < len(base)+1 {
		return "", 0, fmt.Errorf("time canary: %q is not an RFC 3339 timestamp", ts)
	}
	rest := ts[len(base):]
	digits := 0
	if rest[0] == '.' {
		for digits+1 < len(rest) && isDigit(rest[digits+1]) {
			digits++
		}
		rest = rest[digits+1:]
	}
	if digits > 9 {
		return "", 0, fmt.Errorf("time canary: %q has more than 9 fractional digits", ts)
	}
	layout := base
	if digits > 0 {
		layout += "." + strings.Repeat("0", digits)
	}
	if rest == "Z" {
		layout += "Z07:00"
	} else {
		layout += "-07:00"
	}
	return layout, digits, nil
}

// maxNumberDigits bounds the significant digits of a number canary, so
// that every value is exact in an int64.
const maxNumberDigits = 15

func parseNumberCanary(arg string) (*canary, error) {
	vText, tolText, ok := strings.Cut(arg, "~")
	if !ok {
		return nil, errors.New("number canary must be VALUE~TOLERANCE, e.g. 1200~5% or 1200~50")
	}
	v, decimals, err := parseDecimal(vText, -1)
	if err != nil {
		return nil, fmt.Errorf("number canary: value %q: %v", vText, err)
	}
	var tol int64
	if pct, isPct := strings.CutSuffix(tolText, "%"); isPct {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || !(p > 0) || p > 1000 {
			return nil, fmt.Errorf("number canary: tolerance %q is not a positive percentage", tolText)
		}
		tol = int64(math.Floor(math.Abs(float64(v)) * p / 100))
	} else {
		tol, _, err = parseDecimal(tolText, decimals)
		if err != nil {
			return nil, fmt.Errorf("number canary: tolerance %q: %v", tolText, err)
		}
	}
	if tol <= 0 {
		return nil, fmt.Errorf("number canary: tolerance %q is below the value's precision", tolText)
	}
	var units []int64
	for u := int64(1); u <= tol && u < 1e17; u *= 10 {
		units = append([]int64{u}, units...)
	}
	step, m, _ := chooseStep(tol, units)
	if v >= 0 && v-m*step < 0 {
		return nil, fmt.Errorf("number canary: tolerance %q reaches below zero", tolText)
	}
	if len(strings.TrimLeft(strconv.FormatInt(max(abs(v-m*step), abs(v+m*step)), 10), "0")) > maxNumberDigits {
		return nil, fmt.Errorf("number canary: more than %d significant digits", maxNumberDigits)
	}
	c := &canary{kind: KindNumber, declared: vText}
	for k := -m; k <= m; k++ {
		if k != 0 {
			c.values = append(c.values, formatDecimal(v+k*step, decimals))
		}
	}
	return c, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// parseDecimal parses an optionally signed decimal number ("-12", "3.50")
// as an integer count of 10^-decimals. With want ≥ 0 the number may have at
// most want decimals and is scaled to exactly want.
func parseDecimal(s string, want int) (v int64, decimals int, err error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(digits, ".")
	if whole == "" || (hasPoint && frac == "") || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, 0, errors.New("not a decimal number")
	}
	if len(whole) > 1 && whole[0] == '0' {
		return 0, 0, errors.New("leading zeros cannot be reproduced")
	}
	decimals = len(frac)
	if want >= 0 {
		if decimals > want {
			return 0, 0, errors.New("more decimals than the value")
		}
		frac += strings.Repeat("0", want-decimals)
		decimals = want
	}
	if len(strings.TrimLeft(whole+frac, "0")) > maxNumberDigits {
		return 0, 0, fmt.Errorf("more than %d significant digits", maxNumberDigits)
	}
	v, err = strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, 0, errors.New("not a decimal number")
	}
	if neg {
		v = -v
	}
	return v, decimals, nil
}

// formatDecimal formats v·10^-decimals with exactly decimals decimals.
func formatDecimal(v int64, decimals int) string {
	s := strconv.FormatInt(abs(v), 10)
	if decimals > 0 {
		if len(s) <= decimals {
			s = strings.Repeat("0", decimals-len(s)+1) + s
		}
		s = s[:len(s)-decimals] + "." + s[len(s)-decimals:]
	}
	if v < 0 {
		s = "-" + s
	}
	return s
}
