package node

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"

	"detente"
	"detente/internal/peer"
	"detente/internal/taxii"
)

// TLSCertificate returns a self-signed certificate for the node's own
// Ed25519 key, valid for the given host names and addresses. Partners pin
// the key, not a CA: the certificate only carries it.
func (n *Node) TLSCertificate(hosts []string) (tls.Certificate, error) {
	now := n.now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "detente node " + n.Name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, n.Key.Public(), n.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: n.Key}, nil
}

// PartnerClient returns an HTTP client for p over mutual TLS: this node
// presents its certificate and accepts only a server carrying p's pinned
// key (peer.ClientTLS).
func (n *Node) PartnerClient(p *detente.Partner) (*http.Client, error) {
	cert, err := n.TLSCertificate(nil)
	if err != nil {
		return nil, err
	}
	return peer.HTTPClient(cert, p), nil
}

// PeerClient returns a client of the partner protocol (internal/peer) for
// p.
func (n *Node) PeerClient(p *detente.Partner) (*peer.Client, error) {
	hc, err := n.PartnerClient(p)
	if err != nil {
		return nil, err
	}
	return &peer.Client{HTTP: hc, BaseURL: p.URL, Partner: p.Name}, nil
}

// TAXIIClient returns a TAXII client for partner p's API root, over hc
// (a client from PartnerClient).
func (n *Node) TAXIIClient(p *detente.Partner, hc *http.Client) *taxii.Client {
	return &taxii.Client{HTTP: hc, BaseURL: strings.TrimSuffix(p.URL, "/") + "/taxii2/api/"}
}
