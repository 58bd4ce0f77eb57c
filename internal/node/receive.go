package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/policy"
	"detente/internal/stix"
)

// Outcomes of receiving one object from a partner.
const (
	ReceivedAdded       = "added"       // stored and usable
	ReceivedUnchanged   = "unchanged"   // already held
	ReceivedQuarantined = "quarantined" // stored apart: the ingress policy refused it
	ReceivedRejected    = "rejected"    // not stored: malformed, unsigned, bad signature, conflicting
)

// Receipt is the outcome for one object received from a partner.
type Receipt struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified,omitzero"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
}

// ReceiveResult sums up one batch received from a partner.
type ReceiveResult struct {
	Receipts                                []Receipt
	Added, Unchanged, Quarantined, Rejected int
}

// Receive takes objects a partner sent (pushed into the inbound collection,
// or pulled by sync) and stores them under the ingress policy, in one
// transaction:
//   - every object must be valid STIX and signed; a bad or missing
//     signature is rejected, never stored, and raised as an alert;
//   - the signer is the originator (the partner, or a third party whose
//     object the partner re-releases with consent; the original signature
//     travels unchanged);
//   - the ingress policy re-checks the object against this node's own
//     agreement with the sender; what violates it is quarantined: stored
//     apart with the reason, shown to admins, never released;
//   - each outcome is logged (receipt, quarantine or rejection).
//
// after, when set, runs in the same transaction (sync uses it to advance
// its cursor, so a crash never loses or doubles a page).
func (n *Node) Receive(ctx context.Context, from string, raws []json.RawMessage, after func(tx detente.Tx, res *ReceiveResult) error) (*ReceiveResult, error) {
	type item struct {
		v      *detente.ObjectVersion
		fields map[string]any
		reject string
		id     string
	}
	items := make([]item, len(raws))
	check := func(i int) { // parse and verify: most of the cost, so on every core
		raw := raws[i]
		o, err := stix.ParseObject(raw)
		if err != nil {
			items[i] = item{id: idOf(raw), reject: detente.ErrorMessage(err)}
			return
		}
		signer, signed, err := o.Verify()
		switch {
		case err != nil:
			items[i] = item{id: o.ID, reject: detente.ErrorMessage(err)}
			return
		case !signed:
			items[i] = item{id: o.ID, reject: "object is not signed: partners must send objects with their originator's signature"}
			return
		}
		v := o.ToVersion()
		v.Signer = signer
		items[i] = item{id: o.ID, v: v, fields: o.Fields}
	}
	parallel(len(raws), check)
	res := &ReceiveResult{}
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		*res = ReceiveResult{Receipts: make([]Receipt, 0, len(items))}
		partners, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		g := newGraph(ctx, tx)
		now := n.now()
		for _, it := range items {
			if it.v == nil {
				if err := n.reject(ctx, tx, res, from, it.id, time.Time{}, it.reject); err != nil {
					return err
				}
				continue
			}
			v := it.v
			v.Originator = originatorOf(v.Signer, n.PublicKey(), partners)
			v.Received = now
			d := policy.Ingress(g, policy.IngressRequest{Self: n.PublicKey(), SelfName: n.Name, From: from, Now: now, Object: v})
			if g.err != nil {
				return g.err
			}
			outcome := ReceivedAdded
			if !d.Allowed {
				v.Quarantine = denyText(d)
				outcome = ReceivedQuarantined
			}
			added, err := tx.PutObject(ctx, v)
			if detente.ErrorCode(err) == detente.ECONFLICT {
				if err := n.reject(ctx, tx, res, from, v.ID, v.Modified, detente.ErrorMessage(err)); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if !added {
				res.Unchanged++
				res.Receipts = append(res.Receipts, Receipt{ID: v.ID, Modified: v.Modified, Outcome: ReceivedUnchanged})
				continue
			}
			body := map[string]string{"id": v.ID, "modified": fmtTime(v.Modified), "originator": v.Originator, "from": from, "sha256": commit(v.Raw)}
			typ := detente.EventObjectReceived
			if outcome == ReceivedQuarantined {
				typ, body["reason"] = detente.EventObjectQuarantined, v.Quarantine
				res.Quarantined++
				alert := &detente.Alert{Time: now, Kind: detente.AlertQuarantine, Partner: from,
					Message: fmt.Sprintf("%s from %s quarantined: %s", v.Key(), from, v.Quarantine)}
				if err := tx.PutAlert(ctx, alert); err != nil {
					return err
				}
			} else {
				res.Added++
			}
			if err := n.logEvent(ctx, tx, typ, from, body); err != nil {
				return err
			}
			if err := n.noteDesignation(ctx, tx, v, it.fields); detente.ErrorCode(err) == detente.EINVALID {
				// A malformed designation must not block the rest of the
				// page: the object is kept, the designation is not.
				a := &detente.Alert{Time: now, Kind: detente.AlertQuarantine, Partner: from, Message: "designation ignored: " + detente.ErrorMessage(err)}
				if err := tx.PutAlert(ctx, a); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			res.Receipts = append(res.Receipts, Receipt{ID: v.ID, Modified: v.Modified, Outcome: outcome, Reason: v.Quarantine})
		}
		if after != nil {
			return after(tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", from, err)
	}
	if res.Quarantined+res.Rejected > 0 {
		n.Logger.WarnContext(ctx, "objects refused", "partner", from, "quarantined", res.Quarantined, "rejected", res.Rejected)
	}
	return res, nil
}

// reject records an object that could not be stored at all.
func (n *Node) reject(ctx context.Context, tx detente.Tx, res *ReceiveResult, from, id string, modified time.Time, reason string) error {
	res.Rejected++
	res.Receipts = append(res.Receipts, Receipt{ID: id, Modified: modified, Outcome: ReceivedRejected, Reason: reason})
	a := &detente.Alert{Time: n.now(), Kind: detente.AlertQuarantine, Partner: from,
		Message: fmt.Sprintf("object %s from %s rejected: %s", id, from, reason)}
	if err := tx.PutAlert(ctx, a); err != nil {
		return err
	}
	return n.logEvent(ctx, tx, detente.EventObjectQuarantined, from, map[string]string{"id": id, "from": from, "rejected": reason})
}

// denyText summarises the denying reasons of a decision.
func denyText(d detente.Decision) string {
	var parts []string
	for _, r := range d.Reasons {
		if r.Deny {
			parts = append(parts, r.Code+": "+r.Detail)
		}
	}
	return strings.Join(parts, "; ")
}

// idOf digs the id out of an object that did not parse, for reporting.
func idOf(raw []byte) string {
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &o) != nil || o.ID == "" || len(o.ID) > 200 {
		return "(unknown id)"
	}
	return o.ID
}
