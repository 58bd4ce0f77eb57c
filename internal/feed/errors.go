package feed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"

	"detente"
	"detente/internal/taxii"
)

// pullError is a failed pull: a message for the operator, as a
// *detente.Error with a code, that keeps its cause for errors.Is and
// errors.As (a *taxii.Error, an x509 error, a network error).
type pullError struct {
	err   *detente.Error
	cause error
}

func (e *pullError) Error() string   { return e.err.Message }
func (e *pullError) Unwrap() []error { return []error{e.err, e.cause} }

// explain turns an error of talking to feed name's server into a
// *pullError that says what is wrong and what to do. Context errors and
// errors that are already *detente.Error pass unchanged.
func explain(name string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if _, ok := errors.AsType[*detente.Error](err); ok {
		return err
	}
	wrap := func(code, format string, args ...any) error {
		return &pullError{err: detente.Errorf(code, "feed %s: "+format, append([]any{name}, args...)...), cause: err}
	}
	if te, ok := errors.AsType[*taxii.Error](err); ok {
		switch te.StatusCode {
		case 401:
			return wrap(detente.EUNAUTHORIZED, "the server refused the credentials (401 %s): check the user and password file, or the token file", te.Title)
		case 403:
			return wrap(detente.EFORBIDDEN, "the credentials may not read this feed (403 %s)", te.Title)
		case 404:
			return wrap(detente.ENOTFOUND, "the server has no such collection or file, or hides it from these credentials (404 %s)", te.Title)
		}
		return wrap(detente.EUNAVAILABLE, "the server answered %s", te.Error())
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA):
		return wrap(detente.EUNAVAILABLE, "the server's TLS certificate is not signed by a trusted CA (%v): give the CA that signs it with --ca-file", unknownCA)
	case errors.As(err, &hostname):
		return wrap(detente.EUNAVAILABLE, "the server's TLS certificate is not valid for this host name (%v)", hostname)
	case errors.As(err, &invalid):
		return wrap(detente.EUNAVAILABLE, "the server's TLS certificate is not valid (%v)", invalid)
	case errors.As(err, &verify):
		return wrap(detente.EUNAVAILABLE, "the server's TLS certificate does not verify (%v)", verify.Err)
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return wrap(detente.EINVALID, "malformed response: %v", err)
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return wrap(detente.EINVALID, "malformed response: %v", err)
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return wrap(detente.EUNAVAILABLE, "cannot reach the server: %v", err)
	}
	return wrap(detente.EUNAVAILABLE, "%v", err)
}
