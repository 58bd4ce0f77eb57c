package hotline

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"detente"
)

// NewID returns a new id of the form "<prefix>--<uuid v4>", e.g.
// NewID("message").
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewMessage returns an unsigned message of type typ on channel at now,
// with a new ID that is also its idempotency key. Fill in the rest, then
// Sign it.
func NewMessage(channel string, typ MessageType, now time.Time) *Message {
	id := NewID("message")
	return &Message{ID: id, Channel: channel, Type: typ, IdempotencyKey: id, Sent: now.UTC()}
}

// NewAck returns the acknowledgement of orig by the named person at now,
// signed with priv.
func NewAck(orig *Message, person string, now time.Time, priv ed25519.PrivateKey) *Message {
	m := NewMessage(orig.Channel, TypeAck, now)
	m.InReplyTo, m.Author = orig.ID, person
	m.Sign(priv)
	return m
}

// Receipt is what Receive did with a message.
type Receipt struct {
	// Record is the stored message (nil for a heartbeat): for a duplicate,
	// the record stored the first time, with its current state.
	Record *Record
	// Partner is the name of the sending party.
	Partner string
	// Duplicate is set when the message had been received before: it was
	// not stored again. It is not an error; the transport answers it as
	// a success so that the sender stops retrying. A duplicate of a
	// message this node has not acknowledged means that the sender is
	// escalating: show it to the people again.
	Duplicate bool
	// Heartbeat is set for a heartbeat, which is recorded as the time the
	// partner was last heard and not stored.
	Heartbeat bool
}

// Receive checks and stores a message that the partner node whose key is
// from (as the transport authenticated it) sent at now. It checks the
// signature, then that the sender is a party to the channel (one refusal
// whether or not the channel exists), then, for an acknowledgement or a
// response, the message it refers to, which must be one this node sent on
// the same channel; then Verify;
// then it stores the message once per (sender, idempotency key): the first
// message stored under a key wins, and any later one with that key is a
// duplicate, whatever its content (a sender that retries may rebuild the
// message with a new ID and time); then it records
// the partner as heard, and applies the message's effect: an
// acknowledgement marks the acknowledged message acknowledged by its
// author, a response marks the request answered. A duplicate applies the
// effect again (it is idempotent), so a crash between storing and applying
// heals on redelivery.
func Receive(ctx context.Context, st Store, from detente.PublicKey, m *Message, now time.Time) (*Receipt, error) {
	// The signature first: nothing is looked up for an unsigned message.
	if err := verifySender(m, from); err != nil {
		return nil, err
	}
	ch, err := st.Channel(ctx, m.Channel)
	if err != nil && detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, fmt.Errorf("receive message %s: %w", m.ID, err)
	}
	// Whether the channel exists, and anything it holds, is told only to
	// its parties: one refusal for a channel unknown here and a channel
	// the sender is not on, before any message it refers to is looked up.
	if err != nil || !isParty(ch, from) {
		return nil, detente.Errorf(detente.EFORBIDDEN, "message %s: you are not a party to any channel %s here", m.ID, m.Channel)
	}
	var ref *Record
	var ackOf MessageType
	if m.Type == TypeAck || m.Type == TypeResponse {
		ref, err = st.Message(ctx, m.InReplyTo)
		switch {
		case detente.ErrorCode(err) == detente.ENOTFOUND:
			return nil, detente.Errorf(detente.EINVALID, "message %s replies to unknown message %s", m.ID, m.InReplyTo)
		case err != nil:
			return nil, fmt.Errorf("receive message %s: %w", m.ID, err)
		case ref.Message.Channel != m.Channel || !ref.Outgoing:
			return nil, detente.Errorf(detente.EINVALID, "message %s replies to message %s, which this node did not send on channel %s", m.ID, m.InReplyTo, m.Channel)
		case m.Type == TypeResponse && ref.Message.Type != TypeRequest:
			return nil, detente.Errorf(detente.EINVALID, "response %s answers %s, which is not a request", m.ID, m.InReplyTo)
		case m.Type == TypeAck && (ref.Message.Type == TypeAck || ref.Message.Type == TypeHeartbeat):
			return nil, detente.Errorf(detente.EINVALID, "acknowledgement %s acknowledges %s, which is not acknowledged", m.ID, m.InReplyTo)
		}
		ackOf = ref.Message.Type
	}
	if err := verifyOn(ch, m, from, ackOf, now); err != nil {
		return nil, err
	}
	party, _ := ch.Party(from)
	if err := st.PutHeard(ctx, ch.ID, party.Name, now); err != nil {
		return nil, fmt.Errorf("receive message %s: %w", m.ID, err)
	}
	rc := &Receipt{Partner: party.Name}
	if m.Type == TypeHeartbeat {
		rc.Heartbeat = true
		return rc, nil
	}
	r := &Record{Message: m, Stored: now.UTC()}
	if d, ok := ch.AckDeadline(m.Type); ok {
		r.AckDue = m.Sent.Add(d)
	}
	r.refresh()
	stored, inserted, err := st.PutMessage(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("receive message %s: %w", m.ID, err)
	}
	rc.Duplicate = !inserted
	rc.Record = stored
	if ref != nil {
		if err := applyReply(ctx, st, ref.Message.ID, m, from, now); err != nil {
			return nil, err
		}
	}
	return rc, nil
}

// isParty reports whether the node with key k is a party to ch.
func isParty(ch *Channel, k detente.PublicKey) bool {
	_, ok := ch.Party(k)
	return ok
}

// applyReply records on this node's message id the acknowledgement or
// response m that the party with key from sent. It is idempotent.
func applyReply(ctx context.Context, st Store, id string, m *Message, from detente.PublicKey, now time.Time) error {
	err := st.UpdateMessage(ctx, id, func(r *Record) error {
		if m.Type == TypeResponse {
			if r.AnsweredAt.IsZero() {
				r.AnsweredAt, r.Answer = now.UTC(), m.ID
			}
			r.refresh()
			return nil
		}
		for i := range r.Deliveries {
			d := &r.Deliveries[i]
			if !d.Key.Equal(from) {
				continue
			}
			if d.AckedAt.IsZero() {
				d.AckedAt, d.AckedBy, d.AckID = now.UTC(), m.Author, m.ID
			}
			if d.DeliveredAt.IsZero() {
				d.DeliveredAt = now.UTC() // an acknowledgement proves delivery
			}
			d.NextAttempt = time.Time{} // no need to send it again
			r.refresh()
			return nil
		}
		return detente.Errorf(detente.EINVALID, "acknowledgement %s comes from a party that message %s was not sent to", m.ID, id)
	})
	if err != nil && detente.ErrorCode(err) == detente.EINTERNAL {
		return fmt.Errorf("record reply %s: %w", m.ID, err)
	}
	return err
}
