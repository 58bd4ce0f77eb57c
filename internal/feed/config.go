package feed

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"detente"
	"detente/internal/taxii"
)

// Format is the protocol a feed speaks.
type Format string

// Feed formats.
const (
	// FormatTAXII is a TAXII 2.1 collection: Config.URL is the collection's
	// URL, ".../collections/<id>/".
	FormatTAXII Format = "taxii"
	// FormatMISP is a MISP JSON feed: Config.URL is the directory holding
	// manifest.json and one <event uuid>.json per event.
	FormatMISP Format = "misp"
)

// DefaultTLP is the TLP given to a feed's objects that carry no TLP marking
// when Config.TLP is zero.
const DefaultTLP = detente.TLPAmber

// DefaultPageSize is the number of objects a TAXII pull asks for per page
// when Config.PageSize is 0. Servers may serve fewer.
const DefaultPageSize = 1000

// SourcePrefix prefixes a feed's name in Item.Source and in the originator
// of objects without a creator ("feed:misp-main").
const SourcePrefix = "feed:"

// Config is one feed as the operator configured it. The node stores it as
// it is (JSON); the secrets themselves stay in the files named by
// PasswordFile and TokenFile, read at each pull, so they can be rotated
// without touching the node and never sit in its store.
type Config struct {
	// Name identifies the feed in the node: 1-64 characters a-z, 0-9, '.',
	// '_' and '-', starting with a letter or digit.
	Name string `json:"name"`
	// URL is the TAXII 2.1 collection URL (FormatTAXII) or the MISP feed
	// directory (FormatMISP). It must be https, except on a loopback host.
	URL string `json:"url"`
	// Format is FormatTAXII (the default when empty) or FormatMISP.
	Format Format `json:"format,omitempty"`

	// Username and PasswordFile give HTTP Basic credentials; TokenFile a
	// bearer token. At most one kind may be set.
	Username     string `json:"username,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
	TokenFile    string `json:"token_file,omitempty"`
	// CAFile is a PEM file of the CA certificates that sign the server's
	// certificate, for a platform with an internal CA. Empty: the system
	// roots.
	CAFile string `json:"ca_file,omitempty"`

	// Grading is the Admiralty grading given to objects that carry none of
	// their own (no detente grading, no admiralty-scale tags). Zero: none.
	Grading detente.Grading `json:"grading,omitzero"`
	// TLP is given to objects without a TLP marking; zero means DefaultTLP.
	TLP detente.TLP `json:"tlp,omitzero"`
	// Originate says the feed is the agency's own platform: this node signs
	// the objects it brings and is their originator. Otherwise they stay
	// unsigned, attributed to their creator identity or to the feed, and
	// the third-party rule applies to them.
	Originate bool `json:"originate,omitempty"`
	// PageSize is the number of objects a TAXII pull asks for per page;
	// DefaultPageSize if 0.
	PageSize int `json:"page_size,omitempty"`

	// Password, Token and RootCAs, when set, are used instead of reading
	// PasswordFile, TokenFile and CAFile (for callers that hold the secrets
	// in memory, and tests). They are never serialised.
	Password string         `json:"-"`
	Token    string         `json:"-"`
	RootCAs  *x509.CertPool `json:"-"`
}

// Validate checks the configuration without reading any file or network.
// Errors are *detente.Error with code EINVALID and a message for the
// operator.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return detente.Errorf(detente.EINVALID, "feed %s: "+format, append([]any{c.Name}, args...)...)
	}
	if !validName(c.Name) {
		return detente.Errorf(detente.EINVALID, "feed name %q must be 1-64 characters a-z, 0-9, '.', '_' and '-', starting with a letter or digit", c.Name)
	}
	switch c.format() {
	case FormatTAXII:
		if _, _, err := taxii.ParseCollectionURL(c.URL); err != nil {
			return bad("%v", err)
		}
	case FormatMISP:
		u, err := url.Parse(c.URL)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
			return bad("URL %q is not an absolute URL", c.URL)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return bad("URL %q must not carry credentials, a query or a fragment", c.URL)
		}
	default:
		return bad("unknown format %q (want taxii or misp)", c.Format)
	}
	u, _ := url.Parse(c.URL)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return bad("URL %q must start with https:// (http:// only on a loopback host): feeds carry intelligence and credentials", c.URL)
	}
	basic := c.Username != "" || c.PasswordFile != "" || c.Password != ""
	bearer := c.TokenFile != "" || c.Token != ""
	if basic && bearer {
		return bad("give either a user and password or a token, not both")
	}
	if !c.Grading.IsZero() {
		if g, err := detente.ParseGrading(c.Grading.String()); err != nil || g != c.Grading {
			return bad("invalid grading %q", c.Grading.String())
		}
	}
	if c.TLP != 0 && detente.MarkingOfTLP(c.TLP) == "" {
		return bad("invalid TLP %d", int(c.TLP))
	}
	if c.PageSize < 0 {
		return bad("page size %d is negative", c.PageSize)
	}
	return nil
}

func (c *Config) format() Format {
	if c.Format == "" {
		return FormatTAXII
	}
	return c.Format
}

// tlp returns the TLP given to objects without one.
func (c *Config) tlp() detente.TLP {
	if c.TLP == 0 {
		return DefaultTLP
	}
	return c.TLP
}

func (c *Config) pageSize() int {
	if c.PageSize <= 0 {
		return DefaultPageSize
	}
	return c.PageSize
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// credentials are a feed's secrets, read for one pull.
type credentials struct {
	username, password, token string
}

// credentials reads the secrets of c: Password and Token if set, else the
// files. A trailing newline in a file is not part of the secret.
func (c *Config) credentials() (credentials, error) {
	cr := credentials{username: c.Username, password: c.Password, token: c.Token}
	read := func(path, what string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", detente.Errorf(detente.EINVALID, "feed %s: cannot read the %s file %s: %v", c.Name, what, path, errorsUnwrapPath(err))
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", detente.Errorf(detente.EINVALID, "feed %s: the %s file %s is empty", c.Name, what, path)
		}
		return s, nil
	}
	var err error
	if cr.password == "" && c.PasswordFile != "" {
		if cr.password, err = read(c.PasswordFile, "password"); err != nil {
			return cr, err
		}
	}
	if cr.token == "" && c.TokenFile != "" {
		if cr.token, err = read(c.TokenFile, "token"); err != nil {
			return cr, err
		}
	}
	return cr, nil
}

// errorsUnwrapPath returns the reason of a *os.PathError without repeating
// the path.
func errorsUnwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// HTTPClient returns the HTTP client a pull of c uses: TLS 1.2 or later,
// the server certificate checked against RootCAs, else CAFile, else the
// system roots, and a timeout per request.
func (c *Config) HTTPClient() (*http.Client, error) {
	pool := c.RootCAs
	if pool == nil && c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "feed %s: cannot read the CA file %s: %v", c.Name, c.CAFile, errorsUnwrapPath(err))
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, detente.Errorf(detente.EINVALID, "feed %s: the CA file %s holds no PEM certificate", c.Name, c.CAFile)
		}
	}
	return &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     time.Minute,
			TLSHandshakeTimeout: 30 * time.Second,
		},
	}, nil
}

// String describes c for logs and status, without secrets.
func (c *Config) String() string {
	return fmt.Sprintf("%s (%s %s)", c.Name, c.format(), c.URL)
}
