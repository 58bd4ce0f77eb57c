package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
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
	var authority, dob, typ, country, batch, tlpName string
	var urls multiFlag
	var limit int
	var allowMass bool
	massFlag := func(fs *flag.FlagSet) {
		fs.BoolVar(&allowMass, "allow-mass-delisting", false,
			fmt.Sprintf("load an issue that delists more than %d %% of the authority's active entries (refused by default: a file cut short looks like that)", screening.MassDelistingPercent))
	}
	return []*command{{
		name:    "lists load",
		args:    "FILE...",
		summary: "load an issue of an authority's designation list; additions, changes and delistings are logged",
		example: "detente lists load --dir /var/lib/detente --authority un consolidated.xml\n" +
			"detente lists load --dir /var/lib/detente --authority ofac sdn.csv add.csv alt.csv sdn_comments.csv\n" +
			"detente lists load --dir /var/lib/detente --authority bravo bravo-designations.csv   # generic CSV, docs/lists.md",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&authority, "authority", "", "un, ofac, eu, or any name for the generic CSV format (required)")
			massFlag(fs)
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if authority == "" || fs.NArg() == 0 {
				return usagef("--authority and at least one FILE are required")
			}
			files := fs.Args()
			if authority == lists.AuthorityOFAC {
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
			ds, err := lists.Loader{}.Load(authority, in...)
			if err != nil {
				return detente.Errorf(detente.EINVALID, "%v; nothing was loaded", err)
			}
			return loadList(ctx, e, authority, ds, screening.ListLoadOptions{AllowMassDelisting: allowMass})
		},
	}, {
		name:    "lists fetch",
		summary: "download an authority's current official list and load it",
		example: "detente lists fetch --dir /var/lib/detente --authority un\n" +
			"detente lists fetch --dir /var/lib/detente --authority ofac --url https://mirror.example/SDN.CSV --url … (4 files: SDN, ADD, ALT, SDN_COMMENTS)",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&authority, "authority", "", "un, ofac or eu (required)")
			fs.Var(&urls, "url", "download from here instead of the authority's published address (repeatable, in the order the format needs)")
			massFlag(fs)
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			var src *lists.Source
			for _, s := range lists.DefaultSources() {
				if s.Authority == authority {
					src = &s
				}
			}
			if src == nil {
				return usagef("--authority must be un, ofac or eu")
			}
			if len(urls) > 0 {
				src.URLs = urls
			}
			fmt.Fprintf(e.stderr, "downloading %d file(s) for %s…\n", len(src.URLs), authority)
			ds, err := lists.Fetch(ctx, &http.Client{Timeout: 5 * time.Minute}, *src)
			if err != nil {
				return detente.Errorf(detente.EUNAVAILABLE, "%v; nothing was loaded", err)
			}
			return loadList(ctx, e, authority, ds, screening.ListLoadOptions{AllowMassDelisting: allowMass})
		},
	}, {
		name:    "lists share",
		summary: "publish an authority's designations as signed STIX identities, so partners whose agreements cover identities receive them",
		example: "detente lists share --dir /var/lib/detente --authority alpha --tlp green",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&authority, "authority", "", "whose designations to share, usually this node's own name (required)")
			fs.StringVar(&tlpName, "tlp", "green", "the TLP marking of the shared designations")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if authority == "" {
				return usagef("--authority is required")
			}
			tlp, err := detente.ParseTLP(tlpName)
			if err != nil {
				return usagef("%s", detente.ErrorMessage(err))
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.ShareList(ctx, authority, detente.MarkingOfTLP(tlp))
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, res)
			}
			fmt.Fprintf(e.stdout, "%d designations published as STIX identities (%d new versions); partners receive them at their next sync\n", res.Added+res.Unchanged, res.Added)
			return nil
		},
	}, {
		name:    "lists show",
		summary: "show the lists the node holds: active and delisted entries per authority",
		example: "detente lists show --dir /var/lib/detente",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
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
			fmt.Fprintln(tw, "AUTHORITY\tACTIVE\tDELISTED")
			for _, l := range ls {
				fmt.Fprintf(tw, "%s\t%d\t%d\n", l.Authority, l.Active, l.Delisted)
			}
			return tw.Flush()
		},
	}, {
		name:    "lists compare",
		args:    "AUTHORITY...",
		summary: "show where authorities' lists agree and diverge: listed by all, some, one; scope differences; a pairwise matrix",
		example: "detente lists compare --dir /var/lib/detente un ofac eu",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			fmt.Fprintln(e.stderr, "resolving entities across lists…")
			r, err := n.Screening.CompareLists(ctx, fs.Args())
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, r)
			}
			printReport(e.stdout, r)
			return nil
		},
	}, {
		name:    "screen",
		args:    `"NAME"`,
		summary: "screen a name (any script) against every authority's designations; or a CSV batch, one JSON line per row",
		example: `detente screen --dir /var/lib/detente "Sergej Lawrow" --dob 1950-03-21 --type person` + "\n" +
			"detente screen --dir /var/lib/detente --batch names.csv --json > results.jsonl   # columns: name[,dob,type,country]",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dob, "dob", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
			fs.StringVar(&typ, "type", "", "person or organization")
			fs.StringVar(&country, "country", "", "nationality or country, e.g. SY")
			fs.StringVar(&batch, "batch", "", "a CSV file with a name column (and optional dob, type, country); '-' for stdin")
			fs.IntVar(&limit, "limit", 10, "at most this many results per name")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if (batch == "") == (fs.NArg() != 1) {
				return usagef(`give one "NAME" or --batch FILE`)
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			if batch != "" {
				return screenBatch(ctx, e, n.Screening, batch, limit)
			}
			q, err := query(fs.Arg(0), dob, typ, country)
			if err != nil {
				return err
			}
			hits, err := n.Screening.Screen(ctx, q, limit)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, hits)
			}
			printHits(e.stdout, q.Name, hits)
			return nil
		},
	}, {
		name:    "names compare",
		noDir:   true,
		args:    `"NAME1" "NAME2"`,
		summary: "score two names, with the match decision at the default threshold and the explanation",
		example: `detente names compare "Сергей Лавров" "Sergej Lawrow" --json`,
		hasJSON: true,
		flags:   func(fs *flag.FlagSet) { fs.StringVar(&typ, "type", "", "person or organization") },
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if fs.NArg() != 2 {
				return usagef(`expected two names in quotes`)
			}
			a, err := query(fs.Arg(0), "", typ, "")
			if err != nil {
				return err
			}
			b, _ := query(fs.Arg(1), "", typ, "")
			r := screen.Compare(a, b)
			if e.json {
				return printJSON(e.stdout, r)
			}
			verdict := "NO MATCH"
			if r.Match {
				verdict = "MATCH"
			}
			fmt.Fprintf(e.stdout, "%s: score %.3f (threshold %.2f)\n%s\n", verdict, r.Score, r.Threshold, r.Explanation)
			return nil
		},
	}}
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

