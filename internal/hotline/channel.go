package hotline

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"time"

	"detente"
)

// State is where a channel stands in its lifecycle.
type State string

// Channel states. A channel starts proposed, opens when every party has
// agreed to its terms, may be suspended and reopened any number of times,
// and ends closed. Closed is final.
const (
	StateProposed  State = "proposed"
	StateOpen      State = "open"
	StateSuspended State = "suspended"
	StateClosed    State = "closed"
)

// Limits on channel terms.
const (
	// DefaultHeartbeat is the heartbeat interval of a channel whose terms
	// leave it unset. A line is silent after twice the interval.
	DefaultHeartbeat = 20 * time.Second
	// MaxHeartbeat is the longest heartbeat interval allowed, so that a
	// silent line shows within a minute (2 × 30 s).
	MaxHeartbeat = 30 * time.Second
	// DefaultCrisisAck is the acknowledgement deadline of crisis alerts on
	// a channel whose terms do not set one: crisis alerts are always
	// acknowledged.
	DefaultCrisisAck = 5 * time.Minute

	maxText = 4000 // bytes of a purpose, reason or message subject
	maxBody = 64 << 10
)

// Duration is a time.Duration whose JSON form is Go's duration text, e.g.
// "5m0s", so that terms read well in the API and in signed bytes.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return detente.Errorf(detente.EINVALID, "duration %q: want e.g. \"5m\" or \"30s\"", b)
	}
	*d = Duration(v)
	return nil
}

