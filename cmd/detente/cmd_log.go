package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"detente"
	"detente/internal/translog"
)

// errVerifyFailed makes log verify exit 1 after printing its report.
var errVerifyFailed = errors.New("verification failed")

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func logCommands() []*command {
	var typ, partner string
	var from, limit int64
	var out, key string
	var known multiFlag
	return []*command{{
		name:    "log checkpoint",
		summary: "print the log's latest signed checkpoint (C2SP signed note), signing one if the log grew",
		example: "detente log checkpoint --dir /var/lib/detente > checkpoint.txt",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			if _, err := n.Checkpoint(ctx); err != nil {
				return err
			}
			note, _, err := n.LatestCheckpoint(ctx)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(note)
			return err
		},
	}, {
		name:    "log export",
		summary: "write a bundle of log entries with a fresh signed checkpoint, for offline verification",
		example: "detente log export --dir /var/lib/detente --out log-bundle.json\ndetente log export --dir /var/lib/detente --from 100 --to 200 --out part.json",
		flags: func(fs *flag.FlagSet) {
			fs.Int64Var(&from, "from", 0, "first entry")
			fs.Int64Var(&limit, "to", 0, "one past the last entry (default: the whole log)")
			fs.StringVar(&out, "out", "-", "where to write the bundle, - for stdout")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			n, err := openNode(ctx, e)
			if err != nil {
				return err
			}
			defer n.Close()
			b, err := n.Export(ctx, from, limit)
			if err != nil {
				return err
			}
			data, err := b.Marshal()
			if err != nil {
				return err
			}
			return writeOutput(e, out, data)
		},
	}, {
		name:    "log verify",
		noDir:   true,
		args:    "BUNDLE",
		summary: "verify an exported log bundle offline against the node's key and checkpoints you hold; names every entry that fails, and a log rolled back behind a checkpoint (exit 1)",
		example: "detente log verify --key detente-node:3q2+7w... --checkpoint witnessed.txt log-bundle.json",
		hasJSON: true,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&key, "key", "", "the log's node key, pinned beforehand (required)")
			fs.Var(&known, "checkpoint", "a checkpoint of the same log you hold independently, e.g. one your node witnessed; the bundle must extend it (repeatable)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if err := requireArgs(fs, 1, "one BUNDLE file"); err != nil {
				return err
			}
			if key == "" {
				return usagef("--key is required: verifying against the key in the bundle would prove nothing")
			}
			pub, err := detente.ParsePublicKey(key)
			if err != nil {
				return err
			}
			data, err := readInput(e, fs.Arg(0), maxIngest)
			if err != nil {
				return err
			}
			var notes []translog.KnownCheckpoint
			for _, f := range known {
				b, err := readInput(e, f, 64<<10)
				if err != nil {
					return err
				}
				notes = append(notes, translog.KnownCheckpoint{Name: f, Note: b})
			}
			b, err := translog.ParseBundle(data)
			if err != nil {
				return detente.Errorf(detente.EINVALID, "%s: %v", fs.Arg(0), err)
			}
			rep, err := translog.VerifyBundle(b, ed25519.PublicKey(pub), notes...)
			if rep == nil {
				return detente.Errorf(detente.EINVALID, "%v", err)
			}
			if e.json {
				if perr := printJSON(e.stdout, rep); perr != nil {
					return perr
				}
			} else {
				if rep.OK() {
					fmt.Fprintf(e.stdout, "OK: %d entries verified against the checkpoint of size %d signed by %s\n", rep.Verified, rep.Size, pub)
				} else {
					fmt.Fprintf(e.stdout, "FAILED: %d problem(s) in a log of size %d\n", len(rep.Problems), rep.Size)
					for _, p := range rep.Problems {
						fmt.Fprintf(e.stdout, "  %s\n", p.Message)
					}
				}
				for _, n := range rep.Notes {
					fmt.Fprintf(e.stdout, "  note: %s\n", n)
				}
			}
			if !rep.OK() {
				return errVerifyFailed
			}
			return nil
		},
	}, {
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
