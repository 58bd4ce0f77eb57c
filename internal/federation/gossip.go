package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/translog"
)

// gossip asks this node's other partners which checkpoint of owner's log
// (origin) they last accepted, and checks that theirs and this node's,
// mine, are consistent: a log that shows two partners different histories
// is caught here, though each partner alone sees a consistent log.
//
// Asking reveals to a partner that this node witnesses the same log, that
// is, that it is a partner of the same node; the answer is a checkpoint it
// could fetch from the owner itself.
func (s *Service) gossip(ctx context.Context, owner *detente.Partner, origin string, mine []byte) error {
	ps, err := s.partners(ctx)
	if err != nil {
		return err
	}
	for _, q := range ps {
		if q.Name == owner.Name || q.State != detente.PartnerActive || q.URL == "" {
			continue
		}
		qc, err := s.peer(q)
		if err != nil {
			return err
		}
		theirs, err := qc.Witnessed(ctx, origin)
		qc.Close()
		if err != nil || len(theirs) == 0 {
			continue // q does not witness this log, or is down: nothing to compare
		}
		a, err1 := translog.ParseCheckpoint(mine, origin, ed25519.PublicKey(owner.Key))
		b, err2 := translog.ParseCheckpoint(theirs, origin, ed25519.PublicKey(owner.Key))
		if err1 != nil || err2 != nil {
			continue // not validly signed by the owner: proves nothing
		}
		small, large := a, b
		if small.Size > large.Size {
			small, large = large, small
		}
		var proof tlog.TreeProof
		if small.Size > 0 && large.Size > small.Size {
			oc, err := s.peer(owner)
			if err != nil {
				return err
			}
			proof, err = oc.ConsistencyProof(ctx, small.Size, large.Size)
			oc.Close()
			if err != nil {
				return fmt.Errorf("gossip about %s: %w", owner.Name, err)
			}
		}
		w := &translog.Witness{Name: s.WitnessName(), Key: s.key}
		_, _, err = w.Update(origin, ed25519.PublicKey(owner.Key), small.Note, large.Note, proof, s.clock())
		var inc *translog.InconsistencyError
		if errors.As(err, &inc) {
			s.raiseSplitView(ctx, owner.Name, inc)
			return detente.Errorf(detente.ECONFLICT, "split view: %s showed %s a different history of its log: alert raised", owner.Name, q.Name)
		}
	}
	return nil
}
