//go:build race

package node

// raceEnabled is set when the tests run under the race detector, which
// slows SQLite (transpiled to Go, so instrumented) twentyfold.
const raceEnabled = true
