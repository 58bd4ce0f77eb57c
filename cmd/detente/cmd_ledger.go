package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"detente"
	"detente/internal/ledger"
	"detente/internal/translog"
)

func ledgerCommands() []*command {
	return []*command{
		define(command{
			name: "ledger",
			summary: "show the reciprocity ledger with each partner: what was given and received over a period, weighted (docs/ledger.md); " +
				"from a node's data directory, or, for an auditor, from an exported log bundle verified against the node's key",
			example: "detente ledger --dir /var/lib/detente --partner bravo --period 30d\n" +
				"detente ledger --from-bundle log-bundle.json --key detente-node:3q2+7w... --json",
			hasJSON: true,
			noDir:   true, // --dir or --from-bundle
		}, ledgerFlags, runLedger),
		define(command{
			name:    "ledger holds",
			summary: "list the reciprocity holds: partners whose releases are held, or whose hold an admin released",
			example: "detente ledger holds --dir /var/lib/detente",
			hasJSON: true,
		}, nil, runLedgerHolds),
		define(command{
			name:    "ledger enforce",
			summary: "apply the agreements' reciprocity terms now (serve does it every minute): warn, hold, or lift recovered holds",
			example: "detente ledger enforce --dir /var/lib/detente",
		}, nil, runLedgerEnforce),
		define(command{
			name:    "ledger release-hold",
			summary: "release the reciprocity hold on a partner, with a reason that is logged; it stays released for one window unless the balance recovers",
			example: "detente ledger release-hold --dir /var/lib/detente --partner bravo --reason 'Olympics: share regardless, per the director'",
		}, ledgerReleaseFlags, runLedgerReleaseHold),
	}
}

type ledgerArgs struct {
	dir, partner, period, at, bundle, key string
}

func ledgerFlags(a *ledgerArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.dir, "dir", "", "the node's data directory (or --from-bundle)")
	fs.StringVar(&a.partner, "partner", "", "only this partner")
	fs.StringVar(&a.period, "period", "30d", "the period ending now (or --at): days such as 30d, a duration such as 720h, or all")
	fs.StringVar(&a.at, "at", "", "end the period at this RFC 3339 time instead of now")
	fs.StringVar(&a.bundle, "from-bundle", "", "compute from this exported log bundle ('detente log export') instead of a data directory")
	fs.StringVar(&a.key, "key", "", "with --from-bundle: the node key the bundle must verify against, pinned beforehand (required)")
}

func runLedger(ctx context.Context, e *env, a *ledgerArgs) error {
	if (a.dir == "") == (a.bundle == "") {
		return usagef("give either --dir (a node's data directory) or --from-bundle (an exported log bundle)")
	}
	if a.key != "" && a.bundle == "" {
		return usagef("--key goes with --from-bundle")
	}
	period, err := ledger.ParsePeriod(a.period)
	if err != nil {
		return badFlag("period", a.period, detente.ErrorMessage(err))
	}
	now := time.Now().UTC()
	if a.at != "" {
		if now, err = time.Parse(time.RFC3339, a.at); err != nil {
			return badFlag("at", a.at, "want an RFC 3339 time such as 2026-03-01T00:00:00Z")
		}
	}
	var (
		bs    []*ledger.Balance
		holds []*ledger.Hold
	)
	if a.bundle != "" {
		if a.key == "" {
			return usagef("--key is required with --from-bundle: verifying against the key in the bundle would prove nothing")
		}
		pub, err := detente.ParsePublicKey(a.key)
		if err != nil {
			return err
		}
		data, err := readInput(e, a.bundle, maxIngest)
		if err != nil {
			return err
		}
		b, err := translog.ParseBundle(data)
		if err != nil {
			return detente.Errorf(detente.EINVALID, "%s: %v", a.bundle, err)
		}
		if bs, err = ledger.FromBundle(b, ed25519.PublicKey(pub), period, now); err != nil {
			return err
		}
	} else {
		n, err := openNodeDir(ctx, a.dir, nil)
		if err != nil {
			return err
		}
		defer n.Close()
		if a.at != "" {
			n.Now = func() time.Time { return now }
		}
		if bs, err = n.Ledger.Balances(ctx, "", period); err != nil {
			return err
		}
		if holds, err = n.Ledger.Holds(ctx); err != nil {
			return err
		}
	}
	if bs, err = ledger.Select(bs, a.partner); err != nil {
		return err
	}
	if e.json {
		for _, b := range bs {
			b.Series = nil
		}
		return printJSON(e.stdout, bs)
	}
	printLedger(e.stdout, bs, holds)
	return nil
}

