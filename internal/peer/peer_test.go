package peer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/peer"
)

// node is one side of a test exchange: a key and its certificate.
type node struct {
	name string
	key  ed25519.PrivateKey
	cert tls.Certificate
}

func newNode(t *testing.T, name string) *node {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &node{name: name, key: key, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

func (n *node) pub() detente.PublicKey { return detente.PublicKey(n.key.Public().(ed25519.PublicKey)) }

// exchange is a server node serving the protocol over TLS to the
// partners it knows, and a client node that is one of them.
type exchange struct {
	srv      *httptest.Server
	server   *peer.Server
	client   *peer.Client
	partners map[string]*detente.Partner // what the server knows, by key
	caller   *detente.Partner            // the client as the server knows it
}

func newExchange(t *testing.T) *exchange {
	t.Helper()
	alpha, bravo := newNode(t, "alpha"), newNode(t, "bravo")
	x := &exchange{partners: map[string]*detente.Partner{}}
	x.caller = &detente.Partner{Name: "bravo", Key: bravo.pub(), State: detente.PartnerActive}
	x.partners[string(bravo.pub())] = x.caller
	mux := http.NewServeMux()
	x.server = peer.NewServer(mux, func(_ context.Context, k detente.PublicKey) (*detente.Partner, error) {
		if p, ok := x.partners[string(k)]; ok {
			return p, nil
		}
		return nil, detente.Errorf(detente.ENOTFOUND, "no partner has key %s", k)
	}, nil)
	x.srv = httptest.NewUnstartedServer(mux)
	x.srv.TLS = &tls.Config{Certificates: []tls.Certificate{alpha.cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS13}
	x.srv.StartTLS()
	t.Cleanup(x.srv.Close)
	x.client = peer.NewClient(bravo.cert, &detente.Partner{Name: "alpha", Key: alpha.pub(), URL: x.srv.URL})
	t.Cleanup(x.client.Close)
	return x
}

// get sends a raw request as the client node and returns the status,
// content type and body.
func (x *exchange) get(t *testing.T, method, path, body string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, x.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := x.client.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestPartnersOnly: the protocol's endpoints answer active partners only;
// a node without a certificate, or one the server does not know, or a
// suspended partner, gets 401.
func TestPartnersOnly(t *testing.T) {
	x := newExchange(t)
	x.server.LogRoutes(&fakeLog{})
	x.server.ConsentRoutes(fakeConsents(nil))
	paths := []string{"/detente/v1/log/checkpoint", "/detente/v1/log/witnessed?origin=x", "/detente/v1/consents"}

	anon := x.srv.Client() // trusts the server, presents no certificate
	for _, p := range paths {
		resp, err := anon.Get(x.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"code":"unauthorized"`) {
			t.Errorf("GET %s without a certificate: %d %s", p, resp.StatusCode, b)
		}
	}

	x.caller.State = detente.PartnerSuspended
	for _, p := range paths {
		if code, _, body := x.get(t, "GET", p, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s as a suspended partner: %d %s", p, code, body)
		}
	}
	clear(x.partners)
	if _, err := x.client.Checkpoint(context.Background()); detente.ErrorCode(err) != detente.EUNAVAILABLE {
		t.Errorf("Checkpoint from a node that does not know us: %v, want EUNAVAILABLE (its refusal of our key)", err)
	}
}
