package stix

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"detente"
)

func TestProject(t *testing.T) {
	red, amber := detente.MarkingRed, detente.MarkingAmber
	gm := func(ref string, sels ...string) map[string]any {
		s := make([]any, len(sels))
		for i, v := range sels {
			s[i] = v
		}
		return map[string]any{"marking_ref": ref, "selectors": s}
	}
	base := mod(sampleIndicator, func(m map[string]any) {
		m["external_references"] = []any{
			map[string]any{"source_name": "a", "url": "https://a.example/"},
			map[string]any{"source_name": "b", "url": "https://b.example/", "description": "b"},
			map[string]any{"source_name": "c", "external_id": "C-3"},
		}
		m["granular_markings"] = []any{
			gm(red, "description", "external_references.[0]"),
			gm(amber, "external_references.[2].external_id", "kill_chain_phases.[1]"),
			gm(red, "external_references.[1].url"),
		}
		m["object_marking_refs"] = []any{detente.MarkingGreen}
	})
	tests := []struct {
		name     string
		redact   []string
		check    func(t *testing.T, m map[string]any)
		errMatch string
	}{
		{name: "nothing", redact: nil, check: func(t *testing.T, m map[string]any) {
			if m["description"] == nil {
				t.Error("description removed")
			}
		}},
		{name: "description and first reference", redact: []string{"description", "external_references.[0]"}, check: func(t *testing.T, m map[string]any) {
			if _, ok := m["description"]; ok {
				t.Error("description kept")
			}
			refs := m["external_references"].([]any)
			if len(refs) != 2 || refs[0].(map[string]any)["source_name"] != "b" {
				t.Errorf("external_references %v", refs)
			}
			// The red marking on [0] lost all selectors; the amber one on [2]
			// now points at [1]; the one on [1].url at [0].url.
			want := []any{
				gm(amber, "external_references.[1].external_id", "kill_chain_phases.[1]"),
				gm(red, "external_references.[0].url"),
			}
			if got := m["granular_markings"]; !reflect.DeepEqual(got, want) {
				t.Errorf("granular_markings\n got %v\nwant %v", got, want)
			}
		}},
		{name: "middle reference url only", redact: []string{"external_references.[1].url"}, check: func(t *testing.T, m map[string]any) {
			refs := m["external_references"].([]any)
			if len(refs) != 3 || refs[1].(map[string]any)["url"] != nil {
				t.Errorf("external_references %v", refs)
			}
			if len(m["granular_markings"].([]any)) != 2 {
				t.Errorf("granular_markings %v", m["granular_markings"])
			}
		}},
		{name: "two list elements, highest first or not", redact: []string{"external_references.[0]", "external_references.[2]", "kill_chain_phases.[1]"}, check: func(t *testing.T, m map[string]any) {
			refs := m["external_references"].([]any)
			if len(refs) != 1 || refs[0].(map[string]any)["source_name"] != "b" {
				t.Errorf("external_references %v", refs)
			}
			if len(m["kill_chain_phases"].([]any)) != 1 {
				t.Errorf("kill_chain_phases %v", m["kill_chain_phases"])
			}
			want := []any{gm(red, "description"), gm(red, "external_references.[0].url")}
			if got := m["granular_markings"]; !reflect.DeepEqual(got, want) {
				t.Errorf("granular_markings\n got %v\nwant %v", got, want)
			}
		}},
		{name: "emptied list goes", redact: []string{"kill_chain_phases.[0]", "kill_chain_phases.[1]"}, check: func(t *testing.T, m map[string]any) {
			if _, ok := m["kill_chain_phases"]; ok {
				t.Error("empty kill_chain_phases kept")
			}
		}},
		{name: "required property", redact: []string{"pattern"}, errMatch: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: pattern: projection would be invalid: required property missing"},
		{name: "id", redact: []string{"id"}, errMatch: "cannot be removed"},
		// A copy without its TLP would travel unmarked (red team).
		{name: "object markings", redact: []string{"object_marking_refs"}, errMatch: "object_marking_refs: redact: this property cannot be removed"},
		{name: "an object marking", redact: []string{"object_marking_refs.[0]"}, errMatch: "cannot be removed"},
		{name: "missing selector", redact: []string{"external_references.[9]"}, errMatch: "names nothing"},
		{name: "malformed selector", redact: []string{"description."}, errMatch: "empty step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Project([]byte(base), tt.redact)
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("got %v, want error containing %q", err, tt.errMatch)
				}
				if detente.ErrorCode(err) != detente.EINVALID {
					t.Errorf("code %q", detente.ErrorCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, err := ParseObject(out)
			if err != nil {
				t.Fatalf("projection does not validate: %v", err)
			}
			if string(o.Raw) != string(out) {
				t.Error("projection is not canonical")
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestProjectDropsSignature(t *testing.T) {
	signed, err := Sign([]byte(sampleIndicator), testKey, detente.Grading{Reliability: 'B', Credibility: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing redacted: the signature stays and verifies.
	same, err := Project(signed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Verify(same); !ok || err != nil {
		t.Errorf("unredacted projection: %v %v", ok, err)
	}
	out, err := Project(signed, []string{"description"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseObject(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.Verify(); ok || err != nil {
		t.Errorf("redacted projection still signed: %v %v", ok, err)
	}
	if o.Grading().String() != "B2" {
		t.Errorf("grading lost: %v", o.Grading())
	}
}

func FuzzProject(f *testing.F) {
	f.Add([]byte(sampleIndicator), "description")
	f.Add([]byte(sampleIndicator), "external_references.[0]")
	f.Add([]byte(sampleIndicator), "kill_chain_phases.[1]")
	f.Add([]byte(sampleIndicator), "external_references.[1].url")
	f.Fuzz(func(t *testing.T, in []byte, sel string) {
		var redact []string
		if sel != "" {
			redact = strings.Split(sel, ",")
		}
		out, err := Project(in, redact)
		if err != nil {
			return
		}
		o, err := ParseObject(out)
		if err != nil {
			t.Fatalf("projection does not validate: %v", err)
		}
		if string(o.Raw) != string(out) {
			t.Fatal("projection is not canonical")
		}
		for _, s := range redact {
			segs, _ := parseSelector(s)
			if len(segs) == 1 && !segs[0].isIdx {
				if _, ok := o.Fields[segs[0].key]; ok {
					t.Fatalf("property %q survived its redaction", s)
				}
			}
		}
	})
}