func printLedger(w io.Writer, bs []*ledger.Balance, holds []*ledger.Hold) {
	held := map[string]string{}
	for _, h := range holds {
		held[h.Partner] = h.State
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tGIVEN\tRECEIVED\tGIVEN WEIGHT\tRECEIVED WEIGHT\tRATIO\tQUERIES ANSWERED/ASKED\tREQUESTS ANSWERED (LATE)\tBY PARTNER (LATE)\tFEEDBACK OUT/IN\tHOLD")
	for _, b := range bs {
		ratio := "-"
		if b.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *b.Ratio)
		}
		hold := held[b.Partner]
		if hold == "" {
			hold = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%s\t%d/%d\t%d (%d)\t%d (%d)\t%d/%d\t%s\n", b.Partner, b.Given, b.Received, b.GivenWeight, b.ReceivedWeight, ratio,
			b.QueriesAnswered, b.QueriesAsked, b.Requests.OnTime+b.Requests.Late, b.Requests.Late,
			b.PartnerRequests.OnTime+b.PartnerRequests.Late, b.PartnerRequests.Late, b.FeedbackGiven, b.FeedbackReceived, hold)
	}
	tw.Flush()
}

func runLedgerHolds(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	hs, err := n.Ledger.Holds(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if hs == nil {
			hs = []*ledger.Hold{}
		}
		return printJSON(e.stdout, hs)
	}
	if len(hs) == 0 {
		fmt.Fprintln(e.stdout, "no reciprocity holds")
		return nil
	}
	for _, h := range hs {
		fmt.Fprintf(e.stdout, "%s: %s since %s, ratio %.2f below %.2f over %s (agreement %s)\n", h.Partner, h.State,
			h.Since.Format(time.RFC3339), h.Ratio, h.MinRatio, h.Window, h.Agreement)
		if h.State == ledger.HoldWaived {
			fmt.Fprintf(e.stdout, "  released by %s until %s: %s\n", h.By, h.WaivedUntil.Format(time.RFC3339), h.Reason)
		}
	}
	return nil
}

func runLedgerEnforce(ctx context.Context, e *env, _ *noArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.Ledger.Enforce(ctx); err != nil {
		return err
	}
	hs, err := n.Ledger.Holds(ctx)
	if err != nil {
		return err
	}
	held := 0
	for _, h := range hs {
		if h.State == ledger.HoldHeld {
			held++
		}
	}
	fmt.Fprintf(e.stdout, "reciprocity terms applied: %d partner(s) held\n", held)
	return nil
}

type ledgerReleaseArgs struct{ partner, reason string }

func ledgerReleaseFlags(a *ledgerReleaseArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.partner, "partner", "", "the partner whose hold to release (required)")
	fs.StringVar(&a.reason, "reason", "", "why, for the log (required)")
}

func runLedgerReleaseHold(ctx context.Context, e *env, a *ledgerReleaseArgs) error {
	if a.partner == "" || a.reason == "" {
		return usagef("--partner and --reason are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	h, err := n.Ledger.ReleaseHold(ctx, a.partner, a.reason, "admin (command line)")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "released the reciprocity hold on %s until %s (or until the balance recovers)\n", h.Partner, h.WaivedUntil.Format(time.RFC3339))
	return nil
}
