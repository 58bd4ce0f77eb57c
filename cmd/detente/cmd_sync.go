package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/federation"
)

func syncCommands() []*command {
	var partner, object, to, scope, reason, id string
	var until time.Duration
	return []*command{{
		name:    "sync",
		summary: "pull once from every active partner (or one), with progress; exit 1 if any pull failed",
		example: "detente sync --dir /var/lib/detente --partner bravo",
		hasJSON: true,
		flags:   func(fs *flag.FlagSet) { fs.StringVar(&partner, "partner", "", "only this partner") },
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			progress := func(r federation.SyncResult) {
				if !e.json {
					fmt.Fprintf(e.stderr, "\r%s: %d pages, %d added, %d quarantined, %d rejected", r.Partner, r.Pages, r.Added, r.Quarantined, r.Rejected)
				}
			}
			var results []*federation.SyncResult
			if partner != "" {
				r, _ := n.Federation.Sync(ctx, partner, progress)
				results = append(results, r)
			} else if results, err = n.Federation.SyncAll(ctx, progress); err != nil {
				return err
			}
			failed := false
			for _, r := range results {
				failed = failed || r.Error != ""
			}
			if e.json {
				if results == nil {
					results = []*federation.SyncResult{}
				}
				if err := printJSON(e.stdout, results); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(e.stderr)
				if len(results) == 0 {
					fmt.Fprintln(e.stdout, "no active partner with a URL to sync from")
				}
				for _, r := range results {
					status := "ok"
					if r.Error != "" {
						status = "FAILED: " + r.Error
					}
					fmt.Fprintf(e.stdout, "%s: %d added, %d already held, %d quarantined, %d rejected — %s\n", r.Partner, r.Added, r.Unchanged, r.Quarantined, r.Rejected, status)
				}
			}
			if failed {
				return errVerifyFailed
			}
			return nil
		},
	}, {
		name:    "partner status",
		summary: "show each partner's state and sync status (last success, cursor, counts, errors)",
		example: "detente partner status --dir /var/lib/detente --json",
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
			ss, err := n.Federation.SyncStates(ctx)
			if err != nil {
				return err
			}
			type row struct {
				Name  string             `json:"name"`
				State string             `json:"state"`
				URL   string             `json:"url"`
				Sync  *detente.SyncState `json:"sync"`
			}
			rows := make([]row, len(ps))
			for i, p := range ps {
				rows[i] = row{p.Name, string(p.State), p.URL, ss[i]}
			}
			if e.json {
				return printJSON(e.stdout, rows)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PARTNER\tSTATE\tLAST SUCCESS\tCURSOR\tRECEIVED\tQUARANTINED\tREJECTED\tERRORS")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d %s\n", r.Name, r.State, when(r.Sync.LastSuccess), when(r.Sync.Cursor),
					r.Sync.Received, r.Sync.Quarantined, r.Sync.Rejected, r.Sync.Errors, r.Sync.LastError)
			}
			return tw.Flush()
		},
	}, {
		name:    "consent issue",
		summary: "as originator, consent to a third partner receiving an object (or a whole report) from whoever holds it",
		example: "detente consent issue --dir /var/lib/detente --object report--3c1f... --to charlie --scope report --until 720h",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&object, "object", "", "the object (or report) this node originated (required)")
			fs.StringVar(&to, "to", "", "the partner allowed to receive it (required)")
			fs.StringVar(&scope, "scope", detente.ConsentObject, "object, or report for the report and everything in it")
			fs.DurationVar(&until, "until", 0, "how long the consent lasts (default: until revoked)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if object == "" || to == "" {
				return usagef("--object and --to are required")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			var end time.Time
			if until > 0 {
				end = time.Now().Add(until)
			}
			c, err := n.Federation.IssueConsent(ctx, object, to, scope, end)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, c)
			}
			fmt.Fprintf(e.stdout, "consent for %s to receive %s; partners holding it fetch it at their next sync\n%s\n", to, object, c.ID)
			return nil
		},
	}, {
		name:    "consent revoke",
		summary: "withdraw a consent this node issued, with a logged reason",
		example: "detente consent revoke --dir /var/lib/detente --id consent--5b2e... --reason 'operation compromised'",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "the consent id (required)")
			fs.StringVar(&reason, "reason", "", "why (required, logged)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if id == "" || reason == "" {
				return usagef("--id and --reason are required")
			}
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			if err := n.Federation.RevokeConsent(ctx, id, reason); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked %s\n", id)
			return nil
		},
	}, {
		name:    "consent list",
		summary: "list consents issued and received",
		example: "detente consent list --dir /var/lib/detente --json",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
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
				type cj struct {
					*detente.Consent
					Revoked bool `json:"revoked"`
				}
				out := []cj{}
				for _, c := range cs {
					out = append(out, cj{c, c.Revoked})
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
		},
	}}
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
