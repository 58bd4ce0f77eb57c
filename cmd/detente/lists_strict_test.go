package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Regression tests for the finding "malformed list files silently delist
// people", each through the command line as an operator runs it.

// logHead is the log's size and root hash: equal before and after a
// refused load when the refusal logged nothing.
func logHead(t *testing.T, dir string) string {
	t.Helper()
	lines := strings.SplitN(mustCLI(t, "", "log", "checkpoint", "--dir", dir), "\n", 4)
	return strings.Join(lines[:3], "\n")
}

// listsShow is what 'lists show --json' reports.
func listsShow(t *testing.T, dir string) string {
	t.Helper()
	return mustCLI(t, "", "lists", "show", "--dir", dir, "--json")
}

// screenTop returns the entity id of the best matching hit for name, or "".
func screenTop(t *testing.T, dir, name string) string {
	t.Helper()
	var hits []struct {
		Match    bool   `json:"match"`
		EntityID string `json:"entity_id"`
	}
	out := mustCLI(t, "", "screen", "--dir", dir, name, "--json")
	if err := json.Unmarshal([]byte(out), &hits); err != nil {
		t.Fatalf("screen %q: %v\n%s", name, err, out)
	}
	if len(hits) == 0 || !hits[0].Match {
		return ""
	}
	return hits[0].EntityID
}

