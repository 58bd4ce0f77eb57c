package hotline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/peer"
)

// ChannelRequest is a channel this node proposes.
type ChannelRequest struct {
	Purpose string `json:"purpose"`
	Event   string `json:"event,omitempty"`
	// NotBefore and NotAfter bound the validity window; zero is open.
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// Partners are the local names of the partner nodes to join.
	Partners []string `json:"partners"`
	// Contacts are the named points of contact, by party name (this
	// node's name or a partner's).
	Contacts  map[string][]Contact     `json:"contacts,omitempty"`
	AckWithin map[MessageType]Duration `json:"ack_within,omitempty"`
	Heartbeat Duration                 `json:"heartbeat,omitzero"`
	Reason    string                   `json:"reason"`
}

// ChannelResult is a channel after a change, and how the change reached
// the partners. A partner that could not be reached now gets it from the
// running node (Run), which retries.
type ChannelResult struct {
	Channel *Channel          `json:"channel"`
	Pushed  []string          `json:"pushed"`            // partners that hold the change
	Pending map[string]string `json:"pending,omitempty"` // partner → why not yet
}

// ProposeChannel proposes a new channel to partners and sends the proposal
// to each of them. The partners' nodes hold it as proposed until an
// admin on each side accepts it (ChangeChannel to open).
func (s *Service) ProposeChannel(ctx context.Context, req ChannelRequest) (*ChannelResult, error) {
	if len(req.Partners) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "a channel needs at least one partner")
	}
	if strings.TrimSpace(req.Reason) == "" {
		req.Reason = "proposed: " + req.Purpose
	}
	terms := Terms{ID: NewID("channel"), Purpose: req.Purpose, Event: req.Event,
		NotBefore: req.NotBefore.UTC(), NotAfter: req.NotAfter.UTC(), AckWithin: req.AckWithin, Heartbeat: req.Heartbeat}
	if req.NotBefore.IsZero() {
		terms.NotBefore = time.Time{}
	}
	if req.NotAfter.IsZero() {
		terms.NotAfter = time.Time{}
	}
	terms.Parties = append(terms.Parties, Party{Name: s.name, Key: s.self, Contacts: req.Contacts[s.name]})
	known := map[string]bool{s.name: true}
	err := s.db.View(ctx, func(tx detente.Tx) error {
		for _, name := range req.Partners {
			p, err := tx.Partner(ctx, name)
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				return detente.Errorf(detente.EINVALID, "partner %s is not known: add it first with 'detente partner add'", name)
			}
			if err != nil {
				return err
			}
			if p.State != detente.PartnerActive {
				return detente.Errorf(detente.EDENIED, "partner %s is %s", name, p.State)
			}
			terms.Parties = append(terms.Parties, Party{Name: p.Name, Key: p.Key, Contacts: req.Contacts[p.Name]})
			known[p.Name] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range req.Contacts {
		if !known[name] {
			return nil, detente.Errorf(detente.EINVALID, "contacts given for %s, who is not a party to the channel", name)
		}
	}
	ch, err := Propose(terms, req.Reason, s.now(), s.key)
	if err != nil {
		return nil, err
	}
	err = s.db.Update(ctx, func(tx detente.Tx) error { return txStore{s, tx}.CreateChannel(ctx, ch) })
	if err != nil {
		return nil, fmt.Errorf("propose channel: %w", err)
	}
	return s.pushNow(ctx, ch), nil
}

// ChangeChannel makes a transition of channel id to state to, signed by
// this node, and sends the channel's history to the other parties: to
// open accepts a proposal (or reopens a suspended channel); suspended and
// closed suspend and close.
func (s *Service) ChangeChannel(ctx context.Context, id string, to State, reason string) (*ChannelResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, detente.Errorf(detente.EINVALID, "a reason is required")
	}
	var ch *Channel
	err := s.db.Update(ctx, func(tx detente.Tx) error {
		return txStore{s, tx}.UpdateChannel(ctx, id, func(c *Channel) error {
			if _, ok := c.Party(s.self); !ok {
				return detente.Errorf(detente.EFORBIDDEN, "this node is not a party to channel %s", id)
			}
			if err := Apply(c, NewTransition(c, to, reason, s.now(), s.key)); err != nil {
				return err
			}
			ch = c
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return s.pushNow(ctx, ch), nil
}

// Channels returns every channel, by id.
func (s *Service) Channels(ctx context.Context) ([]*Channel, error) {
	return s.Store().Channels(ctx)
}

// Channel returns channel id.
func (s *Service) Channel(ctx context.Context, id string) (*Channel, error) {
	return s.Store().Channel(ctx, id)
}

// pushNow sends ch's history to every other party once, recording who
// holds it; the running node retries the rest.
func (s *Service) pushNow(ctx context.Context, ch *Channel) *ChannelResult {
	tr := newPartnerTransport(s)
	defer tr.close()
	res := &ChannelResult{Channel: ch, Pushed: []string{}}
	for _, p := range ch.Parties {
		if p.Key.Equal(s.self) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.pushTo(pctx, tr, ch, p)
		cancel()
		if err != nil {
			if res.Pending == nil {
				res.Pending = map[string]string{}
			}
			res.Pending[p.Name] = detente.ErrorMessage(err)
			if detente.ErrorCode(err) == detente.EINTERNAL {
				res.Pending[p.Name] = err.Error()
			}
			continue
		}
		res.Pushed = append(res.Pushed, p.Name)
	}
	return res
}

// pushState is how far a party is known to hold a channel's history.
type pushState struct {
	Seq         int       `json:"seq"` // transitions the party holds
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// Failed is set when the party refused the history for good (the
	// histories diverged): it is not retried, and reported once.
	Failed   bool `json:"failed,omitempty"`
	Reported bool `json:"reported,omitempty"`
}

// readPushState reads the push state of id (channel/party), zero if none.
func readPushState(ctx context.Context, tx detente.Tx, id string) (*pushState, error) {
	st, err := getDoc[pushState](ctx, tx, docPush, id, "push state")
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return &pushState{}, nil
	}
	return st, err
}

// pushTo sends ch's history to party p and records the outcome.
func (s *Service) pushTo(ctx context.Context, tr *partnerTransport, ch *Channel, p Party) error {
	err := tr.sendHistory(ctx, ch, p)
	id := ch.ID + "/" + p.Name
	uerr := s.db.Update(ctx, func(tx detente.Tx) error {
		st, err2 := readPushState(ctx, tx, id)
		if err2 != nil {
			return err2
		}
		switch {
		case err == nil:
			*st = pushState{Seq: max(st.Seq, len(ch.Transitions))}
		case permanent(err):
			st.Failed, st.LastError, st.NextAttempt = true, err.Error(), time.Time{}
		default:
			st.Attempts++
			st.LastError = err.Error()
			st.NextAttempt = s.now().Add(min(time.Second<<min(st.Attempts, 6), time.Minute))
		}
		return putDoc(ctx, tx, docPush, id, st, false)
	})
	if uerr != nil && ctx.Err() == nil {
		s.logger.ErrorContext(ctx, "hotline: record push", "channel", ch.ID, "partner", p.Name, "err", uerr)
	}
	return err
}

// ReceiveTransitions implements peer.Channels: it applies a channel
// history sent by partner from. The transitions this node does not hold
// yet are applied in order (each verified: signature, party, lifecycle),
// all in one transaction with their log events. Transitions it holds
// already must be the same ones. A refusal is logged and returned.
func (s *Service) ReceiveTransitions(ctx context.Context, from *detente.Partner, body []byte) (*peer.ChannelAnswer, error) {
	ans, chID, err := s.receiveTransitions(ctx, from, body)
	if err != nil {
		s.logRefusal(ctx, from.Name, "transitions", chID, "", err)
		return nil, err
	}
	return ans, nil
}

func (s *Service) receiveTransitions(ctx context.Context, from *detente.Partner, body []byte) (*peer.ChannelAnswer, string, error) {
	var h peer.ChannelHistory
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, "", detente.Errorf(detente.EINVALID, "decode channel history: %v", err)
	}
	if len(h.Transitions) == 0 || len(h.Transitions) > 10000 {
		return nil, "", detente.Errorf(detente.EINVALID, "a channel history holds 1 to 10000 transitions")
	}
	ts := make([]*Transition, len(h.Transitions))
	for i, raw := range h.Transitions {
		t, err := DecodeTransition(raw)
		if err != nil {
			return nil, "", err
		}
		if i > 0 && t.Channel != ts[0].Channel {
			return nil, "", detente.Errorf(detente.EINVALID, "a channel history mixes channels")
		}
		ts[i] = t
	}
	id := ts[0].Channel
	ans := &peer.ChannelAnswer{Channel: id}
	err := s.db.Update(ctx, func(tx detente.Tx) error {
		st := txStore{s, tx}
		ch, err := st.Channel(ctx, id)
		isNew := detente.ErrorCode(err) == detente.ENOTFOUND
		if err != nil && !isNew {
			return err
		}
		// A partner that is not a party to a channel held here learns
		// nothing of it, not even that it exists: its history is judged
		// as if the channel were new, refused alike, and never stored.
		shadow := !isNew && !isParty(ch, from.Key)
		if isNew || shadow {
			ch = &Channel{}
		}
		before := len(ch.Transitions)
		for _, t := range ts {
			if t.Seq >= 1 && t.Seq <= len(ch.Transitions) {
				if !bytes.Equal(ch.Transitions[t.Seq-1].Signature, t.Signature) {
					return detente.Errorf(detente.ECONFLICT, "channel %s: transition %d differs from the one this node holds (the histories diverged)", id, t.Seq)
				}
				continue
			}
			if err := Apply(ch, *t); err != nil {
				return err
			}
		}
		if _, ok := ch.Party(s.self); !ok {
			return detente.Errorf(detente.EFORBIDDEN, "channel %s: this node is not a party to it", id)
		}
		if shadow || !isParty(ch, from.Key) {
			return detente.Errorf(detente.EFORBIDDEN, "channel %s: you are not a party to it", id)
		}
		ans.State, ans.Seq = string(ch.State), len(ch.Transitions)
		if len(ch.Transitions) > before {
			if isNew {
				if err := st.CreateChannel(ctx, ch); err != nil {
					return err
				}
			} else if err := st.UpdateChannel(ctx, id, func(c *Channel) error { *c = *ch; return nil }); err != nil {
				return err
			}
		}
		// The sender holds what it sent: no need to send it back.
		if p, ok := ch.Party(from.Key); ok {
			pid := id + "/" + p.Name
			ps, err := readPushState(ctx, tx, pid)
			if err != nil {
				return err
			}
			if len(ts) > ps.Seq && !ps.Failed {
				ps.Seq = len(ts)
				return putDoc(ctx, tx, docPush, pid, ps, false)
			}
		}
		return nil
	})
	if err != nil {
		return nil, id, err
	}
	return ans, id, nil
}
