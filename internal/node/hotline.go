package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"detente"
	"detente/internal/hotline"
)

// This file wires internal/hotline (liaison channels, crisis hotline,
// deconfliction) into the node: its Store over the node's documents, each
// change written with its log event (detente.EventChannel) in one
// transaction; the partner transport over mutual TLS; and the operations
// the CLI and the API call. docs/channels.md describes it.

// Document kinds of the hotline's state (detente.Tx.PutDoc).
const (
	docChannel  = "hotline.channel"  // channel id → hotline.Channel
	docMessage  = "hotline.message"  // message id → hotline.Record
	docMsgKey   = "hotline.msgkey"   // hex(sender key)/idempotency key → message id
	docPending  = "hotline.pending"  // message id → "" while Record.Pending
	docOpen     = "hotline.open"     // message id → "" while Record.Open
	docHeard    = "hotline.heard"    // channel/partner → time last heard
	docPush     = "hotline.push"     // channel/party → pushState
	docActivity = "hotline.activity" // owner/activity id → activityDoc
)

// AlertChannel is the kind of the node's alerts about channels: missed
// acknowledgements, overdue requests, refused deliveries, silent lines and
// deconfliction conflicts.
const AlertChannel = "channel"

// Hotline paths on a partner node (partner-only, mutual TLS).
const (
	HotlineTransitionsPath = "/detente/v1/hotline/transitions"
	HotlineMessagesPath    = "/detente/v1/hotline/messages"
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

// ---- the store ----

// hotlineTx is a hotline.Store inside one node transaction: every change
// it makes is logged in that transaction.
type hotlineTx struct {
	n  *Node
	tx detente.Tx
}

var _ hotline.Store = hotlineTx{}

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

// CreateChannel implements hotline.Store.
func (s hotlineTx) CreateChannel(ctx context.Context, ch *hotline.Channel) error {
	if err := putDoc(ctx, s.tx, docChannel, ch.ID, ch, true); err != nil {
		if detente.ErrorCode(err) == detente.EEXISTS {
			return detente.Errorf(detente.EEXISTS, "channel %s already exists", ch.ID)
		}
		return err
	}
	return s.logTransitions(ctx, ch, 0)
}

// Channel implements hotline.Store.
func (s hotlineTx) Channel(ctx context.Context, id string) (*hotline.Channel, error) {
	return getDoc[hotline.Channel](ctx, s.tx, docChannel, id, "channel")
}

// Channels implements hotline.Store.
func (s hotlineTx) Channels(ctx context.Context) ([]*hotline.Channel, error) {
	ds, err := s.tx.Docs(ctx, docChannel, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*hotline.Channel, 0, len(ds))
	for _, d := range ds {
		var ch hotline.Channel
		if err := json.Unmarshal(d.Body, &ch); err != nil {
			return nil, fmt.Errorf("decode channel %s: %w", d.ID, err)
		}
		out = append(out, &ch)
	}
	return out, nil
}

// UpdateChannel implements hotline.Store.
func (s hotlineTx) UpdateChannel(ctx context.Context, id string, fn func(*hotline.Channel) error) error {
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
func (s hotlineTx) logTransitions(ctx context.Context, ch *hotline.Channel, from int) error {
	for _, t := range ch.Transitions[from:] {
		by := ""
		if p, ok := ch.Party(t.By); ok {
			by = p.Name
		}
		body := map[string]any{"action": actTransition, "channel": ch.ID, "seq": t.Seq, "from": string(t.From), "to": string(t.To),
			"state": string(ch.State), "reason": t.Reason, "by": by, "signer": t.By.String(), "terms_sha256": hex.EncodeToString(t.TermsHash)}
		partner := by
		if t.By.Equal(s.n.PublicKey()) {
			partner = ""
		}
		if err := s.n.logEvent(ctx, s.tx, detente.EventChannel, partner, body); err != nil {
			return err
		}
	}
	return nil
}

func msgKey(from detente.PublicKey, key string) string { return hex.EncodeToString(from) + "/" + key }

// PutMessage implements hotline.Store.
func (s hotlineTx) PutMessage(ctx context.Context, r *hotline.Record) (*hotline.Record, bool, error) {
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
	if m.Activity != nil {
		body["activity"], body["activity_version"] = m.Activity.ID, m.Activity.Version
	}
	if err := s.n.logEvent(ctx, s.tx, detente.EventChannel, s.counterpart(ctx, r), body); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

func direction(r *hotline.Record) string {
	if r.Outgoing {
		return "out"
	}
	return "in"
}

// counterpart names the partner a record is about in the log: the sender
// of an incoming message, the one recipient of an outgoing one.
func (s hotlineTx) counterpart(ctx context.Context, r *hotline.Record) string {
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

// writeMessage stores r and keeps the pending and open indexes.
func (s hotlineTx) writeMessage(ctx context.Context, r *hotline.Record) error {
	id := r.Message.ID
	if err := putDoc(ctx, s.tx, docMessage, id, r, false); err != nil {
		return err
	}
	for _, ix := range []struct {
		kind string
		on   bool
	}{{docPending, r.Pending}, {docOpen, r.Open}} {
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

// Message implements hotline.Store.
func (s hotlineTx) Message(ctx context.Context, id string) (*hotline.Record, error) {
	return getDoc[hotline.Record](ctx, s.tx, docMessage, id, "message")
}

// Messages implements hotline.Store.
func (s hotlineTx) Messages(ctx context.Context, f hotline.MessageFilter) ([]*hotline.Record, error) {
	var out []*hotline.Record
	if f.Pending || f.Open {
		kind := docPending
		if !f.Pending {
			kind = docOpen
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
			var r hotline.Record
			if err := json.Unmarshal(d.Body, &r); err != nil {
				return nil, fmt.Errorf("decode message %s: %w", d.ID, err)
			}
			out = append(out, &r)
		}
	}
	out = slices.DeleteFunc(out, func(r *hotline.Record) bool {
		return f.Channel != "" && r.Message.Channel != f.Channel || f.Outgoing && !r.Outgoing ||
			f.Pending && !r.Pending || f.Open && !r.Open
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

// UpdateMessage implements hotline.Store. A change of delivery state
// (sent, delivered, acknowledged, answered), a refusal by a recipient and
// the abandonment of a message are logged; retries and escalation counts
// are not.
func (s hotlineTx) UpdateMessage(ctx context.Context, id string, fn func(*hotline.Record) error) error {
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
	return s.n.logEvent(ctx, s.tx, detente.EventChannel, s.counterpart(ctx, r), body)
}

func failedCount(r *hotline.Record) int {
	n := 0
	for _, d := range r.Deliveries {
		if d.Failed {
			n++
		}
	}
	return n
}

// PutHeard implements hotline.Store. It is not logged: heartbeats would
// flood the log.
func (s hotlineTx) PutHeard(ctx context.Context, channel, partner string, t time.Time) error {
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

// Heard implements hotline.Store.
func (s hotlineTx) Heard(ctx context.Context, channel string) (map[string]time.Time, error) {
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

// hotlineStore is the hotline.Store over the node's database: each call is
// one transaction.
type hotlineStore struct{ n *Node }

var _ hotline.Store = hotlineStore{}

// HotlineStore returns the node's hotline.Store. Each call is one
// transaction that writes the change and its log event together.
func (n *Node) HotlineStore() hotline.Store { return hotlineStore{n} }

func (s hotlineStore) update(ctx context.Context, fn func(hotlineTx) error) error {
	return s.n.Store.Update(ctx, func(tx detente.Tx) error { return fn(hotlineTx{s.n, tx}) })
}

func (s hotlineStore) view(ctx context.Context, fn func(hotlineTx) error) error {
	return s.n.Store.View(ctx, func(tx detente.Tx) error { return fn(hotlineTx{s.n, tx}) })
}

// CreateChannel implements hotline.Store.
func (s hotlineStore) CreateChannel(ctx context.Context, ch *hotline.Channel) error {
	return s.update(ctx, func(t hotlineTx) error { return t.CreateChannel(ctx, ch) })
}

// Channel implements hotline.Store.
func (s hotlineStore) Channel(ctx context.Context, id string) (ch *hotline.Channel, err error) {
	err = s.view(ctx, func(t hotlineTx) error { ch, err = t.Channel(ctx, id); return err })
	return ch, err
}

// Channels implements hotline.Store.
func (s hotlineStore) Channels(ctx context.Context) (chs []*hotline.Channel, err error) {
	err = s.view(ctx, func(t hotlineTx) error { chs, err = t.Channels(ctx); return err })
	return chs, err
}

// UpdateChannel implements hotline.Store.
func (s hotlineStore) UpdateChannel(ctx context.Context, id string, fn func(*hotline.Channel) error) error {
	return s.update(ctx, func(t hotlineTx) error { return t.UpdateChannel(ctx, id, fn) })
}

// PutMessage implements hotline.Store.
func (s hotlineStore) PutMessage(ctx context.Context, r *hotline.Record) (stored *hotline.Record, inserted bool, err error) {
	err = s.update(ctx, func(t hotlineTx) error { stored, inserted, err = t.PutMessage(ctx, r); return err })
	return stored, inserted, err
}

// Message implements hotline.Store.
func (s hotlineStore) Message(ctx context.Context, id string) (r *hotline.Record, err error) {
	err = s.view(ctx, func(t hotlineTx) error { r, err = t.Message(ctx, id); return err })
	return r, err
}

// Messages implements hotline.Store.
func (s hotlineStore) Messages(ctx context.Context, f hotline.MessageFilter) (rs []*hotline.Record, err error) {
	err = s.view(ctx, func(t hotlineTx) error { rs, err = t.Messages(ctx, f); return err })
	return rs, err
}

// UpdateMessage implements hotline.Store.
func (s hotlineStore) UpdateMessage(ctx context.Context, id string, fn func(*hotline.Record) error) error {
	return s.update(ctx, func(t hotlineTx) error { return t.UpdateMessage(ctx, id, fn) })
}

// PutHeard implements hotline.Store.
func (s hotlineStore) PutHeard(ctx context.Context, channel, partner string, t time.Time) error {
	return s.update(ctx, func(x hotlineTx) error { return x.PutHeard(ctx, channel, partner, t) })
}

// Heard implements hotline.Store.
func (s hotlineStore) Heard(ctx context.Context, channel string) (h map[string]time.Time, err error) {
	err = s.view(ctx, func(t hotlineTx) error { h, err = t.Heard(ctx, channel); return err })
	return h, err
}

// ---- the transport ----

// partnerTransport carries messages and channel histories to partner
// nodes over mutual TLS with their pinned keys. It implements
// hotline.Transport.
type partnerTransport struct {
	n       *Node
	mu      sync.Mutex
	clients map[string]*http.Client // by key and URL
}

var _ hotline.Transport = (*partnerTransport)(nil)

func newPartnerTransport(n *Node) *partnerTransport {
	return &partnerTransport{n: n, clients: map[string]*http.Client{}}
}

func (t *partnerTransport) client(p *detente.Partner) (*http.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := p.Key.String() + " " + p.URL
	if c := t.clients[k]; c != nil {
		return c, nil
	}
	c, err := t.n.PartnerClient(p)
	if err != nil {
		return nil, err
	}
	c.Timeout = 30 * time.Second
	t.clients[k] = c
	return c, nil
}

func (t *partnerTransport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		c.CloseIdleConnections()
	}
}

// partyPartner returns the partner node of the party called name on
// channel id.
func (n *Node) partyPartner(ctx context.Context, id, name string) (*detente.Partner, error) {
	var p *detente.Partner
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		ch, err := hotlineTx{n, tx}.Channel(ctx, id)
		if err != nil {
			return err
		}
		for _, party := range ch.Parties {
			if party.Name == name {
				p, err = tx.PartnerByKey(ctx, party.Key)
				if detente.ErrorCode(err) == detente.ENOTFOUND {
					return detente.Errorf(detente.EUNAVAILABLE, "party %s of channel %s is not a known partner of this node: add it with 'detente partner add'", name, id)
				}
				return err
			}
		}
		return detente.Errorf(detente.ENOTFOUND, "channel %s has no party %s", id, name)
	})
	if err != nil {
		return nil, err
	}
	if p.State != detente.PartnerActive || p.URL == "" {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s is %s or has no URL", p.Name, p.State)
	}
	return p, nil
}

// Send implements hotline.Transport. A refusal by the partner comes back
// with the partner's error code, so that the outbox stops retrying what
// the partner refuses for good.
func (t *partnerTransport) Send(ctx context.Context, partner string, m *hotline.Message) error {
	p, err := t.n.partyPartner(ctx, m.Channel, partner)
	if err != nil {
		return err
	}
	b, err := hotline.EncodeMessage(m)
	if err != nil {
		return err
	}
	_, err = t.post(ctx, p, HotlineMessagesPath, b)
	return err
}

// post sends body to p's path and returns the answer; a refusal is an
// *detente.Error with the partner's code.
func (t *partnerTransport) post(ctx context.Context, p *detente.Partner, path string, body []byte) ([]byte, error) {
	hc, err := t.client(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post to %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("post to %s: %w", p.Name, err)
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(out, &e) == nil && e.Error.Code != "" && e.Error.Code != detente.EINTERNAL {
		return nil, detente.Errorf(e.Error.Code, "partner %s refused: %s", p.Name, e.Error.Message)
	}
	return nil, fmt.Errorf("post to %s: %s", p.Name, resp.Status)
}

// ---- channels ----

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
	Contacts  map[string][]hotline.Contact             `json:"contacts,omitempty"`
	AckWithin map[hotline.MessageType]hotline.Duration `json:"ack_within,omitempty"`
	Heartbeat hotline.Duration                         `json:"heartbeat,omitzero"`
	Reason    string                                   `json:"reason"`
}

// ChannelResult is a channel after a change, and how the change reached
// the partners. A partner that could not be reached now gets it from the
// running node (detente serve), which retries.
type ChannelResult struct {
	Channel *hotline.Channel  `json:"channel"`
	Pushed  []string          `json:"pushed"`            // partners that hold the change
	Pending map[string]string `json:"pending,omitempty"` // partner → why not yet
}

// ProposeChannel proposes a new channel to partners and sends the proposal
// to each of them. The partners' nodes hold it as proposed until an
// admin on each side accepts it (ChangeChannel to open).
func (n *Node) ProposeChannel(ctx context.Context, req ChannelRequest) (*ChannelResult, error) {
	if len(req.Partners) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "a channel needs at least one partner")
	}
	if strings.TrimSpace(req.Reason) == "" {
		req.Reason = "proposed: " + req.Purpose
	}
	terms := hotline.Terms{ID: hotline.NewID("channel"), Purpose: req.Purpose, Event: req.Event,
		NotBefore: req.NotBefore.UTC(), NotAfter: req.NotAfter.UTC(), AckWithin: req.AckWithin, Heartbeat: req.Heartbeat}
	if req.NotBefore.IsZero() {
		terms.NotBefore = time.Time{}
	}
	if req.NotAfter.IsZero() {
		terms.NotAfter = time.Time{}
	}
	terms.Parties = append(terms.Parties, hotline.Party{Name: n.Name, Key: n.PublicKey(), Contacts: req.Contacts[n.Name]})
	known := map[string]bool{n.Name: true}
	err := n.Store.View(ctx, func(tx detente.Tx) error {
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
			terms.Parties = append(terms.Parties, hotline.Party{Name: p.Name, Key: p.Key, Contacts: req.Contacts[p.Name]})
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
	ch, err := hotline.Propose(terms, req.Reason, n.now(), n.Key)
	if err != nil {
		return nil, err
	}
	err = n.Store.Update(ctx, func(tx detente.Tx) error { return hotlineTx{n, tx}.CreateChannel(ctx, ch) })
	if err != nil {
		return nil, fmt.Errorf("propose channel: %w", err)
	}
	return n.pushNow(ctx, ch), nil
}

// ChangeChannel makes a transition of channel id to state to, signed by
// this node, and sends the channel's history to the other parties: to
// open accepts a proposal (or reopens a suspended channel); suspended and
// closed suspend and close.
func (n *Node) ChangeChannel(ctx context.Context, id string, to hotline.State, reason string) (*ChannelResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, detente.Errorf(detente.EINVALID, "a reason is required")
	}
	var ch *hotline.Channel
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		return hotlineTx{n, tx}.UpdateChannel(ctx, id, func(c *hotline.Channel) error {
			if _, ok := c.Party(n.PublicKey()); !ok {
				return detente.Errorf(detente.EFORBIDDEN, "this node is not a party to channel %s", id)
			}
			if err := hotline.Apply(c, hotline.NewTransition(c, to, reason, n.now(), n.Key)); err != nil {
				return err
			}
			ch = c
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return n.pushNow(ctx, ch), nil
}

// pushNow sends ch's history to every other party once, recording who
// holds it; the running node retries the rest.
func (n *Node) pushNow(ctx context.Context, ch *hotline.Channel) *ChannelResult {
	tr := newPartnerTransport(n)
	defer tr.close()
	res := &ChannelResult{Channel: ch, Pushed: []string{}}
	for _, p := range ch.Parties {
		if p.Key.Equal(n.PublicKey()) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := n.pushTo(pctx, tr, ch, p)
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

// TransitionsWire is the body of POST /detente/v1/hotline/transitions: a
// channel's whole signed history, oldest first (the first carries the
// terms). Each transition is signed by the party that made it, so any
// party may forward it.
type TransitionsWire struct {
	Transitions []json.RawMessage `json:"transitions"`
}

// ChannelAnswer is a partner's answer to a history: where the channel
// stands there.
type ChannelAnswer struct {
	Channel string        `json:"channel"`
	State   hotline.State `json:"state"`
	Seq     int           `json:"seq"`
}

// pushTo sends ch's history to party p and records the outcome.
func (n *Node) pushTo(ctx context.Context, tr *partnerTransport, ch *hotline.Channel, p hotline.Party) error {
	err := n.sendHistory(ctx, tr, ch, p)
	id := ch.ID + "/" + p.Name
	uerr := n.Store.Update(ctx, func(tx detente.Tx) error {
		st, err2 := getDoc[pushState](ctx, tx, docPush, id, "push state")
		if detente.ErrorCode(err2) == detente.ENOTFOUND {
			st, err2 = &pushState{}, nil
		}
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
			st.NextAttempt = n.now().Add(min(time.Second<<min(st.Attempts, 6), time.Minute))
		}
		return putDoc(ctx, tx, docPush, id, st, false)
	})
	if uerr != nil && ctx.Err() == nil {
		n.Logger.ErrorContext(ctx, "hotline: record push", "channel", ch.ID, "partner", p.Name, "err", uerr)
	}
	return err
}

func (n *Node) sendHistory(ctx context.Context, tr *partnerTransport, ch *hotline.Channel, p hotline.Party) error {
	var partner *detente.Partner
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { partner, err = tx.PartnerByKey(ctx, p.Key); return })
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return detente.Errorf(detente.EUNAVAILABLE, "party %s is not a known partner of this node", p.Name)
	}
	if err != nil {
		return err
	}
	if partner.State != detente.PartnerActive || partner.URL == "" {
		return detente.Errorf(detente.EUNAVAILABLE, "partner %s is %s or has no URL", partner.Name, partner.State)
	}
	var w TransitionsWire
	for _, t := range ch.Transitions {
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode transition: %w", err)
		}
		w.Transitions = append(w.Transitions, b)
	}
	body, _ := json.Marshal(w)
	_, err = tr.post(ctx, partner, HotlineTransitionsPath, body)
	return err
}

func permanent(err error) bool {
	switch detente.ErrorCode(err) {
	case detente.EINVALID, detente.EFORBIDDEN, detente.EUNAUTHORIZED, detente.ECONFLICT:
		return true
	}
	return false
}

// ReceiveTransitions applies a channel history sent by partner from: the
// transitions this node does not hold yet are applied in order (each
// verified: signature, party, lifecycle), all in one transaction with
// their log events. Transitions it holds already must be the same ones.
// A refusal is logged and returned.
func (n *Node) ReceiveTransitions(ctx context.Context, from *detente.Partner, body []byte) (*ChannelAnswer, error) {
	ans, chID, err := n.receiveTransitions(ctx, from, body)
	if err != nil {
		n.logRefusal(ctx, from.Name, "transitions", chID, "", err)
		return nil, err
	}
	return ans, nil
}

func (n *Node) receiveTransitions(ctx context.Context, from *detente.Partner, body []byte) (*ChannelAnswer, string, error) {
	var w TransitionsWire
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, "", detente.Errorf(detente.EINVALID, "decode channel history: %v", err)
	}
	if len(w.Transitions) == 0 || len(w.Transitions) > 10000 {
		return nil, "", detente.Errorf(detente.EINVALID, "a channel history holds 1 to 10000 transitions")
	}
	ts := make([]*hotline.Transition, len(w.Transitions))
	for i, raw := range w.Transitions {
		t, err := hotline.DecodeTransition(raw)
		if err != nil {
			return nil, "", err
		}
		if i > 0 && t.Channel != ts[0].Channel {
			return nil, "", detente.Errorf(detente.EINVALID, "a channel history mixes channels")
		}
		ts[i] = t
	}
	id := ts[0].Channel
	ans := &ChannelAnswer{Channel: id}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		st := hotlineTx{n, tx}
		ch, err := st.Channel(ctx, id)
		isNew := detente.ErrorCode(err) == detente.ENOTFOUND
		if isNew {
			ch = &hotline.Channel{}
		} else if err != nil {
			return err
		}
		before := len(ch.Transitions)
		for _, t := range ts {
			if t.Seq >= 1 && t.Seq <= len(ch.Transitions) {
				if !bytes.Equal(ch.Transitions[t.Seq-1].Signature, t.Signature) {
					return detente.Errorf(detente.ECONFLICT, "channel %s: transition %d differs from the one this node holds (the histories diverged)", id, t.Seq)
				}
				continue
			}
			if err := hotline.Apply(ch, *t); err != nil {
				return err
			}
		}
		if _, ok := ch.Party(n.PublicKey()); !ok {
			return detente.Errorf(detente.EFORBIDDEN, "channel %s: this node is not a party to it", id)
		}
		if _, ok := ch.Party(from.Key); !ok {
			return detente.Errorf(detente.EFORBIDDEN, "channel %s: you are not a party to it", id)
		}
		ans.State, ans.Seq = ch.State, len(ch.Transitions)
		if len(ch.Transitions) > before {
			if isNew {
				if err := st.CreateChannel(ctx, ch); err != nil {
					return err
				}
			} else if err := st.UpdateChannel(ctx, id, func(c *hotline.Channel) error { *c = *ch; return nil }); err != nil {
				return err
			}
		}
		// The sender holds what it sent: no need to send it back.
		if p, ok := ch.Party(from.Key); ok {
			pid := id + "/" + p.Name
			ps, err := getDoc[pushState](ctx, tx, docPush, pid, "push state")
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				ps, err = &pushState{}, nil
			}
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

// logRefusal records in the log that something a partner sent was
// refused, and why.
func (n *Node) logRefusal(ctx context.Context, partner, what, channel, id string, cause error) {
	code := detente.ErrorCode(cause)
	n.Logger.WarnContext(ctx, "hotline: refused", "partner", partner, "what", what, "channel", channel, "id", id, "code", code, "err", cause)
	if code == detente.EINTERNAL {
		return // our failure, not the partner's: the slog line is enough
	}
	body := map[string]any{"action": actRefused, "what": what, "channel": channel, "id": id, "code": code, "error": detente.ErrorMessage(cause)}
	err := n.Store.Update(ctx, func(tx detente.Tx) error { return n.logEvent(ctx, tx, detente.EventChannel, partner, body) })
	if err != nil {
		n.Logger.ErrorContext(ctx, "hotline: log refusal", "err", err)
	}
}

// Channels returns every channel, by id.
func (n *Node) Channels(ctx context.Context) ([]*hotline.Channel, error) {
	return n.HotlineStore().Channels(ctx)
}

// Channel returns channel id.
func (n *Node) Channel(ctx context.Context, id string) (*hotline.Channel, error) {
	return n.HotlineStore().Channel(ctx, id)
}

// ---- messages ----

// MessageRequest is a message a person of this node sends on a channel.
type MessageRequest struct {
	Channel   string              `json:"channel"`
	Type      hotline.MessageType `json:"type"`
	Author    string              `json:"author,omitempty"`
	Subject   string              `json:"subject,omitempty"`
	Body      string              `json:"body,omitempty"`
	Due       time.Time           `json:"due,omitzero"`
	InReplyTo string              `json:"in_reply_to,omitempty"`
	Markings  []string            `json:"markings,omitempty"`
	Refs      []string            `json:"refs,omitempty"`
	Activity  *hotline.Activity   `json:"activity,omitempty"`
	// IdempotencyKey makes a retried request send the message once; ""
	// uses the message's id.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// SendResult is a message as stored for delivery, and for a notice of
// planned activity the conflicts it has with the partners' notices.
type SendResult struct {
	Record    *hotline.Record    `json:"record"`
	Conflicts []hotline.Conflict `json:"conflicts,omitempty"`
}

// SendMessage signs a message and stores it in the outbox, with its log
// event, for the running node to deliver. A message referring to STIX
// objects goes only if the egress policy would release every one of them
// to every recipient, and a marked message only to partners whose
// agreement's TLP ceiling allows its marking; otherwise it is refused
// with the reasons (EDENIED).
func (n *Node) SendMessage(ctx context.Context, req MessageRequest) (*SendResult, error) {
	switch req.Type {
	case hotline.TypeAck:
		return nil, detente.Errorf(detente.EINVALID, "acknowledge with 'detente message ack', not send")
	case hotline.TypeHeartbeat:
		return nil, detente.Errorf(detente.EINVALID, "heartbeats are sent by the running node")
	}
	m := hotline.NewMessage(req.Channel, req.Type, n.now())
	m.Author, m.Subject, m.Body, m.Due, m.InReplyTo = req.Author, req.Subject, req.Body, req.Due.UTC(), req.InReplyTo
	if req.Due.IsZero() {
		m.Due = time.Time{}
	}
	m.Markings, m.Refs, m.Activity = req.Markings, req.Refs, req.Activity
	if req.IdempotencyKey != "" {
		m.IdempotencyKey = req.IdempotencyKey
	}
	m.Sign(n.Key)
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := n.checkEgress(ctx, m); err != nil {
		return nil, err
	}
	return n.enqueue(ctx, m)
}

// enqueue stores m (signed by this node) in the outbox in one transaction
// with its log event and, for a notice of activity, its deconfliction.
func (n *Node) enqueue(ctx context.Context, m *hotline.Message) (*SendResult, error) {
	res := &SendResult{}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		st := hotlineTx{n, tx}
		ob := hotline.NewOutbox(st, nil, n.PublicKey(), hotline.OutboxOptions{Logger: n.Logger})
		r, err := ob.Enqueue(ctx, m)
		if err != nil {
			return err
		}
		res.Record, res.Conflicts = r, nil // fn may run again
		if m.Activity != nil && r.Message.ID == m.ID {
			res.Conflicts, err = n.deconflict(ctx, tx, n.Name, m)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	n.wakeOutbox()
	return res, nil
}

// recipients returns the local partners a message of this node goes to.
func (n *Node) recipients(ctx context.Context, tx detente.Tx, ch *hotline.Channel, m *hotline.Message) ([]*detente.Partner, error) {
	var keys []detente.PublicKey
	if m.InReplyTo != "" {
		ref, err := hotlineTx{n, tx}.Message(ctx, m.InReplyTo)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ref.Message.From)
	} else {
		for _, p := range ch.Parties {
			if !p.Key.Equal(n.PublicKey()) {
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
func (n *Node) checkEgress(ctx context.Context, m *hotline.Message) error {
	if len(m.Refs) == 0 && len(m.Markings) == 0 {
		return nil
	}
	var ps []*detente.Partner
	var ags []*detente.Agreement
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		ch, err := hotlineTx{n, tx}.Channel(ctx, m.Channel)
		if err != nil {
			return err
		}
		if ps, err = n.recipients(ctx, tx, ch, m); err != nil {
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
				allowed = allowed || a.Covers(p.Name) && a.InForce(n.now()) && tlp <= a.TLPCeiling
			}
			if !allowed {
				reasons = append(reasons, fmt.Sprintf("%s: no agreement in force allows TLP:%s", p.Name, strings.ToUpper(tlp.String())))
			}
		}
		for _, ref := range m.Refs {
			d, err := n.CheckRelease(ctx, ref, p.Name)
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
func (n *Node) AckMessage(ctx context.Context, id, person string) (*hotline.Record, error) {
	if strings.TrimSpace(person) == "" {
		return nil, detente.Errorf(detente.EINVALID, "name the person who acknowledges")
	}
	r, err := n.HotlineStore().Message(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Outgoing {
		return nil, detente.Errorf(detente.EINVALID, "message %s was sent by this node: only its recipients acknowledge it", id)
	}
	if r.Message.Type == hotline.TypeAck {
		return nil, detente.Errorf(detente.EINVALID, "message %s is an acknowledgement: acknowledgements are not acknowledged", id)
	}
	if !r.AckedAt.IsZero() {
		return nil, detente.Errorf(detente.ECONFLICT, "message %s was acknowledged by %s at %s", id, r.AckedBy, r.AckedAt.Format(time.RFC3339))
	}
	ack := hotline.NewAck(r.Message, person, n.now(), n.Key)
	res, err := n.enqueue(ctx, ack)
	if err != nil {
		return nil, err
	}
	return res.Record, nil
}

// ReceiveMessage checks and stores a message that partner from sent, in one
// transaction with its log event (and, for a notice of activity, its
// deconfliction and conflict alerts). A message received before is a
// duplicate: success, stored once. A refusal is logged and returned.
func (n *Node) ReceiveMessage(ctx context.Context, from *detente.Partner, body []byte) (*hotline.Receipt, error) {
	m, err := hotline.DecodeMessage(body)
	if err != nil {
		n.logRefusal(ctx, from.Name, "message", "", "", err)
		return nil, err
	}
	var rc *hotline.Receipt
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		var err error
		if rc, err = hotline.Receive(ctx, hotlineTx{n, tx}, from.Key, m, n.now()); err != nil {
			return err
		}
		if m.Activity != nil && !rc.Duplicate {
			_, err = n.deconflict(ctx, tx, from.Name, m)
		}
		return err
	})
	if err != nil {
		if m.Type != hotline.TypeHeartbeat {
			n.logRefusal(ctx, from.Name, "message", m.Channel, m.ID, err)
		}
		return nil, err
	}
	if rc.Duplicate && rc.Record != nil && !rc.Record.AckDue.IsZero() && rc.Record.AckedAt.IsZero() {
		n.Logger.WarnContext(ctx, "hotline: partner is waiting for an acknowledgement", "partner", from.Name, "message", m.ID, "type", m.Type)
	}
	return rc, nil
}

// MessageView is a stored message as people see it: which way it went,
// with whom, and whether it is overdue.
type MessageView struct {
	*hotline.Record
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
func (n *Node) Messages(ctx context.Context, channel string) ([]MessageView, error) {
	var out []MessageView
	now := n.now()
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		st := hotlineTx{n, tx}
		rs, err := st.Messages(ctx, hotline.MessageFilter{Channel: channel})
		if err != nil {
			return err
		}
		chs := map[string]*hotline.Channel{}
		for _, r := range rs {
			if r.Message.Type == hotline.TypeAck {
				continue
			}
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
				ch := chs[r.Message.Channel]
				if ch == nil {
					if ch, err = st.Channel(ctx, r.Message.Channel); err != nil {
						return err
					}
					chs[ch.ID] = ch
				}
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
			if v.Overdue == "" && r.Message.Type == hotline.TypeRequest && r.AnsweredAt.IsZero() && now.After(r.Message.Due) {
				v.Overdue = "response"
			}
			out = append(out, v)
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

// ---- notices and deconfliction ----

// activityDoc is the latest version of one party's activity.
type activityDoc struct {
	Owner    string            `json:"owner"`
	Channel  string            `json:"channel"`
	Message  string            `json:"message"`
	Activity *hotline.Activity `json:"activity"`
}

// Notice is a notice of planned activity as this node holds it, with its
// conflicts.
type Notice struct {
	Owner     string             `json:"owner"`
	Channel   string             `json:"channel"`
	Message   string             `json:"message"`
	Activity  *hotline.Activity  `json:"activity"`
	Conflicts []hotline.Conflict `json:"conflicts"`
}

// deconfliction builds the deconflictor of every activity held in tx.
func deconfliction(ctx context.Context, tx detente.Tx) (*hotline.Deconflictor, []activityDoc, error) {
	ds, err := tx.Docs(ctx, docActivity, "", 0)
	if err != nil {
		return nil, nil, err
	}
	d := hotline.NewDeconflictor()
	var docs []activityDoc
	for _, x := range ds {
		var a activityDoc
		if err := json.Unmarshal(x.Body, &a); err != nil {
			return nil, nil, fmt.Errorf("decode activity %s: %w", x.ID, err)
		}
		if _, err := d.Put(a.Owner, a.Activity); err != nil {
			return nil, nil, fmt.Errorf("activity %s: %w", x.ID, err)
		}
		docs = append(docs, a)
	}
	return d, docs, nil
}

// docActivityVersion holds, under id "current", a random token rewritten
// with every change to the activities (docActivity): whoever writes an
// activity writes a new token in the same transaction.
const docActivityVersion = "hotline.activity.version"

// hotlineRuntime is the node's in-process hotline state: the wake-up of
// the running outbox and the cached deconflictor.
type hotlineRuntime struct {
	mu   sync.Mutex
	wake chan struct{} // the running hotline's outbox wake-up; nil if none

	// dmu guards the cached deconflictor, which holds every activity as of
	// the activity version token.
	dmu     sync.Mutex
	dec     *hotline.Deconflictor
	version string
}

// setWake makes wakeOutbox poke c.
func (r *hotlineRuntime) setWake(c chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wake = c
}

// wakeOutbox wakes the outbox of the hotline running in this process, if
// any, so that a message just enqueued goes out at once rather than at the
// next poll. A message enqueued by another process (the CLI) waits for the
// poll (HotlineOptions.Poll), unless that process delivers it itself
// (DeliverNow).
func (n *Node) wakeOutbox() {
	n.hotline.mu.Lock()
	c := n.hotline.wake
	n.hotline.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case c <- struct{}{}:
	default:
	}
}

// deconflict holds the activity of notice m of owner and records, in tx,
// an alert and a log event for each conflict it makes and a log event for
// each it resolves. It returns the activity's conflicts.
//
// The deconflictor is kept in memory and rebuilt from the stored
// activities only when the activity version token in tx is not the one it
// was built at or last changed to: another process (the CLI) filed or
// received a notice, or a transaction that changed it did not commit.
func (n *Node) deconflict(ctx context.Context, tx detente.Tx, owner string, m *hotline.Message) ([]hotline.Conflict, error) {
	rt := &n.hotline
	rt.dmu.Lock()
	defer rt.dmu.Unlock()
	version := ""
	if b, err := tx.Doc(ctx, docActivityVersion, "current"); err == nil {
		version = string(b)
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, err
	}
	d := rt.dec
	if d == nil || rt.version != version {
		rt.dec = nil
		var err error
		if d, _, err = deconfliction(ctx, tx); err != nil {
			return nil, err
		}
	}
	// From here on the cache is invalid unless every step succeeds: it
	// then holds the new token, which matches storage once tx commits.
	rt.dec = nil
	a := m.Activity
	change, err := d.Put(owner, a)
	if err != nil {
		return nil, err
	}
	if err := putDoc(ctx, tx, docActivity, owner+"/"+a.ID, activityDoc{Owner: owner, Channel: m.Channel, Message: m.ID, Activity: a}, false); err != nil {
		return nil, err
	}
	next := newUUID()
	if err := tx.PutDoc(ctx, docActivityVersion, "current", []byte(next), false); err != nil {
		return nil, err
	}
	for _, c := range change.New {
		text := ConflictText(c)
		ev, _ := json.Marshal(c)
		partner := c.A.Owner
		if partner == n.Name {
			partner = c.B.Owner
		}
		if err := tx.PutAlert(ctx, &detente.Alert{Time: n.now(), Kind: AlertChannel, Partner: partner, Message: text, Evidence: ev}); err != nil {
			return nil, err
		}
		body := map[string]any{"action": actConflict, "channel": m.Channel, "a": c.A, "b": c.B, "start": c.Start, "end": c.End, "lower_m": c.Lower, "upper_m": c.Upper}
		if err := n.logEvent(ctx, tx, detente.EventChannel, partner, body); err != nil {
			return nil, err
		}
	}
	for _, c := range change.Resolved {
		body := map[string]any{"action": actResolved, "channel": m.Channel, "a": c.A, "b": c.B}
		if err := n.logEvent(ctx, tx, detente.EventChannel, "", body); err != nil {
			return nil, err
		}
	}
	rt.dec, rt.version = d, next
	return d.Conflicts(owner, a.ID), nil
}

// ConflictText describes a conflict in one line, naming both notices.
func ConflictText(c hotline.Conflict) string {
	return fmt.Sprintf("deconfliction conflict: %s's %s (v%d) overlaps %s's %s (v%d) from %s to %s between %.0f m and %.0f m",
		c.A.Owner, c.A.ID, c.A.Version, c.B.Owner, c.B.ID, c.B.Version,
		c.Start.UTC().Format(time.RFC3339), c.End.UTC().Format(time.RFC3339), c.Lower, c.Upper)
}

// NoticeRequest is a notice of planned activity this node files on a
// channel.
type NoticeRequest struct {
	Channel  string       `json:"channel"`
	Author   string       `json:"author,omitempty"`
	Subject  string       `json:"subject,omitempty"`
	Area     hotline.Area `json:"area"`
	Band     hotline.Band `json:"band"`
	Start    time.Time    `json:"start"`
	End      time.Time    `json:"end"`
	Nature   string       `json:"nature"`
	Markings []string     `json:"markings,omitempty"`
}

// FileNotice files a notice of planned activity: it sends it to the
// channel's partners and checks it against every notice this node holds.
func (n *Node) FileNotice(ctx context.Context, req NoticeRequest) (*SendResult, error) {
	a := &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive,
		Area: req.Area, Band: req.Band, Start: req.Start.UTC(), End: req.End.UTC(), Nature: req.Nature}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	subject := req.Subject
	if subject == "" {
		subject = "planned activity: " + req.Nature
	}
	return n.SendMessage(ctx, MessageRequest{Channel: req.Channel, Type: hotline.TypeNotice, Author: req.Author,
		Subject: subject, Markings: req.Markings, Activity: a})
}

// ownActivity reads this node's activity id, ENOTFOUND if this node filed
// none by that id.
func (n *Node) ownActivity(ctx context.Context, id string) (doc *activityDoc, err error) {
	err = n.Store.View(ctx, func(tx detente.Tx) error {
		doc, err = getDoc[activityDoc](ctx, tx, docActivity, n.Name+"/"+id, "activity of this node")
		return err
	})
	return doc, err
}

// CancelNotice cancels this node's activity id: a new version, cancelled,
// goes to the channel's partners and the conflicts it had are resolved.
func (n *Node) CancelNotice(ctx context.Context, id, author, reason string) (*SendResult, error) {
	doc, err := n.ownActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if doc.Activity.Status == hotline.ActivityCancelled {
		return nil, detente.Errorf(detente.ECONFLICT, "activity %s is already cancelled", id)
	}
	a := *doc.Activity
	a.Version++
	a.Status = hotline.ActivityCancelled
	subject := "cancelled: " + a.Nature
	if reason != "" {
		subject += " (" + reason + ")"
	}
	return n.SendMessage(ctx, MessageRequest{Channel: doc.Channel, Type: hotline.TypeNotice, Author: author, Subject: subject, Activity: &a})
}

// AmendNoticeRequest changes a notice of planned activity this node
// filed. Fields left empty keep their current value.
type AmendNoticeRequest struct {
	Author string        `json:"author,omitempty"`
	Reason string        `json:"reason,omitempty"`
	Area   *hotline.Area `json:"area,omitempty"`
	Band   *hotline.Band `json:"band,omitempty"`
	Start  *time.Time    `json:"start,omitempty"`
	End    *time.Time    `json:"end,omitempty"`
	Nature string        `json:"nature,omitempty"`
}

// AmendNotice amends this node's activity id: a new version goes to the
// channel's partners, and conflicts are re-evaluated on every side (those
// the change removes are resolved, new ones raised).
func (n *Node) AmendNotice(ctx context.Context, id string, req AmendNoticeRequest) (*SendResult, error) {
	doc, err := n.ownActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if doc.Activity.Status == hotline.ActivityCancelled {
		return nil, detente.Errorf(detente.ECONFLICT, "activity %s is cancelled: file a new notice instead", id)
	}
	a := *doc.Activity
	if req.Area != nil {
		a.Area = *req.Area
	}
	if req.Band != nil {
		a.Band = *req.Band
	}
	if req.Start != nil {
		a.Start = req.Start.UTC()
	}
	if req.End != nil {
		a.End = req.End.UTC()
	}
	if req.Nature != "" {
		a.Nature = req.Nature
	}
	before, _ := json.Marshal(doc.Activity)
	after, _ := json.Marshal(&a)
	if bytes.Equal(before, after) {
		return nil, detente.Errorf(detente.EINVALID, "the amendment changes nothing in activity %s", id)
	}
	a.Version++
	if err := a.Validate(); err != nil {
		return nil, err
	}
	subject := fmt.Sprintf("amended (v%d): %s", a.Version, a.Nature)
	if req.Reason != "" {
		subject += " (" + req.Reason + ")"
	}
	return n.SendMessage(ctx, MessageRequest{Channel: doc.Channel, Type: hotline.TypeNotice, Author: req.Author, Subject: subject, Activity: &a})
}

// Notices returns every notice of planned activity this node holds, its
// own and its partners', with their conflicts.
func (n *Node) Notices(ctx context.Context) ([]Notice, error) {
	out := []Notice{}
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		d, docs, err := deconfliction(ctx, tx)
		if err != nil {
			return err
		}
		for _, x := range docs {
			cs := d.Conflicts(x.Owner, x.Activity.ID)
			if cs == nil {
				cs = []hotline.Conflict{}
			}
			out = append(out, Notice{Owner: x.Owner, Channel: x.Channel, Message: x.Message, Activity: x.Activity, Conflicts: cs})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if (len(out[i].Conflicts) > 0) != (len(out[j].Conflicts) > 0) {
			return len(out[i].Conflicts) > 0
		}
		return out[i].Activity.Start.Before(out[j].Activity.Start)
	})
	return out, err
}

// Conflicts returns every current conflict between the notices this node
// holds.
func (n *Node) Conflicts(ctx context.Context) ([]hotline.Conflict, error) {
	var out []hotline.Conflict
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		d, _, err := deconfliction(ctx, tx)
		if err == nil {
			out = d.Conflicts("", "")
		}
		return err
	})
	if out == nil {
		out = []hotline.Conflict{}
	}
	return out, err
}

// ---- the running node ----

// HotlineOptions tune the hotline's background work. Zero fields take the
// defaults shown.
type HotlineOptions struct {
	// Webhook, when set, receives every hotline alert as JSON
	// (docs/channels.md), besides the node's alerts table.
	Webhook string
	// Poll is how often the outbox looks for messages queued by another
	// process (the CLI) or another request: 250ms.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the outbox's retry delays: 1s, 1m.
	MinBackoff, MaxBackoff time.Duration
	// Escalate is how often overdue acknowledgements are checked: 5s.
	Escalate time.Duration
	// Push is how often channel histories that did not reach a partner
	// are retried: 2s (each partner backs off on failure).
	Push time.Duration
}

// Hotline is the node's running hotline: the outbox, the escalator, the
// heartbeats and the delivery of channel histories.
type Hotline struct {
	n          *Node
	opts       HotlineOptions
	transport  *partnerTransport
	Outbox     *hotline.Outbox
	Escalator  *hotline.Escalator
	Heartbeats *hotline.Heartbeats

	wake chan struct{} // poked by Node.wakeOutbox while Run runs
}

// NewHotline returns the hotline of n, ready to Run.
func (n *Node) NewHotline(opts HotlineOptions) *Hotline {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Escalate <= 0 {
		opts.Escalate = 5 * time.Second
	}
	if opts.Push <= 0 {
		opts.Push = 2 * time.Second
	}
	h := &Hotline{n: n, opts: opts, transport: newPartnerTransport(n), wake: make(chan struct{}, 1)}
	var alerter hotline.Alerter
	if opts.Webhook != "" {
		alerter = &hotline.WebhookAlerter{URL: opts.Webhook}
	}
	st := n.HotlineStore()
	h.Outbox = hotline.NewOutbox(st, h.transport, n.PublicKey(), hotline.OutboxOptions{
		MinBackoff: opts.MinBackoff, MaxBackoff: opts.MaxBackoff, Poll: opts.Poll, Logger: n.Logger})
	h.Escalator = &hotline.Escalator{Store: st, Outbox: h.Outbox, Alerter: alerter, Self: n.PublicKey(), Node: n.Name,
		Report: n.reportAlert, Interval: opts.Escalate, Logger: n.Logger}
	h.Heartbeats = &hotline.Heartbeats{Store: st, Transport: h.transport, Key: n.Key, Node: n.Name, Alerter: alerter,
		Report: n.reportAlert, Logger: n.Logger}
	return h
}

// Run runs the hotline until ctx is done. While it runs, a message that
// this process enqueues (Node.SendMessage, AckMessage, FileNotice,
// CancelNotice: the API of detente serve) wakes the outbox at once; one
// enqueued by another process sharing the store (the CLI) is picked up
// by the next poll (HotlineOptions.Poll).
func (h *Hotline) Run(ctx context.Context) {
	h.n.hotline.setWake(h.wake)
	defer h.n.hotline.setWake(nil)
	var wg sync.WaitGroup
	wg.Go(func() { h.runOutbox(ctx) })
	wg.Go(func() { h.Escalator.Run(ctx) })
	wg.Go(func() { h.Heartbeats.Run(ctx) })
	wg.Go(func() { h.runPush(ctx) })
	wg.Wait()
	h.transport.close()
}

// runOutbox delivers the outbox's messages until ctx is done, as
// hotline.Outbox.Run does, also waking when this process enqueues a
// message (Node.wakeOutbox). Resends by the escalator go out at the next
// poll.
func (h *Hotline) runOutbox(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.wake:
		}
		next, err := h.Outbox.Flush(ctx)
		if err != nil && ctx.Err() == nil {
			h.n.Logger.ErrorContext(ctx, "outbox", "err", err)
		}
		wait := h.opts.Poll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		t.Reset(wait)
	}
}

// runPush sends channel histories to the parties that do not hold them
// yet, until ctx is done. A party that refuses a history for good is
// reported once as an alert.
func (h *Hotline) runPush(ctx context.Context) {
	t := time.NewTicker(h.opts.Push)
	defer t.Stop()
	for {
		if err := h.pushDue(ctx); err != nil && ctx.Err() == nil {
			h.n.Logger.WarnContext(ctx, "hotline: push channel histories", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Hotline) pushDue(ctx context.Context) error {
	n := h.n
	type due struct {
		ch    *hotline.Channel
		party hotline.Party
	}
	var work []due
	var failed []due
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		chs, err := hotlineTx{n, tx}.Channels(ctx)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			for _, p := range ch.Parties {
				if p.Key.Equal(n.PublicKey()) {
					continue
				}
				st, err := getDoc[pushState](ctx, tx, docPush, ch.ID+"/"+p.Name, "push state")
				if detente.ErrorCode(err) == detente.ENOTFOUND {
					st, err = &pushState{}, nil
				}
				if err != nil {
					return err
				}
				switch {
				case st.Failed && !st.Reported:
					failed = append(failed, due{ch, p})
				case !st.Failed && st.Seq < len(ch.Transitions) && !n.now().Before(st.NextAttempt):
					work = append(work, due{ch, p})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range work {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := n.pushTo(pctx, h.transport, w.ch, w.party); err != nil && ctx.Err() == nil {
			n.Logger.InfoContext(ctx, "hotline: channel history not delivered, will retry", "channel", w.ch.ID, "partner", w.party.Name, "err", err)
		}
		cancel()
	}
	for _, f := range failed {
		errs = append(errs, h.reportPushFailure(ctx, f.ch, f.party))
	}
	return errors.Join(errs...)
}

// reportPushFailure raises, once, the alert that a party refused a
// channel's history.
func (h *Hotline) reportPushFailure(ctx context.Context, ch *hotline.Channel, p hotline.Party) error {
	n := h.n
	id := ch.ID + "/" + p.Name
	var reason string
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		st, err := getDoc[pushState](ctx, tx, docPush, id, "push state")
		if err != nil {
			return err
		}
		reason, st.Reported = st.LastError, true
		return putDoc(ctx, tx, docPush, id, st, false)
	})
	if err != nil {
		return err
	}
	a := hotline.Alert{Kind: hotline.AlertDeliveryFailed, Node: n.Name, Time: n.now(), Channel: ch.ID, Purpose: ch.Purpose,
		Partners: []string{p.Name}, Text: fmt.Sprintf("%s refused the history of channel %s: %s", p.Name, ch.ID, reason)}
	if self, ok := ch.Party(n.PublicKey()); ok {
		a.DutyOfficer = self.DutyOfficer()
	}
	n.reportAlert(ctx, a)
	if h.Escalator.Alerter != nil {
		if err := h.Escalator.Alerter.Alert(ctx, a); err != nil {
			n.Logger.ErrorContext(ctx, "hotline alert not delivered", "kind", a.Kind, "err", err)
		}
	}
	return nil
}

// reportAlert records a hotline alert in the node's alerts table, with its
// log event.
func (n *Node) reportAlert(ctx context.Context, a hotline.Alert) {
	ev, _ := json.Marshal(a)
	partner := ""
	if len(a.Partners) == 1 {
		partner = a.Partners[0]
	}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutAlert(ctx, &detente.Alert{Time: a.Time, Kind: AlertChannel, Partner: partner, Message: a.Text, Evidence: ev}); err != nil {
			return err
		}
		body := map[string]any{"action": actAlert, "kind": a.Kind, "channel": a.Channel, "partners": a.Partners}
		if a.Message != "" {
			body["message"], body["escalation"] = a.Message, a.Escalation
		}
		return n.logEvent(ctx, tx, detente.EventChannel, partner, body)
	})
	if err != nil && ctx.Err() == nil {
		n.Logger.ErrorContext(ctx, "hotline: record alert", "kind", a.Kind, "channel", a.Channel, "err", err)
	}
	n.Logger.WarnContext(ctx, "hotline alert", "kind", a.Kind, "channel", a.Channel, "text", a.Text)
}

// Lines returns the liveness of every open or suspended line as this
// running node sees it.
func (h *Hotline) Lines(ctx context.Context) ([]hotline.Line, error) {
	return h.Heartbeats.Lines(ctx, time.Now())
}

// DeliverNow makes one attempt at every message of this node's outbox that
// is due, and returns when they have been tried. The CLI calls it so that
// a message goes out at once; the running node (detente serve) retries
// what fails. A partner that gets a message from both is told it is a
// duplicate.
func (n *Node) DeliverNow(ctx context.Context) error {
	tr := newPartnerTransport(n)
	defer tr.close()
	ob := hotline.NewOutbox(n.HotlineStore(), tr, n.PublicKey(), hotline.OutboxOptions{Logger: n.Logger})
	_, err := ob.Flush(ctx)
	return err
}