func query(name, dob, typ, country string) (screen.Query, error) {
	q := screen.Query{Name: name}
	switch typ {
	case "":
	case "person", "individual":
		q.Type = detente.EntityPerson
	case "organization", "organisation", "entity":
		q.Type = detente.EntityOrganization
	default:
		return q, usagef("--type must be person or organization")
	}
	if dob != "" {
		q.DatesOfBirth = []string{dob}
	}
	if country != "" {
		q.Nationalities = []string{country}
	}
	return q, nil
}

// screenBatch screens every row of a CSV and writes one JSON line per row,
// in input order.
func screenBatch(ctx context.Context, e *env, n interface {
	Screen(context.Context, screen.Query, int) ([]screen.Hit, error)
}, file string, limit int) error {
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return detente.Errorf(detente.EINVALID, "cannot read %s: %v", file, err)
		}
		defer f.Close()
		r = f
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return detente.Errorf(detente.EINVALID, "%s: no header row: %v", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["name"]; !ok {
		return detente.Errorf(detente.EINVALID, "%s: the header has no name column", file)
	}
	get := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	enc := json.NewEncoder(e.stdout)
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return detente.Errorf(detente.EINVALID, "%s: %v", file, err)
		}
		line := map[string]any{"row": row, "name": get(rec, "name")}
		q, qerr := query(get(rec, "name"), get(rec, "dob"), get(rec, "type"), get(rec, "country"))
		var hits []screen.Hit
		if qerr == nil {
			hits, qerr = n.Screen(ctx, q, limit)
		}
		if qerr != nil {
			line["error"] = errorText(qerr)
		} else {
			line["results"] = hits
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
		if row%1000 == 0 {
			fmt.Fprintf(e.stderr, "\rscreened %d rows", row)
		}
	}
}

func printHits(w io.Writer, name string, hits []screen.Hit) {
	if len(hits) == 0 {
		fmt.Fprintf(w, "no designation resembles %q\n", name)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tMATCH\tAUTHORITY\tENTITY\tLISTED\tREGIME\tMATCHED NAME")
	for _, h := range hits {
		m := ""
		if h.Match {
			m = "yes"
		}
		fmt.Fprintf(tw, "%.3f\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Score, m, h.Authority, h.EntityID, h.ListedOn, h.Regime, h.Name)
	}
	tw.Flush()
	if hits[0].Match {
		fmt.Fprintf(w, "\nwhy the best hit matches: %s\n", hits[0].Result.Explanation)
	}
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
		fmt.Fprintln(w, "\nscope differs:")
		for _, s := range r.Scope {
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, "  %s\n", b)
		}
	}
}
