package stix

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"

	"detente"
)

// ExtensionID is the id of detente's extension-definition: a property
// extension carrying an object's Admiralty grading, the key of the node that
// signed it and the signature (docs/stix.md).
const ExtensionID = "extension-definition--d37e5c1f-2a4b-4c8e-9f61-7b0a3e5d9c42"

// IdentityID is the id of the identity that created ExtensionDefinition (the
// detente project); ProjectIdentity returns the object.
const IdentityID = "identity--5c9a1e77-3f2d-4b6a-8e10-c4d2f9a6b318"

// SignaturePrefix is the domain-separation prefix of the signed message:
// the signature covers SignaturePrefix followed by the RFC 8785 canonical
// JSON of the object with the extension's "signature" member removed.
const SignaturePrefix = "detente-stix/v1\n"

// extDefCreated is the fixed creation time of the detente STIX objects.
const extDefCreated = "2026-01-01T00:00:00.000Z"

var (
	extensionDefinition = mustCanonical(map[string]any{
		"type":           "extension-definition",
		"spec_version":   "2.1",
		"id":             ExtensionID,
		"created_by_ref": IdentityID,
		"created":        extDefCreated,
		"modified":       extDefCreated,
		"name":           "detente grading and signature",
		"description": "Carries the Admiralty grading of the object (grading: source reliability A-F and " +
			"information credibility 1-6, e.g. \"B2\"), the Ed25519 key of the detente node that signed it " +
			"(signer: \"detente-node:\" and the base64 key) and the signature (signature: base64 Ed25519 over " +
			"\"detente-stix/v1\\n\" followed by the RFC 8785 canonical JSON of the object without the signature member). " +
			"A redacted projection that a node relays for another originator carries a relay statement, covered by the " +
			"relaying node's signature: origin_signer (the original signer's key) and origin_sha256 (the lower-case hex " +
			"SHA-256 of the original version's canonical JSON).",
		"schema":          "Plain text: see the description, and docs/stix.md in the detente source tree.",
		"version":         "1.0.0",
		"extension_types": []any{"property-extension"},
	})
	caveatExtensionDefinition = mustCanonical(map[string]any{
		"type":           "extension-definition",
		"spec_version":   "2.1",
		"id":             detente.CaveatExtensionID,
		"created_by_ref": IdentityID,
		"created":        extDefCreated,
		"modified":       extDefCreated,
		"name":           "detente handling caveat",
		"description": "Makes a marking-definition a handling caveat: caveat is third-party-rule (originator control), " +
			"releasable-to (with recipients, a list of partner names or node keys) or purpose (with purpose, a string).",
		"schema":          "Plain text: see the description, and docs/stix.md in the detente source tree.",
		"version":         "1.0.0",
		"extension_types": []any{"property-extension"},
	})
	projectIdentity = mustCanonical(map[string]any{
		"type":           "identity",
		"spec_version":   "2.1",
		"id":             IdentityID,
		"created":        extDefCreated,
		"modified":       extDefCreated,
		"name":           "detente",
		"identity_class": "system",
		"description":    "The detente node software, creator of the detente STIX extensions.",
	})
)

func mustCanonical(v any) []byte {
	b, err := appendCanonical(nil, v)
	if err != nil {
		panic(err)
	}
	if _, err := ParseObject(b); err != nil {
		panic(err)
	}
	return b
}

// ExtensionDefinition returns the canonical JSON of the extension-definition
// object with id ExtensionID.
func ExtensionDefinition() []byte { return bytes.Clone(extensionDefinition) }

// CaveatExtensionDefinition returns the canonical JSON of the
// extension-definition object with id detente.CaveatExtensionID, which
// handling-caveat marking-definitions use.
func CaveatExtensionDefinition() []byte { return bytes.Clone(caveatExtensionDefinition) }

// ProjectIdentity returns the canonical JSON of the identity object that
// created ExtensionDefinition.
func ProjectIdentity() []byte { return bytes.Clone(projectIdentity) }

