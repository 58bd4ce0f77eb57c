package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
)

func partnerCommands() []*command {
	var name, key, url, reason string
	stateCmd := func(verb string, state detente.PartnerState) *command {
		return &command{
			name:    "partner " + verb,
			summary: verb + " a partner, with a reason that is logged",
			example: fmt.Sprintf("detente partner %s --dir /var/lib/detente --name bravo --reason 'liaison review'", verb),
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&name, "name", "", "the partner (required)")
				fs.StringVar(&reason, "reason", "", "why (required, logged)")
			},
			run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
				if name == "" || reason == "" {
					return usagef("--name and --reason are required")
				}
				n, err := openNode(ctx, e)
				if err != nil {
					return err
				}
				defer n.Close()
				p, err := n.SetPartnerState(ctx, name, state, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "partner %s is now %s\n", p.Name, p.State)
				return nil
			},
		}
	}
	return []*command{{
		name:    "partner add",
		summary: "add a partner node, pinned by its public key",
		example: "detente partner add --dir /var/lib/detente --name bravo --key detente-node:3q2+7w... --url https://bravo.example:8443",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "local name for the partner (required)")
			fs.StringVar(&key, "key", "", "the partner's public key, as 'detente key' prints it (required)")
			fs.StringVar(&url, "url", "", "the partner node's base URL")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if name == "" || key == "" {
				return usagef("--name and --key are required")
			}
			k, err := detente.ParsePublicKey(key)
			if err != nil {
				return err
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			p, err := n.AddPartner(ctx, name, k, url)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added partner %s (%s)\n", p.Name, p.Key)
			return nil
		},
	}, {
		name:    "partner list",
		summary: "list partners and their state",
		example: "detente partner list --dir /var/lib/detente --json",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
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
		},
	}, stateCmd("suspend", detente.PartnerSuspended), stateCmd("resume", detente.PartnerActive)}
}
