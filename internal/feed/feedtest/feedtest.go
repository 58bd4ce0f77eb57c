// Package feedtest is test support for feeds: a plain TAXII 2.1 server,
// not detente's, of the kind an agency's platform runs (HTTP Basic over
// TLS, pages by next with the date headers), and objects to fill it with.
// The node's, the CLI's and the benchmarks' feed tests pull from it.
package feedtest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"detente/internal/taxii"
)

// The server's collection and credentials.
const (
	Collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	User       = "feeduser"
	Password   = "s3cret-Pa55"
)

type record struct {
	raw   json.RawMessage
	added time.Time
}

// Server is a TAXII 2.1 server of one collection at /taxii2/api1/. It
// serves the objects added, oldest first, MaxPage a page at most, with
// next (the index of the page's end) and the X-TAXII-Date-Added headers.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	records []record
	maxPage int
	gate    func(page int)
	pages   int
}

// NewServer starts a server over TLS, closed when t ends.
func NewServer(t testing.TB, maxPage int) *Server {
	s := &Server{maxPage: maxPage}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// CollectionURL is the URL a feed is configured with.
func (s *Server) CollectionURL() string {
	return s.URL + "/taxii2/api1/collections/" + Collection + "/"
}

// Files writes the server's CA certificate and the password into dir and
// returns their paths.
func (s *Server) Files(t testing.TB, dir string) (caFile, passwordFile string) {
	caFile, passwordFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "password")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(passwordFile, []byte(Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, passwordFile
}

// Gate, when set, is called before each object page is served with the
// page's number from 1 (across pulls); it may block.
func (s *Server) Gate(f func(page int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = f
}

// Add appends objects, each added one microsecond after the last.
func (s *Server) Add(raws ...json.RawMessage) {
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

func fail(w http.ResponseWriter, status int, desc string) {
	w.Header().Set("Content-Type", taxii.MediaType)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"description":%q,"http_status":"%d"}`, http.StatusText(status), desc, status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != User || p != Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="taxii"`)
		fail(w, 401, "authentication required")
		return
	}
	if r.URL.Path != "/taxii2/api1/collections/"+Collection+"/objects/" {
		fail(w, 404, "unknown path")
		return
	}
	q := r.URL.Query()
	limit := s.maxPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			fail(w, 400, "bad limit")
			return
		}
		limit = min(n, s.maxPage)
	}
	var after time.Time
	if a := q.Get("added_after"); a != "" {
		t, err := taxii.ParseTime(a)
		if err != nil {
			fail(w, 400, "bad added_after")
			return
		}
		after = t
	}
	s.mu.Lock()
	s.pages++
	gate, n := s.gate, s.pages
	s.mu.Unlock()
	if gate != nil {
		gate(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := 0
	for start < len(s.records) && !s.records[start].added.After(after) {
		start++
	}
	if nx := q.Get("next"); nx != "" {
		idx, err := strconv.Atoi(nx)
		if err != nil || idx < start || idx > len(s.records) {
			fail(w, 400, "unknown next")
			return
		}
		start = idx
	}
	end := min(start+limit, len(s.records))
	env := taxii.Envelope{More: end < len(s.records)}
	for _, rec := range s.records[start:end] {
		env.Objects = append(env.Objects, rec.raw)
	}
	if env.More {
		env.Next = strconv.Itoa(end)
	}
	if end > start {
		w.Header().Set(taxii.HeaderDateAddedFirst, taxii.FormatTime(s.records[start].added))
		w.Header().Set(taxii.HeaderDateAddedLast, taxii.FormatTime(s.records[end-1].added))
	}
	w.Header().Set("Content-Type", taxii.MediaType)
	json.NewEncoder(w).Encode(env)
}

// Indicator returns a valid unsigned indicator numbered i, created by
// identity--b3f6c2a1-…, marked TLP:GREEN when marked.
func Indicator(i int, marked bool) json.RawMessage {
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1",
		"id":      fmt.Sprintf("indicator--%08x-0b7d-4e2a-9c1f-5a6b7c8d9e0f", i),
		"created": "2026-02-01T10:00:00.000Z", "modified": "2026-02-01T10:00:00.000Z",
		"name":            fmt.Sprintf("C2 address %d", i),
		"pattern":         fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", i/256%256, i%256),
		"pattern_type":    "stix",
		"valid_from":      "2026-02-01T10:00:00Z",
		"created_by_ref":  "identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04",
		"indicator_types": []string{"malicious-activity"},
	}
	if marked {
		m["object_marking_refs"] = []string{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}
	}
	b, _ := json.Marshal(m)
	return b
}

// Indicators returns n indicators from number from, every other one
// marked.
func Indicators(from, n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = Indicator(from+i, (from+i)%2 == 0)
	}
	return out
}
