package stix

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// asInt returns v as an integer when it is a JSON number with no fraction.
func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// splitID splits a STIX identifier "<type>--<uuid>" and returns the type.
// The UUID must be an RFC 4122 UUID (versions 1-5, variant 10xx); hex
// digits may be upper case, as RFC 4122 makes them case-insensitive on
// input (an OASIS example uses them). Identifiers are nevertheless compared
// byte for byte everywhere in detente (docs/stix.md).
func splitID(id string) (string, bool) {
	const uuidLen = 36
	if len(id) < 3+2+uuidLen {
		return "", false
	}
	typ, sep, u := id[:len(id)-uuidLen-2], id[len(id)-uuidLen-2:len(id)-uuidLen], id[len(id)-uuidLen:]
	if sep != "--" || !validTypeName(typ) || !validUUID(u) {
		return "", false
	}
	return typ, true
}

func validUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	if u[14] < '1' || u[14] > '5' {
		return false
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

// validTypeName reports whether s is a valid STIX type name.
func validTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' || strings.Contains(s, "--") {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validPropertyName reports whether s is a valid STIX property name.
func validPropertyName(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validExtName reports whether s is a predefined-style extension name such
// as "archive-ext" or "x-acme-ext".
func validExtName(s string) bool {
	return strings.HasSuffix(s, "-ext") && validTypeName(s)
}

// The instants a store keeps exactly: Unix nanoseconds in an int64.
var (
	minStorable = time.Unix(0, math.MinInt64).UTC()
	maxStorable = time.Unix(0, math.MaxInt64).UTC()
)

// storable reports whether timestamp t, parsed from s, is kept exactly by
// the stores (Unix nanoseconds in an int64): within their range, and with
// no non-zero digit past the nanosecond.
func storable(t time.Time, s string) bool {
	if t.Before(minStorable) || t.After(maxStorable) {
		return false
	}
	if len(s) > 30 { // "2006-01-02T15:04:05." + 9 digits + "Z"
		for _, c := range s[29 : len(s)-1] {
			if c != '0' {
				return false
			}
		}
	}
	return true
}

// parseTimestamp parses a STIX timestamp: RFC 3339, UTC, with an upper-case
// T and Z, e.g. 2016-05-12T08:17:27.000Z. The fraction is optional; digits
// past nanoseconds are accepted and truncated. Leap seconds (:60) are
// rejected, as Go's time cannot represent them.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if len(s) > 20 {
		frac := s[20 : len(s)-1]
		if s[19] != '.' || len(frac) == 0 {
			return time.Time{}, false
		}
		scale := 100_000_000
		for _, c := range []byte(frac) {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int(c-'0') * scale
			scale /= 10
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // e.g. February 30th
		return time.Time{}, false
	}
	return t, true
}
