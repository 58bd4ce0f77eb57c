package detente

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AgreementState is the lifecycle state of an agreement version.
type AgreementState string

// Agreement states. Only an active agreement inside its window lets anything
// go; suspending or ending is a recorded change with a reason.
const (
	AgreementActive    AgreementState = "active"
	AgreementSuspended AgreementState = "suspended"
	AgreementEnded     AgreementState = "ended"
)

// Onward-sharing rules: what the partner may do with what it receives from
// this node, and so what this node may do with what it receives from the
// partner.
const (
	// OnwardNone: nothing received may be passed on, even with consent.
	OnwardNone = "none"
	// OnwardThirdPartyRule: passing on needs the originator's signed consent.
	OnwardThirdPartyRule = "third-party-rule"
	// OnwardPermitted: passing on is allowed within each object's markings.
	OnwardPermitted = "permitted"
)

// Fingerprinting rules: when the partner gets a fingerprinted copy of its
// own (docs/trace.md). The practice is stated in the agreement, so the
// partner knows it.
const (
	// FingerprintMarked: objects the originator marked go fingerprinted,
	// others as they are. The default.
	FingerprintMarked = "marked"
	// FingerprintAlways: only marked objects go (fingerprinted); what they
	// reference travels with them.
	FingerprintAlways = "always"
	// FingerprintNever: nothing is fingerprinted, so marked objects, which
	// have no unfingerprinted copy, do not go.
	FingerprintNever = "never"
)

// Agreement is the terms with one partner or a circle of partners. Every
// change makes a new Version; older versions are kept.
type Agreement struct {
	ID            string    `json:"id"`
	Version       int       `json:"version"`
	Partners      []string  `json:"partners"`
	From          time.Time `json:"from"`
	Until         time.Time `json:"until"`
	TLPCeiling    TLP       `json:"tlp_ceiling"`
	Types         []string  `json:"types"`
	OnwardSharing string    `json:"onward_sharing"`
	Purpose       string    `json:"purpose"`
	// Fingerprint is the fingerprinting rule (Fingerprint… constants);
	// "" in agreements stored before it existed, which means marked.
	Fingerprint string `json:"fingerprint,omitempty"`
	Note        string `json:"note,omitempty"`
	// Match holds the private-matching terms (docs/matching.md); nil, the
	// default, allows no matching at all.
	Match       *MatchTerms    `json:"match,omitempty"`
	State       AgreementState `json:"state"`
	StateReason string         `json:"state_reason,omitempty"`
	Updated     time.Time      `json:"updated"`

	// Reciprocity holds the reciprocity terms (docs/agreements.md); nil,
	// the default, leaves sharing independent of the balance.
	Reciprocity *ReciprocityTerms `json:"reciprocity,omitempty"`
}

// agreementDoc is the JSON an operator writes (docs/agreements.md).
type agreementDoc struct {
	ID            string    `json:"id"`
	Partner       string    `json:"partner"`
	Partners      []string  `json:"partners"`
	From          string    `json:"from"`
	Until         string    `json:"until"`
	TLPCeiling    string    `json:"tlp_ceiling"`
	Types         []string  `json:"types"`
	OnwardSharing string    `json:"onward_sharing"`
	Purpose       string    `json:"purpose"`
	Fingerprint   string    `json:"fingerprint"`
	Note          string    `json:"note"`
	Match         *matchDoc `json:"match"`

	Reciprocity *reciprocityDoc `json:"reciprocity"`
}

// Matching modes an agreement can allow (docs/matching.md).
const (
	MatchQuery = "query" // VOPRF queries against the owner's encoded watchlist
	MatchBulk  = "bulk"  // one-off Diffie-Hellman set intersection
	MatchCount = "count" // the same, learning only the intersection's size
)

// MaxMatchSetSize bounds an agreement's max_set_size: the largest set the
// matching protocols accept in one exchange.
const MaxMatchSetSize = 1 << 20

// MatchTerms are an agreement's private-matching terms: what the partner
// may ask of this node's watchlists, and this node of the partner's. The
// budget is per partner and per period, counted from the agreement's From.
type MatchTerms struct {
	// Evaluations is the budget per period: OPRF evaluations (query mode,
	// padding included) plus set elements received (bulk and count modes).
	Evaluations int `json:"evaluations"`
	// Period is the budget period and key epoch, a Go duration ("720h").
	Period string `json:"period"`
	// MaxSetSize bounds one exchange: a query's padded element count, each
	// side's set in bulk and count modes.
	MaxSetSize int `json:"max_set_size"`
	// MinSetSize is the least set size in count mode (at least 10).
	MinSetSize int `json:"min_set_size,omitempty"`
	// Modes are the allowed modes: query, bulk, count.
	Modes []string `json:"modes"`
}

