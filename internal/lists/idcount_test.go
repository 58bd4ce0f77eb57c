package lists

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// hasIdentifier reports whether d carries id.
func hasIdentifier(d *detente.Designation, id detente.DesignationIdentifier) bool {
	return d != nil && slices.Contains(d.Identifiers, id)
}

func TestOFACIdentifiers(t *testing.T) {
	d := detente.Designation{Type: detente.EntityPerson, Remarks: "DOB 1960; Passport 265 216 (Egypt); alt. Passport 92/664 (Egypt) expires 01 Jan 2001; " +
		"National ID No. D489833(9) (Hong Kong); Cedula No. 16247821 (Colombia); National ID No. 3603251708570001; " +
		"Digital Currency Address - XBT 149w62rY42aZBox8fGcmqNsXUzSStKeq8C; alt. Digital Currency Address - ETH 0x7F367cC41522cE07553e823bf3be79A889DEbe1B; " +
		"SWIFT/BIC KDBKKPPY; IBAN DE89 3704 0044 0532 0130 00; Vessel Registration Identification IMO 9187629; Company Number IMO 5993381; " +
		"Identification Number IMO 5848165; Aircraft Tail Number EP-MMH; Tax ID No. 12345 (Iran); Passport RL0001234 (Iran)."}
	ofacIdentifiers(&d)
	want := []detente.DesignationIdentifier{
		{Type: "passport", Value: "265 216", Country: "EG"},
		{Type: "passport", Value: "92/664", Country: "EG"},
		{Type: "national-id", Value: "D489833(9)", Country: "HK"},
		{Type: "national-id", Value: "16247821", Country: "CO"},
		{Type: "national-id", Value: "3603251708570001"},
		{Type: "wallet", Value: "149w62rY42aZBox8fGcmqNsXUzSStKeq8C", Chain: "XBT"},
		{Type: "wallet", Value: "0x7F367cC41522cE07553e823bf3be79A889DEbe1B", Chain: "ETH"},
		{Type: "bic", Value: "KDBKKPPY"},
		{Type: "iban", Value: "DE89 3704 0044 0532 0130 00"},
		{Type: "imo", Value: "9187629"},
		{Type: "imo-company", Value: "5993381"},
		{Type: "imo-company", Value: "5848165"},
		{Type: "aircraft", Value: "EP-MMH"},
		{Type: "passport", Value: "RL0001234", Country: "IR"},
	}
	if !slices.Equal(d.Identifiers, want) {
		t.Errorf("identifiers:\n got %+v\nwant %+v", d.Identifiers, want)
	}
	// Odd spacing is no identifier, and no panic.
	odd := detente.Designation{Remarks: "Digital Currency Address - XBT \t.; Passport \t; SWIFT/BIC  ."}
	if ofacIdentifiers(&odd); len(odd.Identifiers) != 0 {
		t.Errorf("identifiers from blanks: %+v", odd.Identifiers)
	}
	a := detente.Designation{Type: detente.EntityAircraft, Names: []detente.DesignationName{{Name: "EP-GOM", Kind: detente.NameKindPrimary}}}
	ofacIdentifiers(&a)
	if !hasIdentifier(&a, detente.DesignationIdentifier{Type: "aircraft", Value: "EP-GOM"}) {
		t.Errorf("an aircraft's registration is not an identifier: %+v", a.Identifiers)
	}
	a = detente.Designation{Type: detente.EntityAircraft, Names: []detente.DesignationName{{Name: "MSN 391", Kind: detente.NameKindPrimary}}}
	if ofacIdentifiers(&a); len(a.Identifiers) != 0 {
		t.Errorf("a manufacturer's serial number taken for a registration: %+v", a.Identifiers)
	}
}

