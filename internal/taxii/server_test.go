package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// response is what call returns.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// call sends one request to srv as user ("" for none), with Accept set to
// MediaType unless hdr sets it ("" in hdr removes a header).
func call(t *testing.T, srv *httptest.Server, method, path, user string, hdr map[string]string, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", MediaType)
	if body != "" {
		req.Header.Set("Content-Type", MediaType)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if user != "" {
		req.SetBasicAuth(user, "token")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.body, err)
	}
	return v
}

// wantError checks r is a TAXII error message with status code
// (TAXII 2.1 §3.6.1: title required, http_status a string) and returns it.
func wantError(t *testing.T, r response, code int) Error {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body %s", r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != MediaType {
		t.Errorf("error Content-Type %q, want %q", ct, MediaType)
	}
	e := decode[Error](t, r)
	if e.Title == "" || e.HTTPStatus != fmt.Sprint(code) {
		t.Errorf("error message %s lacks a title or http_status %q", r.body, fmt.Sprint(code))
	}
	return e
}

const root = "/taxii2/api/"

func objectsPath(coll string) string { return root + "collections/" + coll + "/objects/" }

// TAXII 2.1 §4.1 Server Discovery: title and absolute API root URLs.
func TestDiscovery_4_1(t *testing.T) {
	src := newMemSource()
	for _, tc := range []struct {
		name, public, want string
	}{
		{"from request", "", ""},
		{"public URL", "https://alpha.example:8443/", "https://alpha.example:8443/taxii2/api/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, src, Options{PublicURL: tc.public, Contact: "soc@alpha.example"})
			r := call(t, srv, "GET", "/taxii2/", "bravo", nil, "")
			if r.code != 200 || r.header.Get("Content-Type") != MediaType {
				t.Fatalf("status %d, Content-Type %q", r.code, r.header.Get("Content-Type"))
			}
			d := decode[Discovery](t, r)
			want := tc.want
			if want == "" {
				want = srv.URL + root
			}
			if d.Title == "" || d.Default != want || !slices.Equal(d.APIRoots, []string{want}) || d.Contact != "soc@alpha.example" {
				t.Errorf("discovery %+v, want api root %s", d, want)
			}
		})
	}
}

// TAXII 2.1 §4.1 and §4.2 at paths set in Options.
func TestCustomPaths_4_1(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/t/", authenticate(NewServer(newMemSource(), Options{DiscoveryPath: "/t/", APIRootPath: "t/intel"})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	d := decode[Discovery](t, call(t, srv, "GET", "/t/", "bravo", nil, ""))
	if d.Default != srv.URL+"/t/intel/" {
		t.Errorf("default %q", d.Default)
	}
	if r := call(t, srv, "GET", "/t/intel/collections/", "bravo", nil, ""); r.code != 200 {
		t.Errorf("collections at custom root: %d", r.code)
	}
	wantError(t, call(t, srv, "GET", "/t/api/", "bravo", nil, ""), 404)
}

// TAXII 2.1 §4.2 API Root Information.
func TestAPIRoot_4_2(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{MaxContentLength: 1 << 20})
	r := call(t, srv, "GET", root, "bravo", nil, "")
	a := decode[APIRoot](t, r)
	if !slices.Equal(a.Versions, []string{MediaType}) || a.MaxContentLength != 1<<20 || a.Title == "" {
		t.Errorf("api root %+v", a)
	}
}

// TAXII 2.1 §1.6.8 Content negotiation: 406 unless the Accept header admits
// application/taxii+json;version=2.1; responses name it exactly.
func TestContentNegotiation_1_6_8(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{})
	for _, tc := range []struct {
		accept string
		want   int
	}{
		{MediaType, 200},
		{"application/taxii+json; version=2.1", 200},
		{"application/taxii+json", 200},
		{"*/*", 200},
		{"application/*", 200},
		{"", 200}, // no Accept header
		{"text/html, application/taxii+json;version=2.1;q=0.5", 200},
		{"application/taxii+json;version=2.0", 406},
		{"application/json", 406},
		{"application/stix+json;version=2.1", 406},
		{"text/html", 406},
		{"application/taxii+json;version=2.1;q=0", 406},
		{"*/*, application/taxii+json;q=0", 406},
		{"garbage;;;", 406},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			for _, path := range []string{"/taxii2/", root, root + "collections/", objectsPath(collA)} {
				r := call(t, srv, "GET", path, "bravo", map[string]string{"Accept": tc.accept}, "")
				if tc.want == 200 {
					if r.code != 200 || r.header.Get("Content-Type") != MediaType {
						t.Errorf("%s: status %d, Content-Type %q", path, r.code, r.header.Get("Content-Type"))
					}
				} else {
					wantError(t, r, tc.want)
				}
			}
		})
	}
}

