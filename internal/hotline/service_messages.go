package hotline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"detente"
	"detente/internal/peer"
)

// MessageRequest is a message a person of this node sends on a channel.
type MessageRequest struct {
	Channel   string      `json:"channel"`
	Type      MessageType `json:"type"`
	Author    string      `json:"author,omitempty"`
	Subject   string      `json:"subject,omitempty"`
	Body      string      `json:"body,omitempty"`
	Due       time.Time   `json:"due,omitzero"`
	InReplyTo string      `json:"in_reply_to,omitempty"`
	Markings  []string    `json:"markings,omitempty"`
	Refs      []string    `json:"refs,omitempty"`
	Activity  *Activity   `json:"activity,omitempty"`
	// IdempotencyKey makes a retried request send the message once; ""
	// uses the message's id.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// SendResult is a message as stored for delivery, and for a notice of
// planned activity the conflicts it has with the partners' notices.
type SendResult struct {
	Record    *Record    `json:"record"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// SendMessage signs a message and stores it in the outbox, with its log
// event, for the running node to deliver. A message referring to STIX
// objects goes only if the egress policy would release every one of them
// to every recipient, and a marked message only to partners whose
// agreement's TLP ceiling allows its marking; otherwise it is refused
// with the reasons (EDENIED).
func (s *Service) SendMessage(ctx context.Context, req MessageRequest) (*SendResult, error) {
	switch req.Type {
	case TypeAck:
		return nil, detente.Errorf(detente.EINVALID, "acknowledge with 'detente message ack', not send")
	case TypeHeartbeat:
		return nil, detente.Errorf(detente.EINVALID, "heartbeats are sent by the running node")
	}
	m := NewMessage(req.Channel, req.Type, s.now())
	m.Author, m.Subject, m.Body, m.Due, m.InReplyTo = req.Author, req.Subject, req.Body, req.Due.UTC(), req.InReplyTo
	if req.Due.IsZero() {
		m.Due = time.Time{}
	}
	m.Markings, m.Refs, m.Activity = req.Markings, req.Refs, req.Activity
	if req.IdempotencyKey != "" {
		m.IdempotencyKey = req.IdempotencyKey
	}
	m.Sign(s.key)
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := s.checkEgress(ctx, m); err != nil {
		return nil, err
	}
	return s.enqueue(ctx, m)
}

// enqueue stores m (signed by this node) in the outbox in one transaction
// with its log event and, for a notice of activity, its deconfliction.
func (s *Service) enqueue(ctx context.Context, m *Message) (*SendResult, error) {
	res := &SendResult{}
	err := s.db.Update(ctx, func(tx detente.Tx) error {
		st := txStore{s, tx}
		ob := NewOutbox(st, nil, s.self, OutboxOptions{Logger: s.logger})
		r, err := ob.Enqueue(ctx, m)
		if err != nil {
			return err
		}
		res.Record, res.Conflicts = r, nil // fn may run again
		if m.Activity != nil && r.Message.ID == m.ID {
			res.Conflicts, err = s.deconflict(ctx, tx, s.name, m)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.wakeOutbox()
	return res, nil
}

// recipients returns the local partners a message of this node goes to.
func (s *Service) recipients(ctx context.Context, tx detente.Tx, ch *Channel, m *Message) ([]*detente.Partner, error) {
	var keys []detente.PublicKey
	if m.InReplyTo != "" {
		ref, err := txStore{s, tx}.Message(ctx, m.InReplyTo)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ref.Message.From)
	} else {
		for _, p := range ch.Parties {
			if !p.Key.Equal(s.self) {
				keys = append(keys, p.Key)
			}
		}
	}
	var out []*detente.Partner
	for _, k := range keys {
		p, err := tx.PartnerByKey(ctx, k)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil, detente.Errorf(detente.EDENIED, "a party of channel %s is not a known partner of this node: nothing can be released to it", ch.ID)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// checkEgress applies the egress policy to what m refers to and to its
// markings, for every recipient.
func (s *Service) checkEgress(ctx context.Context, m *Message) error {
	if len(m.Refs) == 0 && len(m.Markings) == 0 {
		return nil
	}
	var ps []*detente.Partner
	var ags []*detente.Agreement
	err := s.db.View(ctx, func(tx detente.Tx) error {
		ch, err := txStore{s, tx}.Channel(ctx, m.Channel)
		if err != nil {
			return err
		}
		if ps, err = s.recipients(ctx, tx, ch, m); err != nil {
			return err
		}
		ags, err = tx.Agreements(ctx, "")
		return err
	})
	if err != nil {
		return err
	}
	var reasons []string
	for _, p := range ps {
		for _, mk := range m.Markings {
			tlp, ok := detente.TLPOfMarking(mk)
			if !ok || tlp == detente.TLPClear {
				continue // TLP:CLEAR may go to anyone
			}
			allowed := false
			for _, a := range ags {
				allowed = allowed || a.Covers(p.Name) && a.InForce(s.now()) && tlp <= a.TLPCeiling
			}
			if !allowed {
				reasons = append(reasons, fmt.Sprintf("%s: no agreement in force allows TLP:%s", p.Name, strings.ToUpper(tlp.String())))
			}
		}
		for _, ref := range m.Refs {
			if s.checkRelease == nil {
				reasons = append(reasons, fmt.Sprintf("%s: %s: no egress policy to release it under", p.Name, ref))
				continue
			}
			d, err := s.checkRelease(ctx, ref, p.Name)
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				reasons = append(reasons, fmt.Sprintf("%s: %s is not held by this node", p.Name, ref))
				continue
			}
			if err != nil {
				return err
			}
			if !d.Allowed {
				for _, r := range d.Reasons {
					if r.Deny {
						reasons = append(reasons, fmt.Sprintf("%s: %s: %s (%s)", p.Name, ref, r.Detail, r.Code))
					}
				}
			}
		}
	}
	if len(reasons) > 0 {
		return detente.Errorf(detente.EDENIED, "message refused by the egress policy: %s", strings.Join(reasons, "; "))
	}
	return nil
}

// AckMessage acknowledges the incoming message id in the name of person,
// and queues the acknowledgement to its sender.
func (s *Service) AckMessage(ctx context.Context, id, person string) (*Record, error) {
	if strings.TrimSpace(person) == "" {
		return nil, detente.Errorf(detente.EINVALID, "name the person who acknowledges")
	}
	r, err := s.Store().Message(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Outgoing {
		return nil, detente.Errorf(detente.EINVALID, "message %s was sent by this node: only its recipients acknowledge it", id)
	}
	if r.Message.Type == TypeAck {
		return nil, detente.Errorf(detente.EINVALID, "message %s is an acknowledgement: acknowledgements are not acknowledged", id)
	}
	if !r.AckedAt.IsZero() {
		return nil, detente.Errorf(detente.ECONFLICT, "message %s was acknowledged by %s at %s", id, r.AckedBy, r.AckedAt.Format(time.RFC3339))
	}
	ack := NewAck(r.Message, person, s.now(), s.key)
	res, err := s.enqueue(ctx, ack)
	if err != nil {
		return nil, err
	}
	return res.Record, nil
}

// ReceiveMessage implements peer.Channels: it checks and stores a message
// that partner from sent, in one transaction with its log event (and, for
// a notice of activity, its deconfliction and conflict alerts). A message
// received before is a duplicate: success, stored once. A refusal is
// logged and returned.
func (s *Service) ReceiveMessage(ctx context.Context, from *detente.Partner, body []byte) (*peer.MessageAnswer, error) {
	m, err := DecodeMessage(body)
	if err != nil {
		s.logRefusal(ctx, from.Name, "message", "", "", err)
		return nil, err
	}
	var rc *Receipt
	err = s.db.Update(ctx, func(tx detente.Tx) error {
		var err error
		if rc, err = Receive(ctx, txStore{s, tx}, from.Key, m, s.now()); err != nil {
			return err
		}
		if m.Activity != nil && !rc.Duplicate {
			_, err = s.deconflict(ctx, tx, from.Name, m)
		}
		return err
	})
	if err != nil {
		if m.Type != TypeHeartbeat {
			s.logRefusal(ctx, from.Name, "message", m.Channel, m.ID, err)
		}
		return nil, err
	}
	if rc.Duplicate && rc.Record != nil && !rc.Record.AckDue.IsZero() && rc.Record.AckedAt.IsZero() {
		s.logger.WarnContext(ctx, "hotline: partner is waiting for an acknowledgement", "partner", from.Name, "message", m.ID, "type", m.Type)
	}
	if m.Type == TypeCrisisAlert && !rc.Duplicate {
		// At once, for whoever watches the node's log; the text stays in
		// the store (a log may go where the channel's content may not).
		s.logger.WarnContext(ctx, "hotline: crisis alert received", "channel", m.Channel, "from", from.Name, "message", m.ID,
			"text_bytes", len(m.Subject)+len(m.Body), "ack_due", rc.Record.AckDue)
	}
	ans := &peer.MessageAnswer{Duplicate: rc.Duplicate}
	if rc.Record != nil {
		ans.Message, ans.State = rc.Record.Message.ID, string(rc.Record.State)
	}
	return ans, nil
}

// MessageView is a stored message as people see it: which way it went,
// with whom, and whether it is overdue.
type MessageView struct {
	*Record
	Direction string   `json:"direction"` // "out" or "in"
	Partners  []string `json:"partners"`  // the sender, or the recipients
	// Overdue is "ack" when an acknowledgement is past its deadline,
	// "response" when a request is past its due time, else "".
	Overdue string   `json:"overdue,omitempty"`
	AckedBy []string `json:"acked_by,omitempty"`
}

// Messages returns the messages of channel (every channel if ""), overdue
// ones first, then newest first. Acknowledgements are not listed: they
// show as the state of what they acknowledge, with who acknowledged.
func (s *Service) Messages(ctx context.Context, channel string) ([]MessageView, error) {
	return s.views(ctx, MessageFilter{Channel: channel}, false)
}

// View returns the stored message id as people see it (as Messages
// lists it), acknowledgements included.
func (s *Service) View(ctx context.Context, id string) (*MessageView, error) {
	var v MessageView
	err := s.db.View(ctx, func(tx detente.Tx) error {
		st := txStore{s, tx}
		r, err := st.Message(ctx, id)
		if err != nil {
			return err
		}
		ch, err := st.Channel(ctx, r.Message.Channel)
		if err != nil {
			return err
		}
		v = viewMessage(r, ch, s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// Awaiting returns the incoming messages this node has yet to
// acknowledge or answer (Record.Awaiting) on channels that are not
// closed, as Messages orders them: what people of this node must act on.
// Crisis alerts among them are what the console shows on every page.
func (s *Service) Awaiting(ctx context.Context) ([]MessageView, error) {
	if err := s.indexAwaiting(ctx); err != nil {
		return nil, err
	}
	return s.views(ctx, MessageFilter{Awaiting: true}, true)
}

// indexAwaiting fills the awaiting index (docAwait) with the records
// stored before it was kept, once.
func (s *Service) indexAwaiting(ctx context.Context) error {
	var done bool
	err := s.db.View(ctx, func(tx detente.Tx) error {
		_, err := tx.Doc(ctx, docIndex, "await")
		done = err == nil
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			err = nil
		}
		return err
	})
	if err != nil || done {
		return err
	}
	return s.db.Update(ctx, func(tx detente.Tx) error {
		ds, err := tx.Docs(ctx, docMessage, "", 0)
		if err != nil {
			return err
		}
		for _, d := range ds {
			var r Record
			if err := json.Unmarshal(d.Body, &r); err != nil {
				return fmt.Errorf("decode message %s: %w", d.ID, err)
			}
			if r.Awaiting() {
				if err := tx.PutDoc(ctx, docAwait, d.ID, nil, false); err != nil {
					return err
				}
			}
		}
		return tx.PutDoc(ctx, docIndex, "await", nil, false)
	})
}

// views returns the records f selects as people see them, overdue first,
// then newest first; those on closed channels only unless live.
func (s *Service) views(ctx context.Context, f MessageFilter, live bool) ([]MessageView, error) {
	var out []MessageView
	now := s.now()
	err := s.db.View(ctx, func(tx detente.Tx) error {
		st := txStore{s, tx}
		rs, err := st.Messages(ctx, f)
		if err != nil {
			return err
		}
		chs := map[string]*Channel{}
		for _, r := range rs {
			if r.Message.Type == TypeAck {
				continue
			}
			ch := chs[r.Message.Channel]
			if ch == nil {
				if ch, err = st.Channel(ctx, r.Message.Channel); err != nil {
					return err
				}
				chs[ch.ID] = ch
			}
			if live && ch.State == StateClosed {
				continue
			}
			out = append(out, viewMessage(r, ch, now))
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Overdue != "") != (out[j].Overdue != "") {
			return out[i].Overdue != ""
		}
		return out[i].Message.Sent.After(out[j].Message.Sent)
	})
	if out == nil {
		out = []MessageView{}
	}
	return out, err
}

// viewMessage returns r, on ch, as people see it at now.
func viewMessage(r *Record, ch *Channel, now time.Time) MessageView {
	v := MessageView{Record: r, Direction: direction(r), Partners: []string{}}
	if r.Outgoing {
		acked := true
		for _, d := range r.Deliveries {
			v.Partners = append(v.Partners, d.Partner)
			if d.AckedAt.IsZero() {
				acked = false
			} else {
				v.AckedBy = append(v.AckedBy, d.AckedBy+" ("+d.Partner+")")
			}
		}
		if !r.AckDue.IsZero() && !acked && now.After(r.AckDue) && !r.Abandoned {
			v.Overdue = "ack"
		}
	} else {
		if p, ok := ch.Party(r.Message.From); ok {
			v.Partners = append(v.Partners, p.Name)
		}
		if r.AckedBy != "" {
			v.AckedBy = []string{r.AckedBy}
		}
		if !r.AckDue.IsZero() && r.AckedAt.IsZero() && now.After(r.AckDue) {
			v.Overdue = "ack"
		}
	}
	if v.Overdue == "" && r.Message.Type == TypeRequest && r.AnsweredAt.IsZero() && now.After(r.Message.Due) {
		v.Overdue = "response"
	}
	return v
}
