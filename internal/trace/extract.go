package trace

import (
	"strings"
	"unicode/utf8"
)

// Extraction finds, for every mark of a released object, which of its
// alternatives a leaked document carries. It matches text, not structure,
// so that a copy re-serialised in any JSON form, stripped of extensions
// and signatures, projected, or pasted out of its JSON into a chat is
// read the same way: the leak and the marks are compared in normalized
// form (see normalize), the leak's strings one by one when it is JSON.
//
// Each alternative is looked for with the text around the mark in the
// template: up to contextRunes characters on each side, within the same
// property, through neighbouring marks (every combination of their
// alternatives, up to maxContexts per side) and up to the edge of the
// property (marked by sep, so a context at the start of a description
// matches only at the start of a string). An alternative is found
//
//	at level 2 when it is found with its left and its right context;
//	at level 1 when it is found with one context of at least minSide bytes;
//	at level 0 when it is found on its own: only the values of time and
//	number canaries (as whole tokens) and wordings of at least minBare
//	bytes, which are specific enough to stand alone.
//
// The mark is observed when exactly one alternative is found at the
// highest level any is found; ambiguous when several are (two recipients'
// copies side by side), and then it counts for nobody; unobserved when
// none is. A subdomain canary is found wherever "<label>.<domain>" appears.
//
// A wrong reading cannot frame anyone: what is read depends only on the
// leaked text, made by the leakers from their own copies, so an innocent
// recipient's symbols are independent of it, which is all the bound on
// false accusations assumes.
const (
	contextRunes = 32
	maxContexts  = 16
	minSide      = 8
	minBare      = 16
)

// matchState is what extraction found for one mark.
type matchState uint8

const (
	unobserved matchState = iota
	observed
	ambiguous
)

// descriptor is how one mark is recognised in a leak. It is derived from
// the template alone, and recorded in every opening, so that a verifier
// repeats the extraction exactly.
type descriptor struct {
	kind        Kind
	alts        []string // raw alternatives
	left, right []string // raw contexts; sep stands for the edge of the property
	domain      string   // subdomain canaries

	lp, rp    [][]sidePattern // per alternative: normalized context+alternative
	bare      []string        // per alternative: normalized, "" when not looked for alone
	dotDomain string          // "." + normalized domain
}

// sidePattern is an alternative with one side's context.
type sidePattern struct {
	text   string
	strong bool // the context alone is specific enough
}

// newDescriptor returns the descriptor of the mark in pieces[k].
func newDescriptor(t *Template, pieces []tpiece, k int) *descriptor {
	m := &t.marks[pieces[k].mark]
	return buildDescriptor(m.Kind, m.Alternatives,
		sideContexts(t.marks, pieces, k, -1), sideContexts(t.marks, pieces, k, +1), m.Domain)
}

// buildDescriptor precomputes the patterns of a mark.
func buildDescriptor(kind Kind, alts, left, right []string, domain string) *descriptor {
	d := &descriptor{kind: kind, alts: alts, left: left, right: right, domain: domain}
	if kind == KindSubdomain {
		d.dotDomain = "." + normalize(domain)
		return d
	}
	strength := func(ctx string) int { return len(normalize(strings.ReplaceAll(ctx, string(sep), " "))) }
	for _, a := range alts {
		var lp, rp []sidePattern
		for _, c := range left {
			if c != "" {
				lp = append(lp, sidePattern{normalize(c + a), strength(c) >= minSide})
			}
		}
		for _, c := range right {
			if c != "" {
				rp = append(rp, sidePattern{normalize(a + c), strength(c) >= minSide})
			}
		}
		d.lp, d.rp = append(d.lp, lp), append(d.rp, rp)
		bare := ""
		if n := normalize(a); kind != KindWording || len(n) >= minBare {
			bare = n
		}
		d.bare = append(d.bare, bare)
	}
	return d
}

