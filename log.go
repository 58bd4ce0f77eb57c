package detente

import "time"

// LogNode names one stored hash of the log's Merkle tree: the complete
// subtree at Level (0 for leaves) whose leaves are
// [Index×2^Level, (Index+1)×2^Level). Level-0 nodes are the events' leaf
// hashes, with Index equal to the event's Seq. internal/translog decides
// which nodes are stored.
type LogNode struct {
	Level int
	Index int64
}

// LogHash is a SHA-256 tree hash (RFC 6962).
type LogHash [32]byte

// Checkpoint is a signed statement of the log's size and root hash, in the
// C2SP tlog-checkpoint format as a signed note (docs/log.md).
type Checkpoint struct {
	Size int64
	Note []byte // the signed note, without cosignatures
	Time time.Time
}

// Alert kinds.
const (
	AlertSplitView  = "split-view" // a partner's log is inconsistent with what it showed before
	AlertQuarantine = "quarantine" // an incoming object was quarantined
	AlertWitness    = "witness"    // a partner's checkpoint could not be witnessed
	AlertChannel    = "channel"    // a liaison channel: a missed acknowledgement, an overdue request, a refused delivery, a silent line, a deconfliction conflict

	// AlertReciprocity: a partner gives back less than its agreement's
	// reciprocity terms ask (internal/ledger).
	AlertReciprocity = "reciprocity"
)

// Alert is something an operator must look at, with its evidence.
//
// An alert with a Key is one condition, raised again and again while it
// lasts (an acknowledgement still overdue, a line still silent, the same
// object quarantined again): the store keeps one alert per Kind and Key,
// updated in place (Tx.PutAlert), so that a condition that repeats does
// not push every other alert out of sight.
type Alert struct {
	ID int64
	// Key names the condition within Kind, e.g. "ack-overdue/message--…"
	// or an object's id; "" for an alert that stands alone.
	Key      string
	Time     time.Time // when it was last raised
	First    time.Time // when it was first raised
	Count    int       // how many times it was raised
	Kind     string
	Partner  string
	Message  string
	Evidence []byte // e.g. both conflicting checkpoints
}

// AlertGroup is what the store holds of one kind of alert.
type AlertGroup struct {
	Kind   string
	Alerts int64     // how many alerts (conditions) of this kind are held
	Raised int64     // how many times they were raised, in all
	Last   time.Time // when one was last raised
	// Latest are the most recently raised alerts of the kind, newest
	// first.
	Latest []*Alert
}
