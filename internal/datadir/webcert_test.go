package datadir

import (
	"crypto/x509"
	"testing"
	"time"
)

// TestWebCertificateKept: the certificate is made once, kept across
// calls, names the hosts asked for, is ECDSA (browsers refuse Ed25519),
// and StoredFingerprint reads the same fingerprint serve prints.
func TestWebCertificateKept(t *testing.T) {
	dir := t.TempDir()
	if fp, err := StoredFingerprint(dir); err != nil || fp != "" {
		t.Fatalf("before serve: fingerprint %q, %v; want none", fp, err)
	}
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	first, err := WebCertificate(dir, "alpha", []string{"127.0.0.1", "alpha.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, want ECDSA", leaf.PublicKeyAlgorithm)
	}
	if err := leaf.VerifyHostname("alpha.example"); err != nil {
		t.Error(err)
	}
	again, err := WebCertificate(dir, "alpha", []string{"alpha.example"}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(again) != Fingerprint(first) {
		t.Error("a second start made a new certificate; pins made by users would break")
	}
	fp, err := StoredFingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fp != Fingerprint(first) || len(fp) != 32*3-1 {
		t.Errorf("stored fingerprint %q, want %q", fp, Fingerprint(first))
	}
}
