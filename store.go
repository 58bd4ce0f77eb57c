package detente

import (
	"context"
	"time"
)

// Store is the node's storage. It is the one contract every backend
// (SQLite, PostgreSQL) implements and internal/storetest checks.
//
// All access goes through transactions, so that a state change and the log
// event that records it are written together or not at all.
type Store interface {
	// Update runs fn in one read-write transaction. If fn returns nil the
	// transaction commits and Update returns only once the commit is
	// durable; otherwise everything fn did is rolled back and fn's error is
	// returned unchanged. fn may be called more than once when the backend
	// retries a serialisation failure, so it must not have other effects.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction over a consistent snapshot.
	// Write methods called on its Tx fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's resources.
	Close() error
}

// Tx is one transaction. A Tx is only valid inside the function it was
// given to and must not be used concurrently. Lookups of missing things
// return an *Error with code ENOTFOUND.
type Tx interface {
	// PutObject stores a new object version and assigns its Seq and Added.
	// A version is identified by its ID, Modified and Signer: PutObject
	// returns false, and changes nothing, when the same version with the
	// same Raw is stored; the same version with other content is an
	// ECONFLICT error. (Another signer's version with the same ID and
	// Modified is another version: it never blocks this one.)
	//
	// Ids are compared in NormalID form: o.ID and the ids of o.Refs,
	// o.Markings and o.Granular are stored normalised, o.Raw as it is.
	//
	// PutObject enforces id ownership. The origin (OriginKey) of the first
	// version stored of an id owns the id for good. PutObject stores o
	// quarantined, prefixing o.Quarantine with the reason, when:
	//   - o's origin is not the id's owner (QuarantineForeign), unless o is
	//     an observable (Observable): each originator's observation of a
	//     value is its own;
	//   - o is a marking-definition and another version of its id is
	//     stored (QuarantineImmutable);
	//   - o is a relayed copy (Relayed) and a version of the id signed by
	//     its owner is stored (QuarantineSuperseded).
	// Storing a version signed by the id's owner quarantines the relayed
	// copies of the id held (QuarantineSuperseded). So the versions of an
	// id that are not quarantined are its owner's, but for observables.
	PutObject(ctx context.Context, o *ObjectVersion) (bool, error)
	// PutObjects stores vs as PutObject would, one after the other, in one
	// call (one round trip to a database server): result i says whether
	// vs[i] was added, or holds its ECONFLICT error, in which case vs[i] is
	// not stored and the others are. Any other error stops the call.
	PutObjects(ctx context.Context, vs []*ObjectVersion) ([]PutResult, error)
	// Object returns the newest non-quarantined version of id, its owner's
	// before any other originator's (for observables, which several
	// originators may hold).
	Object(ctx context.Context, id string) (*ObjectVersion, error)
	// ObjectFrom returns the newest non-quarantined version of id that
	// origin originated (OriginKey), ENOTFOUND when there is none.
	ObjectFrom(ctx context.Context, id string, origin PublicKey) (*ObjectVersion, error)
	// ObjectVersion returns the version of id modified at modified,
	// quarantined or not; when several signers' are stored, the owner's
	// non-quarantined one first, then any non-quarantined one, then the
	// first stored.
	ObjectVersion(ctx context.Context, id string, modified time.Time) (*ObjectVersion, error)
	// ObjectVersions returns every version of id, oldest first, quarantined
	// ones included.
	ObjectVersions(ctx context.Context, id string) ([]*ObjectVersion, error)
	// Objects returns the versions f selects, ordered by Seq.
	Objects(ctx context.Context, f ObjectFilter) ([]*ObjectVersion, error)
	// Referrers returns the ids of the objects of which some stored
	// version (quarantined or not) references id (NormalID form), in the
	// order they were first stored, at most limit (0 for every one).
	Referrers(ctx context.Context, id string, limit int) ([]string, error)
	// CountObjects returns how many versions are stored (quarantined ones
	// included).
	CountObjects(ctx context.Context) (int64, error)
	// Owner returns the key that owns id: the origin of its first stored
	// version (see PutObject). ENOTFOUND when no version of id is stored.
	Owner(ctx context.Context, id string) (PublicKey, error)
	// ReassignOwner makes to the owner of every id from owns, and returns
	// how many moved: a partner's key changed, and its ids stay its own
	// (versions the old key signs later are then foreign).
	ReassignOwner(ctx context.Context, from, to PublicKey) (int64, error)

	// PutPartner creates or replaces the partner with p.Name.
	PutPartner(ctx context.Context, p *Partner) error
	// Partner returns the partner called name.
	Partner(ctx context.Context, name string) (*Partner, error)
	// PartnerByKey returns the partner whose key is k.
	PartnerByKey(ctx context.Context, k PublicKey) (*Partner, error)
	// Partners returns every partner, by name.
	Partners(ctx context.Context) ([]*Partner, error)

	// PutAgreement stores a as a new version of agreement a.ID. a.Version
	// must be one more than the latest stored version (1 for a new
	// agreement), else the result is ECONFLICT.
	PutAgreement(ctx context.Context, a *Agreement) error
	// Agreement returns the latest version of agreement id.
	Agreement(ctx context.Context, id string) (*Agreement, error)
	// Agreements returns the latest version of every agreement, covering
	// partner when partner is not "".
	Agreements(ctx context.Context, partner string) ([]*Agreement, error)
	// AgreementVersions returns every version of agreement id, oldest first.
	AgreementVersions(ctx context.Context, id string) ([]*Agreement, error)

	// PutConsent stores a new consent or, for an ID its originator already
	// used, records its revocation. A consent is keyed by (ID, Originator):
	// another node's consent under the same ID is another consent, so no
	// one can occupy the ID of a consent it did not issue. Only the
	// revocation can change: the signed consent stays as it was first
	// stored, and a revoked consent stays revoked whatever is put later.
	PutConsent(ctx context.Context, c *Consent) error
	// Consents returns the consents naming object id, revoked ones
	// included; every consent when object is "".
	Consents(ctx context.Context, object string) ([]*Consent, error)
	// Consent returns the consent originator issued with id, revoked or
	// not.
	Consent(ctx context.Context, id string, originator PublicKey) (*Consent, error)

	// PutRelease stores a release decision and assigns its ID.
	PutRelease(ctx context.Context, r *Release) error
	// PutReleases stores several decisions, in order, assigning their IDs:
	// a page served to a partner is recorded in one go.
	PutReleases(ctx context.Context, rs []*Release) error
	// Releases returns stored decisions, newest first.
	Releases(ctx context.Context, f ReleaseFilter) ([]*Release, error)

	// PutToken creates a token, or updates one with the same ID (revocation).
	PutToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token whose secret hashes to hash.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// Tokens returns every token, oldest first.
	Tokens(ctx context.Context) ([]*Token, error)

	// AppendEvent appends e to the log, assigns e.Seq (the next position)
	// and records the Merkle tree hashes the new leaf completes
	// (internal/translog.Append), all in this transaction. e.Time and
	// e.Body are stored exactly, to the nanosecond and byte.
	AppendEvent(ctx context.Context, e *Event) error
	// Events returns the events f selects.
	Events(ctx context.Context, f EventFilter) ([]*Event, error)
	// CountEvents returns the log's size.
	CountEvents(ctx context.Context) (int64, error)

	// LogHashes returns the stored tree hashes of the given nodes, in
	// order; ENOTFOUND if any was never stored.
	LogHashes(ctx context.Context, nodes []LogNode) ([]LogHash, error)
	// PutLogHashes stores tree hashes. Storing the hash a node already
	// holds is a no-op; a different one is ECONFLICT.
	PutLogHashes(ctx context.Context, nodes []LogNode, hashes []LogHash) error
	// PutCheckpoint stores the signed checkpoint for c.Size. There is only
	// ever one per size: if one is stored, PutCheckpoint returns EEXISTS
	// and leaves it.
	PutCheckpoint(ctx context.Context, c *Checkpoint) error
	// Checkpoint returns the checkpoint for size, or the latest when size
	// is negative.
	Checkpoint(ctx context.Context, size int64) (*Checkpoint, error)
	// Checkpoints returns every stored checkpoint, smallest size first.
	Checkpoints(ctx context.Context) ([]*Checkpoint, error)
	// PutCosignature records a witness's cosignature line for a checkpoint
	// size, replacing that witness's earlier line for the same size.
	PutCosignature(ctx context.Context, size int64, witness string, line []byte) error
	// Cosignatures returns the cosignature lines collected for size, by
	// witness name.
	Cosignatures(ctx context.Context, size int64) (map[string][]byte, error)
	// PutAlert records an alert. An alert with a Key is one condition:
	// when an alert of the same Kind and Key is stored, PutAlert updates
	// it in place (Time, Partner, Message and Evidence from a, Count one
	// more, ID and First kept) and sets a's ID, First and Count to the
	// stored ones. Otherwise it stores a new alert with First a.Time and
	// Count 1, and assigns its ID.
	PutAlert(ctx context.Context, a *Alert) error
	// Alerts returns the most recently raised alerts first (by Time, then
	// ID), at most limit (0 for every one).
	Alerts(ctx context.Context, limit int) ([]*Alert, error)
	// AlertGroups returns, for each kind of alert held, how many alerts
	// there are, how often they were raised and the perKind most recently
	// raised; the kind raised most recently first.
	AlertGroups(ctx context.Context, perKind int) ([]AlertGroup, error)

	// PutDesignation creates or replaces the designation with d's
	// Authority and EntityID.
	PutDesignation(ctx context.Context, d *Designation) error
	// Designations returns the designations of authority ("" for every
	// authority), ordered by authority then entity id; delisted ones only
	// when withDelisted is set.
	Designations(ctx context.Context, authority string, withDelisted bool) ([]*Designation, error)

	// PutDoc stores doc under (kind, id), replacing what was there. With
	// create set, an existing (kind, id) is EEXISTS instead and nothing
	// changes: an atomic insert-if-absent.
	PutDoc(ctx context.Context, kind, id string, doc []byte, create bool) error
	// CreateDocs creates an empty document (kind, id) for each of ids that
	// has none, in one statement, and reports for each whether this call
	// created it: false for an id that had a document already, or that
	// came earlier in ids. It is PutDoc with create set, for many ids.
	CreateDocs(ctx context.Context, kind string, ids []string) ([]bool, error)
	// Doc returns the document (kind, id).
	Doc(ctx context.Context, kind, id string) ([]byte, error)
	// Docs returns the documents of kind whose id starts with prefix,
	// ordered by id, at most limit (0 for all).
	Docs(ctx context.Context, kind, prefix string, limit int) ([]Doc, error)
	// DeleteDoc removes (kind, id); removing a missing document is not an
	// error.
	DeleteDoc(ctx context.Context, kind, id string) error

	// SyncState returns the sync state of partner; a partner never synced
	// has the zero state (and no error).
	SyncState(ctx context.Context, partner string) (*SyncState, error)
	// PutSyncState stores the sync state of s.Partner.
	PutSyncState(ctx context.Context, s *SyncState) error

	// Meta returns a node-level setting stored under key, ENOTFOUND if unset.
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta stores a node-level setting.
	SetMeta(ctx context.Context, key, value string) error
}

