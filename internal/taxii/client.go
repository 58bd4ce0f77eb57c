package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxResponseBytes bounds the response bodies a Client reads when
// Client.MaxResponseBytes is 0.
const DefaultMaxResponseBytes = 256 << 20

// Client speaks TAXII 2.1 to one API root of any server. Its zero value is
// unusable: set BaseURL.
//
// Errors answered by the server are returned as *Error, with the HTTP status
// in StatusCode and the server's title and description.
type Client struct {
	// HTTP sends the requests; http.DefaultClient if nil. Partner nodes
	// authenticate with the TLS client certificate configured in it.
	HTTP *http.Client
	// BaseURL is the API root, e.g. "https://bravo.example:8443/taxii2/api/".
	BaseURL string
	// Username and Password, when either is set, are sent as HTTP Basic
	// credentials.
	Username, Password string
	// Token, when set, is sent as a bearer token (Authorization: Bearer),
	// as OpenCTI and other platforms expect, instead of Basic credentials.
	Token string
	// MaxResponseBytes bounds a response body; DefaultMaxResponseBytes if 0.
	MaxResponseBytes int64
}

// Filter selects objects in a request (TAXII 2.1 §3.4). Zero fields are not
// sent, and the server applies its defaults: the latest version of each
// object in its latest spec version, from the start of the collection, in
// pages of the server's size.
type Filter struct {
	IDs          []string  // match[id]
	Types        []string  // match[type]
	Versions     []string  // match[version]: "first", "last", "all" or timestamps
	SpecVersions []string  // match[spec_version], e.g. "2.1"
	AddedAfter   time.Time // added_after, exclusive
	Limit        int       // limit: the page size asked for
}

