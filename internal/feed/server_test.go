package feed

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/taxii"
)

// A plain TAXII 2.1 server written for the tests: not detente's, with the
// habits of the servers in the field. It serves one collection of an API
// root at /taxii2/api1/ over TLS with HTTP Basic (or bearer) authentication,
// pages by next or by added_after, and can be told to misbehave.

const (
	testCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	testUser       = "feeduser"
	testPassword   = "s3cret-Pa55"
	testToken      = "tok-9b1c2d"
	forbiddenUser  = "auditor" // authenticates, may not read
)

// Paging styles of the test server.
const (
	pageByNext       = "next"        // more + next, with the date headers
	pageByAddedAfter = "added-after" // more without next: clients continue with added_after
	pageNextNoDates  = "next-nodate" // more + next, no date headers
)

type record struct {
	raw   json.RawMessage
	added time.Time
}

type taxiiServer struct {
	*httptest.Server
	mu       sync.Mutex
	records  []record
	style    string
	maxPage  int
	epoch    int    // next values of another epoch are refused (a restarted server)
	ctype    string // Content-Type of object pages
	token    bool   // bearer authentication instead of Basic
	requests int
	// hook, when set, may answer a request itself (status, body) or
	// return 0 to let it through; it runs before anything else.
	hook func(n int, r *http.Request) (int, string)
}

