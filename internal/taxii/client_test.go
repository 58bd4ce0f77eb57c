package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Client and server round trip over HTTP: every endpoint of TAXII 2.1 §4
// and §5.
func TestClientRoundTrip(t *testing.T) {
	ctx := t.Context()
	src := newMemSource()
	srv := newTestServer(t, src, Options{Title: "alpha", MaxContentLength: 1 << 20})
	c := newClient(srv, "bravo")

	t.Run("4.1 discovery", func(t *testing.T) {
		d, err := c.Discovery(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.Title != "alpha" || d.Default != c.BaseURL {
			t.Errorf("discovery %+v", d)
		}
	})
	t.Run("4.2 api root", func(t *testing.T) {
		a, err := c.APIRoot(ctx)
		if err != nil || a.MaxContentLength != 1<<20 {
			t.Errorf("api root %+v, %v", a, err)
		}
	})
	t.Run("5.1 5.2 collections", func(t *testing.T) {
		cs, err := c.Collections(ctx)
		if err != nil || len(cs) != 2 {
			t.Fatalf("collections %+v, %v", cs, err)
		}
		col, err := c.Collection(ctx, collA)
		if err != nil || col.ID != collA || !col.CanWrite {
			t.Errorf("collection %+v, %v", col, err)
		}
	})

	var objs []json.RawMessage
	for i := range 5 {
		objs = append(objs, obj("indicator--"+uuid(i), "2025-01-01T00:00:00Z"))
	}
	objs = append(objs, obj("indicator--"+uuid(0), "2025-02-01T00:00:00Z"))
	var st Status
	t.Run("5.5 add, 4.3 status", func(t *testing.T) {
		var err error
		st, err = c.Add(ctx, collA, objs)
		if err != nil || st.SuccessCount != 6 || st.Status != StatusComplete {
			t.Fatalf("add %+v, %v", st, err)
		}
		got, err := c.Status(ctx, st.ID)
		if err != nil || got.ID != st.ID || got.Successes[0].ID != "indicator--"+uuid(0) {
			t.Errorf("status %+v, %v", got, err)
		}
	})
	t.Run("5.4 objects", func(t *testing.T) {
		p, err := c.Objects(ctx, collA, Filter{Limit: 2, Versions: []string{"all"}}, "")
		if err != nil || len(p.Objects) != 2 || !p.More || p.Next == "" || p.DateAddedFirst.IsZero() || !p.DateAddedLast.After(p.DateAddedFirst) {
			t.Fatalf("page %+v, %v", p, err)
		}
		p2, err := c.Objects(ctx, collA, Filter{Limit: 10, Versions: []string{"all"}}, p.Next)
		if err != nil || len(p2.Objects) != 4 || p2.More {
			t.Errorf("page 2 %+v, %v", p2, err)
		}
		_, err = c.Objects(ctx, collA, Filter{Limit: 10}, p.Next)
		if !IsStatus(err, 400) {
			t.Errorf("next with other filters: %v", err)
		}
	})
	t.Run("5.3 manifest", func(t *testing.T) {
		m, err := c.Manifest(ctx, collA, Filter{Types: []string{"indicator"}}, "")
		if err != nil || len(m.Objects) != 5 || m.More {
			t.Errorf("manifest %+v, %v", m, err)
		}
	})
	t.Run("5.6 object, 5.8 versions", func(t *testing.T) {
		p, err := c.Object(ctx, collA, "indicator--"+uuid(0), Filter{Versions: []string{"first"}, Types: []string{"ignored"}}, "")
		if err != nil || len(p.Objects) != 1 {
			t.Fatalf("object %+v, %v", p, err)
		}
		v, err := c.Versions(ctx, collA, "indicator--"+uuid(0), Filter{Versions: []string{"ignored"}}, "")
		if err != nil || len(v.Versions) != 2 {
			t.Errorf("versions %+v, %v", v, err)
		}
	})
	t.Run("3.6.1 errors", func(t *testing.T) {
		_, err := c.Collection(ctx, collHidden)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Title != "Not Found" || e.Description != "collection not found" {
			t.Errorf("hidden collection: %#v", err)
		}
		_, err = newClient(srv, "").Collections(ctx)
		if !IsStatus(err, http.StatusUnauthorized) {
			t.Errorf("no credentials: %v", err)
		}
		_, err = c.Add(ctx, collRO, objs[:1])
		if !IsStatus(err, http.StatusForbidden) {
			t.Errorf("read-only collection: %v", err)
		}
	})
	t.Run("walk", func(t *testing.T) {
		var ids []string
		pages := 0
		err := c.Walk(ctx, collA, Filter{Limit: 2, Versions: []string{"all"}}, func(p Page) error {
			pages++
			for _, o := range p.Objects {
				var v struct{ ID string }
				json.Unmarshal(o, &v)
				ids = append(ids, v.ID)
			}
			return nil
		})
		if err != nil || pages != 3 || len(ids) != 6 {
			t.Errorf("walk: %d pages, %v, %v", pages, ids, err)
		}
		stop := errors.New("stop")
		if err := c.Walk(ctx, collA, Filter{Limit: 2}, func(Page) error { return stop }); err != stop {
			t.Errorf("walk error %v", err)
		}
	})
}

// TAXII 2.1 §3.5: against a server that sets more without next, Walk
// continues with added_after from X-TAXII-Date-Added-Last.
func TestWalkAddedAfterFallback_3_5(t *testing.T) {
	src := newMemSource()
	ids := addN(src, collA, 0, 7)
	inner := NewServer(src, Options{})
	// A server that drops next from every page.
	srv := httptest.NewServer(authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		var env Envelope
		json.Unmarshal(rec.Body.Bytes(), &env)
		env.Next = ""
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		json.NewEncoder(w).Encode(env)
	})))
	defer srv.Close()
	var got []string
	err := newClient(srv, "bravo").Walk(t.Context(), collA, Filter{Limit: 3}, func(p Page) error {
		for _, o := range p.Objects {
			var v struct{ ID string }
			json.Unmarshal(o, &v)
			got = append(got, v.ID)
		}
		return nil
	})
	if err != nil || !slices.Equal(got, ids) {
		t.Errorf("walk %v, %v", got, err)
	}
}

