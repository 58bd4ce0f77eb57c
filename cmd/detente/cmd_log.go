package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"detente"
)

func logCommands() []*command {
	var typ, partner string
	var from, limit int64
	return []*command{{
		name:    "log list",
		summary: "list entries of the node's transparency log",
		example: "detente log list --dir /var/lib/detente --type release --partner bravo --limit 50",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&typ, "type", "", "only entries of this type, e.g. release, agreement.changed")
			fs.StringVar(&partner, "partner", "", "only entries about this partner")
			fs.Int64Var(&from, "from", 0, "first sequence number")
			fs.Int64Var(&limit, "limit", 100, "at most this many")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			var es []*detente.Event
			f := detente.EventFilter{FromSeq: from, Type: typ, Partner: partner, Limit: int(limit)}
			if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { es, err = tx.Events(ctx, f); return }); err != nil {
				return err
			}
			if e.json {
				if es == nil {
					es = []*detente.Event{}
				}
				return printJSON(e.stdout, es)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tPARTNER\tBODY")
			for _, ev := range es {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.Format("2006-01-02 15:04:05"), ev.Type, ev.Partner, ev.Body)
			}
			return tw.Flush()
		},
	}}
}