// TAXII 2.1 §3.6 (authentication): a request the node did not authenticate
// is 401 on every endpoint, with the configured challenge.
func TestUnauthenticated_401(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{AuthChallenge: `Basic realm="detente"`})
	for _, p := range []struct{ method, path string }{
		{"GET", "/taxii2/"}, {"GET", root}, {"GET", root + "collections/"},
		{"GET", root + "collections/" + collA + "/"}, {"GET", objectsPath(collA)},
		{"POST", objectsPath(collA)}, {"GET", root + "collections/" + collA + "/manifest/"},
		{"GET", root + "status/x/"}, {"GET", root + "no/such/path/"},
	} {
		r := call(t, srv, p.method, p.path, "", nil, "")
		wantError(t, r, 401)
		if r.header.Get("WWW-Authenticate") != `Basic realm="detente"` {
			t.Errorf("%s %s: WWW-Authenticate %q", p.method, p.path, r.header.Get("WWW-Authenticate"))
		}
	}
}

// TAXII 2.1 §5.1, §5.2: each caller lists only the collections it may know
// of, with its permissions.
func TestCollections_5_1(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{})
	for _, tc := range []struct {
		user string
		want []string
	}{
		{"bravo", []string{collA, collRO}},
		{"charlie", []string{collHidden}},
		{"local", []string{collA, collHidden, collRO}},
		{"delta", nil},
	} {
		t.Run(tc.user, func(t *testing.T) {
			r := call(t, srv, "GET", root+"collections/", tc.user, nil, "")
			cs := decode[Collections](t, r)
			var ids []string
			for _, c := range cs.Collections {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("collections %v, want %v", ids, tc.want)
			}
			if tc.want == nil && string(r.body) != "{}" {
				t.Errorf("no collections: body %s, want {}", r.body)
			}
		})
	}
	c := decode[Collection](t, call(t, srv, "GET", root+"collections/"+collRO+"/", "bravo", nil, ""))
	if c.ID != collRO || !c.CanRead || c.CanWrite || !slices.Equal(c.MediaTypes, []string{STIXMediaType}) {
		t.Errorf("collection %+v", c)
	}
}

// TAXII 2.1 §5.2–§5.8 with §3.6 status codes: a collection the caller may
// not see answers exactly as a missing one on every endpoint.
func TestInvisibleCollection_404(t *testing.T) {
	src := newMemSource()
	src.put(collHidden, Record{ID: "indicator--" + uuid(1), Raw: obj("indicator--"+uuid(1), "2025-01-01T00:00:00Z")})
	srv := newTestServer(t, src, Options{})
	missing := "0e4a3a5c-0000-4000-8000-000000000000"
	for _, sub := range []struct{ method, path, body string }{
		{"GET", "", ""},
		{"GET", "manifest/", ""},
		{"GET", "objects/", ""},
		{"POST", "objects/", `{"objects":[` + string(obj("indicator--"+uuid(2), "2025-01-01T00:00:00Z")) + `]}`},
		{"GET", "objects/indicator--" + uuid(1) + "/", ""},
		{"DELETE", "objects/indicator--" + uuid(1) + "/", ""},
		{"GET", "objects/indicator--" + uuid(1) + "/versions/", ""},
	} {
		t.Run(sub.method+" "+sub.path, func(t *testing.T) {
			hidden := call(t, srv, sub.method, root+"collections/"+collHidden+"/"+sub.path, "bravo", nil, sub.body)
			absent := call(t, srv, sub.method, root+"collections/"+missing+"/"+sub.path, "bravo", nil, sub.body)
			wantError(t, hidden, 404)
			if string(hidden.body) != string(absent.body) || hidden.code != absent.code {
				t.Errorf("hidden %d %s, missing %d %s", hidden.code, hidden.body, absent.code, absent.body)
			}
			if strings.Contains(string(hidden.body), collHidden) {
				t.Errorf("body names the collection: %s", hidden.body)
			}
		})
	}
	if n := len(src.recs[collHidden]); n != 1 {
		t.Errorf("hidden collection has %d records after bravo's POST", n)
	}
}

