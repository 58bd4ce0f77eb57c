package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente/internal/matching"
	"detente/internal/nodetest"
	"detente/internal/server"
)

func TestWatchlistAddReportsBadLines(t *testing.T) {
	dir := setupNode(t)
	file := filepath.Join(t.TempDir(), "phones.txt")
	os.WriteFile(file, []byte("# handler phones\n+44 20 7946 0018\n\n020 7946 0019\n+33 1 70 36 39 27\n"), 0o600)
	code, _, errs := cli(t, "", "watchlist", "add", "--dir", dir, "--name", "phones", "--type", "phone", file)
	if code != exitError || !strings.Contains(errs, file+":4:") || !strings.Contains(errs, "1 invalid line") || strings.Contains(errs, ":2:") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if out := mustCLI(t, "", "watchlist", "list", "--dir", dir, "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("a refused file stored something: %s", out)
	}
	out := mustCLI(t, "", "watchlist", "add", "--dir", dir, "--name", "phones", "--type", "phone", "--skip-invalid", file, "--json")
	var res struct {
		Watchlist struct{ Added, Entries int }
		Invalid   int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Watchlist.Added != 2 || res.Invalid != 1 {
		t.Errorf("--skip-invalid: %s (%v)", out, err)
	}
	// Persons: a CSV whose bad row is reported by its line.
	csvFile := filepath.Join(t.TempDir(), "persons.csv")
	os.WriteFile(csvFile, []byte("name,dob\nSergei Lavrov,1950-03-21\nYusuf Karimov,12 July 1984\n"), 0o600)
	code, _, errs = cli(t, "", "watchlist", "add", "--dir", dir, "--name", "persons", "--type", "person", csvFile)
	if code != exitError || !strings.Contains(errs, csvFile+":3:") {
		t.Errorf("persons: exit %d, stderr:\n%s", code, errs)
	}
	if code, _, _ := cli(t, "", "watchlist", "add", "--dir", dir, "--name", "x", "--type", "ship", file); code != exitUsage {
		t.Errorf("unknown type: exit %d", code)
	}
}

// TestMatchJSON runs 'detente match --json' against a partner node
// serving on loopback.
func TestMatchJSON(t *testing.T) {
	ctx := context.Background()
	alpha := filepath.Join(t.TempDir(), "alpha")
	bravo := filepath.Join(t.TempDir(), "bravo")
	mustCLI(t, "", "init", "--dir", alpha, "--name", "alpha")
	mustCLI(t, "", "init", "--dir", bravo, "--name", "bravo")
	alphaKey := lastLine(mustCLI(t, "", "key", "--dir", alpha))
	bravoKey := lastLine(mustCLI(t, "", "key", "--dir", bravo))

	n, err := nodetest.Open(ctx, bravo, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(n, nil, server.Options{})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		n.Close()
	})
	now := time.Now().UTC()
	agreement := func(partner string) string {
		return fmt.Sprintf(`{"partner": %q, "from": %q, "until": %q, "tlp_ceiling": "amber", "types": ["indicator"],
		 "onward_sharing": "none", "purpose": "counter-terrorism",
		 "match": {"evaluations": 1000, "period": "720h", "max_set_size": 1000, "modes": ["query", "bulk", "count"]}}`,
			partner, now.Add(-time.Hour).Format(time.RFC3339), now.AddDate(1, 0, 0).Format(time.RFC3339))
	}
	mustCLI(t, "", "partner", "add", "--dir", bravo, "--name", "alpha", "--key", alphaKey)
	mustCLI(t, agreement("alpha"), "agreement", "add", "--dir", bravo, "-")
	owned := "UTO:L898902C3\nD:C01X00T47\nUTO:AB1234567\n"
	for i := range 10 {
		owned += fmt.Sprintf("UTO:YY%07d\n", i)
	}
	mustCLI(t, owned, "watchlist", "add", "--dir", bravo, "--name", "passports", "--type", "document", "-")
	mustCLI(t, "", "partner", "add", "--dir", alpha, "--name", "bravo", "--key", bravoKey, "--url", srv.URL())
	mustCLI(t, agreement("bravo"), "agreement", "add", "--dir", alpha, "-")

	file := filepath.Join(t.TempDir(), "docs.txt")
	os.WriteFile(file, []byte("d : c01x00t47\nUTO:X9999999\nUTO:AB 1234567\n"), 0o600)
	out := mustCLI(t, "", "match", "--dir", alpha, "--partner", "bravo", "--type", "document", file, "--json")
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if fmt.Sprint(res["matches"]) != "[d : c01x00t47 UTO:AB 1234567]" || res["cost"] != float64(16) || res["count"] != nil {
		t.Errorf("match --json: %s", out)
	}
	out = mustCLI(t, "", "match", "--dir", alpha, "--partner", "bravo", "--type", "document", "--mode", "query", file)
	if !strings.Contains(out, "2 of your 3 selectors") || !strings.Contains(out, "  UTO:AB 1234567\n") || !strings.Contains(out, "cost: 16") {
		t.Errorf("match: %s", out)
	}
	// Count mode: only the size, from at least 10 selectors.
	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("UTO:ZZ%07d", i))
	}
	many = append(many, "UTO:L898902C3")
	out = mustCLI(t, strings.Join(many, "\n"), "match", "--dir", alpha, "--partner", "bravo", "--type", "document", "--mode", "count", "-", "--json")
	res = nil
	if err := json.Unmarshal([]byte(out), &res); err != nil || res["count"] != float64(1) || res["matches"] != nil || res["cost"] != float64(16) {
		t.Errorf("count --json: %s (%v)", out, err)
	}
	// The owner sees the budget used, not what was asked.
	out = mustCLI(t, "", "match", "budget", "--dir", bravo, "--json")
	var bs []matching.Budget
	if err := json.Unmarshal([]byte(out), &bs); err != nil || len(bs) != 1 || bs[0].Used != 48 || bs[0].Queries != 2 || bs[0].Exchanges != 1 {
		t.Errorf("match budget: %s (%v)", out, err)
	}
	// Refusals exit 3.
	mustCLI(t, "", "partner", "suspend", "--dir", alpha, "--name", "bravo", "--reason", "review")
	code, _, errs := cli(t, "", "match", "--dir", alpha, "--partner", "bravo", "--type", "document", file)
	if code != exitDenied || !strings.Contains(errs, "refused: partner bravo is suspended") {
		t.Errorf("match with a suspended partner: exit %d, %s", code, errs)
	}
}
