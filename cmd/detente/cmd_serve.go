package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"detente"
	"detente/internal/datadir"
	"detente/internal/demo"
	"detente/internal/hotline"
	"detente/internal/server"
)

func serveCommands() []*command {
	return []*command{
		define(command{
			name:    "serve",
			summary: "serve TAXII, the API, the console and the partner endpoints over HTTPS, pulling from partners, until interrupted",
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
	tlsCert, tlsKey            string
	insecure                   bool
	syncInterval, feedInterval time.Duration
}

func serveFlags(a *serveArgs, fs *flag.FlagSet) {
	fs.StringVar(&a.listen, "listen", "", "address to listen on (default: the config's listen, "+datadir.DefaultListen+")")
	fs.BoolVar(&a.insecure, "insecure-http", false, "serve plain HTTP (local development only; partners cannot authenticate)")
	fs.DurationVar(&a.syncInterval, "sync-interval", 30*time.Second, "how often to pull from partners (0 disables)")
	fs.DurationVar(&a.feedInterval, "feed-interval", time.Minute, "how often to pull the feeds (0 disables)")
	fs.StringVar(&a.publicURL, "public-url", "", "the URL partners reach this node at (default: taken from requests)")
	fs.StringVar(&a.webhook, "webhook", "", "POST every channel alert (missed acknowledgement, silent line...) as JSON to this URL")
	fs.StringVar(&a.tlsCert, "tls-cert", "", "the certificate chain (PEM) browsers and tools see, e.g. from the agency's PKI (default: a self-signed ECDSA certificate kept in the data directory)")
	fs.StringVar(&a.tlsKey, "tls-key", "", "the private key (PEM) of --tls-cert")
}

// webCertificate is the certificate the listener shows browsers and
// third-party tools: the operator's own (--tls-cert, --tls-key), or a
// self-signed ECDSA one kept in the data directory. Partners never see it:
// they pin the node's Ed25519 key.
func webCertificate(dir string, cfg *datadir.Config, a *serveArgs, addr string) (tls.Certificate, error) {
	switch {
	case a.tlsCert != "" && a.tlsKey != "":
		return datadir.LoadCertificate(a.tlsCert, a.tlsKey)
	case a.tlsCert != "" || a.tlsKey != "":
		return tls.Certificate{}, usagef("--tls-cert and --tls-key go together")
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
		hosts = append(hosts, h)
	}
	for _, u := range []string{a.publicURL, cfg.URL} {
		if pu, err := url.Parse(u); err == nil && pu.Hostname() != "" {
			hosts = append(hosts, pu.Hostname())
		}
	}
	return datadir.WebCertificate(dir, cfg.Name, hosts, time.Now())
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
	opts := server.Options{Insecure: a.insecure, SyncInterval: a.syncInterval, FeedInterval: a.feedInterval, PublicURL: a.publicURL,
		Hotline: hotline.RunOptions{Webhook: a.webhook}}
	if !a.insecure {
		web, err := webCertificate(e.dir, cfg, a, addr)
		if err != nil {
			return err
		}
		opts.WebCert = &web
		fmt.Fprintf(e.stdout, "TLS certificate for browsers and tools: SHA-256 %s\n", datadir.Fingerprint(web))
	}
	srv := server.New(n, logger, opts)
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
