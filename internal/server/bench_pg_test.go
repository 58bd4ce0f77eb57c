package server_test

import (
	"context"
	"path/filepath"
	"testing"

	"detente/internal/nodetest"
	"detente/internal/pgtest"
)

// startPostgresPeer starts a node on a new PostgreSQL database (pgtest's
// throwaway cluster, or DETENTE_TEST_POSTGRES).
func startPostgresPeer(t testing.TB, name string) *peer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := nodetest.InitWith(context.Background(), dir, name, pgtest.URL(t)); err != nil {
		t.Fatal(err)
	}
	return openPeer(t, dir, "127.0.0.1:0")
}

// BenchmarkTAXIIPage1MPostgres is BenchmarkTAXIIPage1M with the serving
// node on PostgreSQL (the partner pulling the pages stays on SQLite):
//
//	go test -run '^$' -bench 'TAXIIPage1M' -benchtime 200x -timeout 90m ./internal/server/
func BenchmarkTAXIIPage1MPostgres(b *testing.B) {
	benchTAXIIPage1M(b, startPostgresPeer(b, "alpha"))
}
