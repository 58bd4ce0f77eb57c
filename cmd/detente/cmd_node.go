package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"

	"detente"
	"detente/internal/node"
)

func nodeCommands() []*command {
	var name string
	return []*command{{
		name:    "init",
		summary: "create a node: key pair, config and store in a new data directory",
		example: "detente init --dir /var/lib/detente --name alpha",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "the node's short name: lowercase letters, digits, hyphens (required)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if name == "" {
				return usagef("--name is required")
			}
			key, err := node.Init(ctx, e.dir, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created node %s in %s\nits public key (give this to partners):\n%s\n", name, e.dir, key)
			return nil
		},
	}, {
		name:    "key",
		summary: "print the node's public key (last line, for scripts)",
		example: "detente key --dir /var/lib/detente | tail -1",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			priv, err := node.ReadKey(e.dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, detente.PublicKey(priv.Public().(ed25519.PublicKey)))
			return nil
		},
	}}
}
