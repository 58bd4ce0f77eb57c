// Command detente runs and operates a detente node: a partner agency's
// installation for exchanging counter-terrorism intelligence with partners
// it does not fully trust.
//
// Run 'detente help' for the commands; every command has --help with an
// example. Exit status: 0 success, 1 error, 2 usage error, 3 denied (a
// release check that refuses).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
