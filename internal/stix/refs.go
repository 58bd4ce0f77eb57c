package stix

import (
	"fmt"
	"strings"
)

// walkRefs checks that every *_ref property anywhere in the object is an
// identifier and every *_refs property a non-empty list of them.
func (c *checker) walkRefs() error {
	w := refWalker{skipObjects: c.typ == "observed-data", topKeys: c.keys}
	return w.walk(c.o, func(path, id string, ok bool, v any) error {
		if !ok {
			if strings.HasSuffix(path, "_refs") {
				return c.errf(path, "must be a non-empty list of identifiers, got %s", show(v))
			}
			return c.errf(path, "must be an identifier string, got %s", show(v))
		}
		if _, valid := splitID(id); !valid {
			return c.errf(path, "%q is not a STIX identifier (want <type>--<RFC 4122 UUID>)", id)
		}
		return nil
	})
}

// walkRefs calls fn for every reference in o in canonical key order: path is
// the property holding it (selector syntax), id the value. For a malformed
// value fn gets ok=false and the value. The deprecated observed-data
// "objects" dictionary, whose references are local keys, is skipped.
func walkRefs(o map[string]any, typ string, fn func(path, id string, ok bool, v any) error) error {
	w := refWalker{skipObjects: typ == "observed-data"}
	return w.walk(o, fn)
}

type refWalker struct {
	fn          func(path, id string, ok bool, v any) error
	skipObjects bool
	topKeys     []string  // the top-level keys in canonical order, when known
	stack       []segment // the path so far, joined only when a reference is found
}

func (w *refWalker) walk(o map[string]any, fn func(path, id string, ok bool, v any) error) error {
	w.fn = fn
	return w.walkMap(o, 0)
}

func (w *refWalker) path(k string) string {
	if len(w.stack) == 0 {
		return k
	}
	return joinSegments(w.stack) + "." + k
}

// interesting reports whether a map holds a reference or a container that
// might, so that maps of plain values are neither sorted nor descended.
func interesting(m map[string]any) bool {
	for k, v := range m {
		if strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") {
			return true
		}
		switch v.(type) {
		case map[string]any, []any:
			return true
		}
	}
	return false
}

func (w *refWalker) walkMap(m map[string]any, depth int) error {
	if !interesting(m) {
		return nil
	}
	var buf [24]string
	keys := w.topKeys
	if depth > 0 || keys == nil {
		keys = appendSortedKeys(buf[:0], m)
	}
	for _, k := range keys {
		if depth == 0 && k == "objects" && w.skipObjects {
			continue
		}
		e := m[k]
		switch {
		case strings.HasSuffix(k, "_ref"):
			s, ok := e.(string)
			if err := w.fn(w.path(k), s, ok, e); err != nil {
				return err
			}
		case strings.HasSuffix(k, "_refs"):
			a, ok := e.([]any)
			if !ok || len(a) == 0 {
				if err := w.fn(w.path(k), "", false, e); err != nil {
					return err
				}
				continue
			}
			p := w.path(k)
			for _, x := range a {
				s, ok := x.(string)
				if err := w.fn(p, s, ok, e); err != nil {
					return err
				}
			}
		default:
			if err := w.walkValue(e, segment{key: k}, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *refWalker) walkValue(v any, seg segment, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		w.stack = append(w.stack, seg)
		err := w.walkMap(v, depth+1)
		w.stack = w.stack[:len(w.stack)-1]
		return err
	case []any:
		w.stack = append(w.stack, seg)
		defer func() { w.stack = w.stack[:len(w.stack)-1] }()
		for i, e := range v {
			if err := w.walkValue(e, segment{index: i, isIdx: true}, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// refType checks that the reference in property prop, if present, names an
// object of one of the given types.
func (c *checker) refType(prop string, want ...string) error {
	s, ok := c.o[prop].(string)
	if !ok {
		return nil
	}
	p, _ := splitID(s)
	for _, w := range want {
		if p == w {
			return nil
		}
	}
	return c.errf(prop, "must reference a %s, got %q", strings.Join(want, " or "), s)
}

// refsType is refType for a list property.
func (c *checker) refsType(prop string, want ...string) error {
	a, _ := c.o[prop].([]any)
	for i, r := range a {
		s := r.(string)
		p, _ := splitID(s)
		okType := false
		for _, w := range want {
			okType = okType || p == w
		}
		if !okType {
			return c.errf(fmt.Sprintf("%s.[%d]", prop, i), "must reference a %s, got %q", strings.Join(want, " or "), s)
		}
	}
	return nil
}

// notBefore checks that timestamp property later is not before (or, with
// strict, is after) timestamp property earlier, when both are present.
func (c *checker) notBefore(earlier, later string, strict bool) error {
	es, ok1 := c.o[earlier].(string)
	ls, ok2 := c.o[later].(string)
	if !ok1 || !ok2 {
		return nil
	}
	e, _ := parseTimestamp(es)
	l, _ := parseTimestamp(ls)
	if l.Before(e) || (strict && l.Equal(e)) {
		rel := "before"
		if strict {
			rel = "not after"
		}
		return c.errf(later, "%s is %s %s %s", ls, rel, earlier, es)
	}
	return nil
}

func (c *checker) intRange(prop string, lo, hi int64) error {
	v, ok := c.o[prop]
	if !ok {
		return nil
	}
	n, _ := asInt(v)
	if n < lo || n > hi {
		return c.errf(prop, "must be between %d and %d, got %d", lo, hi, n)
	}
	return nil
}

func (c *checker) has(prop string) bool { _, ok := c.o[prop]; return ok }
