package hotline

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"detente"
)

// DeliveryState is where a message stands between the two ends.
type DeliveryState string

// Delivery states, in order. An outgoing message is sent until every
// recipient's node has accepted it (delivered), acknowledged when every
// recipient has acknowledged it (if it needs acknowledgement), and answered
// when a request has its response. An incoming message starts delivered.
const (
	Sent         DeliveryState = "sent"
	Delivered    DeliveryState = "delivered"
	Acknowledged DeliveryState = "acknowledged"
	Answered     DeliveryState = "answered"
)

// Delivery is the state of an outgoing message at one recipient.
type Delivery struct {
	Partner     string            `json:"partner"` // the recipient party's name
	Key         detente.PublicKey `json:"key"`
	Attempts    int               `json:"attempts"`
	NextAttempt time.Time         `json:"next_attempt,omitzero"` // zero when nothing is to be sent
	LastError   string            `json:"last_error,omitempty"`  // for the operator's log, never for a partner
	DeliveredAt time.Time         `json:"delivered_at,omitzero"`
	// Failed is set when the recipient refused the message for good (it
	// is invalid or forbidden there); the outbox stops retrying.
	Failed         bool      `json:"failed,omitempty"`
	FailedReported bool      `json:"failed_reported,omitempty"`
	AckedAt        time.Time `json:"acked_at,omitzero"`
	AckedBy        string    `json:"acked_by,omitempty"` // the named person
	AckID          string    `json:"ack_id,omitempty"`   // the acknowledgement message
}

// pending reports whether d is due to be (re)sent.
func (d *Delivery) pending() bool { return !d.NextAttempt.IsZero() && !d.Failed }

// Record is a message as this node stores it, with its delivery state.
type Record struct {
	Message  *Message      `json:"message"`
	Outgoing bool          `json:"outgoing"` // sent by this node
	State    DeliveryState `json:"state"`
	Stored   time.Time     `json:"stored"` // when this node stored it
	// AckDue is when the message must be acknowledged, zero if it need
	// not be (from the channel's AckWithin when the message was stored).
	AckDue time.Time `json:"ack_due,omitzero"`
	// Deliveries holds the state at each recipient (outgoing only).
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// AckedAt, AckedBy and AckID record this node's acknowledgement of an
	// incoming message.
	AckedAt time.Time `json:"acked_at,omitzero"`
	AckedBy string    `json:"acked_by,omitempty"`
	AckID   string    `json:"ack_id,omitempty"`
	// AnsweredAt and Answer record the response to a request.
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Answer     string    `json:"answer,omitempty"`
	// Escalations counts how often a missing acknowledgement was
	// escalated, at most MaxEscalations; NextEscalation is when the next
	// one is due (zero after the last).
	Escalations    int       `json:"escalations,omitempty"`
	NextEscalation time.Time `json:"next_escalation,omitzero"`
	// DueFlagged is set once an unanswered request past its due time has
	// been reported.
	DueFlagged bool `json:"due_flagged,omitempty"`
	// Abandoned is set when the channel closed before the record
	// settled: nothing more is sent or awaited.
	Abandoned bool `json:"abandoned,omitempty"`
	// Pending is set while some delivery is due to be sent (an index for
	// the outbox); Open while the escalator still has something to watch.
	Pending bool `json:"pending"`
	Open    bool `json:"open"`
}

