package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"detente"
)

// memSource is an in-memory Source for the tests: collections visible to
// named partners, records with strictly increasing Seq and DateAdded, and
// views computed with Select.
type memSource struct {
	mu       sync.Mutex
	colls    []memColl
	recs     map[string][]Record
	seq      int64
	epoch    time.Time
	statuses map[string]memStatus
	nstatus  int
	// err, when set, is returned by every method.
	err error
}

type memColl struct {
	Collection
	partners []string // partners who may see it; local users see all
}

type memStatus struct {
	owner Caller
	st    Status
}

const (
	collA      = "91a7b528-80eb-42ed-a74d-c6fbd5a26116" // bravo and local users
	collHidden = "52892447-4d7e-4f70-b94d-d7f22742ff63" // charlie only
	collRO     = "64993447-4d7e-4f70-b94d-d7f22742ff63" // bravo, read only
)

func newMemSource() *memSource {
	return &memSource{
		colls: []memColl{
			{Collection{ID: collA, Title: "shared with bravo", CanRead: true, CanWrite: true, MediaTypes: []string{STIXMediaType}}, []string{"bravo"}},
			{Collection{ID: collHidden, Title: "charlie's eyes only", CanRead: true, CanWrite: true, MediaTypes: []string{STIXMediaType}}, []string{"charlie"}},
			{Collection{ID: collRO, Title: "read only", CanRead: true, MediaTypes: []string{STIXMediaType}}, []string{"bravo"}},
		},
		recs:     map[string][]Record{},
		epoch:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		statuses: map[string]memStatus{},
	}
}

func (m *memSource) visible(c Caller, id string) (memColl, bool) {
	for _, col := range m.colls {
		if col.ID == id && (c.Partner == "" || slices.Contains(col.partners, c.Partner)) {
			return col, true
		}
	}
	return memColl{}, false
}

func (m *memSource) Collections(ctx context.Context, c Caller) ([]Collection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []Collection
	for _, col := range m.colls {
		if _, ok := m.visible(c, col.ID); ok {
			out = append(out, col.Collection)
		}
	}
	return out, nil
}

func (m *memSource) Records(ctx context.Context, c Caller, collectionID string, q Query) ([]Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, false, m.err
	}
	if _, ok := m.visible(c, collectionID); !ok {
		return nil, false, detente.Errorf(detente.ENOTFOUND, "collection not found")
	}
	recs, more := Select(m.recs[collectionID], q)
	return recs, more, nil
}

// put stores a record, assigning its Seq and DateAdded (one millisecond
// apart) and, if unset, its Version.
func (m *memSource) put(collectionID string, r Record) Record {
	m.seq++
	r.Seq = m.seq
	r.DateAdded = m.epoch.Add(time.Duration(m.seq) * time.Millisecond)
	if r.Version.IsZero() {
		r.Version = r.DateAdded
	}
	if r.SpecVersion == "" {
		r.SpecVersion = "2.1"
	}
	if r.MediaType == "" {
		r.MediaType = STIXMediaType
	}
	m.recs[collectionID] = append(m.recs[collectionID], r)
	return r
}

// putObject stores raw (a JSON object) with its id, modified and spec_version.
func (m *memSource) putObject(collectionID string, raw json.RawMessage) (Record, error) {
	var o struct {
		ID          string    `json:"id"`
		SpecVersion string    `json:"spec_version"`
		Modified    time.Time `json:"modified"`
		Created     time.Time `json:"created"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return Record{}, err
	}
	v := o.Modified
	if v.IsZero() {
		v = o.Created
	}
	return m.put(collectionID, Record{ID: o.ID, Version: v, SpecVersion: o.SpecVersion, Raw: raw}), nil
}

func (m *memSource) Add(ctx context.Context, c Caller, collectionID string, objects []json.RawMessage) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return Status{}, m.err
	}
	if _, ok := m.visible(c, collectionID); !ok {
		return Status{}, detente.Errorf(detente.ENOTFOUND, "collection not found")
	}
	m.nstatus++
	st := Status{
		ID:               fmt.Sprintf("2d086da7-4bdc-4f91-900e-%012d", m.nstatus),
		Status:           StatusComplete,
		RequestTimestamp: &Timestamp{m.epoch},
		TotalCount:       len(objects),
	}
	for _, o := range objects {
		r, err := m.putObject(collectionID, o)
		if err != nil {
			st.FailureCount++
			st.Failures = append(st.Failures, StatusDetail{Message: "not a STIX object"})
			continue
		}
		st.SuccessCount++
		st.Successes = append(st.Successes, StatusDetail{ID: r.ID, Version: VersionStamp{Time: r.Version}})
	}
	m.statuses[st.ID] = memStatus{owner: c, st: st}
	return st, nil
}

func (m *memSource) Status(ctx context.Context, c Caller, statusID string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return Status{}, m.err
	}
	s, ok := m.statuses[statusID]
	if !ok || s.owner != c {
		return Status{}, detente.Errorf(detente.ENOTFOUND, "status not found")
	}
	return s.st, nil
}

var _ Source = (*memSource)(nil)

// obj returns a STIX object with id, modified (RFC 3339) and spec_version 2.1.
func obj(id, modified string) json.RawMessage {
	typ := stixType(id)
	return json.RawMessage(fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":"2025-01-01T00:00:00.000Z","modified":%q,"name":"x"}`, typ, id, modified))
}

// uuid returns a well-formed UUID numbered n.
func uuid(n int) string { return fmt.Sprintf("6b0e0a8e-4a1c-4d2b-9c1a-%012d", n) }

// authenticate stands in for the node's middleware: the Basic user name is
// the caller ("local" for a local analyst, "reader" for a local auditor
// without write, anything else a partner); no credentials, no caller.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, ok := r.BasicAuth()
		if !ok || user == "" {
			next.ServeHTTP(w, r)
			return
		}
		c := Caller{Partner: user, CanRead: true, CanWrite: true}
		switch user {
		case "local":
			c = Caller{LocalRole: detente.RoleAnalyst, CanRead: true, CanWrite: true}
		case "reader":
			c = Caller{LocalRole: detente.RoleAuditor, CanRead: true}
		}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}

// newTestServer serves src over httptest with the stand-in authentication.
func newTestServer(t testing.TB, src Source, opts Options) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/taxii2/", authenticate(NewServer(src, opts)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv's API root acting as user.
func newClient(srv *httptest.Server, user string) *Client {
	return &Client{HTTP: srv.Client(), BaseURL: srv.URL + "/taxii2/api/", Username: user, Password: "token"}
}