// checkDetenteExt validates the detente extension of an object.
func (c *checker) checkDetenteExt(path string, ev map[string]any) error {
	if ev["extension_type"] != "property-extension" {
		return c.errf(path+".extension_type", "must be property-extension")
	}
	for _, k := range sortedKeys(ev) {
		v := ev[k]
		switch k {
		case "extension_type":
		case "grading":
			s, _ := v.(string)
			g, err := detente.ParseGrading(s)
			if err != nil || g.String() != s {
				return c.errf(path+".grading", "%s is not an Admiralty grading (a letter A-F and a digit 1-6, e.g. \"B2\")", show(v))
			}
		case "signer":
			s, _ := v.(string)
			k, err := detente.ParsePublicKey(s)
			if err != nil || k.String() != s {
				return c.errf(path+".signer", "%s is not a node key (\"detente-node:\" and the base64 of 32 bytes)", show(v))
			}
		case "signature":
			s, _ := v.(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(b) != ed25519.SignatureSize || base64.StdEncoding.EncodeToString(b) != s {
				return c.errf(path+".signature", "is not the standard base64 of a %d-byte Ed25519 signature", ed25519.SignatureSize)
			}
		case "origin_signer":
			s, _ := v.(string)
			k, err := detente.ParsePublicKey(s)
			if err != nil || k.String() != s {
				return c.errf(path+".origin_signer", "%s is not a node key (\"detente-node:\" and the base64 of 32 bytes)", show(v))
			}
		case "origin_sha256":
			s, _ := v.(string)
			if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != s {
				return c.errf(path+".origin_sha256", "%s is not the lower-case hex of a SHA-256 hash", show(v))
			}
		default:
			return c.errf(path+"."+k, "unknown property of the detente extension")
		}
	}
	_, hasOrigin := ev["origin_signer"]
	_, hasHash := ev["origin_sha256"]
	if hasOrigin != hasHash {
		return c.errf(path+".origin_sha256", "origin_signer and origin_sha256 go together (a relay statement)")
	}
	if _, ok := ev["signer"]; hasOrigin && !ok {
		return c.errf(path+".signer", "required property missing (a relay statement must be signed)")
	}
	if _, ok := ev["signer"]; ok {
		if _, ok := ev["signature"]; !ok {
			return c.errf(path+".signature", "required property missing (signer is present)")
		}
	} else if _, ok := ev["signature"]; ok {
		return c.errf(path+".signer", "required property missing (signature is present)")
	}
	return nil
}

// Sign parses and validates the object in raw, sets the detente extension
// (grading, unless zero, and the signer's key) and signs it with priv.
// It returns the canonical JSON of the signed object. An existing detente
// extension is replaced.
func Sign(raw []byte, priv ed25519.PrivateKey, grading detente.Grading) ([]byte, error) {
	o, err := ParseObject(raw)
	if err != nil {
		return nil, err
	}
	s, err := o.Sign(priv, grading)
	if err != nil {
		return nil, err
	}
	return s.Raw, nil
}

// Relay is a relay statement: a node signing a redacted projection of
// another originator's version names the original signer and the hash of
// the original version, so receivers attribute the copy to its originator.
type Relay struct {
	Origin detente.PublicKey // the original signer
	SHA256 string            // lower-case hex SHA-256 of the original version's canonical JSON
}

// SignRelayed is Sign for a redacted projection of another originator's
// version: the detente extension also carries the relay statement r,
// covered by priv's signature.
func SignRelayed(raw []byte, priv ed25519.PrivateKey, grading detente.Grading, r Relay) ([]byte, error) {
	o, err := ParseObject(raw)
	if err != nil {
		return nil, err
	}
	if len(r.Origin) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("sign %s: relay statement without an origin key", o.ID)
	}
	if b, err := hex.DecodeString(r.SHA256); err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("sign %s: relay statement without the original version's hash", o.ID)
	}
	s, err := o.sign(priv, grading, &r)
	if err != nil {
		return nil, err
	}
	return s.Raw, nil
}

// RelayOf returns the relay statement o carries, and false when it carries
// none. Like ToVersion it does not check the signature: call Verify first.
func (o *Object) RelayOf() (Relay, bool) {
	ext := o.detenteExt()
	k, _ := ext["origin_signer"].(string)
	h, _ := ext["origin_sha256"].(string)
	key, err := detente.ParsePublicKey(k)
	if err != nil || h == "" {
		return Relay{}, false
	}
	return Relay{Origin: key, SHA256: h}, true
}

// Sign returns a copy of o carrying the detente extension with grading
// (unless zero), the signer's key and the signature made with priv; o is
// not changed. See the package-level Sign.
func (o *Object) Sign(priv ed25519.PrivateKey, grading detente.Grading) (*Object, error) {
	return o.sign(priv, grading, nil)
}

