package screen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"detente"
)

func TestCompareListsSmall(t *testing.T) {
	ds := []detente.Designation{
		{Authority: "un", EntityID: "QDi.001", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Usama bin Ladin", Kind: detente.NameKindPrimary}}, DatesOfBirth: []string{"1957"}},
		{Authority: "ofac", EntityID: "6365", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "BIN LADEN, Osama", Kind: detente.NameKindPrimary}}, DatesOfBirth: []string{"1957-03-10"}},
		{Authority: "eu", EntityID: "1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Oussama Ben Laden", Kind: detente.NameKindPrimary}}},
		{Authority: "ofac", EntityID: "100", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "HIZBALLAH", Kind: detente.NameKindPrimary}}},
		{Authority: "eu", EntityID: "II.B/11", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Hizballah Military Wing", Kind: detente.NameKindPrimary}}},
		{Authority: "un", EntityID: "QDe.004", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Al-Qaida", Kind: detente.NameKindPrimary}}},
		{Authority: "ofac", EntityID: "6366", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "AL QA'IDA", Kind: detente.NameKindPrimary}}},
		// Same spelling, different people: DOB disagrees.
		{Authority: "un", EntityID: "X.1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Ahmad Hassan Ali", Kind: detente.NameKindPrimary}}, DatesOfBirth: []string{"1950"}},
		{Authority: "eu", EntityID: "X.2", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Ahmad Hassan Ali", Kind: detente.NameKindPrimary}}, DatesOfBirth: []string{"1988"}},
	}
	rep := CompareLists(ds, CompareOptions{})
	if !slices.Equal(rep.Authorities, []string{"eu", "ofac", "un"}) {
		t.Errorf("authorities = %v", rep.Authorities)
	}
	if rep.ListedByAll != 1 {
		t.Errorf("listed by all = %d, want 1 (bin Laden): %+v", rep.ListedByAll, rep.Entities)
	}
	if len(rep.Entities[0].Members) != 3 {
		t.Errorf("first entity = %+v, want bin Laden on three lists", rep.Entities[0])
	}
	if rep.ListedBySome != 1 {
		t.Errorf("listed by some = %d, want 1 (al-Qaida)", rep.ListedBySome)
	}
	if rep.ListedByOne != 4 {
		t.Errorf("listed by one = %d, want 4", rep.ListedByOne)
	}
	if len(rep.Scope) != 1 || rep.Scope[0].Whole.EntityID != "100" || rep.Scope[0].Part.EntityID != "II.B/11" {
		t.Errorf("scope = %+v, want Hizballah vs its military wing", rep.Scope)
	}
	want := map[string]PairSummary{
		"eu/ofac": {A: "eu", B: "ofac", Both: 1, OnlyA: 2, OnlyB: 2},
		"ofac/un": {A: "ofac", B: "un", Both: 2, OnlyA: 1, OnlyB: 1},
	}
	for _, p := range rep.Pairs {
		if w, ok := want[p.A+"/"+p.B]; ok && p != w {
			t.Errorf("pair %s/%s = %+v, want %+v", p.A, p.B, p, w)
		}
	}
}

// TestScopeEvidence checks the evidence a scope difference needs, with
// cases of each kind of wrong claim.
func TestScopeEvidence(t *testing.T) {
	org := func(auth, id string, names ...string) detente.Designation {
		d := detente.Designation{Authority: auth, EntityID: id, Type: detente.EntityOrganization}
		for i, n := range names {
			kind := detente.NameKindPrimary
			if i > 0 {
				kind = detente.NameKindAlias
			}
			d.Names = append(d.Names, detente.DesignationName{Name: n, Kind: kind})
		}
		return d
	}
	ds := []detente.Designation{
		org("a", "1", "Crimson Dawn"),
		org("b", "1", "Crimson Dawn Armed Wing"),
		// Brigade and command name units of their own.
		org("a", "2", "Valkor Liberation Front"),
		org("b", "2", "Valkor Liberation Front General Command"),
		org("a", "3", "Tessaly Martyrs"),
		org("b", "3", "Tessaly Martyrs Brigade"),
		// Institutions share only generic words.
		org("a", "4", "Ministry of National Defence"),
		org("b", "4", "Ministry of Defence Political Section"),
		// b lists the whole as well as the part.
		org("a", "5", "Orvane Movement"),
		org("b", "5", "Orvane Movement Youth Wing"),
		org("b", "6", "Orvane Movement"),
	}
	rep := CompareLists(ds, CompareOptions{})
	if len(rep.Scope) != 1 || rep.Scope[0].Whole.Name != "Crimson Dawn" || rep.Scope[0].Part.Name != "Crimson Dawn Armed Wing" ||
		!slices.Equal(rep.Scope[0].Shared, []string{"crimson", "dawn"}) {
		for _, s := range rep.Scope {
			t.Logf("%s", s.Sentence())
		}
		t.Fatalf("%d scope differences, want Crimson Dawn's armed wing only", len(rep.Scope))
	}
	want := `A lists "Crimson Dawn" (1) as a whole; B lists only a part of it, "Crimson Dawn Armed Wing" (1): its name is the other's plus "armed wing", ` +
		`both hold the distinctive words "crimson", "dawn", "Crimson Dawn" names no other entry on any list, and B does not list the whole itself.`
	if got := rep.Scope[0].Sentence(); got != want {
		t.Errorf("sentence:\n got %s\nwant %s", got, want)
	}
}

