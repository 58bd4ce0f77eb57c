package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
)

func partnerCommands() []*command {
	return []*command{
		define(command{
			name:    "partner add",
			summary: "add a partner node, pinned by its public key",
			example: "detente partner add --dir /var/lib/detente --name bravo --key detente-node:3q2+7w... --url https://bravo.example:8443",
		}, partnerAddFlags, runPartnerAdd),
		define(command{
			name:    "partner list",
			summary: "list partners and their state",
			example: "detente partner list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runPartnerList),
		partnerStateCommand("suspend", detente.PartnerSuspended),
		partnerStateCommand("resume", detente.PartnerActive),
	}
}

type partnerAddArgs struct{ name, key, url string }

func partnerAddFlags(a *partnerAddArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "local name for the partner (required)")
	fs.StringVar(&a.key, "key", "", "the partner's public key, as 'detente key' prints it (required)")
	fs.StringVar(&a.url, "url", "", "the partner node's base URL (https://…)")
}

func runPartnerAdd(ctx context.Context, e *env, a *partnerAddArgs) error {
	if a.name == "" || a.key == "" {
		return usagef("--name and --key are required")
	}
	k, err := detente.ParsePublicKey(a.key)
	if err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.AddPartner(ctx, a.name, k, a.url)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added partner %s (%s)\n", p.Name, p.Key)
	return nil
}

func runPartnerList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ps, err := n.Partners(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if ps == nil {
			ps = []*detente.Partner{}
		}
		return printJSON(e.stdout, ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(e.stdout, "no partners yet: add one with 'detente partner add'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tURL\tKEY")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.State, p.URL, p.Key)
	}
	return tw.Flush()
}

type partnerStateArgs struct {
	name, reason string
	state        detente.PartnerState
}

// partnerStateCommand is "partner suspend" or "partner resume".
func partnerStateCommand(verb string, state detente.PartnerState) *command {
	return define(command{
		name:    "partner " + verb,
		summary: verb + " a partner, with a reason that is logged",
		example: fmt.Sprintf("detente partner %s --dir /var/lib/detente --name bravo --reason 'liaison review'", verb),
	}, func(a *partnerStateArgs, fs *flag.FlagSet) {
		a.state = state
		fs.StringVar(&a.name, "name", "", "the partner (required)")
		fs.StringVar(&a.reason, "reason", "", "why (required, logged)")
	}, runPartnerState)
}

func runPartnerState(ctx context.Context, e *env, a *partnerStateArgs) error {
	if a.name == "" || a.reason == "" {
		return usagef("--name and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.SetPartnerState(ctx, a.name, a.state, a.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "partner %s is now %s\n", p.Name, p.State)
	return nil
}
