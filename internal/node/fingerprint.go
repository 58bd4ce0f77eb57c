package node

import (
	"bytes"
	"context"

	"detente"
	"detente/internal/leak"
	"detente/internal/stix"
)

// served returns the bytes partner receives of version o, which decision
// d allows: the one place that computes them, for release bundles and
// TAXII views alike. A version this node marked for fingerprinting goes
// as the partner's own copy (returned, to be recorded with the release
// event: leak.Service.Released); a fingerprinted copy another node gave
// this one goes on as this node's relay of it; a version with redacted
// properties as its projection; any other as it is stored. bad is set
// when what the partner would receive is not valid STIX: the version must
// then be withheld from it; err is any other failure.
func (n *Node) served(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion, partner *detente.Partner, d detente.Decision) (raw []byte, c *leak.Copy, bad, err error) {
	if o.Signer.Equal(partner.Key) {
		// The partner's own signed bytes go back to it as they are: it
		// wrote every part a projection would remove, and a projection
		// would be a second version of its own object under its key.
		return o.Raw, nil, nil, nil
	}
	sels := redactedOf(d, o.ID)
	marked, err := n.Leak.Marked(ctx, tx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case marked:
		c, bad := n.Leak.Fingerprint(o, partner.Name, partner.Key, sels)
		if bad != nil {
			return nil, nil, bad, nil
		}
		return c.Raw, c, nil, nil
	case len(sels) > 0 || n.passedOn(o) && !o.OriginKey().Equal(partner.Key):
		// Back to its originator, a copy goes as it is: the originator
		// knows its own signature and counts it as unchanged.
		p, bad := n.project(o, sels)
		return p, nil, bad, nil
	}
	return o.Raw, nil, nil, nil
}

// local returns what the node's own tools receive of o over TAXII (the
// local collection): the stored bytes, or for a fingerprinted version,
// whose stored copy holds the markup (and is not valid STIX where a
// canary stands for a timestamp), its display form, signed by this node.
// No partner ever receives the display form.
func (n *Node) local(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion) ([]byte, error) {
	if marked, err := n.Leak.Marked(ctx, tx, o); err != nil || !marked {
		return o.Raw, err // Marked looks at the bytes before the store
	}
	d, err := n.Leak.DisplayMarked(o)
	if err != nil {
		return nil, err
	}
	return stix.Sign(d, n.Key, o.Grading)
}

// passedOn reports whether o is a fingerprinted copy another node gave
// this one (signed by its originator with a relay statement naming
// itself): passed on, it goes as this node's relay, so that a partner
// holding its own copy files it as a relayed copy instead of refusing it
// as a conflicting version.
func (n *Node) passedOn(o *detente.ObjectVersion) bool {
	return !o.Relayed() && len(o.Signer) > 0 && !o.Signer.Equal(n.PublicKey()) &&
		bytes.Contains(o.Raw, []byte(`"origin_signer":"`+o.Signer.String()+`"`))
}

// logRelease appends the release event to partner with body, recording
// the fingerprinted copies released with it in the same transaction.
func (n *Node) logRelease(ctx context.Context, tx detente.Tx, partner string, body map[string]any, copies []*leak.Copy) error {
	if len(copies) == 0 {
		return n.logEvent(ctx, tx, detente.EventRelease, partner, body)
	}
	return n.Leak.Released(ctx, tx, partner, body, copies)
}