// TAXII 2.1 §3.6.1 Error Message: internals never reach the client, and
// Source error codes map to statuses.
func TestSourceErrors_3_6(t *testing.T) {
	for _, tc := range []struct {
		err       error
		code      int
		desc      string
		errorCode string
	}{
		{fmt.Errorf("query: %w", errors.New(`pq: relation "secret_table" does not exist`)), 500, "internal error", detente.EINTERNAL},
		{detente.Errorf(detente.ENOTFOUND, "no such thing"), 404, "no such thing", detente.ENOTFOUND},
		{fmt.Errorf("wrapped: %w", detente.Errorf(detente.EFORBIDDEN, "not for you")), 403, "not for you", detente.EFORBIDDEN},
		{detente.Errorf(detente.EDENIED, "policy refuses"), 403, "policy refuses", detente.EDENIED},
		{detente.Errorf(detente.EUNAUTHORIZED, "who are you"), 401, "who are you", detente.EUNAUTHORIZED},
		{detente.Errorf(detente.EINVALID, "bad input"), 400, "bad input", detente.EINVALID},
		{detente.Errorf(detente.ETOOLARGE, "too big"), 413, "too big", detente.ETOOLARGE},
		{detente.Errorf(detente.ECONFLICT, "conflicting version"), 409, "conflicting version", detente.ECONFLICT},
		{detente.Errorf(detente.EUNAVAILABLE, "db at 10.0.0.7 down"), 503, "the service is unavailable: try again later", detente.EUNAVAILABLE},
		{detente.Errorf(detente.EINTERNAL, "disk /var/secret full"), 500, "internal error", detente.EINTERNAL},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			src := newMemSource()
			src.err = tc.err
			srv := newTestServer(t, src, Options{})
			for _, path := range []string{root + "collections/", objectsPath(collA), root + "status/x/"} {
				e := wantError(t, call(t, srv, "GET", path, "bravo", nil, ""), tc.code)
				if e.Description != tc.desc || e.ErrorCode != tc.errorCode {
					t.Errorf("%s: description %q code %q, want %q %q", path, e.Description, e.ErrorCode, tc.desc, tc.errorCode)
				}
			}
		})
	}
}

// TAXII 2.1 §3.6: unknown paths are 404 and unsupported methods 405, both
// as error messages.
func TestRouting(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{})
	for _, p := range []string{"/taxii2/other/", root + "collections/" + collA + "/objects/x/y/z/", root + "collections//objects/", root + "status/"} {
		wantError(t, call(t, srv, "GET", p, "bravo", nil, ""), 404)
	}
	r := call(t, srv, "PUT", objectsPath(collA), "bravo", nil, "")
	wantError(t, r, 405)
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantError(t, call(t, srv, "POST", root+"collections/", "bravo", nil, "{}"), 405)
	// Paths without the trailing slash are served as well.
	if r := call(t, srv, "GET", strings.TrimSuffix(objectsPath(collA), "/"), "bravo", nil, ""); r.code != 200 {
		t.Errorf("no trailing slash: %d", r.code)
	}
}

// fixture stores versions with known ids, versions and spec versions in
// collA and returns the records in arrival order.
func fixture(src *memSource) []Record {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	add := func(id, ver, spec string) Record {
		raw := obj(id, d(ver).Format(time.RFC3339))
		return src.put(collA, Record{ID: id, Version: d(ver), SpecVersion: spec, Raw: raw})
	}
	return []Record{
		add("indicator--"+uuid(1), "2025-01-01", "2.1"),      // 0
		add("indicator--"+uuid(1), "2025-02-01", "2.1"),      // 1
		add("malware--"+uuid(2), "2025-01-15", "2.1"),        // 2
		add("indicator--"+uuid(1), "2025-03-01", "2.1"),      // 3
		add("indicator--"+uuid(3), "2025-05-01", "2.1"),      // 4: newest version, added first
		add("indicator--"+uuid(3), "2025-04-01", "2.1"),      // 5: older version, added later
		add("attack-pattern--"+uuid(5), "2025-01-01", "2.1"), // 6
		add("attack-pattern--"+uuid(5), "2025-06-01", "2.0"), // 7: newer, older spec
	}
}

// keys returns "id@version" of each object of an envelope, in order.
func keys(t *testing.T, env Envelope) []string {
	t.Helper()
	var out []string
	for _, o := range env.Objects {
		var v struct {
			ID       string    `json:"id"`
			Modified time.Time `json:"modified"`
		}
		if err := json.Unmarshal(o, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID+"@"+v.Modified.Format(time.DateOnly))
	}
	return out
}

func recKeys(recs []Record, idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, recs[i].ID+"@"+recs[i].Version.Format(time.DateOnly))
	}
	return out
}