// TestUNDocuments checks that every UN document with a plain NUMBER (not a
// birth certificate, ration card, tax, social security or military number)
// is extracted, with its issuing state when the UN gives one.
func TestUNDocuments(t *testing.T) {
	dir := sharedLists(t)
	ds, err := LoadUN(open(t, filepath.Join(dir, "un/consolidated.xml")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range ds {
		for _, id := range d.Identifiers {
			got[d.EntityID+"|"+id.Value] = true
		}
	}
	// Count the documents in the raw file with a plain number.
	raw, err := readAll(filepath.Join(dir, "un/consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`(?s)<INDIVIDUAL>.*?</INDIVIDUAL>`)
	ref := regexp.MustCompile(`<REFERENCE_NUMBER>([^<]*)<`)
	doc := regexp.MustCompile(`(?s)<INDIVIDUAL_DOCUMENT>(.*?)</INDIVIDUAL_DOCUMENT>`)
	num := regexp.MustCompile(`<NUMBER>([^<]*)<`)
	plain, missing := 0, 0
	for _, e := range entry.FindAllString(raw, -1) {
		r := strings.TrimSpace(ref.FindStringSubmatch(e)[1])
		for _, m := range doc.FindAllStringSubmatch(e, -1) {
			n := num.FindStringSubmatch(m[1])
			if n == nil || unNotDocuments.MatchString(m[1]) || !hasDigit(n[1]) {
				continue
			}
			plain++
			if !got[r+"|"+strings.TrimSpace(n[1])] {
				missing++
				t.Errorf("%s: document %q not extracted", r, n[1])
			}
		}
	}
	if plain < 350 {
		t.Errorf("only %d plain UN documents counted; the fixture has about 400", plain)
	}
	t.Logf("%d plain UN document numbers, %d missing", plain, missing)
	if d := find(ds, "QDi.001"); d == nil {
		t.Log("QDi.001 absent")
	}
	var imo int
	for _, d := range ds {
		for _, id := range d.Identifiers {
			if id.Type == detente.IdentifierIMOCompany {
				imo++
			}
		}
	}
	if imo == 0 {
		t.Error("no company IMO number taken from the UN comments")
	}
}

func TestEUAndGenericIdentifiers(t *testing.T) {
	dir := sharedLists(t)
	ds, err := LoadEU(open(t, filepath.Join(dir, "eu/32001R2580.csv")))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		n += len(d.Identifiers)
	}
	// The fixture's passportNumber and idNumber columns hold nine items.
	if n != 9 {
		t.Errorf("%d EU identifiers, want 9", n)
	}
	if !hasIdentifier(find(ds, "II.A/1"), detente.DesignationIdentifier{Type: "passport", Value: "D9004878"}) {
		t.Errorf("EU II.A/1: %+v", find(ds, "II.A/1"))
	}
	csv := "entity_id,name,type,wallets,passports,imo\n" +
		"B1,Tide Shipping,organization,ETH:0x7F367cC41522cE07553e823bf3be79A889DEbe1B; XBT:149w62rY42aZBox8fGcmqNsXUzSStKeq8C,,5993381\n" +
		"B2,Ivan Petrov,person,,RU:7512345678; 123,\n"
	gs, err := LoadCSV("bravo", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(gs[0].Identifiers) != 3 || gs[0].Identifiers[1].Chain != "XBT" ||
		!hasIdentifier(&gs[1], detente.DesignationIdentifier{Type: "passport", Value: "7512345678", Country: "RU"}) ||
		!hasIdentifier(&gs[1], detente.DesignationIdentifier{Type: "passport", Value: "123"}) {
		t.Errorf("generic identifiers: %+v / %+v", gs[0].Identifiers, gs[1].Identifiers)
	}
	for _, bad := range []string{"entity_id,name,wallets\nB1,X,0x7F367cC41522cE07553e823bf3be79A889DEbe1B\n", "entity_id,name,passports\nB1,X,Atlantis:123\n"} {
		if _, err := LoadCSV("bravo", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v, want an error on line 2", bad, err)
		}
	}
	// STIX carries identifiers both ways.
	b, err := ToSTIX(gs[0], "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	back, ok, err := FromSTIX("identity--x", fields, "bravo")
	if err != nil || !ok || !slices.Equal(back.Identifiers, gs[0].Identifiers) {
		t.Errorf("STIX round trip: %+v, %v, %v", back, ok, err)
	}
}

func readAll(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
