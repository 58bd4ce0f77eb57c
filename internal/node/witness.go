package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"detente"
	"detente/internal/translog"

	"golang.org/x/mod/sumdb/tlog"
)

// WitnessName is the key name under which this node cosigns its partners'
// checkpoints.
func (n *Node) WitnessName() string { return n.Origin() + "/witness" }

// witnessKey is the store setting holding the last checkpoint note of
// partner's log this node accepted as a witness.
func witnessKey(partner string) string { return "witness/" + partner }

// maxNote bounds a checkpoint note fetched from a partner.
const maxNote = 64 << 10

// LogOriginOf checks that origin names a log signed by key, as
// translog.Origin builds it, and returns it.
func LogOriginOf(origin string, key detente.PublicKey) error {
	name, _, ok := strings.Cut(strings.TrimPrefix(origin, translog.OriginPrefix), "/")
	if !ok || translog.Origin(name, ed25519.PublicKey(key)) != origin {
		return detente.Errorf(detente.EINVALID, "log origin %q is not bound to the partner's pinned key", origin)
	}
	return nil
}

// Witness fetches partner p's latest checkpoint, checks that it extends the
// last one this node accepted (with p's consistency proof), cosigns it and
// returns the cosignature to p. A checkpoint inconsistent with what this
// node saw before (a fork, a rewrite, a tree that shrank) is refused and
// raises an alert carrying both signed checkpoints as evidence. Then it
// compares notes with the node's other partners that witness p (gossip):
// two different views of p's log prove a split view.
func (n *Node) Witness(ctx context.Context, hc *http.Client, p *detente.Partner) error {
	base := strings.TrimSuffix(p.URL, "/")
	next, err := getBytes(ctx, hc, base+"/detente/v1/log/checkpoint", maxNote)
	if err != nil {
		return fmt.Errorf("witness %s: %w", p.Name, err)
	}
	origin, _, _ := bytes.Cut(next, []byte("\n"))
	if err := LogOriginOf(string(origin), p.Key); err != nil {
		return fmt.Errorf("witness %s: %w", p.Name, err)
	}
	var last []byte
	err = n.Store.View(ctx, func(tx detente.Tx) error {
		v, err := tx.Meta(ctx, witnessKey(p.Name))
		if err == nil && v != "" { // "": none since the key changed (UpdatePartner)
			last = []byte(v)
		} else if err != nil && detente.ErrorCode(err) != detente.ENOTFOUND {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	cp, line, err := n.checkAgainst(ctx, hc, p, string(origin), last, next)
	if err != nil {
		return err
	}
	if err := n.Store.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, witnessKey(p.Name), string(cp.Note)) }); err != nil {
		return err
	}
	body, _ := json.Marshal(CosignatureWire{Witness: n.WitnessName(), Size: cp.Size, Line: string(line)})
	if err := postJSON(ctx, hc, base+"/detente/v1/log/cosignature", body); err != nil {
		return fmt.Errorf("witness %s: return cosignature: %w", p.Name, err)
	}
	if err := n.fetchReceipts(ctx, hc, p, cp); err != nil {
		return err
	}
	return n.gossip(ctx, p, string(origin), cp.Note)
}

// checkAgainst verifies next against last (fetching p's consistency proof
// between them) and returns the checkpoint and a cosignature line. An
// inconsistency raises an alert with both notes and is returned.
func (n *Node) checkAgainst(ctx context.Context, hc *http.Client, p *detente.Partner, origin string, last, next []byte) (*translog.Checkpoint, []byte, error) {
	w := &translog.Witness{Name: n.WitnessName(), Key: n.Key}
	var proof tlog.TreeProof
	if last != nil {
		old, err1 := translog.ParseCheckpoint(last, origin, ed25519.PublicKey(p.Key))
		cur, err2 := translog.ParseCheckpoint(next, origin, ed25519.PublicKey(p.Key))
		if err1 == nil && err2 == nil && old.Size > 0 && cur.Size > old.Size {
			var err error
			if proof, err = n.fetchConsistency(ctx, hc, p, old.Size, cur.Size); err != nil {
				return nil, nil, fmt.Errorf("witness %s: %w", p.Name, err)
			}
		}
	}
	cp, line, err := w.Update(origin, ed25519.PublicKey(p.Key), last, next, proof, n.now())
	var inc *translog.InconsistencyError
	if errors.As(err, &inc) {
		n.raiseSplitView(ctx, p.Name, inc)
		return nil, nil, detente.Errorf(detente.ECONFLICT, "partner %s's log is inconsistent with what this node saw before (%s): alert raised", p.Name, inc.Kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("witness %s: %w", p.Name, err)
	}
	return cp, line, nil
}

// raiseSplitView records an inconsistency of a partner's log as an alert
// with both checkpoints as evidence, and logs it.
func (n *Node) raiseSplitView(ctx context.Context, partner string, inc *translog.InconsistencyError) {
	evidence, _ := json.Marshal(map[string]string{"kind": string(inc.Kind), "old": string(inc.Old.Note), "new": string(inc.New.Note)})
	a := &detente.Alert{Time: n.now(), Kind: detente.AlertSplitView, Partner: partner,
		Message: fmt.Sprintf("%s's log: %v", partner, inc), Evidence: evidence}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutAlert(ctx, a); err != nil {
			return err
		}
		return n.logEvent(ctx, tx, "log.inconsistent", partner, map[string]string{"kind": string(inc.Kind), "evidence_sha256": commit(evidence)})
	})
	if err != nil {
		n.Logger.ErrorContext(ctx, "could not record a split view", "partner", partner, "err", err)
	}
	n.Logger.ErrorContext(ctx, "partner log inconsistent", "partner", partner, "kind", inc.Kind)
}

