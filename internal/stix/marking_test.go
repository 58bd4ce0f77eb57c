package stix

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"detente"
)

var testTime = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func TestParseMarking(t *testing.T) {
	stmt := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright ACME"}}`
	tlp1 := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}`
	tests := []struct {
		name string
		in   string
		want *detente.Marking // ID is filled from the object
	}{
		{"TLP 1.0 red", tlp1, &detente.Marking{TLP: detente.TLPRed}},
		{"TLP 2.0 clear", string(TLPMarkingDefinition(detente.TLPClear)), &detente.Marking{TLP: detente.TLPClear}},
		{"TLP 2.0 amber+strict", string(TLPMarkingDefinition(detente.TLPAmberStrict)), &detente.Marking{TLP: detente.TLPAmberStrict}},
		{"statement", stmt, &detente.Marking{Statement: true}},
		{"third-party rule", string(NewCaveatMarking(detente.CaveatThirdPartyRule, nil, "", testTime)), &detente.Marking{Caveat: detente.CaveatThirdPartyRule}},
		{"releasable-to", string(NewCaveatMarking(detente.CaveatReleasableTo, []string{"uk", "fr", "uk"}, "", testTime)), &detente.Marking{Caveat: detente.CaveatReleasableTo, To: []string{"fr", "uk"}}},
		{"purpose", string(NewCaveatMarking(detente.CaveatPurpose, nil, "counter-terrorism", testTime)), &detente.Marking{Caveat: detente.CaveatPurpose, Purpose: "counter-terrorism"}},
		{"signed TLP 2.0", string(must(Sign(TLPMarkingDefinition(detente.TLPGreen), testKey, detente.Grading{}))), &detente.Marking{TLP: detente.TLPGreen}},
		{"releasable-to with the to alias", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","extensions":{"` + detente.CaveatExtensionID + `":{"extension_type":"property-extension","caveat":"releasable-to","to":["nl"]}}}`, &detente.Marking{Caveat: detente.CaveatReleasableTo, To: []string{"nl"}}},
		{"custom definition_type", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","definition_type":"acme","definition":{"level":"secret"}}`, nil},
		{"unknown extension", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2017-01-20T00:00:00.000Z","extensions":{"` + xd + `":{"extension_type":"property-extension","level":"secret"}}}`, nil},
		{"statement plus unknown extension", strings.Replace(stmt, `"definition_type"`, `"extensions":{"`+xd+`":{"extension_type":"property-extension","x":1}},"definition_type"`, 1), nil},
		{"caveat plus statement", strings.Replace(string(NewCaveatMarking(detente.CaveatThirdPartyRule, nil, "", testTime)), `"extensions"`, `"definition_type":"statement","definition":{"statement":"s"},"extensions"`, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseObject([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseMarking(o)
			if tt.want == nil {
				if got != nil || !errors.Is(err, ErrUnsupportedMarking) {
					t.Fatalf("got %+v, %v; want ErrUnsupportedMarking", got, err)
				}
				if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), o.ID) {
					t.Errorf("error %q code %q", err, detente.ErrorCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.ID = o.ID
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("not a marking", func(t *testing.T) {
		o, err := ParseObject([]byte(sampleIndicator))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMarking(o); err == nil || errors.Is(err, ErrUnsupportedMarking) {
			t.Errorf("got %v", err)
		}
	})
}

func TestNewCaveatMarking(t *testing.T) {
	a := NewCaveatMarking(detente.CaveatReleasableTo, []string{"fr"}, "", testTime)
	b := NewCaveatMarking(detente.CaveatReleasableTo, []string{"fr"}, "", testTime)
	oa, err := ParseObject(a)
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := ParseObject(b)
	if oa.ID == ob.ID {
		t.Error("two caveat markings share an id: ids must be random, not derived from the recipients")
	}
	if got := oa.Fields["created"]; got != "2026-03-01T12:00:00.123Z" {
		t.Errorf("created %v", got)
	}
	if string(oa.Raw) != string(a) {
		t.Error("not canonical")
	}
}

func TestTLPMarkingDefinition(t *testing.T) {
	// The OASIS objects, as published with the tlp-2.0 extension-definition.
	want := map[detente.TLP]string{
		detente.TLPClear:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}},"id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","name":"TLP:CLEAR","spec_version":"2.1","type":"marking-definition"}`,
		detente.TLPGreen:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}},"id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","name":"TLP:GREEN","spec_version":"2.1","type":"marking-definition"}`,
		detente.TLPAmber:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}},"id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","name":"TLP:AMBER","spec_version":"2.1","type":"marking-definition"}`,
		detente.TLPAmberStrict: `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}},"id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","name":"TLP:AMBER+STRICT","spec_version":"2.1","type":"marking-definition"}`,
		detente.TLPRed:         `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}},"id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","name":"TLP:RED","spec_version":"2.1","type":"marking-definition"}`,
	}
	for tlp, w := range want {
		t.Run(tlp.String(), func(t *testing.T) {
			if got := string(TLPMarkingDefinition(tlp)); got != w {
				t.Errorf("got  %s\nwant %s", got, w)
			}
		})
	}
	if TLPMarkingDefinition(0) != nil {
		t.Error("unknown level gave an object")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
