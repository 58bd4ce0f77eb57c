package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"detente"
	"detente/internal/translog"
)

// errVerifyFailed makes a command exit 1 after printing its report: log
// verify finding a problem, sync with a pass that failed.
var errVerifyFailed = errors.New("verification failed")

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func logCommands() []*command {
	return []*command{
		define(command{
			name:    "log checkpoint",
			summary: "print the log's latest signed checkpoint (C2SP signed note), signing one if the log grew",
			example: "detente log checkpoint --dir /var/lib/detente > checkpoint.txt",
		}, nil, runLogCheckpoint),
		define(command{
			name:    "log export",
			summary: "write a bundle of log entries with a fresh signed checkpoint, for offline verification",
			example: "detente log export --dir /var/lib/detente --out log-bundle.json\ndetente log export --dir /var/lib/detente --from 100 --to 200 --out part.json\ndetente log export --dir /var/lib/detente --seqs 3,17,40 --out pinned.json",
		}, logExportFlags, runLogExport),
		define(command{
			name:    "log verify",
			noDir:   true,
			args:    "BUNDLE",
			summary: "verify an exported log bundle offline against the node's key and checkpoints you hold; names every entry that fails, and a log rolled back behind a checkpoint (exit 1)",
			example: "detente log verify --key detente-node:3q2+7w... --checkpoint witnessed.txt log-bundle.json",
			hasJSON: true,
		}, logVerifyFlags, runLogVerify),
		define(command{
			name:    "log list",
			summary: "list entries of the node's transparency log",
			example: "detente log list --dir /var/lib/detente --type release --partner bravo --limit 50",
			hasJSON: true,
		}, logListFlags, runLogList),
	}
}

func runLogCheckpoint(ctx context.Context, e *env, _ *noArgs) error {
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
}

type logExportArgs struct {
	from, to int64
	seqs     string
	out      string
}

func logExportFlags(a *logExportArgs, fs *flag.FlagSet) {
	fs.Int64Var(&a.from, "from", 0, "first entry")
	fs.Int64Var(&a.to, "to", 0, "one past the last entry (default: the whole log)")
	fs.StringVar(&a.seqs, "seqs", "", "export only these entries, comma-separated, each with its inclusion proof (not with --from/--to)")
	fs.StringVar(&a.out, "out", "-", "where to write the bundle, - for stdout")
}

func runLogExport(ctx context.Context, e *env, a *logExportArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	var b *translog.Bundle
	if a.seqs != "" {
		if a.from != 0 || a.to != 0 {
			return usagef("--seqs selects entries by number; it cannot be combined with --from or --to")
		}
		var seqs []int64
		for _, f := range strings.Split(a.seqs, ",") {
			seq, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return usagef("--seqs: %q is not an entry number", f)
			}
			seqs = append(seqs, seq)
		}
		b, err = n.ExportSelection(ctx, seqs)
	} else {
		b, err = n.Export(ctx, a.from, a.to)
	}
	if err != nil {
		return err
	}
	data, err := b.Marshal()
	if err != nil {
		return err
	}
	return writeOutput(e, a.out, data)
}

type logVerifyArgs struct {
	key   string
	known multiFlag
}

func logVerifyFlags(a *logVerifyArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.key, "key", "", "the log's node key, pinned beforehand (required)")
	fs.Var(&a.known, "checkpoint", "a checkpoint of the same log you hold independently, e.g. one your node witnessed; the bundle must extend it (repeatable)")
}

func runLogVerify(ctx context.Context, e *env, a *logVerifyArgs) error {
	if err := e.wantArgs(1, "one BUNDLE file"); err != nil {
		return err
	}
	if a.key == "" {
		return usagef("--key is required: verifying against the key in the bundle would prove nothing")
	}
	pub, err := detente.ParsePublicKey(a.key)
	if err != nil {
		return err
	}
	file := e.args[0]
	data, err := readInput(e, file, maxIngest)
	if err != nil {
		return err
	}
	var notes []translog.KnownCheckpoint
	for _, f := range a.known {
		b, err := readInput(e, f, 64<<10)
		if err != nil {
			return err
		}
		notes = append(notes, translog.KnownCheckpoint{Name: f, Note: b})
	}
	b, err := translog.ParseBundle(data)
	if err != nil {
		return detente.Errorf(detente.EINVALID, "%s: %v", file, err)
	}
	rep, err := translog.VerifyBundle(b, ed25519.PublicKey(pub), notes...)
	if rep == nil {
		return detente.Errorf(detente.EINVALID, "%v", err)
	}
	if e.json {
		if err := printJSON(e.stdout, rep); err != nil {
			return err
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
}

type logListArgs struct {
	typ, partner string
	from, limit  int64
}

func logListFlags(a *logListArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.typ, "type", "", "only entries of this type, e.g. release, agreement.changed")
	fs.StringVar(&a.partner, "partner", "", "only entries about this partner")
	fs.Int64Var(&a.from, "from", 0, "first sequence number")
	fs.Int64Var(&a.limit, "limit", 100, "at most this many")
}

func runLogList(ctx context.Context, e *env, a *logListArgs) error {
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	es, err := n.Events(ctx, detente.EventFilter{FromSeq: a.from, Type: a.typ, Partner: a.partner, Limit: int(a.limit)})
	if err != nil {
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
}
