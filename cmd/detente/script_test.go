package main

import (
	"flag"
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
		Cmds:          scriptCmds,
	})
}
