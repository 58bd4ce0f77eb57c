package hotline_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"detente"
	"detente/internal/hotline"
)

// liaison is a node's service on SQLite with a channel open to partner
// bravo (whose key it holds): crisis alerts are to be acknowledged
// within ackWithin.
type liaison struct {
	db       detente.Store
	s        *hotline.Service
	ch       *hotline.Channel
	bravo    *detente.Partner
	bravoKey ed25519.PrivateKey
}

func newLiaison(t *testing.T, ackWithin time.Duration, logger *slog.Logger) *liaison {
	t.Helper()
	ctx := context.Background()
	db := openSQLite(t)
	_, key, _ := ed25519.GenerateKey(nil)
	bpub, bkey, _ := ed25519.GenerateKey(nil)
	s := hotline.NewService(hotline.Config{Store: db, Name: "alpha", Key: key, Logger: logger})
	bravo := &detente.Partner{Name: "bravo", Key: detente.PublicKey(bpub), URL: "https://bravo.invalid", State: detente.PartnerActive}
	if err := db.Update(ctx, func(tx detente.Tx) error { return tx.PutPartner(ctx, bravo) }); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	terms := hotline.Terms{ID: hotline.NewID("channel"), Purpose: "Euro 2028 security",
		AckWithin: map[hotline.MessageType]hotline.Duration{hotline.TypeCrisisAlert: hotline.Duration(ackWithin)},
		Parties: []hotline.Party{
			{Name: "alpha", Key: detente.PublicKey(key.Public().(ed25519.PublicKey)), Contacts: []hotline.Contact{{Name: "Ana Duty", Role: hotline.RoleDutyOfficer}}},
			{Name: "bravo", Key: bravo.Key},
		}}
	ch, err := hotline.Propose(terms, "liaison", now, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := hotline.Apply(ch, hotline.NewTransition(ch, hotline.StateOpen, "agreed", now, bkey)); err != nil {
		t.Fatal(err)
	}
	if err := s.Store().CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	return &liaison{db: db, s: s, ch: ch, bravo: bravo, bravoKey: bkey}
}

// fromBravo delivers m, signed by bravo, to the service.
func (l *liaison) fromBravo(t *testing.T, m *hotline.Message) {
	t.Helper()
	m.Sign(l.bravoKey)
	b, err := hotline.EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.s.ReceiveMessage(context.Background(), l.bravo, b); err != nil {
		t.Fatal(err)
	}
}

// channelAlerts returns the node's alerts of kind channel.
func (l *liaison) channelAlerts(t *testing.T) []*detente.Alert {
	t.Helper()
	var as []*detente.Alert
	err := l.db.View(context.Background(), func(tx detente.Tx) (err error) { as, err = tx.Alerts(context.Background(), 0); return })
	if err != nil {
		t.Fatal(err)
	}
	var out []*detente.Alert
	for _, a := range as {
		if a.Kind == detente.AlertChannel {
			out = append(out, a)
		}
	}
	return out
}

// TestAlertDeduplication runs the escalator of a running node over fake
// time on a crisis alert with a 30 s deadline that bravo never
// acknowledges (the partner is unreachable): its node keeps one alert,
// updated in place with each escalation, where it used to add one every
// 30 s (after 13 minutes, 26 copies pushed every other alert off the
// overview). The escalations back off and stop at the cap.
func TestAlertDeduplication(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLiaison(t, 30*time.Second, nil)
		ctx, stop := context.WithCancel(t.Context())
		start := time.Now()
		res, err := l.s.SendMessage(ctx, hotline.MessageRequest{Channel: l.ch.ID, Type: hotline.TypeCrisisAlert, Author: "Ana Duty", Subject: "Evacuate gate 4"})
		if err != nil {
			t.Fatal(err)
		}
		r := l.s.NewRunner(hotline.RunOptions{})
		var wg sync.WaitGroup
		wg.Go(func() { r.Escalator.Run(ctx) })

		// Escalations at 30 s (the deadline), 1, 2, 4, 8 and 16 minutes.
		for _, c := range []struct {
			at    time.Duration
			count int
		}{
			{29 * time.Second, 0}, {35 * time.Second, 1}, {65 * time.Second, 2}, {13 * time.Minute, 5},
			{16*time.Minute + 5*time.Second, 6}, {time.Hour, 6},
		} {
			time.Sleep(time.Until(start.Add(c.at)))
			synctest.Wait()
			as := l.channelAlerts(t)
			if c.count == 0 {
				if len(as) != 0 {
					t.Fatalf("at %v: %d alerts before the deadline", c.at, len(as))
				}
				continue
			}
			if len(as) != 1 {
				t.Fatalf("at %v: %d alerts, want one for the condition", c.at, len(as))
			}
			a := as[0]
			if a.Count != c.count || a.Key != "ack-overdue/"+res.Record.Message.ID || a.Partner != "bravo" {
				t.Fatalf("at %v: alert %+v, want count %d", c.at, a, c.count)
			}
			if first := a.First.Sub(start); first < 30*time.Second || first > 35*time.Second {
				t.Errorf("at %v: first raised %v after sending", c.at, first)
			}
			var ev hotline.Alert
			if err := json.Unmarshal(a.Evidence, &ev); err != nil || ev.Escalation != c.count || !ev.Time.Equal(a.Time) {
				t.Errorf("at %v: evidence %+v (%v), want escalation %d", c.at, ev, err, c.count)
			}
			if !strings.Contains(a.Message, "escalation "+string(rune('0'+c.count))+" of 6") {
				t.Errorf("at %v: message %q", c.at, a.Message)
			}
		}
		stop()
		wg.Wait()
	})
}