// refused runs a command that must fail with exit status 1 and an error
// holding each of want, and returns its stderr.
func refused(t *testing.T, want []string, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, "", args...)
	if code != exitError {
		t.Fatalf("detente %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, exitError, out, errs)
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	return errs
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const partnerList = `entity_id,type,name,aliases,dob,nationality,regime,listed_on,delisted_on,remarks
BR-1,organization,Black Meridian Front,BMF,,,CT,2025-01-10,,
BR-2,person,Yusuf Karimov,Юсуф Каримов,1984-07-12,,CT,2025-01-10,,"recruiter; ""the teacher"""
BR-3,organization,Sons of the Tide,,,,CT,2025-02-01,,"maritime wing, see BR-1"
BR-4,person,Ivan Petrovich Sidorov,Иван Сидоров,1961-02-03,RU,CT,2025-02-01,,
BR-5,organization,Northern Star Trading,,,,CT,2025-03-01,,
`

// Finding 1: a file cut inside a quoted field loaded the rows before the
// cut and delisted everyone after it.
func TestListsLoadTruncatedKeepsPreviousIssue(t *testing.T) {
	dir := setupNode(t)
	tmp := t.TempDir()
	mustCLI(t, "", "lists", "load", "--dir", dir, "--authority", "bravo", writeFile(t, tmp, "full.csv", partnerList))
	before, head := listsShow(t, dir), logHead(t, dir)

	cut := partnerList[:strings.Index(partnerList, "maritime")+4] // inside the quoted remarks of BR-3, line 4
	refused(t, []string{"cut.csv line 4", "cut short", "nothing was loaded"},
		"lists", "load", "--dir", dir, "--authority", "bravo", writeFile(t, tmp, "cut.csv", cut))
	if after := listsShow(t, dir); after != before {
		t.Errorf("lists changed:\nbefore %s\nafter %s", before, after)
	}
	if logHead(t, dir) != head {
		t.Error("the refused load wrote to the log")
	}
	// The people after the cut are still screened.
	for name, id := range map[string]string{"Ivan Sidorov": "BR-4", "Northern Star Trading": "BR-5", "Sons of the Tide": "BR-3"} {
		if got := screenTop(t, dir, name); got != id {
			t.Errorf("screen %q: best match %q, want %s", name, got, id)
		}
	}
}

// Finding 1 on the real OFAC files: sdn.csv cut inside a quoted field, or
// between two rows, never delists what follows.
func TestListsLoadTruncatedOFAC(t *testing.T) {
	shared := sharedDir(t)
	src := filepath.Join(shared, "testdata", "lists", "ofac")
	dir := setupNode(t)
	files := func(sdn string) []string {
		return []string{sdn, filepath.Join(src, "add.csv"), filepath.Join(src, "alt.csv"), filepath.Join(src, "sdn_comments.csv")}
	}
	out := mustCLI(t, "", append([]string{"lists", "load", "--dir", dir, "--authority", "ofac", "--json"}, files(filepath.Join(src, "sdn.csv"))...)...)
	if !strings.Contains(out, `"total": 7379`) {
		t.Fatalf("full load: %s", out)
	}
	before, head := listsShow(t, dir), logHead(t, dir)
	full, err := os.ReadFile(filepath.Join(src, "sdn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The last entry of the file, which every cut loses.
	rows, err := csv.NewReader(strings.NewReader(string(full))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	lastID, lastName := last[0], last[1]

	tmp := t.TempDir()
	// Cut inside the quoted remarks of the row around the middle of the file.
	mid := strings.Index(string(full[len(full)/2:]), "\n") + len(full)/2 + 1
	row := string(full[mid:])
	row = row[:strings.Index(row, "\n")]
	k := strings.LastIndex(row, `,"`)
	if k < 0 {
		t.Fatalf("row %q has no quoted field", row)
	}
	line := strings.Count(string(full[:mid]), "\n") + 1
	cut := writeFile(t, tmp, "sdn.csv", string(full[:mid+k+3]))
	refused(t, []string{fmt.Sprintf("sdn.csv line %d", line), "cut short", "nothing was loaded"},
		append([]string{"lists", "load", "--dir", dir, "--authority", "ofac"}, files(cut)...)...)

	// Cut between two rows: alt.csv names entries sdn.csv lacks.
	rowsCut := writeFile(t, tmp, "sdn_rows.csv", string(full[:mid]))
	refused(t, []string{"alt.csv line", "is not in " + rowsCut, "cut short"},
		append([]string{"lists", "load", "--dir", dir, "--authority", "ofac"}, files(rowsCut)...)...)
	// ... and alone, it would delist half the list.
	refused(t, []string{"would delist", "of its 7379 active entries", "--allow-mass-delisting"},
		"lists", "load", "--dir", dir, "--authority", "ofac", rowsCut)

	if after := listsShow(t, dir); after != before {
		t.Errorf("lists changed:\nbefore %s\nafter %s", before, after)
	}
	if logHead(t, dir) != head {
		t.Error("the refused loads wrote to the log")
	}
	if got := screenTop(t, dir, lastName); got != lastID {
		t.Errorf("screen %q (the last entry, after every cut): best match %q, want %s", lastName, got, lastID)
	}
}

// Finding 2: a generic CSV given as OFAC's stored its header row as an
// entity.
func TestListsLoadRefusesGenericAsOFAC(t *testing.T) {
	dir := setupNode(t)
	fixtures := filepath.Join("..", "..", "internal", "lists", "testdata")
	mustCLI(t, "", "lists", "load", "--dir", dir, "--authority", "ofac",
		filepath.Join(fixtures, "ofac_sdn.csv"), filepath.Join(fixtures, "ofac_add.csv"), filepath.Join(fixtures, "ofac_alt.csv"), filepath.Join(fixtures, "ofac_comments.csv"))
	before, head := listsShow(t, dir), logHead(t, dir)
	generic := writeFile(t, t.TempDir(), "bravo.csv", partnerList)
	refused(t, []string{"bravo.csv line 1", `field 1 (ent_num) is "entity_id", not a number`, "no header"},
		"lists", "load", "--dir", dir, "--authority", "ofac", generic)
	if after := listsShow(t, dir); after != before || !strings.Contains(after, `"active": 3`) {
		t.Errorf("lists changed:\nbefore %s\nafter %s", before, after)
	}
	if logHead(t, dir) != head {
		t.Error("the refused load wrote to the log")
	}
	if got := screenTop(t, dir, "entity_id"); got != "" {
		t.Errorf("the header row is screened as entity %s", got)
	}
}

// Finding 3: an impossible date of birth and a 5 MB name were stored.
func TestListsLoadRefusesInvalidDateAndHugeName(t *testing.T) {
	dir := setupNode(t)
	tmp := t.TempDir()
	head := logHead(t, dir)
	refused(t, []string{"dob.csv line 2", "field 4 (dob)", `"2099-13-45" is not a valid date: month 13 does not exist`},
		"lists", "load", "--dir", dir, "--authority", "bravo",
		writeFile(t, tmp, "dob.csv", "entity_id,type,name,dob\nP-1,person,Test Person,2099-13-45\n"))
	refused(t, []string{"big.csv line 3: field 3 (name) is 5242880 bytes, over the 1000-byte limit"},
		"lists", "load", "--dir", dir, "--authority", "bravo",
		writeFile(t, tmp, "big.csv", "entity_id,type,name\nP-1,person,Test Person\nP-2,person,"+strings.Repeat("A", 5<<20)+"\n"))
	if out := listsShow(t, dir); strings.TrimSpace(out) != "[]" {
		t.Errorf("refused loads stored designations: %s", out)
	}
	if logHead(t, dir) != head {
		t.Error("the refused loads wrote to the log")
	}
}

// unList is a UN consolidated list of n fictitious individuals.
func unList(n int) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "<INDIVIDUAL><DATAID>%d</DATAID><FIRST_NAME>PERSON</FIRST_NAME><SECOND_NAME>NUMBER %d</SECOND_NAME>"+
			"<UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.%03d</REFERENCE_NUMBER><LISTED_ON>2020-01-01</LISTED_ON></INDIVIDUAL>\n", i, i, i)
	}
	b.WriteString("</INDIVIDUALS>\n<ENTITIES/>\n</CONSOLIDATED_LIST>\n")
	return b.String()
}

// An issue that delists more than 20 % of the active entries is refused
// without --allow-mass-delisting, by 'lists load' and 'lists fetch', and
// the refusal changes nothing.
func TestListsMassDelisting(t *testing.T) {
	t.Run("load", func(t *testing.T) {
		dir := setupNode(t)
		tmp := t.TempDir()
		var ten, seven strings.Builder
		ten.WriteString("entity_id,name\n")
		seven.WriteString("entity_id,name\n")
		for i := 1; i <= 10; i++ {
			fmt.Fprintf(&ten, "P-%02d,Person Number %d\n", i, i)
			if i <= 7 {
				fmt.Fprintf(&seven, "P-%02d,Person Number %d\n", i, i)
			}
		}
		mustCLI(t, "", "lists", "load", "--dir", dir, "--authority", "bravo", writeFile(t, tmp, "ten.csv", ten.String()))
		before, head := listsShow(t, dir), logHead(t, dir)
		issue := writeFile(t, tmp, "seven.csv", seven.String())
		refused(t, []string{"would delist 3 of its 10 active entries (30.0 %), more than 20 %", "--allow-mass-delisting", "nothing changed"},
			"lists", "load", "--dir", dir, "--authority", "bravo", issue)
		if after := listsShow(t, dir); after != before {
			t.Errorf("lists changed:\nbefore %s\nafter %s", before, after)
		}
		if logHead(t, dir) != head {
			t.Error("the refused load wrote to the log")
		}
		if got := screenTop(t, dir, "Person Number 9"); got != "P-09" {
			t.Errorf("screen after the refusal: %q", got)
		}
		out := mustCLI(t, "", "lists", "load", "--dir", dir, "--authority", "bravo", issue, "--allow-mass-delisting")
		if !strings.Contains(out, "3 delisted") {
			t.Errorf("with --allow-mass-delisting: %s", out)
		}
		if out := listsShow(t, dir); !strings.Contains(out, `"active": 7`) || !strings.Contains(out, `"delisted": 3`) {
			t.Errorf("after the allowed load: %s", out)
		}
	})
	t.Run("fetch", func(t *testing.T) {
		files := map[string]string{"/ten.xml": unList(10), "/seven.xml": unList(7)}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, ok := files[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(b))
		}))
		defer srv.Close()
		dir := setupNode(t)
		mustCLI(t, "", "lists", "fetch", "--dir", dir, "--authority", "un", "--url", srv.URL+"/ten.xml")
		before, head := listsShow(t, dir), logHead(t, dir)
		refused(t, []string{"would delist 3 of its 10 active entries", "--allow-mass-delisting"},
			"lists", "fetch", "--dir", dir, "--authority", "un", "--url", srv.URL+"/seven.xml")
		if after := listsShow(t, dir); after != before {
			t.Errorf("lists changed:\nbefore %s\nafter %s", before, after)
		}
		if logHead(t, dir) != head {
			t.Error("the refused fetch wrote to the log")
		}
		out := mustCLI(t, "", "lists", "fetch", "--dir", dir, "--authority", "un", "--url", srv.URL+"/seven.xml", "--allow-mass-delisting")
		if !strings.Contains(out, "3 delisted") {
			t.Errorf("with --allow-mass-delisting: %s", out)
		}
	})
}
