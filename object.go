package detente

import "time"

// Originator names who asserted an object version.
const (
	// OriginSelf is the Originator of versions this node created or
	// imported under its own responsibility (and signed).
	OriginSelf = "self"
)

// ObjectVersion is one version of a STIX 2.1 object as the node holds it.
// A version is identified by ID and Modified; versions are never changed in
// place, and a second version with the same key but other content is a
// conflict, not an update.
type ObjectVersion struct {
	ID          string    // STIX id, e.g. "indicator--…"
	Type        string    // STIX type, the id's prefix
	SpecVersion string    // "2.1"
	Modified    time.Time // the version: modified, else created, else zero (SCOs)
	Created     time.Time // zero for SCOs

	// Originator is OriginSelf, the name of the partner whose key signed
	// the version, or "" when the signer is unknown to the node.
	Originator string
	// Signer is the key that signed the version, nil when unsigned.
	Signer PublicKey
	// Signature is the Ed25519 signature over the RFC 8785 canonical JSON
	// of the object without its signature (docs/stix.md).
	Signature []byte

	Markings []string          // object_marking_refs
	Granular []GranularMarking // granular_markings
	Refs     []Ref             // every other id the object references: the closure's edges
	Grading  Grading           // Admiralty grading from the detente extension; zero if none
	Received time.Time         // when the node stored the version

	// Quarantine is the reason the version was quarantined by the ingress
	// policy, "" when it was accepted. A quarantined version is kept apart
	// and never released.
	Quarantine string

	// Raw is the object's JSON in RFC 8785 canonical form, signature included.
	Raw []byte

	// Seq is the store's order of arrival, assigned on insert and strictly
	// increasing; cursors use it.
	Seq int64
	// Added is when the store added the version, assigned on insert:
	// microsecond precision, unique, and increasing with Seq, so it can be
	// TAXII's date_added and "added after" never skips or repeats.
	Added time.Time
}

// Key returns the version key "id@modified" used in messages and logs.
func (o *ObjectVersion) Key() string {
	return o.ID + "@" + o.Modified.UTC().Format(time.RFC3339Nano)
}

// ObjectFilter selects object versions. Zero fields select everything.
type ObjectFilter struct {
	IDs        []string  // any of these ids
	Types      []string  // any of these types
	AfterSeq   int64     // versions with Seq > AfterSeq
	AddedAfter time.Time // versions with Added > AddedAfter
	Originator string    // versions from this originator
	// LatestOnly keeps only the newest version of each id among those
	// selected.
	LatestOnly bool
	// WithQuarantined includes quarantined versions, which are left out
	// otherwise.
	WithQuarantined bool
	Limit           int // at most this many, 0 for no limit; ordered by Seq
}

// Ref is one reference from an object to another: the property path it sits
// at (e.g. "created_by_ref", "object_refs", "extensions.x.sample_ref") and
// the id it names.
type Ref struct {
	Path string `json:"path"`
	ID   string `json:"id"`
}

// GranularMarking applies one marking to the properties its selectors name
// (STIX 2.1 section 7.2.3), e.g. "description" or "external_references.[0]".
type GranularMarking struct {
	Marking   string   `json:"marking_ref"`
	Lang      string   `json:"lang,omitempty"`
	Selectors []string `json:"selectors"`
}

// RefIDs returns the ids o references, in order, without duplicates.
func (o *ObjectVersion) RefIDs() []string {
	seen := make(map[string]bool, len(o.Refs))
	out := make([]string, 0, len(o.Refs))
	for _, r := range o.Refs {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r.ID)
		}
	}
	return out
}
