package taxii

import (
	"bytes"
	"context"
	"detente/internal/httperr"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"detente"
)

// Defaults for Options fields left zero.
const (
	DefaultDiscoveryPath    = "/taxii2/"
	DefaultAPIRootPath      = "/taxii2/api/"
	DefaultMaxContentLength = 64 << 20
	DefaultPageSize         = 100
	DefaultMaxPageSize      = 1000
)

// Response headers carrying the date_added of a page's first and last
// records (TAXII 2.1 §3.2).
const (
	HeaderDateAddedFirst = "X-TAXII-Date-Added-First"
	HeaderDateAddedLast  = "X-TAXII-Date-Added-Last"
)

// Options configures a server. The zero Options is usable.
type Options struct {
	// Title, Description and Contact fill the discovery resource.
	Title, Description, Contact string
	// APIRootTitle and APIRootDescription fill the API root resource.
	APIRootTitle, APIRootDescription string

	// DiscoveryPath is the URL path of the discovery endpoint,
	// DefaultDiscoveryPath if empty. APIRootPath is the path of the one API
	// root, DefaultAPIRootPath if empty. Both end in "/". The handler
	// expects the full request path: mount it without http.StripPrefix.
	DiscoveryPath, APIRootPath string
	// PublicURL is the scheme and authority clients reach the server at,
	// e.g. "https://alpha.example:8443"; it makes the absolute API root
	// URLs in the discovery resource. If empty they are built from the
	// request's Host and whether it came over TLS.
	PublicURL string

	// MaxContentLength is the largest request body accepted, advertised
	// as the API root's max_content_length; DefaultMaxContentLength if 0.
	MaxContentLength int64
	// PageSize is the number of records in a page when the client gives no
	// limit, DefaultPageSize if 0. MaxPageSize caps the client's limit,
	// DefaultMaxPageSize if 0.
	PageSize, MaxPageSize int

	// AuthChallenge, if set, is sent as WWW-Authenticate with every 401,
	// e.g. `Basic realm="detente"`.
	AuthChallenge string

	// CursorKey is the 32-byte key that seals "next" values. Servers of one
	// node (several processes) must share it; when nil a random key is
	// drawn, and next values last as long as the process.
	CursorKey []byte

	// Logger receives errors whose details are not shown to clients; none
	// are logged if nil.
	Logger *slog.Logger
}

// server is the handler NewServer returns.
type server struct {
	src     Source
	opts    Options
	log     *slog.Logger
	cursors *cursors
}

// NewServer returns an http.Handler serving TAXII 2.1 over src: the
// discovery resource at opts.DiscoveryPath and one API root at
// opts.APIRootPath. Every request must carry a Caller (WithCaller). It
// panics when opts.CursorKey is neither nil nor 32 bytes.
func NewServer(src Source, opts Options) http.Handler {
	if opts.DiscoveryPath == "" {
		opts.DiscoveryPath = DefaultDiscoveryPath
	}
	if opts.APIRootPath == "" {
		opts.APIRootPath = DefaultAPIRootPath
	}
	for _, p := range []*string{&opts.DiscoveryPath, &opts.APIRootPath} {
		if !strings.HasPrefix(*p, "/") {
			*p = "/" + *p
		}
		if !strings.HasSuffix(*p, "/") {
			*p += "/"
		}
	}
	if opts.Title == "" {
		opts.Title = "detente TAXII server"
	}
	if opts.APIRootTitle == "" {
		opts.APIRootTitle = "detente"
	}
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	opts.PageSize = min(opts.PageSize, opts.MaxPageSize)
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cs, err := newCursors(opts.CursorKey)
	if err != nil {
		panic(err) // a key of the wrong size is a programming error
	}
	return &server{src: src, opts: opts, log: logger, cursors: cs}
}

// route is a parsed request path.
type route struct {
	kind    routeKind
	coll    string // collection id
	object  string // object id
	status  string // status id
	methods []string
}

