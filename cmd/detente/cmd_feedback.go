package main

import (
	"context"
	"flag"
	"fmt"

	"detente/internal/ledger"
)

func feedbackCommands() []*command {
	return []*command{
		define(command{
			name: "feedback",
			summary: "send a sighting of, or an opinion about, an object back to its originator: signed, released under the egress policy, " +
				"pushed to the partner, counted in the ledger; exit 3 when the policy denies it (it is then kept, and goes once allowed)",
			example: "detente feedback --dir /var/lib/detente --object indicator--8e2e... --sighting --count 3 --note 'seen at the port'\n" +
				"detente feedback --dir /var/lib/detente --object threat-actor--56f3... --opinion disagree --note 'a political party, not a group'",
			hasJSON: true,
		}, feedbackFlags, runFeedback),
	}
}

type feedbackArgs struct {
	object, opinion, note string
	sighting              bool
	count                 int
}

func feedbackFlags(a *feedbackArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.object, "object", "", "the STIX id of the object, received from a partner (required)")
	fs.BoolVar(&a.sighting, "sighting", false, "send a sighting: this node saw it")
	fs.IntVar(&a.count, "count", 0, "with --sighting: how many times it was seen (default 1)")
	fs.StringVar(&a.opinion, "opinion", "", "send an opinion: strongly-disagree, disagree, neutral, agree or strongly-agree")
	fs.StringVar(&a.note, "note", "", "the sighting's description or the opinion's explanation")
}

func runFeedback(ctx context.Context, e *env, a *feedbackArgs) error {
	if a.object == "" {
		return usagef("--object is required")
	}
	if a.sighting == (a.opinion != "") {
		return usagef("give either --sighting or --opinion")
	}
	f := ledger.Feedback{Object: a.object, Count: a.count, Opinion: a.opinion, Note: a.note, Kind: ledger.FeedbackOpinion}
	if a.sighting {
		f.Kind = ledger.FeedbackSighting
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.SendFeedback(ctx, f)
	if err != nil {
		return err
	}
	if e.json {
		err = printJSON(e.stdout, res)
	} else if res.Decision.Allowed {
		fmt.Fprintf(e.stdout, "%s sent to %s", res.ID, res.Partner)
		if res.Delivered {
			fmt.Fprintln(e.stdout, ", delivered")
		} else {
			fmt.Fprintf(e.stdout, "; not delivered now (%s): %s gets it on its next pull\n", res.DeliveryError, res.Partner)
		}
	} else {
		fmt.Fprintf(e.stdout, "%s stored, but not released to %s:\n", res.ID, res.Partner)
		printDecision(e.stdout, &res.Decision)
	}
	if err == nil && !res.Decision.Allowed {
		return errDenied
	}
	return err
}