// gossip asks this node's other partners which checkpoint of the same log
// they last accepted, and checks that it and this node's are consistent: a
// log that shows two partners different histories is caught here.
func (n *Node) gossip(ctx context.Context, owner *detente.Partner, origin string, mine []byte) error {
	ps, err := n.Partners(ctx)
	if err != nil {
		return err
	}
	for _, q := range ps {
		if q.Name == owner.Name || q.State != detente.PartnerActive || q.URL == "" {
			continue
		}
		hc, err := n.PartnerClient(q)
		if err != nil {
			return err
		}
		theirs, err := getBytes(ctx, hc, strings.TrimSuffix(q.URL, "/")+"/detente/v1/log/witnessed?origin="+url.QueryEscape(origin), maxNote)
		hc.CloseIdleConnections()
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
			ohc, err := n.PartnerClient(owner)
			if err != nil {
				return err
			}
			proof, err = n.fetchConsistency(ctx, ohc, owner, small.Size, large.Size)
			ohc.CloseIdleConnections()
			if err != nil {
				return fmt.Errorf("gossip about %s: %w", owner.Name, err)
			}
		}
		w := &translog.Witness{Name: n.WitnessName(), Key: n.Key}
		_, _, err = w.Update(origin, ed25519.PublicKey(owner.Key), small.Note, large.Note, proof, n.now())
		var inc *translog.InconsistencyError
		if errors.As(err, &inc) {
			n.raiseSplitView(ctx, owner.Name, inc)
			return detente.Errorf(detente.ECONFLICT, "split view: %s showed %s a different history of its log: alert raised", owner.Name, q.Name)
		}
	}
	return nil
}

// WitnessedCheckpoint returns the last checkpoint note this node accepted
// for the log origin, nil if it witnesses no such log.
func (n *Node) WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error) {
	ps, err := n.Partners(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if LogOriginOf(origin, p.Key) != nil {
			continue
		}
		var note []byte
		err := n.Store.View(ctx, func(tx detente.Tx) error {
			v, err := tx.Meta(ctx, witnessKey(p.Name))
			if err == nil {
				if v != "" {
					note = []byte(v)
				}
				return nil
			}
			if detente.ErrorCode(err) == detente.ENOTFOUND {
				return nil
			}
			return err
		})
		return note, err
	}
	return nil, nil
}

// CosignatureWire is a witness's cosignature returned to the log's node.
type CosignatureWire struct {
	Witness string `json:"witness"` // the witness's key name
	Size    int64  `json:"size"`    // the checkpoint's tree size
	Line    string `json:"line"`    // the signature line, "— name base64\n"
}

