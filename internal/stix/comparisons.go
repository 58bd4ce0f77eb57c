package stix

import "strings"

// Comparison is one equality a STIX pattern tests: the object path, as
// written (e.g. "file:hashes.'SHA-256'"), and a string value it is
// compared with by = or IN. Negated comparisons and other operators (LIKE,
// MATCHES, orderings) assert no value and are not reported.
type Comparison struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// PatternComparisons parses p as ValidatePattern does and returns the
// string values it compares object paths with for equality, in order: the
// values an indicator asserts. It returns the same *PatternError as
// ValidatePattern for a pattern that is not valid.
func PatternComparisons(p string) ([]Comparison, error) {
	var out []Comparison
	if err := checkPatternCollect(p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// collectValues records the string literals at the current token, the
// value of an = (one literal) or the members of an IN set, for path. It
// does not move the parser.
func (p *patternParser) collectValues(path string, set bool) {
	if !set {
		if p.tok.kind == tString {
			*p.collect = append(*p.collect, Comparison{Path: path, Value: unquotePattern(p.text(p.tok))})
		}
		return
	}
	// Lex the set ahead on a copy of the parser: the real parse checks it
	// and reports its errors, so a lexing error here only ends the look.
	q := *p
	q.collect = nil
	if q.tok.kind != tLParen {
		return
	}
	var values []Comparison
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(bailout); !ok {
					panic(r)
				}
			}
		}()
		for q.next(); q.tok.kind == tString || q.tok.kind == tComma || q.tok.kind == tInt || q.tok.kind == tFloat || q.tok.kind == tBool; q.next() {
			if q.tok.kind == tString {
				values = append(values, Comparison{Path: path, Value: unquotePattern(q.text(q.tok))})
			}
		}
	}()
	*p.collect = append(*p.collect, values...)
}

// unquotePattern returns the value of a quoted pattern string: without
// its quotes, \' and \\ unescaped.
func unquotePattern(s string) string {
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
