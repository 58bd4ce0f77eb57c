// Package bearer reads the token a request authenticates with, the one way
// for the JSON API, TAXII and the console's login.
package bearer

import (
	"net/http"
	"strings"
)

// Token returns the secret of an "Authorization: Bearer <secret>" header,
// or, for TAXII clients that only speak HTTP Basic, the Basic password; ""
// when the request carries none.
func Token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	if _, p, ok := r.BasicAuth(); ok {
		return p
	}
	return ""
}
