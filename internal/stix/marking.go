package stix

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"detente"
)

// ErrUnsupportedMarking is returned (wrapped, test with errors.Is) by
// ParseMarking for a marking-definition the node does not understand, so
// that the policy can fail closed. Its code is detente.EINVALID.
var ErrUnsupportedMarking = &detente.Error{Code: detente.EINVALID, Message: "unsupported marking-definition"}

// ParseMarking returns what the node understands of a marking-definition:
// a TLP 1.0 (definition_type "tlp") or TLP 2.0 (OASIS tlp-2.0 extension)
// level, a statement marking, or a detente handling caveat (extension
// detente.CaveatExtensionID). Anything else, including a definition that
// mixes two of these or carries an extension the node does not know, wraps
// ErrUnsupportedMarking. An object that is not a marking-definition is a
// *ValidationError.
func ParseMarking(o *Object) (*detente.Marking, error) {
	if o.Type != "marking-definition" {
		return nil, &ValidationError{ObjectID: o.ID, Property: "type", Message: "want a marking-definition, got " + o.Type}
	}
	unsupported := func(why string) error {
		return fmt.Errorf("%s: %s: %w", o.ID, why, ErrUnsupportedMarking)
	}
	m := &detente.Marking{ID: o.ID}
	kinds := 0
	switch dt := o.Fields["definition_type"]; dt {
	case nil:
	case "tlp":
		t, ok := detente.TLPOfMarking(o.ID)
		if !ok {
			return nil, unsupported("TLP marking with a non-standard id")
		}
		m.TLP = t
		kinds++
	case "statement":
		m.Statement = true
		kinds++
	default:
		return nil, unsupported(fmt.Sprintf("definition_type %s", show(dt)))
	}
	exts, _ := o.Fields["extensions"].(map[string]any)
	for _, k := range sortedKeys(exts) {
		ev, _ := exts[k].(map[string]any)
		switch k {
		case ExtensionID: // grading and signature, not a marking
		case detente.TLP2ExtensionID:
			t, ok := detente.TLPOfMarking(o.ID)
			if !ok {
				return nil, unsupported("TLP 2.0 marking with a non-standard id")
			}
			m.TLP = t
			kinds++
		case detente.CaveatExtensionID:
			m.Caveat, _ = ev["caveat"].(string)
			m.Purpose, _ = ev["purpose"].(string)
			to, _ := ev["recipients"].([]any)
			if alias, ok := ev["to"].([]any); ok {
				to = alias
			}
			for _, s := range to {
				m.To = append(m.To, s.(string))
			}
			switch m.Caveat {
			case detente.CaveatThirdPartyRule, detente.CaveatPurpose, detente.CaveatReleasableTo, detente.CaveatFingerprint:
			default:
				return nil, unsupported(fmt.Sprintf("caveat %q", m.Caveat))
			}
			if m.Caveat == detente.CaveatReleasableTo && len(m.To) == 0 {
				return nil, unsupported("releasable-to caveat without recipients")
			}
			if m.Caveat == detente.CaveatPurpose && m.Purpose == "" {
				return nil, unsupported("purpose caveat without a purpose")
			}
			kinds++
		default:
			return nil, unsupported("unknown extension " + k)
		}
	}
	switch kinds {
	case 0:
		return nil, unsupported("no marking the node understands")
	case 1:
		return m, nil
	default:
		return nil, unsupported("more than one kind of marking in one definition")
	}
}

// NewCaveatMarking returns the canonical JSON of a new marking-definition
// carrying a detente handling caveat: kind is one of detente.CaveatThirdPartyRule,
// detente.CaveatReleasableTo (with the recipients in to) or
// detente.CaveatPurpose (with purpose). to is sorted, deduplicated and
// written as the extension's "recipients" member (STIX property names have
// at least three characters, so not "to").
//
// The id is a random UUIDv4, never derived from the content: a
// releasable-to definition stays local, but its id travels in
// object_marking_refs, and a hash of the recipient list could be
// brute-forced back into the list. An invalid kind yields an object that
// ParseBundle rejects.
func NewCaveatMarking(kind string, to []string, purpose string, created time.Time) []byte {
	ext := map[string]any{"extension_type": "property-extension", "caveat": kind}
	if len(to) > 0 {
		list := slices.Clone(to)
		slices.Sort(list)
		list = slices.Compact(list)
		ext["recipients"] = list
	}
	if purpose != "" {
		ext["purpose"] = purpose
	}
	obj := map[string]any{
		"type":         "marking-definition",
		"spec_version": "2.1",
		"id":           "marking-definition--" + newUUIDv4(),
		"created":      FormatTimestamp(created),
		"name":         "detente caveat: " + kind,
		"extensions":   map[string]any{detente.CaveatExtensionID: ext},
	}
	b, err := appendCanonical(nil, obj)
	if err != nil {
		panic(err) // unreachable: the tree holds only strings and maps
	}
	return b
}

// FormatTimestamp formats t as a STIX timestamp in UTC with millisecond
// precision, e.g. 2016-05-12T08:17:27.000Z.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// newUUIDv4 returns a random RFC 4122 version 4 UUID in lowercase.
func newUUIDv4() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

var tlpDefinitions = func() map[detente.TLP][]byte {
	out := make(map[detente.TLP][]byte)
	for _, t := range []detente.TLP{detente.TLPClear, detente.TLPGreen, detente.TLPAmber, detente.TLPAmberStrict, detente.TLPRed} {
		out[t] = mustCanonical(map[string]any{
			"type":         "marking-definition",
			"spec_version": "2.1",
			"id":           detente.MarkingOfTLP(t),
			"created":      "2022-10-01T00:00:00.000Z",
			"name":         "TLP:" + map[detente.TLP]string{detente.TLPClear: "CLEAR", detente.TLPGreen: "GREEN", detente.TLPAmber: "AMBER", detente.TLPAmberStrict: "AMBER+STRICT", detente.TLPRed: "RED"}[t],
			"extensions": map[string]any{
				detente.TLP2ExtensionID: map[string]any{"extension_type": "property-extension", "tlp_2_0": t.String()},
			},
		})
	}
	return out
}()

// TLPMarkingDefinition returns the canonical JSON of the OASIS TLP 2.0
// marking-definition for t (the objects published with the OASIS tlp-2.0
// extension-definition), or nil for an unknown level.
func TLPMarkingDefinition(t detente.TLP) []byte {
	return bytes.Clone(tlpDefinitions[t])
}
