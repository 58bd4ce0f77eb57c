package feed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"detente"
	"detente/internal/stix"
)

func parse(t *testing.T, raw string) *stix.Object {
	t.Helper()
	o, err := stix.ParseObject([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// object returns an indicator with extra properties.
func object(extra string) string {
	s := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'a.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestPrepare(t *testing.T) {
	b2 := detente.Grading{Reliability: 'B', Credibility: 2}
	tests := []struct {
		name      string
		in        string
		rules     Rules
		markings  string // the markings after, joined by space
		grading   string
		originate string // the originator
	}{
		{"unmarked gets the default", object(""), Rules{Feed: "f", TLP: detente.TLPAmber}, detente.MarkingAmber, "", "feed:f"},
		{"configured TLP", object(""), Rules{Feed: "f", TLP: detente.TLPRed}, detente.MarkingRed, "", "feed:f"},
		{"TLP kept", object(`"object_marking_refs":["` + detente.MarkingGreen + `"]`), Rules{Feed: "f", TLP: detente.TLPRed}, detente.MarkingGreen, "", "feed:f"},
		{"TLP 1.0 kept", object(`"object_marking_refs":["` + detente.MarkingTLP1White + `"]`), Rules{Feed: "f", TLP: detente.TLPRed}, detente.MarkingTLP1White, "", "feed:f"},
		{"other marking only: TLP added", object(`"object_marking_refs":["marking-definition--2a6f2a2e-6b88-4c84-9f3a-7a7d5e0b3c11"]`), Rules{Feed: "f", TLP: detente.TLPAmber},
			"marking-definition--2a6f2a2e-6b88-4c84-9f3a-7a7d5e0b3c11 " + detente.MarkingAmber, "", "feed:f"},
		{"creator is originator", object(`"created_by_ref":"identity--B3F6C2A1-4e7d-4c1b-8a9e-5d2f7c3e1a04"`), Rules{Feed: "f", TLP: detente.TLPAmber}, detente.MarkingAmber, "", "identity--b3f6c2a1-4e7d-4c1b-8a9e-5d2f7c3e1a04"},
		{"configured grading", object(""), Rules{Feed: "f", TLP: detente.TLPAmber, Grading: b2}, detente.MarkingAmber, "B2", "feed:f"},
		{"admiralty tags", object(`"labels":["admiralty-scale:source-reliability=\"a\"","admiralty-scale:information-credibility=\"1\""]`), Rules{Feed: "f", TLP: detente.TLPAmber, Grading: b2}, detente.MarkingAmber, "A1", "feed:f"},
		{"one admiralty tag over the configured grading", object(`"labels":["admiralty-scale:information-credibility=\"5\""]`), Rules{Feed: "f", TLP: detente.TLPAmber, Grading: b2}, detente.MarkingAmber, "B5", "feed:f"},
		{"one admiralty tag alone", object(`"labels":["admiralty-scale:source-reliability=\"c\""]`), Rules{Feed: "f", TLP: detente.TLPAmber}, detente.MarkingAmber, "C6", "feed:f"},
		{"object's own grading", object(`"extensions":{"` + stix.ExtensionID + `":{"extension_type":"property-extension","grading":"E4"}}`), Rules{Feed: "f", TLP: detente.TLPAmber, Grading: b2}, detente.MarkingAmber, "E4", "feed:f"},
		{"statement marking-definition left alone", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--2a6f2a2e-6b88-4c84-9f3a-7a7d5e0b3c11","created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright"}}`,
			Rules{Feed: "f", TLP: detente.TLPAmber}, "", "", "feed:f"},
		{"custom object", `{"type":"x-misp-attribute","spec_version":"2.1","id":"x-misp-attribute--8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","x_misp_value":"v"}`,
			Rules{Feed: "f", TLP: detente.TLPGreen}, detente.MarkingGreen, "", "feed:f"},
		{"observable", `{"type":"domain-name","id":"domain-name--4b5c6d7e-8f9a-5b0c-ad1e-2f3a4b5c6d7e","value":"a.example"}`,
			Rules{Feed: "f", TLP: detente.TLPGreen, Grading: b2}, detente.MarkingGreen, "B2", "feed:f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := parse(t, tc.in)
			it, err := tc.rules.Prepare(in)
			if err != nil {
				t.Fatal(err)
			}
			v := it.Version
			if got := strings.Join(v.Markings, " "); got != tc.markings {
				t.Errorf("markings %q, want %q", got, tc.markings)
			}
			if v.Grading.String() != tc.grading || v.Originator != tc.originate || v.Signer != nil || it.Signed || it.Source != "feed:f" {
				t.Errorf("grading %q originator %q signer %v source %q", v.Grading, v.Originator, v.Signer, it.Source)
			}
			if !bytes.Equal(v.Raw, it.Object.Raw) {
				t.Error("Version.Raw is not Object.Raw")
			}
			// Stable: preparing the prepared object changes nothing, so a
			// re-pull gives the same bytes.
			again, err := tc.rules.Prepare(it.Object)
			if err != nil || !bytes.Equal(again.Version.Raw, v.Raw) {
				t.Errorf("not stable: %v\n%s\n%s", err, v.Raw, again.Version.Raw)
			}
			// Everything but the rules' changes is kept.
			var before, after map[string]any
			json.Unmarshal(in.Raw, &before)
			json.Unmarshal(v.Raw, &after)
			for k, bv := range before {
				if k == "object_marking_refs" || k == "extensions" {
					continue
				}
				if b1, _ := json.Marshal(bv); !bytes.Equal(b1, mustJSON(after[k])) {
					t.Errorf("%s changed", k)
				}
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestPrepareOriginate(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := Rules{Feed: "misp-main", TLP: detente.TLPAmber, Grading: detente.Grading{Reliability: 'A', Credibility: 2}, Originate: true, Key: priv}
	it, err := r.Prepare(parse(t, object(`"labels":["admiralty-scale:information-credibility=\"1\""]`)))
	if err != nil {
		t.Fatal(err)
	}
	v := it.Version
	signer, signed, err := stix.Verify(v.Raw)
	if err != nil || !signed || !signer.Equal(detente.PublicKey(pub)) || !v.Signer.Equal(detente.PublicKey(pub)) {
		t.Fatalf("not signed by the node: %v %v %v", signer, signed, err)
	}
	if v.Originator != detente.OriginSelf || v.Grading.String() != "A1" || len(v.Markings) != 1 || v.Markings[0] != detente.MarkingAmber || it.Signed {
		t.Errorf("originator %q grading %q markings %v", v.Originator, v.Grading, v.Markings)
	}
	// Deterministic (Ed25519 is): the same object signs to the same bytes.
	again, _ := r.Prepare(parse(t, object(`"labels":["admiralty-scale:information-credibility=\"1\""]`)))
	if !bytes.Equal(again.Version.Raw, v.Raw) {
		t.Error("signing twice gave other bytes")
	}
}

// TestPrepareSigned: an object a detente node signed comes through
// unchanged, whatever the feed's rules, and a bad signature is refused.
func TestPrepareSigned(t *testing.T) {
	pub, partner, _ := ed25519.GenerateKey(rand.Reader)
	_, node, _ := ed25519.GenerateKey(rand.Reader)
	signed, err := stix.Sign([]byte(object("")), partner, detente.Grading{Reliability: 'C', Credibility: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Rules{{Feed: "f", TLP: detente.TLPRed}, {Feed: "f", TLP: detente.TLPRed, Originate: true, Key: node}} {
		it, err := r.Prepare(parse(t, string(signed)))
		if err != nil {
			t.Fatal(err)
		}
		if !it.Signed || !bytes.Equal(it.Version.Raw, signed) || !it.Version.Signer.Equal(detente.PublicKey(pub)) || it.Version.Originator != "" {
			t.Errorf("originate=%v: signed %v same bytes %v originator %q", r.Originate, it.Signed, bytes.Equal(it.Version.Raw, signed), it.Version.Originator)
		}
	}
	tampered := bytes.Replace(signed, []byte("a.example"), []byte("b.example"), 1)
	if _, err := (&Rules{Feed: "f", TLP: detente.TLPRed}).Prepare(parse(t, string(tampered))); err == nil || !strings.Contains(err.Error(), "signature does not verify") {
		t.Errorf("tampered: %v", err)
	}
}

func TestPreparePredefined(t *testing.T) {
	for _, raw := range [][]byte{stix.TLPMarkingDefinition(detente.TLPRed),
		[]byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + detente.MarkingTLP1Amber + `","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`)} {
		if _, err := (&Rules{Feed: "f", TLP: detente.TLPAmber}).Prepare(parse(t, string(raw))); !errors.Is(err, ErrPredefined) {
			t.Errorf("err = %v", err)
		}
	}
}

func TestAdmiralty(t *testing.T) {
	b2 := detente.Grading{Reliability: 'B', Credibility: 2}
	for _, tc := range []struct {
		tags []string
		base detente.Grading
		want string
	}{
		{nil, b2, "B2"},
		{nil, detente.Grading{}, ""},
		{[]string{`admiralty-scale:source-reliability="a"`, `admiralty-scale:information-credibility="6"`}, b2, "A6"},
		{[]string{`ADMIRALTY-SCALE:Source-Reliability="F"`}, detente.Grading{}, "F6"},
		{[]string{`admiralty-scale:information-credibility="4"`}, detente.Grading{}, "F4"},
		{[]string{`admiralty-scale:source-reliability="g"`, `admiralty-scale:information-credibility="7"`}, b2, "B2"},
		{[]string{`admiralty-scale:source-reliability=a`, `tlp:amber`, `misp-galaxy:x="y"`}, b2, "B2"},
	} {
		if got := admiralty(tc.tags, tc.base).String(); got != tc.want {
			t.Errorf("admiralty(%q, %s) = %q, want %q", tc.tags, tc.base, got, tc.want)
		}
	}
}