// sign signs o, with the relay statement r when it is not nil.
func (o *Object) sign(priv ed25519.PrivateKey, grading detente.Grading, r *Relay) (*Object, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("sign %s: private key is %d bytes, want %d", o.ID, len(priv), ed25519.PrivateKeySize)
	}
	if !grading.IsZero() {
		if g, err := detente.ParseGrading(grading.String()); err != nil || g != grading {
			return nil, fmt.Errorf("sign %s: invalid grading %q: %w", o.ID, grading.String(), detente.Errorf(detente.EINVALID, "grading must be A-F and 1-6"))
		}
	}
	pub := detente.PublicKey(priv.Public().(ed25519.PublicKey))
	ext := map[string]any{
		"extension_type": "property-extension",
		"signer":         pub.String(),
	}
	if !grading.IsZero() {
		ext["grading"] = grading.String()
	}
	if r != nil {
		ext["origin_signer"], ext["origin_sha256"] = r.Origin.String(), r.SHA256
	}
	m := maps.Clone(o.Fields)
	exts := map[string]any{}
	if old, ok := m["extensions"].(map[string]any); ok {
		exts = maps.Clone(old)
	}
	mk := &marker{m: ext}
	exts[ExtensionID] = mk
	m["extensions"] = exts

	msg := make([]byte, 0, len(o.Raw)+256)
	msg = append(msg, SignaturePrefix...)
	msg, err := appendCanonical(msg, m)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", o.ID, err)
	}
	exts[ExtensionID] = ext
	ext["signature"] = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
	// The output is the message without the prefix, with the extension
	// re-serialised to include the signature.
	raw := make([]byte, 0, len(msg)+100)
	raw = append(raw, msg[len(SignaturePrefix):mk.start]...)
	if raw, err = appendCanonical(raw, ext); err != nil {
		return nil, fmt.Errorf("sign %s: %w", o.ID, err)
	}
	raw = append(raw, msg[mk.end:]...)
	s := *o
	s.Fields = m
	s.Raw = raw
	return &s, nil
}

// Verify parses and validates the object in raw and checks its detente
// signature. An object without one returns signed=false and no error; a
// signature that does not verify is a *ValidationError naming the object.
// The input's key order and whitespace do not matter: the signature is
// checked over the canonical form.
func Verify(raw []byte) (signer detente.PublicKey, signed bool, err error) {
	o, err := ParseObject(raw)
	if err != nil {
		return nil, false, err
	}
	return o.Verify()
}

// VerifyTemplate checks the detente signature of a fingerprint template:
// this node's local copy of an object ingested with fingerprint markup,
// which is JSON but not valid STIX where a canary stands for a timestamp.
// It decodes raw without validating it as STIX, so use it only for such a
// copy, never for what arrives from outside.
func VerifyTemplate(raw []byte) (signer detente.PublicKey, signed bool, err error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, false, syntaxErr(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, &ValidationError{Message: "a STIX object must be a JSON object"}
	}
	id, _ := m["id"].(string)
	if _, ok := m["extensions"].(map[string]any); !ok {
		return nil, false, nil
	}
	return (&Object{ID: id, Fields: m, Raw: raw}).Verify()
}

// Verify checks o's detente signature; see the package-level Verify.
func (o *Object) Verify() (signer detente.PublicKey, signed bool, err error) {
	ext := o.detenteExt()
	sigText, hasSig := ext["signature"].(string)
	keyText, hasKey := ext["signer"].(string)
	if !hasSig && !hasKey {
		return nil, false, nil
	}
	prop := "extensions." + ExtensionID + ".signature"
	key, err := detente.ParsePublicKey(keyText)
	if err != nil {
		return nil, true, &ValidationError{ObjectID: o.ID, Property: "extensions." + ExtensionID + ".signer", Message: err.Error(), cause: err}
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, true, &ValidationError{ObjectID: o.ID, Property: prop, Message: "is not the base64 of an Ed25519 signature"}
	}
	m := maps.Clone(o.Fields)
	exts := maps.Clone(m["extensions"].(map[string]any))
	unsigned := maps.Clone(ext)
	delete(unsigned, "signature")
	exts[ExtensionID] = unsigned
	m["extensions"] = exts
	msg := make([]byte, 0, len(o.Raw)+len(SignaturePrefix))
	msg = append(msg, SignaturePrefix...)
	if msg, err = appendCanonical(msg, m); err != nil {
		return nil, true, fmt.Errorf("verify %s: %w", o.ID, err)
	}
	if !ed25519.Verify(ed25519.PublicKey(key), msg, sig) {
		return nil, true, &ValidationError{ObjectID: o.ID, Property: prop, Message: "signature does not verify for signer " + keyText}
	}
	return key, true, nil
}