// TAXII 2.1 §3.4 filtering and §5.4 Get Objects: match[id], match[type],
// match[version] (first, last, all, timestamps; default last),
// match[spec_version] (default the latest per object) and added_after
// (exclusive), combined.
func TestObjectFilters_3_4(t *testing.T) {
	src := newMemSource()
	recs := fixture(src)
	srv := newTestServer(t, src, Options{})
	after := func(i int) string { return url.QueryEscape(FormatTime(recs[i].DateAdded)) }
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{"", []int{2, 3, 4, 6}},
		{"match[version]=last", []int{2, 3, 4, 6}},
		{"match[version]=first", []int{0, 2, 5, 6}},
		{"match[version]=all", []int{0, 1, 2, 3, 4, 5, 6}},
		{"match[version]=first,last", []int{0, 2, 3, 4, 5, 6}},
		{"match[version]=first&match[version]=last", []int{0, 2, 3, 4, 5, 6}},
		{"match[version]=2025-02-01T00:00:00Z", []int{1}},
		{"match[version]=2025-02-01T00:00:00.000Z,2025-04-01T00:00:00Z", []int{1, 5}},
		{"match[version]=2024-01-01T00:00:00Z", nil},
		{"match[id]=indicator--" + uuid(1), []int{3}},
		{"match[id]=indicator--" + uuid(1) + ",malware--" + uuid(2), []int{2, 3}},
		{"match[id]=indicator--" + uuid(9), nil},
		{"match[type]=malware", []int{2}},
		{"match[type]=indicator,malware&match[version]=first", []int{0, 2, 5}},
		{"match[spec_version]=2.0", []int{7}},
		{"match[spec_version]=2.1", []int{2, 3, 4, 6}},
		{"match[spec_version]=2.0,2.1", []int{2, 3, 4, 7}},
		{"match[spec_version]=2.0,2.1&match[version]=all", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"match[version]=all&added_after=" + after(2), []int{3, 4, 5, 6}},
		{"match[version]=all&added_after=" + after(6), nil},
		{"added_after=" + after(3), []int{4, 6}},
		// The newest version of indicator 3 was added before the cut: an
		// older version added after it is not "last".
		{"added_after=" + after(4), []int{6}},
		{"match[type]=indicator&match[version]=all&added_after=" + after(1), []int{3, 4, 5}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := call(t, srv, "GET", objectsPath(collA)+"?"+tc.query, "bravo", nil, "")
			if r.code != 200 {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
			env := decode[Envelope](t, r)
			if got, want := keys(t, env), recKeys(recs, tc.want...); !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
			if env.More || env.Next != "" {
				t.Errorf("more %v next %q on a complete answer", env.More, env.Next)
			}
			if len(tc.want) == 0 && string(r.body) != `{"more":false}` {
				t.Errorf("empty envelope %s", r.body)
			}
		})
	}
}

// TAXII 2.1 §3.4, §3.5: malformed parameters are 400 error messages.
func TestBadParams_3_4(t *testing.T) {
	src := newMemSource()
	fixture(src)
	srv := newTestServer(t, src, Options{})
	obj := root + "collections/" + collA + "/objects/indicator--" + uuid(1) + "/"
	for _, tc := range []struct{ path, query string }{
		{objectsPath(collA), "limit=0"},
		{objectsPath(collA), "limit=-1"},
		{objectsPath(collA), "limit=abc"},
		{objectsPath(collA), "limit=1.5"},
		{objectsPath(collA), "limit=1&limit=2"},
		{objectsPath(collA), "added_after=yesterday"},
		{objectsPath(collA), "added_after=2025-01-01"},
		{objectsPath(collA), "added_after=a&added_after=b"},
		{objectsPath(collA), "match[version]=latest"},
		{objectsPath(collA), "match[version]="},
		{objectsPath(collA), "match[id]=foo"},
		{objectsPath(collA), "match[id]=indicator--" + uuid(1) + ",,malware--" + uuid(2)},
		{objectsPath(collA), "match[type]=Indicator"},
		{objectsPath(collA), "match[type]=a"},
		{objectsPath(collA), "match[spec_version]=2"},
		{objectsPath(collA), "match[spec_version]=latest"},
		{objectsPath(collA), "match[foo]=bar"},
		{objectsPath(collA), "match[type=indicator"},
		{objectsPath(collA), "next=garbage"},
		{objectsPath(collA), "next=AQAAAAAAAAABAAAAAAAAAAA"},
		{objectsPath(collA), "%zz"},
		{obj, "match[type]=indicator"},
		{obj, "match[id]=indicator--" + uuid(1)},
		{obj + "versions/", "match[version]=all"},
		{root + "collections/" + collA + "/manifest/", "limit=x"},
	} {
		t.Run(tc.path+"?"+tc.query, func(t *testing.T) {
			wantError(t, call(t, srv, "GET", tc.path+"?"+tc.query, "bravo", nil, ""), 400)
		})
	}
	// Parameters that are not TAXII's are ignored.
	if r := call(t, srv, "GET", objectsPath(collA)+"?cachebust=1", "bravo", nil, ""); r.code != 200 {
		t.Errorf("unknown parameter: %d", r.code)
	}
}