// refresh recomputes r's State, Pending and Open from its other fields.
func (r *Record) refresh() {
	m := r.Message
	if !r.Outgoing {
		r.Pending = false
		switch {
		case !r.AnsweredAt.IsZero():
			r.State = Answered
		case !r.AckedAt.IsZero():
			r.State = Acknowledged
		default:
			r.State = Delivered
		}
		r.Open = false
		return
	}
	delivered, acked := true, true
	r.Pending = false
	for i := range r.Deliveries {
		d := &r.Deliveries[i]
		r.Pending = r.Pending || d.pending() && !r.Abandoned
		delivered = delivered && !d.DeliveredAt.IsZero()
		acked = acked && !d.AckedAt.IsZero()
	}
	switch {
	case m.Type == TypeRequest && !r.AnsweredAt.IsZero():
		r.State = Answered
	case !r.AckDue.IsZero() && acked:
		r.State = Acknowledged
	case delivered:
		r.State = Delivered
	default:
		r.State = Sent
	}
	failedUnreported := false
	for _, d := range r.Deliveries {
		failedUnreported = failedUnreported || d.Failed && !d.FailedReported
	}
	r.Open = !r.Abandoned && (r.Pending || failedUnreported ||
		!r.AckDue.IsZero() && !acked && r.Escalations < MaxEscalations ||
		m.Type == TypeRequest && r.AnsweredAt.IsZero() && !r.DueFlagged)
}

// Awaiting reports whether r is an incoming message this node has yet to
// act on: one that needs an acknowledgement it has not given, or a
// request it has not answered.
func (r *Record) Awaiting() bool {
	return !r.Outgoing && !r.Abandoned &&
		(!r.AckDue.IsZero() && r.AckedAt.IsZero() || r.Message.Type == TypeRequest && r.AnsweredAt.IsZero())
}

// MessageFilter selects stored messages. Zero fields select everything.
type MessageFilter struct {
	Channel  string
	Outgoing bool // only messages this node sent
	Pending  bool // only records with Pending set
	Open     bool // only records with Open set
	Awaiting bool // only records that are Awaiting
	Limit    int  // at most this many, 0 for no limit
}

// Store persists channels, messages and heartbeats. Every method is
// atomic; implementations must be safe for concurrent use. Lookups of
// missing things return a *detente.Error with code ENOTFOUND.
//
// Service.Store implements it over the node's documents, writing the log
// event of each change in the same transaction (see docs/channels.md);
// MemStore is the in-memory implementation. Package hotlinetest is the
// conformance suite both pass.
type Store interface {
	// CreateChannel stores a new channel; EEXISTS if ch.ID is taken.
	CreateChannel(ctx context.Context, ch *Channel) error
	// Channel returns the channel id.
	Channel(ctx context.Context, id string) (*Channel, error)
	// Channels returns every channel, by id.
	Channels(ctx context.Context) ([]*Channel, error)
	// UpdateChannel reads channel id, calls fn on it and stores the result
	// if fn returns nil, all atomically; fn's error is returned unchanged.
	UpdateChannel(ctx context.Context, id string, fn func(*Channel) error) error

	// PutMessage stores r unless a message from the same sender with the
	// same idempotency key is stored already. It returns the stored record
	// (r, or the one already there) and whether r was inserted. A message
	// with r's ID but another sender or key is ECONFLICT.
	PutMessage(ctx context.Context, r *Record) (*Record, bool, error)
	// Message returns the message id.
	Message(ctx context.Context, id string) (*Record, error)
	// Messages returns the records f selects, oldest first.
	Messages(ctx context.Context, f MessageFilter) ([]*Record, error)
	// UpdateMessage reads message id, calls fn on it and stores the result
	// if fn returns nil, all atomically; fn's error is returned unchanged.
	UpdateMessage(ctx context.Context, id string, fn func(*Record) error) error

	// PutHeard records that partner was last heard on channel at t. An
	// earlier t than the one stored is ignored.
	PutHeard(ctx context.Context, channel, partner string, t time.Time) error
	// Heard returns when each partner was last heard on channel.
	Heard(ctx context.Context, channel string) (map[string]time.Time, error)
}

// MemStore is a Store in memory. Records are deep-copied in and out, as a
// database would, so callers cannot change stored state by accident.
type MemStore struct {
	mu       sync.Mutex
	channels map[string][]byte
	messages map[string][]byte
	order    []string          // message ids in insertion order
	keys     map[string]string // sender key + idempotency key → message id
	heard    map[string]map[string]time.Time
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		channels: map[string][]byte{},
		messages: map[string][]byte{},
		keys:     map[string]string{},
		heard:    map[string]map[string]time.Time{},
	}
}

