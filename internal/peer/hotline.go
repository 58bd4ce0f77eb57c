package peer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"detente"
	"detente/internal/httperr"
)

// ---- liaison channels (internal/hotline, docs/channels.md) ----

// Paths of the channel endpoints, partner-only like every path here.
const (
	// ChannelTransitionsPath takes a channel's whole signed history
	// (ChannelHistory) and answers a ChannelAnswer.
	ChannelTransitionsPath = Prefix + "hotline/transitions"
	// ChannelMessagesPath takes one signed message (the JSON of
	// hotline.EncodeMessage) and answers a MessageAnswer.
	ChannelMessagesPath = Prefix + "hotline/messages"
)

// MaxChannelBody is the largest request body the channel endpoints take:
// hotline.MaxMessageSize, the largest encoded message. One byte more is
// read, so that the message decoder refuses (and logs) a message just
// over the limit itself.
const MaxChannelBody = 1 << 20

// ChannelHistory is the body of POST ChannelTransitionsPath: a channel's
// whole signed history, oldest first (the first transition carries the
// terms). Each transition is signed by the party that made it, so any
// party may forward it; sending the whole history makes delivery
// idempotent and order-proof.
type ChannelHistory struct {
	Transitions []json.RawMessage `json:"transitions"`
}

// ChannelAnswer is a partner's answer to a history: where the channel
// stands there.
type ChannelAnswer struct {
	Channel string `json:"channel"`
	State   string `json:"state"` // a hotline.State
	Seq     int    `json:"seq"`   // the number of transitions held
}

// MessageAnswer is a partner's answer to a message it stored, or had
// stored before (Duplicate: a success, so that the sender stops
// retrying).
type MessageAnswer struct {
	Duplicate bool `json:"duplicate"`
	// Message and State are the stored message's id and delivery state
	// (a hotline.DeliveryState); empty for a heartbeat, which is not
	// stored.
	Message string `json:"message,omitempty"`
	State   string `json:"state,omitempty"`
}

// Channels answers the channel endpoints for this node: internal/hotline
// implements it. The body is passed as it came so that the implementation
// decodes it, and logs what it refuses; the partner is the one the mutual
// TLS authenticated, whose key every signature in body must verify
// against. A refusal is a *detente.Error whose code the partner gets.
type Channels interface {
	// ReceiveTransitions applies the channel history in body (a
	// ChannelHistory) that partner from sent, and answers where the
	// channel stands.
	ReceiveTransitions(ctx context.Context, from *detente.Partner, body []byte) (*ChannelAnswer, error)
	// ReceiveMessage checks and stores the message in body that partner
	// from sent. A message received before is a duplicate, not an error.
	ReceiveMessage(ctx context.Context, from *detente.Partner, body []byte) (*MessageAnswer, error)
}

// ChannelRoutes serves the channel endpoints, answered by c.
func (s *Server) ChannelRoutes(c Channels) {
	s.handle("POST "+ChannelTransitionsPath, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		b, err := readChannelBody(w, r)
		if err != nil {
			return err
		}
		ans, err := c.ReceiveTransitions(r.Context(), p, b)
		if err != nil {
			return err
		}
		return writeJSON(w, ans)
	})
	s.handle("POST "+ChannelMessagesPath, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		b, err := readChannelBody(w, r)
		if err != nil {
			return err
		}
		ans, err := c.ReceiveMessage(r.Context(), p, b)
		if err != nil {
			return err
		}
		return writeJSON(w, ans)
	})
}

// readChannelBody reads a channel request body of at most MaxChannelBody+1
// bytes.
func readChannelBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxChannelBody+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, detente.Errorf(detente.ETOOLARGE, "request body is over %d bytes", MaxChannelBody)
	case err != nil:
		return nil, detente.Errorf(detente.EINVALID, "read request body: %v", err)
	}
	return b, nil
}

// SendChannelHistory sends a channel's whole history to the partner and
// returns where the channel stands there. A refusal keeps the partner's
// code (channelError).
func (c *Client) SendChannelHistory(ctx context.Context, h *ChannelHistory) (*ChannelAnswer, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, detente.Errorf(detente.EINTERNAL, "encode channel history: %v", err)
	}
	var ans ChannelAnswer
	if err := c.postChannel(ctx, ChannelTransitionsPath, b, &ans); err != nil {
		return nil, err
	}
	return &ans, nil
}

// SendChannelMessage sends one encoded message (hotline.EncodeMessage) to
// the partner. A duplicate is a success. A refusal keeps the partner's
// code (channelError).
func (c *Client) SendChannelMessage(ctx context.Context, message []byte) (*MessageAnswer, error) {
	var ans MessageAnswer
	if err := c.postChannel(ctx, ChannelMessagesPath, message, &ans); err != nil {
		return nil, err
	}
	return &ans, nil
}

// postChannel POSTs body to a channel endpoint and decodes the answer
// into out.
func (c *Client) postChannel(ctx context.Context, path string, body []byte, out any) error {
	status, ans, err := c.do(ctx, http.MethodPost, path, nil, "application/json", body)
	if err != nil {
		return channelError(c.Partner, status, ans, err)
	}
	return decodeAnswer(c.Partner, path, ans, out)
}

// channelError is err, the error of a channel request, except that a
// partner's 401 stays EUNAUTHORIZED rather than becoming EUNAVAILABLE as
// in remoteError: a partner that no longer admits this node refuses its
// messages for good (hotline.Transport), so that the outbox stops
// retrying and people are alerted, as for any other refusal.
func channelError(partner string, status int, body []byte, err error) error {
	if status != http.StatusUnauthorized {
		return err
	}
	var eb httperr.Body
	if json.Unmarshal(body, &eb) != nil || eb.Error.Code != detente.EUNAUTHORIZED {
		return err
	}
	return &detente.Error{Code: detente.EUNAUTHORIZED, Message: "partner " + partner + ": " + eb.Error.Message}
}
