package stix

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"detente"
)

// Object is one validated STIX 2.1 object.
type Object struct {
	ID          string    // e.g. "indicator--…", in detente.NormalID form
	Type        string    // the id's prefix
	SpecVersion string    // "2.1" (also for SCOs that leave it out)
	Created     time.Time // zero for SCOs
	Modified    time.Time // zero for SCOs and marking-definitions

	// Fields is the whole object as decoded JSON: map[string]any, []any,
	// string, bool, nil and json.Number (in RFC 8785 form). Treat it as
	// read-only: Raw is not recomputed from it.
	Fields map[string]any

	// Raw is the RFC 8785 canonical JSON of the object.
	Raw []byte
}

// Version returns the version timestamp: modified, else created, else the
// zero time (SCOs).
func (o *Object) Version() time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	return o.Created
}

// Refs returns every reference the object makes, in canonical key order,
// ids in detente.NormalID form:
// each *_ref and each element of each *_refs property anywhere in the object,
// nested extensions included. Path is the selector of the property holding
// the reference ("created_by_ref", "object_refs",
// "extensions.extension-definition--….sample_ref",
// "body_multipart.[0].body_raw_ref"). Marking references
// (object_marking_refs and granular markings' marking_ref) are left out:
// Markings and Granular return them.
func (o *Object) Refs() []detente.Ref {
	var refs []detente.Ref
	_ = walkRefs(o.Fields, o.Type, func(path, id string, ok bool, _ any) error {
		if !ok || isMarkingPath(path) {
			return nil
		}
		refs = append(refs, detente.Ref{Path: path, ID: detente.NormalID(id)})
		return nil
	})
	return refs
}

func isMarkingPath(path string) bool {
	return path == "object_marking_refs" || strings.HasSuffix(path, ".object_marking_refs") ||
		strings.HasPrefix(path, "granular_markings.")
}

// Markings returns the object_marking_refs, in detente.NormalID form.
func (o *Object) Markings() []string {
	a, _ := o.Fields["object_marking_refs"].([]any)
	out := make([]string, 0, len(a))
	for _, r := range a {
		out = append(out, detente.NormalID(r.(string)))
	}
	return out
}

// Granular returns the granular markings, marking ids in detente.NormalID
// form.
func (o *Object) Granular() []detente.GranularMarking {
	a, _ := o.Fields["granular_markings"].([]any)
	if len(a) == 0 {
		return nil
	}
	out := make([]detente.GranularMarking, 0, len(a))
	for _, e := range a {
		g := e.(map[string]any)
		gm := detente.GranularMarking{}
		gm.Marking, _ = g["marking_ref"].(string)
		gm.Marking = detente.NormalID(gm.Marking)
		gm.Lang, _ = g["lang"].(string)
		for _, s := range g["selectors"].([]any) {
			gm.Selectors = append(gm.Selectors, s.(string))
		}
		out = append(out, gm)
	}
	return out
}

// detenteExt returns the object's detente extension, or nil.
func (o *Object) detenteExt() map[string]any {
	return detenteExtOf(o.Fields)
}

func detenteExtOf(m map[string]any) map[string]any {
	exts, _ := m["extensions"].(map[string]any)
	ext, _ := exts[ExtensionID].(map[string]any)
	return ext
}

// Grading returns the Admiralty grading carried by the detente extension,
// or the zero Grading.
func (o *Object) Grading() detente.Grading {
	s, _ := o.detenteExt()["grading"].(string)
	g, _ := detente.ParseGrading(s)
	return g
}

// ToVersion returns the object as the node stores it. Signer and Signature
// are copied from the detente extension without being checked: call Verify
// first. Originator, Received, Quarantine and Seq are left for the caller.
func (o *Object) ToVersion() *detente.ObjectVersion {
	v := &detente.ObjectVersion{
		ID:          o.ID,
		Type:        o.Type,
		SpecVersion: o.SpecVersion,
		Created:     o.Created,
		Modified:    o.Version(),
		Markings:    o.Markings(),
		Granular:    o.Granular(),
		Refs:        o.Refs(),
		Grading:     o.Grading(),
		Raw:         o.Raw,
	}
	if ext := o.detenteExt(); ext != nil {
		if s, ok := ext["signer"].(string); ok {
			v.Signer, _ = detente.ParsePublicKey(s)
		}
		if s, ok := ext["signature"].(string); ok {
			v.Signature, _ = base64.StdEncoding.DecodeString(s)
		}
		if r, ok := o.RelayOf(); ok {
			v.Origin = r.Origin
		}
	}
	return v
}

// newObject validates a decoded object and builds the Object.
func newObject(m map[string]any, label string) (*Object, error) {
	c, err := validate(m, label)
	if err != nil {
		return nil, err
	}
	raw, err := appendCanonicalKeys(make([]byte, 0, 1024), m, c.keys)
	if err != nil {
		return nil, fmt.Errorf("canonicalize %s: %w", c.id, err)
	}
	sv, _ := m["spec_version"].(string)
	if sv == "" {
		sv = "2.1"
	}
	return &Object{
		ID: detente.NormalID(c.id), Type: c.typ, SpecVersion: sv,
		Created: c.created, Modified: c.mod,
		Fields: m, Raw: raw,
	}, nil
}

// Amend returns a copy of o with the top-level properties in set replaced,
// or removed where the value is nil, validated and canonicalised again; o is
// not changed. Values may be any Go values that encoding/json marshals;
// they are stored as decoded JSON, as in Fields. id and type cannot be
// amended. Amending a signed object invalidates its signature: Sign it
// again, or remove the signature first.
func (o *Object) Amend(set map[string]any) (*Object, error) {
	m := maps.Clone(o.Fields)
	for k, v := range set {
		if k == "id" || k == "type" {
			return nil, fmt.Errorf("amend %s: %s cannot be changed", o.ID, k)
		}
		if v == nil {
			delete(m, k)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("amend %s: %s: %w", o.ID, k, err)
		}
		if m[k], err = decodeJSON(b); err != nil {
			return nil, fmt.Errorf("amend %s: %s: %w", o.ID, k, err)
		}
	}
	return newObject(m, "")
}

