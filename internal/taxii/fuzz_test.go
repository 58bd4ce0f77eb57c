package taxii

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzQueryParams checks that parsing the URL parameters of TAXII 2.1 §3.4
// and §3.5 (match[...], added_after, limit, next) never panics, rejects
// what it does not accept with a 400 error message, and yields queries
// within bounds; and that the whole handler answers such requests 200 or
// 400 only.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{
		"",
		"limit=10",
		"limit=0",
		"limit=99999999999999999999",
		"added_after=2025-01-01T00:00:00Z",
		"added_after=2025-01-01T00:00:00.123456789+02:00",
		"match[id]=indicator--6b0e0a8e-4a1c-4d2b-9c1a-000000000001,malware--6b0e0a8e-4a1c-4d2b-9c1a-000000000002",
		"match[type]=indicator&match[version]=first,last,2025-01-01T00:00:00Z",
		"match[spec_version]=2.0,2.1&match[version]=all",
		"next=AQAAAAAAAAABAAAAAAAAAAA",
		"next=" + fuzzCursors.seal(5, fingerprint(epObjects, collA, &Query{Versions: VersionSet{Last: true}}), Caller{Partner: "bravo", CanRead: true}),
		"match[foo]=bar",
		"%zz&limit=",
		"match[version]=,",
	} {
		f.Add(s)
	}
	src := newMemSource()
	fixture(src)
	h := authenticate(NewServer(src, Options{}))
	f.Fuzz(func(t *testing.T, raw string) {
		for ep := range epVersions + 1 {
			req, err := parseQuery(raw, ep, collA, 10, 100)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest || e.Title == "" {
					t.Fatalf("%s %q: error %v is not a 400 error message", ep, raw, err)
				}
				continue
			}
			q := req.q
			if q.Limit < 1 || q.Limit > 100 || q.AfterSeq < 0 || q.Versions.IsZero() {
				t.Fatalf("%s %q: query out of bounds: %+v", ep, raw, q)
			}
			for _, id := range q.IDs {
				if !validID(id) {
					t.Fatalf("%s %q: invalid id %q accepted", ep, raw, id)
				}
			}
			// The cursor for this query round-trips with its fingerprint.
			c := Caller{Partner: "bravo", CanRead: true}
			seq, fp, err := fuzzCursors.open(fuzzCursors.seal(q.AfterSeq, req.fingerprint, c), c)
			if err != nil || seq != q.AfterSeq || fp != req.fingerprint {
				t.Fatalf("cursor round trip: %d %x %v", seq, fp, err)
			}
		}

		r := httptest.NewRequest("GET", objectsPath(collA), nil)
		r.URL.RawQuery = raw
		r.SetBasicAuth("bravo", "t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("%q: status %d: %s", raw, w.Code, w.Body)
		}
		if w.Header().Get("Content-Type") != MediaType || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%q: response %q %s", raw, w.Header().Get("Content-Type"), w.Body)
		}
	})
}

// FuzzEnvelope checks that parsing the envelope of an add request (TAXII
// 2.1 §5.5) never panics and accepts only envelopes whose objects are JSON
// objects with a valid type and a STIX id of that type.
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"objects":[` + string(obj("indicator--"+uuid(1), "2025-01-01T00:00:00Z")) + `]}`,
		`{"more":false,"objects":[{"type":"x-custom","id":"x-custom--6b0e0a8e-4a1c-4d2b-9c1a-000000000001"}]}`,
		`{"objects":[]}`,
		`{"objects":null}`,
		`{"objects":[{"type":1}]}`,
		`[]`,
		`{"objects":[{"type":"indicator","id":"indicator--6b0e0a8e-4a1c-4d2b-9c1a-000000000001","type":"malware"}]}`,
		"\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := ParseEnvelope(body)
		if err != nil {
			if objs != nil {
				t.Fatal("objects with an error")
			}
			return
		}
		if len(objs) == 0 {
			t.Fatal("accepted an empty envelope")
		}
		for _, o := range objs {
			var head map[string]json.RawMessage
			if err := json.Unmarshal(o, &head); err != nil || head == nil {
				t.Fatalf("accepted object %s, not a JSON object: %v", o, err)
			}
		}
	})
}

// fuzzCursors seals the cursors of the fuzz targets' seeds.
var fuzzCursors, _ = newCursors(make([]byte, 32))

// FuzzSplitEnvelope checks the client's envelope splitter against
// encoding/json: an error in the same cases, otherwise the same more, next
// and objects, byte for byte.
func FuzzSplitEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"more":true,"next":"abc","objects":[{"id":"indicator--1","type":"indicator"},{"a":[1,{"b":"]}\""}]}]}`,
		`{"objects":[]}`, `{}`, `null`, `[]`, `{"objects":null}`, `{"objects":5}`, `{"more":"yes"}`,
		` { "Objects" : [ 1 , "x" , null , true ] , "MORE" : false , "next" : null } `,
		`{"objects":[1],"objects":[2,3]}`, `{"obj\u0065cts":[{}]}`, `{"next":"\ud83d\ude00"}`, `{"objects":[1,]}`, `{"objects":[1,2],"objects":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want Envelope
		wantErr := json.Unmarshal(data, &want)
		got, err := splitEnvelope(data)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if got.More != want.More || got.Next != want.Next || len(got.Objects) != len(want.Objects) {
			t.Fatalf("%q: got %+v, want %+v", data, got, want)
		}
		for i := range got.Objects {
			if string(got.Objects[i]) != string(want.Objects[i]) {
				t.Fatalf("%q: object %d %q, want %q", data, i, got.Objects[i], want.Objects[i])
			}
		}
	})
}
