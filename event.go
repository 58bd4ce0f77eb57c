package detente

import (
	"encoding/json"
	"time"
)

// Event types recorded in the node's transparency log.
const (
	EventNodeInit          = "node.init"
	EventObjectIngested    = "object.ingested"
	EventObjectReceived    = "object.received"
	EventObjectQuarantined = "object.quarantined"
	EventRelease           = "release"
	EventPartnerAdded      = "partner.added"
	EventPartnerChanged    = "partner.changed"
	EventAgreementAdded    = "agreement.added"
	EventAgreementChanged  = "agreement.changed"
	EventConsentAdded      = "consent.added"
	EventConsentRevoked    = "consent.revoked"
	EventConsentRefused    = "consent.refused"
	EventTokenCreated      = "token.created"
	EventTokenRevoked      = "token.revoked"
	EventDesignation       = "designation.changed"
	EventMatchQuery        = "match.query"
	EventWatchlist         = "watchlist.changed" // a watchlist added to or removed: name, type, marking, counts, never values
	EventMatchEpoch        = "match.epoch"       // an encoded watchlist published to a partner: epoch, SHA-256 of its public key
	EventChannel           = "channel"
	EventReciprocity       = "reciprocity" // a reciprocity hold engaged, recovered or released by an admin (internal/ledger)
	EventGrade             = "grade"       // this node's own grading of a partner or an assertion (internal/ledger)

	// Federation: what a node records of its partners' logs.

	// EventReleaseReceipt records, on the receiving side, a verified
	// inclusion proof of a partner's log entry releasing objects to this
	// node.
	EventReleaseReceipt = "release.receipt"
	// EventLogInconsistent records that a partner's log contradicted
	// what this node saw of it before (a split view), with a commitment
	// to the evidence kept in the alert.
	EventLogInconsistent = "log.inconsistent"
)

// Event is one entry of the node's append-only log. State changes and their
// events commit in the same transaction. Bodies never hold protected
// content in clear: where the content is protected they carry a hash
// commitment to it instead.
type Event struct {
	Seq     int64           `json:"seq"`  // 0-based position, assigned by the store
	Time    time.Time       `json:"time"` // when the change was made
	Type    string          `json:"type"`
	Partner string          `json:"partner,omitempty"` // the partner concerned, if any
	Body    json.RawMessage `json:"body"`              // canonical JSON, see docs/log.md
}

// NewEvent returns an event of type typ about partner (may be "") whose
// body is the JSON of body. body must be JSON-marshalable plain data.
func NewEvent(now time.Time, typ, partner string, body any) (*Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, Errorf(EINTERNAL, "encode %s event: %v", typ, err)
	}
	return &Event{Time: now.UTC(), Type: typ, Partner: partner, Body: b}, nil
}

// EventFilter selects events. Zero fields select everything.
type EventFilter struct {
	FromSeq int64 // events with Seq >= FromSeq
	// BeforeSeq, when positive, keeps events with Seq < BeforeSeq: with
	// Newest, the page of entries before one already shown.
	BeforeSeq int64
	Type      string
	Partner   string
	Limit     int  // at most this many, 0 for no limit
	Newest    bool // newest first instead of oldest first
}
