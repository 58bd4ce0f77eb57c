package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"detente"
	"detente/internal/matching"
	"detente/internal/psi"
)

func matchCommands() []*command {
	return []*command{
		define(command{
			name: "watchlist add",
			args: "FILE",
			summary: "add selectors to a watchlist (created if new) that partners may match against privately; " +
				"FILE holds one selector per line, or for persons a CSV with columns name,dob; '-' reads stdin",
			example: "detente watchlist add --dir /var/lib/detente --name passports --type document --tlp amber passports.txt\n" +
				"  where passports.txt holds one document per line: UTO:L898902C3, or a TD3 MRZ written on one line\n" +
				"detente watchlist add --dir /var/lib/detente --name persons --type person persons.csv\n" +
				"  where persons.csv holds: name,dob / Sergei Lavrov,1950-03-21",
			hasJSON: true,
		}, watchlistAddFlags, runWatchlistAdd),
		define(command{
			name:    "watchlist list",
			summary: "list the watchlists (name, type, marking, size; never their values)",
			example: "detente watchlist list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runWatchlistList),
		define(command{
			name:    "watchlist remove",
			summary: "remove a watchlist",
			example: "detente watchlist remove --dir /var/lib/detente --name passports",
		}, watchlistRemoveFlags, runWatchlistRemove),
		define(command{
			name: "match",
			args: "FILE",
			summary: "learn which of your selectors are on a partner's watchlists (or how many), revealing nothing else; " +
				"FILE as for 'watchlist add'",
			example: "detente match --dir /var/lib/detente --partner bravo --type phone numbers.txt\n" +
				"detente match --dir /var/lib/detente --partner bravo --type wallet --mode count wallets.txt --json",
			hasJSON: true,
		}, matchFlags, runMatch),
		define(command{
			name:    "match budget",
			summary: "show each partner's use of its private-matching budget, per period",
			example: "detente match budget --dir /var/lib/detente",
			hasJSON: true,
		}, nil, runMatchBudget),
	}
}

// selectorTypeHelp is the help of --type.
const selectorTypeHelp = "selector type: person, document, phone, email, wallet, file-hash, account, url (required)"

// readSelectors reads the selectors of type t in file ('-' for stdin) and
// reports every bad line on stderr as FILE:LINE: reason.
func readSelectors(e *env, file string, t psi.Type) ([]matching.SelectorLine, []matching.LineError, error) {
	data, err := readInput(e, file, matching.MaxWatchlistFile)
	if err != nil {
		return nil, nil, err
	}
	sels, bad := matching.ParseSelectorFile(t, data)
	for _, b := range bad {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", file, b.Line, b.Err)
	}
	return sels, bad, nil
}

type watchlistAddArgs struct {
	name, typ, tlp string
	skipInvalid    bool
}

func watchlistAddFlags(a *watchlistAddArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the watchlist's name (required)")
	fs.StringVar(&a.typ, "type", "", selectorTypeHelp)
	fs.StringVar(&a.tlp, "tlp", "amber", "the watchlist's marking: partners whose agreement's ceiling is below it do not match against it")
	fs.BoolVar(&a.skipInvalid, "skip-invalid", false, "store the valid selectors even if some lines are invalid")
}

func runWatchlistAdd(ctx context.Context, e *env, a *watchlistAddArgs) error {
	if err := e.wantArgs(1, "one FILE (or - for stdin)"); err != nil {
		return err
	}
	if a.name == "" || a.typ == "" {
		return usagef("--name and --type are required")
	}
	t, err := matching.ParseSelectorType(a.typ)
	if err != nil {
		return usagef("%s", detente.ErrorMessage(err))
	}
	tlp, err := detente.ParseTLP(a.tlp)
	if err != nil {
		return usagef("--tlp: %s", detente.ErrorMessage(err))
	}
	file := e.args[0]
	sels, bad, err := readSelectors(e, file, t)
	if err != nil {
		return err
	}
	if len(bad) > 0 && !a.skipInvalid {
		return detente.Errorf(detente.EINVALID, "%d invalid line(s) in %s (listed above); nothing stored: fix them or use --skip-invalid", len(bad), file)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Matching.AddToWatchlist(ctx, a.name, t, tlp, sels)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, map[string]any{"watchlist": res, "invalid": len(bad)})
	}
	fmt.Fprintf(e.stdout, "watchlist %s (%s, TLP:%s): %d added, %d already on it, %d invalid skipped; %d entries\n",
		res.Name, res.Type, strings.ToUpper(res.Marking.String()), res.Added, res.Unchanged, len(bad), res.Entries)
	return nil
}

func runWatchlistList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ws, err := n.Matching.Watchlists(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if ws == nil {
			ws = []matching.WatchlistSummary{}
		}
		return printJSON(e.stdout, ws)
	}
	if len(ws) == 0 {
		fmt.Fprintln(e.stdout, "no watchlists: add one with 'detente watchlist add'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tMARKING\tENTRIES\tUPDATED")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\tTLP:%s\t%d\t%s\n", w.Name, w.Type, strings.ToUpper(w.Marking.String()), w.Entries, w.Updated.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

type watchlistRemoveArgs struct{ name string }

func watchlistRemoveFlags(a *watchlistRemoveArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the watchlist's name (required)")
}

func runWatchlistRemove(ctx context.Context, e *env, a *watchlistRemoveArgs) error {
	if a.name == "" {
		return usagef("--name is required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Matching.RemoveWatchlist(ctx, a.name); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "watchlist %s removed\n", a.name)
	return nil
}

type matchArgs struct{ partner, typ, mode string }

func matchFlags(a *matchArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.partner, "partner", "", "the partner whose watchlists to match against (required)")
	fs.StringVar(&a.typ, "type", "", selectorTypeHelp)
	fs.StringVar(&a.mode, "mode", detente.MatchQuery, "query (VOPRF against the partner's encoded watchlist), bulk (one-off set intersection) or count (the intersection's size only)")
}

func runMatch(ctx context.Context, e *env, a *matchArgs) error {
	if err := e.wantArgs(1, "one FILE (or - for stdin)"); err != nil {
		return err
	}
	if a.partner == "" || a.typ == "" {
		return usagef("--partner and --type are required")
	}
	t, err := matching.ParseSelectorType(a.typ)
	if err != nil {
		return usagef("%s", detente.ErrorMessage(err))
	}
	switch a.mode {
	case detente.MatchQuery, detente.MatchBulk, detente.MatchCount:
	default:
		return usagef("--mode must be query, bulk or count")
	}
	file := e.args[0]
	sels, bad, err := readSelectors(e, file, t)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return detente.Errorf(detente.EINVALID, "%d invalid line(s) in %s (listed above); nothing sent", len(bad), file)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Matching.Match(ctx, matching.Request{Partner: a.partner, Type: t, Mode: a.mode, Selectors: sels})
	if detente.ErrorCode(err) == detente.EDENIED {
		fmt.Fprintf(e.stderr, "detente match: refused: %s\n", detente.ErrorMessage(err))
		return errDenied
	}
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, res)
	}
	if res.Count != nil {
		fmt.Fprintf(e.stdout, "%d of your %d selectors are on %s's watchlists\n", *res.Count, len(sels), a.partner)
	} else {
		fmt.Fprintf(e.stdout, "%d of your %d selectors are on %s's watchlists", len(res.Matches), len(sels), a.partner)
		if len(res.Matches) > 0 {
			fmt.Fprint(e.stdout, ":")
		}
		fmt.Fprintln(e.stdout)
		for _, m := range res.Matches {
			fmt.Fprintf(e.stdout, "  %s\n", m)
		}
	}
	fmt.Fprintf(e.stdout, "cost: %d evaluations (%s's budget for this period: %d of %d used)\n", res.Cost, a.partner, res.Used, res.Limit)
	return nil
}

func runMatchBudget(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	bs, err := n.Matching.Budgets(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if bs == nil {
			bs = []*matching.Budget{}
		}
		return printJSON(e.stdout, bs)
	}
	if len(bs) == 0 {
		fmt.Fprintln(e.stdout, "no partner has matched against this node's watchlists")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tPERIOD\tUSED\tLIMIT\tQUERIES\tEXCHANGES\tREFUSED")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s to %s\t%d\t%d\t%d\t%d\t%d\n", b.Partner, b.PeriodStart.Format("2006-01-02 15:04"), b.PeriodEnd.Format("2006-01-02 15:04"),
			b.Used, b.Limit, b.Queries, b.Exchanges, b.Refused)
	}
	return tw.Flush()
}
