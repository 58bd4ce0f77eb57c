package detente_test

import (
	"strings"
	"testing"

	"detente"
)

// TestParseAgreementReciprocity: the reciprocity terms are parsed,
// checked like the other terms, and part of SameTerms.
func TestParseAgreementReciprocity(t *testing.T) {
	with := func(block string) string {
		return strings.Replace(validAgreement, `"purpose"`, `"reciprocity": `+block+`, "purpose"`, 1)
	}
	a, err := detente.ParseAgreement([]byte(with(`{"window": "720h", "min_ratio": 0.5, "action": "hold"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if r := a.Reciprocity; r == nil || r.WindowDuration().Hours() != 720 || r.MinRatio != 0.5 || r.Action != detente.ReciprocityHold {
		t.Errorf("terms: %+v", a.Reciprocity)
	}
	plain, _ := detente.ParseAgreement([]byte(validAgreement))
	if plain.Reciprocity != nil || a.SameTerms(plain) {
		t.Errorf("an agreement without reciprocity terms: %+v, same terms %v", plain.Reciprocity, a.SameTerms(plain))
	}
	warn, _ := detente.ParseAgreement([]byte(with(`{"window": "30h", "min_ratio": 0.5, "action": "warn"}`)))
	if warn == nil || a.SameTerms(warn) {
		t.Errorf("other reciprocity terms count as the same")
	}
	for _, c := range []struct{ block, want string }{
		{`{"window": "30d", "min_ratio": 0.5, "action": "hold"}`, `reciprocity: window "30d" must be a duration of at least 1h, such as 720h`},
		{`{"window": "10m", "min_ratio": 0.5, "action": "hold"}`, `window "10m" must be a duration of at least 1h`},
		{`{"window": "720h", "action": "hold"}`, `reciprocity: min_ratio is required`},
		{`{"window": "720h", "min_ratio": 0, "action": "hold"}`, `min_ratio must be a number above 0`},
		{`{"window": "720h", "min_ratio": -1, "action": "hold"}`, `min_ratio must be a number above 0`},
		{`{"window": "720h", "min_ratio": 0.5}`, `reciprocity: action is required (warn or hold)`},
		{`{"window": "720h", "min_ratio": 0.5, "action": "hodl"}`, `action "hodl" must be warn or hold (did you mean "hold"?)`},
		{`{"window": "720h", "min_ratio": 0.5, "action": "hold", "ratio": 1}`, `unknown field "ratio" (did you mean "min_ratio"?)`},
	} {
		_, err := detente.ParseAgreement([]byte(with(c.block)))
		if err == nil || !strings.Contains(detente.ErrorMessage(err), c.want) {
			t.Errorf("%s: error = %v, want one with %q", c.block, err, c.want)
		}
	}
}
