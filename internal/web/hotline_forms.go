package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"
	"detente/internal/hotline"
)

// Acting on channels from the console: acknowledging, answering and
// sending messages (crisis alerts included), filing, amending and
// cancelling notices of planned activity. Each is a form post for
// analysts and administrators, the roles the JSON API allows for the
// same actions, checked (role, cross-origin, CSRF token) by handle, and
// done through the node's hotline service exactly as the API does it.
// A refusal is shown on the page the browser is sent back to.

// maxName bounds a person's name in a form.
const maxName = 200

// formWhen reads a time from a form field: RFC 3339, a date and time
// without zone or a date (both UTC), or a duration from now ("2h",
// "+30m"), as the command line reads --from and --due. "" is the zero
// time.
func formWhen(field, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, detente.Errorf(detente.EINVALID, "%s: %q is not a time (2028-06-14T18:00, in UTC) or a duration from now (2h)", field, s)
}

// formPerson reads the name of the person acting, required or not.
func formPerson(r *http.Request, field string, required bool) (string, error) {
	by := formValue(r, field)
	switch {
	case by == "" && required:
		return "", detente.Errorf(detente.EINVALID, "name the person who acknowledges")
	case len(by) > maxName:
		return "", detente.Errorf(detente.EINVALID, "a name of at most %d bytes", maxName)
	}
	return by, nil
}

// formMarkings reads the TLP select of a form: "" for none.
func formMarkings(r *http.Request) ([]string, error) {
	v := formValue(r, "tlp")
	if v == "" {
		return nil, nil
	}
	t, err := detente.ParseTLP(v)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "marking %q: choose a TLP marking from the list", v)
	}
	return []string{detente.MarkingOfTLP(t)}, nil
}

// formRefs reads STIX ids separated by commas, spaces or lines.
func formRefs(r *http.Request) []string {
	return strings.FieldsFunc(formValue(r, "refs"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

// back returns where a form asks to go after it is done: its "back"
// field when it is a path on this node, else def.
func back(r *http.Request, def string) string {
	if b := formValue(r, "back"); b != "" && isLocalPath(b) {
		return b
	}
	return def
}

// ackMessage acknowledges an incoming message in the name of the person
// who read it, as detente message ack does; the acknowledgement goes back
// to the sender and is logged on both sides.
func (h *Handler) ackMessage(w http.ResponseWriter, r *http.Request, v *visit) error {
	to := back(r, "/channels#msg-h")
	by, err := formPerson(r, "by", true)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	id := r.PathValue("id")
	if _, err := h.node.Hotline.AckMessage(r.Context(), id, by); err != nil {
		return h.refused(w, r, v, to, err)
	}
	subject := id
	if rec, err := h.node.Hotline.Message(r.Context(), id); err == nil && rec.Message.Subject != "" {
		subject = rec.Message.Subject
	}
	return h.done(w, r, v, to, "acknowledged “"+subject+"” as "+by+": the acknowledgement goes to the sender now")
}

// replyMessage answers an incoming message: a request with its response
// (which goes to the requester only, and marks the request answered on
// both sides), any other message with a new message on its channel.
func (h *Handler) replyMessage(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	to := "/messages/" + id + "#reply"
	orig, err := h.node.Hotline.Message(r.Context(), id)
	if err != nil {
		return h.refused(w, r, v, "/channels#msg-h", err)
	}
	if orig.Outgoing {
		return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "message %s was sent by this node: reply to what partners send", id))
	}
	by, err := formPerson(r, "by", false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	req := hotline.MessageRequest{Channel: orig.Message.Channel, Author: by, Subject: formValue(r, "subject"), Body: formValue(r, "body"),
		Refs: formRefs(r)}
	if req.Markings, err = formMarkings(r); err != nil {
		return h.refused(w, r, v, to, err)
	}
	if orig.Message.Type == hotline.TypeRequest {
		req.Type, req.InReplyTo = hotline.TypeResponse, id
	} else {
		req.Type = hotline.MessageType(formValue(r, "type"))
		if req.Type != hotline.TypeNotice && req.Type != hotline.TypeCrisisAlert {
			return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "a reply to a %s is a notice or a crisis alert", orig.Message.Type))
		}
	}
	if req.Subject == "" && req.Body == "" {
		return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "write the reply: a subject or a text"))
	}
	res, err := h.node.Hotline.SendMessage(r.Context(), req)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	what := "reply"
	if req.Type == hotline.TypeResponse {
		what = "response"
	}
	return h.done(w, r, v, "/messages/"+res.Record.Message.ID, what+" sent: it goes out at once and is retried until delivered")
}