type routeKind int

const (
	rNone routeKind = iota
	rDiscovery
	rAPIRoot
	rStatus
	rCollections
	rCollection
	rManifest
	rObjects
	rObject
	rVersions
)

// parseRoute maps a URL path to an endpoint (TAXII 2.1 §4, §5). Trailing
// slashes, which the specification's URLs carry, are optional.
func (s *server) parseRoute(path string) route {
	if path == s.opts.DiscoveryPath || path+"/" == s.opts.DiscoveryPath {
		return route{kind: rDiscovery, methods: []string{http.MethodGet}}
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	rest, ok := strings.CutPrefix(path, s.opts.APIRootPath)
	if !ok {
		return route{}
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return route{kind: rAPIRoot, methods: []string{http.MethodGet}}
	}
	seg := strings.Split(rest, "/")
	if slices.Contains(seg, "") {
		return route{}
	}
	get := []string{http.MethodGet}
	switch {
	case len(seg) == 2 && seg[0] == "status":
		return route{kind: rStatus, status: seg[1], methods: get}
	case seg[0] != "collections":
		return route{}
	case len(seg) == 1:
		return route{kind: rCollections, methods: get}
	case len(seg) == 2:
		return route{kind: rCollection, coll: seg[1], methods: get}
	case len(seg) == 3 && seg[2] == "manifest":
		return route{kind: rManifest, coll: seg[1], methods: get}
	case len(seg) == 3 && seg[2] == "objects":
		return route{kind: rObjects, coll: seg[1], methods: []string{http.MethodGet, http.MethodPost}}
	case len(seg) == 4 && seg[2] == "objects":
		return route{kind: rObject, coll: seg[1], object: seg[3], methods: []string{http.MethodGet, http.MethodDelete}}
	case len(seg) == 5 && seg[2] == "objects" && seg[4] == "versions":
		return route{kind: rVersions, coll: seg[1], object: seg[3], methods: get}
	}
	return route{}
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")

	c, ok := CallerFrom(r.Context())
	if !ok {
		if s.opts.AuthChallenge != "" {
			h.Set("WWW-Authenticate", s.opts.AuthChallenge)
		}
		s.fail(w, r, newError(http.StatusUnauthorized, "authentication is required"))
		return
	}
	if !utf8.ValidString(r.URL.Path) {
		// As the API: refused, not looked up as U+FFFD.
		s.fail(w, r, newError(http.StatusBadRequest, "the path is not valid UTF-8"))
		return
	}
	rt := s.parseRoute(r.URL.Path)
	if rt.kind == rNone {
		s.fail(w, r, newError(http.StatusNotFound, "no TAXII endpoint at this path"))
		return
	}
	if !slices.Contains(rt.methods, r.Method) {
		h.Set("Allow", strings.Join(rt.methods, ", "))
		s.fail(w, r, newError(http.StatusMethodNotAllowed, r.Method+" is not supported on this endpoint"))
		return
	}
	if !acceptable(r.Header.Values("Accept")) {
		s.fail(w, r, newError(http.StatusNotAcceptable, "this server answers only "+MediaType))
		return
	}

	ctx := r.Context()
	var err error
	switch rt.kind {
	case rDiscovery:
		err = s.discovery(w, r)
	case rAPIRoot:
		err = s.writeJSON(w, http.StatusOK, APIRoot{
			Title:            s.opts.APIRootTitle,
			Description:      s.opts.APIRootDescription,
			Versions:         []string{MediaType},
			MaxContentLength: s.opts.MaxContentLength,
		})
	case rStatus:
		err = s.status(ctx, w, c, rt.status)
	case rCollections:
		err = s.collections(ctx, w, c)
	case rCollection:
		var col Collection
		if col, err = s.collection(ctx, c, rt.coll); err == nil {
			err = s.writeJSON(w, http.StatusOK, col)
		}
	case rManifest:
		err = s.page(ctx, w, r, c, rt, epManifest)
	case rObjects:
		if r.Method == http.MethodPost {
			err = s.add(ctx, w, r, c, rt.coll)
		} else {
			err = s.page(ctx, w, r, c, rt, epObjects)
		}
	case rObject:
		if r.Method == http.MethodDelete {
			err = s.delete(ctx, c, rt)
		} else {
			err = s.page(ctx, w, r, c, rt, epObject)
		}
	case rVersions:
		err = s.page(ctx, w, r, c, rt, epVersions)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// discovery answers GET {discovery} (TAXII 2.1 §4.1).
func (s *server) discovery(w http.ResponseWriter, r *http.Request) error {
	base := strings.TrimSuffix(s.opts.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	root := base + s.opts.APIRootPath
	return s.writeJSON(w, http.StatusOK, Discovery{
		Title:       s.opts.Title,
		Description: s.opts.Description,
		Contact:     s.opts.Contact,
		Default:     root,
		APIRoots:    []string{root},
	})
}

// status answers GET {api-root}/status/{status-id}/ (TAXII 2.1 §4.3).
func (s *server) status(ctx context.Context, w http.ResponseWriter, c Caller, id string) error {
	st, err := s.src.Status(ctx, c, id)
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, st)
}

// collections answers GET {api-root}/collections/ (TAXII 2.1 §5.1).
func (s *server) collections(ctx context.Context, w http.ResponseWriter, c Caller) error {
	cols, err := s.src.Collections(ctx, c)
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusOK, Collections{Collections: cols})
}

// errNoCollection answers for a collection that is missing or that the
// caller may not know of: the two are indistinguishable.
func errNoCollection() *Error { return newError(http.StatusNotFound, "collection not found") }

// collection returns collection id as the caller sees it (TAXII 2.1 §5.2).
func (s *server) collection(ctx context.Context, c Caller, id string) (Collection, error) {
	cols, err := s.src.Collections(ctx, c)
	if err != nil {
		return Collection{}, err
	}
	for _, col := range cols {
		if col.ID == id {
			return col, nil
		}
	}
	return Collection{}, errNoCollection()
}

// page answers the paginated GET endpoints: manifest (§5.3), objects (§5.4),
// one object (§5.6) and its versions (§5.8).
func (s *server) page(ctx context.Context, w http.ResponseWriter, r *http.Request, c Caller, rt route, ep endpoint) error {
	col, err := s.collection(ctx, c, rt.coll)
	if err != nil {
		return err
	}
	if !col.CanRead || !c.CanRead {
		return newError(http.StatusForbidden, "the caller may not read this collection")
	}
	scope := col.ID
	if rt.object != "" {
		if !validID(rt.object) {
			return newError(http.StatusNotFound, "object not found")
		}
		scope += "/" + rt.object
	}
	req, err := parseQuery(r.URL.RawQuery, ep, scope, s.opts.PageSize, s.opts.MaxPageSize)
	if err != nil {
		return err
	}
	if err := s.cursors.resolve(&req, c); err != nil {
		return err
	}
	q := req.q
	if rt.object != "" {
		q.IDs = []string{rt.object}
	}
	recs, more, err := s.src.Records(ctx, c, col.ID, q)
	if err != nil {
		return err
	}
	if len(recs) > q.Limit {
		recs, more = recs[:q.Limit], true
	}
	// A cursor is only as good as the order it rests on: a Source that
	// breaks it is a bug to surface, not a page to serve.
	if !ascending(recs, q.AfterSeq) {
		return fmt.Errorf("taxii source: records out of order after seq %d", q.AfterSeq)
	}
	if len(recs) == 0 {
		more = false
		// An object the caller cannot see at all is 404; one whose
		// versions the filters exclude is an empty page.
		if rt.object != "" && q.AfterSeq == 0 {
			probe := Query{IDs: q.IDs, Versions: VersionSet{All: true}, Limit: 1, WithoutRaw: true}
			found, _, err := s.src.Records(ctx, c, col.ID, probe)
			if err != nil {
				return err
			}
			if len(found) == 0 {
				return newError(http.StatusNotFound, "object not found")
			}
		}
	}

	next := ""
	if more {
		next = s.cursors.seal(recs[len(recs)-1].Seq, req.fingerprint, c)
	}
	if len(recs) > 0 {
		first, last := recs[0].DateAdded, recs[0].DateAdded
		for _, rec := range recs[1:] {
			if rec.DateAdded.Before(first) {
				first = rec.DateAdded
			}
			if rec.DateAdded.After(last) {
				last = rec.DateAdded
			}
		}
		w.Header().Set(HeaderDateAddedFirst, FormatTime(first))
		w.Header().Set(HeaderDateAddedLast, FormatTime(last))
	}

	switch ep {
	case epManifest:
		m := Manifest{More: more, Next: next}
		for _, rec := range recs {
			mt := rec.MediaType
			if mt == "" {
				mt = STIXMediaType
			}
			m.Objects = append(m.Objects, ManifestRecord{
				ID:        rec.ID,
				DateAdded: Timestamp{rec.DateAdded},
				Version:   VersionStamp{Time: rec.Version, Text: rec.VersionText},
				MediaType: mt,
			})
		}
		return s.writeJSON(w, http.StatusOK, m)
	case epVersions:
		v := Versions{More: more, Next: next}
		for _, rec := range recs {
			v.Versions = append(v.Versions, VersionStamp{Time: rec.Version, Text: rec.VersionText})
		}
		return s.writeJSON(w, http.StatusOK, v)
	default:
		return writeEnvelope(w, more, next, recs)
	}
}

// writeEnvelope writes the envelope of recs (TAXII 2.1 §3.7) as
// json.Marshal of Envelope would, but with each object's bytes as the
// Source holds them: encoding/json would check, compact and HTML-escape
// every object again, most of the cost of a large page, and change the
// canonical bytes a signature covers. Record.Raw is the object's JSON.
func writeEnvelope(w http.ResponseWriter, more bool, next string, recs []Record) error {
	size := 64 + len(next)
	for _, rec := range recs {
		size += len(rec.Raw) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"more":`...)
	b = strconv.AppendBool(b, more)
	if next != "" {
		nb, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
		b = append(append(b, `,"next":`...), nb...)
	}
	if len(recs) > 0 {
		b = append(b, `,"objects":[`...)
		for i, rec := range recs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, rec.Raw...)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

// ascending reports whether the records' Seq values increase strictly from
// after on.
func ascending(recs []Record, after int64) bool {
	for _, r := range recs {
		if r.Seq <= after {
			return false
		}
		after = r.Seq
	}
	return true
}

// add answers POST {api-root}/collections/{id}/objects/ (TAXII 2.1 §5.5).
func (s *server) add(ctx context.Context, w http.ResponseWriter, r *http.Request, c Caller, collID string) error {
	if !isTAXIIMediaType(r.Header.Get("Content-Type")) {
		return newError(http.StatusUnsupportedMediaType, "the request body must be "+MediaType)
	}
	col, err := s.collection(ctx, c, collID)
	if err != nil {
		return err
	}
	if !col.CanWrite || !c.CanWrite {
		return newError(http.StatusForbidden, "the caller may not write to this collection")
	}
	tooLarge := newError(http.StatusRequestEntityTooLarge,
		"the request body is over max_content_length ("+strconv.FormatInt(s.opts.MaxContentLength, 10)+" bytes)")
	if r.ContentLength > s.opts.MaxContentLength {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxContentLength))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge
		}
		return newError(http.StatusBadRequest, "the request body could not be read")
	}
	objects, err := ParseEnvelope(body)
	if err != nil {
		return badRequest(err.Error())
	}
	st, err := s.src.Add(ctx, c, col.ID, objects)
	if err != nil {
		return err
	}
	return s.writeJSON(w, http.StatusAccepted, st)
}

// delete answers DELETE {api-root}/collections/{id}/objects/{object-id}/
// (TAXII 2.1 §5.7). A node keeps every version it ever held, so no caller
// may delete one: 403, after the collection check so that a hidden
// collection stays a 404.
func (s *server) delete(ctx context.Context, c Caller, rt route) error {
	if _, err := s.collection(ctx, c, rt.coll); err != nil {
		return err
	}
	return newError(http.StatusForbidden, "objects are never deleted: this node keeps every version it holds")
}

// writeJSON writes v as a TAXII response with the given status.
func (s *server) writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	return nil
}

// fail answers err as a TAXII error message (TAXII 2.1 §3.6.1). Only the
// messages of *Error and *detente.Error values reach the client; anything
// else is logged and answered with a generic description.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	te, ok := errors.AsType[*Error](err)
	if !ok {
		te = s.fromDomain(r, err)
	}
	b, _ := json.Marshal(te)
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(te.StatusCode)
	w.Write(b)
}

// fromDomain maps an error from the Source to a TAXII error message, its
// status from the node's one table (internal/httperr).
func (s *server) fromDomain(r *http.Request, err error) *Error {
	err = httperr.Domain(err)
	status := httperr.Status(err)
	httperr.Log(s.log, r, "taxii request failed", err)
	var e *Error
	switch status {
	case http.StatusServiceUnavailable:
		e = newError(status, "the service is unavailable: try again later")
	case http.StatusInternalServerError:
		e = newError(status, "internal error")
	default:
		e = newError(status, detente.ErrorMessage(err))
	}
	e.ErrorCode = detente.ErrorCode(err)
	return e
}

// acceptable reports whether an Accept header admits MediaType (TAXII 2.1
// §1.6.8: "application/taxii+json" without a version means the latest, and
// a request without Accept is answered as if it had sent */*). The most
// specific matching range decides, and q=0 refuses.
func acceptable(values []string) bool {
	header := strings.TrimSpace(strings.Join(values, ","))
	if header == "" {
		return true
	}
	best, bestQ := -1, 0.0
	for part := range strings.SplitSeq(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		rank := -1
		switch mt {
		case "*/*":
			rank = 0
		case "application/*":
			rank = 1
		case "application/taxii+json":
			switch v, ok := params["version"]; {
			case !ok:
				rank = 2
			case v == "2.1":
				rank = 3
			}
		}
		if rank > best || rank == best && q > bestQ {
			best, bestQ = rank, q
		}
	}
	return best >= 0 && bestQ > 0
}

// isTAXIIMediaType reports whether a Content-Type names TAXII 2.1.
func isTAXIIMediaType(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}

// ParseEnvelope parses the body of an add request (TAXII 2.1 §5.5): an
// envelope whose "objects" is a non-empty list of JSON objects. It returns
// the objects as they were sent; everything else about them (a type, an
// id of that type, the rest of STIX) is for the Source to validate, object
// by object, so that one bad object is a failure in the status, not the
// loss of the envelope's valid objects.
func ParseEnvelope(body []byte) ([]json.RawMessage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil || env == nil {
		return nil, errors.New("the request body is not a TAXII envelope (a JSON object)")
	}
	raw, ok := env["objects"]
	if !ok {
		return nil, errors.New("the envelope has no objects")
	}
	var objects []json.RawMessage
	if err := json.Unmarshal(raw, &objects); err != nil {
		return nil, errors.New("the envelope's objects is not a list")
	}
	if len(objects) == 0 {
		return nil, errors.New("the envelope has no objects")
	}
	for i, o := range objects {
		if t := bytes.TrimSpace(o); len(t) == 0 || t[0] != '{' {
			return nil, fmt.Errorf("object %d is not a JSON object", i)
		}
	}
	return objects, nil
}
