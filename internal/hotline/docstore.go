package hotline

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"detente"
)

// This file is the Store over the node's documents (detente.Tx.PutDoc),
// every change written with its log event (detente.EventChannel) in one
// transaction. docs/channels.md lists the kinds and the events.

// Document kinds of the service's state.
const (
	docChannel = "hotline.channel" // channel id → Channel
	docMessage = "hotline.message" // message id → Record
	docMsgKey  = "hotline.msgkey"  // hex(sender key)/idempotency key → message id
	docPending = "hotline.pending" // message id → "" while Record.Pending
	docOpen    = "hotline.open"    // message id → "" while Record.Open
	docAwait   = "hotline.await"   // message id → "" while Record.Awaiting
	// docIndex records, under "await", that docAwait holds every record
	// stored before it was kept (Service.Awaiting fills it once).
	docIndex    = "hotline.index"
	docHeard    = "hotline.heard"    // channel/partner → time last heard
	docPush     = "hotline.push"     // channel/party → pushState
	docActivity = "hotline.activity" // owner/activity id → activityDoc
	// docActivityVersion holds, under id "current", a random token
	// rewritten with every change to the activities (docActivity):
	// whoever writes an activity writes a new token in the same
	// transaction.
	docActivityVersion = "hotline.activity.version"
)

// Event actions in the body of detente.EventChannel entries.
const (
	actTransition   = "transition"
	actMessage      = "message"
	actMessageState = "message.state"
	actRefused      = "refused"
	actAlert        = "alert"
	actConflict     = "conflict"
	actResolved     = "conflict.resolved"
)

// txStore is the Store inside one transaction of the node's database:
// every change it makes is logged in that transaction.
type txStore struct {
	s  *Service
	tx detente.Tx
}

var _ Store = txStore{}

func getDoc[T any](ctx context.Context, tx detente.Tx, kind, id, what string) (*T, error) {
	b, err := tx.Doc(ctx, kind, id)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil, detente.Errorf(detente.ENOTFOUND, "%s %s not found", what, id)
	}
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", what, id, err)
	}
	return v, nil
}

func putDoc(ctx context.Context, tx detente.Tx, kind, id string, v any, create bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, id, err)
	}
	return tx.PutDoc(ctx, kind, id, b, create)
}

// CreateChannel implements Store.
func (s txStore) CreateChannel(ctx context.Context, ch *Channel) error {
	if err := putDoc(ctx, s.tx, docChannel, ch.ID, ch, true); err != nil {
		if detente.ErrorCode(err) == detente.EEXISTS {
			return detente.Errorf(detente.EEXISTS, "channel %s already exists", ch.ID)
		}
		return err
	}
	return s.logTransitions(ctx, ch, 0)
}

// Channel implements Store.
func (s txStore) Channel(ctx context.Context, id string) (*Channel, error) {
	return getDoc[Channel](ctx, s.tx, docChannel, id, "channel")
}

// Channels implements Store.
func (s txStore) Channels(ctx context.Context) ([]*Channel, error) {
	ds, err := s.tx.Docs(ctx, docChannel, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Channel, 0, len(ds))
	for _, d := range ds {
		var ch Channel
		if err := json.Unmarshal(d.Body, &ch); err != nil {
			return nil, fmt.Errorf("decode channel %s: %w", d.ID, err)
		}
		out = append(out, &ch)
	}
	return out, nil
}

// UpdateChannel implements Store.
func (s txStore) UpdateChannel(ctx context.Context, id string, fn func(*Channel) error) error {
	ch, err := s.Channel(ctx, id)
	if err != nil {
		return err
	}
	before := len(ch.Transitions)
	if err := fn(ch); err != nil {
		return err
	}
	if err := putDoc(ctx, s.tx, docChannel, id, ch, false); err != nil {
		return err
	}
	return s.logTransitions(ctx, ch, before)
}

// logTransitions logs ch's transitions from index from on.
func (s txStore) logTransitions(ctx context.Context, ch *Channel, from int) error {
	for _, t := range ch.Transitions[from:] {
		by := ""
		if p, ok := ch.Party(t.By); ok {
			by = p.Name
		}
		body := map[string]any{"action": actTransition, "channel": ch.ID, "seq": t.Seq, "from": string(t.From), "to": string(t.To),
			"state": string(ch.State), "reason": t.Reason, "by": by, "signer": t.By.String(), "terms_sha256": hex.EncodeToString(t.TermsHash)}
		partner := by
		if t.By.Equal(s.s.self) {
			partner = ""
		}
		if err := s.s.logEvent(ctx, s.tx, partner, body); err != nil {
			return err
		}
	}
	return nil
}

func msgKey(from detente.PublicKey, key string) string { return hex.EncodeToString(from) + "/" + key }

