package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of JSON objects and arrays the package
// accepts. A bundle sits at depth 1, its objects at depth 3; real STIX rarely
// goes past 8.
const MaxDepth = 64

// SyntaxError reports malformed JSON and the byte offset where it was found.
type SyntaxError struct {
	Offset int    // byte offset into the input
	Msg    string // what is wrong, lowercase
}

// Error implements the error interface.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg)
}

// decoder is a strict RFC 8259 / I-JSON parser: it rejects duplicate object
// keys, invalid UTF-8, lone surrogates, numbers outside the float64 range and
// nesting deeper than MaxDepth. Objects decode to map[string]any, arrays to
// []any, numbers to json.Number in RFC 8785 form.
type decoder struct {
	data  []byte
	pos   int
	depth int
	buf   []byte // scratch for strings with escapes
}

// decodeJSON parses data as one JSON value.
func decodeJSON(data []byte) (any, error) {
	d := decoder{data: data}
	d.ws()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.pos != len(d.data) {
		return nil, d.errf("unexpected %s after the top-level value", d.what())
	}
	return v, nil
}

func (d *decoder) errf(format string, args ...any) error {
	return &SyntaxError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

// what describes the byte at the current position for error messages.
func (d *decoder) what() string {
	if d.pos >= len(d.data) {
		return "end of input"
	}
	c := d.data[d.pos]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.errf("unexpected end of input, want a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errf("unexpected %s, want a value", d.what())
	}
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return nil
	}
	return d.errf("invalid literal, want %s", lit)
}

func (d *decoder) object() (any, error) {
	d.depth++
	if d.depth > MaxDepth {
		return nil, d.errf("nesting deeper than %d levels", MaxDepth)
	}
	d.pos++ // '{'
	m := make(map[string]any)
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, nil
	}
	for {
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errf("unexpected %s, want an object key", d.what())
		}
		keyAt := d.pos
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, &SyntaxError{Offset: keyAt, Msg: fmt.Sprintf("duplicate object key %q", k)}
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errf("unexpected %s, want ':'", d.what())
		}
		d.pos++
		d.ws()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.ws()
		if d.pos >= len(d.data) {
			return nil, d.errf("unexpected end of input, want ',' or '}'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return m, nil
		default:
			return nil, d.errf("unexpected %s, want ',' or '}'", d.what())
		}
	}
}

func (d *decoder) array() (any, error) {
	d.depth++
	if d.depth > MaxDepth {
		return nil, d.errf("nesting deeper than %d levels", MaxDepth)
	}
	d.pos++ // '['
	a := make([]any, 0, 4)
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a, nil
	}
	for {
		d.ws()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.ws()
		if d.pos >= len(d.data) {
			return nil, d.errf("unexpected end of input, want ',' or ']'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return a, nil
		default:
			return nil, d.errf("unexpected %s, want ',' or ']'", d.what())
		}
	}
}

