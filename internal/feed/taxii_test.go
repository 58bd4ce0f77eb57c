package feed

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"detente"
	"detente/internal/taxii"
)

// feedFor returns the configuration of a feed on s with the test
// credentials and a small page size, so that pulls take several pages.
func feedFor(s *taxiiServer) Config {
	return Config{Name: "opencti", URL: s.collectionURL(), Username: testUser, Password: testPassword, RootCAs: s.pool(), PageSize: 7}
}

func TestPullTAXII(t *testing.T) {
	for _, style := range []string{pageByNext, pageByAddedAfter} {
		t.Run(style, func(t *testing.T) {
			s := newTAXIIServer(t, style)
			first := indicators(0, 50)
			s.add(first...)
			sink := &memSink{}
			var progress []Stats
			p := &Puller{Feed: feedFor(s), Sink: sink, Progress: func(st Stats) { progress = append(progress, st) }}
			st, err := p.Pull(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkExactlyOnce(t, sink.ids(), first)
			if st.Pages != 8 || st.Objects != 50 || len(progress) != 8 || progress[7].Objects != 50 {
				t.Errorf("stats %+v, %d progress calls", st, len(progress))
			}
			cur, _ := sink.Cursor(context.Background(), "opencti")
			if want := s.records[49].added; !cur.Last.Equal(want) || !cur.AddedAfter.Equal(want) || cur.Next != "" {
				t.Errorf("cursor after the walk = %+v, want added_after %v", cur, want)
			}
			// Nothing new: no page is stored.
			if st, err := p.Pull(context.Background()); err != nil || st.Pages != 0 {
				t.Fatalf("second pull: %+v, %v", st, err)
			}
			// New objects: only they are pulled.
			more := indicators(50, 9)
			s.add(more...)
			if _, err := p.Pull(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkExactlyOnce(t, sink.ids(), append(first, more...))
		})
	}
}

// TestPullRules: what reaches the Sink is prepared: unsigned, the feed as
// source, default TLP on unmarked objects, the configured grading, the
// creator identity as originator.
func TestPullRules(t *testing.T) {
	s := newTAXIIServer(t, pageByNext)
	s.add(indicators(0, 4)...)
	sink := &memSink{}
	f := feedFor(s)
	f.Grading = detente.Grading{Reliability: 'C', Credibility: 3}
	if _, err := (&Puller{Feed: f, Sink: sink}).Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, it := range sink.items {
		v := it.Version
		wantTLP := detente.MarkingAmber
		if i%2 == 0 {
			wantTLP = detente.MarkingGreen
		}
		if len(v.Markings) != 1 || v.Markings[0] != wantTLP {
			t.Errorf("%s markings %v, want %s", v.ID, v.Markings, wantTLP)
		}
		if v.Signer != nil || it.Signed || v.Grading.String() != "C3" || it.Source != "feed:opencti" ||
			v.Originator != "identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04" {
			t.Errorf("%s: signer %v grading %s source %s originator %s", v.ID, v.Signer, v.Grading, it.Source, v.Originator)
		}
	}
}

// TestPullCrash: the Sink fails before or after its commit, or the pull is
// cancelled, at random points; every resumption continues from the stored
// cursor and in the end every object is stored exactly once. With the
// server restarted between pulls, a stored next is refused and the pull
// resumes from the last date_added stored.
func TestPullCrash(t *testing.T) {
	for _, style := range []string{pageByNext, pageByAddedAfter, pageNextNoDates} {
		for seed := range uint64(4) {
			t.Run(style+"/"+string(rune('a'+seed)), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				s := newTAXIIServer(t, style)
				all := indicators(0, 120)
				s.add(all[:90]...)
				f := feedFor(s)
				hc, err := f.HTTPClient() // one client: no TLS handshake per attempt
				if err != nil {
					t.Fatal(err)
				}
				sink := &memSink{}
				sink.crash = func(int) (bool, bool) {
					switch rng.IntN(6) {
					case 0:
						return true, false
					case 1:
						return false, true
					}
					return false, false
				}
				attempts := 0
				for done := false; !done; attempts++ {
					if attempts > 200 {
						t.Fatal("no progress after 200 attempts")
					}
					if attempts == 12 {
						s.add(all[90:]...) // objects arrive while the feed is pulled
					}
					ctx, cancel := context.WithCancel(context.Background())
					if rng.IntN(4) == 0 {
						stop := rng.IntN(5) + 1
						s.mu.Lock()
						s.hook = func(n int, r *http.Request) (int, string) {
							if n%stop == 0 {
								cancel()
							}
							return 0, ""
						}
						s.mu.Unlock()
					}
					if rng.IntN(5) == 0 {
						s.mu.Lock()
						s.epoch++ // a restart: every next handed out so far is refused
						s.mu.Unlock()
					}
					_, err := (&Puller{Feed: feedFor(s), Sink: sink, HTTP: hc}).Pull(ctx)
					cancel()
					s.mu.Lock()
					s.hook = nil
					s.mu.Unlock()
					switch {
					case err == nil:
						done = attempts >= 12
					case errors.Is(err, errCrash), errors.Is(err, context.Canceled):
					default:
						t.Fatalf("attempt %d: %v", attempts, err)
					}
				}
				if style == pageNextNoDates {
					// Without X-TAXII-Date-Added-Last a refused next restarts
					// the walk: objects come again and the store keeps them
					// once. Here, where the sink keeps everything, count ids.
					got := map[string]bool{}
					for _, id := range sink.ids() {
						got[id] = true
					}
					if len(got) != len(all) {
						t.Fatalf("%d distinct objects stored, want %d", len(got), len(all))
					}
					return
				}
				checkExactlyOnce(t, sink.ids(), all)
			})
		}
	}
}

// TestPullStaleNext: a next stored mid-walk that the server no longer
// knows is dropped for added_after = the last date_added stored.
func TestPullStaleNext(t *testing.T) {
	s := newTAXIIServer(t, pageByNext)
	all := indicators(0, 30)
	s.add(all...)
	sink := &memSink{crash: func(call int) (bool, bool) { return call == 3, false }}
	if _, err := (&Puller{Feed: feedFor(s), Sink: sink}).Pull(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("err = %v, want the crash", err)
	}
	cur, _ := sink.Cursor(context.Background(), "opencti")
	if cur.Next == "" || cur.Last.IsZero() {
		t.Fatalf("cursor %+v, want mid-walk", cur)
	}
	s.set(func() { s.epoch++ })
	if _, err := (&Puller{Feed: feedFor(s), Sink: sink}).Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, sink.ids(), all)
}

