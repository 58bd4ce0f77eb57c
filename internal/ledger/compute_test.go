package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"detente"
)

func ev(seq int64, at time.Time, typ, partner string, body any) *detente.Event {
	b, _ := json.Marshal(body)
	return &detente.Event{Seq: seq, Time: at, Type: typ, Partner: partner, Body: b}
}

// TestComputeExchanges: queries, channel requests on time and late,
// feedback, refusals and denied releases, and the period.
func TestComputeExchanges(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-40 * 24 * time.Hour)
	due := now.Add(-time.Hour)
	events := []*detente.Event{
		ev(0, old, detente.EventPartnerAdded, "bravo", map[string]string{"name": "bravo"}),
		ev(1, old, detente.EventPartnerAdded, "delta", map[string]string{"name": "delta"}),
		// Outside a 30-day period.
		ev(2, old.Add(time.Hour), detente.EventRelease, "bravo", map[string]any{"allowed": true, "objects": []string{"indicator--a@x"}}),
		ev(3, now.Add(-3*time.Hour), detente.EventRelease, "bravo", map[string]any{"allowed": true, "objects": []string{"threat-actor--a@x", "relationship--b@x"},
			"worth": []Worth{{Type: "threat-actor", TLP: "red", Novelty: NoveltyNew}, {Type: "relationship", Novelty: NoveltyNew}}}),
		ev(4, now.Add(-3*time.Hour), detente.EventRelease, "bravo", map[string]any{"allowed": false, "object_commitment": "ab"}),
		ev(5, now.Add(-3*time.Hour), detente.EventMatchQuery, "bravo", map[string]any{"role": "owner", "mode": "query"}),
		ev(6, now.Add(-3*time.Hour), detente.EventMatchQuery, "bravo", map[string]any{"role": "owner", "refused": "budget"}),
		ev(7, now.Add(-3*time.Hour), detente.EventMatchQuery, "bravo", map[string]any{"role": "querier", "mode": "query"}),
		// bravo's request to alpha, answered late; alpha's, answered on time.
		ev(8, now.Add(-2*time.Hour), detente.EventChannel, "bravo", map[string]any{"action": "message", "type": "request", "message": "message--r1", "direction": "in", "due": due}),
		ev(9, now.Add(-2*time.Hour), detente.EventChannel, "bravo", map[string]any{"action": "message", "type": "request", "message": "message--r2", "direction": "out", "due": now}),
		ev(10, now.Add(-time.Minute), detente.EventChannel, "bravo", map[string]any{"action": "message", "type": "response", "message": "message--s1", "in_reply_to": "message--r1", "direction": "out"}),
		ev(11, now.Add(-time.Minute), detente.EventChannel, "bravo", map[string]any{"action": "message", "type": "response", "message": "message--s2", "in_reply_to": "message--r2", "direction": "in"}),
		ev(12, now.Add(-time.Minute), detente.EventObjectReceived, "bravo", map[string]any{"id": "sighting--s", "worth": Worth{Type: "sighting", Novelty: NoveltyNew, Feedback: true}}),
		ev(13, now.Add(-time.Minute), detente.EventObjectReceived, "bravo", map[string]any{"id": "indicator--q", "outcome": "unchanged"}),
		ev(14, now.Add(-time.Minute), detente.EventObjectReceived, "bravo", map[string]any{"id": "marking-definition--x", "outcome": "predefined"}),
		ev(15, now.Add(time.Hour), detente.EventObjectReceived, "bravo", map[string]any{"id": "indicator--future"}),
	}
	// Any order: Compute sorts by Seq.
	events[3], events[12] = events[12], events[3]
	bs := Compute(events, 30*24*time.Hour, now)
	if len(bs) != 2 || bs[0].Partner != "bravo" || bs[1].Partner != "delta" {
		t.Fatalf("balances: %+v", bs)
	}
	b := bs[0]
	if b.Given != 2 || b.Received != 2 || b.QueriesAnswered != 1 || b.QueriesAsked != 1 ||
		b.Requests != (Answered{Late: 1}) || b.PartnerRequests != (Answered{OnTime: 1}) || b.FeedbackReceived != 1 {
		t.Errorf("bravo: %+v", b)
	}
	// threat-actor RED 2×2 + relationship 0.25 + a query 0.5 + a late answer 0.5.
	if want := 4 + 0.25 + QueryWeight + RequestLateWeight; !near(b.GivenWeight, want) {
		t.Errorf("given weight %v, want %v", b.GivenWeight, want)
	}
	// sighting 1.5 + the duplicate 0 + a query 0.5 + an answer on time 1.
	if want := 1.5 + QueryWeight + RequestOnTimeWeight; !near(b.ReceivedWeight, want) {
		t.Errorf("received weight %v, want %v", b.ReceivedWeight, want)
	}
	if !b.Below(1) || b.Below(0.5) {
		t.Errorf("ratio %v", *b.Ratio)
	}
	last := b.Series[Buckets-1]
	if !last.End.Equal(now) || !near(last.Balance, b.ReceivedWeight-b.GivenWeight) {
		t.Errorf("series end %+v", last)
	}
	if d := bs[1]; d.Given != 0 || d.Ratio != nil || d.Below(0.5) {
		t.Errorf("delta: %+v", d)
	}

	// The whole log counts the old release too, weighed by type alone.
	all := Compute(events, 0, now)
	if all[0].Given != 3 || !near(all[0].GivenWeight, b.GivenWeight+1) || !all[0].From.IsZero() {
		t.Errorf("whole log: %+v", all[0])
	}
}

