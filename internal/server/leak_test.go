package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/node"
)

const leakReport = "report--7a1c2e3d-4b5f-4a6e-8d7c-9b0a1f2e3d4c"

// fingerprintedReport returns a GREEN report of n marked sentences, one
// per line, then a sentence with three canary facts.
func fingerprintedReport(n int) map[string]any {
	words := [][2]string{{"acquired", "obtained"}, {"rifles", "firearms"}, {"met", "gathered"}, {"moved", "transferred"},
		{"planned", "prepared"}, {"recently", "lately"}, {"vehicle", "car"}, {"observed", "seen"}, {"funds", "money"},
		{"members", "associates"}, {"location", "site"}, {"contacts", "connections"}}
	var b strings.Builder
	for i := range n {
		w := words[i%len(words)]
		fmt.Fprintf(&b, "Item %d: the subject [[%s|%s]] on day %d.\n", i, w[0], w[1], i)
	}
	b.WriteString("Beacons reached {{canary:subdomain:sinkhole.example.net}} at {{canary:time:2026-03-01T10:00:00Z~15m}} from about {{canary:number:1200~5%}} hosts.")
	return map[string]any{"type": "report", "spec_version": "2.1", "id": leakReport,
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-02T08:30:00.000Z",
		"name": "Procurement [[network|ring]] of cell K", "description": b.String(), "published": "2026-03-02T08:30:00Z",
		"object_refs": []string{green}, "object_marking_refs": []string{detente.MarkingGreen}}
}

func ingestMarked(t *testing.T, p *peer, objs ...map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs})
	if _, err := p.Ingest(context.Background(), b, node.IngestOptions{Fingerprint: true}); err != nil {
		t.Fatal(err)
	}
}

// description returns the description of the STIX object raw.
func description(t *testing.T, raw []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m["description"].(string)
}

// suspects returns the partners a trace of leaked by p accuses.
func suspects(t *testing.T, p *peer, leaked []byte) []string {
	t.Helper()
	res, err := p.Leak.Trace(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range res.Suspects {
		out = append(out, s.Partner)
	}
	slices.Sort(out)
	return out
}

// TestLeakTracing: three partners receive their copies of a fingerprinted
// report from alpha over TAXII; every kind of leak the issue names is
// traced to its holders and no one else, and the evidence verifies
// offline and fails when edited or checked against another key.
func TestLeakTracing(t *testing.T) {
	alpha, bravo, charlie, delta := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie"), startPeer(t, "delta")
	for _, p := range []*peer{bravo, charlie, delta} {
		link(t, alpha, p, "green", intel...)
	}
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "propaganda channel"))
	ingestMarked(t, alpha, fingerprintedReport(400))
	copies := map[string][]byte{}
	for _, p := range []*peer{bravo, charlie, delta} {
		if r := sync(t, p, "alpha"); r.Added != 2 || r.Rejected+r.Quarantined != 0 {
			t.Fatalf("%s from alpha: %+v", p.Name, r)
		}
		o := holds(p, leakReport)
		if o == nil || !o.Signer.Equal(alpha.PublicKey()) || o.Originator != "alpha" {
			t.Fatalf("%s does not hold alpha's report: %+v", p.Name, o)
		}
		if bytes.Contains(o.Raw, []byte("[[")) || bytes.Contains(o.Raw, []byte("{{canary")) {
			t.Fatalf("%s's copy carries markup", p.Name)
		}
		copies[p.Name] = o.Raw
	}
	if bytes.Equal(copies["bravo"], copies["charlie"]) || bytes.Equal(copies["charlie"], copies["delta"]) {
		t.Fatal("partners hold the same copy")
	}
	// The originator, pulling its own copies back, finds them unchanged.
	if r := sync(t, alpha, "bravo"); r.Rejected+r.Quarantined != 0 {
		t.Fatalf("alpha from bravo: %+v", r)
	}

	// 1. bravo's copy, re-serialised with \u escapes and \/ and stripped of
	// extensions and signatures, names bravo alone.
	var m map[string]any
	json.Unmarshal(copies["bravo"], &m)
	delete(m, "extensions")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "\t")
	enc.Encode(m)
	reserialised := regexp.MustCompile(`[aeiou/]`).ReplaceAllStringFunc(buf.String(), func(s string) string {
		if s == "/" {
			return `\/`
		}
		return fmt.Sprintf(`\u%04x`, s[0])
	})
	if got := suspects(t, alpha, []byte(reserialised)); !slices.Equal(got, []string{"bravo"}) {
		t.Errorf("re-serialised stripped copy: suspects %v, want bravo", got)
	}

	// 2. A copy merged sentence by sentence from bravo's and charlie's
	// names one or both, never delta.
	b, c := strings.Split(description(t, copies["bravo"]), "\n"), strings.Split(description(t, copies["charlie"]), "\n")
	var merged []string
	for i := range b {
		if i%2 == 0 {
			merged = append(merged, b[i])
		} else {
			merged = append(merged, c[i])
		}
	}
	got := suspects(t, alpha, []byte(strings.Join(merged[:len(merged)-1], "\n")))
	if len(got) == 0 || slices.Contains(got, "delta") {
		t.Errorf("merged copy: suspects %v, want bravo and/or charlie", got)
	}

	// 3. Text pasted out of charlie's description names charlie.
	pasted := "Forwarded message:\n> " + strings.ReplaceAll(description(t, copies["charlie"]), "\n", "\n> ")
	if got := suspects(t, alpha, []byte(pasted)); !slices.Equal(got, []string{"charlie"}) {
		t.Errorf("pasted text: suspects %v, want charlie", got)
	}

	// 4. A paraphrase that keeps one canary fact, delta's sinkhole host.
	host := regexp.MustCompile(`[a-z2-7]{10}\.sinkhole\.example\.net`).FindString(description(t, copies["delta"]))
	paraphrase := "Our liaison says the implants called home to " + host + " during the first week of March."
	if got := suspects(t, alpha, []byte(paraphrase)); !slices.Equal(got, []string{"delta"}) {
		t.Errorf("paraphrase keeping the canary %q: suspects %v, want delta", host, got)
	}

	// Evidence about bravo verifies offline against alpha's key only, and
	// not once edited.
	res, err := alpha.Leak.Trace(context.Background(), []byte(reserialised))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := alpha.Leak.Evidence(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := leak.Verify(ev, alpha.PublicKey())
	if err != nil {
		t.Fatalf("evidence does not verify: %v", err)
	}
	if len(rep.Suspects) != 1 || rep.Suspects[0].Partner != "bravo" || !rep.Suspects[0].Accused {
		t.Errorf("verified suspects %+v", rep.Suspects)
	}
	for name, edit := range map[string]func([]byte) []byte{
		"partner": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"partner": "bravo"`), []byte(`"partner": "delta"`), 1)
		},
		"leak": func(b []byte) []byte { return bytes.Replace(b, []byte(`Item 1`), []byte(`Item 9`), 1) },
		"recipient": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"recipients": 3`), []byte(`"recipients": 30`), 1)
		},
	} {
		edited := edit(ev)
		if bytes.Equal(edited, ev) {
			t.Fatalf("edit %s changed nothing", name)
		}
		if _, err := leak.Verify(edited, alpha.PublicKey()); err == nil {
			t.Errorf("evidence with the %s edited verifies", name)
		}
	}
	if _, err := leak.Verify(ev, bravo.PublicKey()); err == nil {
		t.Error("evidence verifies against bravo's key")
	}
}

