package trace

import (
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// reserialise writes v as JSON the way another tool might: keys in
// reverse order, indented with tabs, every non-ASCII character and every
// slash escaped.
func reserialise(v any, indent string) string {
	var b strings.Builder
	var write func(v any, depth int)
	write = func(v any, depth int) {
		pad := "\n" + strings.Repeat("\t", depth+1)
		switch v := v.(type) {
		case map[string]any:
			keys := sortedKeys(v)
			slices.Reverse(keys)
			b.WriteString("{")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(pad)
				write(k, depth+1)
				b.WriteString(" : ")
				write(v[k], depth+1)
			}
			b.WriteString("\n" + strings.Repeat("\t", depth) + "}")
		case []any:
			b.WriteString("[")
			for i, e := range v {
				if i > 0 {
					b.WriteString(", ")
				}
				write(e, depth+1)
			}
			b.WriteString("]")
		case string:
			b.WriteByte('"')
			for _, r := range v {
				switch {
				case r == '"' || r == '\\' || r == '/':
					b.WriteString(`\` + string(r))
				case r == '\n':
					b.WriteString(`\n`)
				case r < 0x20 || r > 0x7e:
					for _, u := range utf16.Encode([]rune{r}) {
						fmt.Fprintf(&b, `\u%04X`, u)
					}
				default:
					b.WriteRune(r)
				}
			}
			b.WriteByte('"')
		default:
			j, _ := json.Marshal(v)
			b.Write(j)
		}
	}
	write(v, 0)
	return indent + b.String()
}

// pasted returns the text as a chat client might mangle it: line breaks
// and double spaces, no-break spaces, typographic quotes, changed case.
func pasted(s string) string {
	r := strings.NewReplacer(". ", ".\n\n  ", " the ", "\u00a0the\u00a0", "'", "’", "Item", "ITEM")
	return "  " + r.Replace(s) + "\n"
}

func TestTraceForms(t *testing.T) {
	s := testScheme(t)
	parts := recipients(3)
	for _, canaries := range []bool{true, false} {
		obj := testReport("report--8a7c5a3e-2d7b-4f7e-9c1a-0b1c2d3e4f50", 150, canaries, 1)
		tpl := mustParse(t, obj)
		copies, recs := release(t, s, tpl, parts...)
		leaker := copies[1].Object
		desc := leaker["description"].(string)
		stripped := deepCopy(leaker).(map[string]any)
		delete(stripped, "extensions")
		delete(stripped, "external_references") // projected away
		bundle := map[string]any{"type": "bundle", "id": "bundle--1", "objects": []any{
			map[string]any{"type": "identity", "id": "identity--1", "name": "someone"}, stripped}}
		forms := []struct {
			name string
			doc  []byte
		}{
			{"compact JSON", mustJSON(t, leaker)},
			{"re-serialised JSON", []byte(reserialise(leaker, "\n"))},
			{"stripped and projected", mustJSON(t, stripped)},
			{"in a bundle, re-serialised", []byte(reserialise(bundle, ""))},
			{"description pasted as text", []byte(pasted(desc))},
			{"JSON fragment pasted as text", []byte(`"description": ` + strconv.Quote(desc) + `,`)},
			{"HTML-escaped text", []byte(html.EscapeString(desc))},
		}
		for _, f := range forms {
			t.Run(fmt.Sprintf("canaries=%v/%s", canaries, f.name), func(t *testing.T) {
				res, err := s.Trace([]Candidate{{tpl, recs}}, f.doc)
				if err != nil {
					t.Fatal(err)
				}
				if got := accused(res); !slices.Equal(got, []string{parts[1]}) {
					t.Fatalf("accused %q, want only %s; scores %+v", got, parts[1], res.Scores)
				}
				sc := res.Suspects[0]
				if sc.Positions < 150 || sc.Matches != sc.Positions {
					t.Errorf("%d positions observed, %d matching, want at least 150 all matching", sc.Positions, sc.Matches)
				}
				if canaries && len(sc.Canaries) != 1 {
					t.Errorf("canaries %q, want the leaker's subdomain", sc.Canaries)
				}
				if !canaries && sc.Log10Bound > -6 {
					t.Errorf("bound 10^%.1f from the code alone", sc.Log10Bound)
				}
				t.Logf("score %.1f over %d positions, bound 10^%.1f", sc.Score, sc.Positions, sc.Log10Bound)
			})
		}
	}
}

// interleave merges two descriptions sentence by sentence.
func interleave(a, b string) string {
	as, bs := strings.SplitAfter(a, ". "), strings.SplitAfter(b, ". ")
	var out strings.Builder
	for i := range as {
		if i%2 == 0 || i >= len(bs) {
			out.WriteString(as[i])
		} else {
			out.WriteString(bs[i])
		}
	}
	return out.String()
}

func TestTraceMergedCopies(t *testing.T) {
	s := testScheme(t)
	parts := recipients(3)
	for _, canaries := range []bool{false, true} {
		obj := testReport("report--5b1f0c2e-7a3d-4e8f-9b6c-1d2e3f4a5b6c", 400, canaries, 2)
		tpl := mustParse(t, obj)
		copies, recs := release(t, s, tpl, parts...)
		a, b := copies[0].Object, copies[1].Object
		byProperty := deepCopy(a).(map[string]any)
		byProperty["external_references"] = b["external_references"]
		byProperty["name"] = b["name"]
		bySentence := deepCopy(a).(map[string]any)
		bySentence["description"] = interleave(a["description"].(string), b["description"].(string))
		leaks := []struct {
			name string
			doc  []byte
		}{
			{"properties from each", mustJSON(t, byProperty)},
			{"sentences from each", mustJSON(t, bySentence)},
			{"sentences pasted as text", []byte(pasted(bySentence["description"].(string)))},
			{"both copies in one bundle", mustJSON(t, map[string]any{"type": "bundle", "id": "bundle--2", "objects": []any{a, b}})},
			{"both copies as two documents", nil},
		}
		for _, l := range leaks {
			t.Run(fmt.Sprintf("canaries=%v/%s", canaries, l.name), func(t *testing.T) {
				docs := [][]byte{l.doc}
				if l.doc == nil {
					docs = [][]byte{mustJSON(t, a), mustJSON(t, b)}
				}
				res, err := s.Trace([]Candidate{{tpl, recs}}, docs...)
				if err != nil {
					t.Fatal(err)
				}
				got := accused(res)
				if len(got) == 0 || slices.Contains(got, parts[2]) {
					t.Fatalf("accused %q: want one or both of the first two, never the third; scores %+v", got, res.Scores)
				}
				t.Logf("accused %d: %v; objects %+v", len(got), got, res.Objects)
			})
		}
	}
}

func TestTraceParaphrase(t *testing.T) {
	s := testScheme(t)
	parts := recipients(3)
	tpl := mustParse(t, testReport("report--9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", 20, true, 3))
	copies, recs := release(t, s, tpl, parts...)
	o := copies[2].Object
	label := recs[2].Labels[0]
	// Only the subdomain canary survives the paraphrase: it names its
	// recipient alone.
	para := "Someone said the K cell bought guns from a dealer; their implants called home to " +
		strings.ToUpper(label) + ".sinkhole.example.net, apparently."
	res, err := s.Trace([]Candidate{{tpl, recs}}, []byte(para))
	if err != nil {
		t.Fatal(err)
	}
	if got := accused(res); !slices.Equal(got, []string{parts[2]}) || res.Suspects[0].Log10Bound > -13 {
		t.Fatalf("accused %q, want %s by its canary; %+v", got, parts[2], res.Scores)
	}
	// A time canary alone is one position of the code: traced, but far
	// too little to accuse anyone.
	desc := o["description"].(string)
	i := strings.Index(desc, "2026-03-01T")
	para = "The beacons fired at " + desc[i:i+20] + " or so."
	res, err = s.Trace([]Candidate{{tpl, recs}}, []byte(para))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Observed != 1 || len(res.Suspects) != 0 {
		t.Fatalf("objects %+v, suspects %+v: want one position observed and nobody accused", res.Objects, res.Suspects)
	}
	// A number canary must be found as a whole number only.
	res, err = s.Trace([]Candidate{{tpl, recs}}, []byte("about 12100 hosts, or 11400.5, or v1140"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 0 {
		t.Fatalf("parts of longer numbers read as canaries: %+v", res.Objects)
	}
}

func TestTraceLocalCopies(t *testing.T) {
	s := testScheme(t)
	parts := recipients(20)
	obj := testReport("report--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 300, true, 4)
	tpl := mustParse(t, obj)
	_, recs := release(t, s, tpl, parts...)
	for _, leak := range []struct {
		name string
		doc  map[string]any
	}{{"local display copy", tpl.Strip()}, {"local copy with markup", obj}} {
		res, err := s.Trace([]Candidate{{tpl, recs}}, mustJSON(t, leak.doc))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Suspects) != 0 {
			t.Errorf("%s: accused %q", leak.name, accused(res))
		}
		t.Logf("%s: %+v", leak.name, res.Objects)
	}
}

func TestTraceAccumulates(t *testing.T) {
	s := testScheme(t)
	parts := recipients(40)
	var cands []Candidate
	var leaks [][]byte
	for i := range 8 {
		obj := testReport(fmt.Sprintf("report--00000000-0000-4000-8000-%012d", i), 25, false, uint64(10+i))
		tpl := mustParse(t, obj)
		copies, recs := release(t, s, tpl, parts...)
		cands = append(cands, Candidate{tpl, recs})
		leaks = append(leaks, []byte(pasted(copies[37].Object["description"].(string))))
	}
	for i, l := range leaks {
		res, err := s.Trace(cands, l)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(res.Suspects, func(sc Score) bool { return sc.Recipient != parts[37] }) {
			t.Fatalf("document %d alone accuses %q", i, accused(res))
		}
	}
	res, err := s.Trace(cands, leaks...)
	if err != nil {
		t.Fatal(err)
	}
	if got := accused(res); !slices.Equal(got, []string{parts[37]}) {
		t.Fatalf("the 8 documents together accuse %q, want %s; best %+v", got, parts[37], res.Scores[:2])
	}
	t.Logf("together: %+v", res.Suspects[0])
}

func TestTraceNothing(t *testing.T) {
	s := testScheme(t)
	tpl := mustParse(t, testReport("report--11111111-2222-4333-8444-555555555555", 30, true, 5))
	_, recs := release(t, s, tpl, recipients(5)...)
	for _, doc := range []string{"", "nothing to see", `{"type":"bundle","objects":[]}`, "\xff\xfe binary"} {
		res, err := s.Trace([]Candidate{{tpl, recs}}, []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Objects) != 0 || len(res.Scores) != 0 {
			t.Errorf("%q: %+v", doc, res)
		}
	}
	if _, err := s.Trace([]Candidate{{tpl, recs}}); err == nil {
		t.Error("no leaked document: no error")
	}
	bad := *recs[0]
	bad.Symbols = bad.Symbols[1:]
	if _, err := s.Trace([]Candidate{{tpl, []*Record{&bad}}}, mustJSON(t, tpl.Strip())); err == nil {
		t.Error("a record that does not fit the template: no error")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello,\tWorld \n", "hello, world"},
		{"a\u00a0\u2003b\r\n\r\nc", "a b c"},
		{"“Quoted” ‘single’ `tick` — dash – en … end", `"quoted" 'single' 'tick' - dash - en ... end`},
		{"soft\u00adhy\u200bphen\ufeff", "softhyphen"},
		{"ÉTÉ Straße ΣΊΣΥΦΟΣ", "été straße σίσυφοσ"},
		{"x \x1f y\x1f\x1f", "x\x1fy\x1f\x1f"},
		{"ctrl\x00\x07chars", "ctrlchars"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReleasesOfResult(t *testing.T) {
	s := testScheme(t)
	tpl := mustParse(t, testReport("report--66666666-7777-4888-8999-000000000000", 10, true, 11))
	copies, recs := release(t, s, tpl, recipients(3)...)
	res, err := s.Trace([]Candidate{{tpl, recs}}, mustJSON(t, copies[0].Object))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Releases(recs[1].Recipient); len(got) != 1 || got[0] != recs[1] {
		t.Errorf("Releases = %v", got)
	}
	if got := res.Releases("nobody"); got != nil {
		t.Errorf("Releases of nobody = %v", got)
	}
}

func TestTraceMergesCandidates(t *testing.T) {
	s := testScheme(t)
	parts := recipients(6)
	tpl := mustParse(t, testReport("report--88888888-9999-4aaa-8bbb-cccccccccccc", 120, false, 13))
	copies, recs := release(t, s, tpl, parts...)
	// The same version given twice, its records split between the two.
	tpl2 := mustParse(t, testReport("report--88888888-9999-4aaa-8bbb-cccccccccccc", 120, false, 13))
	res, err := s.Trace([]Candidate{{tpl, recs[:3]}, {tpl2, recs[3:]}}, mustJSON(t, copies[4].Object))
	if err != nil {
		t.Fatal(err)
	}
	if got := accused(res); !slices.Equal(got, []string{parts[4]}) || res.Recipients != 6 || len(res.Objects) != 1 {
		t.Fatalf("accused %q among %d recipients in %d objects", got, res.Recipients, len(res.Objects))
	}
}
