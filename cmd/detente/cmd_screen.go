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
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/screen"
	"detente/internal/screening"
)

func screenCommands() []*command {
	return []*command{
		define(command{
			name:    "screen",
			args:    `["NAME"]`,
			summary: "screen a name (any script) and identifiers (wallets, documents, IMO, IBAN, BIC, tail numbers) against every authority's designations; or a CSV batch, one JSON line per row",
			example: `detente screen --dir /var/lib/detente "Sergej Lawrow" --dob 1950-03-21 --type person` + "\n" +
				`detente screen --dir /var/lib/detente --wallet XBT:149w62rY42aZBox8fGcmqNsXUzSStKeq8C --document EG:1084010 --imo 9187629` + "\n" +
				"detente screen --dir /var/lib/detente --batch names.csv --json > results.jsonl   # columns: name,dob,type,country,wallet,document,imo,iban,bic,aircraft",
			hasJSON: true,
		}, screenFlags, runScreen),
		define(command{
			name:    "names compare",
			noDir:   true,
			args:    `"NAME1" "NAME2"`,
			summary: "score two names, with the match decision at the threshold (default 0.82) and the explanation",
			example: `detente names compare "Сергей Лавров" "Sergej Lawrow" --json`,
			hasJSON: true,
		}, namesCompareFlags, runNamesCompare),
	}
}

type screenArgs struct {
	dob, typ, country, batch string
	limit                    int
	threshold                float64
	ids                      identifierFlags
}

// identifierFlags collects the repeatable identifier flags of screen.
type identifierFlags struct {
	wallet, document, imo, iban, bic, aircraft multiFlag
}

func screenFlags(a *screenArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.dob, "dob", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
	fs.StringVar(&a.typ, "type", "", "person or organization")
	fs.StringVar(&a.country, "country", "", "nationality or country, e.g. SY")
	fs.StringVar(&a.batch, "batch", "", "a CSV file with a name column and/or identifier columns (wallet, document, imo, iban, bic, aircraft); '-' for stdin")
	fs.IntVar(&a.limit, "limit", 10, "at most this many results per name")
	fs.Float64Var(&a.threshold, "threshold", 0, "the score from which a name is a match, above 0 and at most 1 (default 0.82; see docs/screening.md)")
	fs.Var(&a.ids.wallet, "wallet", "a wallet, CHAIN:ADDRESS (XBT, ETH, TRX, USDT, …); repeatable")
	fs.Var(&a.ids.document, "document", "a passport or national ID, STATE:NUMBER or NUMBER (any state); repeatable")
	fs.Var(&a.ids.imo, "imo", "an IMO ship or company number; repeatable")
	fs.Var(&a.ids.iban, "iban", "an IBAN; repeatable")
	fs.Var(&a.ids.bic, "bic", "a SWIFT/BIC code; repeatable")
	fs.Var(&a.ids.aircraft, "aircraft", "an aircraft registration (tail number); repeatable")
}

