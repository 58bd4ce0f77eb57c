package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/screen"
)

func screenCommands() []*command {
	return []*command{
		define(command{
			name:    "screen",
			args:    `"NAME"`,
			summary: "screen a name (any script) against every authority's designations; or a CSV batch, one JSON line per row",
			example: `detente screen --dir /var/lib/detente "Sergej Lawrow" --dob 1950-03-21 --type person` + "\n" +
				"detente screen --dir /var/lib/detente --batch names.csv --json > results.jsonl   # columns: name[,dob,type,country]",
			hasJSON: true,
		}, screenFlags, runScreen),
		define(command{
			name:    "names compare",
			noDir:   true,
			args:    `"NAME1" "NAME2"`,
			summary: "score two names, with the match decision at the default threshold and the explanation",
			example: `detente names compare "Сергей Лавров" "Sergej Lawrow" --json`,
			hasJSON: true,
		}, namesCompareFlags, runNamesCompare),
	}
}

type screenArgs struct {
	dob, typ, country, batch string
	limit                    int
}

func screenFlags(a *screenArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.dob, "dob", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
	fs.StringVar(&a.typ, "type", "", "person or organization")
	fs.StringVar(&a.country, "country", "", "nationality or country, e.g. SY")
	fs.StringVar(&a.batch, "batch", "", "a CSV file with a name column (and optional dob, type, country); '-' for stdin")
	fs.IntVar(&a.limit, "limit", 10, "at most this many results per name")
}

func runScreen(ctx context.Context, e *env, a *screenArgs) error {
	if a.batch == "" && len(e.args) != 1 || a.batch != "" && len(e.args) != 0 {
		return usagef(`give one "NAME" or --batch FILE`)
	}
	if err := checkQueryFlags(a.typ, a.dob); err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if a.batch != "" {
		return screenBatch(ctx, e, n.Screening, a.batch, a.limit)
	}
	q, err := query(e.args[0], a.dob, a.typ, a.country)
	if err != nil {
		return err
	}
	hits, err := n.Screening.Screen(ctx, q, a.limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, hits)
	}
	printHits(e.stdout, q.Name, hits)
	return nil
}

type namesCompareArgs struct{ typ string }

func namesCompareFlags(a *namesCompareArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.typ, "type", "", "person or organization")
}

func runNamesCompare(_ context.Context, e *env, a *namesCompareArgs) error {
	if len(e.args) != 2 {
		return usagef(`expected two names in quotes`)
	}
	if err := checkQueryFlags(a.typ, ""); err != nil {
		return err
	}
	qa, err := query(e.args[0], "", a.typ, "")
	if err != nil {
		return err
	}
	qb, _ := query(e.args[1], "", a.typ, "")
	r := screen.Compare(qa, qb)
	if e.json {
		return printJSON(e.stdout, r)
	}
	verdict := "NO MATCH"
	if r.Match {
		verdict = "MATCH"
	}
	fmt.Fprintf(e.stdout, "%s: score %.3f (threshold %.2f)\n%s\n", verdict, r.Score, r.Threshold, r.Explanation)
	return nil
}

// entityTypes are the --type values (and the batch's type column) and
// what they mean.
var entityTypes = map[string]detente.EntityType{
	"person": detente.EntityPerson, "individual": detente.EntityPerson,
	"organization": detente.EntityOrganization, "organisation": detente.EntityOrganization, "entity": detente.EntityOrganization,
}

// Why a type or date of birth is refused.
const (
	wantType = "want person or organization"
	wantDOB  = "want a date of birth: YYYY, YYYY-MM or YYYY-MM-DD"
)

// validDOB reports whether s is a date of birth the screening reads:
// YYYY, YYYY-MM or YYYY-MM-DD, a real date. Anything else would be
// ignored, silently.
func validDOB(s string) bool {
	for _, layout := range []string{"2006", "2006-01", "2006-01-02"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// checkQueryFlags checks the --type and --dob flags.
func checkQueryFlags(typ, dob string) error {
	if _, ok := entityTypes[typ]; typ != "" && !ok {
		return badFlag("type", typ, wantType, "person", "organization")
	}
	if dob != "" && !validDOB(dob) {
		return badFlag("dob", dob, wantDOB)
	}
	return nil
}

// query builds a screening query. A type or date of birth it cannot read
// is an error naming the field: a batch row's (the flags are checked
// before, by checkQueryFlags).
func query(name, dob, typ, country string) (screen.Query, error) {
	q := screen.Query{Name: name}
	if typ != "" {
		t, ok := entityTypes[typ]
		if !ok {
			return q, detente.Errorf(detente.EINVALID, "type %q: %s%s", typ, wantType, detente.DidYouMean(typ, []string{"person", "organization"}))
		}
		q.Type = t
	}
	if dob != "" {
		if !validDOB(dob) {
			return q, detente.Errorf(detente.EINVALID, "dob %q: %s", dob, wantDOB)
		}
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
