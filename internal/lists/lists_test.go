package lists

import (
	"bytes"
	"context"

	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// sharedLists returns the directory of the shared list fixtures, skipping
// the test when it is absent and failing it when CI=true.
func sharedLists(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DETENTE_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	p := filepath.Join(dir, "testdata", "lists")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data %s is missing (CI=true): %v", p, err)
		}
		t.Skipf("shared test data %s is absent; set DETENTE_SHARED to run this test", p)
	}
	return p
}

func open(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func find(ds []detente.Designation, id string) *detente.Designation {
	for i := range ds {
		if ds[i].EntityID == id {
			return &ds[i]
		}
	}
	return nil
}

func hasName(d *detente.Designation, name, kind string) bool {
	for _, n := range d.Names {
		if n.Name == name && n.Kind == kind {
			return true
		}
	}
	return false
}

func TestLoadUNFixture(t *testing.T) {
	dir := sharedLists(t)
	ds, err := LoadUN(open(t, filepath.Join(dir, "un", "consolidated.xml")))
	if err != nil {
		t.Fatal(err)
	}
	persons, orgs, orig := 0, 0, 0
	for _, d := range ds {
		switch d.Type {
		case detente.EntityPerson:
			persons++
		case detente.EntityOrganization:
			orgs++
		}
		for _, n := range d.Names {
			if n.Kind == detente.NameKindOriginalScript {
				orig++
			}
		}
	}
	if persons != 730 || orgs != 273 {
		t.Errorf("got %d individuals and %d entities, want 730 and 273", persons, orgs)
	}
	if orig != 378 {
		t.Errorf("got %d original-script names, want 378", orig)
	}
	tests := []struct {
		id, name, alias, aliasKind, dob, nat, regime, listed string
	}{
		{"IQi.001", "SADDAM HUSSEIN AL-TIKRITI", "Abu Ali", detente.NameKindWeakAlias, "1937-04-28", "IQ", "Iraq", "2003-06-27"},
		{"CDi.001", "ERIC BADEGE", "", "", "1971", "CD", "DRC", "2012-12-31"},
		{"CDe.001", "ADF", "Allied Democratic Forces", detente.NameKindAlias, "", "", "DRC", "2014-06-30"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			d := find(ds, tt.id)
			if d == nil {
				t.Fatalf("%s not loaded", tt.id)
			}
			if d.PrimaryName() != tt.name || d.Regime != tt.regime || d.ListedOn != tt.listed {
				t.Errorf("got %q %q %q", d.PrimaryName(), d.Regime, d.ListedOn)
			}
			if tt.alias != "" && !hasName(d, tt.alias, tt.aliasKind) {
				t.Errorf("alias %q (%s) missing: %+v", tt.alias, tt.aliasKind, d.Names)
			}
			if tt.dob != "" && !slices.Contains(d.DatesOfBirth, tt.dob) {
				t.Errorf("dob %s missing: %v", tt.dob, d.DatesOfBirth)
			}
			if tt.nat != "" && !slices.Contains(d.Nationalities, tt.nat) {
				t.Errorf("nationality %s missing: %v", tt.nat, d.Nationalities)
			}
		})
	}
	if d := find(ds, "IQi.001"); d == nil || !hasName(d, "صدام حسين التكريتي", detente.NameKindOriginalScript) {
		t.Error("IQi.001 lacks its original-script name")
	}
}

