package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/federation"
	"detente/internal/ledger"
	"detente/internal/policy"
	"detente/internal/stix"
)

// Outcomes of receiving one object from a partner.
const (
	ReceivedAdded       = "added"       // stored and usable
	ReceivedUnchanged   = "unchanged"   // already held
	ReceivedQuarantined = "quarantined" // stored apart: the ingress policy or id ownership refused it
	ReceivedRejected    = "rejected"    // not stored: malformed, unsigned, bad signature, times out of bounds
	ReceivedConflict    = "conflict"    // not stored: another version with the same id and modified is held
	ReceivedPredefined  = "predefined"  // a predefined TLP marking-definition: the node has its own, never stored
)

// Receipt is the outcome for one object received from a partner.
type Receipt struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified,omitzero"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
}

// Public returns what the sending partner is told of r: only what depends
// on the bytes it sent. A rejection (malformed, unsigned, bad signature,
// times out of bounds) is reported with its reason; every other outcome is
// "received", so that whether this node held the id or version, and what
// it decided, is no oracle for the partner.
func (r Receipt) Public() (ok bool, message string) {
	if r.Outcome == ReceivedRejected {
		return false, r.Outcome + ": " + r.Reason
	}
	return true, "received"
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
//     signature, or a created or modified time beyond the clock skew
//     allowed, is rejected, never stored, and raised as an alert;
//   - the signer is the originator (the partner, or a third party whose
//     object the partner re-releases with consent; the original signature
//     travels unchanged), or, for a redacted projection another node
//     relayed, the original signer its relay statement names;
//   - id ownership: a version whose originator does not own its id (the
//     originator of the id's first version) is quarantined as a
//     foreign-version, and so is a relayed copy naming this node as its
//     originator; it changes no decision;
//   - the ingress policy re-checks the object against this node's own
//     agreement with the sender; what violates it is quarantined: stored
//     apart with the reason, shown to admins, never released;
//   - each outcome is logged (receipt, quarantine or rejection).
//
// The partner is told only Receipt.Public of each outcome.
//
// after, when set, runs in the same transaction (sync uses it to advance
// its cursor, so a crash never loses or doubles a page).
func (n *Node) Receive(ctx context.Context, from string, raws []json.RawMessage, after func(tx detente.Tx, res *ReceiveResult) error) (*ReceiveResult, error) {
	type item struct {
		v          *detente.ObjectVersion
		fields     map[string]any
		reject     string
		predefined bool
		id         string
	}
	self := n.PublicKey()
	now := n.now()
	items := make([]item, len(raws))
	check := func(i int) { // parse and verify: most of the cost, so on every core
		raw := raws[i]
		o, err := stix.ParseObject(raw)
		if err != nil {
			items[i] = item{id: idOf(raw), reject: detente.ErrorMessage(err)}
			return
		}
		if stix.IsPredefined(o.ID) {
			items[i] = item{id: o.ID, predefined: true}
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
		if err := n.checkTimes(v, now); err != nil {
			items[i] = item{id: o.ID, reject: detente.ErrorMessage(err)}
			return
		}
		items[i] = item{id: o.ID, v: v, fields: o.Fields}
	}
	parallel(len(raws), check)
	res := &ReceiveResult{}
	var noted corroborationNotes // added, quarantined or not
	err := n.Store.Update(ctx, func(tx detente.Tx) error {
		*res = ReceiveResult{Receipts: make([]Receipt, 0, len(items))}
		noted.reset()
		partners, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		g := newGraph(tx)
		retired, err := detente.RetiredKeysIn(ctx, tx)
		if err != nil {
			return err
		}
		// What is decided by the bytes alone (predefined TLP definitions,
		// objects malformed, unsigned or out of time) is logged as one
		// entry for the batch: its size tells the partner nothing it did
		// not send, and a flood of junk cannot grow the log without bound.
		var unstored unstoredBatch
		for _, it := range items {
			if it.predefined {
				res.Unchanged++
				res.Receipts = append(res.Receipts, Receipt{ID: it.id, Outcome: ReceivedPredefined})
				unstored.predefined++
				continue
			}
			if it.v == nil {
				res.Rejected++
				res.Receipts = append(res.Receipts, Receipt{ID: it.id, Outcome: ReceivedRejected, Reason: it.reject})
				unstored.reject(it.id, it.reject)
				continue
			}
			v := it.v
			v.Originator = detente.OriginatorOf(v.OriginKey(), self, partners)
			v.Received = now
			d := policy.Ingress(ctx, g, policy.IngressRequest{Self: self, SelfName: n.Name, From: from, Now: now, Object: v})
			if g.err != nil {
				return g.err
			}
			if !d.Allowed {
				v.Quarantine = denyText(d)
			}
			// A retired key (often changed because it leaked) speaks for
			// no one any more, as signer or as the origin a relay names.
			retired.Quarantine(v)
			if v.Relayed() && v.OriginKey().Equal(self) {
				// Nobody relays this node's own objects back to it: a
				// "copy" of its own is words put in its mouth.
				v.AddQuarantine(detente.QuarantineForeign, "a relayed copy names this node as its originator")
			}
			// A partner's fingerprinted copy of a version this node
			// marked, coming back, is that version: unchanged.
			own, err := n.Leak.OwnCopy(ctx, tx, v)
			if err != nil {
				return err
			}
			// Anything else signed with this node's own key is a copy it
			// made itself (a redacted projection, a relay) coming back:
			// nobody else can sign with the key, and it holds the
			// original, so it is unchanged, not a conflicting version.
			own = own || v.Signer.Equal(self)
			added := false
			if !own {
				added, err = tx.PutObject(ctx, v)
			}
			if detente.ErrorCode(err) == detente.ECONFLICT {
				if err := n.reject(ctx, tx, res, from, v.ID, v.Modified, ReceivedConflict, detente.ErrorMessage(err)); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if added {
				noted.add(v, it.fields)
			}
			body := map[string]any{"id": v.ID, "modified": fmtTime(v.Modified), "originator": v.Originator, "from": from, "sha256": commit(v.Raw)}
			if v.Quarantine == "" || !added {
				// What the version was worth to this node, for the ledger.
				if body["worth"], err = ledger.Received(ctx, tx, v, it.fields, added, self); err != nil {
					return err
				}
			}
			typ, outcome := detente.EventObjectReceived, ReceivedAdded
			switch {
			case !added:
				outcome = ReceivedUnchanged
				body["outcome"] = outcome
				res.Unchanged++
			case v.Quarantine != "":
				outcome = ReceivedQuarantined
				typ, body["reason"] = detente.EventObjectQuarantined, v.Quarantine
				res.Quarantined++
				alert := &detente.Alert{Key: detente.NormalID(v.ID), Time: now, Kind: detente.AlertQuarantine, Partner: from,
					Message: fmt.Sprintf("%s from %s quarantined: %s", v.Key(), from, detente.NameKeys(v.Quarantine, self, partners, nil))}
				if err := tx.PutAlert(ctx, alert); err != nil {
					return err
				}
			default:
				res.Added++
				designation, err := n.Screening.NoteDesignation(ctx, tx, v, it.fields)
				switch {
				case detente.ErrorCode(err) == detente.EINVALID:
					// A malformed designation must not block the rest of the
					// page: the object is kept, the designation is not.
					a := &detente.Alert{Key: "designation/" + detente.NormalID(v.ID), Time: now, Kind: detente.AlertQuarantine, Partner: from, Message: "designation ignored: " + detente.ErrorMessage(err)}
					if err := tx.PutAlert(ctx, a); err != nil {
						return err
					}
				case err != nil:
					return err
				case designation != nil:
					body["designation"] = designation // within this entry: one entry per object
				}
			}
			if err := n.logEvent(ctx, tx, typ, from, body); err != nil {
				return err
			}
			res.Receipts = append(res.Receipts, Receipt{ID: v.ID, Modified: v.Modified, Outcome: outcome, Reason: v.Quarantine})
		}
		if err := n.logUnstored(ctx, tx, from, &unstored); err != nil {
			return err
		}
		if after != nil {
			return after(tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", from, err)
	}
	n.noteStored(noted)
	if res.Quarantined+res.Rejected > 0 {
		n.Logger.WarnContext(ctx, "objects refused", "partner", from, "quarantined", res.Quarantined, "rejected", res.Rejected)
	}
	return res, nil
}

// receiveForSync is Receive as federation's sync stores each page it
// pulls: with the cursor moved in the same transaction (after).
func (n *Node) receiveForSync(ctx context.Context, from string, raws []json.RawMessage, after func(tx detente.Tx, r federation.Received) error) error {
	_, err := n.Receive(ctx, from, raws, func(tx detente.Tx, r *ReceiveResult) error {
		return after(tx, federation.Received{Added: r.Added, Unchanged: r.Unchanged, Quarantined: r.Quarantined, Rejected: r.Rejected})
	})
	return err
}

// checkTimes refuses a version whose created or modified time lies more
// than the allowed clock skew (MaxSkew) after now: a version dated in the
// future would stay the newest, whatever its owner signs later.
func (n *Node) checkTimes(v *detente.ObjectVersion, now time.Time) error {
	limit := now.Add(n.maxSkew())
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"created", v.Created}, {"modified", v.Modified}} {
		if t.at.After(limit) {
			return detente.Errorf(detente.EINVALID, "%s: %s %s is more than %s in the future",
				v.ID, t.name, fmtTime(t.at), n.maxSkew())
		}
	}
	return nil
}

// reject records an object that could not be stored at all: outcome is
// ReceivedRejected or ReceivedConflict.
func (n *Node) reject(ctx context.Context, tx detente.Tx, res *ReceiveResult, from, id string, modified time.Time, outcome, reason string) error {
	res.Rejected++
	res.Receipts = append(res.Receipts, Receipt{ID: id, Modified: modified, Outcome: outcome, Reason: reason})
	a := &detente.Alert{Key: "rejected/" + detente.NormalID(id), Time: n.now(), Kind: detente.AlertQuarantine, Partner: from,
		Message: fmt.Sprintf("object %s from %s rejected: %s", id, from, reason)}
	if err := tx.PutAlert(ctx, a); err != nil {
		return err
	}
	return n.logEvent(ctx, tx, detente.EventObjectQuarantined, from, map[string]string{"id": id, "from": from, "rejected": reason})
}

// unstoredBatch sums up the objects of one batch decided by their bytes
// alone: predefined TLP definitions, and objects rejected before the
// store (malformed, unsigned, badly signed, out of time).
type unstoredBatch struct {
	predefined, rejected int
	examples             []map[string]string // the first maxExamples rejections
}

// maxExamples bounds the rejections a batch's log entry and alert name.
const maxExamples = 20

func (b *unstoredBatch) reject(id, reason string) {
	b.rejected++
	if len(b.examples) < maxExamples {
		b.examples = append(b.examples, map[string]string{"id": id, "reason": reason})
	}
}

// logUnstored writes one log entry for the batch's unstored objects, and
// one alert (updated in place, per partner) when some were rejected.
func (n *Node) logUnstored(ctx context.Context, tx detente.Tx, from string, b *unstoredBatch) error {
	if b.predefined == 0 && b.rejected == 0 {
		return nil
	}
	body := map[string]any{"from": from, "outcome": "not-stored", "predefined": b.predefined, "rejected": b.rejected}
	if b.rejected > 0 {
		body["examples"] = b.examples
		first := b.examples[0]
		a := &detente.Alert{Key: "rejected/" + from, Time: n.now(), Kind: detente.AlertQuarantine, Partner: from,
			Message: fmt.Sprintf("%d object(s) from %s rejected, e.g. %s: %s", b.rejected, from, first["id"], first["reason"])}
		if err := tx.PutAlert(ctx, a); err != nil {
			return err
		}
	}
	return n.logEvent(ctx, tx, detente.EventObjectQuarantined, from, body)
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
