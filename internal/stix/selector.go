package stix

import (
	"errors"
	"strconv"
	"strings"
)

// segment is one step of a granular-marking selector: a property or
// dictionary key, or a list index.
type segment struct {
	key   string
	index int
	isIdx bool
}

func (s segment) String() string {
	if s.isIdx {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return s.key
}

func joinSegments(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// parseSelector parses a STIX 2.1 selector (section 7.2.3.1): a top-level
// property name followed by ".key" or ".[index]" steps, e.g.
// "external_references.[0].url".
func parseSelector(s string) ([]segment, error) {
	if s == "" {
		return nil, errors.New("empty selector")
	}
	parts := strings.Split(s, ".")
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		if p == "" {
			return nil, errors.New("selector " + strconv.Quote(s) + " has an empty step")
		}
		if p[0] == '[' {
			if i == 0 || len(p) < 3 || p[len(p)-1] != ']' {
				return nil, errors.New("selector " + strconv.Quote(s) + " has a malformed list index " + strconv.Quote(p))
			}
			num := p[1 : len(p)-1]
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || (len(num) > 1 && num[0] == '0') || num[0] == '+' || num[0] == '-' {
				return nil, errors.New("selector " + strconv.Quote(s) + " has a malformed list index " + strconv.Quote(p))
			}
			segs = append(segs, segment{index: n, isIdx: true})
			continue
		}
		segs = append(segs, segment{key: p})
	}
	return segs, nil
}

// resolve returns the value a selector names in the tree v.
func resolve(v any, segs []segment) (any, bool) {
	for _, s := range segs {
		switch t := v.(type) {
		case map[string]any:
			if s.isIdx {
				return nil, false
			}
			e, ok := t[s.key]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			if !s.isIdx || s.index >= len(t) {
				return nil, false
			}
			v = t[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}
