package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/peer"
	"detente/internal/translog"
)

// WitnessName is the key name under which this node cosigns its partners'
// checkpoints.
func (s *Service) WitnessName() string { return s.origin() + "/witness" }

// witnessKey is the store setting holding the last checkpoint note of
// partner's log this node accepted as a witness.
func witnessKey(partner string) string { return "witness/" + partner }

// ForgetWitnessed forgets, in tx, what this node witnessed of partner's
// log: after the partner's key changed, its log is another log, witnessed
// afresh (an empty setting means none).
func ForgetWitnessed(ctx context.Context, tx detente.Tx, partner string) error {
	return tx.SetMeta(ctx, witnessKey(partner), "")
}

// checkOrigin checks that origin names a log signed by key, as
// translog.Origin builds it.
func checkOrigin(origin string, key detente.PublicKey) error {
	name, _, ok := strings.Cut(strings.TrimPrefix(origin, translog.OriginPrefix), "/")
	if !ok || translog.Origin(name, ed25519.PublicKey(key)) != origin {
		return detente.Errorf(detente.EINVALID, "log origin %q is not bound to the partner's pinned key", origin)
	}
	return nil
}

// Witness fetches partner p's latest checkpoint through pc, checks that it
// extends the last one this node accepted (with p's consistency proof),
// cosigns it and returns the cosignature to p. A checkpoint inconsistent
// with what this node saw before (a fork, a rewrite, a tree that shrank)
// is refused and raises an alert carrying both signed checkpoints as
// evidence. Then it takes p's release receipts, and compares notes with
// the node's other partners that witness p (gossip): two different views
// of p's log prove a split view.
func (s *Service) Witness(ctx context.Context, pc *peer.Client, p *detente.Partner) error {
	next, err := pc.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("witness %s: %w", p.Name, err)
	}
	origin, _, _ := bytes.Cut(next, []byte("\n"))
	if err := checkOrigin(string(origin), p.Key); err != nil {
		return fmt.Errorf("witness %s: %w", p.Name, err)
	}
	v, held, err := s.meta(ctx, witnessKey(p.Name))
	if err != nil {
		return err
	}
	var last []byte
	if held && v != "" { // "": forgotten since the partner's key changed
		last = []byte(v)
	}
	cp, line, err := s.checkAgainst(ctx, pc, p, string(origin), last, next)
	if err != nil {
		return err
	}
	if err := s.store.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, witnessKey(p.Name), string(cp.Note)) }); err != nil {
		return err
	}
	if err := pc.Cosign(ctx, peer.Cosignature{Witness: s.WitnessName(), Size: cp.Size, Line: string(line)}); err != nil {
		return fmt.Errorf("witness %s: return cosignature: %w", p.Name, err)
	}
	if err := s.fetchReceipts(ctx, pc, p, cp); err != nil {
		return err
	}
	return s.gossip(ctx, p, string(origin), cp.Note)
}