// sendMessage sends a new message on a channel: a notice, a request with
// the time its response is due, or a crisis alert.
func (h *Handler) sendMessage(w http.ResponseWriter, r *http.Request, v *visit) error {
	const to = "/channels#send-h"
	by, err := formPerson(r, "by", false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	req := hotline.MessageRequest{Channel: formValue(r, "channel"), Type: hotline.MessageType(formValue(r, "type")), Author: by,
		Subject: formValue(r, "subject"), Body: formValue(r, "body"), Refs: formRefs(r)}
	if !slices.Contains([]hotline.MessageType{hotline.TypeNotice, hotline.TypeRequest, hotline.TypeCrisisAlert}, req.Type) {
		return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "choose what to send: a notice, a request or a crisis alert"))
	}
	if req.Markings, err = formMarkings(r); err != nil {
		return h.refused(w, r, v, to, err)
	}
	if req.Type == hotline.TypeRequest {
		if req.Due, err = formWhen("response due", formValue(r, "due"), h.node.Now()); err != nil {
			return h.refused(w, r, v, to, err)
		}
		if req.Due.IsZero() {
			return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "a request needs the time its response is due, e.g. 2h"))
		}
	}
	res, err := h.node.Hotline.SendMessage(r.Context(), req)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	return h.done(w, r, v, "/messages/"+res.Record.Message.ID, string(req.Type)+" sent: it goes out at once and is retried until delivered")
}

// messagePage is the data of one message's page.
type messagePage struct {
	*hotline.MessageView
	Channel   *hotline.Channel
	Back      string // this page, for the forms to come back to
	CanAck    bool   // an incoming message awaiting this node's acknowledgement
	CanAnswer bool   // an incoming request without a response
	CanReply  bool   // an incoming message of another kind, on a channel that carries replies
	// Waiting names the contacts of the partners who have not
	// acknowledged an outgoing message that needs it.
	Waiting []hotline.Contact
}

func (h *Handler) messagePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	id := r.PathValue("id")
	mv, err := h.node.Hotline.View(ctx, id)
	if err != nil {
		return err
	}
	ch, err := h.node.Hotline.Channel(ctx, mv.Message.Channel)
	if err != nil {
		return err
	}
	p := messagePage{MessageView: mv, Channel: ch, Back: "/messages/" + id}
	live := ch.State != hotline.StateClosed
	if !mv.Outgoing && live && mv.Message.Type != hotline.TypeAck {
		p.CanAck = !mv.AckDue.IsZero() && mv.AckedAt.IsZero()
		p.CanAnswer = mv.Message.Type == hotline.TypeRequest && mv.AnsweredAt.IsZero()
		p.CanReply = mv.Message.Type != hotline.TypeRequest
	}
	if mv.Outgoing && !mv.AckDue.IsZero() {
		for _, d := range mv.Deliveries {
			if d.AckedAt.IsZero() {
				if party, ok := ch.Party(d.Key); ok {
					p.Waiting = append(p.Waiting, party.Contacts...)
				}
			}
		}
	}
	title := mv.Message.Subject
	if title == "" {
		title = string(mv.Message.Type) + " " + id
	}
	h.render(w, r, v, http.StatusOK, "message", title, "channels", p)
	return nil
}

// formArea reads a notice's area: a circle (lat, lon, radius in metres)
// or a GeoJSON polygon. When optional, an empty form keeps the area (nil).
func formArea(r *http.Request, optional bool) (*hotline.Area, error) {
	lat, lon, radius, geo := formValue(r, "lat"), formValue(r, "lon"), formValue(r, "radius"), formValue(r, "geojson")
	switch {
	case geo != "" && (lat != "" || lon != "" || radius != ""):
		return nil, detente.Errorf(detente.EINVALID, "give the area as a circle or as a GeoJSON polygon, not both")
	case geo != "":
		p, err := hotline.ParsePolygon([]byte(geo))
		if err != nil {
			return nil, err
		}
		return &hotline.Area{Polygon: p}, nil
	case lat == "" && lon == "" && radius == "" && optional:
		return nil, nil
	}
	var vs [3]float64
	for i, f := range []struct{ name, v string }{{"latitude", lat}, {"longitude", lon}, {"radius", radius}} {
		x, err := strconv.ParseFloat(f.v, 64)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "the circle's %s %q is not a number", f.name, f.v)
		}
		vs[i] = x
	}
	return &hotline.Area{Circle: &hotline.Circle{Lat: vs[0], Lon: vs[1], Radius: vs[2]}}, nil
}