// AddCosignature verifies and stores a partner's cosignature of one of
// this node's checkpoints.
func (n *Node) AddCosignature(ctx context.Context, from *detente.Partner, c CosignatureWire) error {
	if err := LogOriginOf(strings.TrimSuffix(c.Witness, "/witness"), from.Key); err != nil || !strings.HasSuffix(c.Witness, "/witness") {
		return detente.Errorf(detente.EINVALID, "witness name %q is not bound to your key", c.Witness)
	}
	return n.Store.Update(ctx, func(tx detente.Tx) error {
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

func (n *Node) fetchConsistency(ctx context.Context, hc *http.Client, p *detente.Partner, old, new int64) (tlog.TreeProof, error) {
	b, err := getBytes(ctx, hc, fmt.Sprintf("%s/detente/v1/log/consistency?old=%d&new=%d", strings.TrimSuffix(p.URL, "/"), old, new), 1<<20)
	if err != nil {
		return nil, err
	}
	var hashes []string
	if err := json.Unmarshal(b, &hashes); err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	proof := make(tlog.TreeProof, len(hashes))
	for i, h := range hashes {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(raw) != len(proof[i]) {
			return nil, errors.New("consistency proof: malformed hash")
		}
		copy(proof[i][:], raw)
	}
	return proof, nil
}

// EncodeProof renders proof hashes for the wire.
func EncodeProof(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func getBytes(ctx context.Context, hc *http.Client, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return b, nil
}

func postJSON(ctx context.Context, hc *http.Client, u string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// EventReleaseReceipt records, on the receiving side, a verified inclusion
// proof of a partner's log entry releasing objects to this node.
const EventReleaseReceipt = "release.receipt"

// maxReceipts bounds the receipts returned per request.
const maxReceipts = 1000

// ReceiptWire is one release entry of a node's log about the asking
// partner, with its inclusion proof in the tree of Size.
type ReceiptWire struct {
	Event *detente.Event `json:"event"`
	Size  int64          `json:"size"`
	Proof []string       `json:"proof"`
}

// ReleaseReceipts returns the log's release entries about partner after
// seq after, each with its inclusion proof in the tree of size size.
func (n *Node) ReleaseReceipts(ctx context.Context, partner string, after, size int64) ([]ReceiptWire, error) {
	out := []ReceiptWire{}
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		if err := checkSize(ctx, tx, size); err != nil {
			return err
		}
		es, err := tx.Events(ctx, detente.EventFilter{FromSeq: after + 1, Type: detente.EventRelease, Partner: partner, Limit: maxReceipts})
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Seq >= size {
				break
			}
			p, err := translog.ProveInclusion(ctx, translog.TxHashes(tx), size, e.Seq)
			if err != nil {
				return err
			}
			out = append(out, ReceiptWire{Event: e, Size: size, Proof: EncodeProof(p)})
		}
		return nil
	})
	return out, err
}

func receiptsKey(partner string) string { return "receipts/" + partner }

// fetchReceipts takes p's release entries about this node since the last
// ones taken, verifies each one's inclusion in the checkpoint cp this node
// has just witnessed, and records them: neither side can later deny what
// was released.
func (n *Node) fetchReceipts(ctx context.Context, hc *http.Client, p *detente.Partner, cp *translog.Checkpoint) error {
	var after int64 = -1
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		v, err := tx.Meta(ctx, receiptsKey(p.Name))
		if err == nil {
			after, err = strconv.ParseInt(v, 10, 64)
			return err
		}
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	for {
		b, err := getBytes(ctx, hc, fmt.Sprintf("%s/detente/v1/log/receipts?after=%d&size=%d", strings.TrimSuffix(p.URL, "/"), after, cp.Size), 64<<20)
		if err != nil {
			return fmt.Errorf("receipts from %s: %w", p.Name, err)
		}
		var rs []ReceiptWire
		if err := json.Unmarshal(b, &rs); err != nil {
			return fmt.Errorf("receipts from %s: %w", p.Name, err)
		}
		if len(rs) == 0 {
			return nil
		}
		err = n.Store.Update(ctx, func(tx detente.Tx) error {
			for _, r := range rs {
				if r.Event == nil || r.Event.Seq <= after || r.Size != cp.Size {
					return detente.Errorf(detente.EINVALID, "receipts from %s are out of order", p.Name)
				}
				var proof tlog.RecordProof
				for _, h := range r.Proof {
					raw, err := base64.StdEncoding.DecodeString(h)
					if err != nil || len(raw) != 32 {
						return detente.Errorf(detente.EINVALID, "receipt %d from %s: malformed proof", r.Event.Seq, p.Name)
					}
					var x tlog.Hash
					copy(x[:], raw)
					proof = append(proof, x)
				}
				leaf := translog.LeafHash(r.Event)
				if err := tlog.CheckRecord(proof, cp.Size, cp.Root, r.Event.Seq, leaf); err != nil {
					return detente.Errorf(detente.ECONFLICT, "receipt %d from %s is not in its signed log: %v", r.Event.Seq, p.Name, err)
				}
				body := map[string]any{"partner_seq": r.Event.Seq, "tree_size": cp.Size, "leaf_hash": base64.StdEncoding.EncodeToString(leaf[:])}
				if err := n.logEvent(ctx, tx, EventReleaseReceipt, p.Name, body); err != nil {
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
