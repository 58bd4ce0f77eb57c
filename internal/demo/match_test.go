package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"detente/internal/demo"
	"detente/internal/matching"
	"detente/internal/nodetest"
	"detente/internal/psi"
)

// TestDemoSuggestsMatch: the printout offers private matching to try, and
// what it offers works: alpha learns which of its phones bravo's
// watchlists hold, however bravo spells them, and nothing else.
func TestDemoSuggestsMatch(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out bytes.Buffer
	d.PrintSummary(&out)
	alpha := d.Agencies[0]
	file := filepath.Join(d.Dir, "alpha-phones.txt")
	want := "go run ./cmd/detente match --dir " + alpha.Dir + " --partner bravo --type phone " + file
	if !strings.Contains(out.String(), want) {
		t.Fatalf("the summary does not offer %q:\n%s", want, out.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sels, bad := matching.ParseSelectorFile(psi.TypePhone, data)
	if len(bad) > 0 {
		t.Fatalf("%s: %v", file, bad)
	}
	res, err := alpha.Node.Matching.Match(ctx, matching.Request{Partner: "bravo", Type: psi.TypePhone, Selectors: sels})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Matches, []string{"+44 20 7946 0102", "+44 20 7946 0103"}) {
		t.Errorf("alpha's phones on bravo's watchlists: %q", res.Matches)
	}
}
