package hotline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"detente"
)

// activityDoc is the latest version of one party's activity.
type activityDoc struct {
	Owner    string    `json:"owner"`
	Channel  string    `json:"channel"`
	Message  string    `json:"message"`
	Activity *Activity `json:"activity"`
}

// Notice is a notice of planned activity as this node holds it, with its
// conflicts.
type Notice struct {
	Owner     string     `json:"owner"`
	Channel   string     `json:"channel"`
	Message   string     `json:"message"`
	Activity  *Activity  `json:"activity"`
	Conflicts []Conflict `json:"conflicts"`
}

// deconfliction builds the deconflictor of every activity held in tx.
func deconfliction(ctx context.Context, tx detente.Tx) (*Deconflictor, []activityDoc, error) {
	ds, err := tx.Docs(ctx, docActivity, "", 0)
	if err != nil {
		return nil, nil, err
	}
	d := NewDeconflictor()
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

// deconflict holds the activity of notice m of owner and records, in tx,
// an alert and a log event for each conflict it makes and a log event for
// each it resolves. It returns the activity's conflicts.
//
// The deconflictor is kept in memory and rebuilt from the stored
// activities only when the activity version token in tx is not the one it
// was built at or last changed to: another process (the CLI) filed or
// received a notice, or a transaction that changed it did not commit.
func (s *Service) deconflict(ctx context.Context, tx detente.Tx, owner string, m *Message) ([]Conflict, error) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	version := ""
	if b, err := tx.Doc(ctx, docActivityVersion, "current"); err == nil {
		version = string(b)
	} else if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, err
	}
	d := s.dec
	if d == nil || s.version != version {
		s.dec = nil
		var err error
		if d, _, err = deconfliction(ctx, tx); err != nil {
			return nil, err
		}
	}
	// From here on the cache is invalid unless every step succeeds: it
	// then holds the new token, which matches storage once tx commits.
	s.dec = nil
	a := m.Activity
	change, err := d.Put(owner, a)
	if err != nil {
		return nil, err
	}
	if err := putDoc(ctx, tx, docActivity, owner+"/"+a.ID, activityDoc{Owner: owner, Channel: m.Channel, Message: m.ID, Activity: a}, false); err != nil {
		return nil, err
	}
	next := NewID("version")
	if err := tx.PutDoc(ctx, docActivityVersion, "current", []byte(next), false); err != nil {
		return nil, err
	}
	for _, c := range change.New {
		text := ConflictText(c)
		ev, _ := json.Marshal(c)
		partner := c.A.Owner
		if partner == s.name {
			partner = c.B.Owner
		}
		// One alert per pair of activities, whichever came first, whatever
		// their versions.
		pair := []string{c.A.Owner + "/" + c.A.ID, c.B.Owner + "/" + c.B.ID}
		slices.Sort(pair)
		key := "conflict/" + pair[0] + "/" + pair[1]
		if err := tx.PutAlert(ctx, &detente.Alert{Key: key, Time: s.now(), Kind: detente.AlertChannel, Partner: partner, Message: text, Evidence: ev}); err != nil {
			return nil, err
		}
		body := map[string]any{"action": actConflict, "channel": m.Channel, "a": c.A, "b": c.B, "start": c.Start, "end": c.End, "lower_m": c.Lower, "upper_m": c.Upper}
		if err := s.logEvent(ctx, tx, partner, body); err != nil {
			return nil, err
		}
	}
	for _, c := range change.Resolved {
		body := map[string]any{"action": actResolved, "channel": m.Channel, "a": c.A, "b": c.B}
		if err := s.logEvent(ctx, tx, "", body); err != nil {
			return nil, err
		}
	}
	s.dec, s.version = d, next
	return d.Conflicts(owner, a.ID), nil
}

// ConflictText describes a conflict in one line, naming both notices,
// with the overlapping band in the notation of Band.String.
func ConflictText(c Conflict) string {
	return fmt.Sprintf("deconfliction conflict: %s's %s (v%d) overlaps %s's %s (v%d) from %s to %s at %s",
		c.A.Owner, c.A.ID, c.A.Version, c.B.Owner, c.B.ID, c.B.Version,
		c.Start.UTC().Format(time.RFC3339), c.End.UTC().Format(time.RFC3339), c.Overlap())
}