// TestConflictAlertOnce checks that a conflict between two notices is one
// alert however often they are amended and stay in conflict.
func TestConflictAlertOnce(t *testing.T) {
	ctx := context.Background()
	l := newLiaison(t, 5*time.Minute, nil)
	now := time.Now().UTC()
	band := hotline.Band{Lower: hotline.Height{Value: 0, Unit: hotline.UnitMetres}, Upper: hotline.Height{Value: 30, Unit: hotline.UnitFlightLevel}}
	res, err := l.s.FileNotice(ctx, hotline.NoticeRequest{Channel: l.ch.ID, Nature: "UAV trials", Band: band,
		Area: hotline.Area{Circle: &hotline.Circle{Lon: 2.36, Lat: 48.92, Radius: 3000}}, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	activity := &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive, Band: band,
		Area: hotline.Area{Circle: &hotline.Circle{Lon: 2.37, Lat: 48.92, Radius: 2000}}, Start: now.Add(time.Hour), End: now.Add(3 * time.Hour), Nature: "Drill"}
	m := hotline.NewMessage(l.ch.ID, hotline.TypeNotice, now)
	m.Activity = activity
	l.fromBravo(t, m)
	for v := 2; v <= 3; v++ {
		// bravo amends (the conflict is kept), then withdraws it and puts it back.
		a := *activity
		a.Version, a.Nature = v, "Drill, amended"
		m := hotline.NewMessage(l.ch.ID, hotline.TypeNotice, now)
		m.Activity = &a
		l.fromBravo(t, m)
	}
	if _, err := l.s.CancelNotice(ctx, res.Record.Message.Activity.ID, "Ana Duty", "moved"); err != nil {
		t.Fatal(err)
	}
	as := l.channelAlerts(t)
	if len(as) != 1 || !strings.HasPrefix(as[0].Key, "conflict/") || !strings.Contains(as[0].Message, "at 0m..914.4m") {
		t.Fatalf("conflict alerts: %+v", as)
	}
}

// TestCrisisAlertLogged checks that a crisis alert received is logged at
// once, at WARN, with its channel, sender and size but not its text; and
// that it awaits acknowledgement until acknowledged.
func TestCrisisAlertLogged(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	l := newLiaison(t, 5*time.Minute, slog.New(slog.NewJSONHandler(&logs, nil)))
	m := hotline.NewMessage(l.ch.ID, hotline.TypeCrisisAlert, time.Now())
	m.Subject, m.Body = "Secret subject", "Secret text of the alert"
	l.fromBravo(t, m)
	var line struct {
		Level, Msg, Channel, From, Message string
		TextBytes                          int `json:"text_bytes"`
	}
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "crisis alert received") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.Level != "WARN" || line.Channel != m.Channel || line.From != "bravo" || line.Message != m.ID || line.TextBytes != len(m.Subject)+len(m.Body) {
		t.Errorf("log line %+v in\n%s", line, logs.String())
	}
	if strings.Contains(logs.String(), "Secret") {
		t.Errorf("the alert's text was logged:\n%s", logs.String())
	}
	// The same alert again (bravo escalating) is not a new crisis alert.
	logs.Reset()
	l.fromBravo(t, m)
	if strings.Contains(logs.String(), "crisis alert received") {
		t.Errorf("a duplicate was logged as a new alert:\n%s", logs.String())
	}

	aw, err := l.s.Awaiting(ctx)
	if err != nil || len(aw) != 1 || aw[0].Message.ID != m.ID || aw[0].Partners[0] != "bravo" {
		t.Fatalf("awaiting: %+v, %v", aw, err)
	}
	if _, err := l.s.AckMessage(ctx, m.ID, "Ana Duty"); err != nil {
		t.Fatal(err)
	}
	if aw, err := l.s.Awaiting(ctx); err != nil || len(aw) != 0 {
		t.Fatalf("awaiting after the ack: %+v, %v", aw, err)
	}
}

// TestAwaitingIndexed checks that the messages stored before the
// awaiting index was kept are found, once it is filled.
func TestAwaitingIndexed(t *testing.T) {
	ctx := context.Background()
	l := newLiaison(t, 5*time.Minute, nil)
	m := hotline.NewMessage(l.ch.ID, hotline.TypeCrisisAlert, time.Now())
	m.Subject = "before the index"
	l.fromBravo(t, m)
	// As an older version stored it: no index entries, no marker.
	err := l.db.Update(ctx, func(tx detente.Tx) error {
		return errors.Join(tx.DeleteDoc(ctx, "hotline.await", m.ID), tx.DeleteDoc(ctx, "hotline.index", "await"))
	})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := l.s.Awaiting(ctx)
	if err != nil || len(aw) != 1 || aw[0].Message.ID != m.ID {
		t.Fatalf("awaiting: %+v, %v", aw, err)
	}
	// A closed channel's are not awaited: nothing can be sent on it.
	if _, err := l.s.ChangeChannel(ctx, l.ch.ID, hotline.StateClosed, "event over"); err != nil {
		t.Fatal(err)
	}
	if aw, err := l.s.Awaiting(ctx); err != nil || len(aw) != 0 {
		t.Fatalf("awaiting on a closed channel: %+v, %v", aw, err)
	}
}