// fileNotice files a notice of planned activity on a channel; its
// conflicts with the notices held are shown at once.
func (h *Handler) fileNotice(w http.ResponseWriter, r *http.Request, v *visit) error {
	const to = "/channels#file-h"
	by, err := formPerson(r, "by", false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	req := hotline.NoticeRequest{Channel: formValue(r, "channel"), Author: by, Nature: formValue(r, "nature")}
	area, err := formArea(r, false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	req.Area = *area
	if req.Band, err = hotline.ParseBand(formValue(r, "alt")); err != nil {
		return h.refused(w, r, v, to, err)
	}
	now := h.node.Now()
	if req.Start, err = formWhen("from", formValue(r, "from"), now); err != nil {
		return h.refused(w, r, v, to, err)
	}
	if req.End, err = formWhen("until", formValue(r, "until"), now); err != nil {
		return h.refused(w, r, v, to, err)
	}
	if req.Start.IsZero() || req.End.IsZero() {
		return h.refused(w, r, v, to, detente.Errorf(detente.EINVALID, "a notice needs a start and an end"))
	}
	if req.Markings, err = formMarkings(r); err != nil {
		return h.refused(w, r, v, to, err)
	}
	res, err := h.node.Hotline.FileNotice(r.Context(), req)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	return h.done(w, r, v, "/notices/"+res.Record.Message.Activity.ID, noticeOutcome("notice filed", res))
}

// noticeOutcome says what filing or amending a notice did.
func noticeOutcome(what string, res *hotline.SendResult) string {
	switch n := len(res.Conflicts); n {
	case 0:
		return what + ": no conflict with the notices this node holds"
	case 1:
		return what + ": ⚠ 1 conflict, shown below"
	default:
		return what + ": ⚠ " + strconv.Itoa(n) + " conflicts, shown below"
	}
}

// amendNotice sends a new version of one of this node's notices: the
// fields given change, the others stay.
func (h *Handler) amendNotice(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	to := "/notices/" + id
	by, err := formPerson(r, "by", false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	req := hotline.AmendNoticeRequest{Author: by, Reason: formValue(r, "reason"), Nature: formValue(r, "nature")}
	if req.Area, err = formArea(r, true); err != nil {
		return h.refused(w, r, v, to, err)
	}
	if alt := formValue(r, "alt"); alt != "" {
		b, err := hotline.ParseBand(alt)
		if err != nil {
			return h.refused(w, r, v, to, err)
		}
		req.Band = &b
	}
	now := h.node.Now()
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"from", &req.Start}, {"until", &req.End}} {
		t, err := formWhen(f.name, formValue(r, f.name), now)
		if err != nil {
			return h.refused(w, r, v, to, err)
		}
		if !t.IsZero() {
			*f.dst = &t
		}
	}
	res, err := h.node.Hotline.AmendNotice(r.Context(), id, req)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	return h.done(w, r, v, to, noticeOutcome("amendment sent (version "+strconv.Itoa(res.Record.Message.Activity.Version)+")", res))
}

// cancelNotice cancels one of this node's notices: partners are told, and
// its conflicts are resolved on every side.
func (h *Handler) cancelNotice(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	to := "/notices/" + id
	by, err := formPerson(r, "by", false)
	if err != nil {
		return h.refused(w, r, v, to, err)
	}
	if _, err := h.node.Hotline.CancelNotice(r.Context(), id, by, formValue(r, "reason")); err != nil {
		return h.refused(w, r, v, to, err)
	}
	return h.done(w, r, v, to, "notice cancelled: partners are told, and its conflicts are resolved")
}

// noticePage is the data of one notice's page.
type noticePage struct {
	noticeRow
	Own       bool // filed by this node: it may amend or cancel it
	Purpose   string
	Conflicts []conflictRow
	Map       *noticeMap
}

func (h *Handler) noticePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	id := r.PathValue("id")
	ns, err := h.node.Hotline.Notices(ctx)
	if err != nil {
		return err
	}
	var p *noticePage
	for _, n := range ns {
		if n.Activity.ID == id && (p == nil || n.Owner == h.node.Name) {
			p = &noticePage{noticeRow: noticeRow{Notice: n, Number: 1, Drawn: n.Activity.Status != hotline.ActivityCancelled},
				Own: n.Owner == h.node.Name}
		}
	}
	if p == nil {
		return detente.Errorf(detente.ENOTFOUND, "no notice %s is held by this node", id)
	}
	if ch, err := h.node.Hotline.Channel(ctx, p.Channel); err == nil {
		p.Purpose = ch.Purpose
	}
	// The map: this notice (1) and those it conflicts with (2, 3, …).
	rows := []noticeRow{p.noticeRow}
	number := map[string]int{p.Owner + "\x00" + id: 1}
	for _, c := range p.Notice.Conflicts {
		other := c.B
		if c.B.Owner == p.Owner && c.B.ID == id {
			other = c.A
		}
		for _, n := range ns {
			if n.Owner == other.Owner && n.Activity.ID == other.ID && number[n.Owner+"\x00"+n.Activity.ID] == 0 {
				row := noticeRow{Notice: n, Number: len(rows) + 1, Drawn: n.Activity.Status != hotline.ActivityCancelled}
				rows = append(rows, row)
				number[n.Owner+"\x00"+n.Activity.ID] = row.Number
			}
		}
	}
	for _, c := range p.Notice.Conflicts {
		p.Conflicts = append(p.Conflicts, conflictRow{Conflict: c, A: number[c.A.Owner+"\x00"+c.A.ID], B: number[c.B.Owner+"\x00"+c.B.ID]})
	}
	p.Map = drawNotices(rows)
	h.render(w, r, v, http.StatusOK, "notice", "Notice: "+p.Activity.Nature, "channels", p)
	return nil
}
