package stix

import (
	"encoding/json"
	"fmt"
	"slices"

	"detente"
)

// DesignationExtensionID is the id of detente's extension-definition for
// designations carried by identities and threat-actors (internal/lists
// writes them; docs/screening.md).
const DesignationExtensionID = "extension-definition--7e6c1f0a-5b2d-4e8a-9c3f-0d1e2f3a4b5c"

// CreatorIdentityID is the identity that creates detente's
// extension-definitions: the detente project, the same on every node.
const CreatorIdentityID = "identity--0b7e3a52-6c1d-4f8e-9a2b-5d4c3e2f1a09"

// definitions are the canonical JSON of the predefined objects, in the
// order views serve them.
var definitions = func() [][]byte {
	var out [][]byte
	add := func(m map[string]any) {
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		o, err := ParseObject(b)
		if err != nil {
			panic(fmt.Sprintf("predefined object %v: %v", m["id"], err))
		}
		out = append(out, o.Raw)
	}
	// TLP 1.0, as STIX 2.1 §7.2.1.4 defines them.
	for _, d := range []struct{ id, tlp string }{
		{detente.MarkingTLP1White, "white"}, {detente.MarkingTLP1Green, "green"},
		{detente.MarkingTLP1Amber, "amber"}, {detente.MarkingTLP1Red, "red"},
	} {
		add(map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": d.id,
			"created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
			"name": "TLP:" + upper(d.tlp), "definition": map[string]any{"tlp": d.tlp}})
	}
	// TLP 2.0, as OASIS publishes them with the tlp-2.0 extension.
	for _, t := range []detente.TLP{detente.TLPClear, detente.TLPGreen, detente.TLPAmber, detente.TLPAmberStrict, detente.TLPRed} {
		out = append(out, TLPMarkingDefinition(t))
	}
	const created = "2026-01-01T00:00:00.000Z"
	add(map[string]any{"type": "identity", "spec_version": "2.1", "id": CreatorIdentityID,
		"created": created, "modified": created, "name": "detente", "identity_class": "organization",
		"description": "The detente project: nodes for wary partner agencies sharing STIX 2.1 over TAXII 2.1. It defines the extensions detente nodes write."})
	ext := func(id, name, description, schema string) {
		add(map[string]any{"type": "extension-definition", "spec_version": "2.1", "id": id,
			"created_by_ref": CreatorIdentityID, "created": created, "modified": created,
			"name": name, "description": description, "schema": schema, "version": "1.0.0",
			"extension_types": []any{"property-extension"}})
	}
	ext(ExtensionID, "detente grading and signature",
		"The Admiralty grading its originator gives the object (source reliability A-F, information credibility 1-6) and the originator's Ed25519 signature over the RFC 8785 canonical JSON of the object without the signature.",
		"docs/stix.md of detente: grading (string, e.g. B2), signer (detente-node: key), signature (base64 Ed25519), and for a relayed projection the original signer and the relay's statement.",
	)
	ext(detente.CaveatExtensionID, "detente handling caveats",
		"Handling caveats carried by a marking-definition: the third-party rule (originator control), releasable-to lists and purposes. Several markings mean AND.",
		"docs/markings.md of detente: caveat (third-party-rule, releasable-to, purpose), to (partner names), purpose (text).",
	)
	ext(DesignationExtensionID, "detente designations",
		"A designation carried by an identity or threat-actor: which authority lists the entity, under which regime, from and until when.",
		"docs/screening.md of detente: authority, regime, listed, delisted, entity id and aliases.",
	)
	return out
}()

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Definitions returns the canonical JSON of the objects every view
// carries so that a consumer can look up what the objects it gets
// reference: the TLP 1.0 and TLP 2.0 marking-definitions exactly as STIX
// and OASIS publish them (unsigned, unextended), detente's
// extension-definitions and the identity that creates them. A node never
// stores them: each has its own copy.
func Definitions() [][]byte {
	out := make([][]byte, len(definitions))
	for i, d := range definitions {
		out[i] = slices.Clone(d)
	}
	return out
}

var predefinedIDs = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range definitions {
		o, _ := ParseObject(d)
		m[o.ID] = true
	}
	return m
}()

// IsPredefined reports whether id (NormalID form) is one of the
// Definitions: a TLP marking-definition or one of detente's own
// definitions, which a node never stores.
func IsPredefined(id string) bool { return predefinedIDs[detente.NormalID(id)] }
