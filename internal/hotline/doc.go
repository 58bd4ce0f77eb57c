// Package hotline implements liaison channels between partner nodes: their
// signed lifecycle, the acknowledged messages they carry, at-least-once
// delivery through an outbox, escalation of missed acknowledgements, heart
// beats that make a silent line visible, and deconfliction of notices of
// planned activity (area × altitude × time) on the sphere.
//
// The package is storage- and transport-agnostic. Persistence goes through
// the Store interface (MemStore is the in-memory implementation used by the
// tests); messages leave the node through the Transport interface; people
// are alerted through the Alerter interface. cmd/detente wires these to the
// node's database, its partner mTLS client and its log.
//
// Everything a partner can see is signed with the sending node's Ed25519
// key over a canonical, domain-separated encoding, the way detente.Consent
// is: the JSON of the value without its signature, fields in declaration
// order, after a "detente-hotline-…/v1\n" prefix.
//
// docs/channels.md describes the lifecycle, the message rules, escalation,
// heartbeats and the deconfliction semantics.
package hotline
