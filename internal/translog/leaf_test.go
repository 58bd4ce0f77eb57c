package translog

import (
	"encoding/hex"
	"testing"
	"time"

	"detente"
)

func TestLeafData(t *testing.T) {
	e := &detente.Event{
		Seq:     17,
		Time:    time.Date(2026, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600)),
		Type:    "release",
		Partner: "bravo",
		Body:    []byte(`{"a":"<b>\n"}`),
	}
	const want = "detente-log-leaf/v1\nseq 17\ntime 2026-03-01T12:00:00.000000005Z\n" +
		"type 7:release\npartner 5:bravo\nbody 13:{\"a\":\"<b>\\n\"}\n"
	if got := string(LeafData(e)); got != want {
		t.Errorf("LeafData =\n%q\nwant\n%q", got, want)
	}
	h := LeafHash(e)
	if got := hex.EncodeToString(h[:]); got != "aa8dbbd78a194107276e0fc576cac9e42a19d80bb20331adf2375f2cd512aec2" {
		t.Errorf("LeafHash = %s", got)
	}
}

// TestLeafDataInjective checks that changing any one field, or moving
// bytes between fields, changes the leaf.
func TestLeafDataInjective(t *testing.T) {
	base := detente.Event{Seq: 1, Time: time.Unix(1, 0), Type: "ab", Partner: "c", Body: []byte(`{}`)}
	variants := map[string]func(e *detente.Event){
		"seq":             func(e *detente.Event) { e.Seq = 2 },
		"time":            func(e *detente.Event) { e.Time = e.Time.Add(time.Nanosecond) },
		"type":            func(e *detente.Event) { e.Type = "ac" },
		"partner":         func(e *detente.Event) { e.Partner = "" },
		"body":            func(e *detente.Event) { e.Body = []byte(`{ }`) },
		"type to partner": func(e *detente.Event) { e.Type, e.Partner = "a", "bc" },
		"partner to body": func(e *detente.Event) { e.Partner, e.Body = "c\nbody 2:{}", nil },
	}
	seen := map[string]string{string(LeafData(&base)): "base"}
	for name, f := range variants {
		e := base
		f(&e)
		d := string(LeafData(&e))
		if prev, ok := seen[d]; ok {
			t.Errorf("%s encodes like %s", name, prev)
		}
		seen[d] = name
	}
	// The same instant in another zone is the same leaf.
	e := base
	e.Time = base.Time.In(time.FixedZone("X", -7200))
	if string(LeafData(&e)) != string(LeafData(&base)) {
		t.Error("time zone changes the leaf")
	}
}