func (f *identifierFlags) parse() ([]screen.Identifier, error) {
	var out []screen.Identifier
	for _, k := range screen.QueryKinds {
		var vs multiFlag
		switch k.Name {
		case "wallet":
			vs = f.wallet
		case "document":
			vs = f.document
		case "imo":
			vs = f.imo
		case "iban":
			vs = f.iban
		case "bic":
			vs = f.bic
		case "aircraft":
			vs = f.aircraft
		}
		for _, v := range vs {
			id, err := screen.ParseQuery(k.Name, v)
			if err != nil {
				return nil, usagef("--%s", strings.TrimPrefix(err.Error(), screen.ErrIdentifier.Error()+": "))
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// checkThreshold checks a --threshold flag.
func checkThreshold(t float64) error {
	if t != 0 && screen.CheckThreshold(t) != nil {
		return usagef("--threshold %v: %v", t, screen.ErrThreshold)
	}
	return nil
}

// ScreenResult is what screen --json prints when identifiers are given:
// the name's hits and the identifiers'.
type ScreenResult struct {
	Name        string                    `json:"name,omitempty"`
	Results     []screen.Hit              `json:"results,omitempty"`
	Identifiers []screening.IdentifierHit `json:"identifier_results"`
}

func runScreen(ctx context.Context, e *env, a *screenArgs) error {
	ids, err := a.ids.parse()
	if err != nil {
		return err
	}
	if a.batch == "" && (len(e.args) > 1 || len(e.args) == 0 && len(ids) == 0) || a.batch != "" && (len(e.args) != 0 || len(ids) != 0) {
		return usagef(`give one "NAME", identifiers (--wallet, --document, --imo, --iban, --bic, --aircraft), both, or --batch FILE`)
	}
	if err := checkQueryFlags(a.typ, a.dob); err != nil {
		return err
	}
	if err := checkThreshold(a.threshold); err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if a.batch != "" {
		return screenBatch(ctx, e, n.Screening, a.batch, a.limit, a.threshold)
	}
	var hits []screen.Hit
	var name string
	if len(e.args) == 1 {
		q, err := query(e.args[0], a.dob, a.typ, a.country)
		if err != nil {
			return err
		}
		q.Threshold = a.threshold
		name = q.Name
		if hits, err = n.Screening.Screen(ctx, q, a.limit); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		if e.json {
			return printJSON(e.stdout, hits)
		}
		printHits(e.stdout, name, hits)
		return nil
	}
	idHits, err := n.Screening.ScreenIdentifiers(ctx, ids)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ScreenResult{Name: name, Results: hits, Identifiers: idHits})
	}
	if name != "" {
		printHits(e.stdout, name, hits)
		fmt.Fprintln(e.stdout)
	}
	printIdentifierHits(e.stdout, ids, idHits)
	return nil
}

// printIdentifierHits prints one line per designation carrying a screened
// identifier, with what qualifies the match.
func printIdentifierHits(w io.Writer, ids []screen.Identifier, hits []screening.IdentifierHit) {
	if len(hits) == 0 {
		fmt.Fprintf(w, "no designation carries %s\n", plural(len(ids), "this identifier", "these identifiers"))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTIFIER\tAUTHORITY\tENTITY\tNAME\tBORN\tNATIONALITY\tLISTED AS\tNOTE")
	for _, h := range hits {
		listed := string(h.Listed.Type) + " " + h.Listed.Value
		if h.Listed.Chain != "" {
			listed = h.Listed.Chain + " " + h.Listed.Value
		}
		if h.Listed.Country != "" {
			listed += " (" + h.Listed.Country + ")"
		}
		var note []string
		if h.StateUnconfirmed {
			note = append(note, "state unconfirmed")
		}
		if h.AsWritten {
			note = append(note, "as written (fails its check)")
		}
		if h.Branch {
			note = append(note, "branch of the listed BIC")
		}
		q := h.Query.Value
		if h.Query.Chain != "" {
			q = h.Query.Chain + ":" + q
		} else if h.Query.Country != "" {
			q = h.Query.Country + ":" + q
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q, h.Authority, h.EntityID, h.Name,
			orDash(strings.Join(h.DatesOfBirth, ", ")), orDash(strings.Join(h.Nationalities, ", ")), listed, strings.Join(note, "; "))
	}
	tw.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type namesCompareArgs struct {
	typ       string
	threshold float64
}

func namesCompareFlags(a *namesCompareArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.typ, "type", "", "person or organization")
	fs.Float64Var(&a.threshold, "threshold", 0, "the score from which the names match, above 0 and at most 1 (default 0.82)")
}

func runNamesCompare(_ context.Context, e *env, a *namesCompareArgs) error {
	if len(e.args) != 2 {
		return usagef(`expected two names in quotes`)
	}
	if err := checkQueryFlags(a.typ, ""); err != nil {
		return err
	}
	if err := checkThreshold(a.threshold); err != nil {
		return err
	}
	qa, err := query(e.args[0], "", a.typ, "")
	if err != nil {
		return err
	}
	qa.Threshold = a.threshold
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
// in input order. A row's name is screened by name, its identifier
// columns exactly.
func screenBatch(ctx context.Context, e *env, n *screening.Service, file string, limit int, threshold float64) error {
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
	hasID := slices.ContainsFunc(screen.QueryKinds, func(k struct {
		Name string
		Type screen.IdentifierType
	}) bool {
		_, ok := col[k.Name]
		return ok
	})
	if _, ok := col["name"]; !ok && !hasID {
		return detente.Errorf(detente.EINVALID, "%s: the header has no name column and no identifier column (wallet, document, imo, iban, bic, aircraft)", file)
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
		var ids []screen.Identifier
		var qerr error
		for _, k := range screen.QueryKinds {
			for _, v := range splitItems(get(rec, k.Name)) {
				id, err := screen.ParseQuery(k.Name, v)
				if err != nil && qerr == nil {
					qerr = err
				}
				ids = append(ids, id)
			}
		}
		if qerr == nil && get(rec, "name") != "" {
			var q screen.Query
			if q, qerr = query(get(rec, "name"), get(rec, "dob"), get(rec, "type"), get(rec, "country")); qerr == nil {
				q.Threshold = threshold
				var hits []screen.Hit
				if hits, qerr = n.Screen(ctx, q, limit); qerr == nil {
					line["results"] = hits
				}
			}
		} else if qerr == nil && len(ids) == 0 {
			qerr = detente.Errorf(detente.EINVALID, "no name and no identifier")
		}
		if qerr == nil && len(ids) > 0 {
			var hits []screening.IdentifierHit
			if hits, qerr = n.ScreenIdentifiers(ctx, ids); qerr == nil {
				line["identifier_results"] = hits
			}
		}
		if qerr != nil {
			delete(line, "results")
			line["error"] = errorText(qerr)
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
		if row%1000 == 0 {
			fmt.Fprintf(e.stderr, "\rscreened %d rows", row)
		}
	}
}

// splitItems splits a batch cell holding several values separated by ";".
func splitItems(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
