package stix

import (
	"slices"
	"sort"
	"testing"

	"detente"
)

// TestTypesAgreeWithRoot: the root package's list of STIX 2.1 types, which
// agreements are checked against, is the list this package validates.
func TestTypesAgreeWithRoot(t *testing.T) {
	var here []string
	for typ := range types {
		here = append(here, typ)
	}
	sort.Strings(here)
	if root := detente.STIXTypes(); !slices.Equal(here, root) {
		t.Errorf("detente.STIXTypes() = %v\nwant the types internal/stix knows: %v", root, here)
	}
	for typ := range scoTypes {
		if types[typ] == nil || types[typ].cat != catSCO {
			t.Errorf("scoTypes has %s, types does not have it as an SCO", typ)
		}
	}
}
