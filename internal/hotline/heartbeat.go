package hotline

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"detente"
)

// Line is the liveness of one partner on one channel, as this node sees
// it.
type Line struct {
	Channel   string        `json:"channel"`
	Partner   string        `json:"partner"`
	Interval  time.Duration `json:"interval"`   // the channel's heartbeat interval N
	LastHeard time.Time     `json:"last_heard"` // last message or heartbeat; when watching began if never
	// Silent is set when nothing was heard for 2N or more.
	Silent bool `json:"silent"`
}

// Heartbeats keeps the lines of open and suspended channels visibly alive:
// it sends a signed heartbeat to every partner every N (the channel's
// heartbeat interval), and watches when each partner was last heard (any
// message counts; Receive records it). A partner not heard for 2N makes
// the line silent: Heartbeats raises AlertLineSilent, and AlertLineRestored
// when it is heard again.
type Heartbeats struct {
	Store     Store
	Transport Transport
	Key       ed25519.PrivateKey // this node's key, to sign heartbeats
	Node      string             // this node's name, for alerts
	Alerter   Alerter            // nil for none
	// Report is called with every alert, before the Alerter, so that the
	// Service records it in the node's log.
	Report func(context.Context, Alert)
	Logger *slog.Logger // nil logs nothing

	mu       sync.Mutex
	started  time.Time
	lastSent map[[2]string]time.Time
	silent   map[[2]string]bool
}

func (h *Heartbeats) init(now time.Time) {
	if h.lastSent == nil {
		h.started = now
		h.lastSent = map[[2]string]time.Time{}
		h.silent = map[[2]string]bool{}
	}
}

func (h *Heartbeats) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return discard
}

// live returns the channels whose lines are watched: open and suspended
// ones within their validity window.
func (h *Heartbeats) live(ctx context.Context, now time.Time) ([]*Channel, error) {
	chs, err := h.Store.Channels(ctx)
	if err != nil {
		return nil, fmt.Errorf("heartbeats: %w", err)
	}
	out := chs[:0]
	for _, ch := range chs {
		if (ch.State == StateOpen || ch.State == StateSuspended) && ch.InWindow(now) {
			if _, ok := ch.Party(h.self()); ok {
				out = append(out, ch)
			}
		}
	}
	return out, nil
}

func (h *Heartbeats) self() detente.PublicKey {
	return detente.PublicKey(h.Key.Public().(ed25519.PublicKey))
}

