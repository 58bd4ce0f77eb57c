package screen

import (
	"unicode"
	"unicode/utf8"
)

// syllabic reports whether s is written in Han, Hangul, Hiragana or
// Katakana, where one character is a syllable or a word.
func syllabic(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// Methods by which two tokens can match, reported in TokenMatch.Method.
const (
	MethodExact    = "exact"    // the same spelling
	MethodVariant  = "variant"  // a transliteration or known variant of the name
	MethodPhonetic = "phonetic" // the same skeleton key (vowels, doubles, consonant classes)
	MethodInitial  = "initial"  // a single letter standing for the name
	MethodFuzzy    = "fuzzy"    // similar spelling (Jaro-Winkler blended with edit distance)
	MethodJoined   = "joined"   // words written together or apart (SergeiLavrov)
)

func toRunes(s string) []rune {
	return []rune(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// JaroWinkler returns the Jaro-Winkler similarity of a and b, in 0..1, with
// the usual prefix scale 0.1 over at most four characters.
func JaroWinkler(a, b string) float64 {
	if isASCII(a) && isASCII(b) {
		return jaroWinkler([]byte(a), []byte(b))
	}
	return jaroWinkler(toRunes(a), toRunes(b))
}

func jaroWinkler[T byte | rune](a, b []T) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	window := len(b)/2 - 1
	if window < 0 {
		window = 0
	}
	var amBuf, bmBuf [64]bool
	var am, bm []bool
	if len(a) <= 64 && len(b) <= 64 {
		am, bm = amBuf[:len(a)], bmBuf[:len(b)]
	} else {
		am, bm = make([]bool, len(a)), make([]bool, len(b))
	}
	matches := 0
	for i := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !bm[j] && a[i] == b[j] {
				am[i], bm[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	trans, k := 0, 0
	for i := range a {
		if !am[i] {
			continue
		}
		for !bm[k] {
			k++
		}
		if a[i] != b[k] {
			trans++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(len(a)) + m/float64(len(b)) + (m-float64(trans)/2)/m) / 3
	prefix := 0
	for i := 0; i < min(4, len(a)); i++ {
		if a[i] != b[i] {
			break
		}
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// editRatio returns 1 - d/max(len), d being the optimal-string-alignment
// distance (Levenshtein with adjacent transpositions).
func editRatio(a, b string) float64 {
	n, m := len(a), len(b)
	if !isASCII(a) || !isASCII(b) {
		n, m = utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	}
	if n == 0 && m == 0 {
		return 1
	}
	return 1 - float64(editDistance(a, b))/float64(max(n, m))
}

// editDistance returns the optimal-string-alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// letters (Jhon, John) each count one.
func editDistance(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return osaDistance([]byte(a), []byte(b))
	}
	return osaDistance(toRunes(a), toRunes(b))
}

func osaDistance[T byte | rune](a, b []T) int {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return max(n, m)
	}
	var buf [3 * 65]int
	var prev2, prev, cur []int
	if m < 65 {
		prev2, prev, cur = buf[0:m+1], buf[65:65+m+1], buf[130:130+m+1]
	} else {
		prev2, prev, cur = make([]int, m+1), make([]int, m+1), make([]int, m+1)
	}
	for j := 0; j <= m; j++ {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}

// editSim turns the edit distance d of two spellings, the longer of length
// l and the shorter of length m, into a similarity. Unlike Jaro-Winkler it
// does not care where the typo is (Beta, Meta) and counts a swap of two
// letters once; unlike the edit ratio it does not let long words absorb
// several changes (Daniel, Donald).
func editSim(d, l, m int) float64 {
	switch {
	case d == 0:
		return 1
	case d == 1 && l >= 6:
		return 0.93
	case d == 1 && l == 5:
		return 0.9
	case d == 1 && l == 4:
		return 0.86
	case d == 1 && m == 3:
		return 0.82
	case d == 2 && l >= 9:
		return 0.87
	case d == 2 && l >= 7:
		return 0.84
	case d == 2 && l >= 5:
		return 0.76
	case d == 3 && l >= 12:
		return 0.82
	case d == 3 && l >= 10:
		return 0.76
	}
	return 0
}

// maxBlend caps what Jaro-Winkler alone can say: it rates different names
// that share a prefix (Daniel, Donald; Ronaldo, Ronaldinho) above 0.8.
const maxBlend = 0.78

func reversed(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// fuzzySim rates two Latin spellings x and y, with skeletons xs and ys,
// that are not the same.
func fuzzySim(x, y, xs, ys string) float64 {
	lx, ly := len(x), len(y)
	if min(lx, ly) < 2 || max(lx, ly) < 3 {
		return 0 // tiny words: only exact, variant or phonetic
	}
	if lx-ly > 4 || ly-lx > 4 {
		return 0 // five letters or more apart: another word
	}
	d := editDistance(x, y)
	s := editSim(d, max(lx, ly), min(lx, ly))
	if x[0] != y[0] && max(lx, ly) <= 5 {
		// Short names that differ in their first letter are more often
		// different names (Kang, Yang, Wang) than typos.
		s -= 0.04
	}
	if len(xs) >= 6 && len(ys) >= 6 && editDistance(xs, ys) == 1 {
		s = max(s, 0.8) // one sound apart (Kadafi, Gaddafi)
	}
	if lx >= 4 && lx == ly && reversed(x) == y {
		s = max(s, 0.9) // written backwards (nitup)
	}
	short := 1.0
	if lx <= 3 || ly <= 3 {
		short = 0.95 // one letter of three is a lot
	}
	// The blend of Jaro-Winkler and the edit ratio, from the distance
	// already computed (the spellings are ASCII here).
	b := (JaroWinkler(x, y) + 1 - float64(d)/float64(max(lx, ly))) / 2
	return max(s, short*min(b, maxBlend))
}

// blend is the fuzzy similarity of two spellings: the mean of Jaro-Winkler,
// which forgives typos but over-rewards shared prefixes (Lind, Lindemann),
// and the edit ratio, which does not.
func blend(a, b string) float64 {
	return (JaroWinkler(a, b) + editRatio(a, b)) / 2
}

// spellings calls f with every Latin spelling of t until f returns false.
func (t *token) spellings(f func(text, skel string) bool) {
	if !f(t.text, t.skel) {
		return
	}
	for i, a := range t.alts {
		if !f(a, t.skels[i]) {
			return
		}
	}
}

// tokenSim rates how well two tokens match, and how.
func tokenSim(a, b *token) (float64, string) {
	if a.text == b.text || (!a.latin && !b.latin && a.raw != "" && a.raw == b.raw) {
		if syllabic(a.raw) && syllabic(b.raw) && a.raw != b.raw {
			return 0, "" // homophones written with other characters
		}
		return 1, MethodExact
	}
	if syllabic(a.raw) && syllabic(b.raw) {
		// Both in Han or Hangul, where one character is a syllable or a
		// word: other characters are another name, however close their
		// readings (近平, 近朋).
		if a.raw == b.raw {
			return 1, MethodExact
		}
		return 0, ""
	}
	if a.kind == kindNumber || b.kind == kindNumber {
		return 0, ""
	}
	if len(a.alts) > 0 || len(b.alts) > 0 {
		same := false
		a.spellings(func(x, _ string) bool {
			b.spellings(func(y, _ string) bool {
				same = x == y
				return !same
			})
			return !same
		})
		if same {
			return 0.97, MethodVariant
		}
	}
	if sharesGroup(a.canon, b.canon) {
		return 0.95, MethodVariant
	}
	if a.kind == kindInitial || b.kind == kindInitial {
		if a.kind == kindInitial && b.kind == kindInitial {
			return 0, ""
		}
		if a.text != "" && b.text != "" && a.text[0] == b.text[0] {
			return 0.85, MethodInitial
		}
		return 0, ""
	}
	if a.abjad || b.abjad {
		return arabicSim(a, b)
	}
	if !a.latin || !b.latin {
		if a.latin || b.latin || syllabic(a.raw) || syllabic(b.raw) {
			// One character of Han or Hangul is a whole syllable: only
			// the same spelling counts.
			return 0, ""
		}
		return blend(a.raw, b.raw), MethodFuzzy
	}
	best, how := 0.0, ""
	a.spellings(func(x, xs string) bool {
		b.spellings(func(y, ys string) bool {
			if xs == ys && len(xs) >= 3 {
				// The same skeleton; the spellings must still be close
				// (Pierre and Parra share one too).
				if b := blend(x, y); b >= 0.7 {
					best, how = 0.92, MethodPhonetic
					return false
				} else if best < 0.8 {
					best, how = 0.8, MethodFuzzy
				}
			}
			if s := fuzzySim(x, y, xs, ys); s > best {
				best, how = s, MethodFuzzy
			}
			return true
		})
		return best < 0.92
	})
	return best, how
}

// arabicSim compares tokens one of which is in an abjad (Arabic or Hebrew
// script), on their consonant keys: abjads write no short vowels.
func arabicSim(a, b *token) (float64, string) {
	best, how := 0.0, ""
	a.consonantKeys(func(ka string) bool {
		b.consonantKeys(func(kb string) bool {
			s, h := ckeySim(ka, kb)
			if s > best {
				best, how = s, h
			}
			return best < 0.9
		})
		return best < 0.9
	})
	return best, how
}

// consonantKeys calls f with each consonant key of t until f returns false.
func (t *token) consonantKeys(f func(string) bool) {
	if !f(t.ckey) {
		return
	}
	for _, k := range t.ckeys {
		if !f(k) {
			return
		}
	}
}

func ckeySim(ka, kb string) (float64, string) {
	if ka == "" || kb == "" {
		return 0, ""
	}
	if ka == kb {
		if len(ka) >= 2 {
			return 0.9, MethodPhonetic
		}
		return 0.8, MethodPhonetic
	}
	if len(ka) < 3 || len(kb) < 3 {
		return 0, ""
	}
	return 0.9 * blend(ka, kb), MethodFuzzy
}