func enc(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("hotline: MemStore cannot encode: " + err.Error()) // validated data always encodes
	}
	return b
}

func decChannel(b []byte) *Channel {
	var ch Channel
	if err := json.Unmarshal(b, &ch); err != nil {
		panic("hotline: MemStore cannot decode: " + err.Error())
	}
	return &ch
}

func decRecord(b []byte) *Record {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		panic("hotline: MemStore cannot decode: " + err.Error())
	}
	return &r
}

// CreateChannel implements Store.
func (s *MemStore) CreateChannel(ctx context.Context, ch *Channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[ch.ID]; ok {
		return detente.Errorf(detente.EEXISTS, "channel %s already exists", ch.ID)
	}
	s.channels[ch.ID] = enc(ch)
	return nil
}

// Channel implements Store.
func (s *MemStore) Channel(ctx context.Context, id string) (*Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.channels[id]
	if !ok {
		return nil, detente.Errorf(detente.ENOTFOUND, "channel %s not found", id)
	}
	return decChannel(b), nil
}

// Channels implements Store.
func (s *MemStore) Channels(ctx context.Context) ([]*Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Channel, 0, len(s.channels))
	for _, b := range s.channels {
		out = append(out, decChannel(b))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateChannel implements Store.
func (s *MemStore) UpdateChannel(ctx context.Context, id string, fn func(*Channel) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.channels[id]
	if !ok {
		return detente.Errorf(detente.ENOTFOUND, "channel %s not found", id)
	}
	ch := decChannel(b)
	if err := fn(ch); err != nil {
		return err
	}
	s.channels[id] = enc(ch)
	return nil
}

// PutMessage implements Store.
func (s *MemStore) PutMessage(ctx context.Context, r *Record) (*Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := r.Message
	k := string(m.From) + "\x00" + m.IdempotencyKey
	if id, ok := s.keys[k]; ok {
		return decRecord(s.messages[id]), false, nil
	}
	if _, ok := s.messages[m.ID]; ok {
		return nil, false, detente.Errorf(detente.ECONFLICT, "message %s is already stored under another sender or idempotency key", m.ID)
	}
	b := enc(r)
	s.messages[m.ID] = b
	s.keys[k] = m.ID
	s.order = append(s.order, m.ID)
	return decRecord(b), true, nil
}

// Message implements Store.
func (s *MemStore) Message(ctx context.Context, id string) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.messages[id]
	if !ok {
		return nil, detente.Errorf(detente.ENOTFOUND, "message %s not found", id)
	}
	return decRecord(b), nil
}

// Messages implements Store.
func (s *MemStore) Messages(ctx context.Context, f MessageFilter) ([]*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Record
	for _, id := range s.order {
		r := decRecord(s.messages[id])
		switch {
		case f.Channel != "" && r.Message.Channel != f.Channel,
			f.Outgoing && !r.Outgoing,
			f.Pending && !r.Pending,
			f.Open && !r.Open,
			f.Awaiting && !r.Awaiting():
			continue
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// UpdateMessage implements Store.
func (s *MemStore) UpdateMessage(ctx context.Context, id string, fn func(*Record) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.messages[id]
	if !ok {
		return detente.Errorf(detente.ENOTFOUND, "message %s not found", id)
	}
	r := decRecord(b)
	if err := fn(r); err != nil {
		return err
	}
	s.messages[id] = enc(r)
	return nil
}

// PutHeard implements Store.
func (s *MemStore) PutHeard(ctx context.Context, channel, partner string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.heard[channel]
	if m == nil {
		m = map[string]time.Time{}
		s.heard[channel] = m
	}
	if t.After(m[partner]) {
		m[partner] = t
	}
	return nil
}

// Heard implements Store.
func (s *MemStore) Heard(ctx context.Context, channel string) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for k, v := range s.heard[channel] {
		out[k] = v
	}
	return out, nil
}