// NoticeRequest is a notice of planned activity this node files on a
// channel.
type NoticeRequest struct {
	Channel  string    `json:"channel"`
	Author   string    `json:"author,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Area     Area      `json:"area"`
	Band     Band      `json:"band"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Nature   string    `json:"nature"`
	Markings []string  `json:"markings,omitempty"`
}

// FileNotice files a notice of planned activity: it sends it to the
// channel's partners and checks it against every notice this node holds.
func (s *Service) FileNotice(ctx context.Context, req NoticeRequest) (*SendResult, error) {
	a := &Activity{ID: NewID("activity"), Version: 1, Status: ActivityActive,
		Area: req.Area, Band: req.Band, Start: req.Start.UTC(), End: req.End.UTC(), Nature: req.Nature}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	subject := req.Subject
	if subject == "" {
		subject = "planned activity: " + req.Nature
	}
	return s.SendMessage(ctx, MessageRequest{Channel: req.Channel, Type: TypeNotice, Author: req.Author,
		Subject: subject, Markings: req.Markings, Activity: a})
}

// ownActivity reads this node's activity id, ENOTFOUND if this node filed
// none by that id.
func (s *Service) ownActivity(ctx context.Context, id string) (doc *activityDoc, err error) {
	err = s.db.View(ctx, func(tx detente.Tx) error {
		doc, err = getDoc[activityDoc](ctx, tx, docActivity, s.name+"/"+id, "activity of this node")
		return err
	})
	return doc, err
}

// CancelNotice cancels this node's activity id: a new version, cancelled,
// goes to the channel's partners and the conflicts it had are resolved.
func (s *Service) CancelNotice(ctx context.Context, id, author, reason string) (*SendResult, error) {
	doc, err := s.ownActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if doc.Activity.Status == ActivityCancelled {
		return nil, detente.Errorf(detente.ECONFLICT, "activity %s is already cancelled", id)
	}
	a := *doc.Activity
	a.Version++
	a.Status = ActivityCancelled
	subject := "cancelled: " + a.Nature
	if reason != "" {
		subject += " (" + reason + ")"
	}
	return s.SendMessage(ctx, MessageRequest{Channel: doc.Channel, Type: TypeNotice, Author: author, Subject: subject, Activity: &a})
}

// AmendNoticeRequest changes a notice of planned activity this node
// filed. Fields left empty keep their current value.
type AmendNoticeRequest struct {
	Author string     `json:"author,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Area   *Area      `json:"area,omitempty"`
	Band   *Band      `json:"band,omitempty"`
	Start  *time.Time `json:"start,omitempty"`
	End    *time.Time `json:"end,omitempty"`
	Nature string     `json:"nature,omitempty"`
}

// AmendNotice amends this node's activity id: a new version goes to the
// channel's partners, and conflicts are re-evaluated on every side (those
// the change removes are resolved, new ones raised).
func (s *Service) AmendNotice(ctx context.Context, id string, req AmendNoticeRequest) (*SendResult, error) {
	doc, err := s.ownActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if doc.Activity.Status == ActivityCancelled {
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
	return s.SendMessage(ctx, MessageRequest{Channel: doc.Channel, Type: TypeNotice, Author: req.Author, Subject: subject, Activity: &a})
}

// Notices returns every notice of planned activity this node holds, its
// own and its partners', with their conflicts.
func (s *Service) Notices(ctx context.Context) ([]Notice, error) {
	out := []Notice{}
	err := s.db.View(ctx, func(tx detente.Tx) error {
		d, docs, err := deconfliction(ctx, tx)
		if err != nil {
			return err
		}
		for _, x := range docs {
			cs := d.Conflicts(x.Owner, x.Activity.ID)
			if cs == nil {
				cs = []Conflict{}
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
func (s *Service) Conflicts(ctx context.Context) ([]Conflict, error) {
	var out []Conflict
	err := s.db.View(ctx, func(tx detente.Tx) error {
		d, _, err := deconfliction(ctx, tx)
		if err == nil {
			out = d.Conflicts("", "")
		}
		return err
	})
	if out == nil {
		out = []Conflict{}
	}
	return out, err
}
