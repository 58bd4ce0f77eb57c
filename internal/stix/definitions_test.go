package stix

import (
	"testing"

	"detente"
)

// TestDefinitions: the predefined objects are valid, canonical and
// unsigned, the TLP 2.0 ones exactly OASIS's, and every reference among
// them resolves among them.
func TestDefinitions(t *testing.T) {
	defs := Definitions()
	if len(defs) != 13 {
		t.Fatalf("%d definitions", len(defs))
	}
	ids := map[string]bool{}
	var objs []*Object
	for _, d := range defs {
		o, err := ParseObject(d)
		if err != nil {
			t.Fatal(err)
		}
		if string(o.Raw) != string(d) {
			t.Errorf("%s is not canonical", o.ID)
		}
		if _, signed, _ := o.Verify(); signed {
			t.Errorf("%s is signed", o.ID)
		}
		if !IsPredefined(o.ID) {
			t.Errorf("IsPredefined(%s) = false", o.ID)
		}
		ids[o.ID] = true
		objs = append(objs, o)
	}
	for _, o := range objs {
		for _, r := range o.ToVersion().RefIDs() {
			if !ids[r] {
				t.Errorf("%s references %s, not among the definitions", o.ID, r)
			}
		}
	}
	for _, tlp := range []detente.TLP{detente.TLPClear, detente.TLPGreen, detente.TLPAmber, detente.TLPAmberStrict, detente.TLPRed} {
		if !ids[detente.MarkingOfTLP(tlp)] {
			t.Errorf("TLP 2.0 %s missing", tlp)
		}
	}
	for _, id := range []string{ExtensionID, detente.CaveatExtensionID, DesignationExtensionID, CreatorIdentityID, detente.MarkingTLP1Amber} {
		if !ids[id] {
			t.Errorf("%s missing", id)
		}
	}
	if IsPredefined("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") {
		t.Error("an indicator is predefined")
	}
}
