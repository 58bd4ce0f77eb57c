// Package ledger is the reciprocity ledger between this node and its
// partners: what each side gave the other, weighted by what it is worth,
// computed from the transparency log alone (Compute), so that an auditor
// holding an exported log bundle gets the same figures as the node. It
// also keeps the reciprocity holds agreements call for (Service.Enforce,
// Service.ReleaseHold) and the receiver's own grading of partners and
// assertions (Service.Grade). docs/ledger.md describes the weighting.
package ledger