// walkRaw pages through path with the given query and limit by following
// next, and returns the ids of the objects and the envelopes.
func walkRaw(t *testing.T, srv *httptest.Server, path, query string) ([]string, []Envelope) {
	t.Helper()
	var ids []string
	var envs []Envelope
	next := ""
	for range 100 {
		q := query
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		r := call(t, srv, "GET", path+"?"+q, "bravo", nil, "")
		if r.code != 200 {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		env := decode[Envelope](t, r)
		envs = append(envs, env)
		for _, o := range env.Objects {
			var v struct{ ID string }
			json.Unmarshal(o, &v)
			ids = append(ids, v.ID)
		}
		if !env.More {
			return ids, envs
		}
		if env.Next == "" {
			t.Fatal("more without next")
		}
		next = env.Next
	}
	t.Fatal("no end after 100 pages")
	return nil, nil
}

func addN(src *memSource, coll string, from, n int) []string {
	src.mu.Lock()
	defer src.mu.Unlock()
	var ids []string
	for i := from; i < from+n; i++ {
		id := "indicator--" + uuid(i)
		src.putObject(coll, obj(id, "2025-01-01T00:00:00Z"))
		ids = append(ids, id)
	}
	return ids
}

// TAXII 2.1 §3.5 Pagination: limit, more and an opaque next that resumes
// exactly after the last record served, with the same filters only.
func TestPagination_3_5(t *testing.T) {
	src := newMemSource()
	all := addN(src, collA, 0, 25)
	srv := newTestServer(t, src, Options{MaxPageSize: 10, PageSize: 4})

	t.Run("limit", func(t *testing.T) {
		ids, envs := walkRaw(t, srv, objectsPath(collA), "limit=10")
		if !slices.Equal(ids, all) {
			t.Errorf("walk %v", ids)
		}
		var sizes []int
		for _, e := range envs {
			sizes = append(sizes, len(e.Objects))
		}
		if !slices.Equal(sizes, []int{10, 10, 5}) {
			t.Errorf("page sizes %v", sizes)
		}
	})
	t.Run("default and capped page size", func(t *testing.T) {
		for q, want := range map[string]int{"": 4, "limit=3": 3, "limit=500": 10} {
			env := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA)+"?"+q, "bravo", nil, ""))
			if len(env.Objects) != want || !env.More {
				t.Errorf("%q: %d objects, more %v; want %d", q, len(env.Objects), env.More, want)
			}
		}
	})
	t.Run("next with other filters", func(t *testing.T) {
		env := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA)+"?limit=5&match[type]=indicator", "bravo", nil, ""))
		for _, q := range []string{
			"",                    // filters dropped
			"match[type]=malware", // filters changed
			"match[type]=indicator&match[version]=all",
			"match[type]=indicator&added_after=2020-01-01T00:00:00Z",
		} {
			wantError(t, call(t, srv, "GET", objectsPath(collA)+"?"+q+"&next="+env.Next, "bravo", nil, ""), 400)
		}
		// The same filters in another order and another limit are fine.
		r := call(t, srv, "GET", objectsPath(collA)+"?match[type]=indicator&limit=7&next="+env.Next, "bravo", nil, "")
		if r.code != 200 {
			t.Errorf("same filters, other limit: %d %s", r.code, r.body)
		}
		// A cursor is bound to its collection and endpoint.
		wantError(t, call(t, srv, "GET", root+"collections/"+collRO+"/objects/?match[type]=indicator&next="+env.Next, "bravo", nil, ""), 400)
		wantError(t, call(t, srv, "GET", root+"collections/"+collA+"/manifest/?match[type]=indicator&next="+env.Next, "bravo", nil, ""), 400)
	})
	t.Run("next is stable while objects are added", func(t *testing.T) {
		first := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA)+"?limit=10", "bravo", nil, ""))
		before := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA)+"?limit=10&next="+first.Next, "bravo", nil, ""))
		added := addN(src, collA, 100, 3)
		after := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA)+"?limit=10&next="+first.Next, "bravo", nil, ""))
		if !slices.Equal(keys(t, before), keys(t, after)) {
			t.Errorf("same next, other page after inserts")
		}
		ids, _ := walkRaw(t, srv, objectsPath(collA), "limit=10")
		if want := append(slices.Clone(all), added...); !slices.Equal(ids, want) {
			t.Errorf("walk after inserts: %d ids, want %d", len(ids), len(want))
		}
	})
}

