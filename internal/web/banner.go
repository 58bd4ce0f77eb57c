package web

import (
	"net/http"

	"detente/internal/hotline"
)

// crisisBanner is what every page shows analysts and administrators while
// crisis alerts from partners wait for this node's acknowledgement: each
// alert's sender, channel and text, with a form to acknowledge it and a
// link to reply, so that an alert cannot go unseen whatever page people
// are on.
type crisisBanner struct {
	Alerts []crisisAlert
	More   int // unacknowledged crisis alerts beyond those shown
	// Requests counts the requests from partners still to answer.
	Requests int
	Back     string // the page shown, for the forms to come back to
}

// crisisAlert is one unacknowledged crisis alert in the banner.
type crisisAlert struct {
	hotline.MessageView
	Purpose string
}

// bannerAlerts bounds the alerts the banner shows in full.
const bannerAlerts = 3

// crisisBanner returns the banner for r, nil when nothing awaits. A
// failure to read is logged: the page is shown without the banner
// rather than not at all.
func (h *Handler) crisisBanner(r *http.Request) *crisisBanner {
	ctx := r.Context()
	aw, err := h.node.Hotline.Awaiting(ctx)
	if err != nil {
		h.logger.ErrorContext(ctx, "console: read the messages awaiting this node", "err", err)
		return nil
	}
	b := &crisisBanner{Back: "/"}
	if r.Method == http.MethodGet && isLocalPath(r.URL.RequestURI()) {
		b.Back = r.URL.RequestURI()
	}
	for _, m := range aw {
		switch {
		case m.Message.Type == hotline.TypeCrisisAlert && m.AckedAt.IsZero():
			if len(b.Alerts) == bannerAlerts {
				b.More++
				continue
			}
			a := crisisAlert{MessageView: m}
			if ch, err := h.node.Hotline.Channel(ctx, m.Message.Channel); err == nil {
				a.Purpose = ch.Purpose
			}
			b.Alerts = append(b.Alerts, a)
		case m.Message.Type == hotline.TypeRequest && m.AnsweredAt.IsZero():
			b.Requests++
		}
	}
	if len(b.Alerts) == 0 {
		return nil
	}
	return b
}