// values returns the filter as URL parameters, with next if not "".
func (f *Filter) values(next string) url.Values {
	v := url.Values{}
	set := func(name string, values []string) {
		if len(values) > 0 {
			v.Set(name, strings.Join(values, ","))
		}
	}
	set("match[id]", f.IDs)
	set("match[type]", f.Types)
	set("match[version]", f.Versions)
	set("match[spec_version]", f.SpecVersions)
	if !f.AddedAfter.IsZero() {
		v.Set("added_after", FormatTime(f.AddedAfter))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	if next != "" {
		v.Set("next", next)
	}
	return v
}

// Page is one page of objects with the date_added range the server reported
// for it in X-TAXII-Date-Added-First and X-TAXII-Date-Added-Last (zero when
// absent).
type Page struct {
	Envelope
	DateAddedFirst, DateAddedLast time.Time
}

// Discovery fetches the discovery resource at discoveryURL, or, when it is
// "", at the parent of BaseURL (the layout "/taxii2/" over "/taxii2/api/").
func (c *Client) Discovery(ctx context.Context, discoveryURL string) (Discovery, error) {
	var d Discovery
	u := discoveryURL
	if u == "" {
		base, err := c.base()
		if err != nil {
			return d, err
		}
		u = base.ResolveReference(&url.URL{Path: "../"}).String()
	}
	_, err := c.do(ctx, http.MethodGet, u, nil, &d)
	return d, err
}

// APIRoot fetches the API root resource (TAXII 2.1 §4.2).
func (c *Client) APIRoot(ctx context.Context) (APIRoot, error) {
	var a APIRoot
	err := c.get(ctx, nil, &a)
	return a, err
}

// Collections lists the collections the client may know of (TAXII 2.1 §5.1).
func (c *Client) Collections(ctx context.Context) ([]Collection, error) {
	var cs Collections
	err := c.get(ctx, nil, &cs, "collections")
	return cs.Collections, err
}

// Collection fetches one collection (TAXII 2.1 §5.2).
func (c *Client) Collection(ctx context.Context, id string) (Collection, error) {
	var col Collection
	err := c.get(ctx, nil, &col, "collections", id)
	return col, err
}

// Objects fetches one page of a collection's objects (TAXII 2.1 §5.4).
// next is "" for the first page, else the previous page's Next with the
// same filter.
func (c *Client) Objects(ctx context.Context, collectionID string, f Filter, next string) (Page, error) {
	return c.page(ctx, f.values(next), "collections", collectionID, "objects")
}

// Object fetches one page of the versions of one object (TAXII 2.1 §5.6).
// f.IDs and f.Types are not sent.
func (c *Client) Object(ctx context.Context, collectionID, objectID string, f Filter, next string) (Page, error) {
	f.IDs, f.Types = nil, nil
	return c.page(ctx, f.values(next), "collections", collectionID, "objects", objectID)
}

// Manifest fetches one page of a collection's manifest (TAXII 2.1 §5.3).
func (c *Client) Manifest(ctx context.Context, collectionID string, f Filter, next string) (Manifest, error) {
	var m Manifest
	err := c.get(ctx, f.values(next), &m, "collections", collectionID, "manifest")
	return m, err
}

// Versions fetches one page of an object's version timestamps (TAXII 2.1
// §5.8). Only f.SpecVersions, f.AddedAfter and f.Limit are sent.
func (c *Client) Versions(ctx context.Context, collectionID, objectID string, f Filter, next string) (Versions, error) {
	f = Filter{SpecVersions: f.SpecVersions, AddedAfter: f.AddedAfter, Limit: f.Limit}
	var v Versions
	err := c.get(ctx, f.values(next), &v, "collections", collectionID, "objects", objectID, "versions")
	return v, err
}

// MaxEmptyPages is how many pages in a row may say there is more while
// bringing no object before Walk gives up on the server: a server that
// never ends its pages would otherwise hold the walker for ever.
const MaxEmptyPages = 16

// Walk fetches every page of a collection's objects that f selects, in
// order, and calls fn with each, following next until the server reports no
// more (TAXII 2.1 §3.5). Against a server that sets more without next, it
// continues with added_after set to the page's X-TAXII-Date-Added-Last, as
// the specification allows. A caller that keeps a page's DateAddedLast after
// fn returns can resume a later walk from it with f.AddedAfter.
//
// Walk stops at fn's first error and returns it.
func (c *Client) Walk(ctx context.Context, collectionID string, f Filter, fn func(Page) error) error {
	next := ""
	empty := 0 // pages in a row that said more but brought nothing
	for {
		p, err := c.Objects(ctx, collectionID, f, next)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if !p.More {
			return nil
		}
		if empty = empty + 1; len(p.Objects) > 0 {
			empty = 0
		}
		if empty >= MaxEmptyPages {
			return fmt.Errorf("walk collection %s: the server said more objects %d pages in a row but sent none", collectionID, empty)
		}
		switch {
		case p.Next != "":
			if p.Next == next && len(p.Objects) == 0 {
				return fmt.Errorf("walk collection %s: the server repeats its cursor without progress", collectionID)
			}
			next = p.Next
		case !p.DateAddedLast.IsZero() && p.DateAddedLast.After(f.AddedAfter):
			f.AddedAfter, next = p.DateAddedLast, ""
		default:
			return fmt.Errorf("walk collection %s: the server reports more objects but neither next nor a later %s", collectionID, HeaderDateAddedLast)
		}
	}
}

// Add posts objects to a collection in one envelope (TAXII 2.1 §5.5) and
// returns the status resource the server answers with.
func (c *Client) Add(ctx context.Context, collectionID string, objects []json.RawMessage) (Status, error) {
	var st Status
	body, err := json.Marshal(Envelope{Objects: objects})
	if err != nil {
		return st, fmt.Errorf("encode envelope: %w", err)
	}
	u, err := c.url(nil, "collections", collectionID, "objects")
	if err != nil {
		return st, err
	}
	_, err = c.do(ctx, http.MethodPost, u, body, &st)
	return st, err
}

// Status fetches the status of an add request (TAXII 2.1 §4.3).
func (c *Client) Status(ctx context.Context, statusID string) (Status, error) {
	var st Status
	err := c.get(ctx, nil, &st, "status", statusID)
	return st, err
}

func (c *Client) page(ctx context.Context, v url.Values, path ...string) (Page, error) {
	var p Page
	u, err := c.url(v, path...)
	if err != nil {
		return p, err
	}
	h, err := c.do(ctx, http.MethodGet, u, nil, &p.Envelope)
	if err != nil {
		return p, err
	}
	for name, dst := range map[string]*time.Time{HeaderDateAddedFirst: &p.DateAddedFirst, HeaderDateAddedLast: &p.DateAddedLast} {
		if s := h.Get(name); s != "" {
			t, err := ParseTime(s)
			if err != nil {
				return p, fmt.Errorf("%s: %w", name, err)
			}
			*dst = t
		}
	}
	return p, nil
}

func (c *Client) get(ctx context.Context, v url.Values, out any, path ...string) error {
	u, err := c.url(v, path...)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodGet, u, nil, out)
	return err
}

