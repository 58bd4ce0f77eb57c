package translog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// testEvent returns a deterministic event at seq.
func testEvent(seq int64) *detente.Event {
	return &detente.Event{
		Seq:     seq,
		Time:    time.Date(2026, 3, 1, 12, 0, 0, int(seq)*1000+7, time.UTC),
		Type:    detente.EventRelease,
		Partner: "bravo",
		Body:    []byte(fmt.Sprintf(`{"object":"report--%d","allowed":true}`, seq)),
	}
}

// testLog returns a MemStore holding events 0..n-1, appended one by one.
func testLog(t testing.TB, n int) (*MemStore, []*detente.Event) {
	t.Helper()
	hs := NewMemStore()
	events := make([]*detente.Event, n)
	for i := range events {
		events[i] = testEvent(int64(i))
		if err := Append(context.Background(), hs, int64(i), events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return hs, events
}

// The naive RFC 6962 / RFC 9162 section 2.1 definition of MTH over leaf
// data, written independently of tlog (translogtest has PATH and PROOF
// too).

func naiveLeaf(d []byte) [32]byte { return sha256.Sum256(append([]byte{0}, d...)) }

func naiveNode(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func naiveSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func naiveMTH(d [][]byte) [32]byte {
	switch len(d) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return naiveLeaf(d[0])
	}
	k := naiveSplit(len(d))
	return naiveNode(naiveMTH(d[:k]), naiveMTH(d[k:]))
}

func leafData(events []*detente.Event) [][]byte {
	d := make([][]byte, len(events))
	for i, e := range events {
		d[i] = LeafData(e)
	}
	return d
}

func TestAppendErrors(t *testing.T) {
	ctx := context.Background()
	hs, _ := testLog(t, 5)
	tests := []struct {
		name   string
		size   int64
		events []*detente.Event
	}{
		{"wrong seq", 5, []*detente.Event{testEvent(6)}},
		{"gap in batch", 5, []*detente.Event{testEvent(5), testEvent(7)}},
		{"stale size", 4, []*detente.Event{{Seq: 4, Type: "other"}}},
		{"size beyond the store", 9, []*detente.Event{testEvent(9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Append(ctx, hs, tt.size, tt.events...); err == nil {
				t.Fatal("Append succeeded")
			}
		})
	}
	// What reading a log of 5 refuses is in the conformance suite
	// (translogtest, "Missing"), for every hash store.
}

// TestKnownRoots checks roots against the RFC 6962 test vectors of
// Certificate Transparency (leaves "", 00, 10, 2021, 3031, 40414243,
// 5051525354555657, 606162636465666768696a6b6c6d6e6f).
func TestKnownRoots(t *testing.T) {
	ctx := context.Background()
	leaves := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	hs := NewMemStore()
	for i, l := range leaves {
		d, _ := hex.DecodeString(l)
		if err := appendLeaves(ctx, hs, int64(i), []tlog.Hash{tlog.RecordHash(d)}); err != nil {
			t.Fatal(err)
		}
		root, err := TreeHash(ctx, hs, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(root[:]); got != roots[i] {
			t.Errorf("root of size %d = %s, want %s", i+1, got, roots[i])
		}
	}
	empty, err := TreeHash(ctx, hs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(empty[:]); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("root of the empty tree = %s", got)
	}
}

// TestRangeProofs checks proveRange and rootFromRange for every range of
// every size up to 40.
func TestRangeProofs(t *testing.T) {
	ctx := context.Background()
	const n = 40
	hs, events := testLog(t, n)
	d := leafData(events)
	leaves := make([]tlog.Hash, n)
	for i, e := range events {
		leaves[i] = LeafHash(e)
	}
	for size := int64(1); size <= n; size++ {
		want := tlog.Hash(naiveMTH(d[:size]))
		for start := int64(0); start < size; start++ {
			for end := start + 1; end <= size; end++ {
				p, err := proveRange(ctx, hs, size, start, end)
				if err != nil {
					t.Fatal(err)
				}
				got, err := rootFromRange(size, start, leaves[start:end], p)
				if err != nil || got != want {
					t.Fatalf("range %d..%d of %d: root %v, %v; want %v", start, end, size, got, err, want)
				}
				if len(p) > 0 {
					if _, err := rootFromRange(size, start, leaves[start:end], p[1:]); err == nil {
						t.Fatalf("range %d..%d of %d: short proof accepted", start, end, size)
					}
				}
				if _, err := rootFromRange(size, start, leaves[start:end], append(p, tlog.Hash{})); err == nil {
					t.Fatalf("range %d..%d of %d: long proof accepted", start, end, size)
				}
			}
		}
	}
}

// TestStorageOverhead measures the hashes stored per event at 1,000,000
// events: 32 bytes of leaf hash plus a stored node every 2^TileHeight
// leaves at each stored level.
func TestStorageOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("appends a million leaves")
	}
	ctx := context.Background()
	const n = 1_000_000
	hs := NewMemStore()
	batch := make([]tlog.Hash, 1000)
	for i := int64(0); i < n; i += int64(len(batch)) {
		for j := range batch {
			batch[j] = tlog.Hash{byte(j), byte(i >> 8), byte(i >> 16)}
		}
		if err := appendLeaves(ctx, hs, i, batch); err != nil {
			t.Fatal(err)
		}
	}
	var want int64
	for l := 0; n>>l > 0; l += TileHeight {
		want += n >> l
	}
	if got := hs.Len(); got != want {
		t.Fatalf("stored %d hashes, want %d", got, want)
	}
	perEntry := float64(hs.Len()*tlog.HashSize) / n
	t.Logf("%d entries: %d hashes, %.2f bytes of hash per entry", n, hs.Len(), perEntry)
	if perEntry > 35 {
		t.Errorf("%.2f bytes of hash per entry, want at most 35", perEntry)
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
