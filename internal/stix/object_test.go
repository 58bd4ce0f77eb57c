package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"detente"
)

const sampleIndicator = `{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
  "created": "2016-04-06T20:03:48.000Z",
  "modified": "2016-04-06T20:03:48.000Z",
  "indicator_types": ["malicious-activity"],
  "name": "Poison Ivy Malware",
  "description": "This file is part of Poison Ivy",
  "pattern": "[ file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]",
  "pattern_type": "stix",
  "valid_from": "2016-01-01T00:00:00Z",
  "kill_chain_phases": [
    {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"},
    {"kill_chain_name": "mandiant-attack-lifecycle-model", "phase_name": "initial-compromise"}
  ],
  "external_references": [
    {"source_name": "capec", "external_id": "CAPEC-163"},
    {"source_name": "blog", "url": "https://example.com/poison-ivy", "description": "analysis"}
  ],
  "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
  "granular_markings": [
    {"marking_ref": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "selectors": ["description", "external_references.[1].url"]},
    {"marking_ref": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "selectors": ["kill_chain_phases.[1]"]}
  ]
}`

// mod returns the sample indicator changed by f, as JSON.
func mod(base string, f func(m map[string]any)) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		panic(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func obj(typ, id string, props string) string {
	s := fmt.Sprintf(`{"type":%q,"spec_version":"2.1","id":%q,"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z"`, typ, id)
	if props != "" {
		s += "," + props
	}
	return s + "}"
}

func sco(typ, id, props string) string {
	return fmt.Sprintf(`{"type":%q,"id":%q,%s}`, typ, id, props)
}

const (
	u1 = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
	u2 = "0d3f1c6e-5a8b-4f2c-9e71-2b4d6a8c0e13"
	u5 = "4a1b6e3c-7d2f-5e8a-9b0c-1d2e3f4a5b6c" // a UUIDv5, as SCOs use
	xd = "extension-definition--" + u2
)

func TestParseBundleValid(t *testing.T) {
	tests := map[string]string{
		"indicator":                 sampleIndicator,
		"attack-pattern":            obj("attack-pattern", "attack-pattern--"+u1, `"name":"Spear phishing"`),
		"campaign":                  obj("campaign", "campaign--"+u1, `"name":"C","first_seen":"2020-01-01T00:00:00Z","last_seen":"2020-02-01T00:00:00Z"`),
		"course-of-action":          obj("course-of-action", "course-of-action--"+u1, `"name":"Block"`),
		"grouping":                  obj("grouping", "grouping--"+u1, `"context":"suspicious-activity","object_refs":["indicator--`+u2+`"]`),
		"identity":                  obj("identity", "identity--"+u1, `"name":"ACME","identity_class":"organization"`),
		"incident":                  obj("incident", "incident--"+u1, `"name":"I"`),
		"infrastructure":            obj("infrastructure", "infrastructure--"+u1, `"name":"C2"`),
		"intrusion-set":             obj("intrusion-set", "intrusion-set--"+u1, `"name":"APT"`),
		"location region":           obj("location", "location--"+u1, `"region":"northern-africa"`),
		"location latlong":          obj("location", "location--"+u1, `"latitude":48.8566,"longitude":2.3522,"precision":1000`),
		"malware":                   obj("malware", "malware--"+u1, `"name":"Poison Ivy","is_family":true,"sample_refs":["file--`+u5+`"]`),
		"malware-analysis":          obj("malware-analysis", "malware-analysis--"+u1, `"product":"av","result":"malicious"`),
		"note":                      obj("note", "note--"+u1, `"content":"n","object_refs":["campaign--`+u2+`"]`),
		"observed-data":             obj("observed-data", "observed-data--"+u1, `"first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--`+u5+`"]`),
		"observed-data 2.0 objects": obj("observed-data", "observed-data--"+u1, `"first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"objects":{"0":{"type":"email-addr","value":"a@b.c","belongs_to_ref":"1"}}`),
		"opinion":                   obj("opinion", "opinion--"+u1, `"opinion":"agree","object_refs":["report--`+u2+`"]`),
		"report":                    obj("report", "report--"+u1, `"name":"R","published":"2020-01-01T00:00:00Z","object_refs":["indicator--`+u2+`"]`),
		"threat-actor":              obj("threat-actor", "threat-actor--"+u1, `"name":"T"`),
		"tool":                      obj("tool", "tool--"+u1, `"name":"nmap"`),
		"vulnerability":             obj("vulnerability", "vulnerability--"+u1, `"name":"CVE-2020-0001","external_references":[{"source_name":"cve","external_id":"CVE-2020-0001"}]`),
		"relationship":              obj("relationship", "relationship--"+u1, `"relationship_type":"indicates","source_ref":"indicator--`+u2+`","target_ref":"malware--`+u2+`"`),
		"sighting":                  obj("sighting", "sighting--"+u1, `"sighting_of_ref":"indicator--`+u2+`","where_sighted_refs":["identity--`+u2+`"],"count":3`),
		"artifact":                  sco("artifact", "artifact--"+u5, `"payload_bin":"aGVsbG8="`),
		"autonomous-system":         sco("autonomous-system", "autonomous-system--"+u5, `"number":15139`),
		"directory":                 sco("directory", "directory--"+u5, `"path":"/tmp"`),
		"domain-name":               sco("domain-name", "domain-name--"+u5, `"value":"example.com","spec_version":"2.1"`),
		"email-addr":                sco("email-addr", "email-addr--"+u5, `"value":"a@example.com"`),
		"email-message":             sco("email-message", "email-message--"+u5, `"is_multipart":true,"body_multipart":[{"body_raw_ref":"artifact--`+u5+`"}]`),
		"file":                      sco("file", "file--"+u5, `"name":"a.exe","hashes":{"SHA-256":"ab"},"extensions":{"windows-pebinary-ext":{"pe_type":"exe"}}`),
		"ipv4-addr":                 sco("ipv4-addr", "ipv4-addr--"+u5, `"value":"198.51.100.3"`),
		"ipv6-addr":                 sco("ipv6-addr", "ipv6-addr--"+u5, `"value":"2001:db8::1"`),
		"mac-addr":                  sco("mac-addr", "mac-addr--"+u5, `"value":"d2:fb:49:24:37:18"`),
		"mutex":                     sco("mutex", "mutex--"+u5, `"name":"m"`),
		"network-traffic":           sco("network-traffic", "network-traffic--"+u5, `"protocols":["tcp"],"src_ref":"ipv4-addr--`+u5+`"`),
		"process":                   sco("process", "process--"+u5, `"pid":1`),
		"software":                  sco("software", "software--"+u5, `"name":"word"`),
		"url":                       sco("url", "url--"+u5, `"value":"https://example.com/"`),
		"user-account":              sco("user-account", "user-account--"+u5, `"user_id":"1001"`),
		"windows-registry-key":      sco("windows-registry-key", "windows-registry-key--"+u5, `"key":"HKEY_LOCAL_MACHINE\\System"`),
		"x509-certificate":          sco("x509-certificate", "x509-certificate--"+u5, `"serial_number":"01"`),
		"marking tlp1":              `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}`,
		"marking statement":         `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright ACME"}}`,
		"marking tlp2":              string(TLPMarkingDefinition(detente.TLPAmberStrict)),
		"marking caveat":            string(NewCaveatMarking(detente.CaveatReleasableTo, []string{"fr", "de"}, "", time.Now())),
		"language-content":          obj("language-content", "language-content--"+u1, `"object_ref":"campaign--`+u2+`","contents":{"de":{"name":"Bank Angriff"}}`),
		"extension-definition":      string(ExtensionDefinition()),
		"custom new-sdo":            obj("x-acme-widget", "x-acme-widget--"+u1, `"anything":1,"extensions":{"`+xd+`":{"extension_type":"new-sdo"}}`),
		"custom new-sco":            sco("x-acme-thing", "x-acme-thing--"+u5, `"value":"v","extensions":{"`+xd+`":{"extension_type":"new-sco"}}`),
		"toplevel property":         obj("tool", "tool--"+u1, `"name":"t","acme_score":5,"extensions":{"`+xd+`":{"extension_type":"toplevel-property-extension"}}`),
		"x_ property":               obj("tool", "tool--"+u1, `"name":"t","x_acme_score":5`),
		"bundle":                    `{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + sampleIndicator + `,` + obj("tool", "tool--"+u1, `"name":"t"`) + `]}`,
		"empty bundle":              `{"type":"bundle","id":"bundle--` + u1 + `","objects":[]}`,
		"identical repeat":          `{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + sampleIndicator + `,` + sampleIndicator + `]}`,
		"uppercase uuid":            obj("tool", "tool--6BA7B810-9DAD-41D1-80B4-00C04FD430C8", `"name":"t"`),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := ParseBundle([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if o.SpecVersion != "2.1" || o.ID == "" || !strings.HasPrefix(o.ID, o.Type+"--") {
					t.Errorf("bad object header %+v", o)
				}
				again, err := ParseObject(o.Raw)
				if err != nil {
					t.Fatalf("canonical form does not parse: %v", err)
				}
				if string(again.Raw) != string(o.Raw) {
					t.Errorf("canonical form is not a fixpoint")
				}
			}
		})
	}
}