func newTAXIIServer(t testing.TB, style string) *taxiiServer {
	t.Helper()
	s := &taxiiServer{style: style, maxPage: 1000, ctype: taxii.MediaType}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the TLS tests fail handshakes on purpose
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// collectionURL is the URL a feed is configured with.
func (s *taxiiServer) collectionURL() string {
	return s.URL + "/taxii2/api1/collections/" + testCollection + "/"
}

// pool is a CA pool that trusts the server.
func (s *taxiiServer) pool() *x509.CertPool { return newPool(s.Certificate()) }

// newPool returns a CA pool of cert alone.
func newPool(cert *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(cert)
	return p
}

// set changes the server's behaviour under its lock.
func (s *taxiiServer) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// add appends objects, each added one microsecond after the last.
func (s *taxiiServer) add(raws ...json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if n := len(s.records); n > 0 {
		t = s.records[n-1].added
	}
	for _, r := range raws {
		t = t.Add(time.Microsecond)
		s.records = append(s.records, record{raw: r, added: t})
	}
}

func (s *taxiiServer) fail(w http.ResponseWriter, status int, desc string) {
	w.Header().Set("Content-Type", taxii.MediaType)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"description":%q,"http_status":"%d"}`, http.StatusText(status), desc, status)
}

func (s *taxiiServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		if status, body := hook(n, r); status != 0 {
			w.Header().Set("Content-Type", taxii.MediaType)
			w.WriteHeader(status)
			w.Write([]byte(body))
			return
		}
	}
	s.mu.Lock()
	token, ctype := s.token, s.ctype
	s.mu.Unlock()
	if token {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			s.fail(w, 401, "bad token")
			return
		}
	} else {
		u, p, ok := r.BasicAuth()
		switch {
		case ok && u == forbiddenUser && p == testPassword:
			s.fail(w, 403, "no read access")
			return
		case !ok || u != testUser || p != testPassword:
			w.Header().Set("WWW-Authenticate", `Basic realm="taxii"`)
			s.fail(w, 401, "authentication required")
			return
		}
	}
	if acc := r.Header.Get("Accept"); !strings.Contains(acc, "application/taxii+json") && !strings.Contains(acc, "application/json") {
		s.fail(w, 406, "not acceptable")
		return
	}
	if r.URL.Path != "/taxii2/api1/collections/"+testCollection+"/objects/" {
		s.fail(w, 404, "unknown path")
		return
	}
	q := r.URL.Query()
	if v := q.Get("match[version]"); v != "" && v != "all" {
		s.fail(w, 400, "unsupported match[version]")
		return
	}
	limit := s.maxPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			s.fail(w, 400, "bad limit")
			return
		}
		limit = min(n, s.maxPage)
	}
	var after time.Time
	if a := q.Get("added_after"); a != "" {
		t, err := taxii.ParseTime(a)
		if err != nil {
			s.fail(w, 400, "bad added_after")
			return
		}
		after = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := 0
	for start < len(s.records) && !s.records[start].added.After(after) {
		start++
	}
	if nx := q.Get("next"); nx != "" {
		b, _ := base64.RawURLEncoding.DecodeString(nx)
		var epoch, idx int
		if _, err := fmt.Sscanf(string(b), "%d:%d", &epoch, &idx); err != nil || epoch != s.epoch || idx < start || idx > len(s.records) {
			s.fail(w, 400, "unknown next")
			return
		}
		start = idx
	}
	end := min(start+limit, len(s.records))
	page := s.records[start:end]
	env := taxii.Envelope{More: end < len(s.records)}
	for _, rec := range page {
		env.Objects = append(env.Objects, rec.raw)
	}
	if env.More && s.style != pageByAddedAfter {
		env.Next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d", s.epoch, end))
	}
	if len(page) > 0 && s.style != pageNextNoDates {
		w.Header().Set(taxii.HeaderDateAddedFirst, taxii.FormatTime(page[0].added))
		w.Header().Set(taxii.HeaderDateAddedLast, taxii.FormatTime(page[len(page)-1].added))
	}
	w.Header().Set("Content-Type", ctype)
	json.NewEncoder(w).Encode(env)
}

// indicator returns a valid indicator numbered i, with a TLP marking when
// marked.
func indicator(i int, marked bool) json.RawMessage {
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1",
		"id":      fmt.Sprintf("indicator--%08x-0b7d-4e2a-9c1f-5a6b7c8d9e0f", i),
		"created": "2026-02-01T10:00:00.000Z", "modified": "2026-02-01T10:00:00.000Z",
		"name":         fmt.Sprintf("C2 address %d", i),
		"pattern":      fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", i/256%256, i%256),
		"pattern_type": "stix", "valid_from": "2026-02-01T10:00:00Z",
		"labels":          []string{"malicious-activity"},
		"created_by_ref":  "identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04",
		"indicator_types": []string{"malicious-activity"},
	}
	if marked {
		m["object_marking_refs"] = []string{detente.MarkingGreen}
	}
	b, _ := json.Marshal(m)
	return b
}

// indicators returns n indicators from number from, half of them marked.
func indicators(from, n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = indicator(from+i, (from+i)%2 == 0)
	}
	return out
}

// quiet is a logger for pulls whose rejections are expected.
var quiet = slog.New(slog.DiscardHandler)

// memSink is a Sink in memory. A Store either commits (items and cursor
// together) or not; crash, when set, can make a call fail before or after
// its commit, as a process killed on either side of COMMIT.
type memSink struct {
	mu     sync.Mutex
	cursor []byte
	items  []*Item
	pages  []*Page
	calls  int
	crash  func(call int) (before, after bool)
}

var errCrash = errors.New("simulated crash")

func (m *memSink) Cursor(ctx context.Context, feed string) (Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return ParseCursor(m.cursor)
}

func (m *memSink) Store(ctx context.Context, feed string, page *Page, next Cursor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	var before, after bool
	if m.crash != nil {
		before, after = m.crash(m.calls)
	}
	if before {
		return errCrash
	}
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	m.cursor = b
	m.items = append(m.items, page.Items...)
	m.pages = append(m.pages, page)
	if after {
		return errCrash
	}
	return nil
}

// ids returns the stored object ids, in order.
func (m *memSink) ids() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.items))
	for _, it := range m.items {
		out = append(out, it.Version.ID)
	}
	return out
}

// checkExactlyOnce fails t unless got holds each id of want exactly once.
func checkExactlyOnce(t *testing.T, got []string, want []json.RawMessage) {
	t.Helper()
	counts := map[string]int{}
	for _, id := range got {
		counts[id]++
	}
	var missing, doubled []string
	for _, raw := range want {
		id := rawID(raw)
		switch counts[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			doubled = append(doubled, id)
		}
		delete(counts, id)
	}
	var extra []string
	for id := range counts {
		extra = append(extra, id)
	}
	slices.Sort(extra)
	if len(missing)+len(doubled)+len(extra) > 0 {
		t.Fatalf("not exactly once: %d missing (%.3v), %d doubled (%.3v), %d unexpected (%.3v)", len(missing), missing, len(doubled), doubled, len(extra), extra)
	}
}