// checkAgainst verifies next against last (fetching p's consistency proof
// between them through pc) and returns the checkpoint and a cosignature
// line. An inconsistency raises an alert with both notes and is returned.
func (s *Service) checkAgainst(ctx context.Context, pc *peer.Client, p *detente.Partner, origin string, last, next []byte) (*translog.Checkpoint, []byte, error) {
	w := &translog.Witness{Name: s.WitnessName(), Key: s.key}
	var proof tlog.TreeProof
	if last != nil {
		old, err1 := translog.ParseCheckpoint(last, origin, ed25519.PublicKey(p.Key))
		cur, err2 := translog.ParseCheckpoint(next, origin, ed25519.PublicKey(p.Key))
		if err1 == nil && err2 == nil && old.Size > 0 && cur.Size > old.Size {
			var err error
			if proof, err = pc.ConsistencyProof(ctx, old.Size, cur.Size); err != nil {
				return nil, nil, fmt.Errorf("witness %s: %w", p.Name, err)
			}
		}
	}
	cp, line, err := w.Update(origin, ed25519.PublicKey(p.Key), last, next, proof, s.clock())
	var inc *translog.InconsistencyError
	if errors.As(err, &inc) {
		s.raiseSplitView(ctx, p.Name, inc)
		return nil, nil, detente.Errorf(detente.ECONFLICT, "partner %s's log is inconsistent with what this node saw before (%s): alert raised", p.Name, inc.Kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("witness %s: %w", p.Name, err)
	}
	return cp, line, nil
}

// raiseSplitView records an inconsistency of a partner's log as an alert
// with both checkpoints as evidence, and logs it.
func (s *Service) raiseSplitView(ctx context.Context, partner string, inc *translog.InconsistencyError) {
	evidence, _ := json.Marshal(map[string]string{"kind": string(inc.Kind), "old": string(inc.Old.Note), "new": string(inc.New.Note)})
	a := &detente.Alert{Time: s.clock(), Kind: detente.AlertSplitView, Partner: partner,
		Message: fmt.Sprintf("%s's log: %v", partner, inc), Evidence: evidence}
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutAlert(ctx, a); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, detente.EventLogInconsistent, partner, map[string]string{"kind": string(inc.Kind), "evidence_sha256": commit(evidence)})
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "could not record a split view", "partner", partner, "err", err)
	}
	s.logger.ErrorContext(ctx, "partner log inconsistent", "partner", partner, "kind", inc.Kind)
}

// WitnessedCheckpoint returns the last checkpoint note this node accepted
// for the log origin, nil if it witnesses no such log.
func (s *Service) WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error) {
	ps, err := s.partners(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if checkOrigin(origin, p.Key) != nil {
			continue
		}
		v, held, err := s.meta(ctx, witnessKey(p.Name))
		if err != nil || !held || v == "" {
			return nil, err
		}
		return []byte(v), nil
	}
	return nil, nil
}

// AddCosignature verifies and stores a partner's cosignature of one of
// this node's checkpoints: the witness name must be bound to the
// partner's pinned key, and the line must verify with it.
func (s *Service) AddCosignature(ctx context.Context, from *detente.Partner, c peer.Cosignature) error {
	if err := checkOrigin(strings.TrimSuffix(c.Witness, "/witness"), from.Key); err != nil || !strings.HasSuffix(c.Witness, "/witness") {
		return detente.Errorf(detente.EINVALID, "witness name %q is not bound to your key", c.Witness)
	}
	return s.store.Update(ctx, func(tx detente.Tx) error {
		cp, err := tx.Checkpoint(ctx, c.Size)
		if err != nil {
			return err
		}
		signed, err := translog.AddSignatures(cp.Note, []byte(c.Line))
		if err != nil {
			return detente.Errorf(detente.EINVALID, "cosignature line: %v", err)
		}
		if _, err := translog.VerifyCosignature(signed, c.Witness, ed25519.PublicKey(from.Key)); err != nil {
			return detente.Errorf(detente.EINVALID, "cosignature does not verify: %v", err)
		}
		return tx.PutCosignature(ctx, c.Size, from.Name, []byte(c.Line))
	})
}

// SignedCheckpoint returns the node's latest signed checkpoint with the
// cosignatures its witnesses returned, signing one of the current size
// first if its log grew: what a witness fetches.
func (s *Service) SignedCheckpoint(ctx context.Context) ([]byte, error) {
	if _, err := s.log.Checkpoint(ctx); err != nil {
		return nil, err
	}
	note, _, err := s.log.LatestCheckpoint(ctx)
	return note, err
}

// ConsistencyProof proves, for a witness, that the node's tree of size
// oldSize is a prefix of its tree of size newSize.
func (s *Service) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	return s.log.ConsistencyProof(ctx, oldSize, newSize)
}

// InclusionProof proves, for a partner, that entry seq of the node's log
// is in its tree of size size.
func (s *Service) InclusionProof(ctx context.Context, seq, size int64) (tlog.RecordProof, error) {
	return s.log.InclusionProof(ctx, seq, size)
}
