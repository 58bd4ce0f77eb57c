package web

import (
	"net/http"
	"time"

	"detente/internal/hotline"
	"detente/internal/params"
)

// channelsPage is the data of the channels page.
type channelsPage struct {
	Channels []channelRow
	Purpose  map[string]string // channel id → purpose
	// What the channels carry, for roles that may read intelligence.
	Filter   string // the channel whose messages are shown, "" for all
	Messages []hotline.MessageView
	// What is overdue: incoming messages this node must acknowledge or
	// answer, outgoing ones the partners have not acknowledged or
	// answered.
	OverdueIn, OverdueOut int
	// Live are the channels that carry messages now (open, or suspended:
	// crisis alerts only), offered by the forms.
	Live      []channelRow
	Self      string // this node's name: its notices may be amended
	Notices   []noticeRow
	Conflicts []conflictRow
	Map       *noticeMap
}

// channelRow is a channel as the page lists it.
type channelRow struct {
	*hotline.Channel
	InWindow bool
	Since    time.Time // the time of the last transition
}

// noticeRow is a notice of planned activity with its number on the map.
type noticeRow struct {
	hotline.Notice
	Number int
	Drawn  bool // on the map (active notices only)
}

// conflictRow is a conflict with the numbers of its two notices.
type conflictRow struct {
	hotline.Conflict
	A, B int // 0 when the notice is not held
}

func (h *Handler) channels(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	chs, err := h.node.Hotline.Channels(ctx)
	if err != nil {
		return err
	}
	now := h.node.Now()
	p := channelsPage{Purpose: map[string]string{}}
	for _, ch := range chs {
		row := channelRow{Channel: ch, InWindow: ch.InWindow(now)}
		if n := len(ch.Transitions); n > 0 {
			row.Since = ch.Transitions[n-1].Time
		}
		p.Channels = append(p.Channels, row)
		p.Purpose[ch.ID] = ch.Purpose
		if row.InWindow && (ch.State == hotline.StateOpen || ch.State == hotline.StateSuspended) {
			p.Live = append(p.Live, row)
		}
	}
	q, err := params.Parse(r.URL.RawQuery, params.Text("channel"), params.IgnoreOthers)
	if err != nil {
		return err
	}
	if v.Can("intel") {
		if f := q.Text("channel"); f != "" {
			if _, ok := p.Purpose[f]; ok {
				p.Filter = f
			}
		}
		if p.Messages, err = h.node.Hotline.Messages(ctx, p.Filter); err != nil {
			return err
		}
		for _, m := range p.Messages {
			switch {
			case m.Overdue == "":
			case m.Outgoing:
				p.OverdueOut++
			default:
				p.OverdueIn++
			}
		}
		p.Self = h.node.Name
		ns, err := h.node.Hotline.Notices(ctx)
		if err != nil {
			return err
		}
		number := map[string]int{}
		for i, n := range ns {
			row := noticeRow{Notice: n, Number: i + 1, Drawn: n.Activity.Status != hotline.ActivityCancelled}
			p.Notices = append(p.Notices, row)
			number[n.Owner+"\x00"+n.Activity.ID] = i + 1
		}
		cs, err := h.node.Hotline.Conflicts(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			p.Conflicts = append(p.Conflicts, conflictRow{Conflict: c, A: number[c.A.Owner+"\x00"+c.A.ID], B: number[c.B.Owner+"\x00"+c.B.ID]})
		}
		p.Map = drawNotices(p.Notices)
	}
	h.render(w, r, v, http.StatusOK, "channels", "Channels", "channels", p)
	return nil
}
