package server_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"detente"
	"detente/internal/node"
	"detente/internal/taxii"
)

// fill ingests n indicators in bundles of 50,000: most GREEN, every 10th
// AMBER, every 50th RED (which a partner under an AMBER ceiling may not
// see).
func fill(b *testing.B, p *peer, n int) {
	b.Helper()
	const chunk = 50_000
	for start := 0; start < n; start += chunk {
		var sb strings.Builder
		sb.WriteString(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`)
		for i := start; i < min(n, start+chunk); i++ {
			if i > start {
				sb.WriteByte(',')
			}
			marking := detente.MarkingGreen
			switch {
			case i%50 == 0:
				marking = detente.MarkingRed
			case i%10 == 0:
				marking = detente.MarkingAmber
			}
			fmt.Fprintf(&sb, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000",`+
				`"created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","name":"handle %d",`+
				`"pattern":"[user-account:account_login = 'h%d']","pattern_type":"stix","valid_from":"2026-01-10T10:00:00Z",`+
				`"object_marking_refs":[%q]}`, i, i, i, marking)
		}
		sb.WriteString("]}")
		if _, err := p.Ingest(context.Background(), []byte(sb.String()), node.IngestOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSync100k: a fresh partner pulls 100,000 objects (98,000 of
// them released to it) over loopback with mutual TLS, signature
// verification and the ingress policy. Target: at least 3,000 objects/s.
func BenchmarkSync100k(b *testing.B) {
	const size = 100_000
	alpha := startPeer(b, "alpha")
	fill(b, alpha, size)
	received, round := 0, 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		round++
		bravo := startPeer(b, fmt.Sprintf("bravo%d", round))
		link(b, alpha, bravo, "amber", "indicator")
		b.StartTimer()
		cpu0 := cpuTime()
		r, err := bravo.Federation.Sync(context.Background(), "alpha", nil)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		received += r.Added
		b.StopTimer()
		bravo.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(received)/b.Elapsed().Seconds(), "objects/s")
	// Both nodes' CPU time (serving and pulling): what a sync costs,
	// whatever else the machine runs.
	b.ReportMetric(float64(received)/cpu.Seconds(), "objects/cpu-s")
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTAXIIPage1M: pages of 1,000 objects, policy-filtered for one
// partner, from a store of 1,000,000 objects, fetched over mutual TLS at
// cursors spread through the collection. Reports p50 and p95 latency.
// Target: p95 under 100 ms.
func BenchmarkTAXIIPage1M(b *testing.B) {
	benchTAXIIPage1M(b, startPeer(b, "alpha"))
}

// benchTAXIIPage1M runs BenchmarkTAXIIPage1M with alpha serving the pages,
// on whichever store alpha has.
func benchTAXIIPage1M(b *testing.B, alpha *peer) {
	size := 1_000_000
	// DETENTE_BENCH_PAGE_STORE=100000 profiles the same page over a
	// smaller store, quicker to fill.
	if v, err := strconv.Atoi(os.Getenv("DETENTE_BENCH_PAGE_STORE")); err == nil && v > 2000 {
		size = v
	}
	bravo := startPeer(b, "bravo")
	link(b, alpha, bravo, "amber", "indicator")
	fill(b, alpha, size)
	ctx := context.Background()
	// Only the objects' added times are kept: the benchmark's process also
	// serves the pages, and a million objects held here would be a heap
	// that no server holds, for its garbage collector to mark during
	// every page.
	var added []time.Time
	alpha.Store.View(ctx, func(tx detente.Tx) error {
		all, err := tx.Objects(ctx, detente.ObjectFilter{Limit: size})
		for _, o := range all {
			added = append(added, o.Added)
		}
		return err
	})
	runtime.GC()
	hc, err := bravo.PartnerClient(&detente.Partner{Name: "alpha", Key: alpha.PublicKey()})
	if err != nil {
		b.Fatal(err)
	}
	c := &taxii.Client{HTTP: hc, BaseURL: alpha.srv.URL() + "/taxii2/api/"}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		after := added[(i*7919)%(len(added)-2000)] // spread through the store
		i++
		start := time.Now()
		p, err := c.Objects(ctx, node.CollectionShared, taxii.Filter{AddedAfter: after, Limit: 1000}, "")
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if len(p.Objects) != 1000 {
			b.Fatalf("page of %d objects", len(p.Objects))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
