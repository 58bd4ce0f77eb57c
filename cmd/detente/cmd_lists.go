package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/lists"
	"detente/internal/screen"
	"detente/internal/screening"
)

func listsCommands() []*command {
	return []*command{
		define(command{
			name:    "lists load",
			args:    "FILE...",
			summary: "load an issue of an authority's designation list; additions, changes and delistings are logged",
			example: "detente lists load --dir /var/lib/detente --authority un consolidated.xml\n" +
				"detente lists load --dir /var/lib/detente --authority ofac sdn.csv add.csv alt.csv sdn_comments.csv\n" +
				"detente lists load --dir /var/lib/detente --authority bravo bravo-designations.csv   # generic CSV, docs/lists.md",
			hasJSON: true,
		}, listsLoadFlags, runListsLoad),
		define(command{
			name:    "lists fetch",
			summary: "download an authority's current official list and load it",
			example: "detente lists fetch --dir /var/lib/detente --authority un\n" +
				"detente lists fetch --dir /var/lib/detente --authority ofac --url https://mirror.example/SDN.CSV --url … (4 files: SDN, ADD, ALT, SDN_COMMENTS)",
			hasJSON: true,
		}, listsFetchFlags, runListsFetch),
		define(command{
			name:    "lists share",
			summary: "publish an authority's designations as signed STIX identities, so partners whose agreements cover identities receive them",
			example: "detente lists share --dir /var/lib/detente --authority alpha --tlp green",
			hasJSON: true,
		}, listsShareFlags, runListsShare),
		define(command{
			name:    "lists show",
			summary: "show the lists the node holds: active and delisted entries per authority",
			example: "detente lists show --dir /var/lib/detente",
			hasJSON: true,
		}, nil, runListsShow),
		define(command{
			name:    "lists compare",
			args:    "AUTHORITY...",
			summary: "show where authorities' lists agree and diverge: listed by all, some, one; scope differences; a pairwise matrix",
			example: "detente lists compare --dir /var/lib/detente un ofac eu",
			hasJSON: true,
		}, nil, runListsCompare),
	}
}

// listsLoadArgs are what lists load and lists fetch take.
type listsLoadArgs struct {
	authority string
	urls      multiFlag // fetch only
	allowMass bool
}

func massDelistingFlag(a *listsLoadArgs, fs *flag.FlagSet) {
	fs.BoolVar(&a.allowMass, "allow-mass-delisting", false,
		fmt.Sprintf("load an issue that delists more than %d %% of the authority's active entries (refused by default: a file cut short looks like that)", screening.MassDelistingPercent))
}

func listsLoadFlags(a *listsLoadArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.authority, "authority", "", "un, ofac, eu, or any name for the generic CSV format (required)")
	massDelistingFlag(a, fs)
}

func runListsLoad(ctx context.Context, e *env, a *listsLoadArgs) error {
	if a.authority == "" || len(e.args) == 0 {
		return usagef("--authority and at least one FILE are required")
	}
	files := e.args
	if a.authority == lists.AuthorityOFAC {
		files = ofacOrder(files)
	}
	var in []lists.File
	for _, f := range files {
		b, err := readInput(e, f, lists.MaxListSize)
		if err != nil {
			return err
		}
		in = append(in, lists.File{Name: f, Body: bytes.NewReader(b)})
	}
	fmt.Fprintf(e.stderr, "parsing %d file(s)…\n", len(files))
	ds, err := lists.Loader{}.Load(a.authority, in...)
	if err != nil {
		return detente.Errorf(detente.EINVALID, "%v; nothing was loaded", err)
	}
	return loadList(ctx, e, a.authority, ds, screening.ListLoadOptions{AllowMassDelisting: a.allowMass})
}

func listsFetchFlags(a *listsLoadArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.authority, "authority", "", "un, ofac or eu (required)")
	fs.Var(&a.urls, "url", "download from here instead of the authority's published address (repeatable, in the order the format needs)")
	massDelistingFlag(a, fs)
}

func runListsFetch(ctx context.Context, e *env, a *listsLoadArgs) error {
	var src *lists.Source
	for _, s := range lists.DefaultSources() {
		if s.Authority == a.authority {
			src = &s
		}
	}
	if src == nil {
		return usagef("--authority must be un, ofac or eu")
	}
	if len(a.urls) > 0 {
		src.URLs = a.urls
	}
	fmt.Fprintf(e.stderr, "downloading %d file(s) for %s…\n", len(src.URLs), a.authority)
	ds, err := lists.Fetch(ctx, &http.Client{Timeout: 5 * time.Minute}, *src)
	if err != nil {
		return detente.Errorf(detente.EUNAVAILABLE, "%v; nothing was loaded", err)
	}
	return loadList(ctx, e, a.authority, ds, screening.ListLoadOptions{AllowMassDelisting: a.allowMass})
}