// PutResult is the outcome of one version in Tx.PutObjects.
type PutResult struct {
	// Added is true when the version was stored now, false when the same
	// version was already stored (or Err is set).
	Added bool
	// Err is an ECONFLICT error when another version with the same ID and
	// Modified is stored: this one was not.
	Err error
}

// SyncState is where pulling from one partner stands.
type SyncState struct {
	Partner     string    `json:"partner"`
	Cursor      time.Time `json:"cursor,omitzero"` // the partner's date_added of the last object stored
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Received    int64     `json:"received"`    // versions stored from this partner
	Quarantined int64     `json:"quarantined"` // of which quarantined by the ingress policy
	Rejected    int64     `json:"rejected"`    // refused outright (bad signature, conflict)
	Errors      int64     `json:"errors"`      // failed passes in a row
	LastError   string    `json:"last_error,omitempty"`
}

// Doc is a document stored by kind and id (Tx.PutDoc): the state of a
// capability that keeps small typed records of its own, such as channels,
// messages and watchlists, written in the same transactions as the rest.
type Doc struct {
	Kind string
	ID   string
	Body []byte
}

// CreatedInOrder answers CreateDocs for a store that learnt the set of ids
// its statement inserted: for each of ids, whether this call created it,
// an id repeated in ids by its first occurrence only. Both stores call it,
// so they answer alike.
func CreatedInOrder(ids []string, created map[string]bool) []bool {
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = created[id]
		delete(created, id)
	}
	return out
}
