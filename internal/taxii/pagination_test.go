package taxii

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TAXII 2.1 §3.5 Pagination under concurrent inserts: while a goroutine
// adds objects and new versions of existing ones, a client walks with small
// pages. No version is served twice, every version added before the walk
// started is served, and a later walk from the last X-TAXII-Date-Added-Last
// picks up exactly what the first one had not reached.
func TestPaginationConcurrentInserts_3_5(t *testing.T) {
	for _, version := range []string{"all", "last"} {
		t.Run("match[version]="+version, func(t *testing.T) {
			src := newMemSource()
			srv := newTestServer(t, src, Options{})
			writer := newClient(srv, "local")
			reader := newClient(srv, "bravo")
			ctx := t.Context()

			mod := func(i int) string {
				return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
			}
			// Before the walk: 40 objects, some with two versions.
			before := map[string]bool{}
			for i := range 40 {
				objs := []json.RawMessage{obj("indicator--"+uuid(i), mod(0))}
				if i%4 == 0 {
					objs = append(objs, obj("indicator--"+uuid(i), mod(1)))
				}
				if _, err := writer.Add(ctx, collA, objs); err != nil {
					t.Fatal(err)
				}
				before["indicator--"+uuid(i)] = true
			}

			done := make(chan struct{})
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() {
				for i := 0; i < 150; i++ {
					select {
					case <-done:
						return
					default:
					}
					// New objects, and new versions of objects from
					// before the walk.
					objs := []json.RawMessage{obj("malware--"+uuid(1000+i), mod(0))}
					if i%3 == 0 {
						objs = append(objs, obj("indicator--"+uuid(i%40), mod(2+i)))
					}
					if _, err := writer.Add(ctx, collA, objs); err != nil {
						werr = err
						return
					}
				}
			})

			seen := map[string]int{} // id@modified
			seenIDs := map[string]bool{}
			var last time.Time
			pages := 0
			f := Filter{Limit: 3, Versions: []string{version}}
			err := reader.Walk(ctx, collA, f, func(p Page) error {
				pages++
				if len(p.Objects) > 0 && !p.DateAddedFirst.After(last) {
					return fmt.Errorf("page %d starts at %v, not after %v", pages, p.DateAddedFirst, last)
				}
				for _, o := range p.Objects {
					var v struct {
						ID       string `json:"id"`
						Modified string `json:"modified"`
					}
					if err := json.Unmarshal(o, &v); err != nil {
						return err
					}
					seen[v.ID+"@"+v.Modified]++
					seenIDs[v.ID] = true
				}
				if !p.DateAddedLast.IsZero() {
					last = p.DateAddedLast
				}
				return nil
			})
			close(done)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if werr != nil {
				t.Fatal(werr)
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s served %d times", k, n)
				}
			}
			for id := range before {
				if !seenIDs[id] {
					t.Errorf("%s, added before the walk, was skipped", id)
				}
			}
			if pages < 10 {
				t.Errorf("only %d pages: the walk did not page", pages)
			}

			// Resume from the last position: nothing is served twice,
			// and with match[version]=all the two walks together hold
			// every version stored.
			f.AddedAfter = last
			err = reader.Walk(ctx, collA, f, func(p Page) error {
				for _, o := range p.Objects {
					var v struct {
						ID       string `json:"id"`
						Modified string `json:"modified"`
					}
					json.Unmarshal(o, &v)
					seen[v.ID+"@"+v.Modified]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s served %d times across the two walks", k, n)
				}
			}
			if version == "all" {
				src.mu.Lock()
				total := len(src.recs[collA])
				src.mu.Unlock()
				if len(seen) != total {
					t.Errorf("two walks served %d versions of %d", len(seen), total)
				}
			}
		})
	}
}