func TestParseBundleInvalid(t *testing.T) {
	ind := "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	set := func(k string, v any) string { return mod(sampleIndicator, func(m map[string]any) { m[k] = v }) }
	del := func(k string) string { return mod(sampleIndicator, func(m map[string]any) { delete(m, k) }) }
	deep := `{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth) + `]}`
	changed := set("description", "changed")
	tests := []struct {
		name, in        string
		id, prop, inMsg string
	}{
		{"malformed JSON", `{"type": "indicator",}`, "", "", "malformed JSON at byte 21"},
		{"duplicate key", `{"type":"tool","type":"tool"}`, "", "", `duplicate object key "type"`},
		{"not an object", `[1]`, "", "", "must be a JSON object"},
		{"oversized nesting", deep, "", "", "nesting deeper than 64"},
		{"unknown type", obj("widget", "widget--"+u1, `"name":"w"`), "widget--" + u1, "type", `unknown type "widget"`},
		{"new-sdo extension not a definition id", obj("widget", "widget--"+u1, `"extensions":{"widget-ext":{"extension_type":"new-sdo"}}`), "widget--" + u1, "type", "unknown type"},
		{"wrong id prefix", set("id", "malware--"+u1), "malware--" + u1, "id", `prefix "malware" does not match type "indicator"`},
		{"bad uuid", set("id", "indicator--1234"), "indicator--1234", "id", "is not a STIX identifier"},
		{"bad uuid version", set("id", "indicator--6ba7b810-9dad-01d1-80b4-00c04fd430c8"), "indicator--6ba7b810-9dad-01d1-80b4-00c04fd430c8", "id", "is not a STIX identifier"},
		{"bad uuid variant", set("id", "indicator--6ba7b810-9dad-41d1-c0b4-00c04fd430c8"), "indicator--6ba7b810-9dad-41d1-c0b4-00c04fd430c8", "id", "is not a STIX identifier"},
		{"missing pattern", del("pattern"), ind, "pattern", "required property missing"},
		{"missing spec_version", del("spec_version"), ind, "spec_version", "required property missing"},
		{"spec_version 2.0", set("spec_version", "2.0"), ind, "spec_version", `must be "2.1"`},
		{"missing created", del("created"), ind, "created", "required property missing"},
		{"bad timestamp", set("created", "2016-04-06 20:03:48Z"), ind, "created", "is not an RFC 3339 timestamp"},
		{"timestamp with offset", set("valid_from", "2016-04-06T20:03:48+01:00"), ind, "valid_from", "is not an RFC 3339 timestamp"},
		{"impossible date", set("valid_from", "2016-02-30T00:00:00Z"), ind, "valid_from", "is not an RFC 3339 timestamp"},
		{"modified before created", set("modified", "2016-04-06T20:03:47.999Z"), ind, "modified", "is before created"},
		{"valid_until before valid_from", set("valid_until", "2015-01-01T00:00:00Z"), ind, "valid_until", "is not after valid_from"},
		{"bad ref", set("created_by_ref", "identity--nope"), ind, "created_by_ref", "is not a STIX identifier"},
		{"created_by_ref not identity", set("created_by_ref", "tool--"+u1), ind, "created_by_ref", "must reference a identity"},
		{"bad refs element", obj("report", "report--"+u1, `"name":"R","published":"2020-01-01T00:00:00Z","object_refs":["indicator--`+u2+`", 5]`), "report--" + u1, "object_refs.[1]", "must be an identifier string"},
		{"empty refs", obj("report", "report--"+u1, `"name":"R","published":"2020-01-01T00:00:00Z","object_refs":[]`), "report--" + u1, "object_refs", "non-empty list"},
		{"nested bad ref", sco("email-message", "email-message--"+u5, `"is_multipart":true,"body_multipart":[{"body_raw_ref":"artifact"}]`), "email-message--" + u5, "body_multipart.[0].body_raw_ref", "is not a STIX identifier"},
		{"marking ref not a marking", set("object_marking_refs", []string{"identity--" + u1}), ind, "object_marking_refs.[0]", "is not a marking-definition id"},
		{"selector names nothing", set("granular_markings", []any{map[string]any{"marking_ref": detente.MarkingRed, "selectors": []string{"external_references.[5]"}}}), ind, "granular_markings.[0].selectors.[0]", "names nothing"},
		{"selector malformed", set("granular_markings", []any{map[string]any{"marking_ref": detente.MarkingRed, "selectors": []string{"kill_chain_phases.[01]"}}}), ind, "granular_markings.[0].selectors.[0]", "malformed list index"},
		{"granular without marking_ref", set("granular_markings", []any{map[string]any{"selectors": []string{"description"}}}), ind, "granular_markings.[0]", "must have marking_ref or lang"},
		{"unknown property", set("severity", "high"), ind, "severity", "unknown property for type indicator"},
		{"bad property name", set("Severity", "high"), ind, "Severity", "invalid property name"},
		{"labels not strings", set("labels", []any{1}), ind, "labels.[0]", "must be a string"},
		{"confidence out of range", set("confidence", 101), ind, "confidence", "between 0 and 100"},
		{"external reference without source_name", set("external_references", []any{map[string]any{"url": "https://x"}}), ind, "external_references.[0].source_name", "required property missing"},
		{"external reference with only source_name", set("external_references", []any{map[string]any{"source_name": "x"}}), ind, "external_references.[0]", "at least one of description, url or external_id"},
		{"kill chain phase incomplete", set("kill_chain_phases", []any{map[string]any{"kill_chain_name": "k", "phase_name": "p"}, map[string]any{"kill_chain_name": "k"}}), ind, "kill_chain_phases.[1].phase_name", "required"},
		{"extension without extension_type", set("extensions", map[string]any{xd: map[string]any{"a": 1}}), ind, "extensions." + xd + ".extension_type", "required property missing"},
		{"extension key invalid", set("extensions", map[string]any{"foo": map[string]any{"a": 1}}), ind, "extensions.foo", "neither an extension-definition id"},
		{"malware family without name", obj("malware", "malware--"+u1, `"is_family":true`), "malware--" + u1, "name", "is_family is true"},
		{"location without place", obj("location", "location--"+u1, `"name":"x"`), "location--" + u1, "", "needs region, country, or latitude and longitude"},
		{"latitude out of range", obj("location", "location--"+u1, `"latitude":91,"longitude":0`), "location--" + u1, "latitude", "between -90 and 90"},
		{"relationship to a relationship", obj("relationship", "relationship--"+u1, `"relationship_type":"r","source_ref":"relationship--`+u2+`","target_ref":"malware--`+u2+`"`), "relationship--" + u1, "source_ref", "must reference an SDO or SCO"},
		{"sighting of an SCO", obj("sighting", "sighting--"+u1, `"sighting_of_ref":"file--`+u5+`"`), "sighting--" + u1, "sighting_of_ref", "must reference an SDO"},
		{"sighting where not identity", obj("sighting", "sighting--"+u1, `"sighting_of_ref":"malware--`+u2+`","where_sighted_refs":["tool--`+u2+`"]`), "sighting--" + u1, "where_sighted_refs.[0]", "identity or location"},
		{"missing relationship_type", obj("relationship", "relationship--"+u1, `"source_ref":"tool--`+u2+`","target_ref":"malware--`+u2+`"`), "relationship--" + u1, "relationship_type", "required property missing"},
		{"opinion value", obj("opinion", "opinion--"+u1, `"opinion":"maybe","object_refs":["report--`+u2+`"]`), "opinion--" + u1, "opinion", "must be one of"},
		{"observed-data count", obj("observed-data", "observed-data--"+u1, `"first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":0,"object_refs":["ipv4-addr--`+u5+`"]`), "observed-data--" + u1, "number_observed", "between 1 and 999999999"},
		{"SCO with created", sco("ipv4-addr", "ipv4-addr--"+u5, `"value":"1.2.3.4","created":"2020-01-01T00:00:00Z"`), "ipv4-addr--" + u5, "created", "unknown property"},
		{"SCO missing value", sco("ipv4-addr", "ipv4-addr--"+u5, `"resolves_to_refs":["mac-addr--`+u5+`"]`), "ipv4-addr--" + u5, "value", "required property missing"},
		{"artifact with both", sco("artifact", "artifact--"+u5, `"payload_bin":"aA==","url":"https://x","hashes":{"MD5":"00"}`), "artifact--" + u5, "url", "not be present together"},
		{"process empty", sco("process", "process--"+u5, `"defanged":false`), "process--" + u5, "", "at least one property"},
		{"TLP marking with a forged id", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"white"}}`, "marking-definition--" + u1, "id", "fixed id"},
		{"TLP 2.0 with a forged id", strings.Replace(string(TLPMarkingDefinition(detente.TLPRed)), detente.MarkingRed, "marking-definition--"+u1, 1), "marking-definition--" + u1, "id", "fixed id"},
		{"marking without definition", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z"}`, "marking-definition--" + u1, "definition_type", "required property missing"},
		{"marking marks itself", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"statement":"x"},"object_marking_refs":["marking-definition--` + u1 + `"]}`, "marking-definition--" + u1, "object_marking_refs.[0]", "must not mark itself"},
		{"caveat without recipients", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","extensions":{"` + detente.CaveatExtensionID + `":{"extension_type":"property-extension","caveat":"releasable-to"}}}`, "marking-definition--" + u1, "extensions." + detente.CaveatExtensionID + ".recipients", "required for a releasable-to caveat"},
		{"bad grading", set("extensions", map[string]any{ExtensionID: map[string]any{"extension_type": "property-extension", "grading": "G7"}}), ind, "extensions." + ExtensionID + ".grading", "is not an Admiralty grading"},
		{"signature without signer", set("extensions", map[string]any{ExtensionID: map[string]any{"extension_type": "property-extension", "signature": strings.Repeat("A", 86) + "=="}}), ind, "extensions." + ExtensionID + ".signer", "required property missing"},
		{"bundle bad id", `{"type":"bundle","id":"bundle--x","objects":[]}`, "bundle--x", "id", "not a bundle identifier"},
		{"bundle in bundle", `{"type":"bundle","id":"bundle--` + u1 + `","objects":[{"type":"bundle","id":"bundle--` + u2 + `"}]}`, "bundle--" + u1 + " objects.[0]", "type", "cannot be nested"},
		{"object without id in bundle", `{"type":"bundle","id":"bundle--` + u1 + `","objects":[{"type":"tool"}]}`, "bundle--" + u1 + " objects.[0]", "id", "required property missing"},
		{"duplicate versions", `{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + sampleIndicator + `,` + changed + `]}`, ind, "modified", "same version timestamp"},
		{"atomic: one bad object", `{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + obj("tool", "tool--"+u1, `"name":"t"`) + `,` + del("pattern") + `]}`, ind, "pattern", "required property missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := ParseBundle([]byte(tt.in))
			if err == nil {
				t.Fatalf("accepted: %s", tt.in)
			}
			if objs != nil {
				t.Errorf("returned %d objects with the error", len(objs))
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T %v, want *ValidationError", err, err)
			}
			if ve.ObjectID != tt.id || ve.Property != tt.prop || !strings.Contains(ve.Message, tt.inMsg) {
				t.Errorf("got id=%q prop=%q msg=%q\nwant id=%q prop=%q msg containing %q", ve.ObjectID, ve.Property, ve.Message, tt.id, tt.prop, tt.inMsg)
			}
			if got := detente.ErrorCode(err); got != detente.EINVALID {
				t.Errorf("code %q, want %q", got, detente.EINVALID)
			}
			if tt.id != "" && !strings.HasPrefix(err.Error(), tt.id+": ") {
				t.Errorf("error text %q does not start with the object id", err)
			}
		})
	}
}

