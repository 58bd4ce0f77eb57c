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
		stripped := shallowClone(leaker)
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
