package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
)

func tokenCommands() []*command {
	var role, label string
	return []*command{{
		name:    "token create",
		summary: "create a bearer token for a local user; prints the secret alone on the last line",
		example: "TOKEN=$(detente token create --dir /var/lib/detente --role analyst --label 'desk 3' | tail -1)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&role, "role", "", "admin, analyst or auditor (required)")
			fs.StringVar(&label, "label", "", "who or what the token is for")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			r, err := detente.ParseRole(role)
			if err != nil {
				return usagef("%s", detente.ErrorMessage(err))
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			t, secret, err := n.CreateToken(ctx, r, label)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created token %s (role %s); keep the secret, it is not shown again:\n%s\n", t.ID, t.Role, secret)
			return nil
		},
	}, {
		name:    "token list",
		summary: "list tokens (never their secrets)",
		example: "detente token list --dir /var/lib/detente",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			var ts []*detente.Token
			if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { ts, err = tx.Tokens(ctx); return }); err != nil {
				return err
			}
			if e.json {
				type tj struct {
					ID      string `json:"id"`
					Role    string `json:"role"`
					Label   string `json:"label"`
					Created string `json:"created"`
					Revoked bool   `json:"revoked"`
				}
				out := []tj{}
				for _, t := range ts {
					out = append(out, tj{t.ID, string(t.Role), t.Label, t.Created.Format("2006-01-02T15:04:05Z"), t.Revoked})
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
		},
	}, {
		name:    "token revoke",
		args:    "TOKEN-ID",
		summary: "revoke a token at once",
		example: "detente token revoke --dir /var/lib/detente tok_3f2a9c0d11aa",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if err := requireArgs(fs, 1, "one token id"); err != nil {
				return err
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.RevokeToken(ctx, fs.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked %s\n", fs.Arg(0))
			return nil
		},
	}}
}
