package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"detente"
	"detente/internal/corroboration"
	"detente/internal/node"
)

// maxIngest bounds a bundle read by 'detente ingest'.
const maxIngest = 1 << 30

func objectCommands() []*command {
	return []*command{
		define(command{
			name:    "ingest",
			args:    "FILE|-",
			summary: "validate and store a STIX 2.1 object or bundle, atomically (or, with --partial, its valid objects; exit 1 if any was rejected); signs what arrives unsigned",
			example: "detente ingest --dir /var/lib/detente --grading B2 report.json\ncat bundle.json | detente ingest --dir /var/lib/detente -\ndetente ingest --dir /var/lib/detente --partial misp-export.json\n" +
				"detente ingest --dir /var/lib/detente --fingerprint marked-report.json",
			hasJSON: true,
		}, ingestFlags, runIngest),
		define(command{
			name:    "object list",
			summary: "list stored objects (latest versions): type, name, originator, modified, corroboration; newest (most recently stored) first",
			example: "detente object list --dir /var/lib/detente --type indicator --limit 20",
			hasJSON: true,
		}, objectListFlags, runObjectList),
		define(command{
			name:    "object show",
			args:    "ID",
			summary: "print every version of an object, with what the node records about each and who else corroborates it",
			example: "detente object show --dir /var/lib/detente --json indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
			hasJSON: true,
		}, nil, runObjectShow),
	}
}

type ingestArgs struct {
	grading     string
	fingerprint bool
	partial     bool
}

func ingestFlags(a *ingestArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.grading, "grading", "", "Admiralty grading for objects this node signs, e.g. B2")
	fs.BoolVar(&a.fingerprint, "fingerprint", false, "accept fingerprint markup ([[a|b]], {{canary:…}}, docs/trace.md): each partner gets a copy of its own")
	fs.BoolVar(&a.partial, "partial", false, "store the valid objects and report the others (invalid, badly signed, conflicting) instead of refusing the bundle")
}

func runIngest(ctx context.Context, e *env, a *ingestArgs) error {
	if err := e.wantArgs(1, "one FILE (or - for stdin)"); err != nil {
		return err
	}
	opts := node.IngestOptions{Fingerprint: a.fingerprint, Partial: a.partial}
	if a.grading != "" {
		g, err := detente.ParseGrading(a.grading)
		if err != nil {
			return badFlag("grading", a.grading, "want a letter A-F and a digit 1-6, such as B2")
		}
		opts.Grading = g
	}
	data, err := readInput(e, e.args[0], maxIngest)
	if err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if !e.json {
		opts.Progress = func(done, total int) { fmt.Fprintf(e.stderr, "\ringest: %d%%", 100*done/total) }
	}
	res, err := n.Ingest(ctx, data, opts)
	if opts.Progress != nil && len(data) > 1<<20 {
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		return err
	}
	if e.json {
		if err := printJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%d added, %d already stored", res.Added, res.Unchanged)
		if res.Quarantined > 0 {
			fmt.Fprintf(e.stdout, ", %d quarantined", res.Quarantined)
		}
		if res.Rejected > 0 {
			fmt.Fprintf(e.stdout, ", %d rejected", res.Rejected)
		}
		fmt.Fprintln(e.stdout)
		for _, o := range res.Objects {
			switch o.Status {
			case node.IngestQuarantined:
				fmt.Fprintf(e.stdout, "quarantined: %s: %s\n", o.ID, o.Reason)
			case node.IngestRejected:
				fmt.Fprintf(e.stdout, "rejected: object %d %s: %s\n", *o.Index, o.ID, o.Reason)
			}
			if o.Marks > 0 {
				fmt.Fprintf(e.stdout, "fingerprinted: %s: %d marks\n", o.ID, o.Marks)
			}
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
	}
	if res.Rejected > 0 {
		return errVerifyFailed // stored what was valid; the rest is reported
	}
	return nil
}

type objectListArgs struct {
	typ   string
	limit int
}

func objectListFlags(a *objectListArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.typ, "type", "", "only objects of this STIX type")
	fs.IntVar(&a.limit, "limit", 100, "at most this many")
}

