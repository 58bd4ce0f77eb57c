package screen

import (
	"strconv"
	"strings"
	"unicode"
)

// Digits and numbers in names: look-alike digits, ordinals, number words
// and Roman numerals.

// leet maps digits written for look-alike letters (Ig0r Sech1n), and
// leetAlt the second letter one of them stands for (V1adimir).
var (
	leet    = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b'}
	leetAlt = map[rune]rune{'1': 'l'}
)

// digitAlt returns the spelling of a word written with look-alike digits
// that reads 1 as l, "" when there is none.
func digitAlt(orig string) string {
	if !strings.Contains(orig, "1") {
		return ""
	}
	letters, digits := 0, 0
	for _, r := range orig {
		if unicode.IsDigit(r) {
			digits++
		} else {
			letters++
		}
	}
	if digits == 0 || letters < 2 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if l, ok := leetAlt[r]; ok {
			return l
		}
		if l, ok := leet[r]; ok {
			return l
		}
		return r
	}, orig)
}

var ordinalSuffix = map[string]bool{"st": true, "nd": true, "rd": true, "th": true}

// fixDigits maps look-alike digits in words that are mostly letters and turns
// ordinals (1st) into their number.
func fixDigits(w string) string {
	letters, digits := 0, 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		} else {
			letters++
		}
	}
	if digits == 0 || letters == 0 {
		return w
	}
	i := strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) })
	if i > 0 && ordinalSuffix[w[i:]] {
		return w[:i]
	}
	if letters < 2 {
		return w
	}
	return strings.Map(func(r rune) rune {
		if l, ok := leet[r]; ok {
			return l
		}
		return r
	}, w)
}

var numberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
	"thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
	"seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
	"sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}

// romanNumeral returns the value of a Roman numeral of two letters or more
// made of i, v and x (II to XXXIX), 0 for anything else; xi and vi, which
// are also names, are left alone.
func romanNumeral(w string) int {
	if len(w) < 2 || w == "xi" || w == "vi" || strings.Trim(w, "ivx") != "" {
		return 0
	}
	val := map[byte]int{'i': 1, 'v': 5, 'x': 10}
	n := 0
	for i := 0; i < len(w); i++ {
		v := val[w[i]]
		if i+1 < len(w) && val[w[i+1]] > v {
			n -= v
		} else {
			n += v
		}
	}
	// Only canonical spellings: xx, iv, xiv, not iiv or vx.
	if n <= 0 || n > 39 || toRoman(n) != w {
		return 0
	}
	return n
}

func toRoman(n int) string {
	var b strings.Builder
	for _, p := range []struct {
		v int
		s string
	}{{10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}} {
		for n >= p.v {
			b.WriteString(p.s)
			n -= p.v
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numbers turns number words into digits and joins tens and units
// (forty four, forty 4 → 44).
func numbers(ws []string) []string {
	out := ws[:0:0]
	for i, w := range ws {
		if n, ok := numberWords[w]; ok {
			w = strconv.Itoa(n)
		}
		if n := romanNumeral(w); n > 0 && len(ws) >= 3 && i > 0 {
			w = strconv.Itoa(n)
		}
		if len(out) > 0 && isDigits(w) && len(w) == 1 {
			prev := out[len(out)-1]
			if isDigits(prev) && len(prev) == 2 && prev[1] == '0' {
				out[len(out)-1] = prev[:1] + w
				continue
			}
		}
		out = append(out, w)
	}
	return out
}