type listsShareArgs struct{ authority, tlp string }

func listsShareFlags(a *listsShareArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.authority, "authority", "", "whose designations to share, usually this node's own name (required)")
	fs.StringVar(&a.tlp, "tlp", "green", "the TLP marking of the shared designations")
}

func runListsShare(ctx context.Context, e *env, a *listsShareArgs) error {
	if a.authority == "" {
		return usagef("--authority is required")
	}
	tlp, err := detente.ParseTLP(a.tlp)
	if err != nil {
		return badFlag("tlp", a.tlp, "want clear, green, amber, amber+strict or red", "clear", "green", "amber", "amber+strict", "red")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.ShareList(ctx, a.authority, detente.MarkingOfTLP(tlp))
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "%d designations published as STIX identities (%d new versions); partners receive them at their next sync\n", res.Added+res.Unchanged, res.Added)
	return nil
}

func runListsShow(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ls, err := n.Screening.Lists(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ls)
	}
	if len(ls) == 0 {
		fmt.Fprintln(e.stdout, "no lists yet: load one with 'detente lists load' or 'detente lists fetch'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AUTHORITY\tACTIVE\tDELISTED\tIDENTIFIERS")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", l.Authority, l.Active, l.Delisted, l.Identifiers)
	}
	return tw.Flush()
}

func runListsCompare(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	last := -1
	r, err := n.Screening.CompareListsProgress(ctx, e.args, func(done, total int) {
		if pct := done * 100 / max(total, 1); pct != last && (pct%5 == 0 || done == total) {
			last = pct
			fmt.Fprintf(e.stderr, "\rresolving entities across lists… %d%% of %d designations", pct, total)
		}
	})
	if last >= 0 {
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, r)
	}
	printReport(e.stdout, r)
	return nil
}

// ofacOrder puts OFAC's legacy files in the order the loader reads them
// (SDN, ADD, ALT, SDN_COMMENTS), recognising them by name.
func ofacOrder(files []string) []string {
	if len(files) != 4 {
		return files
	}
	rank := func(f string) int {
		b := strings.ToLower(filepath.Base(f))
		switch {
		case strings.Contains(b, "comments"):
			return 3
		case strings.HasPrefix(b, "add"):
			return 1
		case strings.HasPrefix(b, "alt"):
			return 2
		}
		return 0
	}
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

func loadList(ctx context.Context, e *env, authority string, ds []detente.Designation, opts screening.ListLoadOptions) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	fmt.Fprintf(e.stderr, "loading %d designations of %s…\n", len(ds), authority)
	res, err := n.Screening.LoadList(ctx, authority, ds, opts)
	if err != nil {
		return err
	}
	if e.json {
		res.Changes = nil
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "%s: %d designations; %d added, %d changed, %d delisted since the previous issue\n", authority, res.Total, res.Added, res.Changed, res.Removed)
	return nil
}

func printReport(w io.Writer, r *screen.Report) {
	fmt.Fprintf(w, "authorities: %s\nentities listed by all: %d, by some: %d, by one: %d\n", strings.Join(r.Authorities, ", "), r.ListedByAll, r.ListedBySome, r.ListedByOne)
	for _, a := range r.Authorities {
		fmt.Fprintf(w, "  only %s: %d\n", a, r.OnlyBy[a])
	}
	fmt.Fprintln(w, "\npairwise (both / only first / only second):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range r.Pairs {
		fmt.Fprintf(tw, "  %s × %s\t%d\t%d\t%d\n", p.A, p.B, p.Both, p.OnlyA, p.OnlyB)
	}
	tw.Flush()
	if len(r.Scope) > 0 {
		fmt.Fprintf(w, "\ndifferences of scope (%d):\n", len(r.Scope))
		for _, s := range r.Scope {
			fmt.Fprintf(w, "  - %s\n", s.Sentence())
		}
	} else {
		fmt.Fprintln(w, "\nno difference of scope with evidence that both entries are one organisation")
	}
	var all []screen.Entity
	for _, e := range r.Entities {
		if e.Agreement == screen.ListedByAll {
			all = append(all, e)
		}
	}
	if len(all) > 0 {
		fmt.Fprintf(w, "\nlisted by all (%d%s):\n", len(all), map[bool]string{true: ", the first 20", false: ""}[len(all) > 20])
		for _, e := range all[:min(len(all), 20)] {
			var ms []string
			for _, m := range e.Members {
				ms = append(ms, fmt.Sprintf("%s %s %q", m.Authority, m.EntityID, m.Name))
			}
			fmt.Fprintf(w, "  - %s\n", strings.Join(ms, "; "))
		}
	}
	fmt.Fprintln(w, "\n(--json gives every entity with its members)")
}