func TestSyntaxErrorUnwraps(t *testing.T) {
	_, err := ParseBundle([]byte(`{"a":1,}`))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 7 {
		t.Fatalf("got %v, want a *SyntaxError at byte 7", err)
	}
	if detente.ErrorMessage(err) != "malformed JSON at byte 7: unexpected character '}', want an object key" {
		t.Errorf("message %q", detente.ErrorMessage(err))
	}
}

func TestObjectAccessors(t *testing.T) {
	in := mod(sampleIndicator, func(m map[string]any) {
		m["extensions"] = map[string]any{
			xd: map[string]any{"extension_type": "property-extension", "sample_ref": "file--" + u5, "deep": map[string]any{"list": []any{map[string]any{"host_refs": []any{"ipv4-addr--" + u5, "domain-name--" + u5}}}}},
		}
	})
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []detente.Ref{
		{Path: "created_by_ref", ID: "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"},
		{Path: "extensions." + xd + ".deep.list.[0].host_refs", ID: "ipv4-addr--" + u5},
		{Path: "extensions." + xd + ".deep.list.[0].host_refs", ID: "domain-name--" + u5},
		{Path: "extensions." + xd + ".sample_ref", ID: "file--" + u5},
	}
	if got := o.Refs(); !reflect.DeepEqual(got, wantRefs) {
		t.Errorf("Refs:\n got %v\nwant %v", got, wantRefs)
	}
	if got := o.Markings(); !reflect.DeepEqual(got, []string{detente.MarkingGreen}) {
		t.Errorf("Markings: %v", got)
	}
	wantG := []detente.GranularMarking{
		{Marking: detente.MarkingRed, Selectors: []string{"description", "external_references.[1].url"}},
		{Marking: detente.MarkingAmber, Selectors: []string{"kill_chain_phases.[1]"}},
	}
	if got := o.Granular(); !reflect.DeepEqual(got, wantG) {
		t.Errorf("Granular: %v", got)
	}
	created := time.Date(2016, 4, 6, 20, 3, 48, 0, time.UTC)
	if !o.Version().Equal(created) || !o.Created.Equal(created) {
		t.Errorf("Version %v Created %v", o.Version(), o.Created)
	}
	v := o.ToVersion()
	if v.ID != o.ID || v.Type != "indicator" || v.SpecVersion != "2.1" || !v.Modified.Equal(created) ||
		len(v.Refs) != 4 || len(v.Markings) != 1 || len(v.Granular) != 2 || string(v.Raw) != string(o.Raw) || v.Signer != nil {
		t.Errorf("ToVersion: %+v", v)
	}

	// Sighting and report references.
	s, err := ParseObject([]byte(obj("sighting", "sighting--"+u1, `"sighting_of_ref":"indicator--`+u2+`","where_sighted_refs":["identity--`+u2+`"],"observed_data_refs":["observed-data--`+u2+`"]`)))
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{}
	for _, r := range s.Refs() {
		paths = append(paths, r.Path)
	}
	if want := []string{"observed_data_refs", "sighting_of_ref", "where_sighted_refs"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("sighting ref paths %v, want %v", paths, want)
	}

	// An SCO has no version timestamp.
	ip, err := ParseObject([]byte(sco("ipv4-addr", "ipv4-addr--"+u5, `"value":"1.2.3.4"`)))
	if err != nil {
		t.Fatal(err)
	}
	if !ip.Version().IsZero() || ip.SpecVersion != "2.1" {
		t.Errorf("SCO version %v spec %q", ip.Version(), ip.SpecVersion)
	}
}

