package taxii

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// Select is the reference semantics of Source.Records (TAXII 2.1 §3.4,
// §3.5): the version and spec_version choices are made per object over its
// whole view, before added_after and the cursor, so a page boundary never
// changes which version is "last".
func TestSelect_3_4(t *testing.T) {
	src := newMemSource()
	recs := fixture(src)
	seqs := func(rs []Record) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		q        Query
		want     []int64
		wantMore bool
	}{
		{"zero query is last", Query{}, []int64{3, 4, 5, 7}, false},
		{"limit", Query{Versions: VersionSet{All: true}, Limit: 3}, []int64{1, 2, 3}, true},
		{"limit exact", Query{Versions: VersionSet{All: true}, Limit: 7}, []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"after seq", Query{Versions: VersionSet{All: true}, AfterSeq: 5, Limit: 1}, []int64{6}, true},
		// Indicator 1's last version (seq 4) is after the cursor; its
		// earlier versions are not "last" on this later page either.
		{"last after cursor", Query{AfterSeq: 1}, []int64{3, 4, 5, 7}, false},
		{"first after cursor", Query{Versions: VersionSet{First: true}, AfterSeq: 1}, []int64{3, 6, 7}, false},
		{"at", Query{Versions: VersionSet{At: []time.Time{recs[1].Version}}}, []int64{2}, false},
		{"added after", Query{Versions: VersionSet{All: true}, AddedAfter: recs[5].DateAdded}, []int64{7}, false},
		{"spec 2.0", Query{SpecVersions: []string{"2.0"}}, []int64{8}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, more := Select(src.recs[collA], tc.q)
			if !slices.Equal(seqs(got), tc.want) || more != tc.wantMore {
				t.Errorf("got %v more %v, want %v more %v", seqs(got), more, tc.want, tc.wantMore)
			}
		})
	}
	// An unsorted view is sorted, not trusted.
	view := slices.Clone(src.recs[collA])
	slices.Reverse(view)
	if got, _ := Select(view, Query{Versions: VersionSet{All: true}, Limit: 2}); !slices.Equal(seqs(got), []int64{1, 2}) {
		t.Errorf("unsorted view: %v", seqs(got))
	}
}

func TestCompareSpecVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.1", "2.0", 1}, {"2.0", "2.1", -1}, {"2.10", "2.9", 1}, {"2.1", "2.1", 0},
		{"2.1", "x", 1}, {"x", "2.1", -1}, {"a", "b", -1},
	} {
		if got := compareSpecVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TAXII 2.1 §3.5: next is opaque and bound to its filters.
func TestCursor_3_5(t *testing.T) {
	fp := fingerprint(epObjects, collA, &Query{Versions: VersionSet{Last: true}})
	cs, err := newCursors(nil)
	if err != nil {
		t.Fatal(err)
	}
	bravo, charlie := Caller{Partner: "bravo", CanRead: true}, Caller{Partner: "charlie", CanRead: true}
	for _, seq := range []int64{0, 1, 1 << 40, 1<<63 - 1} {
		next := cs.seal(seq, fp, bravo)
		got, gfp, err := cs.open(next, bravo)
		if err != nil || got != seq || gfp != fp {
			t.Errorf("round trip %d: %d %v", seq, got, err)
		}
		// Opaque: the position is not in the clear, and two cursors for
		// the same position differ.
		if raw, _ := base64.RawURLEncoding.DecodeString(next); bytes.Contains(raw, binary.BigEndian.AppendUint64(nil, uint64(seq))) && seq > 1 {
			t.Errorf("cursor %q carries the position %d in the clear", next, seq)
		}
		if cs.seal(seq, fp, bravo) == next {
			t.Errorf("two cursors for position %d are equal", seq)
		}
		// Bound to its caller and to this server's key.
		if _, _, err := cs.open(next, charlie); err == nil {
			t.Errorf("charlie opened bravo's cursor")
		}
		other, _ := newCursors(nil)
		if _, _, err := other.open(next, bravo); err == nil {
			t.Errorf("a cursor opened under another key")
		}
	}
	good := cs.seal(7, fp, bravo)
	tampered := []byte(good)
	tampered[len(tampered)-3] ^= 1
	for _, bad := range []string{"", "AQ", "AgAAAAAAAAABAAAAAAAAAAA", "_____________________w", "AQAAAAAAAAABAAAAAAAAAAA=", "gAAAAAAAAAABAAAAAAAAAAAA", string(tampered)} {
		if _, _, err := cs.open(bad, bravo); err == nil {
			t.Errorf("open(%q) accepted", bad)
		}
	}
	// Fingerprints differ with every filter, and not with the order of
	// values (parseQuery sorts them).
	base := Query{Versions: VersionSet{Last: true}}
	variants := []Query{
		{Versions: VersionSet{All: true}},
		{Versions: VersionSet{Last: true}, IDs: []string{"a"}},
		{Versions: VersionSet{Last: true}, Types: []string{"a"}},
		{Versions: VersionSet{Last: true}, SpecVersions: []string{"2.1"}},
		{Versions: VersionSet{Last: true}, AddedAfter: time.Unix(1, 0)},
		{Versions: VersionSet{Last: true, At: []time.Time{time.Unix(1, 0)}}},
		// Field boundaries are unambiguous.
		{Versions: VersionSet{Last: true}, IDs: []string{"a", "b"}},
		{Versions: VersionSet{Last: true}, IDs: []string{"a,b"}},
	}
	seen := map[[8]byte]bool{fingerprint(epObjects, collA, &base): true}
	for i, q := range variants {
		fp := fingerprint(epObjects, collA, &q)
		if seen[fp] {
			t.Errorf("variant %d collides", i)
		}
		seen[fp] = true
	}
	if fingerprint(epManifest, collA, &base) == fingerprint(epObjects, collA, &base) ||
		fingerprint(epObjects, collRO, &base) == fingerprint(epObjects, collA, &base) {
		t.Error("fingerprint ignores endpoint or scope")
	}
}

func TestTimestamp(t *testing.T) {
	ts := Timestamp{time.Date(2025, 3, 4, 5, 6, 7, 891234000, time.FixedZone("x", 3600))}
	b, err := ts.MarshalJSON()
	if err != nil || string(b) != `"2025-03-04T04:06:07.891234Z"` {
		t.Errorf("marshal %s %v", b, err)
	}
	var back Timestamp
	if err := back.UnmarshalJSON(b); err != nil || !back.Equal(ts.Time) {
		t.Errorf("unmarshal %v %v", back, err)
	}
	for _, bad := range []string{`1`, `"2025-03-04"`, `"yesterday"`} {
		if err := back.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// Versions read like the objects' own modified times: the fewest of 3, 6
// or 9 fractional digits that are exact, so clients comparing strings see
// one version, not two.
func TestFormatVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2017-01-27T13:49:53.997Z", "2017-01-27T13:49:53.997Z"},
		{"2017-01-27T13:49:53Z", "2017-01-27T13:49:53.000Z"},
		{"2017-01-27T13:49:53.997123Z", "2017-01-27T13:49:53.997123Z"},
		{"2017-01-27T13:49:53.99712345Z", "2017-01-27T13:49:53.997123450Z"},
	} {
		tm, err := ParseTime(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatVersion(tm); got != tc.want {
			t.Errorf("FormatVersion(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
