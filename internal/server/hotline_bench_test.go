package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/node"
)

// The liaison channels' benchmarks (issue 8; docs/benchmarks.md). Both
// run real nodes (server.New with the default hotline options: a 250 ms
// outbox poll) over mutual TLS on loopback.

// benchChannel has a propose a channel to o and o accept it, and returns
// its id once it is open on both sides.
func benchChannel(b *testing.B, a, o *peer) string {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	res, err := a.Hotline.ProposeChannel(ctx, hotline.ChannelRequest{Purpose: "Euro 2028 security", Event: "Euro 2028",
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), Partners: []string{o.Name},
		Contacts: map[string][]hotline.Contact{a.Name: {{Name: "J. Smith", Role: hotline.RoleDutyOfficer}}}})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Pending) > 0 {
		b.Fatalf("proposal not delivered: %v", res.Pending)
	}
	id := res.Channel.ID
	if _, err := o.Hotline.ChangeChannel(ctx, id, hotline.StateOpen, "agreed"); err != nil {
		b.Fatal(err)
	}
	for _, p := range []*peer{a, o} {
		waitFor(b, p.Name+" sees the channel open", func() bool {
			ch, err := p.Hotline.Channel(ctx, id)
			return err == nil && ch.State == hotline.StateOpen
		})
	}
	return id
}

