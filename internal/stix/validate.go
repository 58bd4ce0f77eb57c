package stix

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"detente"
)

// ValidationError says what is wrong with one object: its id (or its
// position in the bundle when it has no usable id), the property at fault in
// STIX selector syntax, and a message. It unwraps to a *detente.Error with
// code detente.EINVALID, so the API reports it as invalid input, and, for
// malformed JSON, to the *SyntaxError with the byte offset.
type ValidationError struct {
	ObjectID string // e.g. "indicator--…", "" when not known
	Property string // e.g. "pattern", "external_references.[0].url", "" for the whole object
	Message  string // what is wrong, lowercase
	cause    error
}

// Error implements the error interface: "indicator--…: pattern: required
// property missing".
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.ObjectID != "" {
		b.WriteString(e.ObjectID)
		b.WriteString(": ")
	}
	if e.Property != "" {
		b.WriteString(e.Property)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the *detente.Error (code EINVALID) carrying the same text,
// and the underlying cause when there is one.
func (e *ValidationError) Unwrap() []error {
	errs := []error{&detente.Error{Code: detente.EINVALID, Message: e.Error()}}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// checker validates one decoded object.
type checker struct {
	o       map[string]any
	id      string // for messages; may be a bundle position
	typ     string
	spec    *typeSpec
	cat     category
	custom  bool // a type declared by a new-sdo/new-sco/new-sro extension, or a legacy x- type
	topExt  bool // declares a toplevel-property-extension
	created time.Time
	mod     time.Time
	keys    []string // the object's keys in canonical order
}

func (c *checker) errf(prop, format string, args ...any) error {
	return &ValidationError{ObjectID: c.id, Property: prop, Message: fmt.Sprintf(format, args...)}
}

// validate checks o against STIX 2.1. label names the object in messages
// when it has no string id.
func validate(o map[string]any, label string) (*checker, error) {
	c := &checker{o: o, id: label}
	if id, ok := o["id"].(string); ok && id != "" {
		c.id = id
	}
	tv, ok := o["type"]
	if !ok {
		return nil, c.errf("type", "required property missing")
	}
	typ, ok := tv.(string)
	if !ok {
		return nil, c.errf("type", "must be a string")
	}
	if !validTypeName(typ) {
		return nil, c.errf("type", "%q is not a valid type name (3-250 characters a-z, 0-9 and '-', starting with a letter, no '--')", typ)
	}
	c.typ = typ
	idv, ok := o["id"]
	if !ok {
		return nil, c.errf("id", "required property missing")
	}
	id, ok := idv.(string)
	if !ok {
		return nil, c.errf("id", "must be a string")
	}
	prefix, ok := splitID(id)
	if !ok {
		return nil, c.errf("id", "%q is not a STIX identifier (want <type>--<RFC 4122 UUID>)", id)
	}
	if prefix != typ {
		return nil, c.errf("id", "prefix %q does not match type %q", prefix, typ)
	}
	if err := c.checkExtensions(); err != nil {
		return nil, err
	}
	if c.spec == nil {
		c.spec = types[typ]
	}
	if c.spec == nil && strings.HasPrefix(typ, "x-") {
		c.spec = legacyCustom(o)
		c.custom = true
	}
	if c.spec == nil {
		return nil, c.errf("type", "unknown type %q (a custom type must start with x- or declare an extension-definition with extension_type new-sdo, new-sco or new-sro in extensions)", typ)
	}
	c.cat = c.spec.cat

	common := commonSDO
	switch {
	case c.cat == catSCO:
		common = commonSCO
	case typ == "marking-definition":
		common = commonMarking
	}

	// spec_version.
	if sv, ok := o["spec_version"]; ok {
		if s, _ := sv.(string); s != "2.1" {
			return nil, c.errf("spec_version", "must be \"2.1\", got %s", show(sv))
		}
	} else if c.cat != catSCO {
		return nil, c.errf("spec_version", "required property missing")
	}

	// Every property: known shape, or a tolerated custom property.
	c.keys = sortedKeys(o)
	for _, k := range c.keys {
		v := o[k]
		kd, known := common[k]
		if !known {
			kd, known = c.spec.props[k]
		}
		if !known {
			if !validPropertyName(k) {
				return nil, c.errf(k, "invalid property name (3-250 characters a-z, 0-9 and '_')")
			}
			if !c.custom && !c.topExt && !strings.HasPrefix(k, "x_") {
				return nil, c.errf(k, "unknown property for type %s (custom properties need a toplevel-property-extension in extensions; the x_ prefix is tolerated)", typ)
			}
		}
		if err := c.checkKind(k, kd, v); err != nil {
			return nil, err
		}
	}

	// Required properties.
	if c.cat != catSCO {
		if _, ok := o["created"]; !ok {
			return nil, c.errf("created", "required property missing")
		}
		if typ != "marking-definition" {
			if _, ok := o["modified"]; !ok {
				return nil, c.errf("modified", "required property missing")
			}
		}
	}
	for _, p := range c.spec.required {
		if _, ok := o[p]; !ok {
			return nil, c.errf(p, "required property missing")
		}
	}
	if c.spec.needsProperty {
		n := 0
		for k := range o {
			if _, isCommon := commonSCO[k]; !isCommon {
				n++
			}
		}
		if n == 0 {
			return nil, c.errf("", "a %s must have at least one property besides the common ones", typ)
		}
	}

	// Timestamps and their order.
	if s, ok := o["created"].(string); ok {
		c.created, _ = parseTimestamp(s)
	}
	if s, ok := o["modified"].(string); ok {
		c.mod, _ = parseTimestamp(s)
		if c.mod.Before(c.created) {
			return nil, c.errf("modified", "%s is before created %s", s, o["created"])
		}
	}
	if err := c.notBefore("first_seen", "last_seen", false); err != nil {
		return nil, err
	}

	// References everywhere in the object.
	if err := c.walkRefs(); err != nil {
		return nil, err
	}
	if err := c.refType("created_by_ref", "identity"); err != nil {
		return nil, err
	}
	if refs, ok := o["object_marking_refs"].([]any); ok {
		for i, r := range refs {
			s := r.(string)
			if !strings.HasPrefix(s, "marking-definition--") {
				return nil, c.errf(fmt.Sprintf("object_marking_refs.[%d]", i), "%q is not a marking-definition id", s)
			}
			if s == id {
				return nil, c.errf(fmt.Sprintf("object_marking_refs.[%d]", i), "a marking-definition must not mark itself")
			}
		}
	}
	if c.spec.check != nil {
		if err := c.spec.check(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Legacy custom objects: the deprecated custom objects of STIX 2.1 section
// 11.1 (STIX 2.0 style), a type starting with x- and no extension-definition,
// as MISP's converter still writes them (x-misp-attribute, x-misp-object,
// x-misp-galaxy-cluster). One with created or modified is checked as an SDO
// (spec_version, created and modified required), one with neither as an SCO.
var (
	legacySDO = &typeSpec{cat: catSDO}
	legacySCO = &typeSpec{cat: catSCO}
)

// legacyCustom returns the spec of a legacy custom object.
func legacyCustom(o map[string]any) *typeSpec {
	_, created := o["created"]
	_, modified := o["modified"]
	if created || modified {
		return legacySDO
	}
	return legacySCO
}

// show renders a JSON value briefly for an error message.
func show(v any) string {
	b, err := appendCanonical(nil, v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// checkExtensions validates the extensions dictionary and records what it
// declares: a custom type, a toplevel-property-extension.
func (c *checker) checkExtensions() error {
	v, ok := c.o["extensions"]
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return c.errf("extensions", "must be a dictionary")
	}
	if len(m) == 0 {
		return c.errf("extensions", "must not be empty")
	}
	for _, k := range sortedKeys(m) {
		path := "extensions." + k
		ev, ok := m[k].(map[string]any)
		if !ok {
			return c.errf(path, "must be a dictionary")
		}
		if len(ev) == 0 {
			return c.errf(path, "must not be empty")
		}
		if !strings.HasPrefix(k, "extension-definition--") {
			if !validExtName(k) {
				return c.errf(path, "key is neither an extension-definition id nor a predefined extension name ending in -ext")
			}
			continue
		}
		if p, ok := splitID(k); !ok || p != "extension-definition" {
			return c.errf(path, "key is not a valid extension-definition id")
		}
		etv, ok := ev["extension_type"]
		if !ok {
			return c.errf(path+".extension_type", "required property missing")
		}
		et, _ := etv.(string)
		switch et {
		case "new-sdo", "new-sco", "new-sro":
			if _, known := types[c.typ]; !known {
				cat := map[string]category{"new-sdo": catSDO, "new-sco": catSCO, "new-sro": catSRO}[et]
				if c.spec != nil && c.spec.cat != cat {
					return c.errf(path+".extension_type", "conflicts with another new-object extension")
				}
				c.custom = true
				c.spec = &typeSpec{cat: cat}
			}
		case "toplevel-property-extension":
			c.topExt = true
		case "property-extension":
		default:
			return c.errf(path+".extension_type", "must be one of new-sdo, new-sco, new-sro, property-extension, toplevel-property-extension, got %s", show(etv))
		}
		var err error
		switch k {
		case ExtensionID:
			err = c.checkDetenteExt(path, ev)
		case detente.CaveatExtensionID:
			err = c.checkCaveatExt(path, ev)
		case detente.TLP2ExtensionID:
			err = c.checkTLP2Ext(path, ev)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// at returns the selector of element i of the list at path. Callers build
// paths only on the error path, so that validation does not allocate.
func at(path string, i int) string { return path + ".[" + strconv.Itoa(i) + "]" }

// checkKind checks the shape of one property value.
func (c *checker) checkKind(path string, k kind, v any) error {
	switch k {
	case kString:
		if _, ok := v.(string); !ok {
			return c.errf(path, "must be a string, got %s", show(v))
		}
	case kStrings:
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return c.errf(path, "must be a non-empty list of strings, got %s", show(v))
		}
		for i, e := range a {
			if _, ok := e.(string); !ok {
				return c.errf(at(path, i), "must be a string, got %s", show(e))
			}
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return c.errf(path, "must be a boolean, got %s", show(v))
		}
	case kInt:
		n, ok := asInt(v)
		if !ok {
			return c.errf(path, "must be an integer, got %s", show(v))
		}
		if path == "confidence" && (n < 0 || n > 100) {
			return c.errf(path, "must be between 0 and 100, got %d", n)
		}
	case kNumber:
		if _, ok := v.(json.Number); !ok {
			return c.errf(path, "must be a number, got %s", show(v))
		}
	case kTimestamp:
		s, ok := v.(string)
		if !ok {
			return c.errf(path, "must be a timestamp string, got %s", show(v))
		}
		if ts, ok := parseTimestamp(s); !ok {
			return c.errf(path, "%q is not an RFC 3339 timestamp in UTC ending in Z, e.g. 2016-05-12T08:17:27.000Z", s)
		} else if !storable(ts, s) {
			return c.errf(path, "%q cannot be stored exactly: timestamps must lie between %s and %s, to the nanosecond at most",
				s, minStorable.Format(time.RFC3339), maxStorable.Format(time.RFC3339))
		}
	case kRef:
		s, ok := v.(string)
		if !ok {
			return c.errf(path, "must be an identifier string, got %s", show(v))
		}
		if _, ok := splitID(s); !ok {
			return c.errf(path, "%q is not a STIX identifier (want <type>--<RFC 4122 UUID>)", s)
		}
	case kRefs:
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return c.errf(path, "must be a non-empty list of identifiers, got %s", show(v))
		}
		for i, e := range a {
			s, ok := e.(string)
			if !ok {
				return c.errf(at(path, i), "must be an identifier string, got %s", show(e))
			}
			if _, ok := splitID(s); !ok {
				return c.errf(at(path, i), "%q is not a STIX identifier (want <type>--<RFC 4122 UUID>)", s)
			}
		}
	case kDict:
		if _, ok := v.(map[string]any); !ok {
			return c.errf(path, "must be a dictionary, got %s", show(v))
		}
	case kDicts:
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return c.errf(path, "must be a non-empty list of dictionaries, got %s", show(v))
		}
		for i, e := range a {
			if _, ok := e.(map[string]any); !ok {
				return c.errf(at(path, i), "must be a dictionary, got %s", show(e))
			}
		}
	case kHashes:
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return c.errf(path, "must be a non-empty dictionary of hash values, got %s", show(v))
		}
		for h, hv := range m {
			if _, ok := hv.(string); !ok {
				return c.errf(path+"."+h, "must be a string, got %s", show(hv))
			}
		}
	case kKillChain:
		if err := c.checkKind(path, kDicts, v); err != nil {
			return err
		}
		for i, e := range v.([]any) {
			p := e.(map[string]any)
			for _, f := range [...]string{"kill_chain_name", "phase_name"} {
				if s, ok := p[f].(string); !ok || s == "" {
					return c.errf(at(path, i)+"."+f, "required non-empty string missing")
				}
			}
		}
	case kExtRefs:
		if err := c.checkKind(path, kDicts, v); err != nil {
			return err
		}
		for i, e := range v.([]any) {
			r := e.(map[string]any)
			if _, ok := r["source_name"]; !ok {
				return c.errf(at(path, i)+".source_name", "required property missing")
			}
			for _, f := range [...]string{"source_name", "description", "url", "external_id"} {
				if fv, ok := r[f]; ok {
					if _, isStr := fv.(string); !isStr {
						return c.errf(at(path, i)+"."+f, "must be a string, got %s", show(fv))
					}
				}
			}
			if h, ok := r["hashes"]; ok {
				if err := c.checkKind(at(path, i)+".hashes", kHashes, h); err != nil {
					return err
				}
			}
			_, d := r["description"]
			_, u := r["url"]
			_, x := r["external_id"]
			if !d && !u && !x {
				return c.errf(at(path, i), "needs at least one of description, url or external_id besides source_name")
			}
		}
	case kGranular:
		if err := c.checkKind(path, kDicts, v); err != nil {
			return err
		}
		for i, e := range v.([]any) {
			if err := c.checkGranular(path, i, e.(map[string]any)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) checkGranular(path string, i int, g map[string]any) error {
	p := path + ".[" + strconv.Itoa(i) + "]" // only used on errors; cheap next to the selectors
	sv, ok := g["selectors"]
	if !ok {
		return c.errf(p+".selectors", "required property missing")
	}
	if err := c.checkKind(p+".selectors", kStrings, sv); err != nil {
		return err
	}
	for j, s := range sv.([]any) {
		sel := s.(string)
		segs, err := parseSelector(sel)
		if err != nil {
			return c.errf(at(p+".selectors", j), "%v", err)
		}
		if _, ok := resolve(c.o, segs); !ok {
			return c.errf(at(p+".selectors", j), "selector %q names nothing in the object", sel)
		}
	}
	mr, hasRef := g["marking_ref"]
	lang, hasLang := g["lang"]
	switch {
	case hasRef && hasLang:
		return c.errf(p, "must have marking_ref or lang, not both")
	case hasRef:
		s, ok := mr.(string)
		if t, isID := splitID(s); !ok || !isID || t != "marking-definition" {
			return c.errf(p+".marking_ref", "must be a marking-definition id, got %s", show(mr))
		}
	case hasLang:
		if _, ok := lang.(string); !ok {
			return c.errf(p+".lang", "must be a string, got %s", show(lang))
		}
	default:
		return c.errf(p, "must have marking_ref or lang")
	}
	for k := range g {
		switch k {
		case "selectors", "marking_ref", "lang":
		default:
			return c.errf(p+"."+k, "unknown property of a granular marking")
		}
	}
	return nil
}

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

func checkIndicator(c *checker) error {
	if p, ok := c.o["pattern"].(string); ok && c.o["pattern_type"] == "stix" {
		if err := checkPattern(p); err != nil {
			return c.errf("pattern", "offset %d: %s", err.Offset, err.Message)
		}
	}
	return c.notBefore("valid_from", "valid_until", true)
}

func checkLocation(c *checker) error {
	lat, long := c.has("latitude"), c.has("longitude")
	if lat != long {
		return c.errf("latitude", "latitude and longitude must be given together")
	}
	if !c.has("region") && !c.has("country") && !lat {
		return c.errf("", "a location needs region, country, or latitude and longitude")
	}
	if c.has("precision") && !lat {
		return c.errf("precision", "needs latitude and longitude")
	}
	for prop, lim := range map[string]float64{"latitude": 90, "longitude": 180} {
		if n, ok := c.o[prop].(json.Number); ok {
			if f, err := n.Float64(); err != nil || f < -lim || f > lim {
				return c.errf(prop, "must be between %v and %v, got %s", -lim, lim, n)
			}
		}
	}
	return nil
}

func checkMalware(c *checker) error {
	if c.o["is_family"] == true && !c.has("name") {
		return c.errf("name", "required property missing (is_family is true)")
	}
	return nil
}

func checkMalwareAnalysis(c *checker) error {
	if !c.has("result") && !c.has("analysis_sco_refs") {
		return c.errf("result", "a malware-analysis needs result or analysis_sco_refs")
	}
	return c.notBefore("analysis_started", "analysis_ended", false)
}

func checkObservedData(c *checker) error {
	if err := c.intRange("number_observed", 1, 999_999_999); err != nil {
		return err
	}
	if err := c.notBefore("first_observed", "last_observed", false); err != nil {
		return err
	}
	switch o, r := c.has("objects"), c.has("object_refs"); {
	case o && r:
		return c.errf("objects", "must not be present together with object_refs")
	case !o && !r:
		return c.errf("object_refs", "required property missing")
	}
	return nil
}

func checkOpinion(c *checker) error {
	switch c.o["opinion"] {
	case "strongly-disagree", "disagree", "neutral", "agree", "strongly-agree":
		return nil
	}
	return c.errf("opinion", "must be one of strongly-disagree, disagree, neutral, agree, strongly-agree, got %s", show(c.o["opinion"]))
}

// notSDOorSCO lists the types a relationship or sighting may not point at.
var notSDOorSCO = map[string]bool{
	"relationship": true, "sighting": true, "marking-definition": true, "bundle": true,
	"language-content": true, "extension-definition": true,
}

func checkRelationship(c *checker) error {
	for _, p := range []string{"source_ref", "target_ref"} {
		s := c.o[p].(string)
		if t, _ := splitID(s); notSDOorSCO[t] {
			return c.errf(p, "must reference an SDO or SCO, got %q", s)
		}
	}
	return c.notBefore("start_time", "stop_time", true)
}

func checkSighting(c *checker) error {
	s := c.o["sighting_of_ref"].(string)
	if t, _ := splitID(s); notSDOorSCO[t] || scoTypes[t] {
		return c.errf("sighting_of_ref", "must reference an SDO, got %q", s)
	}
	if err := c.refsType("observed_data_refs", "observed-data"); err != nil {
		return err
	}
	if err := c.refsType("where_sighted_refs", "identity", "location"); err != nil {
		return err
	}
	return c.intRange("count", 0, 999_999_999)
}

func checkArtifact(c *checker) error {
	p, u := c.has("payload_bin"), c.has("url")
	switch {
	case p && u:
		return c.errf("url", "must not be present together with payload_bin")
	case !p && !u:
		return c.errf("payload_bin", "an artifact needs payload_bin or url")
	case u && !c.has("hashes"):
		return c.errf("hashes", "required property missing (url is present)")
	}
	return nil
}

func checkFile(c *checker) error {
	if !c.has("hashes") && !c.has("name") {
		return c.errf("name", "a file needs hashes or name")
	}
	return nil
}

func checkNetworkTraffic(c *checker) error {
	if !c.has("src_ref") && !c.has("dst_ref") {
		return c.errf("src_ref", "a network-traffic needs src_ref or dst_ref")
	}
	return nil
}

// tlp1Colour maps TLP 1.0 definition colours to their fixed ids.
var tlp1Colour = map[string]string{
	"white": detente.MarkingTLP1White, "green": detente.MarkingTLP1Green,
	"amber": detente.MarkingTLP1Amber, "red": detente.MarkingTLP1Red,
}

// tlp2Level maps tlp_2_0 values to their fixed ids.
var tlp2Level = map[string]string{
	"clear": detente.MarkingClear, "green": detente.MarkingGreen, "amber": detente.MarkingAmber,
	"amber+strict": detente.MarkingAmberStrict, "red": detente.MarkingRed,
}

func checkMarkingDefinition(c *checker) error {
	dt, hasType := c.o["definition_type"]
	def, hasDef := c.o["definition"]
	if !c.has("extensions") {
		if !hasType {
			return c.errf("definition_type", "required property missing (no extensions)")
		}
		if !hasDef {
			return c.errf("definition", "required property missing (no extensions)")
		}
	}
	if hasType != hasDef {
		return c.errf("definition", "definition and definition_type must be given together")
	}
	if !hasType {
		return nil
	}
	d := def.(map[string]any)
	switch dt {
	case "tlp":
		colour, _ := d["tlp"].(string)
		want, ok := tlp1Colour[colour]
		if !ok {
			return c.errf("definition.tlp", "must be one of white, green, amber, red, got %s", show(d["tlp"]))
		}
		if c.o["id"] != want {
			return c.errf("id", "a TLP %s marking must have the fixed id %s", colour, want)
		}
	case "statement":
		if _, ok := d["statement"].(string); !ok {
			return c.errf("definition.statement", "required string missing")
		}
	}
	return nil
}

func checkExtensionDefinition(c *checker) error {
	top := false
	for i, e := range c.o["extension_types"].([]any) {
		switch e {
		case "new-sdo", "new-sco", "new-sro", "property-extension":
		case "toplevel-property-extension":
			top = true
		default:
			return c.errf(fmt.Sprintf("extension_types.[%d]", i), "must be one of new-sdo, new-sco, new-sro, property-extension, toplevel-property-extension, got %s", show(e))
		}
	}
	if c.has("extension_properties") && !top {
		return c.errf("extension_properties", "only allowed with a toplevel-property-extension")
	}
	return c.refType("created_by_ref", "identity")
}

// checkTLP2Ext validates the OASIS TLP 2.0 property extension.
func (c *checker) checkTLP2Ext(path string, ev map[string]any) error {
	if c.typ != "marking-definition" {
		return c.errf(path, "the TLP 2.0 extension belongs on marking-definitions only")
	}
	level, _ := ev["tlp_2_0"].(string)
	want, ok := tlp2Level[level]
	if !ok {
		return c.errf(path+".tlp_2_0", "must be one of clear, green, amber, amber+strict, red, got %s", show(ev["tlp_2_0"]))
	}
	if c.o["id"] != want {
		return c.errf("id", "a TLP 2.0 %s marking must have the fixed id %s", level, want)
	}
	return nil
}

// checkCaveatExt validates a detente handling-caveat extension. The
// recipients of a releasable-to caveat are in "recipients"; the two-letter
// "to" is accepted as an alias on input but never written, because STIX
// property names have at least three characters.
func (c *checker) checkCaveatExt(path string, ev map[string]any) error {
	if c.typ != "marking-definition" {
		return c.errf(path, "the detente caveat extension belongs on marking-definitions only")
	}
	if ev["extension_type"] != "property-extension" {
		return c.errf(path+".extension_type", "must be property-extension")
	}
	for k := range ev {
		switch k {
		case "extension_type", "caveat", "recipients", "to", "purpose":
		default:
			return c.errf(path+"."+k, "unknown property of the detente caveat extension")
		}
	}
	recipients := "recipients"
	if _, ok := ev["to"]; ok {
		if _, both := ev["recipients"]; both {
			return c.errf(path+".to", "must not be given together with recipients")
		}
		recipients = "to"
	}
	if to, ok := ev[recipients]; ok {
		if err := c.checkKind(path+"."+recipients, kStrings, to); err != nil {
			return err
		}
	}
	if p, ok := ev["purpose"]; ok {
		if s, _ := p.(string); s == "" {
			return c.errf(path+".purpose", "must be a non-empty string")
		}
	}
	switch kind, _ := ev["caveat"].(string); kind {
	case detente.CaveatThirdPartyRule:
	case detente.CaveatReleasableTo:
		if ev[recipients] == nil {
			return c.errf(path+".recipients", "required for a releasable-to caveat")
		}
	case detente.CaveatPurpose:
		if ev["purpose"] == nil {
			return c.errf(path+".purpose", "required for a purpose caveat")
		}
	default:
		return c.errf(path+".caveat", "must be one of third-party-rule, releasable-to, purpose, got %s", show(ev["caveat"]))
	}
	return nil
}

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
