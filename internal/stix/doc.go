// Package stix parses, validates, canonicalises, signs and projects STIX 2.1
// objects for a detente node.
//
// Validation is native Go, written from the STIX 2.1 specification: common
// properties, the required properties of every SDO, SRO, SCO and meta
// object, identifiers, timestamps, references, granular-marking selectors,
// extensions and STIX indicator patterns. Canonical JSON is RFC 8785 (JCS).
// Signatures are Ed25519 over the canonical JSON with a domain-separation
// prefix, carried in the detente property extension (ExtensionID).
// docs/stix.md documents the extension, the signed bytes and every
// deliberate deviation from the specification.
package stix
