package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/translog"
)

// partnerRow is a partner with its sync state and the agreements covering it.
type partnerRow struct {
	*detente.Partner
	Sync       *detente.SyncState
	Agreements []agreementView
}

// agreementView is an agreement with where its window stands now.
type agreementView struct {
	*detente.Agreement
	// Standing is "in force", "not yet in force", "expired", "suspended"
	// or "ended": what the agreement means for releases today.
	Standing string
	InForce  bool
}

func viewAgreement(a *detente.Agreement, now time.Time) agreementView {
	v := agreementView{Agreement: a, InForce: a.InForce(now)}
	switch {
	case a.State == detente.AgreementEnded:
		v.Standing = "ended"
	case a.State == detente.AgreementSuspended:
		v.Standing = "suspended"
	case now.Before(a.From):
		v.Standing = "not yet in force"
	case !now.Before(a.Until):
		v.Standing = "expired"
	default:
		v.Standing = "in force"
	}
	return v
}

// partnerRows reads every partner with its sync state and agreements, and
// every agreement.
func (h *Handler) partnerRows(ctx context.Context) ([]partnerRow, []agreementView, error) {
	now := h.node.Now().UTC()
	ps, err := h.node.Partners(ctx)
	if err != nil {
		return nil, nil, err
	}
	as, err := h.node.Agreements(ctx)
	if err != nil {
		return nil, nil, err
	}
	states, err := h.node.Federation.SyncStates(ctx)
	if err != nil {
		return nil, nil, err
	}
	sync := make(map[string]*detente.SyncState, len(states))
	for _, s := range states {
		sync[s.Partner] = s
	}
	var all []agreementView
	for _, a := range as {
		all = append(all, viewAgreement(a, now))
	}
	rows := make([]partnerRow, 0, len(ps))
	for _, p := range ps {
		s := sync[p.Name]
		if s == nil { // added since the partners were read: never synced
			s = &detente.SyncState{Partner: p.Name}
		}
		row := partnerRow{Partner: p, Sync: s}
		for _, a := range all {
			if a.Covers(p.Name) {
				row.Agreements = append(row.Agreements, a)
			}
		}
		rows = append(rows, row)
	}
	return rows, all, nil
}

// checkpointView is a signed checkpoint with its cosigners.
type checkpointView struct {
	Size      int64
	Root      string
	Time      time.Time
	Note      string
	Cosigners []cosigner
}

// cosigner is one witness signature on a checkpoint.
type cosigner struct {
	Name     string // the witness's key name
	Partner  string // the partner it belongs to, "" when unknown
	Verified bool
	Time     time.Time // the time the cosignature states, when verified
	Problem  string
}

// signatureNames returns the key names of the signature lines of a signed
// note, in order: the lines "— <name> <base64>" after the last blank line.
func signatureNames(note []byte) []string {
	i := bytes.LastIndex(note, []byte("\n\n"))
	if i < 0 {
		return nil
	}
	var names []string
	for line := range strings.Lines(string(note[i+2:])) {
		rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "— ")
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, " "); ok && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// viewCheckpoint verifies note (this node's checkpoint, cosignatures
// included) and each cosignature against the partners' pinned keys.
func (h *Handler) viewCheckpoint(note []byte, cp *detente.Checkpoint, partners []*detente.Partner) (*checkpointView, error) {
	parsed, err := translog.ParseCheckpoint(note, h.node.Origin(), ed25519.PublicKey(h.node.PublicKey()))
	if err != nil {
		return nil, err
	}
	v := &checkpointView{Size: parsed.Size, Root: base64.StdEncoding.EncodeToString(parsed.Root[:]), Time: cp.Time, Note: string(note)}
	for _, name := range signatureNames(note) {
		if name == parsed.Origin {
			continue
		}
		c := cosigner{Name: name}
		for _, p := range partners {
			if translog.Origin(p.Name, ed25519.PublicKey(p.Key))+"/witness" == name {
				c.Partner = p.Name
				t, err := translog.VerifyCosignature(note, name, ed25519.PublicKey(p.Key))
				if err != nil {
					c.Problem = "does not verify against the partner's pinned key"
				} else {
					c.Verified, c.Time = true, t
				}
			}
		}
		if c.Partner == "" {
			c.Problem = "not a known partner's witness key: not verified"
		}
		v.Cosigners = append(v.Cosigners, c)
	}
	return v, nil
}

