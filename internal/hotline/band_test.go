package hotline

import (
	"testing"
)

// TestBandNotation checks the one altitude notation: what String writes,
// ParseBand reads back, as the command line's --alt does.
func TestBandNotation(t *testing.T) {
	for _, c := range []struct {
		in, out string
	}{
		{"0..FL30", "0m..FL30"},
		{"0m..FL30", "0m..FL30"},
		{"fl 50..fl100", "FL50..FL100"},
		{"500m..1500ft", "500m..1500ft"},
		{" 120 .. 300M ", "120m..300m"},
		{"-30..304.8", "-30m..304.8m"},
	} {
		b, err := ParseBand(c.in)
		if err != nil {
			t.Errorf("ParseBand(%q): %v", c.in, err)
			continue
		}
		if got := b.String(); got != c.out {
			t.Errorf("ParseBand(%q).String() = %q, want %q", c.in, got, c.out)
		}
	}
	for _, bad := range []string{"", "0", "0-FL30", "..", "x..FL30", "0..FLx", "0..30km", "NaN..1", "0..Inf"} {
		if _, err := ParseBand(bad); err == nil {
			t.Errorf("ParseBand(%q) accepted", bad)
		}
	}
	c := Conflict{Lower: 0, Upper: 914.4000000001}
	if got := c.Overlap().String(); got != "0m..914.4m" {
		t.Errorf("overlap %q", got)
	}
}

func FuzzParseBand(f *testing.F) {
	for _, s := range []string{"0..FL30", "500m..1500ft", "fl 50..fl100", "1e3..2e3", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBand(s)
		if err != nil {
			return
		}
		again, err := ParseBand(b.String())
		if err != nil || again != b {
			t.Fatalf("ParseBand(%q) = %+v, written %q, read back %+v, %v", s, b, b.String(), again, err)
		}
	})
}
