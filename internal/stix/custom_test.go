package stix

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"detente"
)

// TestMISPExport: a STIX 2.1 bundle as MISP's converter (misp-stix) writes
// it, with x-misp-attribute, x-misp-object and x-misp-galaxy-cluster
// objects, is accepted whole, and every object is kept as it came, only in
// canonical form.
func TestMISPExport(t *testing.T) {
	data, err := os.ReadFile("testdata/misp-export-2.1.json")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ParseBundle(data)
	if err != nil {
		t.Fatalf("MISP export refused: %v", err)
	}
	if len(objs) != 18 {
		t.Fatalf("%d objects, want 18", len(objs))
	}
	types := map[string]int{}
	for _, o := range objs {
		types[o.Type]++
	}
	for typ, n := range map[string]int{"x-misp-attribute": 1, "x-misp-object": 1, "x-misp-galaxy-cluster": 1, "indicator": 3, "observed-data": 2, "marking-definition": 2, "report": 1} {
		if types[typ] != n {
			t.Errorf("%d objects of type %s, want %d", types[typ], typ, n)
		}
	}
	// Each object's Raw is its input, canonicalised: nothing dropped or added.
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(data, &bundle); err != nil {
		t.Fatal(err)
	}
	for i, o := range objs {
		want, err := Canonicalize(bundle.Objects[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(o.Raw) != string(want) {
			t.Errorf("%s changed:\n got %s\nwant %s", o.ID, o.Raw, want)
		}
	}
	byID := map[string]*Object{}
	for _, o := range objs {
		byID[o.ID] = o
	}
	mo := byID["x-misp-object--8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"]
	if mo == nil || mo.Created.IsZero() || mo.Version().IsZero() || mo.SpecVersion != "2.1" {
		t.Fatalf("x-misp-object not read as an SDO-like custom object: %+v", mo)
	}
	if refs := mo.Refs(); len(refs) != 1 || refs[0].Path != "created_by_ref" {
		t.Errorf("x-misp-object refs = %v, want its created_by_ref only", refs)
	}
	rep := byID["report--5c7e1d2a-8f3b-4a6c-9e0d-1b2a3c4d5e6f"]
	n := 0
	for _, r := range rep.Refs() {
		if strings.HasPrefix(r.ID, "x-misp-") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("report references %d x-misp objects, want 3", n)
	}
}

// TestLegacyCustomObjects: custom types with the x- prefix and no
// extension-definition are accepted with any valid property names; their
// common properties are still checked.
func TestLegacyCustomObjects(t *testing.T) {
	const id = "x-acme-widget--" + u1
	valid := map[string]string{
		"SDO-like":            obj("x-acme-widget", id, `"name":"w","colour":"blue","x_acme_size":3,"created_by_ref":"identity--`+u2+`"`),
		"SCO-like":            sco("x-acme-widget", id, `"value":"w","serial_number":"123"`),
		"SCO-like with 2.1":   sco("x-acme-widget", id, `"spec_version":"2.1","value":"w"`),
		"nested refs":         obj("x-acme-widget", id, `"holder_ref":"identity--`+u2+`","parts":[{"part_ref":"file--`+u5+`"}]`),
		"markings":            obj("x-acme-widget", id, `"object_marking_refs":["`+detente.MarkingAmber+`"],"granular_markings":[{"marking_ref":"`+detente.MarkingRed+`","selectors":["secret"]}],"secret":"s"`),
		"labels and ext refs": obj("x-acme-widget", id, `"labels":["misp:type=\"btc\""],"external_references":[{"source_name":"misp","url":"https://misp.example/events/1"}]`),
		"property extension":  obj("x-acme-widget", id, `"extensions":{"`+xd+`":{"extension_type":"property-extension","rank":1}}`),
	}
	for name, in := range valid {
		t.Run(name, func(t *testing.T) {
			objs, err := ParseBundle([]byte(in))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want, _ := Canonicalize([]byte(in))
			if string(objs[0].Raw) != string(want) {
				t.Errorf("Raw = %s, want %s", objs[0].Raw, want)
			}
		})
	}
	invalid := []struct{ name, in, prop, msg string }{
		{"missing modified", strings.Replace(obj("x-acme-widget", id, ""), `,"modified":"2020-01-01T00:00:00.000Z"`, "", 1), "modified", "required property missing"},
		{"missing created", strings.Replace(obj("x-acme-widget", id, ""), `"created":"2020-01-01T00:00:00.000Z",`, "", 1), "created", "required property missing"},
		{"missing spec_version", strings.Replace(obj("x-acme-widget", id, ""), `"spec_version":"2.1",`, "", 1), "spec_version", "required property missing"},
		{"STIX 2.0", strings.Replace(obj("x-acme-widget", id, ""), `"2.1"`, `"2.0"`, 1), "spec_version", `must be "2.1"`},
		{"id prefix", obj("x-acme-widget", "x-acme-gadget--"+u1, ""), "id", "does not match type"},
		{"bad created_by_ref", obj("x-acme-widget", id, `"created_by_ref":"tool--`+u2+`"`), "created_by_ref", "must reference a identity"},
		{"bad ref", obj("x-acme-widget", id, `"holder_ref":"nobody"`), "holder_ref", "is not a STIX identifier"},
		{"bad property name", obj("x-acme-widget", id, `"Colour":"blue"`), "Colour", "invalid property name"},
		{"short property name", sco("x-acme-widget", id, `"to":"x"`), "to", "invalid property name"},
		{"bad labels", obj("x-acme-widget", id, `"labels":[]`), "labels", "non-empty list"},
		{"modified before created", strings.Replace(obj("x-acme-widget", id, ""), `"modified":"2020-01-01T00:00:00.000Z"`, `"modified":"2019-01-01T00:00:00.000Z"`, 1), "modified", "is before created"},
		{"selector names nothing", obj("x-acme-widget", id, `"granular_markings":[{"marking_ref":"`+detente.MarkingRed+`","selectors":["secret"]}]`), "granular_markings.[0].selectors.[0]", "names nothing"},
		{"unknown type without x-", obj("acme-widget", "acme-widget--"+u1, ""), "type", `unknown type "acme-widget" (a custom type must start with x-`},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseBundle([]byte(c.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if ve.Property != c.prop || !strings.Contains(ve.Message, c.msg) {
				t.Errorf("err = %v, want property %q and %q", err, c.prop, c.msg)
			}
		})
	}
}

// TestLegacyCustomSign: custom objects sign and verify like any other.
func TestLegacyCustomSign(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	raw := []byte(obj("x-misp-attribute", "x-misp-attribute--"+u1, `"x_misp_type":"btc","x_misp_value":"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"`))
	signed, err := Sign(raw, priv, detente.Grading{Reliability: 'B', Credibility: 2})
	if err != nil {
		t.Fatal(err)
	}
	signer, ok, err := Verify(signed)
	if err != nil || !ok || !signer.Equal(detente.PublicKey(priv.Public().(ed25519.PublicKey))) {
		t.Fatalf("Verify = %v, %v, %v", signer, ok, err)
	}
}

func TestParseBundlePartial(t *testing.T) {
	good1 := obj("tool", "tool--"+u1, `"name":"t"`)
	bad1 := obj("indicator", "indicator--"+u2, `"pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"`) // no pattern
	custom := obj("x-misp-attribute", "x-misp-attribute--"+u1, `"x_misp_value":"v"`)
	conflict := obj("tool", "tool--"+u1, `"name":"other"`)
	repeat := good1
	in := `{"type":"bundle","id":"bundle--` + u2 + `","objects":[` + strings.Join([]string{good1, bad1, `42`, custom, conflict, repeat, `{"type":"bundle","id":"bundle--` + u1 + `"}`}, ",") + `]}`
	objs, bad := ParseBundlePartial([]byte(in))
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	if strings.Join(ids, " ") != "tool--"+u1+" x-misp-attribute--"+u1 {
		t.Errorf("kept %v", ids)
	}
	want := []struct {
		index int
		id    string
		msg   string
	}{
		{1, "indicator--" + u2, "pattern: required property missing"},
		{2, "", "objects.[2]: a STIX object must be a JSON object"},
		{4, "tool--" + u1, "different content"},
		{6, "bundle--" + u1, "bundles cannot be nested"},
	}
	if len(bad) != len(want) {
		t.Fatalf("bad = %v, want %d", bad, len(want))
	}
	for i, w := range want {
		b := bad[i]
		if b.Index != w.index || b.ID != w.id || !strings.Contains(b.Error(), w.msg) || detente.ErrorCode(b) != detente.EINVALID {
			t.Errorf("bad[%d] = {%d %q %v}, want {%d %q …%s…}", i, b.Index, b.ID, b.Err, w.index, w.id, w.msg)
		}
	}
	// ParseBundle on the same input fails on the first bad object.
	if _, err := ParseBundle([]byte(in)); err == nil || !strings.Contains(err.Error(), "indicator--"+u2) {
		t.Errorf("ParseBundle = %v", err)
	}
	// The whole document at fault.
	for _, doc := range []string{`{"type":"bundle",`, `[]`, `{"type":"bundle","id":"bundle--x","objects":[]}`, `{"type":"bundle","id":"bundle--` + u1 + `","objects":{}}`} {
		objs, bad := ParseBundlePartial([]byte(doc))
		if len(objs) != 0 || len(bad) != 1 || bad[0].Index != -1 {
			t.Errorf("%s: objs %d, bad %v", doc, len(objs), bad)
		}
	}
	// A single object: kept, or bad at index 0.
	if objs, bad := ParseBundlePartial([]byte(good1)); len(objs) != 1 || len(bad) != 0 {
		t.Errorf("single good object: %d, %v", len(objs), bad)
	}
	if objs, bad := ParseBundlePartial([]byte(bad1)); len(objs) != 0 || len(bad) != 1 || bad[0].Index != 0 || bad[0].ID != "indicator--"+u2 {
		t.Errorf("single bad object: %d, %v", len(objs), bad)
	}
}

func TestAmend(t *testing.T) {
	o, err := ParseObject([]byte(sampleIndicator))
	if err != nil {
		t.Fatal(err)
	}
	before := string(o.Raw)
	a, err := o.Amend(map[string]any{
		"object_marking_refs": []string{detente.MarkingRed},
		"name":                nil,
		"x_feed":              map[string]int{"n": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Raw) != before || o.Fields["name"] == nil {
		t.Error("the original changed")
	}
	if m := a.Markings(); len(m) != 1 || m[0] != detente.MarkingRed || a.Fields["name"] != nil {
		t.Errorf("amended: %s", a.Raw)
	}
	if want, _ := Canonicalize(a.Raw); string(want) != string(a.Raw) || !strings.Contains(string(a.Raw), `"x_feed":{"n":1}`) {
		t.Errorf("not canonical: %s", a.Raw)
	}
	for name, set := range map[string]map[string]any{
		"id":            {"id": "indicator--" + u1},
		"type":          {"type": "malware"},
		"invalid value": {"object_marking_refs": []string{"identity--" + u1}},
		"required":      {"pattern": nil},
	} {
		if _, err := o.Amend(set); err == nil {
			t.Errorf("%s: amended", name)
		}
	}
}
