package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/taxii"
)

// benchReports returns a bundle of n GREEN reports, each with marks
// wordings, a subdomain and a time canary, distinct texts per report;
// plain leaves the markup out (each position's first wording, the
// declared values).
func benchReports(n, marks int, plain bool) []byte {
	words := [][2]string{{"acquired", "obtained"}, {"rifles", "firearms"}, {"met", "gathered"}, {"moved", "transferred"},
		{"planned", "prepared"}, {"recently", "lately"}, {"vehicle", "car"}, {"observed", "seen"}}
	objs := make([]map[string]any, n)
	for r := range n {
		var b strings.Builder
		for i := range marks {
			w := words[(i+r)%len(words)]
			if plain {
				fmt.Fprintf(&b, "Report %d item %d: the subject %s on day %d. ", r, i, w[0], i)
			} else {
				fmt.Fprintf(&b, "Report %d item %d: the subject [[%s|%s]] on day %d. ", r, i, w[0], w[1], i)
			}
		}
		if plain {
			b.WriteString("Beacons to sinkhole.example.net at 2026-03-01T10:00:00Z.")
		} else {
			b.WriteString("Beacons to {{canary:subdomain:sinkhole.example.net}} at {{canary:time:2026-03-01T10:00:00Z~15m}}.")
		}
		objs[r] = map[string]any{"type": "report", "spec_version": "2.1", "id": fmt.Sprintf("report--%08x-0000-4000-8000-000000000000", r),
			"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-02T08:30:00.000Z", "name": fmt.Sprintf("Report %d", r),
			"description": b.String(), "published": "2026-03-02T08:30:00Z", "object_refs": []string{actorID},
			"object_marking_refs": []string{detente.MarkingGreen}}
	}
	return bundle(objs...)
}

// benchPartners adds partners p000… under one GREEN agreement.
func benchPartners(b testing.TB, n *node.Node, count int) []string {
	ctx := context.Background()
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("p%03d", i)
		var k [32]byte
		k[0], k[1] = byte(i), 0xd7
		if _, err := n.AddPartner(ctx, names[i], detente.PublicKey(k[:]), "https://"+names[i]+".example"); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UTC()
	doc, _ := json.Marshal(map[string]any{"partners": names, "from": now.AddDate(0, -1, 0), "until": now.AddDate(1, 0, 0),
		"tlp_ceiling": "green", "types": []string{"report"}, "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"})
	a, err := detente.ParseAgreement(doc)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := n.AddAgreement(ctx, a); err != nil {
		b.Fatal(err)
	}
	return names
}

// pull returns partner's TAXII page of up to limit objects.
func pull(b testing.TB, src taxii.Source, partner string, limit int) []taxii.Record {
	recs, _, err := src.Records(context.Background(), taxii.Caller{Partner: partner, CanRead: true}, node.CollectionShared, taxii.Query{Limit: limit})
	if err != nil {
		b.Fatal(err)
	}
	return recs
}

// BenchmarkTAXIIPageFingerprint: a partner's TAXII page of 100 reports of
// 27 marks each, fingerprinted (each a new copy: every iteration is
// another partner's first pull, its records and openings written with the
// page's release event) or the same reports unmarked. The difference per
// object is what fingerprinting adds (target: under 1 ms). Run with
// -benchtime=100x: past 100 iterations partners pull again and reuse
// their copies' commitments.
func BenchmarkTAXIIPageFingerprint(b *testing.B) {
	for _, plain := range []bool{true, false} {
		name := "fingerprinted"
		if plain {
			name = "plain"
		}
		b.Run(name, func(b *testing.B) {
			n := newNode(b, "alpha")
			partners := benchPartners(b, n, 100)
			if _, err := n.Ingest(context.Background(), benchReports(100, 25, plain), node.IngestOptions{Fingerprint: !plain}); err != nil {
				b.Fatal(err)
			}
			src := n.TAXIISource()
			i := 0
			for b.Loop() {
				if recs := pull(b, src, partners[i%len(partners)], 100); len(recs) != 100 {
					b.Fatalf("page of %d", len(recs))
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(100*b.N), "µs/object")
		})
	}
}

// BenchmarkTrace1000x100 traces one partner's copy of one report against
// 1,000 fingerprinted reports released to 100 partners (100,000 records)
// in a running node (target: under 1 s). With DETENTE_BENCH_DIR set the
// node is built there and kept, with the leak in leak.json, to time
// 'detente leak trace --dir DIR DIR/leak.json' in a new process.
func BenchmarkTrace1000x100(b *testing.B) {
	ctx := context.Background()
	dir := os.Getenv("DETENTE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "alpha")
	}
	var n *node.Node
	if _, err := os.Stat(filepath.Join(dir, "leak.json")); err == nil {
		if n, err = nodetest.Open(ctx, dir, nil); err != nil {
			b.Fatal(err)
		}
	} else {
		if _, err := nodetest.Init(ctx, dir, "alpha"); err != nil {
			b.Fatal(err)
		}
		if n, err = nodetest.Open(ctx, dir, nil); err != nil {
			b.Fatal(err)
		}
		partners := benchPartners(b, n, 100)
		if _, err := n.Ingest(ctx, benchReports(1000, 25, false), node.IngestOptions{Fingerprint: true}); err != nil {
			b.Fatal(err)
		}
		src := n.TAXIISource()
		var leaked []byte
		for i, p := range partners {
			recs := pull(b, src, p, 1000)
			if len(recs) != 1000 {
				b.Fatalf("%s got %d", p, len(recs))
			}
			if i == 7 {
				leaked = recs[500].Raw
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "leak.json"), leaked, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	defer n.Close()
	leaked, err := os.ReadFile(filepath.Join(dir, "leak.json"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := n.Leak.Trace(ctx, leaked)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Suspects) != 1 || res.Suspects[0].Partner != "p007" || res.Recipients != 100 {
			b.Fatalf("suspects %+v of %d", res.Suspects, res.Recipients)
		}
	}
}
