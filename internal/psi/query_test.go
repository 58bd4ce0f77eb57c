package psi

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
)

func newKey(t testing.TB) *OwnerKey {
	t.Helper()
	k, err := NewOwnerKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// randomSelectors returns n distinct selectors of every type but person,
// numbered from start.
func randomSelectors(start, n int) []Selector {
	out := make([]Selector, n)
	for i := range out {
		j := start + i
		switch j % 6 {
		case 0:
			out[i] = Selector{TypeEmail, fmt.Sprintf("user%d@example.org", j)}
		case 1:
			out[i] = Selector{TypePhone, fmt.Sprintf("+4420%08d", j)}
		case 2:
			out[i] = Wallet("eth", fmt.Sprintf("0x%040x", j))
		case 3:
			out[i] = Document("UTO", fmt.Sprintf("X%08d", j))
		case 4:
			out[i] = Account("telegram", fmt.Sprintf("chan%d", j))
		case 5:
			out[i] = Selector{TypeURL, fmt.Sprintf("https://example.org/p/%d", j)}
		}
	}
	return out
}

// roundTrip sends a message through JSON, as the lead's transport will.
func roundTrip[T any](t testing.TB, m *T) *T {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func runQuery(t testing.TB, key *OwnerKey, w *Watchlist, epoch string, sels []Selector) []Hit {
	t.Helper()
	q, req, err := NewQuery(w, sels, QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := NewOwner(key, epoch)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := owner.Evaluate(roundTrip(t, req))
	if err != nil {
		t.Fatal(err)
	}
	hits, err := q.Finalize(roundTrip(t, resp))
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestQueryRandomised checks that a query finds exactly the selectors in
// common, over random sets with known overlaps.
func TestQueryRandomised(t *testing.T) {
	key := newKey(t)
	for trial := range 4 {
		r := mrand.New(mrand.NewPCG(uint64(trial), 7))
		nw, nq := 50+r.IntN(200), 1+r.IntN(60)
		overlap := r.IntN(min(nw, nq) + 1)
		watch := randomSelectors(0, nw)
		// The querier's selectors: overlap from the watchlist, the rest
		// outside it, shuffled.
		query := append(slices.Clone(watch[:overlap]), randomSelectors(100000, nq-overlap)...)
		r.Shuffle(len(query), func(i, j int) { query[i], query[j] = query[j], query[i] })
		epoch := fmt.Sprintf("2026-11/%d", trial)
		w, err := EncodeWatchlist(key, epoch, watch)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := ParseWatchlist(mustMarshal(t, w))
		if err != nil {
			t.Fatal(err)
		}
		hits := runQuery(t, key, w2, epoch, query)
		var want, got []string
		inWatch := make(map[Selector]bool)
		for _, s := range watch[:overlap] {
			inWatch[s] = true
		}
		for i, s := range query {
			if inWatch[s] {
				want = append(want, fmt.Sprint(i, s))
			}
		}
		for _, h := range hits {
			if query[h.Index] != h.Selector {
				t.Fatalf("hit %d maps to %v, want %v", h.Index, h.Selector, query[h.Index])
			}
			got = append(got, fmt.Sprint(h.Index, h.Selector))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: hits %v, want %v", trial, got, want)
		}
	}
}

func mustMarshal(t testing.TB, w *Watchlist) []byte {
	t.Helper()
	b, err := w.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestQueryPersons checks that a person on the watchlist in Cyrillic is
// found from Latin spellings, with the variants that matched.
func TestQueryPersons(t *testing.T) {
	key := newKey(t)
	watch := []Selector{Person("Сергей Лавров", "1950-03-21"), Person("Ivan Petrov", "1970")}
	w, err := EncodeWatchlist(key, "e1", watch)
	if err != nil {
		t.Fatal(err)
	}
	query := []Selector{
		Person("Sergey Lavrov", "1950-03-21"),
		Person("Sergei Lavrov", "1950-03-22"), // another birthday
		Person("Sergej Lawrow", "21.03.1950"),
		Person("Ivan Petrov", "1970-01-01"), // another precision
		Person("Petrov Ivan", "1970"),
	}
	hits := runQuery(t, key, w, "e1", query)
	got := make(map[int][]string)
	for _, h := range hits {
		got[h.Index] = h.Variants
	}
	want := map[int][]string{
		0: {VariantSkeleton, VariantSpelling},
		2: {VariantSkeleton, VariantSpelling},
		4: {VariantSkeleton, VariantSpelling},
	}
	for i, vs := range got {
		slices.Sort(vs)
		got[i] = vs
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
}

// TestQueryEpoch checks that an epoch change invalidates requests,
// responses and cached encodings.
func TestQueryEpoch(t *testing.T) {
	key := newKey(t)
	watch := randomSelectors(0, 40)
	old, err := EncodeWatchlist(key, "2026-10", watch)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := EncodeWatchlist(key, "2026-11", watch)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(mustMarshal(t, old)[40:], mustMarshal(t, cur)[40:]) || bytes.Equal(old.PublicKey, cur.PublicKey) {
		t.Fatal("two epochs encode alike")
	}
	owner, err := NewOwner(key, "2026-11")
	if err != nil {
		t.Fatal(err)
	}

	// A querier with a stale encoding: the owner refuses its request.
	q, req, err := NewQuery(old, watch[:3], QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = owner.Evaluate(req)
	var ee *EpochError
	if !errors.As(err, &ee) || !errors.Is(err, ErrEpoch) || ee.Current != "2026-11" {
		t.Fatalf("Evaluate(stale) = %v, want an EpochError naming 2026-11", err)
	}
	// Forcing the epoch: the evaluation is under the new key, and the
	// querier refuses a response for another epoch than its encoding.
	req.Epoch = "2026-11"
	resp, err := owner.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Finalize(resp); !errors.Is(err, ErrEpoch) {
		t.Fatalf("Finalize(other epoch) = %v, want ErrEpoch", err)
	}
	// Even relabelled, the old encoding gives no hit for the new key: the
	// proof does not verify against the old public key.
	resp.Epoch = "2026-10"
	if _, err := q.Finalize(resp); !errors.Is(err, ErrProof) {
		t.Fatalf("Finalize(relabelled) = %v, want ErrProof", err)
	}

	// The cache drops an encoding when the epoch moves on.
	var c Cache
	c.Put("partner-b", old)
	if _, ok := c.Get("partner-b", "2026-10"); !ok {
		t.Fatal("cache miss for the current epoch")
	}
	if _, ok := c.Get("partner-b", "2026-11"); ok {
		t.Fatal("cache served a stale epoch")
	}
	if _, ok := c.Get("partner-b", "2026-10"); ok {
		t.Fatal("stale entry survived an epoch change")
	}
	c.Put("partner-b", cur)
	if hits := runQuery(t, key, cur, "2026-11", watch[:3]); len(hits) != 3 {
		t.Fatalf("current epoch: %d hits, want 3", len(hits))
	}
}

// TestQueryWrongKey checks verifiable mode: an owner that evaluates with
// another key than the published one is caught.
func TestQueryWrongKey(t *testing.T) {
	key, other := newKey(t), newKey(t)
	w, err := EncodeWatchlist(key, "e", randomSelectors(0, 20))
	if err != nil {
		t.Fatal(err)
	}
	q, req, err := NewQuery(w, randomSelectors(0, 5), QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cheat, err := NewOwner(other, "e")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cheat.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Finalize(resp); !errors.Is(err, ErrProof) {
		t.Fatalf("Finalize(other key) = %v, want ErrProof", err)
	}
	// Tampering with one element also fails the proof.
	honest, _ := NewOwner(key, "e")
	q, req, _ = NewQuery(w, randomSelectors(0, 5), QueryOptions{})
	resp, _ = honest.Evaluate(req)
	copy(resp.Elements[:32], resp.Elements[32:64])
	if _, err := q.Finalize(resp); err == nil {
		t.Fatal("Finalize accepted a tampered response")
	}
}

// TestQueryPadding checks that the owner sees only the bucket and charges
// it.
func TestQueryPadding(t *testing.T) {
	key := newKey(t)
	w, _ := EncodeWatchlist(key, "e", randomSelectors(0, 10))
	owner, _ := NewOwner(key, "e")
	for _, n := range []int{1, 17, 21, 100} {
		_, req, err := NewQuery(w, randomSelectors(0, n), QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if req.Count() != Bucket(n) {
			t.Errorf("%d selectors: %d elements sent, want %d", n, req.Count(), Bucket(n))
		}
		resp, err := owner.Evaluate(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Cost != Bucket(n) {
			t.Errorf("cost %d, want %d", resp.Cost, Bucket(n))
		}
		_, req, _ = NewQuery(w, randomSelectors(0, n), QueryOptions{NoPadding: true})
		if req.Count() != n {
			t.Errorf("unpadded: %d elements, want %d", req.Count(), n)
		}
	}
	if _, _, err := NewQuery(w, nil, QueryOptions{}); !errors.Is(err, ErrSetSize) {
		t.Errorf("empty query: %v", err)
	}
}

// canonicalForms returns, for each selector, the canonical values and
// PRF inputs of its keys and their SHA-256: what must never appear in
// what the other side sees.
func canonicalForms(t testing.TB, sels []Selector) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range sels {
		ks, err := s.Keys()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			in := k.Input()
			h1, h2 := sha256.Sum256([]byte(k.Value)), sha256.Sum256(in)
			out = append(out, []byte(k.Value), in, h1[:], h2[:], h1[:8], h2[:8])
		}
		out = append(out, []byte(s.Value))
	}
	return out
}

func assertNoLeak(t *testing.T, what string, msg []byte, forms [][]byte) {
	t.Helper()
	for _, f := range forms {
		if len(f) >= 8 && bytes.Contains(msg, f) {
			t.Fatalf("%s contains %q", what, f)
		}
	}
}

// TestQueryPrivacy checks what each side sends: the querier's request and
// the owner's encoded watchlist and response hold no selector, nor an
// unkeyed hash of one.
func TestQueryPrivacy(t *testing.T) {
	key := newKey(t)
	watch := append(randomSelectors(0, 30), Person("Сергей Лавров", "1950-03-21"))
	query := append(randomSelectors(20, 30), Person("Sergei Lavrov", "1950-03-21"))
	w, err := EncodeWatchlist(key, "e", watch)
	if err != nil {
		t.Fatal(err)
	}
	q, req, err := NewQuery(w, query, QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := NewOwner(key, "e")
	resp, err := owner.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := q.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 11 {
		t.Fatalf("%d hits, want 11", len(hits))
	}
	reqJSON, _ := json.Marshal(req)
	respJSON, _ := json.Marshal(resp)
	wl := mustMarshal(t, w)
	qForms, wForms := canonicalForms(t, query), canonicalForms(t, watch)
	for _, m := range []struct {
		name string
		b    []byte
	}{{"request", reqJSON}, {"request elements", req.Elements}} {
		assertNoLeak(t, m.name, m.b, qForms)
	}
	for _, m := range []struct {
		name string
		b    []byte
	}{{"response", respJSON}, {"response elements", resp.Elements}, {"encoded watchlist", wl}} {
		assertNoLeak(t, m.name, m.b, wForms)
		assertNoLeak(t, m.name, m.b, qForms)
	}
	// Blinding is fresh: the same selectors give unrelated requests.
	_, req2, _ := NewQuery(w, query, QueryOptions{})
	if bytes.Equal(req.Elements[:32], req2.Elements[:32]) {
		t.Fatal("blinded elements repeat across queries")
	}
}

// TestWatchlistNeedsEvaluation checks that the encoded watchlist alone
// gives no hit: entries computed without the owner's key (unkeyed hashes of
// known members, or a PRF under another key) match nothing.
func TestWatchlistNeedsEvaluation(t *testing.T) {
	key := newKey(t)
	watch := randomSelectors(0, 200)
	w, err := EncodeWatchlist(key, "e", watch)
	if err != nil {
		t.Fatal(err)
	}
	guess, err := EncodeWatchlist(newKey(t), "e", watch) // the querier's own key
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range guess.entries {
		if w.contains(e) {
			t.Fatal("an entry under another key is in the watchlist")
		}
	}
	for _, s := range watch {
		ks, _ := s.Keys()
		for _, k := range ks {
			for _, cand := range [][]byte{[]byte(k.Value), k.Input()} {
				h := sha256.Sum256(cand)
				if w.contains(entryTag("e", h[:])) || w.contains(entryTag("e", cand)) {
					t.Fatalf("unkeyed hash of %v is in the watchlist", s)
				}
			}
		}
	}
}

func TestParseWatchlist(t *testing.T) {
	key := newKey(t)
	w, _ := EncodeWatchlist(key, "e", randomSelectors(0, 10))
	b := mustMarshal(t, w)
	w2, err := ParseWatchlist(b)
	if err != nil {
		t.Fatal(err)
	}
	if w2.Epoch != "e" || w2.Len() != 10 || !bytes.Equal(w2.PublicKey, w.PublicKey) {
		t.Fatalf("round trip: %+v", w2)
	}
	bad := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXXXXX"), b[8:]...),
		"truncated": b[:len(b)-1],
		"unsorted":  append(append(slices.Clone(b[:len(b)-16]), b[len(b)-8:]...), b[len(b)-16:len(b)-8]...),
	}
	for name, bb := range bad {
		if _, err := ParseWatchlist(bb); !errors.Is(err, ErrMessage) {
			t.Errorf("%s: %v, want ErrMessage", name, err)
		}
	}
}
