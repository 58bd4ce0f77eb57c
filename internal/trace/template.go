package trace

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"detente/internal/stix"
)

// Mark is one position of an object's fingerprint: a [[…]] choice of
// wordings or a canary fact.
type Mark struct {
	Index  int    // position number within the object, in document order from 0
	Path   string // STIX selector of the string property, e.g. "external_references.[0].description"
	Offset int    // byte offset of the markup in the property's marked value
	Kind   Kind
	// Alternatives are the wordings of a KindWording mark, or the values a
	// time or number canary can take; symbol s of the code renders as
	// Alternatives[s]. Nil for a subdomain canary.
	Alternatives []string
	Domain       string // the declared domain of a subdomain canary
	Declared     string // a canary's declared value, as Strip shows it
}

// Symbols returns the size q of the mark's alphabet: the number of its
// alternatives, 0 for a subdomain canary (which is not a position of the
// code).
func (m *Mark) Symbols() int { return len(m.Alternatives) }

// Template is an object version with fingerprint markup, parsed and
// checked: what the local copy holds. It renders each recipient's variant
// (Scheme.Fingerprint) and is what a leak is compared with (Scheme.Trace).
// A Template is safe for concurrent use; it does not modify the object it
// was parsed from, which the caller must not modify either.
type Template struct {
	id, version string
	obj         map[string]any
	fields      []field
	marks       []Mark
	desc        []*descriptor // how each mark is recognised in a leak

	mu      sync.Mutex
	layouts map[layoutKey]*layout // per key and cutoff
}

// field is one string property that the variants change.
type field struct {
	path   string
	keys   []any // the path: string keys and int indices
	pieces []tpiece
}

// tpiece is literal text or a mark (index into Template.marks).
type tpiece struct {
	lit  string
	mark int // -1 for literal text
}

// Parse checks the fingerprint markup in every string property of obj,
// the decoded JSON of one version of a STIX object (id, version its id and
// version, e.g. its modified timestamp), and returns its template. It
// refuses markup in the properties that identify the object or must stay
// exact: id, type, spec_version, created, modified, pattern,
// pattern_type, pattern_version, every *_ref and *_refs, hashes,
// granular_markings and detente's own extension. Errors are *MarkupError
// values naming the property and the offset. An object without markup
// gives a template with no marks, whose variants are the object itself.
func Parse(obj map[string]any, id, version string) (*Template, error) {
	if id == "" || version == "" {
		return nil, &MarkupError{Offset: -1, Reason: "the object's id and version are needed"}
	}
	t := &Template{id: id, version: version, obj: obj}
	if err := t.walk(obj, nil); err != nil {
		return nil, err
	}
	t.desc = make([]*descriptor, len(t.marks))
	for _, f := range t.fields {
		for k, p := range f.pieces {
			if p.mark >= 0 {
				t.desc[p.mark] = newDescriptor(t, f.pieces, k)
			}
		}
	}
	return t, nil
}

// ID returns the object id the template was parsed with.
func (t *Template) ID() string { return t.id }

// Version returns the object version the template was parsed with.
func (t *Template) Version() string { return t.version }

// Marks returns the marks of the object, in order of Index.
func (t *Template) Marks() []Mark {
	out := slices.Clone(t.marks)
	for i := range out {
		out[i].Alternatives = slices.Clone(out[i].Alternatives)
	}
	return out
}

// forbiddenTop are top-level properties that never carry markup, and why.
var forbiddenTop = map[string]string{
	"id":              "the id names the object",
	"type":            "the type must stay exact",
	"spec_version":    "the STIX version must stay exact",
	"created":         "created identifies the object's versions",
	"modified":        "modified identifies the object's version",
	"pattern":         "a changed pattern changes the detection semantics",
	"pattern_type":    "a changed pattern changes the detection semantics",
	"pattern_version": "a changed pattern changes the detection semantics",
}

// forbiddenReason returns why the property at keys may not carry markup,
// or "".
func forbiddenReason(keys []any) string {
	if len(keys) == 1 {
		if r, ok := forbiddenTop[keys[0].(string)]; ok {
			return r
		}
	}
	for i, k := range keys {
		name, ok := k.(string)
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(name, "_ref") || strings.HasSuffix(name, "_refs"):
			return "a reference must name its object exactly"
		case name == "hashes":
			return "a hash must match its content"
		case name == "granular_markings":
			return "markings must stay exact"
		case name == stix.ExtensionID && i == 1 && keys[0] == "extensions":
			return "detente's own extension carries signatures and grading, not content"
		}
	}
	return ""
}