func runObjectList(ctx context.Context, e *env, a *objectListArgs) error {
	// A custom type may have any name, but a misspelt STIX type would
	// list nothing, silently.
	if a.typ != "" && !detente.IsSTIXType(a.typ) && detente.DidYouMean(a.typ, detente.STIXTypes()) != "" {
		return badFlag("type", a.typ, "not a STIX type", detente.STIXTypes()...)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	f := detente.ObjectFilter{LatestOnly: true}
	if a.typ != "" {
		f.Types = []string{a.typ}
	}
	objs, err := n.NewestObjects(ctx, f, a.limit)
	if err != nil {
		return err
	}
	cs, err := n.Corroboration.Of(ctx, objs)
	if err != nil {
		return err
	}
	if e.json {
		out := make([]objectSummary, 0, len(objs))
		for i, o := range objs {
			s := summarise(o)
			s.Corroboration = &cs[i]
			out = append(out, s)
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNAME\tORIGINATOR\tMODIFIED\tGRADING\tMARKINGS\tCORROBORATION\tID")
	for i, o := range objs {
		s := summarise(o)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Type, orDash(shorten(s.Name, 60)), orDash(originatorText(s)), orDash(s.Modified),
			orDash(s.Grading), orDash(strings.Join(s.Markings, ",")), corroborationText(cs[i]), s.ID)
	}
	return tw.Flush()
}

// orDash is s, or "-" for an empty table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func runObjectShow(ctx context.Context, e *env, _ *noArgs) error {
	if err := e.wantArgs(1, "one object ID"); err != nil {
		return err
	}
	id := e.args[0]
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	vs, err := n.ObjectVersions(ctx, id)
	if err != nil {
		return err
	}
	type version struct {
		objectSummary
		Object any `json:"object"`
	}
	cs, err := n.Corroboration.Of(ctx, vs)
	if err != nil {
		return err
	}
	out := make([]version, 0, len(vs))
	for i, v := range vs {
		s := summarise(v)
		s.Corroboration = &cs[i]
		out = append(out, version{s, rawJSON(v.Raw)})
	}
	// The versions are JSON with or without --json: the object is.
	return printJSON(e.stdout, out)
}

// objectSummary is what listings show of one version.
type objectSummary struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Name is the object's name, or an SCO's value; "" when it has
	// neither.
	Name       string `json:"name"`
	Modified   string `json:"modified"`
	Originator string `json:"originator"`
	// Relayed is set for a copy another node relayed (signed by it, with a
	// statement naming the originator): the originator's word only as far
	// as the relay can be trusted.
	Relayed    bool     `json:"relayed,omitempty"`
	Signer     string   `json:"signer,omitempty"`
	Grading    string   `json:"grading,omitempty"`
	Markings   []string `json:"markings"`
	Quarantine string   `json:"quarantine,omitempty"`
	// Corroboration says which other originators assert what the version
	// asserts (internal/corroboration).
	Corroboration *corroboration.Corroboration `json:"corroboration,omitempty"`
}

// corroborationText is the CORROBORATION cell of a listing: "-" for a
// version that asserts nothing the index knows, "single-source", or the
// independent sources.
func corroborationText(c corroboration.Corroboration) string {
	switch {
	case c.Assertions == 0:
		return "-"
	case c.SingleSource:
		return "single-source"
	}
	return shorten(strings.Join(c.IndependentSources, ","), 40)
}

// originatorText is the ORIGINATOR cell of a listing: a relayed copy says
// so.
func originatorText(s objectSummary) string {
	if s.Relayed && s.Originator != "" {
		return s.Originator + " (relayed)"
	}
	return s.Originator
}

func summarise(o *detente.ObjectVersion) objectSummary {
	s := objectSummary{ID: o.ID, Type: o.Type, Name: nameOf(o.Raw), Originator: o.Originator, Grading: o.Grading.String(),
		Quarantine: o.Quarantine, Markings: []string{}, Relayed: o.Relayed()}
	if !o.Modified.IsZero() {
		s.Modified = o.Modified.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if o.Signer != nil {
		s.Signer = o.Signer.String()
	}
	for _, m := range o.Markings {
		if t, ok := detente.TLPOfMarking(m); ok {
			s.Markings = append(s.Markings, "TLP:"+strings.ToUpper(t.String()))
		} else {
			s.Markings = append(s.Markings, m)
		}
	}
	return s
}

// nameOf returns what people call the object in raw: its name, or for an
// SCO without one its value (a domain, an address, a URL).
func nameOf(raw []byte) string {
	var o struct {
		Name  any `json:"name"`
		Value any `json:"value"`
	}
	json.Unmarshal(raw, &o) // stored objects are valid JSON; a miss leaves ""
	for _, v := range []any{o.Name, o.Value} {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