// sideContexts returns the texts that can stand next to pieces[k] in a
// rendering, on its left (dir −1) or right (dir +1), each cut to
// contextRunes characters, or ending with sep where the property ends
// first. A neighbouring subdomain canary, or one with too many
// combinations, ends the context there.
func sideContexts(marks []Mark, pieces []tpiece, k, dir int) []string {
	var out []string
	seen := map[string]bool{}
	emit := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var walk func(i int, acc string, fan int)
	walk = func(i int, acc string, fan int) {
		if utf8.RuneCountInString(acc) >= contextRunes {
			emit(cutRunes(acc, dir))
			return
		}
		if i < 0 || i >= len(pieces) {
			if dir < 0 {
				emit(string(sep) + acc)
			} else {
				emit(acc + string(sep))
			}
			return
		}
		p := pieces[i]
		if p.mark < 0 {
			walk(i+dir, joinSide(acc, p.lit, dir), fan)
			return
		}
		m := &marks[p.mark]
		if m.Kind == KindSubdomain || fan*len(m.Alternatives) > maxContexts {
			emit(acc)
			return
		}
		for _, a := range m.Alternatives {
			walk(i+dir, joinSide(acc, a, dir), fan*len(m.Alternatives))
		}
	}
	walk(k+dir, "", 1)
	return out
}

func joinSide(acc, s string, dir int) string {
	if dir < 0 {
		return s + acc
	}
	return acc + s
}

// cutRunes keeps the contextRunes runes of s nearest the mark.
func cutRunes(s string, dir int) string {
	if dir > 0 {
		n := 0
		for i := range s {
			if n == contextRunes {
				return s[:i]
			}
			n++
		}
		return s
	}
	n := utf8.RuneCountInString(s)
	for i := range s {
		if n == contextRunes {
			return s[i:]
		}
		n--
	}
	return s
}

// match reads the mark in h: the observed symbol, or why there is none.
func (d *descriptor) match(h *haystack) (int, matchState) {
	best, winners, sym := -1, 0, -1
	for a := range d.alts {
		switch lv := d.level(h, a); {
		case lv > best:
			best, winners, sym = lv, 1, a
		case lv == best && lv >= 0:
			winners++
		}
	}
	switch {
	case best < 0:
		return -1, unobserved
	case winners > 1:
		return -1, ambiguous
	}
	return sym, observed
}

// level returns the level at which alternative a is found in h, or −1.
func (d *descriptor) level(h *haystack, a int) int {
	token := d.kind != KindWording // a canary's value must not be part of a longer number
	left, leftStrong := false, false
	for _, p := range d.lp[a] {
		if h.find(p.text, false, token) {
			left, leftStrong = true, leftStrong || p.strong
		}
	}
	right, rightStrong := false, false
	for _, p := range d.rp[a] {
		if h.find(p.text, token, false) {
			right, rightStrong = true, rightStrong || p.strong
		}
	}
	switch {
	case left && right:
		return 2
	case leftStrong || rightStrong:
		return 1
	case d.bare[a] != "" && h.find(d.bare[a], token, token):
		return 0
	}
	return -1
}

// find reports whether the normalized pattern p occurs in h, when asked
// with nothing that could continue a value right before it (startEdge) or
// right after it (endEdge).
func (h *haystack) find(p string, startEdge, endEdge bool) bool {
	if !h.contains(p) {
		return false
	}
	if !startEdge && !endEdge {
		return true
	}
	for i := 0; ; {
		j := strings.Index(h.text[i:], p)
		if j < 0 {
			return false
		}
		j += i
		if (!startEdge || edgeBefore(h.text, j)) && (!endEdge || edgeAfter(h.text, j+len(p))) {
			return true
		}
		i = j + 1
	}
}

// labels returns the labels found in h in front of a subdomain canary's
// domain: each a run of labelLen letters and digits right before
// ".<domain>", not followed by more of a host name.
func (d *descriptor) labels(h *haystack) []string {
	if d.dotDomain == "." || !h.contains(d.dotDomain) {
		return nil
	}
	var out []string
	text := h.text
	for i := 0; ; {
		j := strings.Index(text[i:], d.dotDomain)
		if j < 0 {
			return out
		}
		j += i
		i = j + 1
		end := j + len(d.dotDomain)
		if end < len(text) && isHostByte(text[end]) {
			continue
		}
		start := j
		for start > 0 && isHostByte(text[start-1]) && text[start-1] != '-' {
			start--
		}
		if j-start == labelLen && (start == 0 || !isHostByte(text[start-1])) {
			out = append(out, text[start:j])
		}
	}
}

func isHostByte(c byte) bool { return c >= 'a' && c <= 'z' || isDigit(c) || c == '-' }
