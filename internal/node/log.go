package node

import (
	"context"

	"detente"
)

// Alerts returns the newest alerts raised for the operators, at most
// limit of them.
func (n *Node) Alerts(ctx context.Context, limit int) ([]*detente.Alert, error) {
	var as []*detente.Alert
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { as, err = tx.Alerts(ctx, limit); return })
	return as, err
}
