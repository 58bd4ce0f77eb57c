package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"detente"
	"detente/internal/leak"
	"detente/internal/trace"
)

func leakCommands() []*command {
	return []*command{
		define(command{
			name:    "leak trace",
			args:    "FILE|- ...",
			summary: "trace a leaked object, bundle or text to the partners whose fingerprinted copies it was made from",
			example: "detente leak trace --dir /var/lib/detente leaked.json\n" +
				"detente leak trace --dir /var/lib/detente --evidence evidence.json --for bravo pasted.txt",
			hasJSON: true,
		}, leakTraceFlags, runLeakTrace),
		define(command{
			name:    "leak verify",
			args:    "FILE|-",
			summary: "check leak evidence offline against the key of the node that wrote it; exit status 1 when it does not hold",
			example: "detente leak verify --key detente-node:9c1… evidence.json",
			noDir:   true,
			hasJSON: true,
		}, leakVerifyFlags, runLeakVerify),
	}
}

// maxFoundShown bounds the releases found that the human output lists.
const maxFoundShown = 10

type leakTraceArgs struct {
	evidence string
	forList  string
}

func leakTraceFlags(a *leakTraceArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.evidence, "evidence", "", "write the evidence about the suspects (or the --for partners) to this file, for 'detente leak verify'")
	fs.StringVar(&a.forList, "for", "", "comma-separated partners the evidence is about (default: the suspects)")
}

func runLeakTrace(ctx context.Context, e *env, a *leakTraceArgs) error {
	if len(e.args) == 0 {
		return usagef("expected one or more FILEs (or - for stdin): the leaked documents")
	}
	if a.forList != "" && a.evidence == "" {
		return usagef("--for names the partners of the evidence: give --evidence OUT too")
	}
	var docs [][]byte
	total := 0
	for _, name := range e.args {
		d, err := readInput(e, name, trace.MaxLeak)
		if err != nil {
			return err
		}
		total += len(d)
		docs = append(docs, d)
	}
	if total > trace.MaxLeak {
		return detente.Errorf(detente.ETOOLARGE, "the leaked documents hold %d bytes: at most %d are traced", total, trace.MaxLeak)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Leak.Trace(ctx, docs...)
	if err != nil {
		return err
	}
	if a.evidence != "" {
		var partners []string
		for p := range strings.SplitSeq(a.forList, ",") {
			if p = strings.TrimSpace(p); p != "" {
				partners = append(partners, p)
			}
		}
		ev, err := n.Leak.Evidence(ctx, res, partners...)
		if err != nil {
			return err
		}
		if err := os.WriteFile(a.evidence, ev, 0o600); err != nil {
			return fmt.Errorf("write evidence: %w", err)
		}
	}
	if e.json {
		return printJSON(e.stdout, res)
	}
	if len(res.Objects) == 0 {
		fmt.Fprintln(e.stdout, "no fingerprinted release found in the leak")
		return nil
	}
	// The releases the leak shows most of first.
	found := slices.Clone(res.Objects)
	slices.SortStableFunc(found, func(a, b trace.ObjectMatch) int { return b.Observed - a.Observed })
	for i, o := range found {
		if i == maxFoundShown {
			fmt.Fprintf(e.stdout, "and %d more fingerprinted releases (--json lists them all)\n", len(res.Objects)-i)
			break
		}
		fmt.Fprintf(e.stdout, "found %s (%s): %d of %d positions observed, %d ambiguous", o.Object, o.Version, o.Observed, o.Positions, o.Ambiguous)
		if len(o.Canaries) > 0 {
			fmt.Fprintf(e.stdout, ", canaries %s", strings.Join(o.Canaries, " "))
		}
		fmt.Fprintln(e.stdout)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tSCORE\tMATCHES\tFALSE ACCUSATION BOUND\tACCUSED")
	for _, s := range res.Scores {
		fmt.Fprintf(tw, "%s\t%.1f\t%d/%d\t%s\t%s\n", s.Partner, s.Score.Score, s.Matches, s.Positions, bound(s.Log10Bound), yesNo(s.Accused))
	}
	tw.Flush()
	if len(res.Suspects) == 0 {
		fmt.Fprintf(e.stdout, "nobody accused: no partner's bound is at most %g\n", res.Epsilon)
	}
	if a.evidence != "" {
		fmt.Fprintf(e.stdout, "evidence written to %s (check it with: detente leak verify --key %s %s)\n", a.evidence, n.PublicKey(), a.evidence)
	}
	return nil
}

// bound shows a false-accusation bound from its decimal logarithm, which
// stays exact where the bound underflows.
func bound(log10 float64) string {
	if log10 >= -4 {
		return fmt.Sprintf("%.3g", math.Pow(10, log10))
	}
	return fmt.Sprintf("1e%.1f", log10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

type leakVerifyArgs struct{ key string }

func leakVerifyFlags(a *leakVerifyArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.key, "key", "", "the pinned key of the node that wrote the evidence (detente-node:…)")
}

func runLeakVerify(ctx context.Context, e *env, a *leakVerifyArgs) error {
	if err := e.wantArgs(1, "one FILE (or - for stdin): the evidence"); err != nil {
		return err
	}
	if a.key == "" {
		return usagef("--key is required: the pinned key of the node that wrote the evidence")
	}
	key, err := keyFlag("key", a.key)
	if err != nil {
		return err
	}
	data, err := readInput(e, e.args[0], leak.MaxEvidence)
	if err != nil {
		return err
	}
	rep, err := leak.Verify(data, key)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, map[string]any{"verified": true, "origin": rep.Origin, "tree_size": rep.TreeSize,
			"releases": rep.Releases, "positions": rep.Positions, "observed": rep.Observed, "recipients": rep.Recipients,
			"suspects": rep.Suspects})
	}
	fmt.Fprintf(e.stdout, "evidence verifies: %d releases committed in %s (tree size %d), %d of %d positions observed\n",
		rep.Releases, rep.Origin, rep.TreeSize, rep.Observed, rep.Positions)
	for _, s := range rep.Suspects {
		fmt.Fprintf(e.stdout, "%s: score %.1f, false-accusation bound %s over %d recipients, accused %s\n",
			s.Partner, s.Score.Score, bound(s.Log10Bound), rep.Recipients, yesNo(s.Accused))
	}
	return nil
}
