package trace

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// renderFirst renders parsed pieces with each mark's first alternative
// (its declared value for a canary).
func renderFirst(ps []piece) string {
	var b strings.Builder
	for _, p := range ps {
		switch {
		case p.mark == nil:
			b.WriteString(p.lit)
		case p.mark.kind == KindWording:
			b.WriteString(p.mark.alts[0])
		default:
			b.WriteString(p.mark.canary.declared)
		}
	}
	return b.String()
}

func TestParseMarkup(t *testing.T) {
	tests := []struct {
		name, in string
		marks    [][]string // alternatives of each mark (nil for a subdomain canary)
		first    string     // rendered with first alternatives
	}{
		{"plain", "no markup here", nil, "no markup here"},
		{"empty", "", nil, ""},
		{"two", "the group [[acquired|obtained]] rifles", [][]string{{"acquired", "obtained"}}, "the group acquired rifles"},
		{"three and two", "[[a|b|c]] and [[d|e]]", [][]string{{"a", "b", "c"}, {"d", "e"}}, "a and d"},
		{"sixteen", "[[1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16]]", [][]string{strings.Split("1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16", "|")}, "1"},
		{"escaped open", `a \[[literal]] b`, nil, "a [[literal]] b"},
		{"escaped canary", `\{{canary:time:x}}`, nil, "{{canary:time:x}}"},
		{"pipe and close outside", "a | b ]] c", nil, "a | b ]] c"},
		{"other braces", "{{user}} and {{ x }}", nil, "{{user}} and {{ x }}"},
		{"backslashes kept", `C:\Windows\System32 and \d+ and \\server\share`, nil, `C:\Windows\System32 and \d+ and \\server\share`},
		{"escapes inside", `[[a\|b|c\]]d|e\[[f|g\{{h]]`, [][]string{{"a|b", "c]]d", "e[[f", "g{{h"}}, "a|b"},
		{"backslash inside", `[[a\b|c]]`, [][]string{{`a\b`, "c"}}, `a\b`},
		{"multiline", "[[line one\nline two|other]]", [][]string{{"line one\nline two", "other"}}, "line one\nline two"},
		{"unicode", "[[«цель»|объект]] — ok", [][]string{{"«цель»", "объект"}}, "«цель» — ok"},
		{"subdomain", "to {{canary:subdomain:sinkhole.example.net}} at", [][]string{nil}, "to sinkhole.example.net at"},
		{"time", "{{canary:time:2026-03-01T10:00:00Z~2s}}", [][]string{{"2026-03-01T09:59:58Z", "2026-03-01T09:59:59Z", "2026-03-01T10:00:01Z", "2026-03-01T10:00:02Z"}}, "2026-03-01T10:00:00Z"},
		{"number", "{{canary:number:100~2}}", [][]string{{"98", "99", "101", "102"}}, "100"},
		{"adjacent", "[[a|b]][[c|d]]", [][]string{{"a", "b"}, {"c", "d"}}, "ac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := parseMarkup(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for _, p := range ps {
				if p.mark != nil {
					got = append(got, p.mark.alts)
				}
			}
			if !slices.EqualFunc(got, tt.marks, slices.Equal) {
				t.Errorf("marks %q, want %q", got, tt.marks)
			}
			if r := renderFirst(ps); r != tt.first {
				t.Errorf("rendered %q, want %q", r, tt.first)
			}
			if n, err := ParseString(tt.in); err != nil || n != len(tt.marks) {
				t.Errorf("ParseString = %d, %v", n, err)
			}
		})
	}
}

func TestParseMarkupErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
		offset           int
	}{
		{"unclosed", "a [[b|c", "not closed", 2},
		{"one alternative", "[[only]]", "1 alternatives", 0},
		{"seventeen", "[[" + strings.Repeat("x|", 16) + "y]]", "17 alternatives", 0},
		{"empty alternative", "[[a||b]]", "alternative 2 is empty", 0},
		{"blank alternative", "[[a| \t|b]]", "alternative 2 is empty", 0},
		{"empty markup", "x [[]]", "1 alternatives", 2},
		{"same after normalisation", "[[Obtained|obtained ]]", "differ only", 0},
		{"same quotes", "[[‘x’|'x']]", "differ only", 0},
		{"nested", "[[a|[[b|c]]]]", "nested", 4},
		{"nested canary", "[[a|{{canary:number:1~1}}]]", "nested", 4},
		{"markup in canary", "{{canary:subdomain:[[a|b]].example.net}}", "nested", 0},
		{"unclosed canary", "{{canary:time:2026-03-01T10:00:00Z~1m", "not closed", 0},
		{"unknown kind", "{{canary:colour:red}}", "unknown canary kind", 0},
		{"no kind", "{{canary:x}}", "KIND:VALUE", 0},
		{"bad domain", "{{canary:subdomain:localhost}}", "two labels", 0},
		{"bad domain chars", "{{canary:subdomain:a_b.example}}", "valid domain", 0},
		{"bad time", "{{canary:time:yesterday~1h}}", "RFC 3339", 0},
		{"no tolerance", "{{canary:time:2026-03-01T10:00:00Z}}", "TIMESTAMP~TOLERANCE", 0},
		{"bad tolerance", "{{canary:time:2026-03-01T10:00:00Z~-5m}}", "positive duration", 0},
		{"tolerance finer than the timestamp", "{{canary:time:2026-03-01T10:00:00Z~500ms}}", "precision", 0},
		{"bad number", "{{canary:number:12a~1}}", "decimal", 0},
		{"leading zeros", "{{canary:number:0012~1}}", "leading zeros", 0},
		{"tolerance finer than the number", "{{canary:number:12~0.5}}", "more decimals", 0},
		{"percent rounds to nothing", "{{canary:number:12~1%}}", "below the value's precision", 0},
		{"below zero", "{{canary:number:5~10}}", "below zero", 0},
		{"invalid UTF-8", "a\xffb", "UTF-8", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMarkup(tt.in)
			var me *MarkupError
			if !errors.As(err, &me) || !errors.Is(err, ErrMarkup) {
				t.Fatalf("err = %v, want a *MarkupError", err)
			}
			if !strings.Contains(me.Reason, tt.reason) || me.Offset != tt.offset {
				t.Errorf("error %q at %d, want %q at %d", me.Reason, me.Offset, tt.reason, tt.offset)
			}
		})
	}
}

func TestCanaryValues(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// ~15m: minutes, m = 5 (the largest divisor of 15 up to 8).
		{"time:2026-03-01T10:00:00Z~15m", []string{"2026-03-01T09:45:00Z", "2026-03-01T09:48:00Z", "2026-03-01T09:51:00Z", "2026-03-01T09:54:00Z", "2026-03-01T09:57:00Z",
			"2026-03-01T10:03:00Z", "2026-03-01T10:06:00Z", "2026-03-01T10:09:00Z", "2026-03-01T10:12:00Z", "2026-03-01T10:15:00Z"}},
		// ~1h: no m ≥ 4 in hours, so minutes, m = 6: steps of 10 minutes.
		{"time:2026-03-01T10:00:00+02:00~1h", []string{"2026-03-01T09:00:00+02:00", "2026-03-01T09:10:00+02:00", "2026-03-01T09:20:00+02:00", "2026-03-01T09:30:00+02:00", "2026-03-01T09:40:00+02:00", "2026-03-01T09:50:00+02:00",
			"2026-03-01T10:10:00+02:00", "2026-03-01T10:20:00+02:00", "2026-03-01T10:30:00+02:00", "2026-03-01T10:40:00+02:00", "2026-03-01T10:50:00+02:00", "2026-03-01T11:00:00+02:00"}},
		// Fractional digits are kept, and allow finer units: seconds give
		// only m = 2, tenths m = 5 (steps of 0.4 s).
		{"time:2026-03-01T10:00:00.000Z~2s", []string{"2026-03-01T09:59:58.000Z", "2026-03-01T09:59:58.400Z", "2026-03-01T09:59:58.800Z", "2026-03-01T09:59:59.200Z", "2026-03-01T09:59:59.600Z",
			"2026-03-01T10:00:00.400Z", "2026-03-01T10:00:00.800Z", "2026-03-01T10:00:01.200Z", "2026-03-01T10:00:01.600Z", "2026-03-01T10:00:02.000Z"}},
		{"time:2026-03-01T10:00:00Z~2s", []string{"2026-03-01T09:59:58Z", "2026-03-01T09:59:59Z", "2026-03-01T10:00:01Z", "2026-03-01T10:00:02Z"}},
		{"time:2026-03-01T00:00:30Z~1m", []string{"2026-02-28T23:59:30Z", "2026-02-28T23:59:40Z", "2026-02-28T23:59:50Z", "2026-03-01T00:00:00Z", "2026-03-01T00:00:10Z", "2026-03-01T00:00:20Z",
			"2026-03-01T00:00:40Z", "2026-03-01T00:00:50Z", "2026-03-01T00:01:00Z", "2026-03-01T00:01:10Z", "2026-03-01T00:01:20Z", "2026-03-01T00:01:30Z"}},
		{"number:1200~5%", []string{"1140", "1150", "1160", "1170", "1180", "1190", "1210", "1220", "1230", "1240", "1250", "1260"}},
		{"number:1200~60", []string{"1140", "1150", "1160", "1170", "1180", "1190", "1210", "1220", "1230", "1240", "1250", "1260"}},
		{"number:3.50~0.5", []string{"3.00", "3.10", "3.20", "3.30", "3.40", "3.60", "3.70", "3.80", "3.90", "4.00"}},
		{"number:-40~7", []string{"-47", "-46", "-45", "-44", "-43", "-42", "-41", "-39", "-38", "-37", "-36", "-35", "-34", "-33"}},
		{"number:0.5~0.5", []string{"0.0", "0.1", "0.2", "0.3", "0.4", "0.6", "0.7", "0.8", "0.9", "1.0"}},
		{"number:10~1", []string{"9", "11"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := parseCanary(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.values, tt.want) {
				t.Errorf("values\n%q\nwant\n%q", c.values, tt.want)
			}
			if slices.Contains(c.values, c.declared) {
				t.Error("the declared value is one of the variants")
			}
		})
	}
}

