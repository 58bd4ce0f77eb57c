package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"detente"
)

func agreementCommands() []*command {
	return []*command{
		define(command{
			name:    "agreement add",
			args:    "FILE",
			summary: "add an agreement from a JSON file (docs/agreements.md); '-' reads stdin",
			example: `detente agreement add --dir /var/lib/detente bravo.json
  where bravo.json holds:
  {"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z",
   "tlp_ceiling": "amber", "types": ["indicator", "report", "threat-actor", "identity", "relationship"],
   "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`,
			hasJSON: true,
		}, nil, runAgreementAdd),
		define(command{
			name:    "agreement list",
			summary: "list agreements (latest version of each)",
			example: "detente agreement list --dir /var/lib/detente",
			hasJSON: true,
		}, nil, runAgreementList),
		agreementStateCommand("suspend", detente.AgreementSuspended),
		agreementStateCommand("resume", detente.AgreementActive),
		agreementStateCommand("end", detente.AgreementEnded),
	}
}

func runAgreementAdd(ctx context.Context, e *env, _ *noArgs) error {
	if err := e.wantArgs(1, "one agreement FILE (or - for stdin)"); err != nil {
		return err
	}
	data, err := readInput(e, e.args[0], detente.MaxAgreementSize)
	if err != nil {
		return err
	}
	a, err := detente.ParseAgreement(data)
	if err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if a, err = n.AddAgreement(ctx, a); err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, a)
	}
	fmt.Fprintf(e.stdout, "added agreement with %s, %s to %s, ceiling TLP:%s\n%s\n",
		strings.Join(a.Partners, ", "), a.From.Format("2006-01-02"), a.Until.Format("2006-01-02"), strings.ToUpper(a.TLPCeiling.String()), a.ID)
	return nil
}

func runAgreementList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	as, err := n.Agreements(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if as == nil {
			as = []*detente.Agreement{}
		}
		return printJSON(e.stdout, as)
	}
	if len(as) == 0 {
		fmt.Fprintln(e.stdout, "no agreements yet: add one with 'detente agreement add'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPARTNERS\tSTATE\tWINDOW\tCEILING\tONWARD\tVERSION")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s..%s\tTLP:%s\t%s\t%d\n", a.ID, strings.Join(a.Partners, ","), a.State,
			a.From.Format("2006-01-02"), a.Until.Format("2006-01-02"), strings.ToUpper(a.TLPCeiling.String()), a.OnwardSharing, a.Version)
	}
	return tw.Flush()
}

type agreementStateArgs struct {
	id, reason string
	state      detente.AgreementState
}

// agreementStateCommand is "agreement suspend", "resume" or "end".
func agreementStateCommand(verb string, state detente.AgreementState) *command {
	return define(command{
		name:    "agreement " + verb,
		summary: verb + " an agreement (a new version, with a logged reason)",
		example: fmt.Sprintf("detente agreement %s --dir /var/lib/detente --id agreement--6f1c... --reason 'leak under investigation'", verb),
	}, func(a *agreementStateArgs, fs *flag.FlagSet) {
		a.state = state
		fs.StringVar(&a.id, "id", "", "the agreement id (required)")
		fs.StringVar(&a.reason, "reason", "", "why (required, logged)")
	}, runAgreementState)
}

func runAgreementState(ctx context.Context, e *env, a *agreementStateArgs) error {
	if a.id == "" || a.reason == "" {
		return usagef("--id and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ag, err := n.SetAgreementState(ctx, a.id, a.state, a.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "agreement %s is now %s (version %d)\n", ag.ID, ag.State, ag.Version)
	return nil
}

// readInput reads a file, or stdin for "-", refusing more than limit bytes.
func readInput(e *env, name string, limit int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "cannot read %s: %v", name, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "cannot read %s: %v", name, err)
	}
	if int64(len(data)) > limit {
		return nil, detente.Errorf(detente.ETOOLARGE, "%s is over %d bytes", name, limit)
	}
	return data, nil
}