func TestWeightTable(t *testing.T) {
	for _, c := range []struct {
		w    Worth
		want float64
	}{
		{Worth{Type: "indicator", Novelty: NoveltyNew}, 1},
		{Worth{Type: "indicator", Grading: "A1", TLP: "amber+strict", Novelty: NoveltyNew}, 1.5 * 1.5 * 1.5},
		{Worth{Type: "indicator", Grading: "E5", TLP: "clear", Novelty: NoveltyNew}, 0.5 * 0.5 * 0.75},
		{Worth{Type: "indicator", Grading: "F6", Novelty: NoveltyRepeat}, 0.1},
		{Worth{Type: "ipv4-addr", Novelty: NoveltyNew}, DefaultTypeWeight},
		{Worth{Type: "marking-definition", Novelty: NoveltyNew}, 0},
		{Worth{Type: "threat-actor", Novelty: NoveltyDuplicate}, 0},
		{Worth{Type: "threat-actor", Novelty: NoveltyOwn}, 0.2},
	} {
		if got := c.w.Weight(); !near(got, c.want) {
			t.Errorf("%+v weighs %v, want %v", c.w, got, c.want)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

// TestSeriesSteps: each exchange falls in the step whose end is the first
// at or after it, over short periods and a log of decades alike.
func TestSeriesSteps(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, span := range []time.Duration{time.Hour, 30 * 24 * time.Hour, 40 * 365 * 24 * time.Hour} {
		start := now.Add(-span)
		var events []*detente.Event
		events = append(events, ev(0, start, detente.EventPartnerAdded, "bravo", map[string]string{"name": "bravo"}))
		for i, at := range []time.Time{start.Add(time.Nanosecond), now.Add(-span / 2), now} {
			events = append(events, ev(int64(i+1), at, detente.EventMatchQuery, "bravo", map[string]string{"role": "owner"}))
		}
		b := Compute(events, 0, now)[0]
		sum := 0.0
		for i, p := range b.Series {
			sum += p.GivenWeight
			if i > 0 && !p.End.After(b.Series[i-1].End) {
				t.Fatalf("%s: steps out of order at %d", span, i)
			}
		}
		if b.QueriesAnswered != 3 || !near(sum, 3*QueryWeight) || b.Series[0].GivenWeight != QueryWeight || b.Series[Buckets-1].GivenWeight != QueryWeight {
			t.Errorf("%s: %d queries, series sum %v, first %v, last %v", span, b.QueriesAnswered, sum, b.Series[0].GivenWeight, b.Series[Buckets-1].GivenWeight)
		}
	}
}
