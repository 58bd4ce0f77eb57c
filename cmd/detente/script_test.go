package main

import (
	"errors"
	"flag"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var updateScripts = flag.Bool("update-scripts", false, "rewrite the golden CLI scripts' cmp files with what the commands print")

// TestScripts runs the golden CLI scripts in testdata/script: each is a
// txtar file of detente commands with the output, exit status and error
// messages they must give (help text, --json shapes, refusals). They pin
// the command line's behaviour for people and scripts.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Cmds:          map[string]func(ts *testscript.TestScript, neg bool, args []string){"status": cmdStatus},
	})
}

// cmdStatus is the script command "status N PROGRAM [ARGS...]": it runs
// PROGRAM as exec does and fails unless it exits with status N. Its
// output is then checked with stdout and stderr, as after exec.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! status")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: status N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status %q: not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
