package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"detente"
	"detente/internal/node"
)

// Exit statuses.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitDenied = 3
)

// env is what a command runs with: its streams, parsed common flags and
// positional arguments.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dir            string
	json           bool
	args           []string // the positional arguments
}

// command is one subcommand, e.g. "partner add". Each command group's file
// defines its commands with define, the work of each in a named runX
// function.
type command struct {
	name    string
	args    string // synopsis of positional arguments
	summary string
	example string
	// noDir is set for commands that do not work on a data directory.
	noDir bool
	// hasJSON is set for commands with --json output.
	hasJSON bool
	// invocation returns a fresh invocation: its flags and its run. Each
	// call has its own flag values, so commands can run concurrently.
	invocation func() invocation
}

// invocation is one run of a command.
type invocation struct {
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, e *env) error
}

// define makes a command whose flags fill a fresh A for each invocation,
// which run then gets: the pattern every command follows, so that each
// command's work is a named function of its typed arguments.
func define[A any](c command, flags func(a *A, fs *flag.FlagSet), run func(ctx context.Context, e *env, a *A) error) *command {
	c.invocation = func() invocation {
		a := new(A)
		return invocation{
			flags: func(fs *flag.FlagSet) {
				if flags != nil {
					flags(a, fs)
				}
			},
			run: func(ctx context.Context, e *env) error { return run(ctx, e, a) },
		}
	}
	return &c
}

// noArgs is the arguments of a command that takes no flags of its own.
type noArgs struct{}

// usageError is a mistake in how a command was called.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// deniedError makes a command exit with exitDenied after printing.
var errDenied = errors.New("denied")

// Run runs the detente command line args and returns the exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr) // a command is missing: a usage error
		return exitUsage
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return exitOK
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		// A command group alone ("detente feed", "detente feed --help")
		// lists the group's commands.
		if group := groupCommands(args[0]); len(group) > 0 {
			help := len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help")
			w, status := stderr, exitUsage
			if help {
				w, status = stdout, exitOK
			}
			if len(args) == 1 || help {
				fmt.Fprintf(w, "Usage: detente %s COMMAND [flags]\n\nCommands:\n", args[0])
				for _, c := range group {
					fmt.Fprintf(w, "  %-20s %s\n", c.name, c.summary)
				}
				fmt.Fprintf(w, "\nRun 'detente %s COMMAND --help' for a command's flags and an example.\n", args[0])
				return status
			}
		}
		fmt.Fprintf(stderr, "detente: unknown command %q\nRun 'detente help' for the list of commands.\n", strings.Join(args[:min(2, len(args))], " "))
		return exitUsage
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("detente "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if !cmd.noDir {
		fs.StringVar(&e.dir, "dir", "", "the node's data directory (required)")
	}
	if cmd.hasJSON {
		fs.BoolVar(&e.json, "json", false, "print JSON for scripts")
	}
	inv := cmd.invocation()
	inv.flags(fs)
	if err := fs.Parse(interleave(fs, rest)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "detente %s: %v\nRun 'detente %s --help' for usage.\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if !cmd.noDir && e.dir == "" {
		fmt.Fprintf(stderr, "detente %s: --dir is required\nRun 'detente %s --help' for usage.\n", cmd.name, cmd.name)
		return exitUsage
	}
	e.args = fs.Args()
	if cmd.args == "" && len(e.args) > 0 {
		fmt.Fprintf(stderr, "detente %s: unexpected argument %q: this command takes flags only\nRun 'detente %s --help' for usage.\n", cmd.name, e.args[0], cmd.name)
		return exitUsage
	}
	err := inv.run(ctx, e)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDenied):
		return exitDenied
	case errors.Is(err, errVerifyFailed):
		return exitError
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "detente %s: %s\nRun 'detente %s --help' for usage.\n", cmd.name, ue.msg, cmd.name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "detente %s: %s\n", cmd.name, errorText(err))
		return exitError
	}
}

// errorText is what the operator sees: the domain message, or for an
// internal failure the full chain (the operator runs the node; nothing of
// a partner's is in it).
func errorText(err error) string {
	if detente.ErrorCode(err) != detente.EINTERNAL {
		return detente.ErrorMessage(err)
	}
	return err.Error()
}

// interleave moves flags after positional arguments to the front, so
// "detente ingest FILE --dir D" works as people type it.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := fs.Lookup(name); f != nil {
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
					continue
				}
				if i+1 < len(args) {
					flags = append(flags, args[i+1])
					i++
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, append([]string{"--"}, pos...)...)
}

func findCommand(args []string) (*command, []string) {
	if len(args) >= 2 {
		if c := commandByName(args[0] + " " + args[1]); c != nil {
			return c, args[2:]
		}
	}
	return commandByName(args[0]), args[1:]
}

func commandByName(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// groupCommands returns the commands whose name starts with the word
// group ("feed" → feed add, feed list, …), sorted by name.
func groupCommands(group string) []*command {
	var out []*command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `detente runs a node for counter-terrorism cooperation between partners who
must work together without trusting each other.

Usage: detente COMMAND [flags]

Commands:
`)
	cs := commands()
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-20s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'detente COMMAND --help' for a command's flags and an example.

Exit status: 0 success, 1 error, 2 usage error, 3 denied by policy.
Quick start: 'detente demo' runs three federating nodes on this machine.
`)
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: detente %s [flags] %s\n\n%s\n\nFlags:\n", c.name, c.args, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nExample:\n  %s\n", strings.ReplaceAll(c.example, "\n", "\n  "))
}

// openNode opens the node in e.dir.
func openNode(ctx context.Context, e *env) (*node.Node, error) {
	return openNodeDir(ctx, e.dir, nil)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// wantArgs checks the number of positional arguments of an invocation.
func (e *env) wantArgs(n int, what string) error {
	if len(e.args) != n {
		return usagef("expected %s", what)
	}
	return nil
}

// commands returns every command. Each file adds its own.
func commands() []*command {
	var cs []*command
	for _, group := range [][]*command{
		nodeCommands(), tokenCommands(), partnerCommands(), curationCommands(), agreementCommands(),
		objectCommands(), releaseCommands(), logCommands(), serveCommands(), markingCommands(), syncCommands(), feedCommands(), consentCommands(),
		listsCommands(), screenCommands(), matchCommands(), channelCommands(), leakCommands(), versionCommands(), ledgerCommands(), gradeCommands(), feedbackCommands(),
	} {
		cs = append(cs, group...)
	}
	return cs
}