// str parses a string starting at the opening quote.
func (d *decoder) str() (string, error) {
	d.pos++ // '"'
	start := d.pos
	// Fast path: printable ASCII without escapes.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			b := d.data[start:d.pos]
			d.pos++
			if s, ok := interned[string(b)]; ok { // no allocation for the lookup
				return s, nil
			}
			return string(b), nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		d.pos++
	}
	buf := append(d.buf[:0], d.data[start:d.pos]...)
	for {
		if d.pos >= len(d.data) {
			return "", d.errf("unterminated string")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = buf
			return string(buf), nil
		case c < 0x20:
			return "", d.errf("control character 0x%02x in string must be escaped", c)
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return "", d.errf("unterminated escape")
			}
			e := d.data[d.pos+1]
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := d.hex4(d.pos + 2)
				if err != nil {
					return "", err
				}
				n := 6
				switch {
				case utf16.IsSurrogate(r) && r < 0xdc00:
					if d.pos+12 > len(d.data) || d.data[d.pos+6] != '\\' || d.data[d.pos+7] != 'u' {
						return "", d.errf("lone surrogate \\u%04x", r)
					}
					r2, err := d.hex4(d.pos + 8)
					if err != nil {
						return "", err
					}
					if r2 < 0xdc00 || r2 > 0xdfff {
						return "", d.errf("lone surrogate \\u%04x", r)
					}
					r = utf16.DecodeRune(r, r2)
					n = 12
				case utf16.IsSurrogate(r):
					return "", d.errf("lone surrogate \\u%04x", r)
				}
				buf = utf8.AppendRune(buf, r)
				d.pos += n
				continue
			default:
				return "", d.errf("invalid escape \\%c", e)
			}
			d.pos += 2
		case c < 0x80:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", d.errf("invalid UTF-8 in string")
			}
			buf = append(buf, d.data[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
}

func (d *decoder) hex4(at int) (rune, error) {
	if at+4 > len(d.data) {
		return 0, &SyntaxError{Offset: at, Msg: "truncated \\u escape"}
	}
	var r rune
	for i := range 4 {
		c := d.data[at+i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, &SyntaxError{Offset: at + i, Msg: "invalid hex digit in \\u escape"}
		}
	}
	return r, nil
}

func (d *decoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}

func (d *decoder) number() (any, error) {
	start := d.pos
	simple := true // a non-negative integer without leading zeros
	if d.data[d.pos] == '-' {
		d.pos++
		simple = false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
		if d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			return nil, d.errf("leading zero in number")
		}
	} else if d.digits() == 0 {
		return nil, d.errf("unexpected %s in number, want a digit", d.what())
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		simple = false
		if d.digits() == 0 {
			return nil, d.errf("unexpected %s in number, want a digit after '.'", d.what())
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		simple = false
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, d.errf("unexpected %s in number, want an exponent digit", d.what())
		}
	}
	text := d.data[start:d.pos]
	if simple && len(text) <= 15 {
		return json.Number(text), nil
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("number %s is out of the IEEE 754 double range", text)}
	}
	return json.Number(appendNumber(nil, f)), nil
}

// Canonicalize returns the RFC 8785 (JCS) canonical form of the JSON value
// in v: object members sorted by the UTF-16 code units of their names,
// numbers in ECMAScript shortest form, strings with minimal escaping, no
// whitespace. The input must be I-JSON: duplicate keys, invalid UTF-8, lone
// surrogates and numbers outside the double range are errors, as is nesting
// deeper than MaxDepth. Errors are *SyntaxError values with a byte offset.
func Canonicalize(v []byte) ([]byte, error) {
	tree, err := decodeJSON(v)
	if err != nil {
		return nil, err
	}
	return appendCanonical(make([]byte, 0, len(v)), tree)
}

// errUnsupportedValue reports a Go value that has no JSON form here; it can
// only come from a programming error inside the package.
var errUnsupportedValue = errors.New("unsupported value in JSON tree")

// appendCanonical appends the JCS form of a decoded JSON tree to b.
func appendCanonical(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		b = append(b, "null"...)
	case bool:
		b = strconv.AppendBool(b, v)
	case string:
		b = appendString(b, v)
	case json.Number:
		if isSimpleInt(string(v)) {
			b = append(b, v...)
			break
		}
		f, perr := strconv.ParseFloat(string(v), 64)
		if perr != nil {
			return nil, fmt.Errorf("number %q: %w", string(v), errUnsupportedValue)
		}
		b = appendNumber(b, f)
	case float64:
		b = appendNumber(b, v)
	case int:
		b = strconv.AppendInt(b, int64(v), 10)
	case map[string]any:
		var buf [24]string
		return appendCanonicalKeys(b, v, appendSortedKeys(buf[:0], v))
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendCanonical(b, e); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	case *marker:
		v.start = len(b)
		if b, err = appendCanonical(b, v.m); err != nil {
			return nil, err
		}
		v.end = len(b)
	case []string:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		b = append(b, ']')
	default:
		return nil, fmt.Errorf("%T: %w", v, errUnsupportedValue)
	}
	return b, nil
}

// marker wraps a dictionary in a tree being serialised and records where
// its canonical form starts and ends in the output, so that Sign can splice
// the signature in without serialising the object twice.
type marker struct {
	m          map[string]any
	start, end int
}