// TestAmbiguousAlias checks that an alias two entities of one authority
// share does not join a third authority's entry to the wrong one.
func TestAmbiguousAlias(t *testing.T) {
	org := func(auth, id string, names ...string) detente.Designation {
		d := detente.Designation{Authority: auth, EntityID: id, Type: detente.EntityOrganization}
		for i, n := range names {
			kind := detente.NameKindPrimary
			if i > 0 {
				kind = detente.NameKindAlias
			}
			d.Names = append(d.Names, detente.DesignationName{Name: n, Kind: kind})
		}
		return d
	}
	// a's two entries share the alias Qarath Jihad; b's entry carries it
	// too, and a misspelling of a's second entry's name. Before, the
	// shared alias joined b's entry to a's first entry, by their order in
	// the input.
	ds := []detente.Designation{
		org("a", "1", "Sword of Qarath", "Qarath Jihad"),
		org("a", "2", "Qarath Jihad Council", "Qarath Jihad"),
		org("b", "1", "Qarath Jihad", "Qarath Jihad Councill"),
	}
	rep := CompareLists(ds, CompareOptions{})
	for _, e := range rep.Entities {
		for _, m := range e.Members {
			if m.Authority == "b" && !slices.ContainsFunc(e.Members, func(o Member) bool { return o.Authority == "a" && o.EntityID == "2" }) {
				t.Errorf("b's entry not joined to a's Qarath Jihad Council: %+v", e)
			}
		}
	}
}

func TestCompareListsFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("resolves three full lists; skipped in -short mode")
	}
	_, ds := fixtureIx(t)
	rep := CompareLists(ds, CompareOptions{})
	t.Logf("un/ofac/eu: all %d, some %d, one %d, only by %v, scope %d", rep.ListedByAll, rep.ListedBySome, rep.ListedByOne, rep.OnlyBy, len(rep.Scope))
	for _, p := range rep.Pairs {
		t.Logf("%s/%s: both %d, only %s %d, only %s %d", p.A, p.B, p.Both, p.A, p.OnlyA, p.B, p.OnlyB)
	}
	for _, s := range rep.Scope {
		t.Logf("scope: %s %s %q vs %s %s %q (%v)", s.Whole.Authority, s.Whole.EntityID, s.Whole.Name, s.Part.Authority, s.Part.EntityID, s.Part.Name, s.Words)
	}
	if rep.ListedByAll == 0 {
		t.Error("no entity listed by all three authorities")
	}
	// Issue 16: different organisations were claimed to differ in scope
	// (Ansar al-Sharia in Derna as the whole of Ansar al-Sharia in
	// Benghazi, two ministries, the PFLP and the PFLP-General Command).
	for _, s := range rep.Scope {
		for _, wrong := range []string{"ANSAR AL", "MINISTRY", "POPULAR FRONT", "Popular Front"} {
			if strings.Contains(s.Whole.Name, wrong) || strings.Contains(s.Part.Name, wrong) {
				t.Errorf("a wrong scope claim: %s", s.Sentence())
			}
		}
	}
	if !slices.ContainsFunc(rep.Scope, func(s ScopeDifference) bool {
		return s.Whole.Name == "HIZBALLAH" && s.Part.Name == "Hizballah Military Wing" && slices.Equal(s.Words, []string{"military", "wing"})
	}) {
		t.Errorf("the EU's listing of Hizballah's military wing only is not reported: %+v", rep.Scope)
	}
	found := false
	for _, e := range rep.Entities {
		for _, m := range e.Members {
			if m.Authority == "eu" && m.Name == "MOHAMMED Khalid Sheikh" {
				found = len(e.ListedBy) >= 2
				if !found {
					t.Errorf("Khalid Sheikh Mohammed not resolved across lists: %+v", e)
				}
			}
		}
	}
	if !found {
		t.Error("EU entry MOHAMMED Khalid Sheikh not in report")
	}
}

// syntheticLists builds two lists of n entities each: half of B are people
// of A with their names altered, the rest distinct.
func syntheticLists(n int) []detente.Designation {
	rng := rand.New(rand.NewPCG(20, 20000))
	var ds []detente.Designation
	person := func(auth string, i int, name, dob string) detente.Designation {
		return detente.Designation{Authority: auth, EntityID: fmt.Sprint(i), Type: detente.EntityPerson,
			Names: []detente.DesignationName{{Name: name, Kind: detente.NameKindPrimary}}, DatesOfBirth: []string{dob}}
	}
	name := func() string {
		s := givenNames[rng.IntN(len(givenNames))] + " " + familyNames[rng.IntN(len(familyNames))] + " " + familyNames[rng.IntN(len(familyNames))]
		return s
	}
	dob := func() string { return fmt.Sprintf("%d-%02d-%02d", 1940+rng.IntN(60), 1+rng.IntN(12), 1+rng.IntN(28)) }
	for i := range n {
		ds = append(ds, person("a", i, name(), dob()))
	}
	for i := range n {
		if i%2 == 0 {
			a := ds[i]
			ds = append(ds, person("b", i, alterName(rng, a.PrimaryName()), a.DatesOfBirth[0]))
		} else {
			ds = append(ds, person("b", i, name(), dob()))
		}
	}
	return ds
}

func TestCompareListsSynthetic(t *testing.T) {
	ds := syntheticLists(2000)
	rep := CompareLists(ds, CompareOptions{})
	p := rep.Pairs[0]
	t.Logf("synthetic 2000 vs 2000: both %d, only a %d, only b %d", p.Both, p.OnlyA, p.OnlyB)
	if p.Both < 950 {
		t.Errorf("only %d of 1000 altered entries resolved", p.Both)
	}
}
