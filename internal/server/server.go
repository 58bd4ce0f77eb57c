// Package server assembles what `detente serve` serves on one listener:
// the JSON API under /api/, and (as they land) TAXII under /taxii2/ and the
// web console under /. It is shared by the serve command and the demo.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"detente/internal/api"
	"detente/internal/node"
)

// Server serves one node.
type Server struct {
	node     *node.Node
	logger   *slog.Logger
	ln       net.Listener
	http     *http.Server
	insecure bool
}

// New returns a server for n. Insecure serves plain HTTP, for local
// development only.
func New(n *node.Node, logger *slog.Logger, insecure bool) *Server {
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(n, logger))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "detente node %s\nkey %s\nJSON API: /api/v1/ (bearer token)\n", n.Name, n.PublicKey())
	})
	s := &Server{node: n, logger: logger, insecure: insecure}
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

// Listen binds addr (e.g. "127.0.0.1:0" for any free port) and starts
// serving in the background.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if !s.insecure {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		cert, err := s.node.TLSCertificate([]string{host, "localhost", "127.0.0.1", "::1"})
		if err != nil {
			ln.Close()
			return err
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
		ln = tls.NewListener(ln, s.http.TLSConfig)
	}
	s.ln = ln
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("server stopped", "err", err)
		}
	}()
	s.logger.Info("serving", "node", s.node.Name, "url", s.URL())
	return nil
}

// URL is the base URL the server answers on.
func (s *Server) URL() string {
	scheme := "https"
	if s.insecure {
		scheme = "http"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.Shutdown(ctx)
}
