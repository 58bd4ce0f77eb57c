// Package translog is the core of a node's transparency log: an append-only
// Merkle tree (RFC 6962 / RFC 9162 hashing, computed with
// golang.org/x/mod/sumdb/tlog) over the node's events, signed checkpoints in
// the C2SP tlog-checkpoint format, C2SP tlog-cosignature/v1 cosignatures,
// the pure logic of a witness, and an offline verification bundle.
//
// The package knows no storage driver. A store keeps the event rows and, in the
// same transaction, the hashes this package asks it to keep through the
// narrow HashStore interface: the leaf hash of every event plus one interior
// hash per 2^TileHeight leaves below it (about 34 bytes of hash per event).
// Inside the transaction that appends events the store calls Append; to
// publish, it calls TreeHash and Sign; to serve proofs it calls
// ProveInclusion and ProveConsistency. Log puts these together over a
// node's detente.Store (the contract, never a driver): it signs the node's
// checkpoints, serves its proofs and exports its bundles. docs/log.md
// describes the formats.
package translog
