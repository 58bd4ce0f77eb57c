package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"detente"
	"detente/internal/datadir"
	"detente/internal/demo"
	"detente/internal/node"
	"detente/internal/server"
)

func serveCommands() []*command {
	return []*command{
		define(command{
			name:    "serve",
			summary: "serve the node's API over HTTPS with its self-signed certificate, until interrupted",
			example: "detente serve --dir /var/lib/detente --listen 0.0.0.0:8443",
		}, serveFlags, runServe),
		define(command{
			name:    "demo",
			noDir:   true,
			summary: "run three federating demo nodes on loopback with sample intelligence, until interrupted",
			example: "detente demo\ndetente demo --dir /tmp/detente-demo",
		}, demoFlags, runDemo),
	}
}

type serveArgs struct {
	listen, publicURL, webhook string
	insecure                   bool
	syncInterval               time.Duration
}

func serveFlags(a *serveArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.listen, "listen", "", "address to listen on (default: the config's listen, "+datadir.DefaultListen+")")
	fs.BoolVar(&a.insecure, "insecure-http", false, "serve plain HTTP (local development only; partners cannot authenticate)")
	fs.DurationVar(&a.syncInterval, "sync-interval", 30*time.Second, "how often to pull from partners (0 disables)")
	fs.StringVar(&a.publicURL, "public-url", "", "the URL partners reach this node at (default: taken from requests)")
	fs.StringVar(&a.webhook, "webhook", "", "POST every channel alert (missed acknowledgement, silent line...) as JSON to this URL")
}

func runServe(ctx context.Context, e *env, a *serveArgs) error {
	if a.listen != "" {
		if _, _, err := net.SplitHostPort(a.listen); err != nil {
			return badFlag("listen", a.listen, "want host:port, such as 0.0.0.0:8443")
		}
	}
	for _, f := range []struct{ name, value string }{{"public-url", a.publicURL}, {"webhook", a.webhook}} {
		if f.value != "" {
			if err := webURLFlag(f.name, f.value); err != nil {
				return err
			}
		}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	n, err := openNodeDir(ctx, e.dir, logger)
	if err != nil {
		return err
	}
	defer n.Close()
	cfg, err := datadir.ReadConfig(e.dir)
	if err != nil {
		return err
	}
	addr := a.listen
	if addr == "" {
		addr = orDefault(cfg.Listen, datadir.DefaultListen)
	}
	srv := server.New(n, logger, server.Options{Insecure: a.insecure, SyncInterval: a.syncInterval, PublicURL: a.publicURL,
		Hotline: node.HotlineOptions{Webhook: a.webhook}})
	if err := srv.Listen(addr); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "node %s serving on %s\n", n.Name, srv.URL())
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// demoArgs has the demo's own --dir: optional, unlike every other
// command's.
type demoArgs struct{ dir string }

func demoFlags(a *demoArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.dir, "dir", "", "where to keep the demo nodes' data (default: a new temporary directory)")
}

func runDemo(ctx context.Context, e *env, a *demoArgs) error {
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := demo.Start(ctx, demo.Options{Dir: a.dir, Logger: logger, Shared: sharedData(),
		Init: func(ctx context.Context, dir, name string) (detente.PublicKey, error) {
			return initNode(ctx, dir, name, "sqlite")
		},
		Open: openNodeDir})
	if err != nil {
		return err
	}
	defer d.Close()
	d.PrintSummary(e.stdout)
	fmt.Fprintln(e.stdout, "\nRunning until interrupted (Ctrl-C).")
	<-ctx.Done()
	return nil
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sharedData returns where the public test data is (DETENTE_SHARED, or
// ../shared beside the working directory), for the demo's optional extras.
func sharedData() string {
	if d := os.Getenv("DETENTE_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "shared")
}
