// Package hotline implements liaison channels between partner nodes: their
// signed lifecycle, the acknowledged messages they carry, at-least-once
// delivery through an outbox, escalation of missed acknowledgements, heart
// beats that make a silent line visible, and deconfliction of notices of
// planned activity (area × altitude × time) on the sphere.
//
// The protocol is storage- and transport-agnostic. Persistence goes through
// the Store interface (MemStore is the in-memory implementation); messages
// leave the node through the Transport interface; people are alerted
// through the Alerter interface.
//
// Service puts it to work in a node: the node (internal/node) hands it the
// database, its name and key, a clock, a logger, a client of the partner
// protocol (internal/peer) and the egress check, and keeps nothing else of
// channels. The Service keeps its Store over the node's documents, each
// change written with its log event in one transaction; sends to partners
// through the protocol's channel endpoints and answers them
// (peer.Channels); offers the operations of the CLI, the API and the
// console (proposing and changing channels, messages, notices and their
// deconfliction); and runs the outbox, the escalator, the heartbeats and
// the delivery of channel histories (Runner).
//
// Everything a partner can see is signed with the sending node's Ed25519
// key over a canonical, domain-separated encoding, the way detente.Consent
// is: the JSON of the value without its signature, fields in declaration
// order, after a "detente-hotline-…/v1\n" prefix.
//
// docs/channels.md describes the lifecycle, the message rules, escalation,
// heartbeats and the deconfliction semantics.
package hotline
