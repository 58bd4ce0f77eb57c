package matching

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"detente"
	"detente/internal/psi"
)

// maxLineErrors bounds the bad lines reported at once.
const maxLineErrors = 20

// SelectorLine is a selector read from a file or a request, with where it
// came from and its text exactly as given (what a match reports).
type SelectorLine struct {
	Line     int          `json:"line"`
	Text     string       `json:"text"`
	Selector psi.Selector `json:"selector"`
}

// LineError is a selector that could not be read or canonicalised.
type LineError struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// String returns "line N: reason".
func (e LineError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// LinesError reports every bad line of an input (at most 20 are listed).
func LinesError(what string, errs []LineError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d invalid selector(s)", what, len(errs))
	for i, e := range errs {
		if i == maxLineErrors {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		b.WriteString("; " + e.String())
	}
	return detente.Errorf(detente.EINVALID, "%s", b.String())
}

// ParseSelectorType checks a selector type name.
func ParseSelectorType(s string) (psi.Type, error) {
	t := psi.Type(s)
	if !slices.Contains(psi.Types, t) {
		names := make([]string, len(psi.Types))
		for i, t := range psi.Types {
			names[i] = string(t)
		}
		return "", detente.Errorf(detente.EINVALID, "selector type %q must be one of %s", s, strings.Join(names, ", "))
	}
	return t, nil
}

// ParseSelectorFile reads selectors of type typ: one per line (blank lines
// and lines starting with # are skipped), or for persons a CSV with the
// columns name,dob (an optional header line "name,dob"). Each selector is
// canonicalised; those that fail are returned as LineErrors with their
// line numbers.
func ParseSelectorFile(typ psi.Type, data []byte) ([]SelectorLine, []LineError) {
	var out []SelectorLine
	var bad []LineError
	lines := strings.Split(string(data), "\n")
	add := func(line int, sel psi.Selector) {
		text := strings.TrimSpace(lines[line-1])
		if _, err := sel.Keys(); err != nil {
			bad = append(bad, LineError{Line: line, Err: err.Error()})
			return
		}
		out = append(out, SelectorLine{Line: line, Text: text, Selector: sel})
	}
	if typ != psi.TypePerson {
		for i, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			add(i+1, psi.Selector{Type: typ, Value: l})
		}
		return out, bad
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad = append(bad, LineError{Line: line, Err: "malformed CSV: " + err.Error()})
			if pe == nil {
				break
			}
			continue
		}
		if first && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "name") && strings.EqualFold(strings.TrimSpace(rec[1]), "dob") {
			continue
		}
		if len(rec) != 2 {
			bad = append(bad, LineError{Line: line, Err: fmt.Sprintf("want 2 columns (name,dob), got %d", len(rec))})
			continue
		}
		add(line, psi.Person(strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])))
	}
	return out, bad
}

// SelectorsOf reads selectors of type typ given as strings (a person as
// "name|dob"); line numbers are positions counted from 1.
func SelectorsOf(typ psi.Type, values []string) ([]SelectorLine, []LineError) {
	var out []SelectorLine
	var bad []LineError
	for i, v := range values {
		sel := psi.Selector{Type: typ, Value: v}
		if _, err := sel.Keys(); err != nil {
			bad = append(bad, LineError{Line: i + 1, Err: err.Error()})
			continue
		}
		out = append(out, SelectorLine{Line: i + 1, Text: v, Selector: sel})
	}
	return out, bad
}