// matchDoc is the match block an operator writes.
type matchDoc struct {
	Evaluations int      `json:"evaluations"`
	Period      string   `json:"period"`
	MaxSetSize  int      `json:"max_set_size"`
	MinSetSize  int      `json:"min_set_size"`
	Modes       []string `json:"modes"`
}

// Reciprocity actions: what happens when a partner's ratio is below the
// terms' minimum (docs/ledger.md).
const (
	ReciprocityWarn = "warn" // raise an alert
	ReciprocityHold = "hold" // hold new releases to the partner until the balance recovers or an admin releases the hold
)

// ReciprocityTerms are an agreement's reciprocity terms: over Window, what
// the partner gives back, weighed against what this node gives it, must
// be at least MinRatio, else Action.
type ReciprocityTerms struct {
	Window   string  `json:"window"` // a Go duration, e.g. "720h"
	MinRatio float64 `json:"min_ratio"`
	Action   string  `json:"action"`
}

// reciprocityDoc is the reciprocity block an operator writes.
type reciprocityDoc struct {
	Window   string   `json:"window"`
	MinRatio *float64 `json:"min_ratio"`
	Action   string   `json:"action"`
}

// WindowDuration returns the parsed window; Validate has checked it.
func (r *ReciprocityTerms) WindowDuration() time.Duration {
	d, _ := time.ParseDuration(r.Window)
	return d
}

// Validate checks r.
func (r *ReciprocityTerms) Validate() error {
	d, err := time.ParseDuration(r.Window)
	if err != nil || d < time.Hour {
		return Errorf(EINVALID, "agreement: reciprocity: window %q must be a duration of at least 1h, such as 720h", r.Window)
	}
	if !(r.MinRatio > 0) || r.MinRatio > 100 {
		return Errorf(EINVALID, "agreement: reciprocity: min_ratio must be a number above 0 and at most 100, such as 0.5")
	}
	switch r.Action {
	case ReciprocityWarn, ReciprocityHold:
	case "":
		return Errorf(EINVALID, "agreement: reciprocity: action is required (warn or hold)")
	default:
		return Errorf(EINVALID, "agreement: reciprocity: action %q must be warn or hold%s", r.Action,
			DidYouMean(r.Action, []string{ReciprocityWarn, ReciprocityHold}))
	}
	return nil
}

// PeriodDuration returns the parsed period; Validate has checked it.
func (m *MatchTerms) PeriodDuration() time.Duration {
	d, _ := time.ParseDuration(m.Period)
	return d
}

// Allows reports whether the terms allow mode.
func (m *MatchTerms) Allows(mode string) bool { return m != nil && slices.Contains(m.Modes, mode) }

// Validate checks m.
func (m *MatchTerms) Validate() error {
	if m.Evaluations <= 0 {
		return Errorf(EINVALID, "agreement: match: evaluations must be a positive number (the budget per period)")
	}
	d, err := time.ParseDuration(m.Period)
	if err != nil || d < time.Hour {
		return Errorf(EINVALID, "agreement: match: period %q must be a duration of at least 1h, such as 720h", m.Period)
	}
	if m.MaxSetSize <= 0 || m.MaxSetSize > MaxMatchSetSize {
		return Errorf(EINVALID, "agreement: match: max_set_size must be between 1 and %d", MaxMatchSetSize)
	}
	if m.MinSetSize < 0 || m.MinSetSize > m.MaxSetSize {
		return Errorf(EINVALID, "agreement: match: min_set_size must be between 0 and max_set_size")
	}
	if len(m.Modes) == 0 {
		return Errorf(EINVALID, "agreement: match: modes must list at least one of query, bulk, count")
	}
	seen := map[string]bool{}
	for _, mode := range m.Modes {
		switch mode {
		case MatchQuery, MatchBulk, MatchCount:
		default:
			return Errorf(EINVALID, "agreement: match: mode %q must be query, bulk or count%s", mode,
				DidYouMean(mode, []string{MatchQuery, MatchBulk, MatchCount}))
		}
		if seen[mode] {
			return Errorf(EINVALID, "agreement: match: mode %q is listed twice", mode)
		}
		seen[mode] = true
	}
	return nil
}

// MaxAgreementSize bounds an agreement document.
const MaxAgreementSize = 64 << 10

var (
	agreementIDRE = regexp.MustCompile(`^agreement--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	stixTypeRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,248}[a-z0-9]$`)
)

