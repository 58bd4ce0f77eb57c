package translog_test

import (
	"testing"

	"detente/internal/translog/translogtest"
)

// TestHashStoreConformance runs the HashStore conformance suite against
// MemStore; internal/sqlite and internal/postgres run it against TxHashes
// over their transactions.
func TestHashStoreConformance(t *testing.T) {
	translogtest.Run(t, func(t *testing.T) translogtest.Log { return translogtest.Mem() })
}
