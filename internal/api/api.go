// Package api serves the node's JSON API (/api/v1/…) to local users and the
// CLI. Every endpoint authenticates a bearer token and checks its role;
// errors are JSON objects with a code and a human message, and internal
// details go to the log only. docs/api.md documents every endpoint.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"detente"
	"detente/internal/bearer"
	"detente/internal/httperr"
	"detente/internal/node"
	"detente/internal/params"
)

// Body size limits.
const (
	// MaxObjectsBody bounds an ingested STIX bundle.
	MaxObjectsBody = 64 << 20
	// MaxBody bounds every other request body.
	MaxBody = 1 << 20
)

// Server is the JSON API over one node.
type Server struct {
	node   *node.Node
	logger *slog.Logger
	mux    *http.ServeMux
	// takes lists the query parameters of each route pattern, for the
	// tests that send every route a bad value of each.
	takes map[string][]string
}

// New returns the API handler for n.
func New(n *node.Node, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{node: n, logger: logger, mux: http.NewServeMux(), takes: map[string][]string{}}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

var (
	anyRole     = []detente.Role{detente.RoleAdmin, detente.RoleAnalyst, detente.RoleAuditor}
	analysts    = []detente.Role{detente.RoleAdmin, detente.RoleAnalyst}
	admins      = []detente.Role{detente.RoleAdmin}
	auditors    = []detente.Role{detente.RoleAdmin, detente.RoleAuditor}
	tokenCtxKey = ctxKey("token")
	queryCtxKey = ctxKey("query")
)

type ctxKey string

// handlerFunc is an API handler that returns what to send or an error.
type handlerFunc func(r *http.Request) (any, error)

// handle registers h for pattern, open to the given roles only, taking
// the query parameters ps and no others. Parameters are checked before h
// runs, so a request with a bad or unknown parameter is refused with 400
// and changes nothing; h reads them with query(r).
func (s *Server) handle(pattern string, roles []detente.Role, limit int64, h handlerFunc, ps ...params.Param) {
	for _, p := range ps {
		s.takes[pattern] = append(s.takes[pattern], p.Name)
	}
	if s.takes[pattern] == nil {
		s.takes[pattern] = []string{}
	}
	wild := pathWildcards(pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="detente"`)
			s.writeError(w, r, err)
			return
		}
		if !slices.Contains(roles, tok.Role) {
			s.writeError(w, r, detente.Errorf(detente.EFORBIDDEN, "role %s may not do this", tok.Role))
			return
		}
		q, err := params.Parse(r.URL.RawQuery, ps...)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, name := range wild {
			if !utf8.ValidString(r.PathValue(name)) {
				s.writeError(w, r, detente.Errorf(detente.EINVALID, "%s: not valid UTF-8 (a path parameter)", name))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ctx := context.WithValue(r.Context(), tokenCtxKey, tok)
		r = r.WithContext(context.WithValue(ctx, queryCtxKey, q))
		v, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if raw, ok := v.(rawResponse); ok {
			raw.write(w)
			return
		}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
			if st, ok := v.(statusCoder); ok {
				status = st.StatusCode()
			}
		}
		writeJSON(w, status, v)
	})
}

// query returns the checked query parameters of r, as declared with its
// route.
func query(r *http.Request) params.Values {
	q, _ := r.Context().Value(queryCtxKey).(params.Values)
	return q
}

// statusCoder lets a response choose its own success status.
type statusCoder interface{ StatusCode() int }

// Token returns the authenticated token of r.
func Token(r *http.Request) *detente.Token {
	t, _ := r.Context().Value(tokenCtxKey).(*detente.Token)
	return t
}

// authenticate accepts "Authorization: Bearer <secret>" and, for TAXII
// clients that only speak HTTP Basic, a token as the Basic password.
func (s *Server) authenticate(r *http.Request) (*detente.Token, error) {
	secret := bearer.Token(r)
	if secret == "" {
		return nil, detente.Errorf(detente.EUNAUTHORIZED, "authentication required: send 'Authorization: Bearer <token>'")
	}
	return s.node.Authenticate(r.Context(), secret)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httperr.Log(s.logger, r, "api request failed", err)
	writeJSON(w, httperr.Status(err), httperr.BodyOf(err))
}

// writeJSON sends v as indented JSON. It does not escape <, > and & in
// strings: responses are application/json with nosniff, never HTML, and raw
// JSON they carry (log entry bodies, STIX objects) must survive byte for
// byte up to whitespace, so that clients can recompute hashes over it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v) // the client may have gone; nothing to do about it
}

// rawResponse is a successful response sent as is rather than encoded as
// JSON: a signed note, or a file to download.
type rawResponse struct {
	contentType string
	filename    string // when set, the body is an attachment of this name
	body        []byte
}

func (raw rawResponse) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", raw.contentType)
	if raw.filename != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": raw.filename}))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(raw.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(raw.body) // the client may have gone; nothing to do about it
}

// decode reads a JSON request body into v, rejecting unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return detente.Errorf(detente.EINVALID, "request body: %v", err)
	}
	return nil
}

// maxLimit bounds the limit parameter of every listing.
const maxLimit = 1000

// Parameters several endpoints take.
var (
	// limit bounds a listing; 0 is refused (the store reads it as "no
	// limit"), and so is more than maxLimit rather than quietly lowered.
	limit = params.Int("limit", 1, maxLimit)
	// seqParam is a position in the log, or one past it.
	seqParam = func(name string) params.Param { return params.Int(name, 0, math.MaxInt64) }
	// sizeParam is a tree size: the empty tree has no proofs.
	sizeParam = func(name string) params.Param { return params.Int(name, 1, math.MaxInt64) }
	// entityType is the kind of a screened or compared name.
	entityType = params.Enum("type", string(detente.EntityPerson), string(detente.EntityOrganization))
)

// pathWildcards returns the names of the wildcards ({name}, {name...}) in
// a ServeMux pattern, whose values are checked like query parameters.
func pathWildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(pattern[i+1:i+j], "..."); name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}
