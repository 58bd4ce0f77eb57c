package web

import (
	"testing"

	"detente"
	"detente/internal/node"
)

// What the browser test (package web_test, which serves the console
// through internal/server as detente serve does, and internal/server
// imports this package) needs of the fixture.

// ServedFixture is the fixture's node and what the browser test looks
// for in it.
type ServedFixture struct {
	Node    *node.Node
	Dir     string // the node's data directory
	Tokens  map[detente.Role]string
	Report  string // the report whose name is a script
	Actor   string // a threat actor that uses a wallet (a relationship)
	Request string // a request from bravo to answer
	Channel string // the channel with bravo
}

// NewServedFixture builds the fixture's node (newFixture).
func NewServedFixture(t testing.TB) *ServedFixture {
	f := newFixture(t)
	return &ServedFixture{Node: f.node, Dir: f.dir, Tokens: f.tokens, Report: f.report, Actor: f.actor, Request: f.request, Channel: f.channel}
}

// XSSScript is a payload the fixture's names carry: pages show it as text.
const XSSScript = xssScript
