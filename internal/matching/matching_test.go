package matching

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/psi"
	"detente/internal/sqlite"
)

// newTestService returns the matching of a node called name on a fresh
// SQLite store, closed when t ends, and the store.
func newTestService(t *testing.T, name string) (*Service, detente.Store) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(Config{Store: s, Name: name, SealKey: newSealKey(t)}), s
}

// newSealKey returns a random key for sealing the owner key, as a node
// key derives one.
func newSealKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWatchlistParseFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   psi.Type
		in    string
		texts []string
		bad   []int
	}{
		{"phones", psi.TypePhone, "# comment\n+44 20 7946 0018\r\n\n  0044-20-7946-0019  \n020 7946 0019\n", []string{"+44 20 7946 0018", "0044-20-7946-0019"}, []int{5}},
		{"persons with header", psi.TypePerson, "name,dob\nSergei Lavrov,1950-03-21\n\"Karimov, Yusuf\",1984\nno date\nX,,\n", []string{"Sergei Lavrov,1950-03-21", `"Karimov, Yusuf",1984`}, []int{4, 5}},
		{"persons without header", psi.TypePerson, "Сергей Лавров,1950-03-21\n", []string{"Сергей Лавров,1950-03-21"}, nil},
		{"bad date", psi.TypePerson, "name,dob\nA B,32.13.1999\n", nil, []int{2}},
		{"wallets", psi.TypeWallet, "eth:0x52908400098527886E0F7030069857D2E4169EE7\nnowallet\n", []string{"eth:0x52908400098527886E0F7030069857D2E4169EE7"}, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sels, bad := ParseSelectorFile(tc.typ, []byte(tc.in))
			var texts []string
			for _, s := range sels {
				texts = append(texts, s.Text)
			}
			var lines []int
			for _, b := range bad {
				lines = append(lines, b.Line)
			}
			if strings.Join(texts, "|") != strings.Join(tc.texts, "|") {
				t.Errorf("texts %q, want %q", texts, tc.texts)
			}
			if len(lines) != len(tc.bad) || (len(lines) > 0 && !equalInts(lines, tc.bad)) {
				t.Errorf("bad lines %v (%v), want %v", lines, bad, tc.bad)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWatchlistAddDeduplicatesAndLogsNoValue(t *testing.T) {
	ctx := context.Background()
	n, store := newTestService(t, "alpha")
	sels, _ := ParseSelectorFile(psi.TypePhone, []byte("+44 20 7946 0018\n0044 20 7946 0019\n"))
	res, err := n.AddToWatchlist(ctx, "phones", psi.TypePhone, detente.TLPAmber, sels)
	if err != nil || res.Added != 2 || res.Entries != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	again, _ := ParseSelectorFile(psi.TypePhone, []byte("+442079460018\n+33 1 70 36 39 27\n"))
	if res, err = n.AddToWatchlist(ctx, "phones", psi.TypePhone, detente.TLPAmber, again); err != nil || res.Added != 1 || res.Unchanged != 1 || res.Entries != 3 {
		t.Fatalf("second add: %+v %v", res, err)
	}
	// Two spellings of one person share a skeleton but are kept apart.
	persons, _ := ParseSelectorFile(psi.TypePerson, []byte("Sergei Lavrov,1950-03-21\nSergey Lavrov,1950-03-21\nSergei Lavrov,1950-03-21\n"))
	if res, err = n.AddToWatchlist(ctx, "persons", psi.TypePerson, detente.TLPGreen, persons); err != nil || res.Added != 2 || res.Unchanged != 1 {
		t.Fatalf("persons: %+v %v", res, err)
	}
	if _, err := n.AddToWatchlist(ctx, "phones", psi.TypeEmail, detente.TLPAmber, nil); detente.ErrorCode(err) != detente.EINVALID && detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("type change: %v", err)
	}
	if _, err := n.AddToWatchlist(ctx, "phones", psi.TypePhone, detente.TLPRed, nil); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("marking change: %v", err)
	}
	ws, err := n.Watchlists(ctx)
	if err != nil || len(ws) != 2 || ws[1].Name != "phones" || ws[1].Entries != 3 || ws[1].Marking != detente.TLPAmber {
		t.Fatalf("list: %+v %v", ws, err)
	}
	var es []*detente.Event
	store.View(ctx, func(tx detente.Tx) (err error) {
		es, err = tx.Events(ctx, detente.EventFilter{Type: detente.EventWatchlist})
		return
	})
	if len(es) != 3 {
		t.Fatalf("%d watchlist events", len(es))
	}
	for _, e := range es {
		if bytes.Contains(e.Body, []byte("7946")) || bytes.Contains(e.Body, []byte("avrov")) {
			t.Errorf("event holds a value: %s", e.Body)
		}
	}
	if err := n.RemoveWatchlist(ctx, "phones"); err != nil {
		t.Fatal(err)
	}
	if err := n.RemoveWatchlist(ctx, "phones"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("second remove: %v", err)
	}
}

func TestMatchEpochOf(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &detente.Agreement{From: from, Until: from.Add(1000 * time.Hour), Match: &detente.MatchTerms{Period: "720h"}}
	for _, tc := range []struct {
		at         time.Duration
		epoch      string
		start, end time.Duration
	}{
		{0, "bravo/2026-01-01T00:00:00Z", 0, 720 * time.Hour},
		{719*time.Hour + 59*time.Minute, "bravo/2026-01-01T00:00:00Z", 0, 720 * time.Hour},
		{720 * time.Hour, "bravo/2026-01-31T00:00:00Z", 720 * time.Hour, 1000 * time.Hour},
	} {
		epoch, start, end := EpochOf(a, "bravo", from.Add(tc.at))
		if epoch != tc.epoch || !start.Equal(from.Add(tc.start)) || !end.Equal(from.Add(tc.end)) {
			t.Errorf("at +%s: %s %s %s", tc.at, epoch, start, end)
		}
	}
}

// TestMatchOwnerKeySealed: the owner key is made once, kept across
// restarts, and stored sealed under the node key.
func TestMatchOwnerKeySealed(t *testing.T) {
	ctx := context.Background()
	n, store := newTestService(t, "alpha")
	k1, err := n.ownerKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := n.ownerKey(ctx)
	if err != nil || !bytes.Equal(k1.Seed(), k2.Seed()) {
		t.Fatalf("second load: %v", err)
	}
	var stored []byte
	store.View(ctx, func(tx detente.Tx) (err error) { stored, err = tx.Doc(ctx, docOwnerKey, "current"); return })
	var d ownerKeyDoc
	if err := json.Unmarshal(stored, &d); err != nil || d.Version != 1 {
		t.Fatalf("doc: %s %v", stored, err)
	}
	if bytes.Contains(stored, k1.Seed()) || bytes.Contains(d.Sealed, k1.Seed()) {
		t.Error("the seed is stored in clear")
	}
	// Another node key cannot open it.
	n = New(Config{Store: store, Name: "alpha", SealKey: newSealKey(t)})
	if _, err := n.ownerKey(ctx); err == nil {
		t.Error("the owner key opened under another node key")
	}
}
