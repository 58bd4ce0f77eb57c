// Package httperr is the one place where errors become HTTP statuses, for
// every face of the node: the JSON API, the console, TAXII and the partner
// endpoints. An error carries a detente error code (detente.Error); the
// code decides the status, and the message is shown only when it is meant
// for people. Anything else is an internal error: logged, never shown.
package httperr

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"detente"
)

// statuses maps every detente error code to its HTTP status.
var statuses = map[string]int{
	detente.EINVALID:      http.StatusBadRequest,
	detente.ENOTFOUND:     http.StatusNotFound,
	detente.ECONFLICT:     http.StatusConflict,
	detente.EEXISTS:       http.StatusConflict,
	detente.EUNAUTHORIZED: http.StatusUnauthorized,
	detente.EFORBIDDEN:    http.StatusForbidden,
	detente.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	detente.EDENIED:       http.StatusForbidden,
	detente.EUNAVAILABLE:  http.StatusServiceUnavailable,
	detente.EINTERNAL:     http.StatusInternalServerError,
}

// Domain returns err as a domain error: a body over a size limit
// (http.MaxBytesError) becomes ETOOLARGE; anything else is returned as it
// is.
func Domain(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return detente.Errorf(detente.ETOOLARGE, "request body is over %d bytes", mbe.Limit)
	}
	return err
}

// Status returns the HTTP status of err: 500 for anything that is not a
// domain error.
func Status(err error) int {
	if s, ok := statuses[detente.ErrorCode(Domain(err))]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusOfCode returns the HTTP status of a detente error code.
func StatusOfCode(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Body is the JSON of every error response of the API and the partner
// endpoints: {"error": {"code": "invalid", "message": "…"}}.
type Body struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// BodyOf returns the error body of err: its code and message, or
// "internal" and "internal error".
func BodyOf(err error) Body {
	err = Domain(err)
	var b Body
	b.Error.Code, b.Error.Message = detente.ErrorCode(err), detente.ErrorMessage(err)
	return b
}

// Log logs err at the level its status calls for, with the request: an
// internal error as an error (its details stay in the log), an
// unavailable dependency as a warning, anything else not at all.
func Log(logger *slog.Logger, r *http.Request, what string, err error) {
	if logger == nil {
		return
	}
	switch Status(err) {
	case http.StatusInternalServerError:
		logger.ErrorContext(r.Context(), what, "method", r.Method, "path", r.URL.Path, "err", err)
	case http.StatusServiceUnavailable:
		logger.WarnContext(r.Context(), what, "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// Write answers a request with err as a JSON error body and its status,
// logging it first (Log, with what naming the face: "api request failed").
func Write(w http.ResponseWriter, r *http.Request, logger *slog.Logger, what string, err error) {
	Log(logger, r, what, err)
	b, _ := json.Marshal(BodyOf(err))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(Status(err))
	w.Write(append(b, '\n')) // the client may have gone; nothing to do about it
}
