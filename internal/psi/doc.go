// Package psi implements private matching between partners who do not trust
// each other: a querier learns which of its selectors are on an owner's
// watchlist and nothing else, and the owner learns only how many selectors
// were asked about.
//
// Selectors are typed values (a person's name and date of birth, a travel
// document, a phone number, an e-mail address, a wallet, a file hash, an
// account handle, a URL). Each type has a versioned canonicaliser that turns
// what a user typed into one or more keys, and every key carries a
// domain-separation tag naming the type, the canonicaliser version and the
// key variant, so that values of different types, or canonicalised by
// different versions, never match by accident.
//
// Three protocols:
//
//   - query: the owner publishes an encoded watchlist (truncated outputs of
//     an RFC 9497 VOPRF over ristretto255 under a key per epoch) and
//     evaluates blinded keys for the querier, proving with each answer that
//     it used the published key; the querier tests membership locally.
//     voprf.go implements RFC 9497 on github.com/gtank/ristretto255, whose
//     variable-time multi-scalar multiplication checks a batched proof of a
//     thousand evaluations in a fraction of the time of one multiplication
//     per element; the RFC's vectors and github.com/cloudflare/circl's
//     implementation check it in the tests.
//   - bulk: a one-off Diffie-Hellman private set intersection over X25519
//     (crypto/ecdh) with fresh keys and RFC 9380 hash to curve (h2c.go), in
//     which the messages record which side learns the intersection.
//   - count: the same exchange with shuffled answers, so that only the size
//     of the intersection is learned, with a minimum set size on both sides.
//
// The package is transport-agnostic: every message is a JSON-serialisable
// struct that the caller carries over the partners' mutual-TLS connection,
// and every answer reports its Cost so that the caller can charge budgets.
// Budgets, logging and storage belong to the caller; see docs/matching.md.
package psi