// Beat sends a heartbeat on every live line whose last one was sent N or
// more before now, concurrently, and returns when they have all been
// tried. A failed heartbeat is logged: the partner will see the line
// silent, which is the point.
func (h *Heartbeats) Beat(ctx context.Context, now time.Time) error {
	chs, err := h.live(ctx, now)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.init(now)
	type beat struct {
		partner string
		m       *Message
	}
	var beats []beat
	for _, ch := range chs {
		for _, p := range ch.Parties {
			k := [2]string{ch.ID, p.Name}
			if p.Key.Equal(h.self()) || now.Sub(h.lastSent[k]) < ch.HeartbeatInterval() {
				continue
			}
			h.lastSent[k] = now
			m := NewMessage(ch.ID, TypeHeartbeat, now)
			m.Sign(h.Key)
			beats = append(beats, beat{p.Name, m})
		}
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, b := range beats {
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, DefaultHeartbeat)
			defer cancel()
			if err := h.Transport.Send(sctx, b.partner, b.m); err != nil && ctx.Err() == nil {
				h.logger().InfoContext(ctx, "heartbeat not delivered", "channel", b.m.Channel, "partner", b.partner, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// Lines returns the state at now of every live line, by channel and
// partner.
func (h *Heartbeats) Lines(ctx context.Context, now time.Time) ([]Line, error) {
	chs, err := h.live(ctx, now)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.init(now)
	started := h.started
	h.mu.Unlock()
	var out []Line
	for _, ch := range chs {
		heard, err := h.Store.Heard(ctx, ch.ID)
		if err != nil {
			return nil, fmt.Errorf("heartbeats: %w", err)
		}
		n := ch.HeartbeatInterval()
		for _, p := range ch.Parties {
			if p.Key.Equal(h.self()) {
				continue
			}
			// Silence counts from when this process began watching, or
			// the channel last changed state, whichever is later.
			since := started
			if n := len(ch.Transitions); n > 0 && ch.Transitions[n-1].Time.After(since) {
				since = ch.Transitions[n-1].Time
			}
			last := heard[p.Name]
			if last.Before(since) {
				last = since
			}
			out = append(out, Line{Channel: ch.ID, Partner: p.Name, Interval: n, LastHeard: last, Silent: now.Sub(last) >= 2*n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Channel != out[j].Channel {
			return out[i].Channel < out[j].Channel
		}
		return out[i].Partner < out[j].Partner
	})
	return out, nil
}

// Check raises an alert for every line that went silent or came back since
// the last Check, and returns them.
func (h *Heartbeats) Check(ctx context.Context, now time.Time) ([]Alert, error) {
	lines, err := h.Lines(ctx, now)
	if err != nil {
		return nil, err
	}
	chs := map[string]*Channel{}
	if cs, err := h.live(ctx, now); err == nil {
		for _, c := range cs {
			chs[c.ID] = c
		}
	}
	var alerts []Alert
	h.mu.Lock()
	for _, l := range lines {
		k := [2]string{l.Channel, l.Partner}
		if l.Silent == h.silent[k] {
			continue
		}
		h.silent[k] = l.Silent
		a := Alert{Node: h.Node, Time: now.UTC(), Channel: l.Channel, Partners: []string{l.Partner}, LastHeard: l.LastHeard.UTC()}
		if ch := chs[l.Channel]; ch != nil {
			a.Purpose = ch.Purpose
			if p, ok := ch.Party(h.self()); ok {
				a.DutyOfficer = p.DutyOfficer()
			}
		}
		if l.Silent {
			a.Kind = AlertLineSilent
			a.Text = fmt.Sprintf("line to %s is silent: nothing heard since %s (heartbeat every %s)", l.Partner, l.LastHeard.UTC().Format(time.RFC3339), l.Interval)
		} else {
			a.Kind = AlertLineRestored
			a.Text = fmt.Sprintf("line to %s is alive again", l.Partner)
		}
		alerts = append(alerts, a)
	}
	h.mu.Unlock()
	for _, a := range alerts {
		if h.Report != nil {
			h.Report(ctx, a)
		}
		if h.Alerter != nil {
			if err := h.Alerter.Alert(ctx, a); err != nil {
				h.logger().ErrorContext(ctx, "hotline alert not delivered", "kind", a.Kind, "channel", a.Channel, "err", err)
			}
		}
	}
	return alerts, nil
}

// next returns when Run must next wake: the earliest heartbeat due or line
// about to go silent, and at most five seconds from now, so that new channels
// and partners heard are picked up.
func (h *Heartbeats) next(ctx context.Context, now time.Time) time.Time {
	next := now.Add(5 * time.Second)
	lines, err := h.Lines(ctx, now)
	if err != nil {
		return next
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range lines {
		if t := h.lastSent[[2]string{l.Channel, l.Partner}].Add(l.Interval); t.Before(next) {
			next = t
		}
		if t := l.LastHeard.Add(2 * l.Interval); !l.Silent && t.Before(next) {
			next = t
		}
	}
	return next
}

// Run sends heartbeats and watches the lines until ctx is done, and
// returns ctx's error.
func (h *Heartbeats) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now := time.Now()
		if err := h.Beat(ctx, now); err != nil && ctx.Err() == nil {
			h.logger().ErrorContext(ctx, "hotline heartbeats", "err", err)
		}
		if _, err := h.Check(ctx, now); err != nil && ctx.Err() == nil {
			h.logger().ErrorContext(ctx, "hotline heartbeats", "err", err)
		}
		t.Reset(max(time.Until(h.next(ctx, time.Now())), 0))
	}
}
