package trace

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// testKey is a fixed node secret for tests.
var testKey = []byte("detente test fingerprint key, 32+ bytes long")

func testScheme(t testing.TB) *Scheme {
	t.Helper()
	s, err := NewScheme(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wordings are interchangeable pairs and triples for generated reports.
var wordings = [][]string{
	{"acquired", "obtained"}, {"rifles", "firearms"}, {"from", "through"}, {"broker", "middleman"},
	{"early", "the first half of"}, {"met", "gathered"}, {"members", "associates"}, {"moved", "transferred"},
	{"funds", "money", "payments"}, {"travelled", "journeyed"}, {"planned", "prepared"}, {"attack", "strike"},
	{"location", "site", "place"}, {"reported", "stated"}, {"recently", "lately"}, {"large", "substantial"},
	{"vehicle", "car"}, {"observed", "seen"}, {"contacts", "connections"}, {"cell", "group"},
}

// markedSentences returns n sentences, each with one [[…]] position, made
// distinct by their numbers so that every context is unique, and by batch
// from those of other reports.
func markedSentences(rng *rand.Rand, n int, batch uint64) string {
	var b strings.Builder
	for i := range n {
		w := wordings[rng.IntN(len(wordings))]
		fmt.Fprintf(&b, "Item %d of batch %d: the subject [[%s]] on day %d. ", i, batch, strings.Join(w, "|"), i)
	}
	return strings.TrimSpace(b.String())
}

// testReport returns a STIX report, as decoded JSON, whose description has
// n marked sentences and optionally canaries, and whose name and an
// external reference carry a mark each. Reports of different seeds have
// different texts.
func testReport(id string, n int, canaries bool, seed uint64) map[string]any {
	rng := rand.New(rand.NewPCG(seed, 7))
	desc := markedSentences(rng, n, seed)
	if canaries {
		desc += " Beacons reached {{canary:subdomain:sinkhole.example.net}} at {{canary:time:2026-03-01T10:00:00Z~15m}} from about {{canary:number:1200~5%}} hosts."
	}
	return map[string]any{
		"type": "report", "spec_version": "2.1", "id": id,
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-02T08:30:00.000Z",
		"name":         "Procurement [[network|ring]] of cell K",
		"description":  desc,
		"published":    "2026-03-02T08:30:00.000Z",
		"report_types": []any{"threat-actor"},
		"object_refs":  []any{"threat-actor--4f3a2c1e-0b5d-4c8e-9a7f-1d2e3f4a5b6c"},
		"external_references": []any{map[string]any{
			"source_name": "liaison",
			"description": "Received [[by hand|in person]] from the liaison officer.",
		}},
		"extensions": map[string]any{
			"extension-definition--d37e5c1f-2a4b-4c8e-9f61-7b0a3e5d9c42": map[string]any{
				"extension_type": "property-extension", "grading": "B2", "signature": "c2lnbmF0dXJl",
			},
		},
	}
}

// release fingerprints t for each recipient.
func release(t testing.TB, s *Scheme, tpl *Template, recipients ...string) (copies []*Copy, recs []*Record) {
	t.Helper()
	for _, r := range recipients {
		c, err := s.Fingerprint(tpl, r)
		if err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c)
		recs = append(recs, c.Record)
	}
	return copies, recs
}

func mustParse(t testing.TB, obj map[string]any) *Template {
	t.Helper()
	tpl, err := Parse(obj, obj["id"].(string), obj["modified"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func recipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("detente-node:partner-%03d", i)
	}
	return out
}

// accused returns the recipients res accuses.
func accused(res *Result) []string {
	var out []string
	for _, s := range res.Suspects {
		out = append(out, s.Recipient)
	}
	return out
}
