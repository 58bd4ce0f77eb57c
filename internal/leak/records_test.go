package leak

import (
	"reflect"
	"testing"

	"detente/internal/trace"
)

func TestRecordsRoundTrip(t *testing.T) {
	want := []*record{
		{Partner: "bravo", Seq: 42, Record: &trace.Record{Object: "report--x", Version: "v", Recipient: "detente-node:AAAA",
			Cutoff: 0.02, Symbols: []byte{0, 1, 3, 0}, Labels: []string{"abcdefghij"}, Commitment: trace.Commitment{1, 2, 3}}},
		{Partner: "charlie", Seq: 7, Record: &trace.Record{Object: "report--x", Version: "v", Recipient: "detente-node:BBBB",
			Cutoff: 0.021, Symbols: []byte{1}, Commitment: trace.Commitment{9}}},
	}
	b := []byte{recordFormat}
	ends := map[int]bool{len(b): true}
	for _, r := range want {
		b = appendRecord(b, r)
		ends[len(b)] = true
	}
	got, err := parseRecords(b, "report--x", "v")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// A document cut inside a record is malformed.
	for i := 0; i < len(b); i++ {
		if _, err := parseRecords(b[:i], "report--x", "v"); (err == nil) != ends[i] {
			t.Errorf("prefix of %d bytes: %v", i, err)
		}
	}
}

func FuzzParseRecords(f *testing.F) {
	b := appendRecord([]byte{recordFormat}, &record{Partner: "bravo", Seq: 1, Record: &trace.Record{Recipient: "r", Symbols: []byte{1}}})
	f.Add(b)
	f.Add([]byte{recordFormat, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseRecords(data, "o", "v")
		if err != nil {
			return
		}
		out := []byte{recordFormat}
		for _, r := range recs {
			out = appendRecord(out, r)
		}
		again, err := parseRecords(out, "o", "v")
		if err != nil || !reflect.DeepEqual(again, recs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
