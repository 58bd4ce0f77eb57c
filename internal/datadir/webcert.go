package datadir

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"detente"
)

// The listener's own certificate, for browsers and third-party clients.
const (
	WebKeyFile  = "tls.key"
	WebCertFile = "tls.crt"
)

// webCertLifetime is how long a self-signed listener certificate lasts
// before WebCertificate makes a new one (with the same key).
const webCertLifetime = 365 * 24 * time.Hour

// WebCertificate returns the certificate the node's listener presents to
// browsers and third-party clients (partners see the node's Ed25519
// certificate, which browsers do not accept): an ECDSA P-256 certificate,
// self-signed, kept in dir (tls.key, mode 0600, and tls.crt) so that it
// stays the same across restarts and an exception or pin made once keeps
// working. It is made on first use, and made again (with the same key)
// when it expires within a month or does not name one of hosts.
func WebCertificate(dir, name string, hosts []string, now time.Time) (tls.Certificate, error) {
	keyPath, certPath := filepath.Join(dir, WebKeyFile), filepath.Join(dir, WebCertFile)
	key, err := readECKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return tls.Certificate{}, fmt.Errorf("generate TLS key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("encode TLS key: %w", err)
		}
		if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return tls.Certificate{}, err
		}
	} else if err != nil {
		return tls.Certificate{}, err
	}
	if b, err := os.ReadFile(certPath); err == nil {
		if c, err := tls.X509KeyPair(b, pemKey(key)); err == nil && fits(c, hosts, now) {
			return c, nil
		}
	}
	c, err := SelfSigned(key, name, hosts, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmp := certPath + ".new"
	os.Remove(tmp)
	if err := writeNew(tmp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.Rename(tmp, certPath); err != nil {
		return tls.Certificate{}, fmt.Errorf("write %s: %w", WebCertFile, err)
	}
	return c, nil
}

// LoadCertificate reads the operator's own certificate chain and key (PEM
// files, e.g. from the agency's PKI) for the listener.
func LoadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, detente.Errorf(detente.EINVALID, "TLS certificate %s and key %s: %v", certFile, keyFile, err)
	}
	return c, nil
}

// SelfSigned returns a self-signed ECDSA certificate for key, valid for
// hosts (names or addresses) for a year from now.
func SelfSigned(key *ecdsa.PrivateKey, name string, hosts []string, now time.Time) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "detente node " + name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(webCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Fingerprint returns the SHA-256 fingerprint of c's leaf, as browsers
// show it: upper-case hex pairs joined by colons.
func Fingerprint(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	pairs := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		pairs = append(pairs, h[i:i+2])
	}
	return strings.Join(pairs, ":")
}

// StoredFingerprint returns the fingerprint of the self-signed listener
// certificate kept in dir, or "" when serve has not made one yet.
func StoredFingerprint(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, WebCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s: not a PEM certificate", filepath.Join(dir, WebCertFile))
	}
	return Fingerprint(tls.Certificate{Certificate: [][]byte{block.Bytes}}), nil
}

// fits reports whether c is valid for a month more and names every host.
func fits(c tls.Certificate, hosts []string, now time.Time) bool {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || now.Add(30*24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(leaf.DNSNames, h) {
			return false
		}
	}
	return true
}

func readECKey(path string) (*ecdsa.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, detente.Errorf(detente.EINVALID, "%s is readable by others (mode %v): run 'chmod 600 %s'", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, detente.Errorf(detente.EINVALID, "%s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "%s: %v", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, detente.Errorf(detente.EINVALID, "%s is not an ECDSA key", path)
	}
	return ec, nil
}

func pemKey(k *ecdsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
