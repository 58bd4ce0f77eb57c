package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"detente"
	"detente/internal/ledger"
	"detente/internal/nodetest"
)

// syntheticLog returns n events of a busy exchange with 10 partners:
// TAXII pages of 10 releases, receipts, matching queries and channel
// messages, over 60 days.
func syntheticLog(n int, start time.Time) []*detente.Event {
	partners := make([]string, 10)
	for i := range partners {
		partners[i] = fmt.Sprintf("partner%02d", i)
	}
	page := make([]string, 10)
	worth := make([]ledger.Worth, 10)
	for i := range page {
		page[i] = fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d@2026-01-10T10:00:00Z", i)
		worth[i] = ledger.Worth{Type: "indicator", Grading: "B2", TLP: "amber", Novelty: ledger.NoveltyNew}
	}
	release, _ := json.Marshal(map[string]any{"allowed": true, "via": "taxii", "objects": page, "worth": worth})
	received, _ := json.Marshal(map[string]any{"id": "indicator--00000000-0000-4000-8000-000000000001", "modified": "2026-01-10T10:00:00Z",
		"originator": "partner01", "from": "partner01", "sha256": "00", "worth": ledger.Worth{Type: "threat-actor", Grading: "C3", TLP: "green", Novelty: ledger.NoveltyRepeat}})
	query, _ := json.Marshal(map[string]any{"role": "owner", "mode": "query", "cost": 16})
	response, _ := json.Marshal(map[string]any{"action": "message", "type": "response", "message": "message--x", "in_reply_to": "message--r", "direction": "out"})
	step := 60 * 24 * time.Hour / time.Duration(n)
	es := make([]*detente.Event, n)
	for i := range es {
		e := &detente.Event{Seq: int64(i), Time: start.Add(step * time.Duration(i)), Partner: partners[i%len(partners)]}
		switch i % 10 {
		case 0, 1:
			e.Type, e.Body = detente.EventRelease, release
		case 9:
			e.Type, e.Body = detente.EventMatchQuery, query
		case 8:
			e.Type, e.Body = detente.EventChannel, response
		default:
			e.Type, e.Body = detente.EventObjectReceived, received
		}
		es[i] = e
	}
	return es
}

// benchEvents is the size of BenchmarkCompute's log.
const benchEvents = 200_000

// BenchmarkCompute computes the 30-day ledger over a log of a million
// events in memory (each release event lists 10 versions).
func BenchmarkCompute(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	es := syntheticLog(benchEvents, now.Add(-60*24*time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if bs := ledger.Compute(es, 30*24*time.Hour, now); len(bs) != 10 {
			b.Fatal(len(bs))
		}
	}
	b.ReportMetric(float64(len(es))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBalances reads the ledger's events from a SQLite store of
// 200,000 events and computes every partner's balance: what
// 'detente ledger' and /api/v1/ledger do.
func BenchmarkBalances(b *testing.B) {
	ctx := context.Background()
	n := nodetest.New(b, "alpha")
	const size = 200_000
	es := syntheticLog(size, time.Now().Add(-60*24*time.Hour))
	for i := 0; i < size; i += 10_000 {
		err := n.Store.Update(ctx, func(tx detente.Tx) error {
			for _, e := range es[i : i+10_000] {
				c := *e
				if err := tx.AppendEvent(ctx, &c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if bs, err := n.Ledger.Balances(ctx, "", 30*24*time.Hour); err != nil || len(bs) != 10 {
			b.Fatal(len(bs), err)
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
