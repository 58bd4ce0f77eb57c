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
	return []*command{
		define(command{
			name:    "sync",
			summary: "pull once from every active partner (or one), with progress; exit 1 if any pull failed",
			example: "detente sync --dir /var/lib/detente --partner bravo",
			hasJSON: true,
		}, syncFlags, runSync),
		define(command{
			name:    "partner status",
			summary: "show each partner's state and sync status (last success, cursor, counts, errors)",
			example: "detente partner status --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runPartnerStatus),
	}
}

type syncArgs struct{ partner string }

func syncFlags(a *syncArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.partner, "partner", "", "only this partner")
}

func runSync(ctx context.Context, e *env, a *syncArgs) error {
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
	if a.partner != "" {
		// The error is in the result, and a pass that failed is what the
		// exit status reports.
		r, err := n.Federation.Sync(ctx, a.partner, progress)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return err // no partner of that name: an error, not a pass that failed
		}
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
}

// partnerStatus is a row of partner status.
type partnerStatus struct {
	Name  string             `json:"name"`
	State string             `json:"state"`
	URL   string             `json:"url"`
	Sync  *detente.SyncState `json:"sync"`
}

func runPartnerStatus(ctx context.Context, e *env, _ *noArgs) error {
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
	byName := make(map[string]*detente.SyncState, len(ss))
	for _, s := range ss {
		byName[s.Partner] = s
	}
	rows := make([]partnerStatus, len(ps))
	for i, p := range ps {
		s := byName[p.Name]
		if s == nil { // added since the partners were read: never synced
			s = &detente.SyncState{Partner: p.Name}
		}
		rows[i] = partnerStatus{p.Name, string(p.State), p.URL, s}
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
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
