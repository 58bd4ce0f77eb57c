package trace

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// sep marks the start and end of each string of a leaked document in the
// text that is searched, so that a context at the edge of a property
// matches only at the edge of a string, and no match spans two strings.
const sep = '\x1f'

// normalize returns the form of s in which wordings are compared: lower
// case, every run of white space (including no-break and other Unicode
// spaces, line breaks and tabs) as one space, typographic quotes, dashes
// and ellipses as their ASCII forms, and zero-width characters, soft
// hyphens and other control characters dropped, and no space at the start
// or end of the text or next to sep, which is kept. It is what survives
// copying text into a chat client, a word processor or a web form.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, edge := false, true // a pending space; at the start of the text or right after sep
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII, the common case, without decoding
			i++
			switch {
			case c == sep:
				b.WriteByte(sep)
				space, edge = false, true
				continue
			case c == ' ' || c >= '\t' && c <= '\r':
				space = !edge
				continue
			case c < 0x20 || c == 0x7f:
				continue
			}
			if space {
				b.WriteByte(' ')
				space = false
			}
			edge = false
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '`':
				c = '\''
			}
			b.WriteByte(c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case unicode.IsSpace(r):
			space = !edge
			continue
		case r == 0xad, r == 0x200b, r == 0x200c, r == 0x200d, r == 0x2060, r == 0xfeff,
			unicode.IsControl(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		edge = false
		switch r {
		case '‘', '’', '‚', '‛', '′':
			b.WriteByte('\'')
		case '“', '”', '„', '‟', '″', '«', '»':
			b.WriteByte('"')
		case '‐', '‑', '‒', '–', '—', '―', '−':
			b.WriteByte('-')
		case '…':
			b.WriteString("...")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// haystack is the normalized text of leaked documents, with a Bloom-like
// bit set of the 8-byte substrings it contains, so that most searches for
// text that is absent cost a few bit tests.
type haystack struct {
	text  string
	grams []uint64 // bit set indexed by the top bits of a hash of each 8-byte substring
	shift uint     // 64 − log2(bits in grams)
}

// MaxLeak bounds the size of each leaked document that is read: the rest
// is ignored.
const MaxLeak = 16 << 20

// newHaystack returns the searchable text of leaked documents. A document
// that is JSON (a STIX object, a bundle, any re-serialisation of them) is
// searched string by string; anything else is taken as text, searched as
// it is and, when it holds escapes, also with JSON string escapes and HTML
// character references decoded (a fragment of JSON pasted as text).
func newHaystack(docs [][]byte) *haystack {
	var b strings.Builder
	h := &haystack{}
	add := func(s string) {
		s = strings.ReplaceAll(s, string(sep), " ")
		b.WriteByte(sep)
		b.WriteString(normalize(s))
		b.WriteByte(sep)
	}
	for _, d := range docs {
		if len(d) > MaxLeak {
			d = d[:MaxLeak]
		}
		if v, ok := decodeJSON(d); ok {
			walkStrings(v, add)
			continue
		}
		text := strings.ToValidUTF8(string(d), "\ufffd")
		add(text)
		if strings.Contains(text, `\`) {
			add(unescapeJSONText(text))
		}
		if strings.Contains(text, "&") {
			add(html.UnescapeString(text))
		}
	}
	h.text = b.String()
	// About 16 bits per substring, between 2¹⁶ and 2²⁸ bits.
	logBits := uint(16)
	for logBits < 28 && 1<<logBits < 16*len(h.text) {
		logBits++
	}
	h.grams, h.shift = make([]uint64, 1<<(logBits-6)), 64-logBits
	for i := 0; i+8 <= len(h.text); i++ {
		g := h.slot(gram(h.text, i))
		h.grams[g/64] |= 1 << (g % 64)
	}
	return h
}

// slot returns the bit of an 8-byte substring in h.grams.
func (h *haystack) slot(g uint64) uint64 { return (g * 0x9e3779b97f4a7c15) >> h.shift }

// has reports whether the 8-byte substring of p at i may be in h.
func (h *haystack) has(p string, i int) bool {
	g := h.slot(gram(p, i))
	return h.grams[g/64]&(1<<(g%64)) != 0
}

// decodeJSON decodes d if it is one JSON value.
func decodeJSON(d []byte) (any, bool) {
	d = bytes.TrimSpace(d)
	if len(d) == 0 || (d[0] != '{' && d[0] != '[' && d[0] != '"') || !json.Valid(d) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// walkStrings calls f with every string value in v (not the keys), in a
// deterministic order.
func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	case map[string]any:
		for _, k := range sortedKeys(v) {
			walkStrings(v[k], f)
		}
	}
}

// gram returns the 8-byte substring of p at i as a number.
func gram(p string, i int) uint64 { return binary.LittleEndian.Uint64([]byte(p[i : i+8])) }

// contains reports whether the normalized pattern p occurs in h.
func (h *haystack) contains(p string) bool {
	if len(p) >= 8 {
		if !h.has(p, 0) || !h.has(p, len(p)-8) || len(p) >= 16 && !h.has(p, len(p)/2-4) {
			return false
		}
	}
	return strings.Contains(h.text, p)
}

// edgeBefore reports whether nothing that would continue a value (a
// letter, a digit, a decimal point or thousands separator after a digit,
// a minus sign) ends at text[i].
func edgeBefore(text string, i int) bool {
	if i == 0 {
		return true
	}
	r, n := utf8.DecodeLastRuneInString(text[:i])
	switch {
	case isWordRune(r):
		return false
	case r == '.' || r == ',':
		return !(i-n > 0 && isDigit(text[i-n-1]))
	case r == '-':
		// A minus sign, unless it separates a range ("1140-1210").
		if i-n == 0 {
			return false
		}
		p, _ := utf8.DecodeLastRuneInString(text[:i-n])
		return isWordRune(p)
	}
	return true
}

// edgeAfter reports whether nothing that would continue a value starts at
// text[i].
func edgeAfter(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	switch {
	case isWordRune(r):
		return false
	case r == '.' || r == ',':
		return !(i+1 < len(text) && isDigit(text[i+1]))
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
func isDigit(c byte) bool    { return '0' <= c && c <= '9' }

// unescapeJSONText decodes the JSON string escapes in text (\" \\ \/ \b
// \f \n \r \t \uXXXX with surrogate pairs) and leaves everything else,
// including invalid escapes, as it is.
func unescapeJSONText(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '\\' || i+1 >= len(text) {
			b.WriteByte(c)
			continue
		}
		switch e := text[i+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
			i++
		case 'b', 'f', 'n', 'r', 't':
			b.WriteByte(' ')
			i++
		case 'u':
			r, n := hexRune(text[i:])
			if n == 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteRune(r)
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hexRune decodes a \uXXXX escape (or a surrogate pair of two) at the start
// of s and returns the rune and the bytes it spans, 0 if there is none.
func hexRune(s string) (rune, int) {
	u := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(s[2:6], 16, 16)
		return rune(v), err == nil
	}
	r, ok := u(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := u(s[6:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}