// Contact is a named point of contact of one side of a channel.
type Contact struct {
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"` // e.g. "liaison officer", RoleDutyOfficer
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// RoleDutyOfficer is the contact role that escalation alerts name.
const RoleDutyOfficer = "duty-officer"

// Party is one side of a channel: a node, pinned by its key, and the people
// who speak for it on this channel.
type Party struct {
	Name     string            `json:"name"` // the node's short name, e.g. "bravo"
	Key      detente.PublicKey `json:"key"`
	Contacts []Contact         `json:"contacts,omitempty"`
}

// DutyOfficer returns the name of p's first contact with RoleDutyOfficer,
// or of its first contact, or "".
func (p *Party) DutyOfficer() string {
	for _, c := range p.Contacts {
		if c.Role == RoleDutyOfficer {
			return c.Name
		}
	}
	if len(p.Contacts) > 0 {
		return p.Contacts[0].Name
	}
	return ""
}

// Terms are what the parties agree to when they open a channel. Every
// transition signs a hash of them, so no side can later claim other terms.
type Terms struct {
	ID      string `json:"id"`              // "channel--<uuid>"
	Purpose string `json:"purpose"`         // e.g. "Euro 2028 security"
	Event   string `json:"event,omitempty"` // optional event scope
	// NotBefore and NotAfter bound the validity window [NotBefore,
	// NotAfter); a zero bound is open.
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	Parties   []Party   `json:"parties"` // this node and one or more partners
	// AckWithin holds the acknowledgement deadline per message type;
	// types without an entry need no acknowledgement, except crisis
	// alerts, which default to DefaultCrisisAck.
	AckWithin map[MessageType]Duration `json:"ack_within,omitempty"`
	// Heartbeat is the heartbeat interval N (DefaultHeartbeat when zero);
	// a line is silent after 2N without one.
	Heartbeat Duration `json:"heartbeat,omitzero"`
}

// Hash returns the SHA-256 of t's canonical, domain-separated encoding.
func (t *Terms) Hash() []byte {
	b, _ := json.Marshal(t) // plain fields cannot fail to marshal
	h := sha256.Sum256(append([]byte("detente-hotline-terms/v1\n"), b...))
	return h[:]
}

// Validate checks t before a channel is proposed.
func (t *Terms) Validate() error {
	switch {
	case !strings.HasPrefix(t.ID, "channel--") || len(t.ID) > 100:
		return detente.Errorf(detente.EINVALID, "channel id %q must start with \"channel--\"", t.ID)
	case strings.TrimSpace(t.Purpose) == "" || len(t.Purpose) > maxText:
		return detente.Errorf(detente.EINVALID, "channel %s: a purpose is required", t.ID)
	case len(t.Event) > maxText:
		return detente.Errorf(detente.EINVALID, "channel %s: event scope is too long", t.ID)
	case !t.NotBefore.IsZero() && !t.NotAfter.IsZero() && !t.NotAfter.After(t.NotBefore):
		return detente.Errorf(detente.EINVALID, "channel %s: validity window ends before it starts", t.ID)
	case len(t.Parties) < 2:
		return detente.Errorf(detente.EINVALID, "channel %s: needs this node and at least one partner", t.ID)
	case t.Heartbeat != 0 && (t.Heartbeat < Duration(time.Second) || t.Heartbeat > Duration(MaxHeartbeat)):
		return detente.Errorf(detente.EINVALID, "channel %s: heartbeat must be between 1s and %s", t.ID, MaxHeartbeat)
	}
	names := map[string]bool{}
	keys := map[string]bool{}
	for _, p := range t.Parties {
		if !detente.ValidName(p.Name) {
			return detente.Errorf(detente.EINVALID, "channel %s: party name %q is not a valid node name", t.ID, p.Name)
		}
		if len(p.Key) != ed25519.PublicKeySize {
			return detente.Errorf(detente.EINVALID, "channel %s: party %s has no Ed25519 key", t.ID, p.Name)
		}
		if names[p.Name] || keys[string(p.Key)] {
			return detente.Errorf(detente.EINVALID, "channel %s: party %s is listed twice", t.ID, p.Name)
		}
		names[p.Name], keys[string(p.Key)] = true, true
		for _, c := range p.Contacts {
			if strings.TrimSpace(c.Name) == "" {
				return detente.Errorf(detente.EINVALID, "channel %s: a contact of %s has no name", t.ID, p.Name)
			}
		}
	}
	for typ, d := range t.AckWithin {
		if !typ.valid() || typ == TypeAck || typ == TypeHeartbeat {
			return detente.Errorf(detente.EINVALID, "channel %s: no acknowledgement deadline can be set for %q", t.ID, typ)
		}
		if d <= 0 {
			return detente.Errorf(detente.EINVALID, "channel %s: acknowledgement deadline for %s must be positive", t.ID, typ)
		}
	}
	return nil
}

// Party returns the party whose key is k.
func (t *Terms) Party(k detente.PublicKey) (*Party, bool) {
	for i := range t.Parties {
		if t.Parties[i].Key.Equal(k) {
			return &t.Parties[i], true
		}
	}
	return nil, false
}

// AckDeadline returns how long recipients have to acknowledge a message of
// type typ, and false if it needs no acknowledgement.
func (t *Terms) AckDeadline(typ MessageType) (time.Duration, bool) {
	if d, ok := t.AckWithin[typ]; ok && d > 0 {
		return time.Duration(d), true
	}
	if typ == TypeCrisisAlert {
		return DefaultCrisisAck, true
	}
	return 0, false
}

// HeartbeatInterval returns the channel's heartbeat interval N.
func (t *Terms) HeartbeatInterval() time.Duration {
	if t.Heartbeat == 0 {
		return DefaultHeartbeat
	}
	return time.Duration(t.Heartbeat)
}

// InWindow reports whether now is inside the validity window.
func (t *Terms) InWindow(now time.Time) bool {
	return (t.NotBefore.IsZero() || !now.Before(t.NotBefore)) && (t.NotAfter.IsZero() || now.Before(t.NotAfter))
}

// Channel is a back-channel: its agreed terms, its current state and the
// signed transitions that led there, oldest first.
type Channel struct {
	Terms
	State       State        `json:"state"`
	Transitions []Transition `json:"transitions"`
}

// agreed reports whether k proposed or accepted ch's terms.
func (ch *Channel) agreed(k detente.PublicKey) bool {
	for _, t := range ch.Transitions {
		if (t.To == StateProposed || t.To == StateOpen && t.From == StateProposed) && t.By.Equal(k) {
			return true
		}
	}
	return false
}

// Transition is one signed change of a channel's state, made by one party.
// In a channel of more than two parties, proposed → open is an acceptance:
// the channel opens with the last party's acceptance.
type Transition struct {
	Channel string            `json:"channel"`
	Seq     int               `json:"seq"`  // 1-based position in the channel's history
	From    State             `json:"from"` // "" for the proposal
	To      State             `json:"to"`
	Reason  string            `json:"reason"`
	By      detente.PublicKey `json:"by"` // the party that made it
	Time    time.Time         `json:"time"`
	// TermsHash is Terms.Hash of the channel: the signer agrees to, or
	// acts under, exactly those terms.
	TermsHash []byte `json:"terms_hash"`
	// Terms travels with the proposal only, so that the partner learns
	// them; it is covered by TermsHash, not signed again.
	Terms     *Terms `json:"terms,omitempty"`
	Signature []byte `json:"signature,omitempty"`
}

// signedBytes is what a party signs: the transition's JSON without the
// terms and signature, fields in declaration order, after a domain tag.
func (t *Transition) signedBytes() []byte {
	tt := *t
	tt.Terms, tt.Signature = nil, nil
	b, _ := json.Marshal(&tt) // plain fields cannot fail to marshal
	return append([]byte("detente-hotline-transition/v1\n"), b...)
}

// Sign sets t.By to priv's public key and signs t with priv.
func (t *Transition) Sign(priv ed25519.PrivateKey) {
	t.By = detente.PublicKey(priv.Public().(ed25519.PublicKey))
	t.Signature = ed25519.Sign(priv, t.signedBytes())
}

// VerifySignature checks t's signature against t.By.
func (t *Transition) VerifySignature() error {
	if len(t.By) != ed25519.PublicKeySize || !ed25519.Verify(ed25519.PublicKey(t.By), t.signedBytes(), t.Signature) {
		return detente.Errorf(detente.EINVALID, "channel %s transition %d: signature does not verify against the key of its signer", t.Channel, t.Seq)
	}
	return nil
}

// legal lists the transitions of the lifecycle.
var legal = map[State][]State{
	"":             {StateProposed},
	StateProposed:  {StateOpen, StateClosed},
	StateOpen:      {StateSuspended, StateClosed},
	StateSuspended: {StateOpen, StateClosed},
}

// Propose returns a new proposed channel with terms, proposed by priv's
// node at now for reason. Its first transition, which carries the terms,
// is what the partners receive.
func Propose(terms Terms, reason string, now time.Time, priv ed25519.PrivateKey) (*Channel, error) {
	ch := &Channel{Terms: terms}
	t := Transition{
		Channel: terms.ID, Seq: 1, To: StateProposed, Reason: reason,
		Time: now.UTC(), TermsHash: terms.Hash(), Terms: &terms,
	}
	t.Sign(priv)
	if err := Apply(ch, t); err != nil {
		return nil, err
	}
	return ch, nil
}

// NewTransition returns a transition of ch to state to, signed by priv at
// now. It does not apply it: pass it to Apply.
func NewTransition(ch *Channel, to State, reason string, now time.Time, priv ed25519.PrivateKey) Transition {
	t := Transition{
		Channel: ch.ID, Seq: len(ch.Transitions) + 1, From: ch.State, To: to,
		Reason: reason, Time: now.UTC(), TermsHash: ch.Terms.Hash(),
	}
	t.Sign(priv)
	return t
}

// Apply applies transition t to ch, or returns an error and leaves ch
// unchanged. It checks that t follows ch's history (channel, sequence,
// from-state, time), that the lifecycle allows it, that it has a reason,
// that it signs ch's terms and that it is signed by a party of ch. The
// first transition (from "" to proposed) must carry the terms, which are
// validated and copied into ch.
func Apply(ch *Channel, t Transition) error {
	id := ch.ID
	if ch.State == "" && id == "" && t.Terms != nil {
		id = t.Terms.ID // a proposal received into an empty channel
	}
	if t.Channel != id {
		return detente.Errorf(detente.EINVALID, "transition is for channel %q, not %q", t.Channel, id)
	}
	if ch.State == StateClosed {
		return detente.Errorf(detente.ECONFLICT, "channel %s is closed, and closed is final", id)
	}
	if t.Seq != len(ch.Transitions)+1 {
		return detente.Errorf(detente.ECONFLICT, "channel %s: transition %d is out of sequence, expected %d", id, t.Seq, len(ch.Transitions)+1)
	}
	if t.From != ch.State {
		return detente.Errorf(detente.ECONFLICT, "channel %s is %s, not %s", id, stateName(ch.State), stateName(t.From))
	}
	ok := false
	for _, s := range legal[t.From] {
		ok = ok || s == t.To
	}
	if !ok {
		return detente.Errorf(detente.ECONFLICT, "channel %s: cannot go from %s to %s", id, stateName(t.From), stateName(t.To))
	}
	if strings.TrimSpace(t.Reason) == "" || len(t.Reason) > maxText {
		return detente.Errorf(detente.EINVALID, "channel %s: a transition to %s needs a reason", id, t.To)
	}
	if t.Time.IsZero() || len(ch.Transitions) > 0 && t.Time.Before(ch.Transitions[len(ch.Transitions)-1].Time) {
		return detente.Errorf(detente.EINVALID, "channel %s: transition time is missing or before the previous transition", id)
	}
	terms := ch.Terms
	if t.From == "" {
		if t.Terms == nil {
			return detente.Errorf(detente.EINVALID, "channel %s: the proposal does not carry the terms", id)
		}
		terms = *t.Terms
		if err := terms.Validate(); err != nil {
			return err
		}
		if terms.ID != id {
			return detente.Errorf(detente.EINVALID, "channel %s: the proposal carries the terms of %s", id, terms.ID)
		}
	}
	if string(t.TermsHash) != string(terms.Hash()) {
		return detente.Errorf(detente.EINVALID, "channel %s: transition signs other terms than the channel's", id)
	}
	if _, ok := terms.Party(t.By); !ok {
		return detente.Errorf(detente.EFORBIDDEN, "channel %s: %s is not a party to the channel", id, t.By)
	}
	if err := t.VerifySignature(); err != nil {
		return err
	}
	next := t.To
	if t.From == StateProposed && t.To == StateOpen {
		if ch.agreed(t.By) {
			return detente.Errorf(detente.ECONFLICT, "channel %s: %s has already agreed to the terms", id, t.By)
		}
		for _, p := range terms.Parties {
			if !p.Key.Equal(t.By) && !ch.agreed(p.Key) {
				next = StateProposed // still waiting for another party
			}
		}
	}
	t.Terms = nil
	if t.From == "" {
		ch.Terms = terms
		t.Terms = &terms // the proposal keeps its terms, to be forwarded
	}
	ch.State = next
	ch.Transitions = append(ch.Transitions, t)
	return nil
}

func stateName(s State) string {
	if s == "" {
		return "not yet proposed"
	}
	return string(s)
}

// DecodeTransition decodes a transition received from a partner. It checks
// the encoding only; Apply checks the rest.
func DecodeTransition(b []byte) (*Transition, error) {
	var t Transition
	if err := decodeStrict(b, &t); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "decode transition: %v", err)
	}
	return &t, nil
}
