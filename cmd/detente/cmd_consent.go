package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"detente"
)

func consentCommands() []*command {
	return []*command{
		define(command{
			name:    "consent issue",
			summary: "as originator, consent to a third partner receiving an object (or a whole report) from whoever holds it",
			example: "detente consent issue --dir /var/lib/detente --object report--3c1f... --to charlie --scope report --until 720h",
			hasJSON: true,
		}, consentIssueFlags, runConsentIssue),
		define(command{
			name:    "consent revoke",
			summary: "withdraw a consent this node issued, with a logged reason",
			example: "detente consent revoke --dir /var/lib/detente --id consent--5b2e... --reason 'operation compromised'",
		}, consentRevokeFlags, runConsentRevoke),
		define(command{
			name:    "consent list",
			summary: "list consents issued and received",
			example: "detente consent list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runConsentList),
	}
}

type consentIssueArgs struct {
	object, to, scope string
	until             time.Duration
}

func consentIssueFlags(a *consentIssueArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.object, "object", "", "the object (or report) this node originated (required)")
	fs.StringVar(&a.to, "to", "", "the partner allowed to receive it (required)")
	fs.StringVar(&a.scope, "scope", detente.ConsentObject, "object, or report for the report and everything in it")
	fs.DurationVar(&a.until, "until", 0, "how long the consent lasts (default: until revoked)")
}

func runConsentIssue(ctx context.Context, e *env, a *consentIssueArgs) error {
	if a.object == "" || a.to == "" {
		return usagef("--object and --to are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	var end time.Time
	if a.until > 0 {
		end = time.Now().Add(a.until)
	}
	c, err := n.Federation.IssueConsent(ctx, a.object, a.to, a.scope, end)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, c)
	}
	fmt.Fprintf(e.stdout, "consent for %s to receive %s; partners holding it fetch it at their next sync\n%s\n", a.to, a.object, c.ID)
	return nil
}

type consentRevokeArgs struct{ id, reason string }

func consentRevokeFlags(a *consentRevokeArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.id, "id", "", "the consent id (required)")
	fs.StringVar(&a.reason, "reason", "", "why (required, logged)")
}

func runConsentRevoke(ctx context.Context, e *env, a *consentRevokeArgs) error {
	if a.id == "" || a.reason == "" {
		return usagef("--id and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Federation.RevokeConsent(ctx, a.id, a.reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", a.id)
	return nil
}

// consentJSON is a consent as consent list --json prints it: with its
// revocation, which the consent's own JSON leaves out.
type consentJSON struct {
	*detente.Consent
	Revoked bool `json:"revoked"`
}

func runConsentList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	cs, err := n.Federation.Consents(ctx)
	if err != nil {
		return err
	}
	if e.json {
		out := []consentJSON{}
		for _, c := range cs {
			out = append(out, consentJSON{c, c.Revoked})
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOBJECT\tSCOPE\tORIGINATOR\tRECIPIENT\tSTATE")
	for _, c := range cs {
		state := "valid"
		if c.Revoked {
			state = "revoked: " + c.RevokedReason
		} else if !c.Valid(time.Now()) {
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Object, c.Scope, c.Originator, c.Recipient, state)
	}
	return tw.Flush()
}
