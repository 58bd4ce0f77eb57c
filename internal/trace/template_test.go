package trace

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"detente/internal/stix"
)

func TestParseObject(t *testing.T) {
	obj := map[string]any{
		"type": "indicator", "id": "indicator--1", "spec_version": "2.1",
		"created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-01T10:00:00.000Z",
		"pattern":           "[domain-name:value = 'x[[y']", // not markup, and never touched
		"pattern_type":      "stix",
		"name":              "C2 [[server|host]]",
		"description":       `Seen at {{canary:time:2026-03-01T10:00:00Z~15m}}; path C:\Temp, literal \[[x]]`,
		"labels":            []any{"plain", "[[alpha|beta]]"},
		"confidence":        70,
		"created_by_ref":    "identity--1",
		"kill_chain_phases": []any{map[string]any{"kill_chain_name": "k", "phase_name": "[[delivery|exploitation]]"}},
		"external_references": []any{
			map[string]any{"source_name": "a"},
			map[string]any{"source_name": "b", "description": "by [[phone|mail]] and [[fax|courier]]"},
		},
	}
	tpl, err := Parse(obj, "indicator--1", "2026-03-01T10:00:00.000Z")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, m := range tpl.Marks() {
		if m.Index != i {
			t.Errorf("mark %d has index %d", i, m.Index)
		}
		paths = append(paths, m.Path)
	}
	want := []string{"description", "external_references.[1].description", "external_references.[1].description",
		"kill_chain_phases.[0].phase_name", "labels.[1]", "name"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	strip := tpl.Strip()
	if strip["description"] != `Seen at 2026-03-01T10:00:00Z; path C:\Temp, literal [[x]]` || strip["name"] != "C2 server" ||
		strip["pattern"] != obj["pattern"] || !reflect.DeepEqual(strip["labels"], []any{"plain", "alpha"}) {
		t.Errorf("Strip = %v", strip)
	}
	// The template's object is never modified by rendering.
	if obj["name"] != "C2 [[server|host]]" || obj["labels"].([]any)[1] != "[[alpha|beta]]" ||
		obj["external_references"].([]any)[1].(map[string]any)["description"] != "by [[phone|mail]] and [[fax|courier]]" {
		t.Error("rendering changed the template's object")
	}
}

func TestParseRefuses(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"type": "report", "id": "report--1", "created": "2026-03-01T10:00:00Z", "modified": "2026-03-01T10:00:00Z"}
	}
	tests := []struct {
		name  string
		key   string
		value any
		path  string
	}{
		{"id", "id", "report--[[1|2]]", "id"},
		{"type", "type", "[[report|note]]", "type"},
		{"spec_version", "spec_version", "[[2.1|2.0]]", "spec_version"},
		{"created", "created", "{{canary:time:2026-03-01T10:00:00Z~1m}}", "created"},
		{"modified", "modified", "[[2026-03-01T10:00:00Z|2026-03-01T10:00:01Z]]", "modified"},
		{"pattern", "pattern", "[file:name = '[[a|b]]']", "pattern"},
		{"pattern_type", "pattern_type", "[[stix|sigma]]", "pattern_type"},
		{"a ref", "created_by_ref", "identity--[[1|2]]", "created_by_ref"},
		{"refs", "object_refs", []any{"x--1", "x--[[2|3]]"}, "object_refs.[1]"},
		{"nested ref", "extensions", map[string]any{"x": map[string]any{"sample_ref": "file--[[1|2]]"}}, "extensions.x.sample_ref"},
		{"hashes", "hashes", map[string]any{"SHA-256": "[[aa|bb]]"}, "hashes.SHA-256"},
		{"granular markings", "granular_markings", []any{map[string]any{"selectors": []any{"[[name|description]]"}}}, "granular_markings.[0].selectors.[0]"},
		{"detente extension", "extensions", map[string]any{stix.ExtensionID: map[string]any{"grading": "[[A1|B2]]"}}, "extensions." + stix.ExtensionID + ".grading"},
		{"bad markup", "description", "a [[b|c", "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := base()
			obj[tt.key] = tt.value
			_, err := Parse(obj, "report--1", "v")
			var me *MarkupError
			if !errors.As(err, &me) || me.Path != tt.path {
				t.Fatalf("err = %v, want a markup error in %s", err, tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name %s", err, tt.path)
			}
		})
	}
	// Other extensions may carry markup.
	obj := base()
	obj["extensions"] = map[string]any{"extension-definition--other": map[string]any{"note": "[[a|b]]"}}
	if _, err := Parse(obj, "report--1", "v"); err != nil {
		t.Errorf("markup in another extension: %v", err)
	}
	if _, err := Parse(base(), "", "v"); err == nil {
		t.Error("no id: no error")
	}
}

func TestFingerprintVariants(t *testing.T) {
	s := testScheme(t)
	obj := testReport("report--22222222-3333-4444-8555-666666666666", 40, true, 6)
	tpl := mustParse(t, obj)
	a1, _ := s.Fingerprint(tpl, "alpha")
	a2, _ := s.Fingerprint(tpl, "alpha")
	b, _ := s.Fingerprint(tpl, "bravo")
	if !reflect.DeepEqual(a1.Object, a2.Object) || !slices.Equal(a1.Record.Symbols, a2.Record.Symbols) {
		t.Error("the same recipient got two different variants")
	}
	if a1.Commitment == a2.Commitment {
		t.Error("two fingerprints of one variant have the same commitment: the nonce is not random")
	}
	if reflect.DeepEqual(a1.Object, b.Object) {
		t.Error("two recipients got the same variant")
	}
	for _, c := range []*Copy{a1, b} {
		for _, k := range []string{"name", "description"} {
			v := c.Object[k].(string)
			if strings.Contains(v, "[[") || strings.Contains(v, "{{") || strings.Contains(v, "|") {
				t.Errorf("%s still has markup: %q", k, v)
			}
		}
		if !reflect.DeepEqual(c.Object["extensions"], obj["extensions"]) || c.Object["id"] != obj["id"] {
			t.Error("unmarked properties changed")
		}
		o, err := ParseOpening(c.Opening)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := commitmentOf(c.Opening); got != c.Commitment || c.Record.Commitment != c.Commitment {
			t.Error("the opening does not open the commitment")
		}
		for i, m := range o.Marks {
			if m.Kind != KindSubdomain && int(c.Record.Symbols[i]) != m.Symbol {
				t.Errorf("mark %d: record says %d, opening %d", i, c.Record.Symbols[i], m.Symbol)
			}
		}
	}
	// Another key gives other variants.
	s2, _ := NewScheme([]byte("another node's fingerprint key of 32+ bytes"))
	a3, _ := s2.Fingerprint(tpl, "alpha")
	if reflect.DeepEqual(a1.Object, a3.Object) {
		t.Error("two keys gave the same variant")
	}
	if _, err := NewScheme([]byte("short")); err == nil {
		t.Error("a short key: no error")
	}
	if _, err := s.Fingerprint(tpl, ""); err == nil {
		t.Error("no recipient: no error")
	}
}