// TAXII 2.1 §3.2 custom headers and §3.5: X-TAXII-Date-Added-First and
// -Last bracket the page, and added_after set to -Last continues after it
// without repeating it.
func TestDateAddedHeaders_3_2(t *testing.T) {
	src := newMemSource()
	all := addN(src, collA, 0, 9)
	srv := newTestServer(t, src, Options{})
	var seen []string
	addedAfter := ""
	for range 10 {
		q := "limit=4"
		if addedAfter != "" {
			q += "&added_after=" + url.QueryEscape(addedAfter)
		}
		r := call(t, srv, "GET", objectsPath(collA)+"?"+q, "bravo", nil, "")
		env := decode[Envelope](t, r)
		if len(env.Objects) == 0 {
			if r.header.Get(HeaderDateAddedFirst) != "" || r.header.Get(HeaderDateAddedLast) != "" {
				t.Errorf("date headers on an empty page")
			}
			break
		}
		m := decode[Manifest](t, call(t, srv, "GET", root+"collections/"+collA+"/manifest/?"+q, "bravo", nil, ""))
		first, last := r.header.Get(HeaderDateAddedFirst), r.header.Get(HeaderDateAddedLast)
		if first != m.Objects[0].DateAdded.String() || last != m.Objects[len(m.Objects)-1].DateAdded.String() {
			t.Errorf("headers %s..%s, manifest %v..%v", first, last, m.Objects[0].DateAdded, m.Objects[len(m.Objects)-1].DateAdded)
		}
		if len(first) != len("2026-01-02T03:04:05.000000Z") || !strings.HasSuffix(first, "Z") {
			t.Errorf("header form %q", first)
		}
		seen = append(seen, keys(t, env)...)
		addedAfter = last
	}
	var ids []string
	for _, k := range seen {
		ids = append(ids, strings.Split(k, "@")[0])
	}
	if !slices.Equal(ids, all) {
		t.Errorf("added_after walk %v", ids)
	}
}

// TAXII 2.1 §5.3 Get Object Manifests.
func TestManifest_5_3(t *testing.T) {
	src := newMemSource()
	recs := fixture(src)
	srv := newTestServer(t, src, Options{})
	r := call(t, srv, "GET", root+"collections/"+collA+"/manifest/?match[version]=all&limit=3", "bravo", nil, "")
	if r.code != 200 || r.header.Get("Content-Type") != MediaType {
		t.Fatalf("status %d", r.code)
	}
	m := decode[Manifest](t, r)
	if !m.More || m.Next == "" || len(m.Objects) != 3 {
		t.Fatalf("manifest %+v", m)
	}
	for i, rec := range m.Objects {
		want := recs[i]
		if rec.ID != want.ID || !rec.DateAdded.Equal(want.DateAdded) || !rec.Version.Equal(want.Version) || rec.MediaType != STIXMediaType {
			t.Errorf("record %d: %+v, want %+v", i, rec, want)
		}
	}
	m2 := decode[Manifest](t, call(t, srv, "GET", root+"collections/"+collA+"/manifest/?match[version]=all&next="+m.Next, "bravo", nil, ""))
	if len(m2.Objects) != 4 || m2.More || m2.Objects[0].ID != recs[3].ID {
		t.Errorf("second page %+v", m2)
	}
}