// waitFor polls cond every 100 µs, so that a latency measured with it is
// at most that much late.
func waitFor(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// reportQuantiles reports the p50 and p99 of ds, in milliseconds.
func reportQuantiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		return float64(ds[min(max(i, 0), len(ds)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

// BenchmarkCrisisAlertDelivery measures, per crisis alert, the time from
// Node.SendMessage in alpha's serving process to the alert being stored
// at bravo (delivery), and from Node.AckMessage at bravo to alpha's record
// of the alert being acknowledged (ack round trip).
func BenchmarkCrisisAlertDelivery(b *testing.B) {
	ctx := context.Background()
	alpha, bravo := startPeer(b, "alpha"), startPeer(b, "bravo")
	link(b, alpha, bravo, "amber", intel...)
	id := benchChannel(b, alpha, bravo)
	var delivery, ack []time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		res, err := alpha.Hotline.SendMessage(ctx, hotline.MessageRequest{Channel: id, Type: hotline.TypeCrisisAlert, Author: "J. Smith",
			Subject: fmt.Sprintf("crisis alert %d", i), Body: "unidentified drone over the stadium"})
		if err != nil {
			b.Fatal(err)
		}
		mid := res.Record.Message.ID
		waitFor(b, "bravo holds the alert", func() bool {
			_, err := bravo.Hotline.Message(ctx, mid)
			return err == nil
		})
		delivery = append(delivery, time.Since(t0))

		t1 := time.Now()
		if _, err := bravo.Hotline.AckMessage(ctx, mid, "K. Jones"); err != nil {
			b.Fatal(err)
		}
		waitFor(b, "alpha sees the alert acknowledged", func() bool {
			r, err := alpha.Hotline.Message(ctx, mid)
			return err == nil && r.State == hotline.Acknowledged
		})
		ack = append(ack, time.Since(t1))
	}
	reportQuantiles(b, "delivery", delivery)
	reportQuantiles(b, "ack-rtt", ack)
}

// benchActivity returns an active notice in a 10° by 10° box over western
// Europe (a circle of 2 to 10 km), in a random two-hour window of the next
// 7 days, in a random 500 m altitude band below 3,500 m: dense enough that
// some notices conflict.
func benchActivity(rng *rand.Rand, now time.Time) *hotline.Activity {
	start := now.Add(time.Duration(rng.Int64N(int64(7 * 24 * time.Hour)))).Truncate(time.Second)
	lower := float64(rng.IntN(3000))
	return &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive,
		Area: hotline.Area{Circle: &hotline.Circle{Lat: 43 + rng.Float64()*10, Lon: -2 + rng.Float64()*10,
			Radius: 2000 + rng.Float64()*8000}},
		Band:  hotline.Band{Lower: hotline.Height{Value: lower, Unit: "m"}, Upper: hotline.Height{Value: lower + 500, Unit: "m"}},
		Start: start, End: start.Add(2 * time.Hour), Nature: "flights"}
}

// BenchmarkNoticeConflictCheck measures Node.FileNotice in alpha's
// serving process (sign, store in the outbox, check against every notice
// held, record conflicts, in one transaction) while alpha holds 10,000
// active notices received from bravo. Each iteration files one more.
func BenchmarkNoticeConflictCheck(b *testing.B) {
	const held = 10000
	ctx := context.Background()
	alpha, bravo := startPeer(b, "alpha"), startPeer(b, "bravo")
	link(b, alpha, bravo, "amber", intel...)
	id := benchChannel(b, alpha, bravo)
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	from := &detente.Partner{Name: bravo.Name, Key: bravo.PublicKey(), URL: bravo.srv.URL(), State: detente.PartnerActive}
	for i := range held {
		m := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
		m.Subject, m.Activity = "planned activity", benchActivity(rng, now)
		m.Sign(bravo.Key)
		body, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := alpha.Hotline.ReceiveMessage(ctx, from, body); err != nil {
			b.Fatalf("notice %d: %v", i, err)
		}
	}
	if ns, err := alpha.Hotline.Notices(ctx); err != nil || len(ns) != held {
		b.Fatalf("alpha holds %d notices, %v", len(ns), err)
	}
	conflicts := 0
	for b.Loop() {
		a := benchActivity(rng, now)
		res, err := alpha.Hotline.FileNotice(ctx, hotline.NoticeRequest{Channel: id, Author: "J. Smith", Area: a.Area, Band: a.Band,
			Start: a.Start, End: a.End, Nature: a.Nature})
		if err != nil {
			b.Fatal(err)
		}
		conflicts += len(res.Conflicts)
	}
	b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/op")
}

// TestNoticeDeconflictorAcrossProcesses: the serving node's in-memory
// deconflictor sees a notice filed by another process sharing its store
// (the CLI, here a second Node) before it checks the next notice.
func TestNoticeDeconflictorAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	alpha, bravo := startHotlinePeer(t, "alpha", fastHotline), startHotlinePeer(t, "bravo", fastHotline)
	link(t, alpha, bravo, "amber", intel...)
	id := openChannel(t, nil, alpha, bravo)
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	req := hotline.NoticeRequest{Channel: id, Area: hotline.Area{Circle: &hotline.Circle{Lat: 10, Lon: 10, Radius: 3000}},
		Band:  hotline.Band{Lower: hotline.Height{Value: 0, Unit: "m"}, Upper: hotline.Height{Value: 500, Unit: "m"}},
		Start: start, End: start.Add(time.Hour), Nature: "police helicopter patrols"}
	if _, err := alpha.Hotline.FileNotice(ctx, req); err != nil { // builds alpha's deconflictor
		t.Fatal(err)
	}
	cli := node.New(alpha.Name, alpha.Key, alpha.Store, alpha.Logger)
	req.Area.Circle = &hotline.Circle{Lat: 48.9, Lon: 2.36, Radius: 3000}
	if _, err := cli.Hotline.FileNotice(ctx, req); err != nil {
		t.Fatal(err)
	}
	m := hotline.NewMessage(id, hotline.TypeNotice, time.Now())
	m.Subject = "counter-drone trials"
	m.Activity = &hotline.Activity{ID: hotline.NewID("activity"), Version: 1, Status: hotline.ActivityActive, Area: req.Area, Band: req.Band, Start: start, End: start.Add(time.Hour), Nature: "counter-drone trials"}
	m.Sign(bravo.Key)
	body, _ := json.Marshal(m)
	if _, err := alpha.Hotline.ReceiveMessage(ctx, &detente.Partner{Name: "bravo", Key: bravo.PublicKey()}, body); err != nil {
		t.Fatal(err)
	}
	cs, _ := alpha.Hotline.Conflicts(ctx)
	al := 0
	for _, a := range alertsOf(t, alpha) {
		if a.Kind == detente.AlertChannel {
			al++
		}
	}
	if len(cs) != 1 || al != 1 {
		t.Fatalf("alpha missed the CLI's notice: conflicts %v, %d conflict alerts", cs, al)
	}
}