func FuzzMarkup(f *testing.F) {
	for _, s := range []string{
		"", "plain", "the [[a|b]] c", `\[[x]] [[a\|b|c\]]]]`, "[[a|b|c|d]][[e|f]]",
		"{{canary:subdomain:sinkhole.example.net}}", "{{canary:time:2026-03-01T10:00:00.123+01:00~750ms}}",
		"{{canary:number:1200~5%}}", "[[a|[[b]]]]", "{{canary:number:99999999999999~1%}}", "[[x|y", "a\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parseMarkup(s)
		if err != nil {
			var me *MarkupError
			if !errors.As(err, &me) || me.Offset < -1 || me.Offset > len(s) {
				t.Fatalf("error %v is not a *MarkupError within the string", err)
			}
			return
		}
		for _, p := range ps {
			if p.mark == nil {
				if !utf8.ValidString(p.lit) {
					t.Fatalf("literal %q is not UTF-8", p.lit)
				}
				continue
			}
			m := p.mark
			if m.kind == KindSubdomain {
				if m.alts != nil || m.canary.domain == "" {
					t.Fatalf("subdomain canary %+v", m)
				}
				continue
			}
			if len(m.alts) < MinAlternatives || len(m.alts) > MaxAlternatives {
				t.Fatalf("%d alternatives", len(m.alts))
			}
			seen := map[string]bool{}
			for _, a := range m.alts {
				n := normalize(a)
				if strings.TrimSpace(n) == "" || seen[n] {
					t.Fatalf("alternatives %q empty or not distinct", m.alts)
				}
				seen[n] = true
			}
		}
		// Without markup, a string renders as itself, up to escapes.
		if !strings.Contains(s, `\`) && !slices.ContainsFunc(ps, func(p piece) bool { return p.mark != nil }) && renderFirst(ps) != s {
			t.Fatalf("%q renders as %q", s, renderFirst(ps))
		}
		// Every rendering of a parsed template is free of markup that
		// would parse again into marks, except where escapes put it.
		if !strings.Contains(s, `\`) {
			if n, err := ParseString(renderFirst(ps)); err == nil && n > 0 {
				t.Fatalf("%q renders as %q, which has %d marks", s, renderFirst(ps), n)
			}
		}
	})
}
