// Package server assembles what `detente serve` serves on one listener:
// TAXII 2.1 under /taxii2/ for partners (mutual TLS, pinned node keys) and
// local tools (tokens), the JSON API under /api/, and the background work of
// a running node (pulling from partners, signing checkpoints). It is shared
// by the serve command and the demo.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"detente/internal/api"
	"detente/internal/datadir"
	"detente/internal/hotline"
	"detente/internal/node"
	"detente/internal/peer"
	"detente/internal/taxii"
	"detente/internal/web"
)

// Options configures a Server.
type Options struct {
	// Insecure serves plain HTTP, for local development only: partners
	// cannot authenticate without TLS.
	Insecure bool
	// SyncInterval is how often to pull from partners; 0 disables pulling.
	SyncInterval time.Duration
	// FeedInterval is how often to pull the node's feeds; 0 disables
	// pulling them.
	FeedInterval time.Duration
	// MaxBackoff bounds the wait before retrying a failing partner or feed.
	MaxBackoff time.Duration
	// CheckpointInterval is how often to sign a checkpoint while the log
	// grows; 0 means every second.
	CheckpointInterval time.Duration
	// PublicURL is the node's URL as partners reach it; "" derives it from
	// requests.
	PublicURL string
	// WebCert is the certificate the listener presents to browsers and
	// third-party clients (datadir.WebCertificate, or the operator's own);
	// partners, which ask for peer.ServerName, get the node's Ed25519
	// certificate. Nil means a self-signed ECDSA certificate made for this
	// run.
	WebCert *tls.Certificate
	// Hotline tunes the liaison channels' background work (outbox,
	// escalation, heartbeats) and names the alert webhook.
	Hotline hotline.RunOptions
	// ReciprocityInterval is how often to apply the agreements'
	// reciprocity terms (internal/ledger); 0 means every minute.
	ReciprocityInterval time.Duration
}

// Server serves one node.
type Server struct {
	node   *node.Node
	logger *slog.Logger
	opts   Options
	ln     net.Listener
	http   *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server for n.
func New(n *node.Node, logger *slog.Logger, opts Options) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Second
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.ReciprocityInterval == 0 {
		opts.ReciprocityInterval = time.Minute
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(n, logger))
	tx := taxii.NewServer(n.TAXIISource(), taxii.Options{
		Title: "detente node " + n.Name, PublicURL: opts.PublicURL, Logger: logger,
		AuthChallenge: `Basic realm="detente"`, CursorKey: n.SubKey("detente/taxii/cursor/v1"),
	})
	mux.Handle("/taxii2/", taxiiAuth(n, tx))
	partnerRoutes(mux, n, logger)
	mux.Handle("/", web.New(n, logger))
	s := &Server{node: n, logger: logger, opts: opts}
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Listen binds addr (e.g. "127.0.0.1:0" for any free port), starts serving
// and starts the node's background work.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if !s.opts.Insecure {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		hosts := []string{host, "localhost", "127.0.0.1", "::1"}
		nodeCert, err := s.node.TLSCertificate(hosts)
		if err != nil {
			ln.Close()
			return err
		}
		web := s.opts.WebCert
		if web == nil {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err == nil {
				var c tls.Certificate
				c, err = datadir.SelfSigned(key, s.node.Name, hosts, time.Now())
				web = &c
			}
			if err != nil {
				ln.Close()
				return err
			}
		}
		s.http.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS13,
			// Partners ask for peer.ServerName and pin the node's Ed25519
			// key; browsers do not accept Ed25519 certificates, so
			// everyone else gets the web certificate.
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if hello.ServerName == peer.ServerName {
					return &nodeCert, nil
				}
				return web, nil
			},
			// Partners present their node certificate; it is checked
			// against the pinned keys per request. Local users have none.
			ClientAuth: tls.RequestClientCert,
		}
		ln = tls.NewListener(ln, s.http.TLSConfig)
		s.logger.Info("TLS certificate for browsers and tools", "sha256", datadir.Fingerprint(*web))
	}
	s.ln = ln
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("server stopped", "err", err)
		}
	}()
	s.wg.Add(1)
	go func() { // built now, the corroboration index keeps the first request fast
		defer s.wg.Done()
		if err := s.node.Corroboration.Build(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("corroboration index not built: the first request builds it", "err", err)
		}
	}()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.node.RunCheckpointer(ctx, s.opts.CheckpointInterval) }()
	s.startHotline(ctx)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.node.Ledger.Run(ctx, s.opts.ReciprocityInterval) }()
	if s.opts.SyncInterval > 0 {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.node.Federation.RunSync(ctx, s.opts.SyncInterval, s.opts.MaxBackoff) }()
	}
	if s.opts.FeedInterval > 0 {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.node.Feeds.Run(ctx, s.opts.FeedInterval, s.opts.MaxBackoff) }()
	}
	s.logger.Info("serving", "node", s.node.Name, "url", s.URL())
	return nil
}

// URL is the base URL the server answers on.
func (s *Server) URL() string {
	scheme := "https"
	if s.opts.Insecure {
		scheme = "http"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// Shutdown stops the background work, stops accepting requests and waits
// for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	err := s.http.Shutdown(ctx)
	s.wg.Wait()
	return err
}