func loadOFACDir(t testing.TB, dir string) []detente.Designation {
	t.Helper()
	ds, err := LoadOFAC(open(t, filepath.Join(dir, "sdn.csv")), open(t, filepath.Join(dir, "add.csv")),
		open(t, filepath.Join(dir, "alt.csv")), open(t, filepath.Join(dir, "sdn_comments.csv")))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestLoadOFACFixture(t *testing.T) {
	ds := loadOFACDir(t, filepath.Join(sharedLists(t), "ofac"))
	if len(ds) != 7379 {
		t.Errorf("got %d SDN entries, want 7379", len(ds))
	}
	counts := map[detente.EntityType]int{}
	aliases := 0
	for _, d := range ds {
		counts[d.Type]++
		for _, n := range d.Names {
			if n.Kind == detente.NameKindAlias {
				aliases++
			}
		}
	}
	if counts[detente.EntityPerson] != 3845 || counts[detente.EntityVessel] != 323 || counts[detente.EntityAircraft] != 217 {
		t.Errorf("type counts %v", counts)
	}
	if aliases < 9000 {
		t.Errorf("only %d aliases loaded", aliases)
	}
	d := find(ds, "2676")
	if d == nil {
		t.Fatal("ent_num 2676 missing")
	}
	if d.PrimaryName() != "AL ZAWAHIRI, Dr. Ayman" || !slices.Contains(d.DatesOfBirth, "1951-06-19") || !slices.Equal(d.Programs, []string{"SDGT", "SDT"}) {
		t.Errorf("2676 = %+v", d)
	}
	if d := find(ds, "306"); d == nil || !hasName(d, "NATIONAL BANK OF CUBA", detente.NameKindAlias) || !hasName(d, "BNC", detente.NameKindWeakAlias) {
		t.Errorf("306 = %+v", d)
	}
	if d := find(ds, "12300"); d == nil || !strings.Contains(d.Remarks, "Linked To: RED MUNDIAL") {
		t.Error("sdn_comments not appended to remarks of 12300")
	}
}

func TestLoadEUFixture(t *testing.T) {
	ds, err := LoadEU(open(t, filepath.Join(sharedLists(t), "eu", "32001R2580.csv")))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 36 {
		t.Errorf("got %d entries, want 36", len(ds))
	}
	d := find(ds, "II.A/5")
	if d == nil || d.PrimaryName() != "ARBABSIAR Manssor" || !hasName(d, "Mansour Arbabsiar", detente.NameKindAlias) ||
		!slices.Equal(d.DatesOfBirth, []string{"1955-03-06", "1955-03-15"}) || !slices.Equal(d.Nationalities, []string{"IR", "US"}) {
		t.Errorf("II.A/5 = %+v", d)
	}
	d = find(ds, "II.B/11")
	if d == nil || d.Type != detente.EntityOrganization || !hasName(d, "Hezbollah Military Wing", detente.NameKindAlias) {
		t.Errorf("II.B/11 = %+v", d)
	}
}

func TestLoadSmall(t *testing.T) {
	un, err := LoadUN(open(t, "testdata/un_small.xml"))
	if err != nil || len(un) != 2 || !hasName(&un[0], "Saddam Husayn", detente.NameKindAlias) {
		t.Fatalf("un: %v %+v", err, un)
	}
	ofac, err := Load(AuthorityOFAC, open(t, "testdata/ofac_sdn.csv"), open(t, "testdata/ofac_add.csv"), open(t, "testdata/ofac_alt.csv"), open(t, "testdata/ofac_comments.csv"))
	if err != nil || len(ofac) != 3 {
		t.Fatalf("ofac: %v %+v", err, ofac)
	}
	if !slices.Equal(ofac[0].DatesOfBirth, []string{"1948-12-10"}) || !slices.Equal(ofac[0].Nationalities, []string{"IQ"}) {
		t.Errorf("ofac[0] = %+v", ofac[0])
	}
	if !slices.Equal(ofac[2].DatesOfBirth, []string{"1960", "1961", "1962"}) || ofac[2].Type != detente.EntityVessel {
		t.Errorf("ofac[2] = %+v", ofac[2])
	}
	edge, err := LoadUN(open(t, "testdata/un_edge.xml"))
	if err != nil || len(edge) != 2 || edge[0].ListedOn != "2015-03-27" || edge[1].ListedOn != "2017-08-05" ||
		!slices.Equal(edge[0].DatesOfBirth, []string{"1971", "1972", "1973"}) || len(edge[0].Names) != 2 {
		t.Errorf("un_edge.xml: %v %+v", err, edge)
	}
	ge, err := Load("partner", open(t, "testdata/generic_edge.csv"))
	if err != nil || len(ge) != 2 || ge[0].PrimaryName() != "Sidorov, Ivan" || !hasName(&ge[0], `"Vanya"`, detente.NameKindAlias) ||
		!slices.Equal(ge[0].DatesOfBirth, []string{"1961-02-03", "1962"}) || ge[0].Remarks != "two lines,\nand a comma" {
		t.Errorf("generic_edge.csv: %v %+v", err, ge)
	}
	g, err := Load("partner", open(t, "testdata/generic_small.csv"))
	if err != nil || len(g) != 2 {
		t.Fatalf("generic: %v %+v", err, g)
	}
	if g[0].Authority != "partner" || !hasName(&g[0], "Иван Сидоров", detente.NameKindAlias) || g[1].DelistedOn != "2025-06-30" {
		t.Errorf("generic = %+v", g)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, auth, data string
	}{
		{"un not xml", AuthorityUN, "not xml at all"},
		{"un wrong root", AuthorityUN, "<OTHER/>"},
		{"generic missing column", "p", "entity_id,type\n1,person\n"},
		{"generic bad type", "p", "entity_id,type,name\n1,robot,X\n"},
		{"generic duplicate", "p", "entity_id,name\n1,A\n1,B\n"},
		{"eu empty name", AuthorityEU, "recordId,schema,name\n1,Person,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(tt.auth, strings.NewReader(tt.data)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := map[string]string{
		"1960-08-11": "1960-08-11", "11.8.1960": "1960-08-11", "10 Dec 1948": "1948-12-10",
		"Dec 1948": "1948-12", "1948": "1948", "circa 1957": "1957", "11/08/1960": "1960-08-11", "soon": "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := ParseDate(in); got != want {
				t.Errorf("ParseDate(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	old, err := Load("p", strings.NewReader("entity_id,name,dob\n1,Alpha,1960\n2,Beta,1970\n3,Gamma,\n"))
	if err != nil {
		t.Fatal(err)
	}
	nw, err := Load("p", strings.NewReader("entity_id,name,dob,delisted_on\n1,Alpha,1961,\n3,Gamma,,2026-01-01\n4,Delta,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := Diff(old, nw)
	want := []struct{ change, id, field string }{
		{detente.DiffChanged, "1", "dates_of_birth"},
		{detente.DiffRemoved, "3", "delisted_on"},
		{detente.DiffAdded, "4", ""},
		{detente.DiffRemoved, "2", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diffs, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Change != w.change || g.EntityID != w.id || (w.field != "" && !slices.Contains(g.Fields, w.field)) {
			t.Errorf("diff %d = %+v, want %+v", i, g, w)
		}
	}
	if d := Diff(nw, nw); len(d) != 0 {
		t.Errorf("Diff of a list with itself = %+v", d)
	}
}

func TestFetch(t *testing.T) {
	files := map[string]string{
		"/un.xml": "testdata/un_small.xml", "/sdn.csv": "testdata/ofac_sdn.csv", "/add.csv": "testdata/ofac_add.csv",
		"/alt.csv": "testdata/ofac_alt.csv", "/comments.csv": "testdata/ofac_comments.csv", "/eu.csv": "testdata/eu_small.csv",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	}))
	defer srv.Close()
	src := []Source{
		{Authority: AuthorityUN, URLs: []string{srv.URL + "/un.xml"}},
		{Authority: AuthorityOFAC, URLs: []string{srv.URL + "/sdn.csv", srv.URL + "/add.csv", srv.URL + "/alt.csv", srv.URL + "/comments.csv"}},
		{Authority: AuthorityEU, URLs: []string{srv.URL + "/eu.csv"}},
	}
	ds, err := Fetch(context.Background(), srv.Client(), src...)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2+3+2 {
		t.Errorf("fetched %d designations, want 7", len(ds))
	}
	_, err = Fetch(context.Background(), srv.Client(), Source{Authority: AuthorityUN, URLs: []string{srv.URL + "/missing"}})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: err = %v", err)
	}
	if len(DefaultSources()) != 3 {
		t.Error("DefaultSources should list un, ofac and eu")
	}
}

func seed(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkLoaded is what every fuzz target asserts of a load: a refused load
// returns no designations; a successful one only designations with an
// entity id and a name, real dates (no date of birth in the future) and
// fields within the limits, that is, designations Check accepts.
func checkLoaded(t *testing.T, ds []detente.Designation, err error) {
	t.Helper()
	if err != nil {
		if ds != nil {
			t.Fatalf("refused (%v), yet returned %d designations", err, len(ds))
		}
		return
	}
	now := time.Now()
	for i := range ds {
		d := &ds[i]
		if d.EntityID == "" || d.PrimaryName() == "" {
			t.Fatalf("designation without an entity id or a name: %+v", d)
		}
		for _, dt := range append(append([]string(nil), d.DatesOfBirth...), d.ListedOn, d.DelistedOn) {
			if dt != "" && checkDate(dt) != nil {
				t.Fatalf("invalid date %q in %+v", dt, d)
			}
		}
		if err := Check(d, now); err != nil {
			t.Fatalf("loaded a designation Check refuses (%v): %+v", err, d)
		}
	}
}

func FuzzLoadUN(f *testing.F) {
	seed(f, "testdata/un_small.xml", "testdata/un_edge.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadUN(bytes.NewReader(b))
		checkLoaded(t, ds, err)
	})
}

func FuzzLoadOFAC(f *testing.F) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	sdn, add, alt, comments := read("testdata/ofac_sdn.csv"), read("testdata/ofac_add.csv"), read("testdata/ofac_alt.csv"), read("testdata/ofac_comments.csv")
	f.Add(sdn, add, alt, comments)
	f.Add(sdn, []byte{}, []byte{}, append(comments, "\n17018,\": 24 Feb 2022\"\n\x1a"...))
	f.Add(read("testdata/generic_small.csv"), add, alt, comments)
	f.Add([]byte("1,\"EP-GOM\",\"aircraft\",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-,\"Passport 265 216 (Egypt); Digital Currency Address - XBT 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa; SWIFT/BIC KDBKKPPY.\"\n"),
		[]byte{}, []byte{}, []byte("1,\"; alt. Digital Currency Address - ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"\n"))
	f.Fuzz(func(t *testing.T, sdn, add, alt, comments []byte) {
		ds, err := LoadOFAC(bytes.NewReader(sdn), bytes.NewReader(add), bytes.NewReader(alt), bytes.NewReader(comments))
		checkLoaded(t, ds, err)
	})
}

func FuzzLoadEU(f *testing.F) {
	seed(f, "testdata/eu_small.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadEU(bytes.NewReader(b))
		checkLoaded(t, ds, err)
	})
}

func FuzzLoadCSV(f *testing.F) {
	seed(f, "testdata/generic_small.csv", "testdata/generic_edge.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadCSV("p", bytes.NewReader(b))
		checkLoaded(t, ds, err)
		if err == nil {
			_ = Diff(ds, ds)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1960-08-11", "11.8.1960", "10 Dec 1948", "Dec 1948", "circa 1957", "1960 to 1962"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseDate(s)
		if d != "" && len(d) != 4 && len(d) != 7 && len(d) != 10 {
			t.Fatalf("ParseDate(%q) = %q", s, d)
		}
		_, _ = expandDates(s)
	})
}