// A Walk against a server that claims more but gives no way on ends in an
// error rather than a loop.
func TestWalkNoProgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", MediaType)
		w.Write([]byte(`{"more":true}`))
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), BaseURL: srv.URL + "/api/"}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Walk(ctx, "c", Filter{}, func(Page) error { return nil }); err == nil {
		t.Error("walk without progress returned nil")
	}
}

// TestWalkEndlessEmptyPages: a server that answers every page with more
// and a fresh next but no object (the red team's stalling partner) is
// given up on after MaxEmptyPages, not walked for ever.
func TestWalkEndlessEmptyPages(t *testing.T) {
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", MediaType)
		fmt.Fprintf(w, `{"more":true,"next":"n%d"}`, pages.Add(1))
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), BaseURL: srv.URL + "/api/"}
	err := c.Walk(t.Context(), "c", Filter{}, func(Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "sent none") {
		t.Errorf("walk of endless empty pages: %v", err)
	}
	if n := pages.Load(); n != MaxEmptyPages {
		t.Errorf("%d pages fetched, want %d", n, MaxEmptyPages)
	}
}

// The client reports non-TAXII error bodies and wrong media types.
func TestClientBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		code           int
	}{
		{"html error", "text/html", "<h1>bad gateway</h1>", 502},
		{"wrong type", "text/html", "{}", 200},
		{"bad json", MediaType, "{", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				w.WriteHeader(tc.code)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &Client{HTTP: srv.Client(), BaseURL: srv.URL + "/api/"}
			_, err := c.Collections(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			if tc.code >= 400 && (!IsStatus(err, tc.code) || err.(*Error).Title != http.StatusText(tc.code)) {
				t.Errorf("error %v", err)
			}
		})
	}
	if _, err := (&Client{BaseURL: "not a url"}).Collections(t.Context()); err == nil {
		t.Error("relative base URL accepted")
	}
}