// appendCanonicalKeys appends the JCS form of m, whose keys in canonical
// order are keys.
func appendCanonicalKeys(b []byte, m map[string]any, keys []string) ([]byte, error) {
	var err error
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendCanonical(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// isSimpleInt reports whether s is a non-negative integer without leading
// zeros that is short enough to be exact in a double, and so already in
// ECMAScript form.
func isSimpleInt(s string) bool {
	if len(s) == 0 || len(s) > 15 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sortedKeys returns the keys of m in RFC 8785 order.
func sortedKeys(m map[string]any) []string {
	return appendSortedKeys(make([]string, 0, len(m)), m)
}

// appendSortedKeys appends the keys of m to keys in RFC 8785 order.
func appendSortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) <= 12 {
		for i := 1; i < len(keys); i++ { // insertion sort: small maps dominate
			for j := i; j > 0 && compareUTF16(keys[j-1], keys[j]) > 0; j-- {
				keys[j-1], keys[j] = keys[j], keys[j-1]
			}
		}
		return keys
	}
	slices.SortFunc(keys, compareUTF16)
	return keys
}

// interned holds strings that recur in STIX (property names, common values)
// so that decoding them does not allocate.
var interned = func() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{
		"type", "spec_version", "id", "created_by_ref", "created", "modified", "revoked",
		"labels", "confidence", "lang", "external_references", "object_marking_refs",
		"granular_markings", "extensions", "name", "description", "source_name", "url",
		"external_id", "hashes", "kill_chain_phases", "kill_chain_name", "phase_name",
		"selectors", "marking_ref", "pattern", "pattern_type", "pattern_version", "valid_from",
		"valid_until", "indicator_types", "object_refs", "relationship_type", "source_ref",
		"target_ref", "value", "aliases", "first_seen", "last_seen", "is_family", "malware_types",
		"published", "report_types", "extension_type", "property-extension", "grading",
		"signer", "signature", "2.1", "stix", "indicator", "relationship", "malware",
		"identity", "report", "tool", "campaign", "attack-pattern", "threat-actor",
		"intrusion-set", "vulnerability", "sighting", "observed-data", "marking-definition",
		"uses", "indicates", "targets", "attributed-to", "mitre-attack",
		"lockheed-martin-cyber-kill-chain", "malicious-activity", "definition_type",
		"definition", "tlp", "statement", "tlp_2_0", "sighting_of_ref", "where_sighted_refs",
		"first_observed", "last_observed", "number_observed", "identity_class", "sectors",
	} {
		m[s] = s
	}
	return m
}()

// compareUTF16 compares two valid UTF-8 strings by their UTF-16 code units,
// as RFC 8785 section 3.2.3 requires.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return len(a) - len(b)
	}
	if a[i] < 0x80 && b[i] < 0x80 {
		return int(a[i]) - int(b[i])
	}
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	return utf16Rank(ra) - utf16Rank(rb)
}

// utf16Rank maps a rune to a number that orders runes as their UTF-16
// encodings order: supplementary characters (surrogate pairs D800-DFFF)
// sort after U+D7FF and before U+E000.
func utf16Rank(r rune) int {
	switch {
	case r < 0xd800:
		return int(r)
	case r >= 0x10000:
		return 0xd800 + int(r-0x10000)
	default:
		return int(r) + 0x100000
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string with RFC 8785 escaping: only '"',
// '\\' and control characters are escaped, the latter as \b \t \n \f \r or
// \u00xx.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendNumber appends f in the ECMAScript Number.prototype.toString form
// (ECMA-262 section 7.1.12.1) that RFC 8785 prescribes. f must be finite.
func appendNumber(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0') // also -0
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d[.ddd]e±xx, shortest
	var digits [20]byte
	k := 0
	j := 0
	for ; e[j] != 'e'; j++ {
		if e[j] != '.' {
			digits[k] = e[j]
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[j+1:]))
	n := exp + 1 // position of the decimal point relative to the digits
	ds := digits[:k]
	switch {
	case k <= n && n <= 21:
		b = append(b, ds...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, ds[:n]...)
		b = append(b, '.')
		b = append(b, ds[n:]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for range -n {
			b = append(b, '0')
		}
		b = append(b, ds...)
	default:
		b = append(b, ds[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, ds[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}