func TestFieldsUseJSONNumber(t *testing.T) {
	o, err := ParseObject([]byte(obj("location", "location--"+u1, `"latitude":48.85660,"longitude":2.3522e0`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Fields["latitude"]; got != json.Number("48.8566") {
		t.Errorf("latitude %#v", got)
	}
	if !strings.Contains(string(o.Raw), `"longitude":2.3522`) {
		t.Errorf("raw %s", o.Raw)
	}
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(sampleIndicator))
	f.Add([]byte(`{"type":"bundle","id":"bundle--` + u1 + `","objects":[` + obj("tool", "tool--"+u1, `"name":"t"`) + `]}`))
	f.Add([]byte(sco("email-message", "email-message--"+u5, `"is_multipart":true,"body_multipart":[{"body_raw_ref":"artifact--`+u5+`"}]`)))
	f.Add(TLPMarkingDefinition(detente.TLPRed))
	f.Add([]byte(`{"type":"x"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		objs, err := ParseBundle(in)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || detente.ErrorCode(err) != detente.EINVALID {
				t.Fatalf("error %v is not a ValidationError with code invalid", err)
			}
			return
		}
		for _, o := range objs {
			again, err := ParseObject(o.Raw)
			if err != nil {
				t.Fatalf("canonical form of an accepted object is rejected: %v", err)
			}
			if string(again.Raw) != string(o.Raw) {
				t.Fatalf("canonical form is not a fixpoint")
			}
			_ = o.Refs()
			_ = o.ToVersion()
			if o.Type == "marking-definition" {
				_, _ = ParseMarking(o)
			}
		}
	})
}

// bundleOf returns a bundle of n distinct, realistic objects.
func bundleOf(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--` + u1 + `","objects":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := fmt.Sprintf("indicator--%08x-17d4-4cbf-938f-98ee46b3cd3f", i)
		b.WriteString(mod(sampleIndicator, func(m map[string]any) { m["id"] = id }))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func BenchmarkParseBundle(b *testing.B) {
	const n = 1000
	in := bundleOf(n)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		objs, err := ParseBundle(in)
		if err != nil || len(objs) != n {
			b.Fatal(err, len(objs))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
}
