package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"detente"
	"detente/internal/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The hand-written MISP feed in testdata/misp: manifest.json and three
// events in MISP's feed format.
const (
	eventA = "5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30" // published, TLP:AMBER, B2, attributes, objects, galaxies
	eventB = "8d2e4f6a-3c5b-4a7d-9e1f-6b8c0d2e4f6a" // not published, TLP:GREEN, numbers and booleans as strings
	eventC = "1c3e5a7b-9d0f-4b2c-8e4a-6c8e0a2b4d6f" // empty, tlp:white
)

func readEvent(t testing.TB, uuid string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "misp", uuid+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// convert converts an event and checks that the result, as a bundle,
// validates with internal/stix.
func convert(t *testing.T, data []byte) map[string]*stix.Object {
	t.Helper()
	objs, bad, err := ConvertMISPEvent(data, detente.Grading{})
	if err != nil || len(bad) > 0 {
		t.Fatalf("convert: %v %v", err, bad)
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o.Raw)
	}
	b.WriteString("]}")
	parsed, err := stix.ParseBundle(b.Bytes())
	if err != nil {
		t.Fatalf("the converted bundle does not validate: %v", err)
	}
	if len(parsed) != len(objs) {
		t.Fatalf("%d objects in the bundle, %d converted: duplicates", len(parsed), len(objs))
	}
	byID := map[string]*stix.Object{}
	for _, o := range objs {
		byID[o.ID] = o
	}
	return byID
}

func str(o *stix.Object, prop string) string {
	if o == nil {
		return "<no object>"
	}
	s, _ := o.Fields[prop].(string)
	return s
}

func tlpOf(o *stix.Object) string {
	if o == nil {
		return "<no object>"
	}
	for _, m := range o.Markings() {
		if t, ok := detente.TLPOfMarking(m); ok {
			return t.String()
		}
	}
	return ""
}

// sco returns the one object of type typ whose prop is value.
func sco(t *testing.T, objs map[string]*stix.Object, typ, prop, value string) *stix.Object {
	t.Helper()
	for _, o := range objs {
		if o.Type == typ && str(o, prop) == value {
			return o
		}
	}
	t.Fatalf("no %s with %s %q", typ, prop, value)
	return nil
}

