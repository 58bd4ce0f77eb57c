package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"detente/internal/corroboration"
)

func curationCommands() []*command {
	return []*command{
		define(command{
			name: "partner report",
			args: "NAME",
			summary: "the curation report on a partner: what it shares by type, topic, region and month, the share nobody independent corroborates, " +
				"its terrorist labels no other authority lists, and what others dispute",
			example: "detente partner report --dir /var/lib/detente bravo\ndetente partner report --dir /var/lib/detente --json bravo",
			hasJSON: true,
		}, nil, runPartnerReport),
	}
}

func runPartnerReport(ctx context.Context, e *env, _ *noArgs) error {
	if err := e.wantArgs(1, "one partner NAME"); err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	r, err := n.Corroboration.Report(ctx, e.args[0])
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, r)
	}
	printCuration(e, r)
	return nil
}

// printCuration writes the curation report for people.
func printCuration(e *env, r *corroboration.Report) {
	w := e.stdout
	fmt.Fprintf(w, "Curation report on %s: %d objects held that %s originated\n", r.Partner, r.Objects, r.Partner)
	counts := func(title string, cs []corroboration.Count) {
		if len(cs) == 0 {
			fmt.Fprintf(w, "\n%s: none\n", title)
			return
		}
		var parts []string
		for i, c := range cs {
			if i == 12 {
				parts = append(parts, fmt.Sprintf("… %d more", len(cs)-i))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %d", c.Key, c.Count))
		}
		fmt.Fprintf(w, "\n%s: %s\n", title, strings.Join(parts, ", "))
	}
	counts("By type", r.ByType)
	counts("By topic", r.ByTopic)
	counts("By region", r.ByRegion)
	counts("By month", r.ByMonth)
	fmt.Fprintf(w, "\nSingle-source: %d of the %d objects that assert a value (%.0f %%) are corroborated by no independent source\n",
		r.SingleSource, r.Asserting, 100*r.SingleSourceShare)
	fmt.Fprintf(w, "\nTerrorist labels: %d, of which %d (%.0f %%) no other authority lists (checked against: %s)\n",
		len(r.Labels), r.LabelsAlone, 100*r.LabelsAloneShr, orNone(strings.Join(r.Authorities, ", ")))
	if len(r.Labels) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LABEL\tKIND\tHELD BY\tALSO NAMED BY")
		for _, l := range r.Labels {
			held := strings.Join(l.HeldBy, ",")
			if l.Alone {
				held = "no other authority"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", shorten(l.Name, 50), l.Kind, held, orDash(strings.Join(l.NamedBy, ",")))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nDisputed: %d\n", len(r.Contradicted))
	if len(r.Contradicted) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOW\tBY\tOBJECT\tDETAIL")
		for _, c := range r.Contradicted {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.How, c.By, c.ID, shorten(c.Detail, 60))
		}
		tw.Flush()
	}
}

func orNone(s string) string {
	if s == "" {
		return "no lists loaded"
	}
	return s
}