func TestPullAuth(t *testing.T) {
	s := newTAXIIServer(t, pageByNext)
	s.add(indicators(0, 3)...)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(testPassword+"\n"), 0o600)

	pull := func(f Config) error {
		_, err := (&Puller{Feed: f, Sink: &memSink{}}).Pull(context.Background())
		return err
	}
	ok := feedFor(s)
	ok.RootCAs, ok.CAFile, ok.Password, ok.PasswordFile = nil, caFile, "", pwFile
	if err := pull(ok); err != nil {
		t.Fatalf("CA file and password file: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		code string
		msg  string
	}{
		{"wrong password", func(c *Config) { c.Password = "nope" }, detente.EUNAUTHORIZED, "refused the credentials (401"},
		{"no credentials", func(c *Config) { c.Username, c.Password = "", "" }, detente.EUNAUTHORIZED, "401"},
		{"no read access", func(c *Config) { c.Username = forbiddenUser }, detente.EFORBIDDEN, "may not read this feed (403"},
		{"unknown collection", func(c *Config) { c.URL = strings.Replace(c.URL, testCollection, "0000", 1) }, detente.ENOTFOUND, "404"},
		{"untrusted CA", func(c *Config) { c.RootCAs = x509.NewCertPool() }, detente.EUNAVAILABLE, "not signed by a trusted CA"},
		{"system roots", func(c *Config) { c.RootCAs = nil }, detente.EUNAVAILABLE, "--ca-file"},
		{"missing password file", func(c *Config) { c.Password, c.PasswordFile = "", filepath.Join(dir, "absent") }, detente.EINVALID, "cannot read the password file"},
		{"empty CA file", func(c *Config) { c.RootCAs, c.CAFile = nil, pwFile }, detente.EINVALID, "holds no PEM certificate"},
		{"plain http", func(c *Config) { c.URL = strings.Replace(c.URL, "https://127.0.0.1", "http://feeds.example", 1) }, detente.EINVALID, "must start with https://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := feedFor(s)
			tc.edit(&f)
			err := pull(f)
			if detente.ErrorCode(err) != tc.code || !strings.Contains(detente.ErrorMessage(err), tc.msg) {
				t.Errorf("err = %v (code %s), want %s and %q", err, detente.ErrorCode(err), tc.code, tc.msg)
			}
		})
	}
	// The cause stays reachable.
	f := feedFor(s)
	f.Password = "nope"
	if err := pull(f); !taxii.IsStatus(err, 401) {
		t.Errorf("401 not reachable with errors.As: %v", err)
	}
	// Bearer tokens, as OpenCTI takes them.
	s.set(func() { s.token = true })
	f = feedFor(s)
	f.Username, f.Password, f.Token = "", "", testToken
	if err := pull(f); err != nil {
		t.Errorf("bearer token: %v", err)
	}
	f.Token = "wrong"
	if err := pull(f); detente.ErrorCode(err) != detente.EUNAUTHORIZED {
		t.Errorf("wrong token: %v", err)
	}
}

