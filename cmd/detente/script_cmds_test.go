package main

import (
	"crypto/ed25519"
	"errors"
	"os/exec"
	"strconv"

	"detente"
	"detente/internal/datadir"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the commands the golden CLI scripts have besides
// testscript's own.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"status":  cmdStatus,
	"nodekey": cmdNodeKey,
}

// cmdNodeKey is "nodekey DIR VAR": sets VAR to the public key of the node
// in data directory DIR, for commands that take a pinned key.
func cmdNodeKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: nodekey DIR VAR")
	}
	k, err := datadir.ReadKey(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("nodekey: %v", err)
	}
	ts.Setenv(args[1], detente.PublicKey(k.Public().(ed25519.PublicKey)).String())
}

// cmdStatus is "status N COMMAND [ARGS...]": COMMAND must exit with status
// N (0 success, 1 error, 2 usage error, 3 denied). Its stdout and stderr
// are kept for the stdout and stderr commands, as exec's are.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! status")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: status N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
