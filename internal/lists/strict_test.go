package lists

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"detente"
)

// testNow is the clock of the strictness tests, so that "in the future"
// and "more than 31 days ahead" do not drift.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// badCase is a malformed issue of a list: its files' contents, in the
// order Load takes them, and what the error must say.
type badCase struct {
	name  string
	files []string
	want  []string // substrings of the error: the file, the line or element, what is wrong
}

// expectRefused loads each case and checks that it is refused whole: an
// error naming the file and line, and no designations.
func expectRefused(t *testing.T, l Loader, authority string, names []string, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := make([]File, len(c.files))
			for i, s := range c.files {
				files[i] = File{Name: names[i], Body: strings.NewReader(s)}
			}
			ds, err := l.Load(authority, files...)
			if err == nil {
				t.Fatalf("loaded %d designations, want a refusal", len(ds))
			}
			if ds != nil {
				t.Errorf("refused, yet returned %d designations", len(ds))
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

const genericHeader = "entity_id,type,name,aliases,dob,nationality,regime,listed_on,delisted_on,remarks"

// generic returns a generic CSV file: the header, then rows.
func generic(rows ...string) string {
	return genericHeader + "\n" + strings.Join(rows, "\n") + "\n"
}

// gRow is a generic row with the given fields set, the others empty.
func gRow(f map[string]string) string {
	var out []string
	for _, c := range strings.Split(genericHeader, ",") {
		v := f[c]
		if strings.ContainsAny(v, ",\"\n") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out = append(out, v)
	}
	return strings.Join(out, ",")
}

func person(id, name string, more ...string) string {
	f := map[string]string{"entity_id": id, "type": "person", "name": name}
	for i := 0; i+1 < len(more); i += 2 {
		f[more[i]] = more[i+1]
	}
	return gRow(f)
}

func manyItems(n, size int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%0*d", size, i)
	}
	return strings.Join(items, "; ")
}

func TestStrictGeneric(t *testing.T) {
	ok := person("P-1", "Alpha")
	big := strings.Repeat("A", 5<<20)
	expectRefused(t, Loader{Now: testNow}, "partner", []string{"g.csv"}, []badCase{
		{"bare quote", []string{generic(ok, `P-2,person,Be"ta,,,,,,,`)}, []string{"g.csv line 3", `bare "`}},
		{"quote then text", []string{generic(`P-2,person,"Beta"x,,,,,,,`, ok)}, []string{"g.csv line 2", "column", `extraneous or missing " in quoted-field`}},
		{"quoted field cut by end of file", []string{genericHeader + "\n" + ok + "\nP-2,person,\"Be"}, []string{"g.csv line 3", "not closed before the end of the file", "cut short"}},
		{"multi-line quoted field cut by end of file", []string{genericHeader + "\n" + ok + "\nP-2,person,Beta,,,,,,,\"first line\nsecond line"},
			[]string{"g.csv line 4 (in the row that starts on line 3)", "cut short"}},
		{"too few fields", []string{generic(ok, "P-2,person,Beta")}, []string{"g.csv line 3", "3 fields, but the header has 10"}},
		{"too many fields", []string{generic(ok + ",extra")}, []string{"g.csv line 2", "11 fields, but the header has 10"}},
		{"header row where data is expected", []string{generic(ok, genericHeader, person("P-2", "Beta"))}, []string{"g.csv line 3", "a header row where data is expected"}},
		{"missing column", []string{"entity_id,type\nP-1,person\n"}, []string{"g.csv line 1", `no "name" column`}},
		{"column twice", []string{"entity_id,name,name\nP-1,A,B\n"}, []string{"g.csv line 1", `column "name" appears twice`}},
		{"empty file", []string{""}, []string{"g.csv", "empty"}},
		{"missing name", []string{generic(ok, person("P-2", ""))}, []string{"g.csv line 3", "field 3 (name) is empty"}},
		{"missing entity id", []string{generic(person("", "Alpha"))}, []string{"g.csv line 2", "field 1 (entity_id) is empty"}},
		{"duplicate entity id", []string{generic(ok, person("P-1", "Beta"))}, []string{"g.csv line 3", `entity_id "P-1" is already on line 2`}},
		{"unknown type", []string{generic(gRow(map[string]string{"entity_id": "P-1", "type": "robot", "name": "X"}))}, []string{"g.csv line 2", `field 2 (type) is "robot"`}},
		{"dob month 13", []string{generic(ok, person("P-2", "Beta", "dob", "2099-13-45"))}, []string{"g.csv line 3", "field 5 (dob)", `"2099-13-45" is not a valid date: month 13 does not exist`}},
		{"dob day 45", []string{generic(person("P-2", "Beta", "dob", "1980-12-45"))}, []string{"g.csv line 2", "day 45 does not exist in 1980-12"}},
		{"dob 29 February of a common year", []string{generic(person("P-2", "Beta", "dob", "1981-02-29"))}, []string{"g.csv line 2", "day 29 does not exist in 1981-02"}},
		{"dob DD.MM.YYYY day 45", []string{generic(person("P-2", "Beta", "dob", "45.12.1980"))}, []string{"g.csv line 2", "day 45"}},
		{"dob in the future", []string{generic(person("P-2", "Beta", "dob", "1960; 2027-01-01"))}, []string{"g.csv line 2", "field 5 (dob)", `"2027-01-01" is in the future`}},
		{"dob next month", []string{generic(person("P-2", "Beta", "dob", "2026-04"))}, []string{"g.csv line 2", "in the future"}},
		{"dob not a date", []string{generic(person("P-2", "Beta", "dob", "soon"))}, []string{"g.csv line 2", `"soon" is not a date`}},
		{"listed_on month 13", []string{generic(person("P-2", "Beta", "listed_on", "2024-13-01"))}, []string{"g.csv line 2", "field 8 (listed_on)", "month 13"}},
		{"listed_on far in the future", []string{generic(person("P-2", "Beta", "listed_on", "2027-01-01"))}, []string{"g.csv line 2", "field 8 (listed_on)", "more than 31 days in the future"}},
		{"listed_on only a year", []string{generic(person("P-2", "Beta", "listed_on", "2024"))}, []string{"g.csv line 2", "not a full date"}},
		{"delisted_on far in the future", []string{generic(person("P-2", "Beta", "delisted_on", "2030-01-01"))}, []string{"g.csv line 2", "field 9 (delisted_on)", "in the future"}},
		{"5 MB name", []string{generic(ok, person("P-2", big))}, []string{"g.csv line 3: field 3 (name) is 5242880 bytes, over the 1000-byte limit"}},
		{"name of 1001 bytes", []string{generic(person("P-2", strings.Repeat("é", 500)+"x"))}, []string{"g.csv line 2: field 3 (name) is 1001 bytes, over the 1000-byte limit"}},
		{"alias over the limit", []string{generic(person("P-2", "Beta", "aliases", "B; "+strings.Repeat("b", 1001)))}, []string{"g.csv line 2", "field 4 (aliases): item 2 is 1001 bytes, over the 1000-byte limit"}},
		{"1001 aliases", []string{generic(person("P-2", "Beta", "aliases", manyItems(1001, 4)))}, []string{"g.csv line 2", "field 4 (aliases) holds 1001 items, over the limit of 1000"}},
		{"remarks over 64 KiB", []string{generic(person("P-2", "Beta", "remarks", strings.Repeat("r", 64<<10+1)))}, []string{"g.csv line 2", "field 10 (remarks) is 65537 bytes, over the 65536-byte limit"}},
		{"regime over the limit", []string{generic(person("P-2", "Beta", "regime", strings.Repeat("r", 1001)))}, []string{"g.csv line 2", "field 7 (regime) is 1001 bytes"}},
		{"entity id over the limit", []string{generic(person(strings.Repeat("1", 1001), "Beta"))}, []string{"g.csv line 2", "field 1 (entity_id) is 1001 bytes"}},
		{"right-to-left override in a name", []string{generic(ok, person("P-2", "A\u202eB"))}, []string{"g.csv line 3", "invisible or control character U+202E"}},
		{"NUL in a name", []string{generic(ok, person("P-2", "A\x00C"))}, []string{"g.csv line 3", "invisible or control character U+0000"}},
		{"unused column over 64 KiB", []string{"entity_id,name,passport\nP-1,Alpha," + strings.Repeat("9", 64<<10+1) + "\n"}, []string{"g.csv line 2", "field 3 (passport) is 65537 bytes, over the 65536-byte limit"}},
	})
	expectRefused(t, Loader{Now: testNow, MaxFileSize: 150}, "partner", []string{"g.csv"},
		[]badCase{{"file over the limit", []string{generic(ok, person("P-2", "Beta"), person("P-3", "Gamma"))}, []string{"g.csv: over the 150-byte limit for one file"}}})
}

// The OFAC files of the cases: the shared fixture's first rows, by hand.
const (
	sdn1 = `2674,"ABBAS, Abu","individual","SDT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 10 Dec 1948; nationality Iraq; a.k.a. 'ABU'."`
	sdn2 = `306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. 'BNC'."`
	sdn3 = `9000,"SEA STAR","vessel","SDGT] [IRAN",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `
	add1 = `306,25,-0- ,"Havana","Cuba",-0- `
	alt1 = `2674,10,"aka","ABBAS, Abu al-",-0- `
	com1 = `9000,"; DOB 1960 to 1962."`
)

func sdnRow(id, name, remarks string) string {
	return fmt.Sprintf(`%s,"%s",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"%s"`, id, name, remarks)
}

func lines(ls ...string) string { return strings.Join(ls, "\n") }

func TestStrictOFAC(t *testing.T) {
	sdn := lines(sdn1, sdn2, sdn3)
	ofac := func(sdn, add, alt, comments string) []string { return []string{sdn, add, alt, comments} }
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf(`2674,%d,"aka","ALIAS %d",-0- `, i+100, i)
	}
	expectRefused(t, Loader{Now: testNow}, AuthorityOFAC, []string{"sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"}, []badCase{
		{"bare quote", ofac(lines(sdn1, `306,BANCO "NACIONAL",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `, sdn3), add1, alt1, com1),
			[]string{"sdn.csv line 2", `bare "`}},
		{"quoted field cut by end of file", ofac(lines(sdn1, `306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. 'BN`), add1, alt1, com1),
			[]string{"sdn.csv line 2", "cut short"}},
		{"alt.csv cut inside a quoted field", ofac(sdn, add1, `2674,10,"aka","ABBAS, Ab`, com1), []string{"alt.csv line 1", "cut short"}},
		{"11 fields", ofac(lines(sdn1, strings.TrimSuffix(sdn2, `,"a.k.a. 'BNC'."`)), "", "", ""), []string{"sdn.csv line 2", "11 fields, but each row of OFAC's sdn.csv has 12"}},
		{"header row", ofac(lines("ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks", sdn), add1, alt1, com1),
			[]string{"sdn.csv line 1", `field 1 (ent_num) is "ent_num", not a number`, "no header"}},
		{"header row where data is expected", ofac(lines(sdn1, "ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks", sdn2), "", "", ""),
			[]string{"sdn.csv line 2", "a header row where data is expected"}},
		{"generic CSV given as OFAC", ofac(generic(person("P-1", "Ivan Sidorov")), "", "", ""), []string{"sdn.csv line 1", `"entity_id", not a number`, "a file of another format"}},
		{"alt.csv given as sdn.csv", ofac(alt1, "", "", ""), []string{"sdn.csv line 1", "5 fields, but each row of OFAC's sdn.csv has 12"}},
		{"unknown SDN type", ofac(lines(sdn1, `306,"BANCO",robot,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `), "", "", ""), []string{"sdn.csv line 2", `field 3 (type) is "robot"`}},
		{"missing name", ofac(lines(sdn1, `306,-0- ,-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `), "", "", ""), []string{"sdn.csv line 2", "field 2 (name) is empty"}},
		{"duplicate ent_num", ofac(lines(sdn1, sdn2, sdnRow("2674", "OTHER", "")), "", "", ""), []string{"sdn.csv line 3", "ent_num 2674 is already on line 1"}},
		{"dob day 45", ofac(lines(sdn2, sdnRow("2675", "X", "DOB 45 Dec 1948; nationality Iraq.")), "", "", ""),
			[]string{"sdn.csv line 2 (ent_num 2675)", `date of birth: "45 Dec 1948" is not a valid date: day 45 does not exist in 1948-12`}},
		{"dob 31 June", ofac(sdnRow("2675", "X", "DOB 31 Jun 1950."), "", "", ""), []string{"sdn.csv line 1 (ent_num 2675)", "day 31 does not exist in 1950-06"}},
		{"dob in the future", ofac(sdnRow("2675", "X", "DOB 10 Dec 2099."), "", "", ""), []string{"sdn.csv line 1 (ent_num 2675)", `"10 Dec 2099" is in the future`}},
		{"dob in sdn_comments.csv in the future", ofac(sdn, "", "", `9000,"; DOB 2030 to 2032."`), []string{"sdn.csv line 3 (ent_num 9000)", "in the future"}},
		{"5 MB name", ofac(lines(sdn1, sdnRow("2675", strings.Repeat("A", 5<<20), "")), "", "", ""),
			[]string{"sdn.csv line 2: field 2 (name) is 5242880 bytes, over the 1000-byte limit"}},
		{"remarks over 64 KiB", ofac(sdnRow("2675", "X", strings.Repeat("r", 64<<10+1)), "", "", ""), []string{"sdn.csv line 1: field 12 (remarks) is 65537 bytes"}},
		{"remarks over 64 KiB with sdn_comments.csv", ofac(sdnRow("9000", "X", strings.Repeat("r", 60000)), "", "", `9000,"`+strings.Repeat("c", 6000)+`"`),
			[]string{"sdn_comments.csv line 1", "the remarks of ent_num 9000, continued here, are 66000 bytes, over the 65536-byte limit"}},
		{"unused field over 64 KiB", ofac(`2675,"X",-0- ,"SDGT","`+strings.Repeat("t", 64<<10+1)+`",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `, "", "", ""),
			[]string{"sdn.csv line 1: field 5 (title) is 65537 bytes, over the 65536-byte limit"}},
		{"weak alias in remarks over the limit", ofac(sdnRow("2675", "X", "a.k.a. '"+strings.Repeat("w", 1001)+"'."), "", "", ""), []string{"sdn.csv line 1 (ent_num 2675)", "1001 bytes, over the 1000-byte limit"}},
		{"1001 aliases", ofac(sdn, "", lines(many...), ""), []string{"alt.csv line 1001", "ent_num 2674 has more than 1000 aliases"}},
		{"alias over the limit", ofac(sdn, "", `2674,10,"aka","`+strings.Repeat("a", 1001)+`",-0- `, ""), []string{"alt.csv line 1: field 4 (alt_name) is 1001 bytes, over the 1000-byte limit"}},
		{"alias of an entry not in sdn.csv", ofac(sdn, add1, lines(alt1, `1234,11,"aka","NOBODY",-0- `), com1), []string{"alt.csv line 2", "ent_num 1234 is not in sdn.csv"}},
		{"alias without a name", ofac(sdn, "", `2674,10,"aka",-0- ,-0- `, ""), []string{"alt.csv line 1", "field 4 (alt_name) is empty"}},
		{"unknown alias type", ofac(sdn, "", `2674,10,"xyz","ABU",-0- `, ""), []string{"alt.csv line 1", `field 3 (alt_type) is "xyz"`}},
		{"alt.csv with 4 fields", ofac(sdn, "", `2674,10,"aka","ABU"`, ""), []string{"alt.csv line 1", "4 fields, but each row of OFAC's alt.csv has 5"}},
		{"alt_num not a number", ofac(sdn, "", `2674,ten,"aka","ABU",-0- `, ""), []string{"alt.csv line 1", `field 2 (alt_num) is "ten", not a number`}},
		{"address of an entry not in sdn.csv", ofac(sdn, lines(add1, `1,26,-0- ,"X","Y",-0- `), "", ""), []string{"add.csv line 2", "ent_num 1 is not in sdn.csv"}},
		{"add.csv with 5 fields", ofac(sdn, `306,25,-0- ,"Havana","Cuba"`, "", ""), []string{"add.csv line 1", "5 fields, but each row of OFAC's add.csv has 6"}},
		{"sdn_comments.csv with 3 fields", ofac(sdn, "", "", `9000,"x","y"`), []string{"sdn_comments.csv line 1", "3 fields, but each row of OFAC's sdn_comments.csv has 2"}},
		{"data after the end-of-file marker", ofac(sdn, "", "", lines(com1, "\x1a", `306,"more"`)), []string{"sdn_comments.csv line 3", "data after the end-of-file marker"}},
	})
	expectRefused(t, Loader{Now: testNow, MaxFileSize: 100}, AuthorityOFAC, []string{"sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"},
		[]badCase{{"file over the limit", ofac(sdn, add1, alt1, com1), []string{"sdn.csv: over the 100-byte limit for one file"}}})
}

