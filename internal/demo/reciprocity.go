package demo

import (
	"context"
	"fmt"
	"io"

	"detente"
)

// holdCharlie runs the first exchange between alpha and charlie and
// applies alpha's reciprocity terms: charlie gives back less than alpha's
// agreement asks (half as much again as it gets), so alpha holds new
// releases to charlie. What charlie already pulled stays with it.
func (d *Demo) holdCharlie(ctx context.Context) error {
	alpha, charlie := d.Agencies[0], d.Agencies[2]
	if _, err := charlie.Node.Federation.Sync(ctx, alpha.Name, nil); err != nil {
		return fmt.Errorf("demo: charlie pulls from alpha: %w", err)
	}
	if _, err := alpha.Node.Federation.Sync(ctx, charlie.Name, nil); err != nil {
		return fmt.Errorf("demo: alpha pulls from charlie: %w", err)
	}
	if err := alpha.Node.Ledger.Enforce(ctx); err != nil {
		return fmt.Errorf("demo: reciprocity: %w", err)
	}
	hs, err := alpha.Node.Ledger.Holds(ctx)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.Partner == charlie.Name {
			return nil
		}
	}
	return detente.Errorf(detente.EINTERNAL, "demo: alpha did not hold charlie: the sample exchange changed")
}

func (d *Demo) printReciprocity(w io.Writer) {
	alpha := d.Agencies[0]
	fmt.Fprintf(w, `
Reciprocity: alpha's agreement with charlie asks charlie to give back half
as much again as it gets, weighted (docs/ledger.md). It does not, so alpha
holds new releases to charlie (the console's Ledger page charts it):
  go run ./cmd/detente ledger --dir %[1]s
  go run ./cmd/detente release check --dir %[1]s --object %[2]s --to charlie
  go run ./cmd/detente ledger release-hold --dir %[1]s --partner charlie --reason 'why'
`, alpha.Dir, "threat-actor--"+uuid(alpha.Name, 2))
}
