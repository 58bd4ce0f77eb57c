package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"detente"
	"detente/internal/sqlite"
)

// BenchmarkAppendDurable appends one event per transaction, each commit
// durable (WAL, synchronous=FULL), with its Merkle tree hashes. Target: at
// least 2,000 events/s.
func BenchmarkAppendDurable(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	body, _ := json.Marshal(map[string]string{"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "sha256": "5f7e1e3c0d3f8b5ae3d7b8d1c2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0"})
	for b.Loop() {
		err := s.Update(ctx, func(tx detente.Tx) error {
			return tx.AppendEvent(ctx, &detente.Event{Time: time.Now(), Type: detente.EventRelease, Partner: "bravo", Body: body})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestStorageOverheadPerEntry measures what the log costs on disk beyond
// each entry's own content (its body, type, partner and 8-byte time, which
// the leaf encoding holds): the stored tree hashes, the sequence number and
// the row framing. Target: at most 64 bytes. It also reports the cost
// beyond the body alone.
func TestStorageOverheadPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 100,000 events")
	}
	const n = 100_000
	path := filepath.Join(t.TempDir(), "node.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		var total int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(path + suffix); err == nil {
				total += st.Size()
			}
		}
		return total
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	before := size()
	var bodies, content int64
	err = s.Update(ctx, func(tx detente.Tx) error {
		for i := range n {
			body := []byte(fmt.Sprintf(`{"id":"indicator--%08d-0000-4000-8000-000000000000","sha256":"5f7e1e3c0d3f8b5ae3d7b8d1c2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0"}`, i))
			bodies += int64(len(body))
			content += int64(len(body) + len(detente.EventRelease) + len("bravo") + 8)
			if err := tx.AppendEvent(ctx, &detente.Event{Time: time.Now(), Type: detente.EventRelease, Partner: "bravo", Body: body}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	grown := size() - before
	per := float64(grown-content) / n
	t.Logf("%d entries: %.1f bytes per entry beyond its content (tree hashes, seq, framing); %.1f beyond the body alone",
		n, per, float64(grown-bodies)/n)
	if per > 64 {
		t.Errorf("storage overhead %.1f bytes per entry, want at most 64", per)
	}
}