// ParseAgreement parses and validates an agreement document. Unknown fields
// are errors, so a misspelt term is never silently ignored. The result has
// no ID when the document gives none, Version 0 and state active.
func ParseAgreement(data []byte) (*Agreement, error) {
	if len(data) > MaxAgreementSize {
		return nil, Errorf(ETOOLARGE, "agreement is over %d bytes", MaxAgreementSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d agreementDoc
	if err := dec.Decode(&d); err != nil {
		if f, ok := unknownField(err); ok {
			return nil, Errorf(EINVALID, "agreement: unknown field %q%s", f, DidYouMean(f, agreementFields))
		}
		return nil, Errorf(EINVALID, "agreement: %v", jsonErrorText(err))
	}
	if dec.More() {
		return nil, Errorf(EINVALID, "agreement: trailing data after the JSON object")
	}
	a := &Agreement{
		ID: d.ID, Types: d.Types,
		OnwardSharing: d.OnwardSharing, Purpose: d.Purpose, Note: d.Note,
		Fingerprint: d.Fingerprint, State: AgreementActive,
	}
	if a.Fingerprint == "" {
		a.Fingerprint = FingerprintMarked // written out, so the practice is stated
	}
	if d.Match != nil {
		m := *d.Match
		a.Match = &MatchTerms{Evaluations: m.Evaluations, Period: m.Period, MaxSetSize: m.MaxSetSize, MinSetSize: m.MinSetSize, Modes: m.Modes}
	}
	if r := d.Reciprocity; r != nil {
		if r.MinRatio == nil {
			return nil, Errorf(EINVALID, "agreement: reciprocity: min_ratio is required, such as 0.5")
		}
		a.Reciprocity = &ReciprocityTerms{Window: r.Window, MinRatio: *r.MinRatio, Action: r.Action}
	}
	if d.Partner != "" {
		a.Partners = append(a.Partners, d.Partner)
	}
	a.Partners = append(a.Partners, d.Partners...)
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"from", d.From, &a.From}, {"until", d.Until, &a.Until}} {
		if f.in == "" {
			return nil, Errorf(EINVALID, "agreement: %s is required (an RFC 3339 time such as 2026-01-01T00:00:00Z)", f.name)
		}
		t, err := time.Parse(time.RFC3339, f.in)
		if err != nil {
			return nil, Errorf(EINVALID, "agreement: %s %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", f.name, f.in)
		}
		*f.out = t.UTC()
	}
	if d.TLPCeiling == "" {
		return nil, Errorf(EINVALID, "agreement: tlp_ceiling is required")
	}
	t, err := ParseTLP(d.TLPCeiling)
	if err != nil {
		return nil, Errorf(EINVALID, "agreement: tlp_ceiling: %s", ErrorMessage(err))
	}
	a.TLPCeiling = t
	if err := checkTypes(a.Types); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// agreementFields are the keys of an agreement document and of its match
// block: what a misspelt key is compared with.
var agreementFields = []string{"id", "partner", "partners", "from", "until", "tlp_ceiling", "types",
	"onward_sharing", "purpose", "fingerprint", "note", "match", "evaluations", "period", "max_set_size", "min_set_size", "modes",
	"reciprocity", "window", "min_ratio", "action"}

// unknownField returns the key a json.Decoder with DisallowUnknownFields
// refused.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	f, err := strconv.Unquote(rest)
	return f, err == nil
}

// checkTypes checks a new agreement's types: each a STIX 2.1 object type
// or an explicitly custom x-… one, each once. Validate checks only their
// form, so that agreements stored before this check can still change
// state.
func checkTypes(types []string) error {
	seen := map[string]bool{}
	for i, t := range types {
		if err := CheckSTIXType(t); err != nil {
			return Errorf(EINVALID, "agreement: types[%d] %s", i, ErrorMessage(err))
		}
		if seen[t] {
			return Errorf(EINVALID, "agreement: types[%d] %q is listed twice", i, t)
		}
		seen[t] = true
	}
	return nil
}

