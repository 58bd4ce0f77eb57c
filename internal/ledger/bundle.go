package ledger

import (
	"crypto/ed25519"
	"time"

	"detente"
	"detente/internal/translog"
)

// FromBundle returns the balances an exported log bundle gives, as Compute
// over its entries, after verifying it against the node key pub
// (translog.VerifyBundle): an auditor's figures, from the log alone. The
// bundle must hold the whole log, from its first entry (a range export
// from 0), and verify without a problem.
func FromBundle(b *translog.Bundle, pub ed25519.PublicKey, period time.Duration, now time.Time) ([]*Balance, error) {
	rep, err := translog.VerifyBundle(b, pub)
	if rep == nil {
		return nil, detente.Errorf(detente.EINVALID, "log bundle: %v", err)
	}
	if !rep.OK() {
		return nil, detente.Errorf(detente.EINVALID, "log bundle does not verify (%d problem(s), the first: %s): its figures would prove nothing",
			len(rep.Problems), rep.Problems[0].Message)
	}
	if b.Range == nil || b.Range.Start != 0 || b.Range.End != rep.Size {
		return nil, detente.Errorf(detente.EINVALID, "log bundle holds part of the log: the ledger needs all of it (export it with 'detente log export' without --from, --to or --seqs)")
	}
	events := make([]*detente.Event, len(b.Entries))
	for i := range b.Entries {
		events[i] = b.Entries[i].Event()
	}
	return Compute(events, period, now), nil
}