// PutMessage implements Store.
func (s txStore) PutMessage(ctx context.Context, r *Record) (*Record, bool, error) {
	m := r.Message
	k := msgKey(m.From, m.IdempotencyKey)
	if b, err := s.tx.Doc(ctx, docMsgKey, k); err == nil {
		stored, err := s.Message(ctx, string(b))
		return stored, false, err
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, false, err
	}
	if _, err := s.tx.Doc(ctx, docMessage, m.ID); err == nil {
		return nil, false, detente.Errorf(detente.ECONFLICT, "message %s is already stored under another sender or idempotency key", m.ID)
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, false, err
	}
	// The insert-if-absent of the (sender, idempotency key) pair is what
	// makes a concurrent second delivery a duplicate rather than a copy.
	if err := s.tx.PutDoc(ctx, docMsgKey, k, []byte(m.ID), true); err != nil {
		return nil, false, err
	}
	if err := s.writeMessage(ctx, r); err != nil {
		return nil, false, err
	}
	body := map[string]any{"action": actMessage, "channel": m.Channel, "message": m.ID, "type": string(m.Type),
		"direction": direction(r), "state": string(r.State), "digest_sha256": hex.EncodeToString(m.Digest())}
	if m.InReplyTo != "" {
		body["in_reply_to"] = m.InReplyTo
	}
	if !m.Due.IsZero() {
		body["due"] = m.Due.UTC().Format(time.RFC3339Nano) // for the reciprocity ledger: answered on time or late
	}
	if m.Activity != nil {
		body["activity"], body["activity_version"] = m.Activity.ID, m.Activity.Version
	}
	if err := s.s.logEvent(ctx, s.tx, s.counterpart(ctx, r), body); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

func direction(r *Record) string {
	if r.Outgoing {
		return "out"
	}
	return "in"
}

// counterpart names the partner a record is about in the log: the sender
// of an incoming message, the one recipient of an outgoing one.
func (s txStore) counterpart(ctx context.Context, r *Record) string {
	if r.Outgoing {
		if len(r.Deliveries) == 1 {
			return r.Deliveries[0].Partner
		}
		return ""
	}
	if ch, err := s.Channel(ctx, r.Message.Channel); err == nil {
		if p, ok := ch.Party(r.Message.From); ok {
			return p.Name
		}
	}
	return ""
}

// writeMessage stores r and keeps the pending, open and awaiting indexes.
func (s txStore) writeMessage(ctx context.Context, r *Record) error {
	id := r.Message.ID
	if err := putDoc(ctx, s.tx, docMessage, id, r, false); err != nil {
		return err
	}
	for _, ix := range []struct {
		kind string
		on   bool
	}{{docPending, r.Pending}, {docOpen, r.Open}, {docAwait, r.Awaiting()}} {
		var err error
		if ix.on {
			err = s.tx.PutDoc(ctx, ix.kind, id, nil, false)
		} else {
			err = s.tx.DeleteDoc(ctx, ix.kind, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Message implements Store.
func (s txStore) Message(ctx context.Context, id string) (*Record, error) {
	return getDoc[Record](ctx, s.tx, docMessage, id, "message")
}

// Messages implements Store.
func (s txStore) Messages(ctx context.Context, f MessageFilter) ([]*Record, error) {
	var out []*Record
	if f.Pending || f.Open || f.Awaiting {
		kind := docPending
		switch {
		case f.Pending:
		case f.Open:
			kind = docOpen
		default:
			kind = docAwait
		}
		ids, err := s.tx.Docs(ctx, kind, "", 0)
		if err != nil {
			return nil, err
		}
		for _, d := range ids {
			r, err := s.Message(ctx, d.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	} else {
		ds, err := s.tx.Docs(ctx, docMessage, "", 0)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			var r Record
			if err := json.Unmarshal(d.Body, &r); err != nil {
				return nil, fmt.Errorf("decode message %s: %w", d.ID, err)
			}
			out = append(out, &r)
		}
	}
	out = slices.DeleteFunc(out, func(r *Record) bool {
		return f.Channel != "" && r.Message.Channel != f.Channel || f.Outgoing && !r.Outgoing ||
			f.Pending && !r.Pending || f.Open && !r.Open || f.Awaiting && !r.Awaiting()
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Stored.Equal(out[j].Stored) {
			return out[i].Stored.Before(out[j].Stored)
		}
		return out[i].Message.ID < out[j].Message.ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// UpdateMessage implements Store. A change of delivery state
// (sent, delivered, acknowledged, answered), a refusal by a recipient and
// the abandonment of a message are logged; retries and escalation counts
// are not.
func (s txStore) UpdateMessage(ctx context.Context, id string, fn func(*Record) error) error {
	r, err := s.Message(ctx, id)
	if err != nil {
		return err
	}
	state, abandoned, failed := r.State, r.Abandoned, failedCount(r)
	if err := fn(r); err != nil {
		return err
	}
	if err := s.writeMessage(ctx, r); err != nil {
		return err
	}
	if r.State == state && r.Abandoned == abandoned && failedCount(r) == failed {
		return nil
	}
	body := map[string]any{"action": actMessageState, "channel": r.Message.Channel, "message": id, "type": string(r.Message.Type),
		"direction": direction(r), "from_state": string(state), "state": string(r.State)}
	if r.Abandoned {
		body["abandoned"] = true
	}
	if n := failedCount(r); n > 0 {
		body["refused_by"] = n
	}
	return s.s.logEvent(ctx, s.tx, s.counterpart(ctx, r), body)
}

func failedCount(r *Record) int {
	n := 0
	for _, d := range r.Deliveries {
		if d.Failed {
			n++
		}
	}
	return n
}

// PutHeard implements Store. It is not logged: heartbeats would
// flood the log.
func (s txStore) PutHeard(ctx context.Context, channel, partner string, t time.Time) error {
	id := channel + "/" + partner
	var last time.Time
	if b, err := s.tx.Doc(ctx, docHeard, id); err == nil {
		_ = last.UnmarshalText(b) // an unreadable time is replaced
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return err
	}
	if !t.After(last) {
		return nil
	}
	b, _ := t.UTC().MarshalText()
	return s.tx.PutDoc(ctx, docHeard, id, b, false)
}

// Heard implements Store.
func (s txStore) Heard(ctx context.Context, channel string) (map[string]time.Time, error) {
	ds, err := s.tx.Docs(ctx, docHeard, channel+"/", 0)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, d := range ds {
		var t time.Time
		if err := t.UnmarshalText(d.Body); err == nil {
			out[strings.TrimPrefix(d.ID, channel+"/")] = t
		}
	}
	return out, nil
}

// dbStore is the Store over the node's database: each call is one
// transaction.
type dbStore struct{ s *Service }

var _ Store = dbStore{}

func (s dbStore) update(ctx context.Context, fn func(txStore) error) error {
	return s.s.db.Update(ctx, func(tx detente.Tx) error { return fn(txStore{s.s, tx}) })
}

func (s dbStore) view(ctx context.Context, fn func(txStore) error) error {
	return s.s.db.View(ctx, func(tx detente.Tx) error { return fn(txStore{s.s, tx}) })
}

// CreateChannel implements Store.
func (s dbStore) CreateChannel(ctx context.Context, ch *Channel) error {
	return s.update(ctx, func(t txStore) error { return t.CreateChannel(ctx, ch) })
}

// Channel implements Store.
func (s dbStore) Channel(ctx context.Context, id string) (ch *Channel, err error) {
	err = s.view(ctx, func(t txStore) error { ch, err = t.Channel(ctx, id); return err })
	return ch, err
}

// Channels implements Store.
func (s dbStore) Channels(ctx context.Context) (chs []*Channel, err error) {
	err = s.view(ctx, func(t txStore) error { chs, err = t.Channels(ctx); return err })
	return chs, err
}

// UpdateChannel implements Store.
func (s dbStore) UpdateChannel(ctx context.Context, id string, fn func(*Channel) error) error {
	return s.update(ctx, func(t txStore) error { return t.UpdateChannel(ctx, id, fn) })
}

// PutMessage implements Store.
func (s dbStore) PutMessage(ctx context.Context, r *Record) (stored *Record, inserted bool, err error) {
	err = s.update(ctx, func(t txStore) error { stored, inserted, err = t.PutMessage(ctx, r); return err })
	return stored, inserted, err
}

// Message implements Store.
func (s dbStore) Message(ctx context.Context, id string) (r *Record, err error) {
	err = s.view(ctx, func(t txStore) error { r, err = t.Message(ctx, id); return err })
	return r, err
}

// Messages implements Store.
func (s dbStore) Messages(ctx context.Context, f MessageFilter) (rs []*Record, err error) {
	err = s.view(ctx, func(t txStore) error { rs, err = t.Messages(ctx, f); return err })
	return rs, err
}

// UpdateMessage implements Store.
func (s dbStore) UpdateMessage(ctx context.Context, id string, fn func(*Record) error) error {
	return s.update(ctx, func(t txStore) error { return t.UpdateMessage(ctx, id, fn) })
}

// PutHeard implements Store.
func (s dbStore) PutHeard(ctx context.Context, channel, partner string, t time.Time) error {
	return s.update(ctx, func(x txStore) error { return x.PutHeard(ctx, channel, partner, t) })
}

// Heard implements Store.
func (s dbStore) Heard(ctx context.Context, channel string) (h map[string]time.Time, err error) {
	err = s.view(ctx, func(t txStore) error { h, err = t.Heard(ctx, channel); return err })
	return h, err
}
