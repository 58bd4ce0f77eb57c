package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"detente"
	"detente/internal/demo"
	"detente/internal/ledger"
	"detente/internal/nodetest"
)

// TestDemoReciprocity: the demo shows charlie under alpha's reciprocity
// ratio and held.
func TestDemoReciprocity(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	alpha := d.Agencies[0]
	bs, err := alpha.Node.Ledger.Balances(ctx, "charlie", 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := bs[0]; !b.Below(1.5) || b.Given == 0 || b.Received == 0 {
		t.Errorf("charlie's balance at alpha: given %d received %d ratio %v", b.Given, b.Received, b.Ratio)
	}
	hs, _ := alpha.Node.Ledger.Holds(ctx)
	if len(hs) != 1 || hs[0].Partner != "charlie" || hs[0].State != ledger.HoldHeld {
		t.Fatalf("holds: %+v", hs)
	}
	var actor string
	alpha.Node.Store.View(ctx, func(tx detente.Tx) error {
		objs, err := tx.Objects(ctx, detente.ObjectFilter{Types: []string{"threat-actor"}, Originator: detente.OriginSelf})
		for _, o := range objs {
			actor = o.ID
		}
		return err
	})
	dec, err := alpha.Node.CheckRelease(ctx, actor, "charlie")
	if err != nil || dec.Allowed || !strings.Contains(fmt.Sprint(dec.Reasons), detente.ReasonReciprocityHeld) {
		t.Errorf("release to charlie: %+v, %v", dec, err)
	}
	if dec, _ := alpha.Node.CheckRelease(ctx, actor, "bravo"); !dec.Allowed {
		t.Errorf("bravo is held too: %+v", dec)
	}
	var out bytes.Buffer
	d.PrintSummary(&out)
	if !strings.Contains(out.String(), "holds new releases to charlie") {
		t.Error("the summary does not tell of the hold")
	}
}
