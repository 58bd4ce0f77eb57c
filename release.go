package detente

import "time"

// Reason codes of egress and ingress decisions. A decision lists every
// reason that applies, allowing or denying, so people can see why.
const (
	ReasonAllowed            = "allowed"             // every rule passed
	ReasonNoAgreement        = "no-agreement"        // no agreement covers the partner
	ReasonPartnerUnknown     = "partner-unknown"     // the partner is not known
	ReasonPartnerSuspended   = "partner-suspended"   // the partner is suspended
	ReasonAgreementInactive  = "agreement-inactive"  // suspended or ended
	ReasonOutsideWindow      = "outside-window"      // now is outside from/until
	ReasonTypeOutOfScope     = "type-out-of-scope"   // the object type is not in the agreement
	ReasonAboveCeiling       = "above-tlp-ceiling"   // a TLP marking is above the ceiling
	ReasonMarkingUnknown     = "marking-unknown"     // a marking definition is not held (fail closed)
	ReasonMarkingUnsupported = "marking-unsupported" // a marking of a kind the node does not understand
	ReasonNotReleasableTo    = "not-releasable-to"   // a releasable-to caveat excludes the partner
	ReasonPurposeMismatch    = "purpose-mismatch"    // a purpose caveat differs from the agreement
	ReasonThirdPartyRule     = "third-party-rule"    // originated elsewhere and no consent
	ReasonConsent            = "consent"             // a consent allowed an onward release
	ReasonOnwardForbidden    = "onward-forbidden"    // the originator's agreement forbids passing on
	ReasonOriginatorUnknown  = "originator-unknown"  // the originator cannot be established
	ReasonClosure            = "closure"             // a referenced object may not go
	ReasonRefNotHeld         = "ref-not-held"        // a reference to an object the node does not hold (informational)
	ReasonQuarantined        = "quarantined"         // the version is quarantined
	ReasonBackToOriginator   = "back-to-originator"  // the partner is the originator itself
	ReasonPropertyRedacted   = "property-redacted"   // a granular marking removed a property (informational)
	ReasonProjectionInvalid  = "projection-invalid"  // what the partner may receive of the object is not valid STIX: withheld
	ReasonMemberWithheld     = "member-withheld"     // the partner's own object goes back alone, without what it references (informational)
	ReasonReciprocityHeld    = "reciprocity-held"    // releases to the partner are held: it gives back less than the agreement's reciprocity terms ask
	ReasonFingerprinted      = "fingerprinted"       // the partner receives a fingerprinted copy of its own (informational)
	ReasonFingerprintRefused = "fingerprint-refused" // the agreement refuses fingerprinting and the object has no other copy
	ReasonNotFingerprinted   = "not-fingerprinted"   // the agreement or a caveat requires a fingerprinted copy and the object has none
)

// Reason is one finding of a policy decision.
type Reason struct {
	Code   string `json:"code"`
	Object string `json:"object,omitempty"` // the object the finding is about
	Detail string `json:"detail"`           // a sentence for people
	Deny   bool   `json:"deny"`             // whether this finding denies
}

// Decision is the outcome of the egress policy for one object version and
// one partner.
type Decision struct {
	Allowed bool     `json:"allowed"`
	Object  string   `json:"object"`
	Partner string   `json:"partner"`
	Reasons []Reason `json:"reasons"`
	// Closure is every object id the release would carry, the object first.
	Closure []string `json:"closure"`
	// Redacted lists "id:property" paths a granular marking removes from
	// the partner's projection.
	Redacted []string `json:"redacted,omitempty"`
}

// Release is a stored decision taken for an actual release (or refusal) of
// one object version to one partner.
type Release struct {
	ID       int64
	Object   string    // STIX id
	Modified time.Time // the version
	Partner  string
	Allowed  bool
	Reasons  []Reason
	Time     time.Time
}

// ReleaseFilter selects stored releases. Zero fields select everything.
type ReleaseFilter struct {
	Object  string
	Partner string
	Limit   int
}
