package hotline

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"detente"
)

// MessageType is the kind of a message on a channel.
type MessageType string

// Message types.
const (
	TypeNotice      MessageType = "notice"       // information; may carry a planned Activity
	TypeRequest     MessageType = "request"      // asks for something by Due
	TypeResponse    MessageType = "response"     // answers the request InReplyTo
	TypeCrisisAlert MessageType = "crisis-alert" // urgent; always acknowledged
	TypeAck         MessageType = "ack"          // a named person acknowledges InReplyTo
	TypeHeartbeat   MessageType = "heartbeat"    // liveness only; never stored or acknowledged
)

func (t MessageType) valid() bool {
	switch t {
	case TypeNotice, TypeRequest, TypeResponse, TypeCrisisAlert, TypeAck, TypeHeartbeat:
		return true
	}
	return false
}

// MaxMessageSize is the largest encoded message DecodeMessage accepts.
const MaxMessageSize = 1 << 20

// Message is one message on a channel, signed by its sending node.
type Message struct {
	ID      string            `json:"id"` // "message--<uuid>"
	Channel string            `json:"channel"`
	Type    MessageType       `json:"type"`
	From    detente.PublicKey `json:"from"` // the sending node
	// IdempotencyKey identifies the message for deduplication: a receiver
	// stores one message per (From, IdempotencyKey), however often it is
	// delivered.
	IdempotencyKey string    `json:"idempotency_key"`
	Sent           time.Time `json:"sent"`
	// Author is the named person who wrote the message; for an
	// acknowledgement, the person who acknowledges.
	Author  string `json:"author,omitempty"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	// Due is when a request needs its response.
	Due time.Time `json:"due,omitzero"`
	// InReplyTo is the request a response answers, or the message an
	// acknowledgement acknowledges.
	InReplyTo string `json:"in_reply_to,omitempty"`
	// Markings are the ids of the marking-definitions (TLP and caveats)
	// that apply to the message. Several mean AND.
	Markings []string `json:"markings,omitempty"`
	// Refs are STIX object ids the message refers to. The objects travel
	// separately, through the egress policy.
	Refs []string `json:"refs,omitempty"`
	// Activity is a notice of planned activity, for deconfliction (notice
	// messages only).
	Activity  *Activity `json:"activity,omitempty"`
	Signature []byte    `json:"signature,omitempty"`
}

// signedBytes is what the sender signs: the message's JSON without the
// signature, fields in declaration order, after a domain tag.
func (m *Message) signedBytes() []byte {
	mm := *m
	mm.Signature = nil
	b, err := json.Marshal(&mm)
	if err != nil {
		// Only a NaN or infinite number in an Activity can fail; Validate
		// rejects those, and signing them would be meaningless.
		return nil
	}
	return append([]byte("detente-hotline-message/v1\n"), b...)
}

// Digest returns the SHA-256 of m's signed bytes: two deliveries of the
// same message have the same digest.
func (m *Message) Digest() []byte {
	h := sha256.Sum256(m.signedBytes())
	return h[:]
}

// Sign sets m.From to priv's public key and signs m with priv.
func (m *Message) Sign(priv ed25519.PrivateKey) {
	m.From = detente.PublicKey(priv.Public().(ed25519.PublicKey))
	m.Signature = ed25519.Sign(priv, m.signedBytes())
}

// VerifySignature checks m's signature against m.From.
func (m *Message) VerifySignature() error {
	sb := m.signedBytes()
	if len(m.From) != ed25519.PublicKeySize || sb == nil || !ed25519.Verify(ed25519.PublicKey(m.From), sb, m.Signature) {
		return detente.Errorf(detente.EINVALID, "message %s: signature does not verify against the sender's key", m.ID)
	}
	return nil
}

// Validate checks m's fields, whatever channel it is on.
func (m *Message) Validate() error {
	bad := func(format string, args ...any) error {
		return detente.Errorf(detente.EINVALID, "message %s: %s", m.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case !strings.HasPrefix(m.ID, "message--") || len(m.ID) > 100:
		return detente.Errorf(detente.EINVALID, "message id %q must start with \"message--\"", m.ID)
	case !m.Type.valid():
		return bad("unknown type %q", m.Type)
	case m.Channel == "":
		return bad("no channel")
	case len(m.From) != ed25519.PublicKeySize:
		return bad("no sender key")
	case !printable(m.IdempotencyKey) || len(m.IdempotencyKey) > 200:
		return bad("idempotency key must be 1 to 200 printable characters")
	case m.Sent.IsZero():
		return bad("no time sent")
	case len(m.Author) > maxText || len(m.Subject) > maxText || len(m.Body) > maxBody:
		return bad("text is too long")
	case len(m.Markings) > 64 || len(m.Refs) > 1000:
		return bad("too many markings or references")
	}
	for _, id := range m.Markings {
		if !strings.HasPrefix(id, "marking-definition--") || !printable(id) {
			return bad("marking %q is not a marking-definition id", id)
		}
	}
	for _, id := range m.Refs {
		if typ, _, ok := strings.Cut(id, "--"); !ok || typ == "" || !printable(id) {
			return bad("reference %q is not a STIX id", id)
		}
	}
	if m.Activity != nil && m.Type != TypeNotice {
		return bad("only a notice may carry an activity")
	}
	if !m.Due.IsZero() && m.Type != TypeRequest {
		return bad("only a request has a due time")
	}
	if m.InReplyTo != "" && m.Type != TypeResponse && m.Type != TypeAck {
		return bad("only a response or an acknowledgement replies to a message")
	}
	switch m.Type {
	case TypeNotice:
		if m.Subject == "" && m.Body == "" && m.Activity == nil {
			return bad("a notice needs a subject, a body or an activity")
		}
		if m.Activity != nil {
			if err := m.Activity.Validate(); err != nil {
				return fmt.Errorf("message %s: %w", m.ID, err)
			}
		}
	case TypeRequest:
		if m.Due.IsZero() || !m.Due.After(m.Sent) {
			return bad("a request needs a due time after it is sent")
		}
		if m.Subject == "" && m.Body == "" {
			return bad("a request needs a subject or a body")
		}
	case TypeResponse:
		if !strings.HasPrefix(m.InReplyTo, "message--") {
			return bad("a response must name the request it answers")
		}
	case TypeCrisisAlert:
		if m.Body == "" && m.Subject == "" {
			return bad("a crisis alert needs a subject or a body")
		}
	case TypeAck:
		if !strings.HasPrefix(m.InReplyTo, "message--") {
			return bad("an acknowledgement must name the message it acknowledges")
		}
		if strings.TrimSpace(m.Author) == "" {
			return bad("an acknowledgement must name the person who acknowledges")
		}
		if len(m.Markings) > 0 || len(m.Refs) > 0 {
			return bad("an acknowledgement carries no markings or references")
		}
	case TypeHeartbeat:
		if m.Author != "" || m.Subject != "" || m.Body != "" || len(m.Markings) > 0 || len(m.Refs) > 0 {
			return bad("a heartbeat carries nothing")
		}
	}
	return nil
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// Allowed reports whether a channel in state s carries a message of type
// typ. ackOf is the type of the message an acknowledgement acknowledges
// (ignored for other types). A proposed or closed channel carries no
// messages (transitions are not messages); a suspended one carries only
// crisis alerts, their acknowledgements and heartbeats.
func Allowed(s State, typ, ackOf MessageType) error {
	switch s {
	case StateOpen:
		return nil
	case StateSuspended:
		if typ == TypeCrisisAlert || typ == TypeHeartbeat || typ == TypeAck && ackOf == TypeCrisisAlert {
			return nil
		}
		return detente.Errorf(detente.ECONFLICT, "the channel is suspended: it carries only crisis alerts and their acknowledgements")
	case StateProposed:
		return detente.Errorf(detente.ECONFLICT, "the channel is proposed: it carries no messages until it is open")
	case StateClosed:
		return detente.Errorf(detente.ECONFLICT, "the channel is closed: it carries nothing")
	}
	return detente.Errorf(detente.ECONFLICT, "the channel is in unknown state %q", s)
}

// Verify checks a message received from the partner whose key is from
// (the key the transport authenticated) on channel ch at now: its fields,
// that it is signed by from, that from is a party of ch, that ch is within
// its validity window and that ch's state carries it. ackOf is the type of
// the acknowledged message, for acknowledgements. Receive calls Verify
// after looking up what it needs in the store.
func Verify(ch *Channel, m *Message, from detente.PublicKey, ackOf MessageType, now time.Time) error {
	if err := verifySender(m, from); err != nil {
		return err
	}
	return verifyOn(ch, m, from, ackOf, now)
}

// verifySender checks m's fields and that it is signed by from.
func verifySender(m *Message, from detente.PublicKey) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !m.From.Equal(from) {
		return detente.Errorf(detente.EFORBIDDEN, "message %s: sent by %s but claims to be from %s", m.ID, from, m.From)
	}
	return m.VerifySignature()
}

// verifyOn checks that channel ch carries m from from at now.
func verifyOn(ch *Channel, m *Message, from detente.PublicKey, ackOf MessageType, now time.Time) error {
	if m.Channel != ch.ID {
		return detente.Errorf(detente.EINVALID, "message %s is for channel %s, not %s", m.ID, m.Channel, ch.ID)
	}
	if _, ok := ch.Party(from); !ok {
		return detente.Errorf(detente.EFORBIDDEN, "message %s: %s is not a party to channel %s", m.ID, from, ch.ID)
	}
	if !ch.InWindow(now) {
		return detente.Errorf(detente.ECONFLICT, "message %s: channel %s is outside its validity window", m.ID, ch.ID)
	}
	if err := Allowed(ch.State, m.Type, ackOf); err != nil {
		return fmt.Errorf("message %s: %w", m.ID, err)
	}
	return nil
}

// EncodeMessage returns m's wire form, the JSON that DecodeMessage reads.
func EncodeMessage(m *Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "encode message %s: %v", m.ID, err)
	}
	return b, nil
}

// DecodeMessage decodes and validates a message received from a partner:
// at most MaxMessageSize bytes of JSON, no unknown fields, nothing after
// the object. It does not check the signature or the channel: see Verify.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, detente.Errorf(detente.ETOOLARGE, "message is over %d bytes", MaxMessageSize)
	}
	var m Message
	if err := decodeStrict(b, &m); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "decode message: %v", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}
