package detente

import (
	"crypto/ed25519"
	"encoding/json"
	"time"
)

// Consent scopes.
const (
	ConsentObject = "object" // the one object named
	ConsentReport = "report" // the report named and every object it contains
)

// Consent is an originator's signed permission for one named third partner
// to receive one object (or all objects of one report) from a node that
// holds it. The third-party rule needs one for every onward release.
type Consent struct {
	ID         string    `json:"id"`         // "consent--<uuid>"
	Originator PublicKey `json:"originator"` // the key of the node that originated the object
	Recipient  PublicKey `json:"recipient"`  // the key of the third partner allowed
	Object     string    `json:"object"`     // the STIX id consented to
	Scope      string    `json:"scope"`      // ConsentObject or ConsentReport
	// Version, for scope report, is the modified time of the report
	// version the consent covers: only the objects that version (signed by
	// the originator) references. Zero in consents issued before versions
	// were named, which cover the originator's newest version of the report
	// not modified after Issued.
	Version   time.Time `json:"version,omitzero"`
	Issued    time.Time `json:"issued"`
	Until     time.Time `json:"until,omitzero"` // zero for no expiry
	Signature []byte    `json:"signature,omitempty"`

	// Revoked is set when the originator withdrew the consent; it is local
	// state, not part of what was signed.
	Revoked       bool      `json:"-"`
	RevokedReason string    `json:"-"`
	Received      time.Time `json:"-"`
}

// signedBytes is what the originator signs: the consent's JSON without the
// signature, fields in declaration order.
func (c *Consent) signedBytes() []byte {
	cc := *c
	cc.Signature = nil
	b, _ := json.Marshal(&cc) // plain fields cannot fail to marshal
	return append([]byte("detente-consent/v1\n"), b...)
}

// Sign signs c with the originator's private key.
func (c *Consent) Sign(priv ed25519.PrivateKey) {
	c.Signature = ed25519.Sign(priv, c.signedBytes())
}

// Verify checks c's signature against its Originator key and its fields.
func (c *Consent) Verify() error {
	if c.Scope != ConsentObject && c.Scope != ConsentReport {
		return Errorf(EINVALID, "consent %s: scope must be object or report", c.ID)
	}
	if len(c.Originator) != ed25519.PublicKeySize || len(c.Recipient) != ed25519.PublicKeySize {
		return Errorf(EINVALID, "consent %s: originator and recipient keys are required", c.ID)
	}
	if !ed25519.Verify(ed25519.PublicKey(c.Originator), c.signedBytes(), c.Signature) {
		return Errorf(EINVALID, "consent %s: signature does not verify against the originator's key", c.ID)
	}
	return nil
}

// Valid reports whether c is in force at now (not revoked, not expired).
func (c *Consent) Valid(now time.Time) bool {
	return !c.Revoked && !now.Before(c.Issued) && (c.Until.IsZero() || now.Before(c.Until))
}
