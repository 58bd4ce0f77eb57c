package detente

import (
	"strings"
	"time"
)

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
	// Origin is the key of the node that originated the version: the
	// Signer, or, for a redacted projection another node relayed, the
	// original signer the relay's signed statement names (docs/stix.md).
	// The origin of an id's first stored version owns the id; nil means
	// the Signer.
	Origin PublicKey
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

// OriginKey returns the key that originated the version: Origin, else
// Signer.
func (o *ObjectVersion) OriginKey() PublicKey {
	if len(o.Origin) > 0 {
		return o.Origin
	}
	return o.Signer
}

// Observable reports whether the version is a STIX Cyber-observable
// Object (SCO): the only objects without a created time (STIX 2.1 §6).
// Their ids derive from their values, so the same id from two originators
// is one value observed twice, not one object.
func (o *ObjectVersion) Observable() bool { return o.Created.IsZero() }

// Relayed reports whether the version is a projection another node
// relayed: signed by a node other than its origin.
func (o *ObjectVersion) Relayed() bool {
	return len(o.Origin) > 0 && !o.Origin.Equal(o.Signer)
}

// Quarantine reasons the store itself gives (Tx.PutObject): they enforce
// id ownership, whoever calls. Each is followed by ": " and a sentence.
const (
	// QuarantineForeign marks a version whose origin is not the owner of
	// its id: it is never a version of that object.
	QuarantineForeign = "foreign-version"
	// QuarantineImmutable marks a second version of a marking-definition,
	// which STIX 2.1 defines as immutable.
	QuarantineImmutable = "immutable-marking"
	// QuarantineSuperseded marks a relayed copy of a version the owner
	// signed itself, or any relayed copy once the owner's own signed
	// versions are held: they are never the current version.
	QuarantineSuperseded = "relayed-copy-superseded"
)

// NormalID returns id as the node compares and indexes ids: in lower case.
// RFC 4122 reads UUIDs case-insensitively and STIX type names are lower
// case, so "indicator--ABC…" and "indicator--abc…" are one object. The
// object's own bytes keep the spelling they came with.
func NormalID(id string) string {
	for i := 0; i < len(id); i++ {
		if c := id[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(id)
		}
	}
	return id
}

// NormalizeIDs puts o.ID and the ids o references (Refs, Markings,
// Granular marking refs) in NormalID form. Paths and selectors are left as
// they are: they name properties, and dictionary keys keep their case.
func (o *ObjectVersion) NormalizeIDs() {
	o.ID = NormalID(o.ID)
	for i := range o.Refs {
		o.Refs[i].ID = NormalID(o.Refs[i].ID)
	}
	for i := range o.Markings {
		o.Markings[i] = NormalID(o.Markings[i])
	}
	for i := range o.Granular {
		o.Granular[i].Marking = NormalID(o.Granular[i].Marking)
	}
}

// AddQuarantine quarantines o for code (a Quarantine… reason or a policy's
// summary) with a sentence of detail, before any reason it already had.
func (o *ObjectVersion) AddQuarantine(code, detail string) {
	q := code
	if detail != "" {
		q += ": " + detail
	}
	if o.Quarantine != "" {
		q += "; " + o.Quarantine
	}
	o.Quarantine = q
}

// Key returns the version key "id@modified" used in messages and logs.
func (o *ObjectVersion) Key() string {
	return o.ID + "@" + o.Modified.UTC().Format(time.RFC3339Nano)
}

// StoreKey returns the key under which the store holds this version,
// "id@modified@signer": two originators' versions with the same id and
// modified (observables have no modified at all) are two versions, and
// anything that caches decisions about versions must tell them apart.
func (o *ObjectVersion) StoreKey() string {
	return NormalID(o.ID) + "@" + o.Modified.UTC().Format(time.RFC3339Nano) + "@" + o.Signer.String()
}

// ObjectFilter selects object versions. Zero fields select everything.
type ObjectFilter struct {
	IDs        []string  // any of these ids
	Types      []string  // any of these types
	AfterSeq   int64     // versions with Seq > AfterSeq
	BeforeSeq  int64     // versions with Seq < BeforeSeq, when positive
	AddedAfter time.Time // versions with Added > AddedAfter
	Originator string    // versions from this originator
	// LatestOnly keeps only the newest version of each id among those
	// selected.
	LatestOnly bool
	// WithQuarantined includes quarantined versions, which are left out
	// otherwise.
	WithQuarantined bool
	// MultiVersion keeps only the versions of ids that have more than one
	// version stored (counting quarantined ones only WithQuarantined): a
	// TAXII page asks it of its ids to learn which have versions besides
	// the one on the page, without reading every single-version object
	// twice.
	MultiVersion bool
	Limit        int // at most this many, 0 for no limit; ordered by Seq
	// Newest orders by Seq descending instead: the versions stored last
	// first (with Limit, the last ones selected).
	Newest bool
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

// SupersededDetail is the sentence that follows QuarantineSuperseded.
const SupersededDetail = "the owner's own signed versions of this id are held"

// ClaimsID reports whether storing o as the first version of its id
// makes o's origin the id's owner: not when o already arrives quarantined
// as foreign (signed with a retired key, a relay naming this node as its
// originator), since its origin speaks for no one. The id then stays
// unowned until a version that claims it is stored.
func (o *ObjectVersion) ClaimsID() bool {
	return !strings.Contains(o.Quarantine, QuarantineForeign+":")
}

// Held is what a store holds of an id that already has an owner, as
// ApplyOwnership needs it.
type Held struct {
	// Others is whether a version of the id with another Modified is
	// stored.
	Others bool
	// OwnerSigned is whether a version signed by the owner is stored.
	OwnerSigned bool
	// OwnerDated is whether a version the owner originated has a created
	// time: the id names the owner's object, not a value anyone may
	// observe. A version without one from someone else is then foreign,
	// however its sender dressed it (a custom type's bytes decide whether
	// it is an observable).
	OwnerDated bool
}

// ApplyOwnership applies id ownership to o, a version about to be stored
// for an id that already has an owner (see Tx.PutObject), given what is
// held of the id. It quarantines o when the rules say so, and reports
// whether storing o supersedes the relayed copies of the id: o is signed
// by the owner itself. Both stores call it, so they decide alike.
func ApplyOwnership(o *ObjectVersion, owner PublicKey, held Held) (supersede bool) {
	switch {
	case !o.OriginKey().Equal(owner) && o.Observable() && !held.OwnerDated:
		return false // each originator's observation is its own
	case !o.OriginKey().Equal(owner):
		o.AddQuarantine(QuarantineForeign, "the id belongs to "+owner.String()+", this version comes from "+o.OriginKey().String())
		return false
	case o.Type == "marking-definition" && held.Others:
		o.AddQuarantine(QuarantineImmutable, "a marking-definition has one version and "+o.ID+" already has one")
		return false
	case o.Relayed() && held.OwnerSigned:
		o.AddQuarantine(QuarantineSuperseded, SupersededDetail)
		return false
	}
	return o.Signer.Equal(owner)
}

// ConflictError is the ECONFLICT error of storing o when a version with
// its ID and Modified but other content is stored.
func ConflictError(o *ObjectVersion) error {
	return Errorf(ECONFLICT, "%s: a different version with modified %s is already stored",
		o.ID, o.Modified.UTC().Format(time.RFC3339Nano))
}
