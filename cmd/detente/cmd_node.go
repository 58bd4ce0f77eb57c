package main

import (
	"context"
	"crypto/ed25519"
	"detente/internal/datadir"
	"flag"
	"fmt"

	"detente"
)

func nodeCommands() []*command {
	var name, store string
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
			key, err := initNode(ctx, e.dir, name, store)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "created node %s in %s\nits public key (give this to partners):\n%s\n", name, e.dir, key)
			return nil
		},
	}, {
		name:    "migrate",
		args:    "[status|up]",
		summary: "show the store's schema version, or apply pending migrations (serve applies them itself on start)",
		example: "detente migrate --dir /etc/detente status\ndetente migrate --dir /etc/detente up",
		hasJSON: true,
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			action := "status"
			if fs.NArg() > 0 {
				action = fs.Arg(0)
			}
			if fs.NArg() > 1 || (action != "status" && action != "up") {
				return usagef("expected status or up")
			}
			have, known, err := migrateDir(ctx, e.dir, action == "up")
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, map[string]int{"version": have, "known": known})
			}
			switch {
			case have == known:
				fmt.Fprintf(e.stdout, "schema version %d: up to date\n", have)
			case have < known:
				fmt.Fprintf(e.stdout, "schema version %d; %d migration(s) pending: run 'detente migrate --dir %s up'\n", have, known-have, e.dir)
			default:
				fmt.Fprintf(e.stdout, "schema version %d is newer than this program knows (%d): upgrade detente\n", have, known)
			}
			return nil
		},
	}, {
		name:    "key",
		summary: "print the node's public key (last line, for scripts)",
		example: "detente key --dir /var/lib/detente | tail -1",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			priv, err := datadir.ReadKey(e.dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, detente.PublicKey(priv.Public().(ed25519.PublicKey)))
			return nil
		},
	}}
}
