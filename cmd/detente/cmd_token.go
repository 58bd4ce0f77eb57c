package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
)

func tokenCommands() []*command {
	return []*command{
		define(command{
			name:    "token create",
			summary: "create a bearer token for a local user; prints the secret alone on the last line",
			example: "TOKEN=$(detente token create --dir /var/lib/detente --role analyst --label 'desk 3' | tail -1)",
		}, tokenCreateFlags, runTokenCreate),
		define(command{
			name:    "token list",
			summary: "list tokens (never their secrets)",
			example: "detente token list --dir /var/lib/detente",
			hasJSON: true,
		}, nil, runTokenList),
		define(command{
			name:    "token revoke",
			args:    "TOKEN-ID",
			summary: "revoke a token at once",
			example: "detente token revoke --dir /var/lib/detente tok_3f2a9c0d11aa",
		}, nil, runTokenRevoke),
	}
}

type tokenCreateArgs struct{ role, label string }

func tokenCreateFlags(a *tokenCreateArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.role, "role", "", "admin, analyst or auditor (required)")
	fs.StringVar(&a.label, "label", "", "who or what the token is for")
}

func runTokenCreate(ctx context.Context, e *env, a *tokenCreateArgs) error {
	roles := []string{string(detente.RoleAdmin), string(detente.RoleAnalyst), string(detente.RoleAuditor)}
	if a.role == "" {
		return usagef("--role is required: admin, analyst or auditor")
	}
	r, err := detente.ParseRole(a.role)
	if err != nil {
		return badFlag("role", a.role, "want admin, analyst or auditor", roles...)
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	t, secret, err := n.CreateToken(ctx, r, a.label)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created token %s (role %s); keep the secret, it is not shown again:\n%s\n", t.ID, t.Role, secret)
	return nil
}

// tokenJSON is what token list --json prints of a token.
type tokenJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Label   string `json:"label"`
	Created string `json:"created"`
	Revoked bool   `json:"revoked"`
}

func runTokenList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ts, err := n.Tokens(ctx)
	if err != nil {
		return err
	}
	if e.json {
		out := []tokenJSON{}
		for _, t := range ts {
			out = append(out, tokenJSON{t.ID, string(t.Role), t.Label, t.Created.Format("2006-01-02T15:04:05Z"), t.Revoked})
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tLABEL\tCREATED\tSTATE")
	for _, t := range ts {
		state := "live"
		if t.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Label, t.Created.Format("2006-01-02 15:04"), state)
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, e *env, _ *noArgs) error {
	if err := e.wantArgs(1, "one token id"); err != nil {
		return err
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.RevokeToken(ctx, e.args[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", e.args[0])
	return nil
}
