package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"

	"detente"
	"detente/internal/feed"
)

func feedCommands() []*command {
	return []*command{
		define(command{
			name:    "feed add",
			summary: "add a feed from the agency's own platform: a TAXII 2.1 collection or a MISP feed; secrets are read from files",
			example: "detente feed add --dir /var/lib/detente --name opencti --url https://cti.agency.example/taxii2/root/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/ --token-file /etc/detente/opencti.token --tlp amber",
		}, feedAddFlags, runFeedAdd),
		define(command{
			name:    "feed list",
			summary: "list the feeds and their settings (never their secrets)",
			example: "detente feed list --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runFeedList),
		define(command{
			name:    "feed remove",
			summary: "remove a feed and its cursor; what it brought stays",
			example: "detente feed remove --dir /var/lib/detente --name opencti",
		}, feedNameFlags(true), runFeedRemove),
		define(command{
			name:    "feed pull",
			summary: "pull every feed (or one) once, with progress on stderr; exit 1 if a pull failed",
			example: "detente feed pull --dir /var/lib/detente --name opencti",
			hasJSON: true,
		}, feedNameFlags(false), runFeedPull),
		define(command{
			name:    "feed status",
			summary: "show each feed's cursor, last pull, counts and last error",
			example: "detente feed status --dir /var/lib/detente --json",
			hasJSON: true,
		}, nil, runFeedStatus),
	}
}

type feedAddArgs struct {
	name, url, format, user, passwordFile, tokenFile, caFile, grading, tlp string
	originate                                                              bool
}

func feedAddFlags(a *feedAddArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the feed's name: a-z, 0-9, '.', '_', '-' (required)")
	fs.StringVar(&a.url, "url", "", "the TAXII 2.1 collection URL (…/collections/ID/), or the MISP feed directory (required)")
	fs.StringVar(&a.format, "format", "taxii", "taxii or misp")
	fs.StringVar(&a.user, "user", "", "HTTP Basic user (with --password-file)")
	fs.StringVar(&a.passwordFile, "password-file", "", "file holding the HTTP Basic password")
	fs.StringVar(&a.tokenFile, "token-file", "", "file holding a bearer token (OpenCTI)")
	fs.StringVar(&a.caFile, "ca-file", "", "PEM file of the CA certificates that sign the server's certificate")
	fs.StringVar(&a.grading, "grading", "", "Admiralty grading for objects that carry none, e.g. B2")
	fs.StringVar(&a.tlp, "tlp", "", "TLP for objects without a TLP marking: clear, green, amber (default), amber+strict, red")
	fs.BoolVar(&a.originate, "originate", false, "the feed is the agency's own platform: this node signs and originates what it brings")
}

func runFeedAdd(ctx context.Context, e *env, a *feedAddArgs) error {
	if a.name == "" || a.url == "" {
		return usagef("--name and --url are required")
	}
	c := feed.Config{Name: a.name, URL: a.url, Format: feed.Format(a.format), Username: a.user,
		PasswordFile: a.passwordFile, TokenFile: a.tokenFile, CAFile: a.caFile, Originate: a.originate}
	if a.format != string(feed.FormatTAXII) && a.format != string(feed.FormatMISP) {
		return badFlag("format", a.format, "want taxii or misp", "taxii", "misp")
	}
	if a.grading != "" {
		g, err := detente.ParseGrading(a.grading)
		if err != nil {
			return badFlag("grading", a.grading, "want a letter A-F and a digit 1-6, e.g. B2")
		}
		c.Grading = g
	}
	if a.tlp != "" {
		t, err := detente.ParseTLP(a.tlp)
		if err != nil {
			return badFlag("tlp", a.tlp, "want clear, green, amber, amber+strict or red", "clear", "green", "amber", "amber+strict", "red")
		}
		c.TLP = t
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	added, err := n.Feeds.Add(ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added feed %s\n", added)
	return nil
}

type feedNameArgs struct{ name string }

func feedNameFlags(required bool) func(a *feedNameArgs, fs *flag.FlagSet) {
	return func(a *feedNameArgs, fs *flag.FlagSet) {
		if required {
			fs.StringVar(&a.name, "name", "", "the feed (required)")
		} else {
			fs.StringVar(&a.name, "name", "", "only this feed")
		}
	}
}

func runFeedList(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	cs, err := n.Feeds.List(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, cs)
	}
	if len(cs) == 0 {
		fmt.Fprintln(e.stdout, "no feeds")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFORMAT\tURL\tTLP\tGRADING\tORIGINATE")
	for _, c := range cs {
		tlp := c.TLP
		if tlp == 0 {
			tlp = feed.DefaultTLP
		}
		format := c.Format
		if format == "" {
			format = feed.FormatTAXII
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", c.Name, format, c.URL, tlp, dash(c.Grading.String()), c.Originate)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runFeedRemove(ctx context.Context, e *env, a *feedNameArgs) error {
	if a.name == "" {
		return usagef("--name is required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Feeds.Remove(ctx, a.name); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed feed %s\n", a.name)
	return nil
}

func runFeedPull(ctx context.Context, e *env, a *feedNameArgs) error {
	// Each object a feed sends that is refused is named on stderr, with
	// its reason, not only counted.
	n, err := openNodeDir(ctx, e.dir, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer n.Close()
	progress := func(s feed.Stats) {
		fmt.Fprintf(e.stderr, "\rfeed %s: %d pages, %d objects, %d rejected", s.Feed, s.Pages, s.Objects, s.Rejected)
	}
	var results []*feed.Result
	if a.name != "" {
		r, err := n.Feeds.Pull(ctx, a.name, progress)
		if r == nil {
			return err // no such feed, or the store failed: not a pull that failed
		}
		results = append(results, r)
	} else if results, err = n.Feeds.PullAll(ctx, progress); err != nil {
		return err
	}
	if len(results) > 0 {
		fmt.Fprintln(e.stderr)
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Error != ""
	}
	if e.json {
		if err := printJSON(e.stdout, results); err != nil {
			return err
		}
	} else {
		if len(results) == 0 {
			fmt.Fprintln(e.stdout, "no feeds to pull")
		}
		for _, r := range results {
			status := "ok"
			if r.Error != "" {
				status = "FAILED: " + r.Error
			}
			fmt.Fprintf(e.stdout, "%s: %d pages, %d objects, %d rejected, %d predefined TLP skipped — %s\n", r.Feed, r.Pages, r.Objects, r.Rejected, r.Skipped, status)
		}
	}
	if failed {
		return errVerifyFailed
	}
	return nil
}

func runFeedStatus(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	ss, err := n.Feeds.Status(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ss)
	}
	if len(ss) == 0 {
		fmt.Fprintln(e.stdout, "no feeds")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tLAST SUCCESS\tPOSITION\tOBJECTS\tQUARANTINED\tREJECTED\tERRORS")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d %s\n", s.Name, when(s.State.LastSuccess), s.Where,
			s.State.Objects, s.State.Quarantined, s.State.Rejected, s.State.Errors, s.State.LastError)
	}
	return tw.Flush()
}
