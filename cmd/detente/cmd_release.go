package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"detente"
)

func releaseCommands() []*command {
	return []*command{
		define(command{
			name:    "release check",
			summary: "show whether an object may go to a partner now, with every reason; exit 3 when denied",
			example: "detente release check --dir /var/lib/detente --object report--3c1f... --to bravo --json",
			hasJSON: true,
		}, releaseFlags, runReleaseCheck),
		define(command{
			name:    "release export",
			summary: "release an object to a partner by hand: record the decision and write the partner's bundle; exit 3 when denied",
			example: "detente release export --dir /var/lib/detente --object report--3c1f... --to bravo --out for-bravo.json",
		}, releaseExportFlags, runReleaseExport),
	}
}

// releaseArgs are what both release commands take: an object and a
// partner, and where export writes.
type releaseArgs struct{ object, to, out string }

func releaseFlags(a *releaseArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.object, "object", "", "the STIX id of the object (required)")
	fs.StringVar(&a.to, "to", "", "the partner (required)")
}

func releaseExportFlags(a *releaseArgs, fs *flag.FlagSet) {
	releaseFlags(a, fs)
	fs.StringVar(&a.out, "out", "-", "where to write the bundle, - for stdout")
}

func runReleaseCheck(ctx context.Context, e *env, a *releaseArgs) error {
	if a.object == "" || a.to == "" {
		return usagef("--object and --to are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	d, err := n.CheckRelease(ctx, a.object, a.to)
	if err != nil {
		return err
	}
	if e.json {
		err = printJSON(e.stdout, d)
	} else {
		printDecision(e.stdout, d)
	}
	if err == nil && !d.Allowed {
		return errDenied
	}
	return err
}

func runReleaseExport(ctx context.Context, e *env, a *releaseArgs) error {
	if a.object == "" || a.to == "" {
		return usagef("--object and --to are required")
	}
	n, err := openNode(ctx, e)
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := n.Release(ctx, a.object, a.to)
	if err != nil {
		return err
	}
	if !res.Decision.Allowed {
		printDecision(e.stderr, &res.Decision)
		return errDenied
	}
	return writeOutput(e, a.out, append(res.Bundle, '\n'))
}

func printDecision(w io.Writer, d *detente.Decision) {
	verdict := "DENIED"
	if d.Allowed {
		verdict = "ALLOWED"
	}
	fmt.Fprintf(w, "%s: %s to %s\n", verdict, d.Object, d.Partner)
	for _, r := range d.Reasons {
		mark := "  ok  "
		if r.Deny {
			mark = "  DENY"
		}
		about := ""
		if r.Object != "" && r.Object != d.Object {
			about = " [" + r.Object + "]"
		}
		fmt.Fprintf(w, "%s %s%s: %s\n", mark, r.Code, about, r.Detail)
	}
	if len(d.Closure) > 0 {
		fmt.Fprintf(w, "closure (%d objects):\n", len(d.Closure))
		for _, id := range d.Closure {
			fmt.Fprintf(w, "  %s\n", id)
		}
	}
	for _, r := range d.Redacted {
		fmt.Fprintf(w, "redacted: %s\n", r)
	}
}

// writeOutput writes data to the file out (mode 0600), or stdout for "-".
func writeOutput(e *env, out string, data []byte) error {
	if out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o600); err != nil {
		return detente.Errorf(detente.EINVALID, "cannot write %s: %v", out, err)
	}
	return nil
}
