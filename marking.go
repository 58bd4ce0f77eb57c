package detente

import "strings"

// TLP is a Traffic Light Protocol level, ordered from least to most
// restrictive so that levels compare with < and >.
type TLP int

// TLP 2.0 levels.
const (
	TLPClear TLP = iota + 1
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
)

var tlpNames = map[TLP]string{
	TLPClear:       "clear",
	TLPGreen:       "green",
	TLPAmber:       "amber",
	TLPAmberStrict: "amber+strict",
	TLPRed:         "red",
}

// String returns the lowercase TLP 2.0 name, e.g. "amber+strict".
func (t TLP) String() string {
	if s, ok := tlpNames[t]; ok {
		return s
	}
	return "unknown"
}

// ParseTLP parses a TLP name: clear (or white), green, amber, amber+strict,
// red; case-insensitive, with or without a "tlp:" prefix.
func ParseTLP(s string) (TLP, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(v, "tlp:")
	if v == "white" {
		return TLPClear, nil
	}
	for t, name := range tlpNames {
		if v == name {
			return t, nil
		}
	}
	if m := DidYouMean(v, []string{"clear", "green", "amber", "amber+strict", "red"}); m != "" {
		return 0, Errorf(EINVALID, "unknown TLP level %q%s", s, m)
	}
	return 0, Errorf(EINVALID, "unknown TLP level %q (want clear, green, amber, amber+strict or red)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t TLP) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *TLP) UnmarshalText(b []byte) error {
	v, err := ParseTLP(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// TLP 2.0 marking-definition ids, from the OASIS tlp-2.0 extension.
const (
	TLP2ExtensionID    = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	MarkingClear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	MarkingGreen       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	MarkingAmber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	MarkingAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	MarkingRed         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// TLP 1.0 marking-definition ids, defined in the STIX 2.1 specification
// (section 7.2.1.4). Much shared intelligence still carries them.
const (
	MarkingTLP1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	MarkingTLP1Green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	MarkingTLP1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	MarkingTLP1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

var tlpByMarking = map[string]TLP{
	MarkingClear: TLPClear, MarkingGreen: TLPGreen, MarkingAmber: TLPAmber,
	MarkingAmberStrict: TLPAmberStrict, MarkingRed: TLPRed,
	MarkingTLP1White: TLPClear, MarkingTLP1Green: TLPGreen,
	MarkingTLP1Amber: TLPAmber, MarkingTLP1Red: TLPRed,
}

// TLPOfMarking returns the TLP level of a well-known TLP marking-definition
// id (2.0 or 1.0), and false for any other id.
func TLPOfMarking(id string) (TLP, bool) {
	t, ok := tlpByMarking[id]
	return t, ok
}

// MarkingOfTLP returns the TLP 2.0 marking-definition id of t.
func MarkingOfTLP(t TLP) string {
	switch t {
	case TLPClear:
		return MarkingClear
	case TLPGreen:
		return MarkingGreen
	case TLPAmber:
		return MarkingAmber
	case TLPAmberStrict:
		return MarkingAmberStrict
	case TLPRed:
		return MarkingRed
	}
	return ""
}

// CaveatExtensionID is the id of detente's extension-definition for
// handling caveats carried by marking-definitions (docs/markings.md).
const CaveatExtensionID = "extension-definition--4d0f6b1e-8d3f-4c7a-9a55-1f2c9f3d7e01"

// Caveat kinds a detente handling-caveat marking-definition can carry.
const (
	// CaveatThirdPartyRule is originator control: the object may go to a
	// party other than the originator's direct recipient only with the
	// originator's signed consent.
	CaveatThirdPartyRule = "third-party-rule"
	// CaveatReleasableTo limits release to the listed partners. Its
	// definition is a local handling instruction and is never itself sent,
	// so the partner list does not leak as metadata.
	CaveatReleasableTo = "releasable-to"
	// CaveatPurpose limits use to one purpose; an agreement must name the
	// same purpose for the object to be released under it.
	CaveatPurpose = "purpose"
	// CaveatFingerprint requires that the object go only as a
	// fingerprinted copy of the partner's own (docs/trace.md): an object
	// without fingerprint markup carrying it does not go. Like
	// releasable-to, its definition is never itself sent.
	CaveatFingerprint = "fingerprint"
)

// Marking is what the node understands of one marking-definition.
type Marking struct {
	ID      string   // the marking-definition id
	TLP     TLP      // non-zero for a TLP marking
	Caveat  string   // one of the Caveat… kinds for a handling caveat
	To      []string // for releasable-to: partner names or node keys
	Purpose string   // for purpose
	// Statement is true for a STIX "statement" marking (e.g. a copyright
	// notice), which restricts nothing.
	Statement bool
}