func TestConvertMISPEvent(t *testing.T) {
	a := convert(t, readEvent(t, eventA))
	ind := func(uuid string) *stix.Object { return a["indicator--"+uuid] }

	// The event: a published report naming everything, by its creator.
	rep := a["report--"+eventA]
	if rep == nil || str(rep, "published") != "2026-02-11T10:40:00Z" || str(rep, "name") != "Phishing wave against ministries, February 2026" {
		t.Fatalf("report: %v", rep)
	}
	refs, _ := rep.Fields["object_refs"].([]any)
	if len(refs) != len(a)-2 {
		t.Errorf("report names %d objects of %d", len(refs), len(a)-2)
	}
	for _, o := range a {
		if o.Type == "identity" || o.Type == "report" {
			continue
		}
		if !slices.Contains(refs, any(o.ID)) {
			t.Errorf("report does not name %s", o.ID)
		}
		if o.Created.IsZero() == (o.Type != "domain-name" && o.Type != "file" && !strings.HasPrefix(o.Type, "ipv")) {
			t.Errorf("%s: created %v", o.ID, o.Created)
		}
	}
	if id := a["identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04"]; str(id, "name") != "Example Agency CERT" || str(rep, "created_by_ref") != id.ID {
		t.Errorf("creator identity %v", id)
	}
	for _, o := range a {
		if o.Type != "identity" && o.Grading().String() != "B2" {
			t.Errorf("%s: grading %q, want the event's admiralty tags B2", o.ID, o.Grading())
		}
		for _, leak := range []string{"Nightjar", "Secret Partner Service", "analyst@cert.example", "deleted.example", "logn.example"} {
			if bytes.Contains(o.Raw, []byte(leak)) {
				t.Errorf("%s carries %q (sharing group, creator e-mail or deleted content)", o.ID, leak)
			}
		}
	}

	// TLP: the event's, or an attribute's own when stricter.
	if tlpOf(rep) != "amber" || tlpOf(ind("0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c")) != "red" {
		t.Errorf("report %s, red attribute %s", tlpOf(rep), tlpOf(ind("0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c")))
	}

	// Attributes with to_ids: indicators with STIX patterns.
	patterns := map[string]string{
		"0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c": "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.45']",
		"7a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d": `[url:value = 'https://ministry-secure-login.example/circular.php?id=7&ref=\'x\'']`,
		"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b": "[file:hashes.MD5 = '5d41402abc4b2a76b9719d911017c592']",
		"2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6": "[email-message:from_ref.value = 'circulars@ministry-secure-login.example']",
		"3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f": "[file:hashes.'SHA-256' = '6a4f3c1e9b2d7a8c5e0f1b3d5a7c9e2f4b6d8a0c2e4f6b8d0a2c4e6f8b0d2a4c' AND file:hashes.MD5 = '5d41402abc4b2a76b9719d911017c592' AND file:name = 'Circular_2026-02.docm' AND file:size = 48213]",
	}
	for uuid, want := range patterns {
		if got := str(ind(uuid), "pattern"); got != want {
			t.Errorf("indicator--%s pattern\n got %s\nwant %s", uuid, got, want)
		}
	}
	if o := ind("0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c"); str(o, "valid_from") != "2026-02-09T08:00:00.000Z" || str(o, "valid_until") != "2026-02-11T18:00:00.000Z" {
		t.Errorf("first_seen/last_seen not in valid_from/valid_until: %s", o.Raw)
	}
	if o := ind("1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b"); str(o, "pattern_type") != "yara" {
		t.Errorf("yara rule: %s", o.Raw)
	}

	// Attributes without to_ids: observed-data and cyber-observables.
	od := a["observed-data--4b5c6d7e-8f9a-4b0c-ad1e-2f3a4b5c6d7e"]
	dn := sco(t, a, "domain-name", "value", "ministry-secure-login.example")
	if odRefs, _ := od.Fields["object_refs"].([]any); len(odRefs) != 1 || odRefs[0] != dn.ID || tlpOf(dn) != "amber" {
		t.Errorf("observed-data %s, domain %s", od.Raw, dn.Raw)
	}
	od = a["observed-data--6c7d8e9f-0a1b-4c2d-be3f-4a5b6c7d8e9f"]
	fileRef, _ := od.Fields["object_refs"].([]any)
	if f := a[fileRef[0].(string)]; f == nil || f.Fields["hashes"].(map[string]any)["SHA-256"] != "6a4f3c1e9b2d7a8c5e0f1b3d5a7c9e2f4b6d8a0c2e4f6b8d0a2c4e6f8b0d2a4c" {
		t.Errorf("sha256 observable: %v", f)
	}

	// Unmapped types: x-misp-attribute, kept with MISP's fields.
	btc := a["x-misp-attribute--8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"]
	if str(btc, "x_misp_type") != "btc" || str(btc, "x_misp_value") != "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" || str(btc, "x_misp_category") != "Financial fraud" {
		t.Errorf("btc attribute: %v", btc)
	}
	if v := a["vulnerability--f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f"]; str(v, "name") != "CVE-2017-11882" {
		t.Errorf("vulnerability: %v", v)
	}

	// Deleted attributes, objects and references to them are left out.
	for _, id := range []string{"indicator--e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9", "indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "relationship--b8c9d0e1-f2a3-4b4c-8d5e-6f7a8b9c0d1e"} {
		if a[id] != nil {
			t.Errorf("%s converted", id)
		}
	}

	// MISP objects: file (to_ids) → one indicator; domain-ip (no to_ids) →
	// observed-data of the domain and both addresses; bank-account →
	// x-misp-object; references → relationships.
	di := a["observed-data--4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"]
	dom := sco(t, a, "domain-name", "value", "cdn.ministry-secure-login.example")
	v4, v6 := sco(t, a, "ipv4-addr", "value", "198.51.100.23"), sco(t, a, "ipv6-addr", "value", "2001:db8::23")
	if got := fmt.Sprint(di.Fields["object_refs"]); got != fmt.Sprint([]any{dom.ID, v4.ID, v6.ID}) {
		t.Errorf("domain-ip observed-data refs %s", got)
	}
	if got := fmt.Sprint(dom.Fields["resolves_to_refs"]); got != fmt.Sprint([]any{v4.ID, v6.ID}) {
		t.Errorf("domain resolves to %s", got)
	}
	bank := a["x-misp-object--d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70"]
	if attrs, _ := bank.Fields["x_misp_attributes"].([]any); str(bank, "x_misp_name") != "bank-account" || len(attrs) != 2 {
		t.Errorf("bank-account object: %v", bank)
	}
	rel := a["relationship--a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d"]
	if str(rel, "relationship_type") != "communicates-with" || str(rel, "source_ref") != "indicator--3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f" || str(rel, "target_ref") != di.ID {
		t.Errorf("object reference: %v", rel)
	}

	// Galaxies: SDOs by galaxy type; an attribute's clusters are linked to
	// it, with the attribute's TLP on the link.
	ta := a["threat-actor--c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"]
	if str(ta, "name") != "Fictitious Bear" || fmt.Sprint(ta.Fields["aliases"]) != "[FICT-01 Bear of Fiction]" || tlpOf(ta) != "amber" {
		t.Errorf("threat actor: %s", ta.Raw)
	}
	linked := false
	for _, o := range a {
		if o.Type == "relationship" && str(o, "source_ref") == "indicator--0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c" && str(o, "target_ref") == ta.ID {
			linked = str(o, "relationship_type") == "indicates" && tlpOf(o) == "red"
		}
	}
	if !linked {
		t.Error("the ip-dst attribute's cluster is not linked by a red indicates relationship")
	}
	for id, typ := range map[string]string{
		"attack-pattern--2e34237d-8574-43f6-aace-ae2915de8597":        "attack-pattern",
		"malware--b8eb28e4-48a6-40ae-951a-328714f75eda":               "malware",
		"tool--bba595da-b73a-4354-aa6c-224d4de7cb4e":                  "tool",
		"x-misp-galaxy-cluster--24430dc6-9c27-4b3c-a5e7-6dda478fffa0": "x-misp-galaxy-cluster",
	} {
		if a[id] == nil || a[id].Type != typ {
			t.Errorf("galaxy cluster %s missing", id)
		}
	}
	if m := a["malware--b8eb28e4-48a6-40ae-951a-328714f75eda"]; m.Fields["is_family"] != true {
		t.Errorf("malware: %s", m.Raw)
	}
	if x := a["x-misp-galaxy-cluster--24430dc6-9c27-4b3c-a5e7-6dda478fffa0"]; bytes.Contains(x.Raw, []byte("related_refs")) {
		t.Errorf("a meta key ending in _refs was kept: %s", x.Raw)
	}

	// Event B: not published (grouping), numbers and booleans as strings,
	// an attribute tagged tlp:clear in a TLP:GREEN event stays GREEN, an
	// attribute's admiralty tag over no event grading.
	b := convert(t, readEvent(t, eventB))
	if g := b["grouping--"+eventB]; str(g, "context") != "suspicious-activity" || tlpOf(g) != "green" {
		t.Errorf("grouping: %v", g)
	}
	if o := b["observed-data--a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"]; tlpOf(o) != "green" {
		t.Errorf("tlp:clear attribute in a green event: %s", tlpOf(o))
	}
	if o := b["indicator--b8c7d6e5-f4a3-4b2c-8d1e-0f9a8b7c6d5e"]; str(o, "pattern") != "[network-traffic:src_ref.value = '192.0.2.77' AND network-traffic:src_port = 2525]" || o.Grading().String() != "F3" {
		t.Errorf("ip-src|port: %s", o.Raw)
	}
	if o := b["indicator--d6e5f4a3-b2c1-4d0e-8f9a-b8c7d6e5f4a3"]; str(o, "pattern") != "[email-message:from_ref.value = 'relay@mail-relay.example' AND email-message:to_refs[*].value = 'press@gov.example' AND email-message:subject = 'Urgent: updated circular']" {
		t.Errorf("email object: %s", o.Raw)
	}

	// Event C: empty, so the report names a note (as misp-stix does).
	c := convert(t, readEvent(t, eventC))
	if len(c) != 3 || c["note--"+eventC] == nil || tlpOf(c["report--"+eventC]) != "clear" {
		t.Errorf("empty event: %v", c)
	}
}

