package feed

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"detente"
	"detente/internal/taxii"
)

// MaxMISPFileBytes bounds a MISP feed file (the manifest or one event).
const MaxMISPFileBytes = 256 << 20

// mispBatchBytes and mispBatchEvents bound the MISP events that go into one
// page: small events are stored together, a large one alone.
const (
	mispBatchBytes  = 4 << 20
	mispBatchEvents = 64
)

// mispSource pulls a MISP JSON feed: manifest.json, then each event whose
// manifest timestamp is newer than the one stored for its uuid, oldest
// first.
type mispSource struct {
	hc    *http.Client
	base  *url.URL
	creds credentials
	name  string
	todo  []manifestEntry // events to pull, loaded on the first fetch
	ready bool
}

// manifestEntry is one event listed in manifest.json.
type manifestEntry struct {
	uuid string
	ts   int64
}

// fetchedEvent is one event file as served.
type fetchedEvent struct {
	uuid string
	ts   int64
	data []byte
}

func newMISPSource(c *Config, hc *http.Client, cr credentials) (*mispSource, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: URL %q is not a URL", c.Name, c.URL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return &mispSource{hc: hc, base: u, creds: cr, name: c.Name}, nil
}

func (s *mispSource) fetch(ctx context.Context, cur Cursor) (*batch, error) {
	if !s.ready {
		m, err := s.manifest(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range m {
			if e.ts > cur.Events[e.uuid] {
				s.todo = append(s.todo, e)
			}
		}
		slices.SortFunc(s.todo, func(a, b manifestEntry) int {
			return cmp.Or(cmp.Compare(a.ts, b.ts), strings.Compare(a.uuid, b.uuid))
		})
		s.ready = true
	}
	b := &batch{misp: true, next: cur.clone()}
	if b.next.Events == nil {
		b.next.Events = map[string]int64{}
	}
	size := 0
	for len(s.todo) > 0 && size < mispBatchBytes && len(b.events)+len(b.rejected) < mispBatchEvents {
		e := s.todo[0]
		data, err := s.get(ctx, e.uuid+".json")
		switch {
		case taxii.IsStatus(err, http.StatusNotFound) || taxii.IsStatus(err, http.StatusGone):
			// Listed but gone: skip this version; a newer one is pulled.
			b.rejected = append(b.rejected, Rejected{ID: e.uuid, Index: -1, Reason: "the manifest lists the event but its file is not served (404)"})
		case err != nil:
			if len(b.events)+len(b.rejected) > 0 {
				b.more = true // store what is fetched; the error comes back on the next fetch
				return b, nil
			}
			return nil, err
		default:
			b.events = append(b.events, fetchedEvent{uuid: e.uuid, ts: e.ts, data: data})
			size += len(data)
		}
		b.next.Events[e.uuid] = e.ts
		s.todo = s.todo[1:]
	}
	b.more = len(s.todo) > 0
	return b, nil
}

// manifest fetches and reads manifest.json: an object whose keys are event
// uuids, each with the event's timestamp.
func (s *mispSource) manifest(ctx context.Context) ([]manifestEntry, error) {
	data, err := s.get(ctx, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m map[string]struct {
		Timestamp flexTime `json:"timestamp"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: manifest.json is not a MISP feed manifest: %v", s.name, err)
	}
	out := make([]manifestEntry, 0, len(m))
	for k, v := range m {
		id := strings.ToLower(k)
		if !isUUID(id) {
			// The key names the event's file: only a UUID is safe to fetch.
			return nil, detente.Errorf(detente.EINVALID, "feed %s: manifest.json lists %q, which is not an event uuid", s.name, clip(k, 80))
		}
		if v.Timestamp <= 0 {
			return nil, detente.Errorf(detente.EINVALID, "feed %s: manifest.json gives event %s no timestamp", s.name, id)
		}
		out = append(out, manifestEntry{uuid: id, ts: int64(v.Timestamp)})
	}
	return out, nil
}

// get fetches one file of the feed.
func (s *mispSource) get(ctx context.Context, name string) ([]byte, error) {
	u := s.base.ResolveReference(&url.URL{Path: name}).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("misp feed: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case s.creds.token != "":
		req.Header.Set("Authorization", "Bearer "+s.creds.token)
	case s.creds.username != "" || s.creds.password != "":
		req.SetBasicAuth(s.creds.username, s.creds.password)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxMISPFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read response: %w", u, err)
	}
	if len(data) > MaxMISPFileBytes {
		return nil, detente.Errorf(detente.ETOOLARGE, "feed %s: %s is over %d bytes", s.name, name, MaxMISPFileBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &taxii.Error{StatusCode: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Description: "GET " + name}
	}
	return data, nil
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// isUUID reports whether s is a lower-case RFC 4122 UUID (any version).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