// TAXII 2.1 §5.6 Get An Object, §5.7 Delete An Object, §5.8 Get Object
// Versions.
func TestObjectEndpoints_5_6(t *testing.T) {
	src := newMemSource()
	recs := fixture(src)
	srv := newTestServer(t, src, Options{})
	ind1 := root + "collections/" + collA + "/objects/" + recs[0].ID + "/"
	ind3 := root + "collections/" + collA + "/objects/" + recs[4].ID + "/"

	t.Run("5.6 default last", func(t *testing.T) {
		r := call(t, srv, "GET", ind1, "bravo", nil, "")
		if got := keys(t, decode[Envelope](t, r)); !slices.Equal(got, recKeys(recs, 3)) {
			t.Errorf("got %v", got)
		}
		if r.header.Get(HeaderDateAddedFirst) != FormatTime(recs[3].DateAdded) {
			t.Errorf("header %q", r.header.Get(HeaderDateAddedFirst))
		}
	})
	t.Run("5.6 filters", func(t *testing.T) {
		for q, want := range map[string][]int{
			"match[version]=all":                  {0, 1, 3},
			"match[version]=first":                {0},
			"match[version]=2025-02-01T00:00:00Z": {1},
			"match[version]=all&added_after=" + url.QueryEscape(FormatTime(recs[0].DateAdded)): {1, 3},
			"match[version]=1999-01-01T00:00:00Z":                                              nil,
			"match[spec_version]=2.0":                                                          nil,
		} {
			env := decode[Envelope](t, call(t, srv, "GET", ind1+"?"+q, "bravo", nil, ""))
			if got := keys(t, env); !slices.Equal(got, recKeys(recs, want...)) {
				t.Errorf("%s: got %v", q, got)
			}
		}
		env := decode[Envelope](t, call(t, srv, "GET", ind1+"?match[version]=all&limit=2", "bravo", nil, ""))
		if !env.More || env.Next == "" {
			t.Fatalf("paged object %+v", env)
		}
		env = decode[Envelope](t, call(t, srv, "GET", ind1+"?match[version]=all&limit=2&next="+env.Next, "bravo", nil, ""))
		if got := keys(t, env); !slices.Equal(got, recKeys(recs, 3)) || env.More {
			t.Errorf("second page %v more %v", got, env.More)
		}
	})
	t.Run("5.6 missing object", func(t *testing.T) {
		wantError(t, call(t, srv, "GET", root+"collections/"+collA+"/objects/indicator--"+uuid(99)+"/", "bravo", nil, ""), 404)
		wantError(t, call(t, srv, "GET", root+"collections/"+collA+"/objects/not-an-id/", "bravo", nil, ""), 404)
		// An object in a collection bravo may not see is not found either.
		src.mu.Lock()
		src.put(collHidden, Record{ID: "indicator--" + uuid(77), Raw: obj("indicator--"+uuid(77), "2025-01-01T00:00:00Z")})
		src.mu.Unlock()
		wantError(t, call(t, srv, "GET", root+"collections/"+collA+"/objects/indicator--"+uuid(77)+"/", "bravo", nil, ""), 404)
	})
	t.Run("5.7 delete is refused", func(t *testing.T) {
		e := wantError(t, call(t, srv, "DELETE", ind1, "local", nil, ""), 403)
		if !strings.Contains(e.Description, "never deleted") {
			t.Errorf("description %q", e.Description)
		}
		if n := len(src.recs[collA]); n != len(recs) {
			t.Errorf("%d records after delete", n)
		}
	})
	t.Run("5.8 versions", func(t *testing.T) {
		v := decode[Versions](t, call(t, srv, "GET", ind3+"versions/", "bravo", nil, ""))
		var got []string
		for _, ts := range v.Versions {
			got = append(got, ts.Format(time.DateOnly))
		}
		// In the order the versions were added (§3.3), not by timestamp.
		if !slices.Equal(got, []string{"2025-05-01", "2025-04-01"}) || v.More {
			t.Errorf("versions %v more %v", got, v.More)
		}
		v = decode[Versions](t, call(t, srv, "GET", ind1+"versions/?limit=2", "bravo", nil, ""))
		if len(v.Versions) != 2 || !v.More || v.Next == "" {
			t.Fatalf("paged versions %+v", v)
		}
		v = decode[Versions](t, call(t, srv, "GET", ind1+"versions/?limit=2&next="+v.Next, "bravo", nil, ""))
		if len(v.Versions) != 1 || !v.Versions[0].Equal(recs[3].Version) {
			t.Errorf("second page %+v", v)
		}
		wantError(t, call(t, srv, "GET", root+"collections/"+collA+"/objects/indicator--"+uuid(99)+"/versions/", "bravo", nil, ""), 404)
	})
}

