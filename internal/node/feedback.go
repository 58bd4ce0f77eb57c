package node

import (
	"context"
	"fmt"

	"detente"
	"detente/internal/ledger"
)

// FeedbackResult is what became of a sighting or opinion sent back to an
// object's originator.
type FeedbackResult struct {
	ID       string           `json:"id"`      // the sighting's or opinion's STIX id
	Partner  string           `json:"partner"` // the originator it goes to
	Decision detente.Decision `json:"decision"`
	// Delivered is set when the partner's inbound collection took it; when
	// not, the partner still gets it on its next pull of its view.
	Delivered     bool   `json:"delivered"`
	DeliveryError string `json:"delivery_error,omitempty"`
}

// SendFeedback sends a sighting of, or an opinion about, an object this
// node received back to its originator: the node signs and stores it as
// its own, releases it to the originator under the egress policy
// (recorded and logged as any release, counted as feedback in the
// ledger), and pushes the release to the partner's inbound collection.
// A denied release is a result, not an error: the feedback stays held
// here, and goes with the partner's next pull once the policy allows.
func (n *Node) SendFeedback(ctx context.Context, f ledger.Feedback) (*FeedbackResult, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	var o *detente.ObjectVersion
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { o, err = tx.Object(ctx, detente.NormalID(f.Object)); return }); err != nil {
		return nil, err
	}
	raw, err := f.Build(o, n.now())
	if err != nil {
		return nil, err
	}
	b := `{"type":"bundle","id":"bundle--` + detente.NewUUID() + `","objects":[` + string(raw) + `]}`
	ing, err := n.Ingest(ctx, []byte(b), IngestOptions{})
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	if len(ing.Objects) != 1 || ing.Objects[0].Status != IngestAdded {
		return nil, detente.Errorf(detente.EINTERNAL, "feedback: the %s was not stored: %+v", f.Kind, ing.Objects)
	}
	res := &FeedbackResult{ID: ing.Objects[0].ID, Partner: o.Originator}
	rel, err := n.Release(ctx, res.ID, o.Originator)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	res.Decision = rel.Decision
	if !rel.Decision.Allowed {
		return res, nil
	}
	if err := n.Federation.Push(ctx, o.Originator, rel.Bundle); err != nil {
		res.DeliveryError = detente.ErrorMessage(err)
		n.Logger.WarnContext(ctx, "feedback not pushed: the partner gets it on its next pull", "partner", o.Originator, "err", err)
	} else {
		res.Delivered = true
	}
	return res, nil
}
