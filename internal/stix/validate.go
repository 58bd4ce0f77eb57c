package stix

import (
	"encoding/json"
	"fmt"
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