// selector returns the STIX selector of a path: keys joined by dots, list
// indices as [i].
func selector(keys []any) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('.')
		}
		switch k := k.(type) {
		case string:
			b.WriteString(k)
		case int:
			b.WriteString("[" + strconv.Itoa(k) + "]")
		}
	}
	return b.String()
}

// walk finds the string properties of v that variants change.
func (t *Template) walk(v any, keys []any) error {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if err := t.walk(v[k], append(keys[:len(keys):len(keys)], k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := t.walk(e, append(keys[:len(keys):len(keys)], i)); err != nil {
				return err
			}
		}
	case string:
		return t.addString(v, keys)
	}
	return nil
}

// addString parses one string property.
func (t *Template) addString(s string, keys []any) error {
	if !strings.Contains(s, openWording) && !strings.Contains(s, "{{") {
		return nil // nothing to parse, nothing to change
	}
	path := selector(keys)
	forbidden := forbiddenReason(keys)
	ps, err := parseMarkup(s)
	switch {
	case err != nil && forbidden != "":
		return nil // not markup, and left as it is: this value is never changed
	case err != nil:
		err.(*MarkupError).Path = path
		return err
	}
	f := field{path: path, keys: keys}
	marks := 0
	var plain strings.Builder
	for _, p := range ps {
		if p.mark == nil {
			f.pieces = append(f.pieces, tpiece{lit: p.lit, mark: -1})
			plain.WriteString(p.lit)
			continue
		}
		marks++
		m := Mark{Index: len(t.marks), Path: path, Offset: p.mark.offset, Kind: p.mark.kind, Alternatives: p.mark.alts}
		if c := p.mark.canary; c != nil {
			m.Domain, m.Declared = c.domain, c.declared
		}
		f.pieces = append(f.pieces, tpiece{mark: len(t.marks)})
		t.marks = append(t.marks, m)
	}
	switch {
	case marks > 0 && forbidden != "":
		return &MarkupError{Path: path, Offset: -1, Reason: "no markup allowed here: " + forbidden}
	case forbidden != "", marks == 0 && plain.String() == s:
		return nil // nothing to change; escapes are not resolved where markup is not allowed
	}
	t.fields = append(t.fields, f)
	return nil
}

// render returns the variant of the object in which mark i renders as
// value(i): a deep copy, so that the caller may change it (sign it, add
// extensions) without touching the template's object.
func (t *Template) render(value func(i int) string) map[string]any {
	out := deepCopy(t.obj).(map[string]any)
	var b strings.Builder
	for _, f := range t.fields {
		b.Reset()
		for _, p := range f.pieces {
			if p.mark < 0 {
				b.WriteString(p.lit)
			} else {
				b.WriteString(value(p.mark))
			}
		}
		set(out, f.keys, b.String())
	}
	return out
}

// deepCopy copies the maps and slices of decoded JSON; other values
// (strings, numbers, booleans, nil) are immutable and shared.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// set stores s at keys in root.
func set(root map[string]any, keys []any, s string) {
	var cur any = root
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k.(string)] = s
				return
			}
			cur = c[k.(string)]
		case []any:
			if last {
				c[k.(int)] = s
				return
			}
			cur = c[k.(int)]
		}
	}
}

// Strip returns the local copy's display form of the object: each [[…]]
// as its first wording and each canary as its declared value (the bare
// domain, the declared time or number). No recipient ever receives it: a
// time or number canary never renders as its declared value, and a
// subdomain canary always has a label.
func (t *Template) Strip() map[string]any {
	return t.render(func(i int) string {
		m := &t.marks[i]
		if m.Kind == KindWording {
			return m.Alternatives[0]
		}
		return m.Declared
	})
}

// sortedKeys returns the keys of m in byte order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// String describes the template for logs.
func (t *Template) String() string {
	return fmt.Sprintf("%s@%s (%d marks)", t.id, t.version, len(t.marks))
}