// TestConvertDeterministic: converting again gives the same bytes, so a
// re-pull is idempotent; the same observable under the same marking is one
// object whatever the event; another marking, another object.
func TestConvertDeterministic(t *testing.T) {
	for _, uuid := range []string{eventA, eventB, eventC} {
		one, _, _ := ConvertMISPEvent(readEvent(t, uuid), detente.Grading{})
		two, _, _ := ConvertMISPEvent(readEvent(t, uuid), detente.Grading{})
		for i := range one {
			if !bytes.Equal(one[i].Raw, two[i].Raw) {
				t.Fatalf("%s: object %d differs", uuid, i)
			}
		}
	}
	event := func(uuid, tlp string) []byte {
		return fmt.Appendf(nil, `{"Event":{"uuid":%q,"timestamp":"1770000000","Tag":[{"name":"tlp:%s"}],"Attribute":[{"uuid":"%s","type":"domain","category":"Network activity","value":"shared.example","timestamp":"1770000000"}]}}`,
			uuid, tlp, uuid[:24]+"aaaaaaaaaaaa")
	}
	id := func(data []byte) string {
		objs, _, err := ConvertMISPEvent(data, detente.Grading{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.Type == "domain-name" {
				return o.ID
			}
		}
		t.Fatal("no domain-name")
		return ""
	}
	x := id(event("11111111-2222-4333-8444-555555555555", "green"))
	y := id(event("66666666-7777-4888-9999-000000000000", "green"))
	z := id(event("66666666-7777-4888-9999-000000000000", "red"))
	if x != y || x == z {
		t.Errorf("observable ids: same marking %s %s, other marking %s", x, y, z)
	}
}

// TestConvertGolden compares the conversion of the fixtures with
// testdata/misp/*.stix.jsonl (go test -run TestConvertGolden -update
// rewrites them after a deliberate change of the mapping).
func TestConvertGolden(t *testing.T) {
	for _, uuid := range []string{eventA, eventB, eventC} {
		objs, _, err := ConvertMISPEvent(readEvent(t, uuid), detente.Grading{Reliability: 'C', Credibility: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for _, o := range objs {
			got.Write(o.Raw)
			got.WriteByte('\n')
		}
		path := filepath.Join("testdata", "misp", uuid+".stix.jsonl")
		if *update {
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: conversion differs from %s (rerun with -update after a deliberate change)", uuid, path)
		}
	}
}

func TestConvertBadEvents(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":         `{"Event":`,
		"no uuid":          `{"Event":{"timestamp":"1"}}`,
		"bad uuid":         `{"Event":{"uuid":"../../etc/passwd","timestamp":"1"}}`,
		"no timestamp":     `{"Event":{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30"}}`,
		"bad timestamp":    `{"Event":{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":"yesterday"}}`,
		"bad to_ids":       `{"Event":{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":"1","Attribute":[{"to_ids":"maybe"}]}}`,
		"attribute a list": `{"Event":{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":"1","Attribute":{}}}`,
	} {
		if _, _, err := ConvertMISPEvent([]byte(in), detente.Grading{}); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// A bare event (no "Event" wrapper) is read too, and an object that
	// cannot be stored (a timestamp beyond 2262) is reported, not fatal.
	objs, bad, err := ConvertMISPEvent([]byte(`{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":"1770000000","published":"1","Attribute":[
		{"uuid":"0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c","type":"domain","value":"a.example","to_ids":true,"first_seen":"9999-01-01T00:00:00+00:00"},
		{"uuid":"1d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c","type":"domain","value":"b.example","to_ids":1}]}`), detente.Grading{})
	if err != nil || len(bad) != 1 || bad[0].ID != "indicator--0d8f3a1b-2c4e-4f6a-8b0c-1d2e3f4a5b6c" || len(objs) != 2 {
		t.Errorf("objs %d, bad %v, err %v", len(objs), bad, err)
	}
}

// TestConvertReferences: a reference to nothing (an empty or unknown uuid)
// makes no relationship, and attributes without uuids still convert, with
// stable ids.
func TestConvertReferences(t *testing.T) {
	in := []byte(`{"Event":{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":"1770000000","Attribute":[{"type":"domain","value":"a.example"}],
		"Object":[{"name":"url","uuid":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","Attribute":[{"type":"url","object_relation":"url","value":"https://a.example/"}],
		"ObjectReference":[{"uuid":"a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d","referenced_uuid":"","relationship_type":"related-to"},
			{"uuid":"b7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d","referenced_uuid":"ffffffff-e1f2-4a3b-9c4d-5e6f7a8b9c0d","relationship_type":"related-to"}]}]}}`)
	one := convert(t, in)
	two := convert(t, in)
	for id := range one {
		if strings.HasPrefix(id, "relationship--") {
			t.Errorf("%s made from a dangling reference", id)
		}
		if two[id] == nil {
			t.Errorf("%s not stable", id)
		}
	}
	if len(one) != 5 { // grouping, observed-data + domain-name, observed-data + url
		t.Errorf("%d objects", len(one))
	}
}

// mispServer serves the feed in testdata/misp over TLS with HTTP Basic
// authentication. files overrides or adds files; status answers a file
// with an error status instead.
type mispServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	status   map[string]int
	requests []string
}

func newMISPServer(t *testing.T) *mispServer {
	s := &mispServer{files: map[string][]byte{}, status: map[string]int{}}
	entries, _ := os.ReadDir(filepath.Join("testdata", "misp"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") || e.Name() == "hashes.csv" {
			s.files[e.Name()], _ = os.ReadFile(filepath.Join("testdata", "misp", e.Name()))
		}
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPassword {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/feeds/ops/")
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, name)
		if st := s.status[name]; st != 0 {
			http.Error(w, "no", st)
			return
		}
		data, found := s.files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream") // static servers rarely say JSON
		w.Write(data)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *mispServer) feed() Config {
	p := newPool(s.Certificate())
	return Config{Name: "misp-ops", Format: FormatMISP, URL: s.URL + "/feeds/ops", Username: testUser, Password: testPassword, RootCAs: p}
}

// setEvent replaces an event's file and its manifest timestamp.
func (s *mispServer) setEvent(t *testing.T, uuid string, ts int64, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m map[string]map[string]any
	if err := json.Unmarshal(s.files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m[uuid] == nil {
		m[uuid] = map[string]any{}
	}
	m[uuid]["timestamp"] = fmt.Sprint(ts)
	s.files["manifest.json"], _ = json.Marshal(m)
	if data != nil {
		s.files[uuid+".json"] = data
	}
}

func TestPullMISP(t *testing.T) {
	s := newMISPServer(t)
	sink := &memSink{}
	p := &Puller{Feed: s.feed(), Sink: sink, Logger: quiet}
	st, err := p.Pull(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, uuid := range []string{eventA, eventB, eventC} {
		objs, _, _ := ConvertMISPEvent(readEvent(t, uuid), detente.Grading{})
		want += len(objs)
	}
	if st.Objects != want || st.Rejected != 0 || st.Pages != 1 {
		t.Errorf("stats %+v, want %d objects in one page", st, want)
	}
	cur, _ := sink.Cursor(context.Background(), "misp-ops")
	if len(cur.Events) != 3 || cur.Events[eventA] != 1770805512 || cur.Events[eventB] != 1770890000 {
		t.Errorf("cursor %+v", cur)
	}
	// Events in manifest order of timestamp: A, B, C.
	if got := sink.pages[0].Events; fmt.Sprint(got) != fmt.Sprint([]string{eventA, eventB, eventC}) {
		t.Errorf("events in order %v", got)
	}
	for _, it := range sink.items {
		if it.Version.Signer != nil || it.Source != "feed:misp-ops" || len(it.Version.Markings) == 0 {
			t.Errorf("%s: signer %v source %s markings %v", it.Version.ID, it.Version.Signer, it.Source, it.Version.Markings)
		}
	}

	// Nothing changed: only the manifest is fetched, nothing stored.
	s.requests = nil
	if st, err := p.Pull(context.Background()); err != nil || st.Pages != 0 || len(s.requests) != 1 {
		t.Fatalf("unchanged feed: %+v %v, requests %v", st, err, s.requests)
	}

	// Event B changes (MISP moves its timestamp): only B is pulled again.
	b := bytes.Replace(readEvent(t, eventB), []byte(`"timestamp": 1770890000`), []byte(`"timestamp": 1770899999`), 1)
	b = bytes.Replace(b, []byte("Suspicious mail relay, under analysis"), []byte("Mail relay: confirmed malicious"), 1)
	s.setEvent(t, eventB, 1770899999, b)
	sink.pages = nil
	if _, err := p.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.pages) != 1 || fmt.Sprint(sink.pages[0].Events) != "["+eventB+"]" {
		t.Fatalf("pages after B changed: %v", sink.pages)
	}
	for _, it := range sink.pages[0].Items {
		if it.Version.Modified.Unix() != 1770899999 && !it.Version.Modified.IsZero() {
			t.Errorf("%s: version %v, want the event's new timestamp", it.Version.ID, it.Version.Modified)
		}
	}
}

// TestPullMISPFailures: a listed event whose file is gone is reported and
// passed; a server error stops the pull before the event, and the next
// pull takes it up; a manifest naming a file outside the feed is refused.
func TestPullMISPFailures(t *testing.T) {
	s := newMISPServer(t)
	s.status[eventB+".json"] = 404
	s.status[eventC+".json"] = 503
	sink := &memSink{}
	p := &Puller{Feed: s.feed(), Sink: sink, Logger: quiet}
	st, err := p.Pull(context.Background())
	if detente.ErrorCode(err) != detente.EUNAVAILABLE || st.Rejected != 1 {
		t.Fatalf("err = %v, stats %+v", err, st)
	}
	cur, _ := sink.Cursor(context.Background(), "misp-ops")
	if _, done := cur.Events[eventC]; done || cur.Events[eventB] == 0 || cur.Events[eventA] == 0 {
		t.Errorf("cursor %v: A and B (gone) done, C not", cur.Events)
	}
	delete(s.status, eventC+".json")
	if st, err := p.Pull(context.Background()); err != nil || fmt.Sprint(sink.pages[len(sink.pages)-1].Events) != "["+eventC+"]" || st.Pages != 1 {
		t.Fatalf("resume: %+v %v", st, err)
	}

	s.files["manifest.json"] = []byte(`{"../../../etc/passwd": {"timestamp": "1"}}`)
	if _, err := (&Puller{Feed: s.feed(), Sink: &memSink{}}).Pull(context.Background()); detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "not an event uuid") {
		t.Errorf("path in manifest: %v", err)
	}
	s.files["manifest.json"] = []byte(`[]`)
	if _, err := (&Puller{Feed: s.feed(), Sink: &memSink{}}).Pull(context.Background()); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("manifest not an object: %v", err)
	}
	f := s.feed()
	f.Password = "nope"
	if _, err := (&Puller{Feed: f, Sink: &memSink{}}).Pull(context.Background()); detente.ErrorCode(err) != detente.EUNAUTHORIZED {
		t.Errorf("wrong password: %v", err)
	}
}

// TestPullMISPCrash: MISP pulls interrupted at random store exactly what an
// uninterrupted pull stores.
func TestPullMISPCrash(t *testing.T) {
	s := newMISPServer(t)
	// More events, so that pulls take several pages.
	base := readEvent(t, eventB)
	for i := range 150 {
		uuid := fmt.Sprintf("%08x-3c5b-4a7d-9e1f-6b8c0d2e4f6a", i)
		data := bytes.ReplaceAll(base, []byte(eventB), []byte(uuid))
		data = bytes.ReplaceAll(data, []byte("b8c7d6e5-f4a3-4b2c-8d1e"), fmt.Appendf(nil, "%08x-f4a3-4b2c-8d1e", i))
		s.setEvent(t, uuid, int64(1770890000+i%7), data)
	}
	clean := &memSink{}
	if _, err := (&Puller{Feed: s.feed(), Sink: clean, Logger: quiet}).Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(clean.pages) < 3 {
		t.Fatalf("%d pages: too few to interrupt", len(clean.pages))
	}
	f := s.feed()
	hc, err := f.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sink := &memSink{crash: func(int) (bool, bool) { return rng.IntN(3) == 0, rng.IntN(3) == 0 }}
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("no progress")
		}
		_, err := (&Puller{Feed: f, Sink: sink, Logger: quiet, HTTP: hc}).Pull(context.Background())
		if err == nil {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
	}
	keys := func(m *memSink) []string {
		var out []string
		for _, it := range m.items {
			out = append(out, it.Version.Key()+" "+string(it.Version.Raw))
		}
		slices.Sort(out)
		return out
	}
	if a, b := keys(clean), keys(sink); !slices.Equal(a, b) {
		t.Errorf("interrupted pulls stored %d versions, an uninterrupted pull %d", len(b), len(a))
	}
}