const euHeader = "celex,recordId,programKey,annex,measure,startDate,reason,schema,name,alias,weakAlias,previousName,country,nationality,jurisdiction,birthDate,birthPlace,position,passportNumber,gender,appearance,ethnicity,fatherName,incorporationDate,legalForm,registrationNumber,taxNumber,idNumber,innCode,ogrnCode,kppCode,okpoCode,swiftBic,imoNumber,flag,address,phone,email,website,notes"

// euRow is an EU row of a person with the given columns set.
func euRow(id string, more ...string) string {
	f := map[string]string{"celex": "32001R2580", "recordId": id, "programKey": "EU-TERR", "annex": "II.A", "schema": "Person", "name": "PERSON " + id}
	for i := 0; i+1 < len(more); i += 2 {
		f[more[i]] = more[i+1]
	}
	var out []string
	for _, c := range strings.Split(euHeader, ",") {
		v := f[c]
		if strings.ContainsAny(v, ",\"\n") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out = append(out, v)
	}
	return strings.Join(out, ",")
}

func eu(rows ...string) string { return euHeader + "\n" + strings.Join(rows, "\n") + "\n" }

func TestStrictEU(t *testing.T) {
	ok := euRow("5", "birthDate", "6.3.1955 or 15.3.1955", "nationality", "Iranian and US")
	expectRefused(t, Loader{Now: testNow}, AuthorityEU, []string{"eu.csv"}, []badCase{
		{"bare quote", []string{eu(ok, strings.Replace(euRow("6"), "PERSON 6", `PER"SON 6`, 1))}, []string{"eu.csv line 3", `bare "`}},
		{"quoted field cut by end of file", []string{euHeader + "\n" + ok + "\n" + strings.SplitAfter(euRow("6", "name", "CUT, SHORT"), `"CUT`)[0]}, []string{"eu.csv line 3", "cut short"}},
		{"39 fields", []string{eu(ok, strings.TrimSuffix(euRow("6"), ","))}, []string{"eu.csv line 3", "39 fields, but the header has 40"}},
		{"header row where data is expected", []string{eu(ok, euHeader)}, []string{"eu.csv line 3", "a header row where data is expected"}},
		{"missing column", []string{"recordId,schema\n1,Person\n"}, []string{"eu.csv line 1", `no "name" column`}},
		{"missing name", []string{eu(ok, euRow("6", "name", ""))}, []string{"eu.csv line 3", "field 9 (name) is empty"}},
		{"missing record id", []string{eu(euRow(""))}, []string{"eu.csv line 2", "field 2 (recordId) is empty"}},
		{"missing schema", []string{eu(euRow("6", "schema", ""))}, []string{"eu.csv line 2", "field 8 (schema) is empty"}},
		{"unknown schema", []string{eu(euRow("6", "schema", "Robot"))}, []string{"eu.csv line 2", `field 8 (schema) is "Robot"`}},
		{"duplicate record", []string{eu(ok, ok)}, []string{"eu.csv line 3", "record II.A/5 is already on line 2"}},
		{"birth date month 13", []string{eu(euRow("6", "birthDate", "45.13.1955"))}, []string{"eu.csv line 2", "field 16 (birthDate)", "month 13 does not exist"}},
		{"birth date day 45", []string{eu(euRow("6", "birthDate", "1.1.1950 or 45.12.1955"))}, []string{"eu.csv line 2", "day 45 does not exist in 1955-12"}},
		{"birth date in the future", []string{eu(euRow("6", "birthDate", "1.1.2099"))}, []string{"eu.csv line 2", "in the future"}},
		{"birth date unreadable", []string{eu(euRow("6", "birthDate", "some time in the sixties"))}, []string{"eu.csv line 2", "is not a date"}},
		{"listing date far in the future", []string{eu(euRow("6", "startDate", "2027-01-01"))}, []string{"eu.csv line 2", "field 6 (startDate)", "more than 31 days in the future"}},
		{"listing date invalid", []string{eu(euRow("6", "startDate", "31.4.2020"))}, []string{"eu.csv line 2", "day 31 does not exist in 2020-04"}},
		{"5 MB name", []string{eu(ok, euRow("6", "name", strings.Repeat("A", 5<<20)))}, []string{"eu.csv line 3: field 9 (name) is 5242880 bytes, over the 1000-byte limit"}},
		{"alias over the limit", []string{eu(euRow("6", "weakAlias", strings.Repeat("w", 1001)))}, []string{"eu.csv line 2", "field 11 (weakAlias): item 1 is 1001 bytes"}},
		{"1001 aliases", []string{eu(euRow("6", "alias", manyItems(1001, 4)))}, []string{"eu.csv line 2", "field 10 (alias) holds 1001 items"}},
		{"1001 aliases over three columns", []string{eu(euRow("6", "alias", manyItems(500, 4), "previousName", manyItems(500, 5), "weakAlias", "W"))},
			[]string{"eu.csv line 2", "1001 aliases, over the limit of 1000"}},
		{"notes over 64 KiB", []string{eu(euRow("6", "notes", strings.Repeat("n", 64<<10+1)))}, []string{"eu.csv line 2", "field 40 (notes) is 65537 bytes"}},
		{"reason and notes over 64 KiB together", []string{eu(euRow("6", "reason", strings.Repeat("r", 40000), "notes", strings.Repeat("n", 40000)))},
			[]string{"eu.csv line 2", "remarks is 80001 bytes, over the 65536-byte limit"}},
	})
	expectRefused(t, Loader{Now: testNow, MaxFileSize: 200}, AuthorityEU, []string{"eu.csv"},
		[]badCase{{"file over the limit", []string{eu(ok)}, []string{"eu.csv: over the 200-byte limit for one file"}}})
}

