package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"detente/internal/node"
	"detente/internal/stix"
)

// LeakedCopy is the file, in the demo's directory, holding bravo's copy
// of alpha's fingerprinted report as pasted into an e-mail: a leak to
// trace.
const LeakedCopy = "leaked-report.txt"

// fingerprintedReport is alpha's GREEN report with fingerprint markup:
// interchangeable wordings and canary facts (docs/trace.md), so that bravo
// and charlie each receive a copy of their own. Invented for the demo.
func fingerprintedReport(now time.Time) map[string]any {
	t := now.Add(-24 * time.Hour).Truncate(time.Second)
	const ns = "alpha"
	r := with(sdo("report", ns, 20, t, "identity--"+uuid(ns, 1), green),
		"name", "Black Meridian Front: courier [[network|ring]] on the northern coast",
		"published", ts(t), "report_types", []string{"threat-actor"},
		"object_refs", []string{"threat-actor--" + uuid(ns, 2), "indicator--" + uuid(ns, 3)})
	lines := []string{
		"Over the past month the group [[recruited|enlisted|signed up]] at least four couriers [[through|via]] its propaganda channel.",
		"The couriers [[travel|move]] in pairs and [[avoid|steer clear of]] the main ports.",
		"Payments are [[made|sent]] in small amounts, [[usually|typically]] below the reporting threshold.",
		"One courier was [[observed|seen]] [[meeting|with]] a fishing-boat owner [[near|close to]] the estuary.",
		"The boat owner [[appears|seems]] to be [[unaware|ignorant]] of the cargo.",
		"Our [[assessment|judgement]] is that the network [[will|is likely to]] [[expand|grow]] before the summer.",
		"[[Partners|Recipients]] are [[asked|requested]] to [[report|share]] any contact with the handle below.",
		"The group's implants beacon to {{canary:subdomain:sinkhole.northmark.example}}; about {{canary:number:120~10%}} devices called in at {{canary:time:" + ts(t.Add(-6*time.Hour)) + "~15m}}.",
		"The [[handlers|organisers]] [[use|rely on]] [[prepaid|pay-as-you-go]] phones and [[change|replace]] them [[weekly|every week]].",
		"[[Further|More]] reporting will [[follow|come]] as the [[investigation|inquiry]] [[continues|progresses]].",
	}
	r["description"] = strings.Join(lines, " ")
	return r
}

// fingerprint ingests alpha's fingerprinted report and writes bravo's
// copy, as pasted into an e-mail, to LeakedCopy.
func (d *Demo) fingerprint(ctx context.Context) error {
	alpha := d.Agencies[0]
	b, _ := json.Marshal(fingerprintedReport(time.Now().UTC()))
	res, err := alpha.Node.Ingest(ctx, b, node.IngestOptions{Fingerprint: true})
	if err != nil {
		return fmt.Errorf("demo: fingerprinted report: %w", err)
	}
	d.markedID = res.Objects[0].ID
	// bravo's copy, as it receives it (the same bytes its pull gets).
	rel, err := alpha.Node.Release(ctx, d.markedID, "bravo")
	if err != nil {
		return fmt.Errorf("demo: release to bravo: %w", err)
	}
	if !rel.Decision.Allowed {
		return fmt.Errorf("demo: the fingerprinted report may not go to bravo: %v", rel.Decision.Reasons)
	}
	objs, err := stix.ParseBundle(rel.Bundle)
	if err != nil {
		return fmt.Errorf("demo: bravo's copy: %w", err)
	}
	for _, o := range objs {
		if o.ID == d.markedID {
			name, _ := o.Fields["name"].(string)
			desc, _ := o.Fields["description"].(string)
			mail := "From: a.reader@example.org\nSubject: Fwd: " + name + "\n\nInteresting, see below. Don't spread it.\n\n> " +
				strings.ReplaceAll(wrap(desc, 72), "\n", "\n> ") + "\n"
			return os.WriteFile(filepath.Join(d.Dir, LeakedCopy), []byte(mail), 0o644)
		}
	}
	return fmt.Errorf("demo: bravo's bundle lacks the report")
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// printLeak tells the reader how to trace the leaked copy.
func (d *Demo) printLeak(w io.Writer) {
	a := d.Agencies[0]
	leaked := filepath.Join(d.Dir, LeakedCopy)
	evidence := filepath.Join(d.Dir, "leak-evidence.json")
	fmt.Fprintf(w, `
Leak attribution: alpha's GREEN report %[1]s is fingerprinted: bravo and charlie
each received a copy of their own (other wordings, another sinkhole host). %[2]s
holds bravo's copy pasted into an e-mail. Trace it, write the evidence, and check
that evidence offline as bravo would, with alpha's key only:
  go run ./cmd/detente leak trace --dir %[3]s %[2]s
  go run ./cmd/detente leak trace --dir %[3]s --evidence %[4]s %[2]s
  go run ./cmd/detente leak verify --key %[5]s %[4]s
or paste the text on alpha's console page /trace.
`, d.markedID, leaked, a.Dir, evidence, a.Node.PublicKey())
}
