package trace

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Markup syntax, in any string property the originator may mark:
//
//	[[first wording|second wording|…]]   2 to 16 interchangeable wordings
//	{{canary:subdomain:sinkhole.example.net}}
//	{{canary:time:2026-03-01T10:00:00Z~15m}}
//	{{canary:number:1200~5%}}
//
// Escapes: outside markup, \[[ and \{{ stand for a literal [[ and {{.
// Inside a wording's alternatives, \| \]] \[[ \{{ stand for a literal
// |, ]], [[ and {{. Every other backslash is literal, so Windows paths and
// regular expressions in descriptions are left alone; the one thing that
// cannot be written is a literal backslash right before markup. Outside
// markup, | and ]] are literal, as is any {{ not followed by "canary:".
// Markup does not nest: [[ or {{canary: inside a wording is an error.
const (
	openWording  = "[["
	closeWording = "]]"
	openCanary   = "{{canary:"
	closeCanary  = "}}"
)

// MinAlternatives and MaxAlternatives bound the number of wordings of one
// [[…]] position.
const (
	MinAlternatives = 2
	MaxAlternatives = 16
)

// ErrMarkup is wrapped by every *MarkupError.
var ErrMarkup = errors.New("invalid fingerprint markup")

// MarkupError reports markup that cannot be used, with where it is.
type MarkupError struct {
	Path   string // STIX selector of the string property, e.g. "external_references.[0].description"
	Offset int    // byte offset in the property's value, -1 when the whole property is concerned
	Reason string // e.g. "nested markup is not allowed"
}

// Error implements the error interface.
func (e *MarkupError) Error() string {
	switch {
	case e.Path == "" && e.Offset < 0:
		return "fingerprint markup: " + e.Reason
	case e.Path == "":
		return fmt.Sprintf("fingerprint markup at byte %d: %s", e.Offset, e.Reason)
	case e.Offset < 0:
		return fmt.Sprintf("fingerprint markup in %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("fingerprint markup in %s at byte %d: %s", e.Path, e.Offset, e.Reason)
}

// Unwrap returns ErrMarkup, so errors.Is(err, ErrMarkup) holds.
func (e *MarkupError) Unwrap() error { return ErrMarkup }

// Kind is what a mark is: a choice of wordings or one kind of canary fact.
type Kind string

// Kinds of marks.
const (
	KindWording   Kind = "wording"   // [[a|b|…]]: one wording per recipient
	KindSubdomain Kind = "subdomain" // a label under a declared domain, unique to the recipient
	KindTime      Kind = "time"      // a time within a declared tolerance
	KindNumber    Kind = "number"    // a number within a declared tolerance
)

// piece is a run of literal text or one mark of a parsed string.
type piece struct {
	lit  string // literal text with escapes resolved, when mark is nil
	mark *rawMark
}

// rawMark is a mark as parsed, before it is numbered within its object.
type rawMark struct {
	offset int // byte offset of its opening bracket
	kind   Kind
	alts   []string // wording alternatives, or a time or number canary's values
	canary *canary  // canary facts only
}

// ParseString checks the markup of one string value and reports the
// number of marks in it. It is what Parse applies to every string
// property; errors are *MarkupError values with an empty Path.
func ParseString(s string) (marks int, err error) {
	ps, err := parseMarkup(s)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if p.mark != nil {
			marks++
		}
	}
	return marks, nil
}

// parseMarkup splits s into literal pieces and marks.
func parseMarkup(s string) ([]piece, error) {
	if !utf8.ValidString(s) {
		return nil, &MarkupError{Offset: -1, Reason: "the value is not valid UTF-8"}
	}
	var out []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, `\`+openWording):
			lit.WriteString(openWording)
			i += 3
		case strings.HasPrefix(rest, `\{{`):
			lit.WriteString("{{")
			i += 3
		case strings.HasPrefix(rest, openWording):
			m, n, err := parseWording(s, i)
			if err != nil {
				return nil, err
			}
			flush()
			out = append(out, piece{mark: m})
			i += n
		case strings.HasPrefix(rest, openCanary):
			end := strings.Index(rest, closeCanary)
			if end < 0 {
				return nil, &MarkupError{Offset: i, Reason: "canary is not closed by }}"}
			}
			body := rest[len(openCanary):end]
			if strings.Contains(body, openWording) || strings.Contains(body, "{{") {
				return nil, &MarkupError{Offset: i, Reason: "nested markup is not allowed"}
			}
			c, err := parseCanary(body)
			if err != nil {
				return nil, &MarkupError{Offset: i, Reason: err.Error()}
			}
			flush()
			out = append(out, piece{mark: &rawMark{offset: i, kind: c.kind, alts: c.values, canary: c}})
			i += end + len(closeCanary)
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	return out, nil
}

// parseWording parses the [[…]] starting at s[at:] and returns the mark
// and the number of bytes it spans.
func parseWording(s string, at int) (*rawMark, int, error) {
	var alts []string
	var cur strings.Builder
	for i := at + len(openWording); i < len(s); {
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, `\|`):
			cur.WriteByte('|')
			i += 2
		case strings.HasPrefix(rest, `\`+closeWording), strings.HasPrefix(rest, `\`+openWording), strings.HasPrefix(rest, `\{{`):
			cur.WriteString(rest[1:3])
			i += 3
		case strings.HasPrefix(rest, openWording), strings.HasPrefix(rest, openCanary):
			return nil, 0, &MarkupError{Offset: i, Reason: "nested markup is not allowed"}
		case rest[0] == '|':
			alts = append(alts, cur.String())
			cur.Reset()
			i++
		case strings.HasPrefix(rest, closeWording):
			alts = append(alts, cur.String())
			if err := checkAlternatives(alts); err != nil {
				return nil, 0, &MarkupError{Offset: at, Reason: err.Error()}
			}
			return &rawMark{offset: at, kind: KindWording, alts: alts}, i + len(closeWording) - at, nil
		default:
			cur.WriteByte(s[i])
			i++
		}
	}
	return nil, 0, &MarkupError{Offset: at, Reason: "[[ is not closed by ]] (write \\[[ for a literal [[)"}
}

// checkAlternatives checks the wordings of one position.
func checkAlternatives(alts []string) error {
	if len(alts) < MinAlternatives || len(alts) > MaxAlternatives {
		return fmt.Errorf("%d alternatives, want %d to %d", len(alts), MinAlternatives, MaxAlternatives)
	}
	seen := make(map[string]int, len(alts))
	for i, a := range alts {
		n := normalize(a)
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("alternative %d is empty", i+1)
		}
		if j, dup := seen[n]; dup {
			return fmt.Errorf("alternatives %d and %d differ only in case, spacing or punctuation forms: a leaked copy could not tell them apart", j+1, i+1)
		}
		seen[n] = i
	}
	return nil
}
