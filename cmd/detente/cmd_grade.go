package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"detente/internal/ledger"
)

func gradeCommands() []*command {
	return []*command{
		define(command{
			name:    "grade partner",
			summary: "grade a partner as a source, as this node judges it (reliability A-F); signed and logged, beside the originators' own gradings",
			example: "detente grade partner --dir /var/lib/detente --partner bravo --reliability C --note 'relays unverified claims'",
			hasJSON: true,
		}, gradePartnerFlags, runGradePartner),
		define(command{
			name:    "grade object",
			summary: "grade the assertion of an object's newest version, as this node judges it (credibility 1-6); signed and logged, the originator's grading untouched",
			example: "detente grade object --dir /var/lib/detente --object indicator--8e2e... --credibility 4 --note 'no other source'",
			hasJSON: true,
		}, gradeObjectFlags, runGradeObject),
		define(command{
			name:    "grade show",
			summary: "show an object's grading side by side: the originator's, and this node's own",
			example: "detente grade show --dir /var/lib/detente --object indicator--8e2e...",
			hasJSON: true,
		}, gradeShowFlags, runGradeShow),
		define(command{
			name:    "grade list",
			summary: "list this node's own grades of partners and assertions",
			example: "detente grade list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runGradeList),
	}
}

type gradePartnerArgs struct{ partner, reliability, note string }

func gradePartnerFlags(a *gradePartnerArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.partner, "partner", "", "the partner (required)")
	fs.StringVar(&a.reliability, "reliability", "", "A (completely reliable) to F (cannot be judged) (required)")
	fs.StringVar(&a.note, "note", "", "why, for the people who read the grade")
}

func runGradePartner(ctx context.Context, e *env, a *gradePartnerArgs) error {
	if a.partner == "" || a.reliability == "" {
		return usagef("--partner and --reliability are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	g, err := n.Ledger.GradePartner(ctx, a.partner, a.reliability, a.note, "operator (command line)")
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, g)
	}
	fmt.Fprintf(e.stdout, "graded %s as a source: %s\n", g.Partner, g.Reliability)
	return nil
}

type gradeObjectArgs struct {
	object, note string
	credibility  int
}

func gradeObjectFlags(a *gradeObjectArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.object, "object", "", "the STIX id of the object (required)")
	fs.IntVar(&a.credibility, "credibility", 0, "1 (confirmed by other sources) to 6 (cannot be judged) (required)")
	fs.StringVar(&a.note, "note", "", "why, for the people who read the grade")
}

func runGradeObject(ctx context.Context, e *env, a *gradeObjectArgs) error {
	if a.object == "" || a.credibility == 0 {
		return usagef("--object and --credibility are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	g, err := n.Ledger.GradeObject(ctx, a.object, a.credibility, a.note, "operator (command line)")
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, g)
	}
	fmt.Fprintf(e.stdout, "graded %s@%s: credibility %d\n", g.Object, g.Modified.Format(time.RFC3339Nano), g.Credibility)
	return nil
}

type gradeShowArgs struct{ object string }

func gradeShowFlags(a *gradeShowArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.object, "object", "", "the STIX id of the object (required)")
}

func runGradeShow(ctx context.Context, e *env, a *gradeShowArgs) error {
	if a.object == "" {
		return usagef("--object is required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	as, err := n.Ledger.Assess(ctx, a.object)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, as)
	}
	printAssessment(e.stdout, as)
	return nil
}

func printAssessment(w io.Writer, a *ledger.Assessment) {
	orig := a.OriginatorGrading
	if orig == "" {
		orig = "none"
	}
	own := a.OwnGrading
	if own == "" {
		own = "not graded"
	}
	fmt.Fprintf(w, "%s@%s\n", a.Object, a.Modified.Format(time.RFC3339Nano))
	fmt.Fprintf(w, "  originator (%s): %s\n", a.Originator, orig)
	fmt.Fprintf(w, "  this node:        %s\n", own)
	if g := a.Source; g != nil {
		fmt.Fprintf(w, "    source %s graded %s on %s%s\n", g.Partner, g.Reliability, g.Time.Format(time.RFC3339), noteText(g.Note))
	}
	if g := a.Assertion; g != nil {
		fmt.Fprintf(w, "    assertion graded %d on %s%s\n", g.Credibility, g.Time.Format(time.RFC3339), noteText(g.Note))
	}
}

func noteText(n string) string {
	if n == "" {
		return ""
	}
	return ": " + n
}

func runGradeList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	gs, err := n.Ledger.Grades(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if gs == nil {
			gs = []*ledger.Grade{}
		}
		return printJSON(e.stdout, gs)
	}
	if len(gs) == 0 {
		fmt.Fprintln(e.stdout, "no grades")
	}
	for _, g := range gs {
		v := g.Reliability
		if v == "" {
			v = fmt.Sprint(g.Credibility)
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s%s\n", g.Subject, v, g.Time.Format(time.RFC3339), noteText(g.Note))
	}
	return nil
}