// TAXII 2.1 §5.5 Add Objects and §4.3 Get Status: 202 with a status
// resource, 415 for another media type, 413 over max_content_length, 400
// for a malformed envelope, 403 without write permission.
func TestAddObjects_5_5(t *testing.T) {
	src := newMemSource()
	srv := newTestServer(t, src, Options{MaxContentLength: 4096})
	body := `{"objects":[` + string(obj("indicator--"+uuid(1), "2025-01-01T00:00:00Z")) + `,` + string(obj("malware--"+uuid(2), "2025-01-01T00:00:00Z")) + `]}`

	r := call(t, srv, "POST", objectsPath(collA), "bravo", nil, body)
	if r.code != http.StatusAccepted || r.header.Get("Content-Type") != MediaType {
		t.Fatalf("status %d %s", r.code, r.body)
	}
	st := decode[Status](t, r)
	if st.ID == "" || st.Status != StatusComplete || st.TotalCount != 2 || st.SuccessCount != 2 || len(st.Successes) != 2 {
		t.Errorf("status %+v", st)
	}
	got := decode[Status](t, call(t, srv, "GET", root+"status/"+st.ID+"/", "bravo", nil, ""))
	if got.ID != st.ID || got.SuccessCount != 2 {
		t.Errorf("GET status %+v", got)
	}
	wantError(t, call(t, srv, "GET", root+"status/"+st.ID+"/", "charlie", nil, ""), 404)
	env := decode[Envelope](t, call(t, srv, "GET", objectsPath(collA), "bravo", nil, ""))
	if len(env.Objects) != 2 {
		t.Errorf("%d objects after add", len(env.Objects))
	}

	t.Run("415", func(t *testing.T) {
		for _, ct := range []string{"application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0", "text/plain", "", "garbage;;"} {
			wantError(t, call(t, srv, "POST", objectsPath(collA), "bravo", map[string]string{"Content-Type": ct}, body), 415)
		}
		if r := call(t, srv, "POST", objectsPath(collA), "bravo", map[string]string{"Content-Type": "application/taxii+json; version=2.1"}, body); r.code != 202 {
			t.Errorf("spaced media type: %d", r.code)
		}
	})
	t.Run("413", func(t *testing.T) {
		big := `{"objects":[` + strings.Repeat(string(obj("indicator--"+uuid(3), "2025-01-01T00:00:00Z"))+",", 40) + string(obj("indicator--"+uuid(3), "2025-01-01T00:00:00Z")) + `]}`
		wantError(t, call(t, srv, "POST", objectsPath(collA), "bravo", nil, big), 413)
		// Without a Content-Length the limit holds while reading.
		req, _ := http.NewRequest("POST", srv.URL+objectsPath(collA), io.MultiReader(strings.NewReader(big)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", MediaType)
		req.Header.Set("Accept", MediaType)
		req.SetBasicAuth("bravo", "t")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("chunked: %d", resp.StatusCode)
		}
	})
	t.Run("400", func(t *testing.T) {
		for _, b := range []string{
			`not json`, `[]`, `null`, `{}`, `{"objects":[]}`, `{"objects":{}}`, `{"objects":[1]}`,
			`{"objects":[]} trailing`, `{"objects":["not an object"]}`,
		} {
			wantError(t, call(t, srv, "POST", objectsPath(collA), "bravo", nil, b), 400)
		}
	})
	t.Run("403", func(t *testing.T) {
		wantError(t, call(t, srv, "POST", objectsPath(collRO), "bravo", nil, body), 403)
		wantError(t, call(t, srv, "POST", objectsPath(collA), "reader", nil, body), 403)
	})
}

// unorderedSource returns its records in reverse, breaking the Records
// contract.
type unorderedSource struct{ *memSource }

func (u unorderedSource) Records(ctx context.Context, c Caller, coll string, q Query) ([]Record, bool, error) {
	recs, more, err := u.memSource.Records(ctx, c, coll, q)
	slices.Reverse(recs)
	return recs, more, err
}

// TAXII 2.1 §3.5: a Source that returns records out of order would make
// cursors skip records; the server answers 500 rather than serve the page.
func TestSourceOutOfOrder(t *testing.T) {
	src := newMemSource()
	addN(src, collA, 0, 3)
	srv := newTestServer(t, unorderedSource{src}, Options{})
	wantError(t, call(t, srv, "GET", objectsPath(collA)+"?limit=2", "bravo", nil, ""), 500)
	if r := call(t, srv, "GET", objectsPath(collA)+"?limit=1", "bravo", nil, ""); r.code != 200 {
		t.Errorf("one record is always in order: %d", r.code)
	}
}

// TestObjectsServedAsStored: the envelope carries each object's bytes as
// the Source holds them, not re-encoded (encoding/json would escape <, >
// and & and change the canonical bytes a signature covers).
func TestObjectsServedAsStored(t *testing.T) {
	src := newMemSource()
	raw := `{"created":"2026-01-10T10:00:00.000Z","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2026-01-10T10:00:00.000Z","name":"<b>R&D</b> \u2028 é","type":"indicator"}`
	if _, err := src.putObject(collA, json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, src, Options{})
	r := call(t, srv, "GET", objectsPath(collA), "bravo", nil, "")
	if r.code != 200 {
		t.Fatalf("GET: %d %s", r.code, r.body)
	}
	if want := `{"more":false,"objects":[` + raw + `]}`; string(r.body) != want {
		t.Errorf("envelope\n%s\nwant\n%s", r.body, want)
	}
}

// A path that is not UTF-8 is 400, as in the API, not looked up as U+FFFD
// and answered 404.
func TestPathNotUTF8(t *testing.T) {
	srv := newTestServer(t, newMemSource(), Options{})
	for _, p := range []string{root + "collections/%ff/", objectsPath(collA) + "indicator--%ff/", root + "status/%ff/"} {
		wantError(t, call(t, srv, "GET", p, "bravo", nil, ""), 400)
	}
}
