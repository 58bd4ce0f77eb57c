package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/peer"
	"detente/internal/translog"
)

// maxReceipts bounds the receipts returned per request.
const maxReceipts = 1000

// ReleaseReceipts returns the log's release entries about partner after
// seq after, each with its inclusion proof in the tree of size size: what
// the partner needs so that neither side can later deny a release.
func (s *Service) ReleaseReceipts(ctx context.Context, partner string, after, size int64) ([]peer.Receipt, error) {
	out := []peer.Receipt{}
	err := s.store.View(ctx, func(tx detente.Tx) error {
		have, err := tx.CountEvents(ctx)
		if err != nil {
			return err
		}
		if size < 1 || size > have {
			return detente.Errorf(detente.EINVALID, "tree size %d is not between 1 and the log's size %d", size, have)
		}
		// Receipts are for what was released: a decision to refuse the
		// partner something is the node's own record, never shown to it.
		for from := after + 1; len(out) == 0 && from < size; {
			es, err := tx.Events(ctx, detente.EventFilter{FromSeq: from, Type: detente.EventRelease, Partner: partner, Limit: maxReceipts})
			if err != nil {
				return err
			}
			if len(es) == 0 {
				break
			}
			for _, e := range es {
				from = e.Seq + 1
				if e.Seq >= size {
					return nil
				}
				if !released(e) {
					continue
				}
				p, err := translog.ProveInclusion(ctx, translog.TxHashes(tx), size, e.Seq)
				if err != nil {
					return err
				}
				out = append(out, peer.Receipt{Event: e, Size: size, Proof: p})
			}
		}
		return nil
	})
	return out, err
}

// receiptsKey is the store setting holding the seq of the last release
// entry of partner's log this node holds a receipt for.
func receiptsKey(partner string) string { return "receipts/" + partner }

// fetchReceipts takes p's release entries about this node since the last
// ones taken, verifies each one's inclusion in the checkpoint cp this node
// has just witnessed, and records them: neither side can later deny what
// was released.
func (s *Service) fetchReceipts(ctx context.Context, pc *peer.Client, p *detente.Partner, cp *translog.Checkpoint) error {
	var after int64 = -1
	if v, held, err := s.meta(ctx, receiptsKey(p.Name)); err != nil {
		return err
	} else if held {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			return err
		}
	}
	for {
		rs, err := pc.Receipts(ctx, after, cp.Size)
		if err != nil {
			return fmt.Errorf("receipts from %s: %w", p.Name, err)
		}
		if len(rs) == 0 {
			return nil
		}
		err = s.store.Update(ctx, func(tx detente.Tx) error {
			for _, r := range rs {
				if r.Event == nil || r.Event.Seq <= after || r.Size != cp.Size {
					return detente.Errorf(detente.EINVALID, "receipts from %s are out of order", p.Name)
				}
				leaf := translog.LeafHash(r.Event)
				if err := tlog.CheckRecord(r.Proof, cp.Size, cp.Root, r.Event.Seq, leaf); err != nil {
					return detente.Errorf(detente.ECONFLICT, "receipt %d from %s is not in its signed log: %v", r.Event.Seq, p.Name, err)
				}
				body := map[string]any{"partner_seq": r.Event.Seq, "tree_size": cp.Size, "leaf_hash": base64.StdEncoding.EncodeToString(leaf[:])}
				if err := s.logEvent(ctx, tx, detente.EventReleaseReceipt, p.Name, body); err != nil {
					return err
				}
				after = r.Event.Seq
			}
			return tx.SetMeta(ctx, receiptsKey(p.Name), strconv.FormatInt(after, 10))
		})
		if err != nil {
			return err
		}
		if len(rs) < maxReceipts {
			return nil
		}
	}
}

// released reports whether a release event records something released.
func released(e *detente.Event) bool {
	var b struct {
		Allowed bool `json:"allowed"`
	}
	return json.Unmarshal(e.Body, &b) == nil && b.Allowed
}
