package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"detente"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{detente.Errorf(detente.EINVALID, "x"), 400},
		{detente.Errorf(detente.EUNAUTHORIZED, "x"), 401},
		{detente.Errorf(detente.EFORBIDDEN, "x"), 403},
		{detente.Errorf(detente.EDENIED, "x"), 403},
		{detente.Errorf(detente.ENOTFOUND, "x"), 404},
		{detente.Errorf(detente.ECONFLICT, "x"), 409},
		{detente.Errorf(detente.EEXISTS, "x"), 409},
		{detente.Errorf(detente.ETOOLARGE, "x"), 413},
		{&http.MaxBytesError{Limit: 10}, 413},
		{fmt.Errorf("wrapped: %w", detente.Errorf(detente.EUNAVAILABLE, "down")), 503},
		{detente.Errorf(detente.EINTERNAL, "x"), 500},
		{errors.New("sql: no rows"), 500},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	// Every code the domain defines has a status of its own.
	for _, code := range []string{detente.EINVALID, detente.ENOTFOUND, detente.ECONFLICT, detente.EUNAUTHORIZED, detente.EFORBIDDEN,
		detente.ETOOLARGE, detente.EINTERNAL, detente.EDENIED, detente.EUNAVAILABLE, detente.EEXISTS} {
		if _, ok := statuses[code]; !ok {
			t.Errorf("code %q has no status", code)
		}
	}
}

func TestWriteHidesInternals(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, httptest.NewRequest("GET", "/x", nil), nil, "", fmt.Errorf("query objects: %w", errors.New("disk I/O error at /var/lib/detente/node.db")))
	if w.Code != 500 || strings.Contains(w.Body.String(), "disk") || !strings.Contains(w.Body.String(), `"internal error"`) {
		t.Errorf("internal error shown: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	Write(w, httptest.NewRequest("GET", "/x", nil), nil, "", detente.Errorf(detente.ENOTFOUND, "object x not found"))
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"code":"not_found"`) || !strings.Contains(w.Body.String(), "object x not found") {
		t.Errorf("domain error: %d %s", w.Code, w.Body)
	}
}