func (c *Client) base() (*url.URL, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("taxii client: base URL %q is not an absolute URL", c.BaseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// url returns the endpoint under the API root named by path segments, with
// the specification's trailing slash, and the query v.
func (c *Client) url(v url.Values, path ...string) (string, error) {
	base, err := c.base()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range path {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("taxii client: empty or relative path segment %q", p)
		}
		b.WriteString(url.PathEscape(p) + "/")
	}
	ref, err := url.Parse(b.String())
	if err != nil {
		return "", fmt.Errorf("taxii client: %w", err)
	}
	u := base.ResolveReference(ref)
	if len(v) > 0 {
		u.RawQuery = v.Encode()
	}
	return u.String(), nil
}

// do sends one request and decodes a successful response into out. It
// returns the response headers.
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("taxii client: %w", err)
	}
	req.Header.Set("Accept", MediaType)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.Username != "" || c.Password != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("taxii %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("taxii %s %s: read response: %w", method, u, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("taxii %s %s: response is over %d bytes", method, u, limit)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, responseError(resp, data)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	// Real servers answer with the TAXII type, plain JSON, or (for envelopes
	// of objects) the STIX type.
	case "application/taxii+json", "application/json", "application/stix+json":
	default:
		return resp.Header, fmt.Errorf("taxii %s %s: unexpected content type %q", method, u, resp.Header.Get("Content-Type"))
	}
	if env, ok := out.(*Envelope); ok {
		// A page of objects: split, not copied (splitEnvelope).
		if *env, err = splitEnvelope(data); err != nil {
			return resp.Header, fmt.Errorf("taxii %s %s: decode response: %w", method, u, err)
		}
		return resp.Header, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.Header, fmt.Errorf("taxii %s %s: decode response: %w", method, u, err)
	}
	return resp.Header, nil
}

// responseError turns an error response into an *Error, from its TAXII
// error message if it carries one.
func responseError(resp *http.Response, data []byte) error {
	e := &Error{}
	if err := json.Unmarshal(data, e); err != nil {
		e = &Error{}
	}
	e.StatusCode = resp.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// ParseCollectionURL splits the URL of a TAXII 2.1 collection,
// "<api root>/collections/<id>/", into the API root (with its trailing
// slash, as Client.BaseURL takes it) and the collection id. The trailing
// slash of the collection URL is optional. A URL that is not absolute,
// carries credentials, a query or a fragment, or does not end in
// collections/<id> is an error.
func ParseCollectionURL(s string) (apiRoot, collectionID string, err error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("collection URL %q is not a URL", s)
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "", "", fmt.Errorf("collection URL %q is not an absolute URL", s)
	case u.User != nil:
		return "", "", fmt.Errorf("collection URL %q must not carry credentials: give them separately", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "", fmt.Errorf("collection URL %q must not carry a query or a fragment", s)
	}
	segs := strings.Split(strings.TrimSuffix(u.EscapedPath(), "/"), "/")
	n := len(segs)
	if n < 3 || segs[n-2] != "collections" || segs[n-1] == "" {
		return "", "", fmt.Errorf("collection URL %q does not end in /collections/<id>/ (an API root's collection)", s)
	}
	id, err := url.PathUnescape(segs[n-1])
	if err != nil || id == "." || id == ".." || strings.Contains(id, "/") {
		return "", "", fmt.Errorf("collection URL %q: invalid collection id %q", s, segs[n-1])
	}
	root := *u
	root.Path, root.RawPath = "", ""
	rootPath := strings.Join(segs[:n-2], "/") + "/"
	if root.Path, err = url.PathUnescape(rootPath); err != nil {
		return "", "", fmt.Errorf("collection URL %q: %w", s, err)
	}
	root.RawPath = rootPath
	return root.String(), id, nil
}

// IsStatus reports whether err is an *Error with the given HTTP status.
func IsStatus(err error, status int) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == status
}
