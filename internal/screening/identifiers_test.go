package screening_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"detente"
	"detente/internal/lists"
	"detente/internal/nodetest"
	"detente/internal/screen"
	"detente/internal/screening"
)

func sharedOFAC(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "lists", "ofac")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return dir
}

// address is how OFAC writes a digital-currency address in its remarks.
var address = regexp.MustCompile(`Digital Currency Address - ([A-Za-z0-9]+) ([^\s;"]+)`)

func wallets(ds []detente.Designation) []detente.DesignationIdentifier {
	var out []detente.DesignationIdentifier
	for _, d := range ds {
		for _, id := range d.Identifiers {
			if id.Type == detente.IdentifierWallet {
				out = append(out, id)
			}
		}
	}
	return out
}

// TestOFACAddressCount checks that the loader extracts as many addresses
// as the source files hold. The fixture's sdn_comments.csv is of a later
// issue than its sdn.csv: the entries that hold its addresses are not in
// that sdn.csv, so loaded as is only sdn.csv's own addresses come out. The
// test therefore also pairs sdn_comments.csv with stub rows for its
// entries, and then every address must come out, be a valid address of
// its chain, and screen to its entry.
func TestOFACAddressCount(t *testing.T) {
	dir := sharedOFAC(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sdn, comments := read("sdn.csv"), read("sdn_comments.csv")
	inSDN := len(address.FindAllSubmatch(sdn, -1))
	inComments := len(address.FindAllSubmatch(comments, -1))
	if inSDN == 0 || inComments == 0 {
		t.Fatalf("addresses in the fixture: %d in sdn.csv, %d in sdn_comments.csv", inSDN, inComments)
	}
	ds, err := lists.LoadOFAC(bytes.NewReader(sdn), nil, nil, bytes.NewReader(comments))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(wallets(ds)); got != inSDN {
		t.Errorf("fixture as is: %d addresses extracted, sdn.csv holds %d", got, inSDN)
	}

	// Stub rows for the entries sdn_comments.csv continues.
	known := map[string]bool{}
	for _, d := range ds {
		known[d.EntityID] = true
	}
	stub := bytes.NewBuffer(append(bytes.Clone(sdn), '\n'))
	w := csv.NewWriter(stub)
	r := csv.NewReader(bytes.NewReader(comments))
	r.FieldsPerRecord = -1
	recs, _ := r.ReadAll()
	added := 0
	for _, rec := range recs {
		if len(rec) < 2 || known[rec[0]] || strings.Trim(rec[0], "0123456789") != "" {
			continue
		}
		known[rec[0]] = true
		added++
		w.Write([]string{rec[0], "STUB ENTRY " + rec[0], "-0-", "[CYBER2]", "-0-", "-0-", "-0-", "-0-", "-0-", "-0-", "-0-", "-0-"})
	}
	w.Flush()
	ds, err = lists.LoadOFAC(stub, nil, nil, bytes.NewReader(comments))
	if err != nil {
		t.Fatal(err)
	}
	ws := wallets(ds)
	if len(ws) != inSDN+inComments {
		t.Errorf("with stub rows for %d entries: %d addresses extracted, the files hold %d", added, len(ws), inSDN+inComments)
	}
	chains := map[string]int{}
	x := screen.NewIdentifierIndex()
	for _, d := range ds {
		for _, id := range d.Identifiers {
			if id.Type != detente.IdentifierWallet {
				continue
			}
			chains[id.Chain]++
			sid := screening.ScreenIdentifier(id)
			if _, err := sid.Canonical(); err != nil {
				t.Errorf("%s: %v", d.Key(), err)
			}
			if err := x.Add(d.Key(), sid); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range ds {
		for _, id := range d.Identifiers {
			if id.Type != detente.IdentifierWallet {
				continue
			}
			hits, err := x.ScreenIdentifier(screening.ScreenIdentifier(id))
			if err != nil || len(hits) == 0 || hits[0].Designation != d.Key() {
				t.Errorf("%s %s: hits %+v, %v", d.Key(), id.Value, hits, err)
			}
		}
	}
	t.Logf("%d addresses in sdn.csv, %d in sdn_comments.csv (%d entries stubbed); by chain %v", inSDN, inComments, added, chains)
}

func TestScreenIdentifiers(t *testing.T) {
	n := nodetest.New(t, "alpha")
	ctx := context.Background()
	ds := []detente.Designation{
		{EntityID: "B1", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Ivan Petrov", Kind: detente.NameKindPrimary}},
			DatesOfBirth: []string{"1970-01-02"}, Nationalities: []string{"RU"},
			Identifiers: []detente.DesignationIdentifier{{Type: "passport", Value: "75 1234567", Country: "RU"}, {Type: "national-id", Value: "D489833(9)"},
				{Type: "wallet", Chain: "XBT", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}},
		{EntityID: "B2", Type: detente.EntityVessel, Names: []detente.DesignationName{{Name: "TIDE", Kind: detente.NameKindPrimary}},
			Identifiers: []detente.DesignationIdentifier{{Type: "imo", Value: "9074728"}}},
	}
	if _, err := n.Screening.LoadList(ctx, "bravo", ds, screening.ListLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q                 screen.Identifier
		want              string
		unconfirmed, asIs bool
	}{
		{screen.Identifier{Type: screen.IDDocument, Value: "751234567", Country: "RUS"}, "B1", false, false},
		{screen.Identifier{Type: screen.IDDocument, Value: "751234567", Country: "UA"}, "", false, false},
		{screen.Identifier{Type: screen.IDDocument, Value: "D4898339", Country: "HK"}, "B1", true, false},
		{screen.Identifier{Type: screen.IDWallet, Chain: "BTC", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, "B1", false, false},
		{screen.Identifier{Type: screen.IDIMO, Value: "IMO 9074728"}, "B2", false, true},
	}
	for _, tt := range tests {
		hits, err := n.Screening.ScreenIdentifiers(ctx, []screen.Identifier{tt.q})
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if len(hits) != 0 {
				t.Errorf("%+v: %+v, want no hit", tt.q, hits)
			}
			continue
		}
		if len(hits) != 1 || hits[0].EntityID != tt.want || hits[0].StateUnconfirmed != tt.unconfirmed || hits[0].AsWritten != tt.asIs {
			t.Errorf("%+v: %+v, want %s", tt.q, hits, tt.want)
			continue
		}
		if tt.want == "B1" && (hits[0].DatesOfBirth[0] != "1970-01-02" || hits[0].Nationalities[0] != "RU" || hits[0].Name != "Ivan Petrov") {
			t.Errorf("hit lacks the entry's details: %+v", hits[0])
		}
	}
	if _, err := n.Screening.ScreenIdentifiers(ctx, []screen.Identifier{{Type: screen.IDIBAN, Value: "GB00 0000"}}); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("a bad IBAN: %v, want EINVALID", err)
	}
}
