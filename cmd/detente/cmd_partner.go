package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
	"detente/internal/node"
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
		define(command{
			name:    "partner update",
			summary: "change a partner's URL or pinned key, with a reason that is logged; a new key re-pins the partner",
			example: "detente partner update --dir /var/lib/detente --name bravo --key detente-node:9Xk1... --reason 'key rotated after the data-centre move'",
		}, partnerUpdateFlags, runPartnerUpdate),
		define(command{
			name:    "partner remove",
			summary: "end a partnership for good: nothing served or synced, its agreements ended, its history kept",
			example: "detente partner remove --dir /var/lib/detente --name bravo --reason 'programme closed'",
		}, partnerRemoveFlags, runPartnerRemove),
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
	if err := nameFlag("name", a.name); err != nil {
		return err
	}
	k, err := keyFlag("key", a.key)
	if err != nil {
		return err
	}
	if err := urlFlag("url", a.url); err != nil {
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

type partnerUpdateArgs struct {
	name, key, reason string
	url               optionalString
}

func partnerUpdateFlags(a *partnerUpdateArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the partner (required)")
	fs.Var(&a.url, "url", "the partner node's new base `URL` (https://…; '' for none)")
	fs.StringVar(&a.key, "key", "", "the partner's new public key, as 'detente key' prints it: pinned from now on")
	fs.StringVar(&a.reason, "reason", "", "why (required, logged)")
}

func runPartnerUpdate(ctx context.Context, e *env, a *partnerUpdateArgs) error {
	if a.name == "" || a.reason == "" {
		return usagef("--name and --reason are required")
	}
	if !a.url.set && a.key == "" {
		return usagef("nothing to change: give --url, --key or both")
	}
	ch := node.PartnerChange{URL: a.url.ptr()}
	if a.url.set {
		if err := urlFlag("url", a.url.value); err != nil {
			return err
		}
	}
	if a.key != "" {
		k, err := keyFlag("key", a.key)
		if err != nil {
			return err
		}
		ch.Key = k
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.UpdatePartner(ctx, a.name, ch, a.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "updated partner %s: url %s, key %s\n", p.Name, describe(p.URL), p.Key)
	return nil
}

type partnerRemoveArgs struct{ name, reason string }

func partnerRemoveFlags(a *partnerRemoveArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the partner (required)")
	fs.StringVar(&a.reason, "reason", "", "why (required, logged)")
}

func runPartnerRemove(ctx context.Context, e *env, a *partnerRemoveArgs) error {
	if a.name == "" || a.reason == "" {
		return usagef("--name and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	p, ended, err := n.RemovePartner(ctx, a.name, a.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "partner %s is now %s\n", p.Name, p.State)
	for _, ag := range ended {
		fmt.Fprintf(e.stdout, "ended agreement %s (version %d)\n", ag.ID, ag.Version)
	}
	return nil
}