// syntaxErr turns a decoding error into a *ValidationError.
func syntaxErr(err error) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return &ValidationError{Message: se.Error(), cause: se}
	}
	return &ValidationError{Message: err.Error(), cause: err}
}

// ParseObject parses and validates one STIX object (not a bundle).
func ParseObject(data []byte) (*Object, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, syntaxErr(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &ValidationError{Message: "a STIX object must be a JSON object"}
	}
	if m["type"] == "bundle" {
		return nil, &ValidationError{Property: "type", Message: "want one STIX object, got a bundle"}
	}
	return newObject(m, "")
}

// ParseBundle parses either one STIX object or a bundle of them and
// validates every object. It is atomic: if any object is invalid it returns
// the first error and no objects. Errors are *ValidationError values naming
// the object and property (see its documentation).
//
// Within a bundle, two versions of one id with the same version timestamp
// (modified, else created; SCOs have none) must have the same canonical
// content: a difference is an error, an exact repeat is dropped.
func ParseBundle(data []byte) ([]*Object, error) {
	objs, bad := parseBundle(data, false)
	if len(bad) > 0 {
		return nil, bad[0].Err
	}
	return objs, nil
}

// ObjectError is an object ParseBundlePartial left out: its position in the
// bundle's objects (-1 when the whole document is at fault: malformed JSON,
// not a bundle, an invalid bundle id), its id when it has a usable one, and
// why (a *ValidationError).
type ObjectError struct {
	Index int
	ID    string
	Err   error
}

// Error implements the error interface: the validation error's text, which
// names the object.
func (e ObjectError) Error() string { return e.Err.Error() }

// Unwrap returns the validation error.
func (e ObjectError) Unwrap() error { return e.Err }

// ParseBundlePartial is ParseBundle without atomicity, for callers that
// store what is valid and report the rest: objs holds every valid object in
// bundle order, bad every other one with its index, id and error. The rules
// are ParseBundle's; of two versions of one id with the same version
// timestamp and different content the first is kept and the second is bad.
// A document that cannot be read at all (malformed JSON, not a bundle or
// an object, an invalid bundle id or property) yields no objects and one
// ObjectError with Index -1.
func ParseBundlePartial(data []byte) (objs []*Object, bad []ObjectError) {
	return parseBundle(data, true)
}

// parseBundle parses a bundle or one object. Unless partial, it stops at
// the first invalid object and returns it alone in bad.
func parseBundle(data []byte, partial bool) ([]*Object, []ObjectError) {
	whole := func(err error) ([]*Object, []ObjectError) { return nil, []ObjectError{{Index: -1, Err: err}} }
	v, err := decodeJSON(data)
	if err != nil {
		return whole(syntaxErr(err))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return whole(&ValidationError{Message: "a STIX document must be a JSON object"})
	}
	if m["type"] != "bundle" {
		o, err := newObject(m, "")
		if err != nil {
			id, _ := m["id"].(string)
			return nil, []ObjectError{{Index: 0, ID: id, Err: err}}
		}
		return []*Object{o}, nil
	}
	bid, _ := m["id"].(string)
	bundleErr := func(prop, format string, args ...any) ([]*Object, []ObjectError) {
		return whole(&ValidationError{ObjectID: bid, Property: prop, Message: fmt.Sprintf(format, args...)})
	}
	if t, ok := splitID(bid); !ok || t != "bundle" {
		return bundleErr("id", "%s is not a bundle identifier (want bundle--<RFC 4122 UUID>)", show(m["id"]))
	}
	for _, k := range sortedKeys(m) {
		switch {
		case k == "type", k == "id", k == "objects", strings.HasPrefix(k, "x_"):
		default:
			return bundleErr(k, "unknown bundle property")
		}
	}
	ov, ok := m["objects"]
	if !ok {
		return nil, nil
	}
	list, ok := ov.([]any)
	if !ok {
		return bundleErr("objects", "must be a list of STIX objects")
	}
	out := make([]*Object, 0, len(list))
	var bad []ObjectError
	type key struct {
		id   string
		sec  int64
		nsec int
	}
	seen := make(map[key]*Object, len(list))
	for i, e := range list {
		label := fmt.Sprintf("%s objects.[%d]", bid, i)
		var o *Object
		om, ok := e.(map[string]any)
		switch {
		case !ok:
			err = &ValidationError{ObjectID: label, Message: "a STIX object must be a JSON object"}
		case om["type"] == "bundle":
			err = &ValidationError{ObjectID: label, Property: "type", Message: "bundles cannot be nested"}
		default:
			o, err = newObject(om, label)
		}
		if err == nil {
			k := key{o.ID, o.Version().Unix(), o.Version().Nanosecond()}
			prev, dup := seen[k]
			switch {
			case dup && bytes.Equal(prev.Raw, o.Raw):
				continue
			case dup:
				err = &ValidationError{ObjectID: o.ID, Property: "modified",
					Message: fmt.Sprintf("two versions with the same version timestamp %s and different content", o.Version().UTC().Format(time.RFC3339Nano))}
			default:
				seen[k] = o
				out = append(out, o)
				continue
			}
		}
		id, _ := om["id"].(string)
		bad = append(bad, ObjectError{Index: i, ID: id, Err: err})
		if !partial {
			return nil, bad
		}
	}
	return out, bad
}
