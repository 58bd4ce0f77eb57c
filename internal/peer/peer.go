// Package peer is the protocol partner nodes speak to each other besides
// TAXII: the transparency log (checkpoints, proofs, cosignatures, gossip,
// release receipts), consents, liaison channels and private matching, all
// under /detente/v1/ over mutual TLS with pinned Ed25519 node keys.
//
// Like internal/taxii, the package owns the protocol only — routes, wire
// types, encodings, errors, authentication — and both of its halves live
// here, each endpoint's server beside its client. The capabilities answer
// through small interfaces (one per group of endpoints, in the file of that
// group) and call partners through Client; the package knows nothing of
// storage.
package peer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"detente"
	"detente/internal/httperr"
)

// Prefix starts every path of the protocol.
const Prefix = "/detente/v1/"

// ---- authentication ----

// CertificateKey returns the Ed25519 node key in the leaf of a peer's
// certificate chain.
func CertificateKey(raw [][]byte) (detente.PublicKey, error) {
	if len(raw) == 0 {
		return nil, errors.New("no certificate presented")
	}
	c, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return nil, fmt.Errorf("peer certificate: %w", err)
	}
	k, ok := c.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("peer certificate does not carry an Ed25519 node key")
	}
	return detente.PublicKey(k), nil
}

// ServerName is the TLS server name (SNI) partner nodes ask for: a node's
// listener answers it with its Ed25519 node certificate, which partners
// pin, and every other client (browsers, third-party tools) with a
// certificate they accept (ECDSA, or the operator's own).
const ServerName = "peer.detente.invalid"

// ClientTLS returns the TLS configuration for talking to partner p: this
// node presents cert (mutual TLS), asks for ServerName, and accepts only a
// server whose certificate carries p's pinned key. No CA is involved.
func ClientTLS(cert tls.Certificate, p *detente.Partner) *tls.Config {
	pinned := p.Key
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ServerName:   ServerName,
		MinVersion:   tls.VersionTLS13,
		// Verification is by pinned key, in VerifyPeerCertificate below.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			key, err := CertificateKey(raw)
			if err != nil {
				return err
			}
			if !key.Equal(pinned) {
				return fmt.Errorf("partner %s presented key %s, not its pinned key %s", p.Name, key, pinned)
			}
			return nil
		},
	}
}

// HTTPClient returns an HTTP client for partner p over mutual TLS with
// p's key pinned, presenting cert.
func HTTPClient(cert tls.Certificate, p *detente.Partner) *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: ClientTLS(cert, p), ForceAttemptHTTP2: true,
			MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute},
	}
}

// PartnerByKey looks up the partner pinned to a key: an active partner,
// or an error (ENOTFOUND when no partner has the key).
type PartnerByKey func(ctx context.Context, key detente.PublicKey) (*detente.Partner, error)

// Authenticate returns the active partner whose node certificate r
// presented, or nil.
func Authenticate(r *http.Request, byKey PartnerByKey) *detente.Partner {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	raw := make([][]byte, len(r.TLS.PeerCertificates))
	for i, c := range r.TLS.PeerCertificates {
		raw[i] = c.Raw
	}
	key, err := CertificateKey(raw)
	if err != nil {
		return nil
	}
	p, err := byKey(r.Context(), key)
	if err != nil || p == nil || p.State != detente.PartnerActive {
		return nil
	}
	return p
}

// ---- the server half ----

// Server serves the protocol's endpoints. Each group of endpoints is
// registered by its own method (LogRoutes, ConsentRoutes, …) with the
// capability that answers it.
type Server struct {
	mux    *http.ServeMux
	byKey  PartnerByKey
	logger *slog.Logger
}

// NewServer returns a server registering its routes on mux, admitting only
// active partners (byKey). A nil logger logs nothing.
func NewServer(mux *http.ServeMux, byKey PartnerByKey, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{mux: mux, byKey: byKey, logger: logger}
}

// handler answers one request from partner p; an error is written as the
// JSON error body with its status (internal/httperr).
type handler func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error

// handle registers h for pattern ("GET /detente/v1/…"), for partners only:
// anyone else gets 401.
func (s *Server) handle(pattern string, h handler) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := Authenticate(r, s.byKey)
		if p == nil {
			httperr.Write(w, r, nil, "", detente.Errorf(detente.EUNAUTHORIZED, "partner authentication (mutual TLS with a pinned node key) required"))
			return
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	}))
}

// fail writes err as the protocol's JSON error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	httperr.Write(w, r, s.logger, "partner request failed", err)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n')) // the client may have gone; nothing to do about it
	return nil
}

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, httperr.Domain(err)
	}
	return b, nil
}

// ---- the client half ----

// Client speaks the protocol to one partner node.
type Client struct {
	// HTTP is a client for the partner over mutual TLS (HTTPClient).
	HTTP *http.Client
	// BaseURL is the partner's base URL (Partner.URL).
	BaseURL string
	// Partner names the partner in errors.
	Partner string
}

// NewClient returns a client for partner p, presenting cert.
func NewClient(cert tls.Certificate, p *detente.Partner) *Client {
	return &Client{HTTP: HTTPClient(cert, p), BaseURL: p.URL, Partner: p.Name}
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.HTTP.CloseIdleConnections() }

// maxResponse bounds what is read of a response.
const maxResponse = 64 << 20

// do sends a request and returns the response body when the status is
// 2xx. A partner's JSON error comes back as a *detente.Error with the
// partner's code and message (so a refusal stays a refusal); a partner
// that cannot be reached is EUNAVAILABLE.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, contentType string, body []byte) (int, []byte, error) {
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		return 0, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %v", c.Partner, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %s %s: %v", c.Partner, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, b, remoteError(c.Partner, resp.StatusCode, b)
	}
	return resp.StatusCode, b, nil
}

// remoteError turns a partner's error response into an error.
func remoteError(partner string, status int, body []byte) error {
	var eb httperr.Body
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		code := eb.Error.Code
		if code == detente.EINTERNAL || code == detente.EUNAUTHORIZED {
			// Its internal failure, or its refusal of our key: neither is
			// ours to fix by retrying otherwise.
			code = detente.EUNAVAILABLE
		}
		return &detente.Error{Code: code, Message: "partner " + partner + ": " + eb.Error.Message}
	}
	return detente.Errorf(detente.EUNAVAILABLE, "partner %s: %s", partner, http.StatusText(status))
}

// getJSON GETs path and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	_, b, err := c.do(ctx, http.MethodGet, path, q, "", nil)
	if err != nil {
		return err
	}
	return decodeAnswer(c.Partner, path, b, v)
}

// postJSON POSTs in as JSON to path and decodes the answer into out (when
// not nil).
func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	_, ans, err := c.do(ctx, http.MethodPost, path, nil, "application/json", b)
	if err != nil || out == nil {
		return err
	}
	return decodeAnswer(c.Partner, path, ans, out)
}

func decodeAnswer(partner, path string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return detente.Errorf(detente.EUNAVAILABLE, "partner %s: %s: answer is not what the protocol says: %v", partner, path, err)
	}
	return nil
}
