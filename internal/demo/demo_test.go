package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"detente"
	"detente/internal/demo"
	"detente/internal/leak"
	"detente/internal/nodetest"
	"detente/internal/screen"
)

// TestDemoFederates starts the demo and waits until each node holds what
// its agreements let reach it, and nothing else.
func TestDemoFederates(t *testing.T) {
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out bytes.Buffer
	d.PrintSummary(&out)
	for _, a := range d.Agencies {
		if !strings.Contains(out.String(), a.Server.URL()) || !strings.Contains(out.String(), a.Token) {
			t.Errorf("summary lacks %s's URL or token", a.Name)
		}
	}
	alpha, bravo, charlie := d.Agencies[0], d.Agencies[1], d.Agencies[2]
	originated := func(a *demo.Agency, by string) map[string]string {
		ctx := context.Background()
		var objs []*detente.ObjectVersion
		a.Node.Store.View(ctx, func(tx detente.Tx) (err error) {
			objs, err = tx.Objects(ctx, detente.ObjectFilter{Originator: by})
			return
		})
		m := map[string]string{}
		for _, o := range objs {
			tlp := ""
			for _, mk := range o.Markings {
				if l, ok := detente.TLPOfMarking(mk); ok {
					tlp = l.String()
				}
			}
			m[o.ID] = tlp
		}
		return m
	}
	// alpha originated 12 objects: bravo may get 9 (not the RED indicator,
	// not the report citing it, not the releasable-to definition), charlie 6
	// (GREEN and CLEAR only, not the bravo-only indicator); each gets its
	// own copy of the fingerprinted report.
	for range 2 { // the second pass must change nothing
		for _, a := range d.Agencies {
			rs, err := a.Node.Federation.SyncAll(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.Error != "" || r.Quarantined+r.Rejected > 0 {
					t.Errorf("%s from %s: %+v", a.Name, r.Partner, r)
				}
			}
		}
	}
	b, c := originated(bravo, "alpha"), originated(charlie, "alpha")
	if len(b) != 9 || len(c) != 6 {
		t.Fatalf("bravo holds %d of alpha's objects (want 9), charlie %d (want 6)", len(b), len(c))
	}
	for id, tlp := range c {
		if tlp != "green" && tlp != "clear" {
			t.Errorf("charlie holds %s marked %s", id, tlp)
		}
	}
	for id, tlp := range b {
		if tlp == "red" {
			t.Errorf("bravo holds RED %s", id)
		}
	}
	if len(originated(alpha, "bravo")) != 5 || len(originated(charlie, "bravo")) != 5 {
		t.Errorf("bravo's GREEN intelligence did not reach both partners")
	}
}

// TestDemoDivergence: the demo's designations disagree in the ways the
// divergence view is for.
func TestDemoDivergence(t *testing.T) {
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Agencies[1].Node.Screening.CompareLists(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Authorities) != 3 || r.ListedByAll != 1 || len(r.Scope) == 0 {
		t.Errorf("report: %d authorities, %d listed by all, %d scope differences", len(r.Authorities), r.ListedByAll, len(r.Scope))
	}
	hits, err := d.Agencies[0].Node.Screening.Screen(context.Background(), screen.Query{Name: "Юсуф Каримов"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	matched := map[string]bool{}
	for _, h := range hits {
		if h.Match {
			matched[h.Authority] = true
		}
	}
	if len(matched) != 3 {
		t.Errorf("Karimov matched on %v, want all three agencies' lists", matched)
	}
}

// TestDemoCurationAndLeak: alpha's curation report on charlie flags the
// labels charlie alone gives and finds the ones other authorities share;
// the leaked copy the demo writes names bravo, and the evidence verifies
// with alpha's key. The summary prints the commands for both.
func TestDemoCurationAndLeak(t *testing.T) {
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	alpha := d.Agencies[0].Node
	r, err := alpha.Corroboration.Report(ctx, "charlie")
	if err != nil {
		t.Fatal(err)
	}
	alone := map[string]bool{}
	for _, l := range r.Labels {
		alone[l.Name] = l.Alone
	}
	if !alone["Free Valdor Cultural League"] || !alone["Eastern Valdor Students Union"] {
		t.Errorf("labels %+v: want charlie's league and union flagged as held by no other authority", r.Labels)
	}
	if a, ok := alone["Jusuf Karimow"]; !ok || a {
		t.Errorf("labels %+v: want Karimow held by other authorities", r.Labels)
	}
	var out bytes.Buffer
	d.PrintSummary(&out)
	if !strings.Contains(out.String(), "partner report --dir "+d.Agencies[0].Dir+" charlie") {
		t.Error("the summary does not print the curation report command")
	}
	if !strings.Contains(out.String(), "leak verify --key "+alpha.PublicKey().String()) {
		t.Errorf("the summary does not say how to verify evidence:\n%s", out.String())
	}
	leaked, err := os.ReadFile(filepath.Join(d.Dir, demo.LeakedCopy))
	if err != nil {
		t.Fatal(err)
	}
	res, err := alpha.Leak.Trace(ctx, leaked)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Suspects) != 1 || res.Suspects[0].Partner != "bravo" {
		t.Fatalf("suspects %+v, want bravo", res.Suspects)
	}
	ev, err := alpha.Leak.Evidence(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leak.Verify(ev, alpha.PublicKey()); err != nil {
		t.Fatal(err)
	}
}
