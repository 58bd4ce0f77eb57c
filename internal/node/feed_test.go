package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"detente"
	"detente/internal/feed"
	"detente/internal/feed/feedtest"
	"detente/internal/node"
	"detente/internal/stix"
)

// feedEvents returns the log's object events that name source.
func feedEvents(t *testing.T, n interface {
	Events(context.Context, detente.EventFilter) ([]*detente.Event, error)
}, source string) map[string][]string {
	t.Helper()
	es, err := n.Events(context.Background(), detente.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range es {
		var b map[string]string
		if json.Unmarshal(e.Body, &b) == nil && b["source"] == source {
			out[b["id"]] = append(out[b["id"]], e.Type)
		}
	}
	return out
}

// TestFeedThroughNode pulls a plain TAXII 2.1 server (Basic over TLS,
// several pages) through the node: each object is stored once, unsigned,
// owned by the feed's origin key, with the feed's TLP where it had none
// and one log entry naming the feed; a future-dated object is refused
// alone; a pull again adds nothing; the feed never takes over the node's
// ids, and nobody takes over the feed's.
func TestFeedThroughNode(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	srv := feedtest.NewServer(t, 4)
	srv.Add(feedtest.Indicators(0, 10)...)
	future := feedtest.Indicator(100, true)
	future = []byte(strings.ReplaceAll(string(future), "2026-02-01T10:00:00.000Z", "2099-02-01T10:00:00.000Z"))
	srv.Add(future)
	// A version of an id the node owns, and a predefined TLP definition.
	if _, err := n.Ingest(ctx, bundle(indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	takeover, _ := json.Marshal(indicator(indID, detente.MarkingGreen, "2026-01-11T10:00:00.000Z"))
	srv.Add(takeover, json.RawMessage(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}}`))

	dir := t.TempDir()
	ca, pw := srv.Files(t, dir)
	if _, err := n.Feeds.Add(ctx, feed.Config{Name: "cti", URL: srv.CollectionURL(), Username: feedtest.User, PasswordFile: pw, CAFile: ca}); err != nil {
		t.Fatal(err)
	}
	var pages []int
	res, err := n.Feeds.Pull(ctx, "cti", func(s feed.Stats) { pages = append(pages, s.Pages) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 12 || res.Skipped != 1 || len(pages) < 3 {
		t.Fatalf("pull: %+v, progress %v", res.Stats, pages)
	}
	origin := feed.OriginKey(n.Key, "cti")
	for i := range 10 {
		id := fmt.Sprintf("indicator--%08x-0b7d-4e2a-9c1f-5a6b7c8d9e0f", i)
		o, err := n.CurrentObject(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if o.Signer != nil || !o.OriginKey().Equal(origin) || o.Originator != "identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04" {
			t.Errorf("%s: signer %v, origin %v, originator %q", id, o.Signer, o.OriginKey(), o.Originator)
		}
		want := detente.MarkingAmber
		if i%2 == 0 {
			want = detente.MarkingGreen
		}
		if len(o.Markings) != 1 || o.Markings[0] != want {
			t.Errorf("%s: markings %v, want %s", id, o.Markings, want)
		}
	}
	if _, err := n.CurrentObject(ctx, "indicator--00000064-0b7d-4e2a-9c1f-5a6b7c8d9e0f"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("future-dated object: %v", err)
	}
	// The node's id stays the node's: the feed's version is quarantined.
	if o, err := n.CurrentObject(ctx, indID); err != nil || o.Originator != detente.OriginSelf || !o.Modified.Equal(time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("the node's id after the feed's version: %+v, %v", o, err)
	}
	events := feedEvents(t, n, "feed:cti")
	if len(events) != 12 {
		t.Errorf("%d objects in the log naming the feed, want 12: %v", len(events), events)
	}
	for id, types := range events {
		if len(types) != 1 {
			t.Errorf("%s: %d log entries %v", id, len(types), types)
		}
	}
	if types := events[indID]; len(types) != 1 || types[0] != detente.EventObjectQuarantined {
		t.Errorf("takeover logged as %v", types)
	}
	// The alert names this node and the feed, not their keys.
	alerts, err := n.Alerts(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, a := range alerts {
		if a.Key == indID {
			named = strings.Contains(a.Message, "belongs to this node") && strings.Contains(a.Message, "comes from feed cti") &&
				!strings.Contains(a.Message, detente.NodeKeyPrefix)
			if !named {
				t.Errorf("alert: %s", a.Message)
			}
		}
	}
	if !named {
		t.Error("no alert names the feed's takeover")
	}
	st, err := n.Feeds.Status(ctx)
	if err != nil || len(st) != 1 || st[0].State.Objects != 11 || st[0].State.Quarantined != 1 || st[0].State.Rejected != 1 || st[0].State.LastSuccess.IsZero() {
		t.Fatalf("status: %+v, %v", st, err)
	}

	// Again: nothing new, nothing logged; then one more object.
	before, _ := count(t, n)
	if res, err := n.Feeds.Pull(ctx, "cti", nil); err != nil || res.Objects != 0 {
		t.Errorf("second pull: %+v, %v", res, err)
	}
	srv.Add(feedtest.Indicator(20, false))
	if res, err := n.Feeds.Pull(ctx, "cti", nil); err != nil || res.Objects != 1 {
		t.Errorf("third pull: %+v, %v", res, err)
	}
	if after, _ := count(t, n); after != before+1 {
		t.Errorf("objects %d -> %d, want one more", before, after)
	}

	// A partner's signed version of a feed's id is foreign.
	_, other, _ := ed25519.GenerateKey(nil)
	o, err := stix.ParseObject(feedtest.Indicator(3, true))
	if err != nil {
		t.Fatal(err)
	}
	o, _ = o.Amend(map[string]any{"modified": "2026-02-02T10:00:00.000Z"})
	signed, err := o.Sign(other, detente.Grading{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.Ingest(ctx, signed.Raw, node.IngestOptions{})
	if err != nil || r.Quarantined != 1 {
		t.Errorf("a signed version of the feed's id: %+v, %v", r, err)
	}

	// What a retired partner key signed, brought by the feed, is foreign.
	oldPub, oldKey, _ := ed25519.GenerateKey(nil)
	newPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(oldPub), "https://bravo.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.UpdatePartner(ctx, "bravo", node.PartnerChange{Key: detente.PublicKey(newPub)}, "key leaked"); err != nil {
		t.Fatal(err)
	}
	o, err = stix.ParseObject(feedtest.Indicator(30, true))
	if err != nil {
		t.Fatal(err)
	}
	if signed, err = o.Sign(oldKey, detente.Grading{}); err != nil {
		t.Fatal(err)
	}
	srv.Add(signed.Raw)
	if res, err := n.Feeds.Pull(ctx, "cti", nil); err != nil || res.Objects != 1 {
		t.Errorf("pull of the retired key's object: %+v, %v", res, err)
	}
	vs, err := n.ObjectVersions(ctx, o.ID)
	if err != nil || len(vs) != 1 || !strings.Contains(vs[0].Quarantine, "bravo's retired key") {
		t.Errorf("the retired key's object from the feed: %+v, %v", vs, err)
	}

	if err := n.Feeds.Remove(ctx, "cti"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Feeds.Pull(ctx, "cti", nil); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("pull of a removed feed: %v", err)
	}
}

// TestFeedSecretsFromFilesOnly: a feed's secrets are read from files, never
// given in memory nor stored; the log names neither secret nor path.
func TestFeedSecretsFromFilesOnly(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	srv := feedtest.NewServer(t, 10)
	srv.Add(feedtest.Indicators(0, 3)...)
	dir := t.TempDir()
	ca, pw := srv.Files(t, dir)
	base := feed.Config{Name: "cti", URL: srv.CollectionURL(), Username: feedtest.User, CAFile: ca}

	for _, c := range []struct {
		name string
		edit func(*feed.Config)
	}{
		{"password in memory", func(c *feed.Config) { c.Password = feedtest.Password }},
		{"token in memory", func(c *feed.Config) { c.Username, c.Token = "", "tok" }},
		{"missing password file", func(c *feed.Config) { c.PasswordFile = filepath.Join(dir, "nope") }},
		{"user without password file", func(c *feed.Config) {}},
		{"password file without user", func(c *feed.Config) { c.Username, c.PasswordFile = "", pw }},
	} {
		cfg := base
		c.edit(&cfg)
		if _, err := n.Feeds.Add(ctx, cfg); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("%s: %v, want EINVALID", c.name, err)
		}
	}
	cfg := base
	cfg.PasswordFile = pw
	if _, err := n.Feeds.Add(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Feeds.Add(ctx, cfg); detente.ErrorCode(err) != detente.EEXISTS {
		t.Errorf("the same feed twice: %v", err)
	}
	if _, err := n.Feeds.Pull(ctx, "cti", nil); err != nil {
		t.Fatal(err)
	}
	// The password rotates in its file; a wrong one fails the pull, and
	// the status says so.
	os.WriteFile(pw, []byte("wrong\n"), 0o600)
	if _, err := n.Feeds.Pull(ctx, "cti", nil); detente.ErrorCode(err) != detente.EUNAUTHORIZED {
		t.Errorf("pull with a wrong password: %v", err)
	}
	st, _ := n.Feeds.Status(ctx)
	if len(st) != 1 || st[0].State.Errors != 1 || !strings.Contains(st[0].State.LastError, "401") {
		t.Errorf("status after a failed pull: %+v", st)
	}
	if err := n.Feeds.Remove(ctx, "cti"); err != nil {
		t.Fatal(err)
	}
	// Nothing in the store or the log holds the secret; the log holds no
	// path either.
	es, err := n.Events(ctx, detente.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var added, removed int
	for _, e := range es {
		b := string(e.Body)
		if strings.Contains(b, feedtest.Password) || strings.Contains(b, dir) {
			t.Errorf("log entry %s holds a secret or a path: %s", e.Type, b)
		}
		switch e.Type {
		case feed.EventFeedAdded:
			added++
		case feed.EventFeedRemoved:
			removed++
		}
	}
	if added != 1 || removed != 1 {
		t.Errorf("%d feed.added and %d feed.removed entries", added, removed)
	}
	n.Store.View(ctx, func(tx detente.Tx) error {
		docs, _ := tx.Docs(ctx, feed.DocConfig, "", 0)
		for _, d := range docs {
			if strings.Contains(string(d.Body), feedtest.Password) {
				t.Errorf("stored feed holds the password: %s", d.Body)
			}
		}
		return nil
	})
}

// BenchmarkFeedPull pulls 10,000 indicators from a plain TAXII 2.1 server
// on loopback (Basic over TLS, pages of 1,000) through the node into
// SQLite: fetch, parse, rules, store, one log entry per object and the
// cursor per page. Each round is a new feed, so everything is new.
// Target: at least 10,000 objects/s.
func BenchmarkFeedPull(b *testing.B) {
	for _, originate := range []bool{false, true} {
		name := "unsigned"
		if originate {
			name = "originate"
		}
		b.Run(name, func(b *testing.B) {
			const total = 10_000
			ctx := context.Background()
			n := newNode(b, "alpha")
			round := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				// Each round is a new feed over new objects.
				srv2 := feedtest.NewServer(b, 1000)
				srv2.Add(feedtest.Indicators((round+1)*total, total)...)
				ca, pw := srv2.Files(b, b.TempDir())
				name := fmt.Sprintf("bench%d", round)
				if _, err := n.Feeds.Add(ctx, feed.Config{Name: name, URL: srv2.CollectionURL(), Username: feedtest.User,
					PasswordFile: pw, CAFile: ca, Originate: originate}); err != nil {
					b.Fatal(err)
				}
				round++
				b.StartTimer()
				cpu0 := cpuTime()
				res, err := n.Feeds.Pull(ctx, name, nil)
				cpu += cpuTime() - cpu0
				if err != nil || res.Objects != total {
					b.Fatalf("pull: %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "objects/s")
			// What the pull does with a core, the test server's TLS work
			// included: it does not depend on what else the machine runs.
			b.ReportMetric(float64(total*b.N)/cpu.Seconds(), "objects/cpu-s")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
