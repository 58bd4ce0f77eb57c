package detente_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"detente"
)

const validAgreement = `{"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z",
 "tlp_ceiling": "amber", "types": ["indicator", "report", "threat-actor", "identity", "relationship"],
 "onward_sharing": "third-party-rule", "purpose": "counter-terrorism"}`

func TestParseAgreement(t *testing.T) {
	a, err := detente.ParseAgreement([]byte(validAgreement))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Partners) != 1 || a.Partners[0] != "bravo" || a.TLPCeiling != detente.TLPAmber || a.State != detente.AgreementActive ||
		!a.InScope("report") || a.InScope("malware") || !a.Covers("bravo") {
		t.Errorf("parsed %+v", a)
	}
	if !a.InForce(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) || a.InForce(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		a.InForce(time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Error("window is not [from, until)")
	}
	bad := []struct{ name, doc, want string }{
		{"malformed", `{"partner": `, "malformed JSON"},
		{"unknown field", strings.Replace(validAgreement, `"purpose"`, `"porpoise"`, 1), "porpoise"},
		{"no partner", strings.Replace(validAgreement, `"partner": "bravo",`, "", 1), "partner"},
		{"bad partner", strings.Replace(validAgreement, `"bravo"`, `"Bravo Team"`, 1), "Bravo Team"},
		{"ceiling", strings.Replace(validAgreement, `"amber"`, `"purple"`, 1), "purple"},
		{"window", strings.Replace(validAgreement, `2027-01-01`, `2025-01-01`, 1), "until must be after from"},
		{"no types", strings.Replace(validAgreement, `["indicator", "report", "threat-actor", "identity", "relationship"]`, `[]`, 1), "types"},
		{"bad type", strings.Replace(validAgreement, `"indicator",`, `"Indicator!",`, 1), "Indicator!"},
		{"onward", strings.Replace(validAgreement, `"third-party-rule"`, `"anyone"`, 1), "anyone"},
		{"time", strings.Replace(validAgreement, `"2026-01-01T00:00:00Z"`, `"yesterday"`, 1), "from"},
		{"trailing", validAgreement + `{}`, "trailing"},
		{"oversized", strings.Repeat(" ", detente.MaxAgreementSize+1), "over"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := detente.ParseAgreement([]byte(c.doc))
			if err == nil || !strings.Contains(detente.ErrorMessage(err), c.want) {
				t.Errorf("error = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestParseAgreementTerms: docs/agreements.md promises a misspelt term is
// never silently ignored, keys or values: each is refused, named, with the
// term that was probably meant.
func TestParseAgreementTerms(t *testing.T) {
	types := `["indicator", "report", "threat-actor", "identity", "relationship"]`
	withTypes := func(ts string) string { return strings.Replace(validAgreement, types, ts, 1) }
	bad := []struct{ name, doc, want string }{
		{"misspelt type", withTypes(`["indicator", "indicatr"]`), `agreement: types[1] "indicatr" is not a STIX type (did you mean "indicator"?)`},
		{"capitalised type", withTypes(`["Report"]`), `agreement: types[0] "Report" is not a STIX type (did you mean "report"?)`},
		{"part of a type", withTypes(`["domain"]`), `agreement: types[0] "domain" is not a STIX type (did you mean "domain-name"?)`},
		{"not a type", withTypes(`["widget"]`), `agreement: types[0] "widget" is not a STIX type (custom types start with "x-")`},
		{"bundle", withTypes(`["bundle"]`), `agreement: types[0] "bundle" is not a STIX type`},
		{"type twice", withTypes(`["report", "report"]`), `agreement: types[1] "report" is listed twice`},
		{"misspelt key", strings.Replace(validAgreement, `"purpose"`, `"purpse"`, 1), `agreement: unknown field "purpse" (did you mean "purpose"?)`},
		{"part of a key", strings.Replace(validAgreement, `"tlp_ceiling"`, `"ceiling"`, 1), `agreement: unknown field "ceiling" (did you mean "tlp_ceiling"?)`},
		{"misspelt match key", strings.Replace(validAgreement, `"purpose"`, `"match": {"evaluations": 10, "period": "720h", "max_set_size": 10, "mode": ["query"]}, "purpose"`, 1),
			`agreement: unknown field "mode" (did you mean "modes"?)`},
		{"misspelt ceiling", strings.Replace(validAgreement, `"amber"`, `"ambre"`, 1), `(did you mean "amber"?)`},
		{"misspelt onward", strings.Replace(validAgreement, `"third-party-rule"`, `"third-party"`, 1),
			`agreement: onward_sharing "third-party" must be none, third-party-rule or permitted (did you mean "third-party-rule"?)`},
		{"misspelt mode", strings.Replace(validAgreement, `"purpose"`, `"match": {"evaluations": 10, "period": "720h", "max_set_size": 10, "modes": ["querry"]}, "purpose"`, 1),
			`agreement: match: mode "querry" must be query, bulk or count (did you mean "query"?)`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := detente.ParseAgreement([]byte(c.doc))
			if err == nil || !strings.Contains(detente.ErrorMessage(err), c.want) {
				t.Errorf("error = %v, want one with %q", err, c.want)
			}
		})
	}
	for _, ts := range []string{`["x-acme-widget"]`, `["marking-definition", "extension-definition", "language-content"]`,
		`["ipv4-addr", "sighting", "malware-analysis"]`} {
		if _, err := detente.ParseAgreement([]byte(withTypes(ts))); err != nil {
			t.Errorf("types %s: %v", ts, err)
		}
	}
}

func FuzzParseAgreement(f *testing.F) {
	f.Add([]byte(validAgreement))
	f.Add([]byte(`{"partners": ["a", "b"], "from": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z", "tlp_ceiling": "red", "types": ["x-y"], "onward_sharing": "none", "purpose": "p"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := detente.ParseAgreement(data)
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL {
				t.Fatalf("internal error for bad input: %v", err)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("parsed agreement does not validate: %v", err)
		}
		if len(a.Partners) == 0 || !a.Until.After(a.From) || a.Hash() == "" {
			t.Fatalf("accepted an incomplete agreement: %+v", a)
		}
	})
}

func TestTextForms(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k := detente.PublicKey(pub)
	got, err := detente.ParsePublicKey(k.String())
	if err != nil || !got.Equal(k) || !strings.HasPrefix(k.String(), "detente-node:") {
		t.Errorf("key round trip: %v", err)
	}
	for _, bad := range []string{"", "ed25519:abc", "detente-node:!!", "detente-node:AAAA"} {
		if _, err := detente.ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
	for _, s := range []string{"A1", "b2", "F6"} {
		g, err := detente.ParseGrading(s)
		if err != nil || !strings.EqualFold(g.String(), s) {
			t.Errorf("ParseGrading(%q) = %v, %v", s, g, err)
		}
	}
	for _, s := range []string{"", "G1", "A0", "A7", "AA", "A12"} {
		if _, err := detente.ParseGrading(s); err == nil {
			t.Errorf("ParseGrading(%q) accepted", s)
		}
	}
	for s, want := range map[string]detente.TLP{"clear": detente.TLPClear, "TLP:WHITE": detente.TLPClear, "amber+strict": detente.TLPAmberStrict, "Red": detente.TLPRed} {
		if got, err := detente.ParseTLP(s); err != nil || got != want {
			t.Errorf("ParseTLP(%q) = %v, %v", s, got, err)
		}
	}
	if !(detente.TLPClear < detente.TLPGreen && detente.TLPGreen < detente.TLPAmber && detente.TLPAmber < detente.TLPAmberStrict && detente.TLPAmberStrict < detente.TLPRed) {
		t.Error("TLP levels are not ordered")
	}
	for _, id := range []string{detente.MarkingClear, detente.MarkingGreen, detente.MarkingAmber, detente.MarkingAmberStrict, detente.MarkingRed} {
		tlp, ok := detente.TLPOfMarking(id)
		if !ok || detente.MarkingOfTLP(tlp) != id {
			t.Errorf("marking %s does not round-trip", id)
		}
	}
}

func TestConsentSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	rec, _, _ := ed25519.GenerateKey(rand.Reader)
	c := &detente.Consent{ID: "consent--1", Originator: detente.PublicKey(pub), Recipient: detente.PublicKey(rec),
		Object: "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3", Scope: detente.ConsentReport, Issued: time.Now().Add(-time.Minute)}
	c.Sign(priv)
	if err := c.Verify(); err != nil || !c.Valid(time.Now()) {
		t.Fatalf("valid consent: %v", err)
	}
	c.Recipient = detente.PublicKey(pub) // redirect to someone else
	if c.Verify() == nil {
		t.Error("consent altered after signing still verifies")
	}
}

// TestNameKeys: a reason names keys by what people call them; unknown
// keys stay keys, and text without a key is returned as it is.
func TestNameKeys(t *testing.T) {
	key := func(b byte) detente.PublicKey { return detente.PublicKey(bytes.Repeat([]byte{b}, 32)) }
	self, bravo, feedKey, stranger := key(1), key(2), key(3), key(4)
	partners := []*detente.Partner{{Name: "bravo", Key: bravo}}
	text := "the id belongs to " + bravo.String() + ", this version comes from " + feedKey.String() +
		"; signed by " + self.String() + " and " + stranger.String()
	got := detente.NameKeys(text, self, partners, map[string]string{feedKey.String(): "feed cti"})
	want := "the id belongs to bravo, this version comes from feed cti; signed by this node and " + stranger.String()
	if got != want {
		t.Errorf("NameKeys = %q\nwant %q", got, want)
	}
	if got := detente.NameKeys("plain words", self, partners, nil); got != "plain words" {
		t.Errorf("NameKeys(plain) = %q", got)
	}
	for origin, want := range map[string]string{self.String(): detente.OriginSelf, bravo.String(): "bravo", stranger.String(): ""} {
		k, _ := detente.ParsePublicKey(origin)
		if got := detente.OriginatorOf(k, self, partners); got != want {
			t.Errorf("OriginatorOf(%s) = %q, want %q", origin, got, want)
		}
	}
}