// overviewPage is the data of the overview.
type overviewPage struct {
	Key        string
	Origin     string
	Objects    int64
	LogSize    int64
	Partners   []partnerRow
	Checkpoint *checkpointView
	// Alerts are grouped by kind, each with how many and the latest
	// (for the roles that read alerts).
	Alerts []alertGroup
	// Awaiting are the messages from partners this node has yet to
	// acknowledge or answer; Chasing this node's messages that partners
	// have not acknowledged or answered in time (for the roles that read
	// channels).
	Awaiting, Chasing []hotline.MessageView
	Denied            []*detente.Release
}

// alertGroup is one kind of alert as the overview shows it.
type alertGroup struct {
	detente.AlertGroup
	Label string // the kind for people: "⛔ quarantine"
	// More counts the alerts of the kind beyond the latest shown.
	More int64
}

// alertLabels name the kinds of alert for people, each with a symbol.
var alertLabels = map[string]string{
	detente.AlertSplitView:  "⚠ split view",
	detente.AlertQuarantine: "⛔ quarantine",
	detente.AlertWitness:    "⚠ witnessing failed",
	detente.AlertChannel:    "⚠ channel",
}

// Bounds of the overview's lists.
const (
	overviewAlerts = 3 // per kind
	overviewDenied = 10
	// deniedScan is how many of the newest releases the overview reads to
	// find the denied ones.
	deniedScan = 500
)

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	p := overviewPage{Key: h.node.PublicKey().String(), Origin: h.node.Origin()}
	var err error
	if p.Partners, _, err = h.partnerRows(ctx); err != nil {
		return err
	}
	if p.Objects, err = h.node.CountObjects(ctx); err != nil {
		return err
	}
	if p.LogSize, err = h.node.LogSize(ctx); err != nil {
		return err
	}
	if v.Can("log") {
		gs, err := h.node.AlertGroups(ctx, overviewAlerts)
		if err != nil {
			return err
		}
		for _, g := range gs {
			label := alertLabels[g.Kind]
			if label == "" {
				label = "⚠ " + g.Kind
			}
			p.Alerts = append(p.Alerts, alertGroup{AlertGroup: g, Label: label, More: g.Alerts - int64(len(g.Latest))})
		}
	}
	if v.Can("intel") {
		if p.Awaiting, err = h.node.Hotline.Awaiting(ctx); err != nil {
			return err
		}
		ms, err := h.node.Hotline.Messages(ctx, "")
		if err != nil {
			return err
		}
		for _, m := range ms { // overdue first
			if m.Overdue == "" {
				break
			}
			if m.Outgoing {
				p.Chasing = append(p.Chasing, m)
			}
		}
	}
	rs, err := h.node.Releases(ctx, detente.ReleaseFilter{Limit: deniedScan})
	if err != nil {
		return err
	}
	for _, x := range rs {
		if !x.Allowed && len(p.Denied) < overviewDenied {
			p.Denied = append(p.Denied, x)
		}
	}
	note, cp, err := h.node.LatestCheckpoint(ctx)
	switch {
	case detente.ErrorCode(err) == detente.ENOTFOUND:
	case err != nil:
		return err
	default:
		ps := make([]*detente.Partner, len(p.Partners))
		for i := range p.Partners {
			ps[i] = p.Partners[i].Partner
		}
		if p.Checkpoint, err = h.viewCheckpoint(note, cp, ps); err != nil {
			return err
		}
	}
	h.render(w, r, v, http.StatusOK, "overview", "Overview", "overview", p)
	return nil
}

// denyCodes returns the distinct codes of the denying reasons of rs.
func denyCodes(rs []detente.Reason) []string {
	var out []string
	for _, x := range rs {
		if x.Deny && !slices.Contains(out, x.Code) {
			out = append(out, x.Code)
		}
	}
	return out
}
