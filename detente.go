// Package detente holds the domain of a detente node: the types every other
// package shares (objects, markings, partners, agreements, releases, events,
// tokens) and the Store contract that storage backends implement.
//
// A node is one partner agency's installation. It exchanges STIX 2.1
// intelligence with partner nodes under agreements, releases nothing except
// through the egress policy, and records every state change in an
// append-only log written in the same transaction as the change.
//
// This package imports nothing of the project; implementations live in
// internal/… packages and are wired together in cmd/detente.
package detente