// unDoc is a UN consolidated list: line 1 the declaration, line 2 the
// root, line 3 <INDIVIDUALS>, then one individual per line from line 4,
// then the entities.
func unDoc(individuals []string, entities ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">` + "\n<INDIVIDUALS>\n" +
		strings.Join(individuals, "\n") + "\n</INDIVIDUALS>\n<ENTITIES>\n" + strings.Join(entities, "\n") +
		"\n</ENTITIES>\n</CONSOLIDATED_LIST>\n"
}

// unInd is an individual with reference ref and first name first; extra
// is more elements.
func unInd(ref, first, extra string) string {
	return "<INDIVIDUAL><DATAID>" + ref + "</DATAID><FIRST_NAME>" + first + "</FIRST_NAME><UN_LIST_TYPE>Iraq</UN_LIST_TYPE>" +
		"<REFERENCE_NUMBER>" + ref + "</REFERENCE_NUMBER><LISTED_ON>2003-06-27</LISTED_ON>" + extra + "</INDIVIDUAL>"
}

func unDOBXML(inner string) string {
	return "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE>" + inner + "</INDIVIDUAL_DATE_OF_BIRTH>"
}

func TestStrictUN(t *testing.T) {
	a := unInd("IQi.001", "SADDAM", unDOBXML("<DATE>1937-04-28</DATE>"))
	b := unInd("IQi.002", "ABID", "")
	ent := "<ENTITY><DATAID>9</DATAID><FIRST_NAME>ADF</FIRST_NAME><UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDe.001</REFERENCE_NUMBER><LISTED_ON>2014-06-30</LISTED_ON></ENTITY>"
	whole := unDoc([]string{a, b}, ent)
	aliases := func(n, size int) string {
		var s strings.Builder
		for i := range n {
			fmt.Fprintf(&s, "<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>%0*d</ALIAS_NAME></INDIVIDUAL_ALIAS>", size, i)
		}
		return s.String()
	}
	expectRefused(t, Loader{Now: testNow}, AuthorityUN, []string{"consolidated.xml"}, []badCase{
		{"not XML", []string{"not xml at all"}, []string{"consolidated.xml", "no <CONSOLIDATED_LIST> element"}},
		{"another root", []string{"<?xml version=\"1.0\"?>\n<sdnList><sdnEntry/></sdnList>"}, []string{"consolidated.xml line 2", "the root element is <sdnList>, not <CONSOLIDATED_LIST>"}},
		{"a second root", []string{whole + "<CONSOLIDATED_LIST></CONSOLIDATED_LIST>"}, []string{"consolidated.xml line 11", "after the end of <CONSOLIDATED_LIST>"}},
		{"mismatched tags", []string{unDoc([]string{a, "<INDIVIDUAL><FIRST_NAME>X</SECOND_NAME></INDIVIDUAL>"})},
			[]string{"consolidated.xml line 5 in <CONSOLIDATED_LIST> <INDIVIDUALS> <INDIVIDUAL (from line 5)>: malformed XML", "closed by </SECOND_NAME>"}},
		{"undefined entity", []string{unDoc([]string{unInd("IQi.001", "A &bogus; B", "")})}, []string{"consolidated.xml line 4", "malformed XML"}},
		{"cut inside an entry", []string{whole[:strings.Index(whole, "ABID")]}, []string{"consolidated.xml line 5", "<INDIVIDUAL (from line 5)>", "cut short"}},
		{"cut between entries", []string{whole[:strings.Index(whole, "\n<INDIVIDUAL><DATAID>IQi.002")+1]}, []string{"consolidated.xml line 5", "ends in <CONSOLIDATED_LIST> <INDIVIDUALS>", "cut short"}},
		{"cut before the root closes", []string{strings.TrimSuffix(whole, "</CONSOLIDATED_LIST>\n")}, []string{"consolidated.xml", "ends in <CONSOLIDATED_LIST>", "cut short"}},
		{"date of birth month 13", []string{unDoc([]string{a, unInd("IQi.002", "ABID", unDOBXML("<DATE>2099-13-45</DATE>"))})},
			[]string{"consolidated.xml line 5: INDIVIDUAL IQi.002", `<INDIVIDUAL_DATE_OF_BIRTH> <DATE> "2099-13-45" is not a valid date: month 13 does not exist`}},
		{"date of birth day 45", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<DATE>1937-04-45</DATE>"))})}, []string{"line 4: INDIVIDUAL IQi.002", "day 45 does not exist in 1937-04"}},
		{"date of birth in the future", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<DATE>2099-01-01</DATE>"))})}, []string{"line 4: INDIVIDUAL IQi.002", "is in the future"}},
		{"year of birth not a year", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<YEAR>19x7</YEAR>"))})}, []string{"line 4: INDIVIDUAL IQi.002", `<YEAR> "19x7"`}},
		{"year of birth in the future", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<YEAR>2031</YEAR>"))})}, []string{"line 4: INDIVIDUAL IQi.002", `<YEAR> "2031" is in the future`}},
		{"range without its end", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<FROM_YEAR>1960</FROM_YEAR>"))})}, []string{"line 4: INDIVIDUAL IQi.002", "has no <TO_YEAR>"}},
		{"range reversed", []string{unDoc([]string{unInd("IQi.002", "ABID", unDOBXML("<FROM_YEAR>1962</FROM_YEAR><TO_YEAR>1960</TO_YEAR>"))})}, []string{"line 4", "<TO_YEAR> 1960 is before <FROM_YEAR> 1962"}},
		{"listing date invalid", []string{unDoc([]string{strings.Replace(b, "2003-06-27", "2003-02-30", 1)})}, []string{"line 4: INDIVIDUAL IQi.002", `<LISTED_ON> "2003-02-30" is not a valid date: day 30 does not exist in 2003-02`}},
		{"listing date far in the future", []string{unDoc([]string{strings.Replace(b, "2003-06-27", "2027-06-27", 1)})}, []string{"line 4: INDIVIDUAL IQi.002", "more than 31 days in the future"}},
		{"entity listing date invalid", []string{unDoc([]string{a}, strings.Replace(ent, "2014-06-30", "2014-06-31", 1))}, []string{"consolidated.xml line 7: ENTITY CDe.001", `<LISTED_ON> "2014-06-31" is not a valid date: day 31 does not exist in 2014-06`}},
		{"5 MB name", []string{unDoc([]string{a, unInd("IQi.002", strings.Repeat("A", 5<<20), "")})}, []string{"consolidated.xml line 5: INDIVIDUAL IQi.002: the name (<FIRST_NAME> to <FOURTH_NAME>) is 5242880 bytes, over the 1000-byte limit"}},
		{"original-script name over the limit", []string{unDoc([]string{unInd("IQi.002", "ABID", "<NAME_ORIGINAL_SCRIPT>"+strings.Repeat("ع", 501)+"</NAME_ORIGINAL_SCRIPT>")})},
			[]string{"line 4: INDIVIDUAL IQi.002", "<NAME_ORIGINAL_SCRIPT> is 1002 bytes"}},
		{"alias over the limit", []string{unDoc([]string{unInd("IQi.002", "ABID", aliases(1, 1001))})}, []string{"line 4: INDIVIDUAL IQi.002", "<ALIAS_NAME> of alias 1 is 1001 bytes"}},
		{"1001 aliases", []string{unDoc([]string{unInd("IQi.002", "ABID", aliases(1001, 4))})}, []string{"line 4: INDIVIDUAL IQi.002", "1001 aliases, over the limit of 1000"}},
		{"comments over 64 KiB", []string{unDoc([]string{unInd("IQi.002", "ABID", "<COMMENTS1>"+strings.Repeat("c", 64<<10+1)+"</COMMENTS1>")})}, []string{"line 4: INDIVIDUAL IQi.002", "<COMMENTS1> is 65537 bytes"}},
		{"no name", []string{unDoc([]string{a, unInd("IQi.002", " ", "")})}, []string{"line 5: INDIVIDUAL IQi.002", "no name"}},
		{"no reference", []string{unDoc([]string{"<INDIVIDUAL><FIRST_NAME>X</FIRST_NAME></INDIVIDUAL>"})}, []string{"line 4: INDIVIDUAL (no REFERENCE_NUMBER)", "no REFERENCE_NUMBER (nor DATAID)"}},
		{"duplicate reference", []string{unDoc([]string{a, strings.ReplaceAll(b, "IQi.002", "IQi.001")})}, []string{"line 5: INDIVIDUAL IQi.001", "reference IQi.001 is already on line 4"}},
	})
	expectRefused(t, Loader{Now: testNow, MaxFileSize: 300}, AuthorityUN, []string{"consolidated.xml"},
		[]badCase{{"file over the limit", []string{whole}, []string{"consolidated.xml: over the 300-byte limit for one file"}}})
}

// TestStrictAcceptsOddButLegitimate: what real files hold and must keep
// loading (docs/lists.md, "Strictness").
func TestStrictAcceptsOddButLegitimate(t *testing.T) {
	l := Loader{Now: testNow}
	load := func(t *testing.T, authority string, files ...string) []detente.Designation {
		t.Helper()
		fs := make([]File, len(files))
		for i, s := range files {
			fs[i] = File{Name: defaultName(authority, i), Body: strings.NewReader(s)}
		}
		ds, err := l.Load(authority, fs...)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	t.Run("UN", func(t *testing.T) {
		ds := load(t, AuthorityUN, unDoc([]string{
			// an xs:date with a time zone, an empty alias, a range too wide to keep, a date of birth with only a note
			strings.Replace(unInd("IQi.001", "A", "<INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>"+
				unDOBXML("<FROM_YEAR>1940</FROM_YEAR><TO_YEAR>1960</TO_YEAR>")+"<INDIVIDUAL_DATE_OF_BIRTH><NOTE>unknown</NOTE></INDIVIDUAL_DATE_OF_BIRTH>"), "2003-06-27", "2015-03-27-04:00", 1),
			strings.Replace(unInd("IQi.002", "B", unDOBXML("<YEAR>2026</YEAR>")), "2003-06-27", "2026-03-20Z", 1), // ahead, but within 31 days
		}))
		if len(ds) != 2 || ds[0].ListedOn != "2015-03-27" || len(ds[0].Names) != 1 || ds[0].DatesOfBirth != nil || ds[1].ListedOn != "2026-03-20" {
			t.Errorf("got %+v", ds)
		}
	})
	t.Run("OFAC", func(t *testing.T) {
		// a BOM, comments of an entry this issue lacks, a Ctrl-Z at the end
		ds := load(t, AuthorityOFAC, "\ufeff"+lines(sdn1, sdn2, sdn3), add1, alt1, lines(com1, `17018,": 24 Feb 2022"`, "\x1a"))
		if len(ds) != 3 || ds[0].EntityID != "2674" || !strings.Contains(ds[2].Remarks, "DOB 1960 to 1962") {
			t.Errorf("got %+v", ds)
		}
	})
	t.Run("generic", func(t *testing.T) {
		ds := load(t, "partner", "\ufeff"+generic(person("P-1", "Alpha", "dob", "2026; 1.2.1960", "listed_on", "2026-03-31"), ""))
		if len(ds) != 1 || ds[0].ListedOn != "2026-03-31" || len(ds[0].DatesOfBirth) != 2 {
			t.Errorf("got %+v", ds)
		}
	})
}

func TestCheck(t *testing.T) {
	good := func() detente.Designation {
		return detente.Designation{EntityID: "X-1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Alpha", Kind: detente.NameKindPrimary}},
			DatesOfBirth: []string{"1960", "1960-02", "1960-02-29"}, ListedOn: "2020-01-01"}
	}
	if d := good(); Check(&d, testNow) != nil {
		t.Fatalf("Check(good) = %v", Check(&d, testNow))
	}
	tests := []struct {
		name string
		edit func(d *detente.Designation)
		want string
	}{
		{"no id", func(d *detente.Designation) { d.EntityID = "" }, "no entity id"},
		{"no name", func(d *detente.Designation) { d.Names = nil }, "no name"},
		{"empty alias", func(d *detente.Designation) {
			d.Names = append(d.Names, detente.DesignationName{Kind: detente.NameKindAlias})
		}, "name 2 is empty"},
		{"long name", func(d *detente.Designation) { d.Names[0].Name = strings.Repeat("a", 1001) }, "name 1 is 1001 bytes"},
		{"bad type", func(d *detente.Designation) { d.Type = "robot" }, `type "robot"`},
		{"bad dob", func(d *detente.Designation) { d.DatesOfBirth = []string{"2099-13-45"} }, "month 13"},
		{"future dob", func(d *detente.Designation) { d.DatesOfBirth = []string{"2027"} }, "in the future"},
		{"dob not a date", func(d *detente.Designation) { d.DatesOfBirth = []string{"10 Dec 1948"} }, "not a date of the form"},
		{"listed far ahead", func(d *detente.Designation) { d.ListedOn = "2026-05-01" }, "more than 31 days"},
		{"delisted invalid", func(d *detente.Designation) { d.DelistedOn = "2026-02-30" }, "day 30"},
		{"remarks", func(d *detente.Designation) { d.Remarks = strings.Repeat("r", 64<<10+1) }, "remarks is 65537 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good()
			tt.edit(&d)
			if err := Check(&d, testNow); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
		})
	}
}
