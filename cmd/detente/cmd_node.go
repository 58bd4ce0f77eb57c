package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"

	"detente"
	"detente/internal/datadir"
)

func nodeCommands() []*command {
	return []*command{
		define(command{
			name:    "init",
			summary: "create a node: key pair, config and store in a new data directory",
			example: "detente init --dir /var/lib/detente --name alpha",
		}, initFlags, runInit),
		define(command{
			name:    "migrate",
			args:    "[status|up]",
			summary: "show the store's schema version, or apply pending migrations (serve applies them itself on start)",
			example: "detente migrate --dir /etc/detente status\ndetente migrate --dir /etc/detente up",
			hasJSON: true,
		}, nil, runMigrate),
		define(command{
			name:    "key",
			summary: "print the node's public key (alone on stdout, for scripts) and, on stderr, the fingerprint of its TLS certificate for browsers",
			example: "detente key --dir /var/lib/detente\ndetente partner add --dir /var/lib/detente --name bravo --key \"$(detente key --dir /srv/bravo)\" --url https://bravo.example:8443",
			hasJSON: true,
		}, nil, runKey),
	}
}

type initArgs struct{ name, store string }

func initFlags(a *initArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.name, "name", "", "the node's short name: lowercase letters, digits, hyphens (required)")
	fs.StringVar(&a.store, "store", "", "the node's store: sqlite (the default: node.db in --dir) or a postgres:// URL (docs/operations.md)")
}

func runInit(ctx context.Context, e *env, a *initArgs) error {
	if a.name == "" {
		return usagef("--name is required")
	}
	if err := nameFlag("name", a.name); err != nil {
		return err
	}
	if a.store != "" && a.store != "sqlite" && !datadir.IsPostgres(a.store) {
		return badFlag("store", a.store, "want sqlite or a postgres:// URL")
	}
	key, err := initNode(ctx, e.dir, a.name, a.store)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created node %s in %s\nits public key (give this to partners):\n%s\n", a.name, e.dir, key)
	return nil
}

func runMigrate(ctx context.Context, e *env, _ *noArgs) error {
	action := "status"
	if len(e.args) > 0 {
		action = e.args[0]
	}
	if len(e.args) > 1 || (action != "status" && action != "up") {
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
}

func runKey(_ context.Context, e *env, _ *noArgs) error {
	priv, err := datadir.ReadKey(e.dir)
	if err != nil {
		return err
	}
	key := detente.PublicKey(priv.Public().(ed25519.PublicKey))
	fp, err := datadir.StoredFingerprint(e.dir)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, struct {
			Key    string `json:"key"`
			TLSSHA string `json:"tls_sha256,omitempty"`
		}{key.String(), fp})
	}
	fmt.Fprintln(e.stdout, key)
	if fp != "" {
		fmt.Fprintf(e.stderr, "TLS certificate for browsers and tools (self-signed, kept in %s): SHA-256 %s\n", e.dir, fp)
	} else {
		fmt.Fprintf(e.stderr, "TLS certificate for browsers and tools: none yet; serve makes one and prints its fingerprint (or give it --tls-cert)\n")
	}
	return nil
}