// TestFingerprintedCopiesFederate: bravo passes its copy of alpha's
// fingerprinted report on to charlie (with alpha's consent), who holds a
// copy of its own from alpha: charlie files bravo's as a relayed copy,
// rejecting nothing, and alpha counts its copies coming back as unchanged.
func TestFingerprintedCopiesFederate(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	link(t, alpha, bravo, "green", intel...)
	link(t, alpha, charlie, "green", intel...)
	link(t, bravo, charlie, "green", intel...)
	ingest(t, alpha, indicator(green, detente.MarkingGreen, "propaganda channel"))
	ingestMarked(t, alpha, fingerprintedReport(20))
	ctx := context.Background()
	if _, err := alpha.Federation.IssueConsent(ctx, leakReport, "charlie", detente.ConsentReport, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sync(t, bravo, "alpha")
	sync(t, charlie, "alpha")
	own := holds(charlie, leakReport)
	if own == nil {
		t.Fatal("charlie has no copy")
	}
	if d, _ := bravo.CheckRelease(ctx, leakReport, "charlie"); !d.Allowed {
		t.Fatalf("bravo may not pass the report on: %+v", d.Reasons)
	}
	r := sync(t, charlie, "bravo")
	if r.Rejected != 0 {
		evs, _ := charlie.Events(ctx, detente.EventFilter{Newest: true, Limit: 5})
		for _, e := range evs {
			t.Logf("%s %s", e.Type, e.Body)
		}
		t.Fatalf("charlie rejected bravo's copy: %+v", r)
	}
	if now := holds(charlie, leakReport); now == nil || !bytes.Equal(now.Raw, own.Raw) {
		t.Error("charlie's current version is no longer its own copy from alpha")
	}
	for _, from := range []string{"bravo", "charlie"} {
		if r := sync(t, alpha, from); r.Rejected+r.Quarantined != 0 || r.Added != 0 {
			evs, _ := alpha.Events(ctx, detente.EventFilter{Newest: true, Limit: 20})
			for _, e := range evs {
				if e.Type == detente.EventObjectQuarantined {
					t.Logf("%s %s", e.Type, e.Body)
				}
			}
			t.Errorf("alpha from %s: %+v", from, r)
		}
		if again := sync(t, alpha, from); again.Rejected+again.Quarantined != 0 {
			t.Errorf("alpha from %s, again: %+v", from, again)
		}
	}
}