// TestPullMalformed: what real servers get wrong is reported, and what can
// be stored is stored.
func TestPullMalformed(t *testing.T) {
	t.Run("not JSON", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		s.add(indicators(0, 3)...)
		s.hook = func(int, *http.Request) (int, string) { return 200, `{"more": false, "objects": [` }
		_, err := (&Puller{Feed: feedFor(s), Sink: &memSink{}}).Pull(context.Background())
		if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "malformed response") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("HTML", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		s.add(indicators(0, 3)...)
		s.ctype = "text/html"
		_, err := (&Puller{Feed: feedFor(s), Sink: &memSink{}}).Pull(context.Background())
		if err == nil || !strings.Contains(err.Error(), "unexpected content type") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("plain JSON", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		all := indicators(0, 10)
		s.add(all...)
		s.ctype = "application/json; charset=utf-8"
		sink := &memSink{}
		if _, err := (&Puller{Feed: feedFor(s), Sink: sink}).Pull(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, sink.ids(), all)
	})
	t.Run("invalid objects", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		good := indicators(0, 10)
		bad := json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"indicator--aaaaaaaa-0b7d-4e2a-9c1f-5a6b7c8d9e0f","created":"2026-02-01T10:00:00.000Z","modified":"2026-02-01T10:00:00.000Z","pattern_type":"stix","valid_from":"2026-02-01T10:00:00Z"}`)
		custom := json.RawMessage(`{"type":"x-opencti-note","spec_version":"2.1","id":"x-opencti-note--bbbbbbbb-0b7d-4e2a-9c1f-5a6b7c8d9e0f","created":"2026-02-01T10:00:00.000Z","modified":"2026-02-01T10:00:00.000Z","x_opencti_score":70,"body":"kept as it is"}`)
		predefined := json.RawMessage(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`)
		s.add(good[:5]...)
		s.add(bad, json.RawMessage(`"not an object"`), custom, predefined)
		s.add(good[5:]...)
		sink := &memSink{}
		st, err := (&Puller{Feed: feedFor(s), Sink: sink, Logger: quiet}).Pull(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, sink.ids(), append(append([]json.RawMessage{}, good...), custom))
		if st.Rejected != 2 || st.Skipped != 1 {
			t.Errorf("stats %+v, want 2 rejected and 1 skipped", st)
		}
		var reasons []string
		for _, p := range sink.pages {
			for _, r := range p.Rejected {
				reasons = append(reasons, r.ID+" "+r.Reason)
			}
		}
		if len(reasons) != 2 || !strings.Contains(reasons[0], "indicator--aaaaaaaa-0b7d-4e2a-9c1f-5a6b7c8d9e0f: pattern: required property missing") {
			t.Errorf("rejected: %q", reasons)
		}
	})
	t.Run("more without a way forward", func(t *testing.T) {
		s := newTAXIIServer(t, pageByAddedAfter)
		all := indicators(0, 10)
		s.add(all...)
		s.hook = func(n int, r *http.Request) (int, string) {
			if n == 2 {
				raw, _ := json.Marshal(taxii.Envelope{More: true, Objects: all[7:9]})
				return 200, string(raw) // no next, no date headers
			}
			return 0, ""
		}
		sink := &memSink{}
		st, err := (&Puller{Feed: feedFor(s), Sink: sink, Logger: quiet}).Pull(context.Background())
		if err == nil || !strings.Contains(err.Error(), "neither next nor a later X-TAXII-Date-Added-Last") || st.Pages != 2 {
			t.Fatalf("err = %v, stats %+v", err, st)
		}
		// The next pull restarts the walk from the last stored position.
		s.set(func() { s.hook = nil })
		if _, err := (&Puller{Feed: feedFor(s), Sink: sink}).Pull(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, id := range sink.ids() {
			got[id] = true
		}
		if len(got) != len(all) {
			t.Errorf("%d distinct objects, want %d", len(got), len(all))
		}
	})
	t.Run("match[version] refused", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		all := indicators(0, 20)
		s.add(all...)
		s.hook = func(n int, r *http.Request) (int, string) {
			if r.URL.Query().Has("match[version]") {
				return 400, `{"title":"Bad Request","description":"unknown parameter match[version]"}`
			}
			return 0, ""
		}
		sink := &memSink{}
		if _, err := (&Puller{Feed: feedFor(s), Sink: sink}).Pull(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, sink.ids(), all)
	})
	t.Run("next repeated without objects", func(t *testing.T) {
		s := newTAXIIServer(t, pageByNext)
		s.add(indicators(0, 10)...)
		s.hook = func(n int, r *http.Request) (int, string) {
			if r.URL.Query().Get("next") == "" {
				return 0, ""
			}
			return 200, `{"more":true,"next":"` + r.URL.Query().Get("next") + `"}`
		}
		_, err := (&Puller{Feed: feedFor(s), Sink: &memSink{}}).Pull(context.Background())
		if err == nil || !strings.Contains(err.Error(), "repeats its next value") {
			t.Errorf("err = %v", err)
		}
	})
}