// Validate checks the terms of a.
func (a *Agreement) Validate() error {
	if a.ID != "" && !agreementIDRE.MatchString(a.ID) {
		return Errorf(EINVALID, "agreement: id %q must be agreement--<uuid>", a.ID)
	}
	if len(a.Partners) == 0 {
		return Errorf(EINVALID, "agreement: partner or partners is required")
	}
	seen := map[string]bool{}
	for _, p := range a.Partners {
		if !ValidName(p) {
			return Errorf(EINVALID, "agreement: partner name %q is not valid", p)
		}
		if seen[p] {
			return Errorf(EINVALID, "agreement: partner %q is listed twice", p)
		}
		seen[p] = true
	}
	if a.From.IsZero() || a.Until.IsZero() {
		return Errorf(EINVALID, "agreement: from and until are required (RFC 3339 times)")
	}
	if !a.Until.After(a.From) {
		return Errorf(EINVALID, "agreement: until must be after from")
	}
	if a.TLPCeiling < TLPClear || a.TLPCeiling > TLPRed {
		return Errorf(EINVALID, "agreement: tlp_ceiling is required")
	}
	if len(a.Types) == 0 {
		return Errorf(EINVALID, "agreement: types must list at least one STIX object type")
	}
	for _, t := range a.Types {
		if !stixTypeRE.MatchString(t) {
			return Errorf(EINVALID, "agreement: %q is not a STIX object type", t)
		}
	}
	switch a.OnwardSharing {
	case OnwardNone, OnwardThirdPartyRule, OnwardPermitted:
	case "":
		return Errorf(EINVALID, "agreement: onward_sharing is required (none, third-party-rule or permitted)")
	default:
		return Errorf(EINVALID, "agreement: onward_sharing %q must be none, third-party-rule or permitted%s", a.OnwardSharing,
			DidYouMean(a.OnwardSharing, []string{OnwardNone, OnwardThirdPartyRule, OnwardPermitted}))
	}
	if a.Purpose == "" {
		return Errorf(EINVALID, "agreement: purpose is required")
	}
	switch a.Fingerprint {
	case "", FingerprintMarked, FingerprintAlways, FingerprintNever:
	default:
		return Errorf(EINVALID, "agreement: fingerprint %q must be marked, always or never%s", a.Fingerprint,
			DidYouMean(a.Fingerprint, []string{FingerprintMarked, FingerprintAlways, FingerprintNever}))
	}
	if a.Match != nil {
		if err := a.Match.Validate(); err != nil {
			return err
		}
	}
	if a.Reciprocity != nil {
		if err := a.Reciprocity.Validate(); err != nil {
			return err
		}
	}
	switch a.State {
	case AgreementActive, AgreementSuspended, AgreementEnded:
	default:
		return Errorf(EINVALID, "agreement: unknown state %q", a.State)
	}
	return nil
}

// SameTerms reports whether a and b bind the same partners to the same
// terms: window, ceiling, types, onward sharing, purpose and matching, in
// any order. Ids, notes, versions and states may differ.
func (a *Agreement) SameTerms(b *Agreement) bool {
	sameSet := func(x, y []string) bool {
		x, y = slices.Clone(x), slices.Clone(y)
		slices.Sort(x)
		slices.Sort(y)
		return slices.Equal(x, y)
	}
	sameMatch := func(x, y *MatchTerms) bool {
		if x == nil || y == nil {
			return x == y
		}
		return x.Evaluations == y.Evaluations && x.PeriodDuration() == y.PeriodDuration() && x.MaxSetSize == y.MaxSetSize &&
			x.MinSetSize == y.MinSetSize && sameSet(x.Modes, y.Modes)
	}
	return sameSet(a.Partners, b.Partners) && a.From.Equal(b.From) && a.Until.Equal(b.Until) &&
		a.TLPCeiling == b.TLPCeiling && sameSet(a.Types, b.Types) && a.OnwardSharing == b.OnwardSharing &&
		a.Purpose == b.Purpose && a.FingerprintRule() == b.FingerprintRule() && sameMatch(a.Match, b.Match) && sameReciprocity(a.Reciprocity, b.Reciprocity)
}

func sameReciprocity(x, y *ReciprocityTerms) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.WindowDuration() == y.WindowDuration() && x.MinRatio == y.MinRatio && x.Action == y.Action
}

// FingerprintRule returns a's fingerprinting rule, FingerprintMarked for
// agreements stored before the term existed.
func (a *Agreement) FingerprintRule() string {
	if a.Fingerprint == "" {
		return FingerprintMarked
	}
	return a.Fingerprint
}

// Covers reports whether a names partner.
func (a *Agreement) Covers(partner string) bool { return slices.Contains(a.Partners, partner) }

// InScope reports whether objects of type typ may be released under a.
func (a *Agreement) InScope(typ string) bool { return slices.Contains(a.Types, typ) }

// InForce reports whether a is active and now lies in [From, Until).
func (a *Agreement) InForce(now time.Time) bool {
	return a.State == AgreementActive && !now.Before(a.From) && now.Before(a.Until)
}

// Hash returns the hex SHA-256 of a's terms and state: what the log records,
// so both sides can show which version of the terms they held.
func (a *Agreement) Hash() string {
	b, _ := json.Marshal(a) // a struct of plain fields cannot fail to marshal
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// jsonErrorText turns a encoding/json error into a short sentence.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asErr(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se.Error())
	case asErr(err, &te):
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: the document ends too soon"
	}
	return err.Error()
}
