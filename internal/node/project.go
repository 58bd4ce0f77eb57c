package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"detente"
	"detente/internal/policy"
	"detente/internal/stix"
)

// project returns what partners receive of version o when the egress
// policy redacts the properties sels: the projection, signed by this node.
// The projection is no longer what the originator signed; for another
// originator's version this node's signature carries a relay statement
// naming the original signer and the hash of the original version, so
// receivers attribute the copy to its originator and apply its
// third-party rule (docs/stix.md). An error means the projection is not a
// valid STIX object: the version must then be withheld.
func (n *Node) project(o *detente.ObjectVersion, sels []string) ([]byte, error) {
	p, err := stix.Project(o.Raw, sels)
	if err != nil {
		return nil, err
	}
	return n.signProjection(o, p)
}

// signProjection signs p, a projection of version o, as project does.
func (n *Node) signProjection(o *detente.ObjectVersion, p []byte) ([]byte, error) {
	origin := o.OriginKey()
	if len(origin) == 0 || origin.Equal(n.PublicKey()) {
		return stix.Sign(p, n.Key, o.Grading)
	}
	r := stix.Relay{Origin: origin}
	if o.Relayed() || n.passedOn(o) {
		// A copy of a copy names the original version, as the first
		// relay's statement did (or the originator's own, for a
		// fingerprinted copy).
		so, err := stix.ParseObject(o.Raw)
		if err != nil {
			return nil, fmt.Errorf("stored version %s: %w", o.Key(), err)
		}
		prev, _ := so.RelayOf()
		r.SHA256 = prev.SHA256
	} else {
		h := sha256.Sum256(o.Raw)
		r.SHA256 = hex.EncodeToString(h[:])
	}
	return stix.SignRelayed(p, n.Key, o.Grading, r)
}

// redactedOf returns the selectors d redacts in object id.
func redactedOf(d detente.Decision, id string) []string {
	var sels []string
	for _, r := range d.Redacted {
		if rid, sel, ok := cutRedacted(r); ok && rid == id {
			sels = append(sels, sel)
		}
	}
	return sels
}

// cutRedacted splits a Decision.Redacted entry "id:selector". An id holds
// no colon, so the first one ends it; the selector may hold colons.
func cutRedacted(s string) (id, sel string, ok bool) {
	return strings.Cut(s, ":")
}

// unreleasable returns a warning for each stored version whose granular
// markings leave an invalid projection for a partner an agreement in
// force would otherwise release it to: it will be withheld from that
// partner. A fingerprinted version is checked in the form partners
// receive, not as the local copy with its markup.
func (n *Node) unreleasable(ctx context.Context, vs []*detente.ObjectVersion) ([]string, error) {
	var marked []*detente.ObjectVersion
	for _, v := range vs {
		if len(v.Granular) > 0 {
			marked = append(marked, v)
		}
	}
	if len(marked) == 0 {
		return nil, nil
	}
	var out []string
	err := n.Store.View(ctx, func(tx detente.Tx) error {
		out = out[:0]
		ps, err := tx.Partners(ctx)
		if err != nil {
			return err
		}
		now := n.now()
		for _, p := range ps {
			if p.State != detente.PartnerActive {
				continue
			}
			g := newGraph(tx)
			for _, v := range marked {
				d := policy.Egress(ctx, g, policy.Request{Self: n.PublicKey(), Partner: p.Name, Now: now, Object: v})
				if g.err != nil {
					return g.err
				}
				sels := redactedOf(d, v.ID)
				if !d.Allowed || len(sels) == 0 {
					continue
				}
				raw, err := n.Leak.Display(ctx, tx, v)
				if err != nil {
					return err
				}
				if _, err := stix.Project(raw, sels); err != nil {
					out = append(out, fmt.Sprintf("%s will be withheld from %s: removing %s leaves an object that is not valid STIX (%s)",
						v.ID, p.Name, strings.Join(sels, ", "), detente.ErrorMessage(err)))
				}
			}
		}
		return nil
	})
	return out, err
}
