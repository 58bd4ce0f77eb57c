package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/api"
	"detente/internal/translog"
)

// get sends a GET as role and returns the response with its body; it
// fails the test unless the status is 200.
func (f *fixture) get(t *testing.T, role detente.Role, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return resp, body
}

// getJSON sends a GET as role and decodes its JSON response into v.
func (f *fixture) getJSON(t *testing.T, role detente.Role, path string, v any) {
	t.Helper()
	_, body := f.get(t, role, path)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func (f *fixture) pub() ed25519.PublicKey { return ed25519.PublicKey(f.node.PublicKey()) }

// grow appends two events to the log: a partner, and its suspension.
func (f *fixture) grow(t *testing.T, name string) {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners", `{"name": "`+name+`", "key": "`+detente.PublicKey(pub).String()+`"}`); code != 201 {
		t.Fatalf("partner: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/"+name+"/suspend", `{"reason": "review \"é\""}`); code != 200 {
		t.Fatalf("suspend: %d %s", code, raw)
	}
}

// appendRaw appends an event with exactly body to the log, as a store
// could hold it: bodies need not be what json.Marshal writes.
func (f *fixture) appendRaw(t *testing.T, body string) {
	t.Helper()
	ctx := context.Background()
	err := f.node.Store.Update(ctx, func(tx detente.Tx) error {
		return tx.AppendEvent(ctx, &detente.Event{Time: time.Now().UTC(), Type: detente.EventChannel, Body: []byte(body)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkpoint returns the node's latest checkpoint through the API,
// verified against the node's key.
func (f *fixture) checkpoint(t *testing.T) *translog.Checkpoint {
	t.Helper()
	_, note := f.get(t, detente.RoleAnalyst, "/api/v1/log/checkpoint")
	cp, err := translog.ParseCheckpoint(note, f.node.Origin(), f.pub())
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v\n%s", err, note)
	}
	return cp
}

func TestCheckpoint(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	resp, note := f.get(t, detente.RoleAnalyst, "/api/v1/log/checkpoint")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	cp, err := translog.ParseCheckpoint(note, f.node.Origin(), f.pub())
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v\n%s", err, note)
	}
	var size int64
	f.node.Store.View(ctx, func(tx detente.Tx) (err error) { size, err = tx.CountEvents(ctx); return })
	if cp.Size != size {
		t.Errorf("checkpoint of size %d, log has %d entries", cp.Size, size)
	}

	// A grown log gets a fresh checkpoint at once.
	f.grow(t, "bravo")
	if grown := f.checkpoint(t); grown.Size != size+2 {
		t.Errorf("after two more events: size %d, want %d", grown.Size, size+2)
	}

	// Cosignatures collected for the latest checkpoint are published.
	cp = f.checkpoint(t)
	_, wpriv, _ := ed25519.GenerateKey(rand.Reader)
	const witness = "detente/bravo/witness"
	line, err := translog.Cosign(cp.Note, witness, wpriv, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.node.Store.Update(ctx, func(tx detente.Tx) error { return tx.PutCosignature(ctx, cp.Size, witness, line) }); err != nil {
		t.Fatal(err)
	}
	var j api.CheckpointJSON
	f.getJSON(t, detente.RoleAuditor, "/api/v1/log/checkpoint?format=json", &j)
	if j.Size != cp.Size || j.Root != cp.Root || j.Time.IsZero() {
		t.Errorf("JSON checkpoint %+v, want size %d root %s", j, cp.Size, cp.Root)
	}
	if len(j.Cosigners) != 1 || j.Cosigners[0] != witness {
		t.Errorf("cosigners %q, want [%s]", j.Cosigners, witness)
	}
	if _, err := translog.VerifyCosignature([]byte(j.Note), witness, wpriv.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("published note lacks the cosignature: %v\n%s", err, j.Note)
	}
	_, text := f.get(t, detente.RoleAnalyst, "/api/v1/log/checkpoint")
	if string(text) != j.Note {
		t.Errorf("text and JSON notes differ:\n%s\n%s", text, j.Note)
	}
}

func TestEntriesAndInclusion(t *testing.T) {
	f := setup(t)
	f.grow(t, "bravo")
	const (
		escapable = `{"note":"a<b>&c"}` // JSON encoders escape these by default
		indented  = `{"note": "x"}`     // not compact: sent as body_base64
	)
	f.appendRaw(t, escapable)
	f.appendRaw(t, indented)
	cp := f.checkpoint(t)
	var page api.LogEntries
	f.getJSON(t, detente.RoleAuditor, fmt.Sprintf("/api/v1/log/entries?from=0&to=%d", cp.Size), &page)
	if page.Size != cp.Size || page.To != cp.Size || int64(len(page.Entries)) != cp.Size {
		t.Fatalf("entries: size %d to %d, %d entries; want %d", page.Size, page.To, len(page.Entries), cp.Size)
	}
	asJSON := map[string]bool{} // body bytes → sent as body rather than body_base64
	for i, e := range page.Entries {
		if e.Seq != int64(i) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		leaf := translog.LeafHash(e.Event())
		if leaf != e.LeafHash {
			t.Errorf("entry %d: leaf hash %s, recomputed %s (body %s)", i, e.LeafHash, leaf, e.Body)
		}
		asJSON[string(e.Event().Body)] = e.BodyBase64 == nil && e.Body != nil

		var p api.InclusionProofJSON
		f.getJSON(t, detente.RoleAnalyst, fmt.Sprintf("/api/v1/log/proof/inclusion?seq=%d&size=%d", i, cp.Size), &p)
		if p.Seq != int64(i) || p.Size != cp.Size || p.LeafHash != leaf {
			t.Errorf("proof of %d: %+v", i, p)
		}
		if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Root, int64(i), leaf); err != nil {
			t.Errorf("proof of %d does not verify: %v", i, err)
		}
		if p.Checkpoint != string(cp.Note) {
			t.Errorf("proof of %d: checkpoint %q, want %q", i, p.Checkpoint, cp.Note)
		}
	}
	if j, ok := asJSON[escapable]; !ok || !j {
		t.Errorf("%s: found %v, as body %v; want found, as body", escapable, ok, j)
	}
	if j, ok := asJSON[indented]; !ok || j {
		t.Errorf("%s: found %v, as body %v; want found, as body_base64", indented, ok, j)
	}

	// Without size, the proof is against a checkpoint of the whole log.
	f.grow(t, "charlie")
	var p api.InclusionProofJSON
	f.getJSON(t, detente.RoleAnalyst, "/api/v1/log/proof/inclusion?seq=1", &p)
	latest := f.checkpoint(t)
	if p.Size != latest.Size || p.Checkpoint != string(latest.Note) {
		t.Fatalf("default size %d, latest checkpoint %d", p.Size, latest.Size)
	}
	if err := latest.VerifyInclusion(1, p.LeafHash, p.Proof); err != nil {
		t.Error(err)
	}

	// Pages hold at most MaxLogEntries and say where the next one starts.
	f.getJSON(t, detente.RoleAdmin, "/api/v1/log/entries?from=2", &page)
	if page.From != 2 || page.To != latest.Size || len(page.Entries) != int(latest.Size-2) || page.Entries[0].Seq != 2 {
		t.Errorf("from=2: from %d to %d, %d entries", page.From, page.To, len(page.Entries))
	}
	f.getJSON(t, detente.RoleAdmin, "/api/v1/log/entries?from=1000000", &page)
	if page.To != page.From || len(page.Entries) != 0 {
		t.Errorf("past the end: to %d, %d entries", page.To, len(page.Entries))
	}
	f.getJSON(t, detente.RoleAdmin, fmt.Sprintf("/api/v1/log/entries?to=%d", 10*api.MaxLogEntries), &page)
	if page.To != latest.Size {
		t.Errorf("to past the end: to %d, want %d", page.To, latest.Size)
	}
}

func TestConsistency(t *testing.T) {
	f := setup(t)
	old := f.checkpoint(t)
	f.grow(t, "bravo")
	f.grow(t, "charlie")
	cur := f.checkpoint(t)
	var p api.ConsistencyProofJSON
	f.getJSON(t, detente.RoleAnalyst, fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", old.Size, cur.Size), &p)
	if p.Old != old.Size || p.New != cur.Size || p.OldCheckpoint != string(old.Note) || p.NewCheckpoint != string(cur.Note) {
		t.Errorf("proof %+v", p)
	}
	if err := cur.VerifyConsistency(old, p.Proof); err != nil {
		t.Errorf("consistency proof does not verify: %v", err)
	}
	if len(p.Proof) > 0 {
		p.Proof[0][0] ^= 1
		if err := cur.VerifyConsistency(old, p.Proof); err == nil {
			t.Error("a changed proof verifies")
		}
	}
	// Without new, against a checkpoint of the whole log.
	f.getJSON(t, detente.RoleAuditor, fmt.Sprintf("/api/v1/log/proof/consistency?old=%d", old.Size), &p)
	if p.New != cur.Size {
		t.Errorf("default new %d, want %d", p.New, cur.Size)
	}
	if err := cur.VerifyConsistency(old, p.Proof); err != nil {
		t.Error(err)
	}
}

func TestExport(t *testing.T) {
	f := setup(t)
	f.grow(t, "bravo")
	cp := f.checkpoint(t)
	for _, c := range []struct {
		query      string
		start, end int64
	}{
		{"", 0, cp.Size},
		{"?from=1&to=3", 1, 3},
		{"?from=2", 2, cp.Size},
	} {
		t.Run(c.query, func(t *testing.T) {
			resp, data := f.get(t, detente.RoleAuditor, "/api/v1/log/export"+c.query)
			if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, fmt.Sprintf("alpha-log-%d-%d.json", c.start, c.end)) {
				t.Errorf("Content-Disposition %q", cd)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			b, err := translog.ParseBundle(data)
			if err != nil {
				t.Fatal(err)
			}
			if b.Range == nil || b.Range.Start != c.start || b.Range.End != c.end {
				t.Errorf("range %+v, want %d..%d", b.Range, c.start, c.end)
			}
			if r, err := translog.VerifyBundle(b, f.pub(), translog.KnownCheckpoint{Name: "latest", Note: cp.Note}); err != nil || !r.OK() {
				t.Errorf("bundle does not verify: %v", err)
			}
		})
	}
}

func TestLogStats(t *testing.T) {
	f := setup(t)
	f.grow(t, "bravo")
	f.grow(t, "charlie")
	f.do(t, detente.RoleAdmin, "POST", "/api/v1/partners/bravo/resume", `{"reason": "done"}`)
	var st api.LogStats
	f.getJSON(t, detente.RoleAuditor, "/api/v1/log/stats", &st)
	var all []detente.Event
	f.getJSON(t, detente.RoleAuditor, "/api/v1/events?limit=1000", &all)
	byType, byPartner := map[string]int64{}, map[string]int64{}
	for _, e := range all {
		byType[e.Type]++
		if e.Partner != "" {
			byPartner[e.Partner]++
		}
	}
	if st.Size != int64(len(all)) || st.From != 0 || st.Counted != st.Size || st.Truncated {
		t.Errorf("size %d from %d counted %d truncated %v; the log has %d", st.Size, st.From, st.Counted, st.Truncated, len(all))
	}
	if fmt.Sprint(st.ByType) != fmt.Sprint(byType) || fmt.Sprint(st.ByPartner) != fmt.Sprint(byPartner) {
		t.Errorf("by type %v by partner %v, want %v %v", st.ByType, st.ByPartner, byType, byPartner)
	}
	if st.ByPartner["bravo"] != 3 || st.ByPartner["charlie"] != 2 {
		t.Errorf("by partner %v", st.ByPartner)
	}
	if len(st.Days) != api.StatsDays {
		t.Fatalf("%d days, want %d", len(st.Days), api.StatsDays)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	last := st.Days[len(st.Days)-1]
	if last.Date != today && last.Date != time.Now().UTC().Add(-time.Minute).Format(time.DateOnly) { // midnight
		t.Errorf("last day %s, want %s", last.Date, today)
	}
	var sum int64
	for _, d := range st.Days {
		sum += d.Count
	}
	if sum != st.Size {
		t.Errorf("days hold %d events, want %d: %+v", sum, st.Size, st.Days)
	}
}

func TestAlerts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	evidence := []byte("checkpoint A\n\x00checkpoint B\n")
	for _, kind := range []string{detente.AlertWitness, detente.AlertSplitView} {
		err := f.node.Store.Update(ctx, func(tx detente.Tx) error {
			return tx.PutAlert(ctx, &detente.Alert{Time: time.Now(), Kind: kind, Partner: "bravo", Message: "two views", Evidence: evidence})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var as []api.AlertJSON
	f.getJSON(t, detente.RoleAuditor, "/api/v1/alerts", &as)
	if len(as) != 2 || as[0].Kind != detente.AlertSplitView || string(as[0].Evidence) != string(evidence) || as[0].Partner != "bravo" {
		t.Fatalf("alerts %+v", as)
	}
	f.getJSON(t, detente.RoleAdmin, "/api/v1/alerts?limit=1", &as)
	if len(as) != 1 {
		t.Errorf("limit=1: %d alerts", len(as))
	}
	_, body := f.get(t, detente.RoleAdmin, "/api/v1/alerts")
	if !strings.Contains(string(body), `"evidence": "Y2hlY2twb2ludCBB`) {
		t.Errorf("evidence is not base64: %s", body)
	}
}

func TestLogErrors(t *testing.T) {
	f := setup(t)
	size := f.checkpoint(t).Size
	cases := []struct{ name, path string }{
		{"seq beyond size", fmt.Sprintf("/api/v1/log/proof/inclusion?seq=%d&size=%d", size, size)},
		{"seq beyond log", "/api/v1/log/proof/inclusion?seq=1000"},
		{"size beyond log", fmt.Sprintf("/api/v1/log/proof/inclusion?seq=0&size=%d", size+1)},
		{"size zero", "/api/v1/log/proof/inclusion?seq=0&size=0"},
		{"seq missing", "/api/v1/log/proof/inclusion"},
		{"seq not a number", "/api/v1/log/proof/inclusion?seq=abc"},
		{"seq negative", "/api/v1/log/proof/inclusion?seq=-1"},
		{"old > new", fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", size, size-1)},
		{"old zero", "/api/v1/log/proof/consistency?old=0"},
		{"old missing", "/api/v1/log/proof/consistency"},
		{"new beyond log", fmt.Sprintf("/api/v1/log/proof/consistency?old=1&new=%d", size+1)},
		{"new not a number", "/api/v1/log/proof/consistency?old=1&new=2x"},
		{"to before from", "/api/v1/log/entries?from=3&to=2"},
		{"from not a number", "/api/v1/log/entries?from=one"},
		{"export past the end", fmt.Sprintf("/api/v1/log/export?from=%d", size)},
		{"export bad to", "/api/v1/log/export?to=%20"},
		{"bad format", "/api/v1/log/checkpoint?format=xml"},
		{"alerts limit zero", "/api/v1/alerts?limit=0"},
		{"alerts limit negative", "/api/v1/alerts?limit=-1"},
		{"events limit zero", "/api/v1/events?limit=0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m, raw := f.do(t, detente.RoleAdmin, "GET", c.path, "")
			if code != http.StatusBadRequest || errCode(m) != detente.EINVALID {
				t.Fatalf("got %d %s, want 400 invalid", code, raw)
			}
			if msg, _ := m["error"].(map[string]any)["message"].(string); msg == "" {
				t.Errorf("no message: %s", raw)
			}
		})
	}
}
