package screen

import (
	"strings"
	"unicode"
)

// Romanisation systems for Cyrillic, in the order of the columns of
// cyrillicTable.
const (
	SystemBGN    = "bgn-pcgn" // BGN/PCGN 1947, the usual English spelling
	SystemICAO   = "icao9303" // ICAO Doc 9303, machine-readable passports
	SystemISO9   = "iso9"     // ISO 9:1995 with its diacritics stripped
	SystemGerman = "german"   // Duden conventions (Lawrow, Tschernow)
	SystemFrench = "french"   // French conventions (Sergueï, Tchernov)
)

// CyrillicSystems lists the systems TransliterateCyrillic applies, in order.
var CyrillicSystems = []string{SystemBGN, SystemICAO, SystemISO9, SystemGerman, SystemFrench}

// cyrillicTable maps lowercase Cyrillic letters to their spelling in each
// system of CyrillicSystems. Letters whose spelling depends on position
// (е, ё, я, ю after a vowel or at the start of a word) are handled in
// translitCyrillicWord.
var cyrillicTable = map[rune][5]string{
	'а': {"a", "a", "a", "a", "a"},
	'б': {"b", "b", "b", "b", "b"},
	'в': {"v", "v", "v", "w", "v"},
	'г': {"g", "g", "g", "g", "g"},
	'д': {"d", "d", "d", "d", "d"},
	'е': {"e", "e", "e", "e", "e"},
	'ё': {"yo", "e", "e", "jo", "io"},
	'ж': {"zh", "zh", "z", "sch", "j"},
	'з': {"z", "z", "z", "s", "z"},
	'и': {"i", "i", "i", "i", "i"},
	'й': {"y", "i", "j", "j", "i"},
	'к': {"k", "k", "k", "k", "k"},
	'л': {"l", "l", "l", "l", "l"},
	'м': {"m", "m", "m", "m", "m"},
	'н': {"n", "n", "n", "n", "n"},
	'о': {"o", "o", "o", "o", "o"},
	'п': {"p", "p", "p", "p", "p"},
	'р': {"r", "r", "r", "r", "r"},
	'с': {"s", "s", "s", "s", "s"},
	'т': {"t", "t", "t", "t", "t"},
	'у': {"u", "u", "u", "u", "ou"},
	'ф': {"f", "f", "f", "f", "f"},
	'х': {"kh", "kh", "h", "ch", "kh"},
	'ц': {"ts", "ts", "c", "z", "ts"},
	'ч': {"ch", "ch", "c", "tsch", "tch"},
	'ш': {"sh", "sh", "s", "sch", "ch"},
	'щ': {"shch", "shch", "s", "schtsch", "chtch"},
	'ъ': {"", "ie", "", "", ""},
	'ы': {"y", "y", "y", "y", "y"},
	'ь': {"", "", "", "", ""},
	'э': {"e", "e", "e", "e", "e"},
	'ю': {"yu", "iu", "u", "ju", "iou"},
	'я': {"ya", "ia", "a", "ja", "ia"},
	// Ukrainian and Belarusian.
	'і': {"i", "i", "i", "i", "i"},
	'ї': {"yi", "i", "i", "ji", "i"},
	'є': {"ye", "ie", "e", "je", "ie"},
	'ґ': {"g", "g", "g", "g", "g"},
	'ў': {"w", "u", "u", "w", "ou"},
	// Serbian and Macedonian.
	'ђ': {"dj", "d", "d", "dj", "dj"},
	'ј': {"j", "j", "j", "j", "j"},
	'љ': {"lj", "l", "l", "lj", "lj"},
	'њ': {"nj", "n", "n", "nj", "nj"},
	'ћ': {"c", "c", "c", "tsch", "tch"},
	'џ': {"dz", "dz", "d", "dsch", "dj"},
	'ѓ': {"gj", "g", "g", "gj", "gj"},
	'ќ': {"kj", "k", "k", "kj", "kj"},
	'ѕ': {"dz", "dz", "z", "dz", "dz"},
	// Kazakh, Kyrgyz, Mongolian and other Turkic letters.
	'ә': {"a", "a", "a", "a", "a"},
	'ғ': {"gh", "g", "g", "gh", "gh"},
	'қ': {"q", "k", "k", "k", "k"},
	'ң': {"n", "n", "n", "n", "n"},
	'ө': {"o", "o", "o", "o", "o"},
	'ұ': {"u", "u", "u", "u", "ou"},
	'ү': {"u", "u", "u", "u", "u"},
	'һ': {"h", "h", "h", "h", "h"},
}

// cyrillicIotated holds the letters spelled with a leading y/j/i at the start
// of a word or after a vowel in BGN/PCGN and the German convention.
var cyrillicIotated = map[rune][5]string{
	'е': {"ye", "e", "e", "je", "ie"},
	'ё': {"yo", "e", "e", "jo", "io"},
}

func isCyrillicVowel(r rune) bool {
	return strings.ContainsRune("аеёиоуыэюяіїєәөұүъь", r)
}

// TransliterateCyrillic returns the Latin spellings of a Cyrillic word in
// each system of CyrillicSystems, in order (duplicates included). Runes that
// are not Cyrillic letters pass through unchanged.
func TransliterateCyrillic(word string) []string {
	out := make([]string, len(CyrillicSystems))
	for i := range CyrillicSystems {
		out[i] = translitCyrillicWord(word, i)
	}
	return out
}

func translitCyrillicWord(word string, sys int) string {
	var b strings.Builder
	rs := []rune(strings.ToLower(word))
	for i, r := range rs {
		start := i == 0 || !unicode.IsLetter(rs[i-1])
		if io, ok := cyrillicIotated[r]; ok && (start || isCyrillicVowel(rs[i-1])) {
			b.WriteString(io[sys])
			continue
		}
		if sys == 4 && r == 'г' && i+1 < len(rs) && strings.ContainsRune("еиыэ", rs[i+1]) {
			b.WriteString("gu") // French: Sergueï, Guennadi
			continue
		}
		if sys == 4 && r == 'с' && i > 0 && i+1 < len(rs) && isCyrillicVowel(rs[i-1]) && isCyrillicVowel(rs[i+1]) {
			b.WriteString("ss") // French: Vassili
			continue
		}
		if t, ok := cyrillicTable[r]; ok {
			b.WriteString(t[sys])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// greekTable maps Greek letters (without accents) to an ELOT 743 spelling and
// a phonetic spelling.
var greekTable = map[rune][2]string{
	'α': {"a", "a"}, 'β': {"v", "v"}, 'γ': {"g", "g"}, 'δ': {"d", "d"},
	'ε': {"e", "e"}, 'ζ': {"z", "z"}, 'η': {"i", "i"}, 'θ': {"th", "th"},
	'ι': {"i", "i"}, 'κ': {"k", "k"}, 'λ': {"l", "l"}, 'μ': {"m", "m"},
	'ν': {"n", "n"}, 'ξ': {"x", "ks"}, 'ο': {"o", "o"}, 'π': {"p", "p"},
	'ρ': {"r", "r"}, 'σ': {"s", "s"}, 'ς': {"s", "s"}, 'τ': {"t", "t"},
	'υ': {"y", "i"}, 'φ': {"f", "f"}, 'χ': {"ch", "kh"}, 'ψ': {"ps", "ps"},
	'ω': {"o", "o"},
}

// greekDigraphs are read before single letters: ELOT spelling, phonetic one.
var greekDigraphs = map[string][2]string{
	"ου": {"ou", "ou"}, "αι": {"ai", "e"}, "ει": {"ei", "i"}, "οι": {"oi", "i"},
	"μπ": {"mp", "b"}, "ντ": {"nt", "d"}, "γκ": {"gk", "g"}, "γγ": {"ng", "ng"},
	"αυ": {"av", "af"}, "ευ": {"ev", "ef"},
}

// TransliterateGreek returns an ELOT 743 spelling and a phonetic spelling of
// a Greek word (accents are expected to be stripped already).
func TransliterateGreek(word string) []string {
	rs := []rune(strings.ToLower(word))
	out := make([]string, 2)
	for sys := range out {
		var b strings.Builder
		for i := 0; i < len(rs); i++ {
			if sys == 1 && rs[i] == 'γ' && i+2 < len(rs) && rs[i+1] == 'ι' && strings.ContainsRune("αεοουω", rs[i+2]) {
				b.WriteString("y") // Modern Greek γι before a vowel: Yannis, Yiorgos
				i++
				continue
			}
			if i+1 < len(rs) {
				if d, ok := greekDigraphs[string(rs[i:i+2])]; ok {
					b.WriteString(d[sys])
					i++
					continue
				}
			}
			if t, ok := greekTable[rs[i]]; ok {
				b.WriteString(t[sys])
			} else {
				b.WriteRune(rs[i])
			}
		}
		out[sys] = b.String()
	}
	return out
}

// arabicLetter describes how an Arabic-script letter is romanised: its
// common Latin spelling and its skeleton class (see skeleton.go). A
// skeleton class of 0 means the letter is a vowel carrier.
type arabicLetter struct {
	latin string
	class byte
}

var arabicTable = map[rune]arabicLetter{
	'ا': {"a", 0}, 'أ': {"a", 0}, 'إ': {"i", 0}, 'آ': {"a", 0}, 'ٱ': {"a", 0},
	'ء': {"", 0}, 'ؤ': {"u", 0}, 'ئ': {"i", 0}, 'ى': {"a", 0},
	'ب': {"b", 'b'}, 'ت': {"t", 't'}, 'ث': {"th", 't'}, 'ج': {"j", 'J'},
	'ح': {"h", 'h'}, 'خ': {"kh", 'x'}, 'د': {"d", 'd'}, 'ذ': {"dh", 'd'},
	'ر': {"r", 'r'}, 'ز': {"z", 'z'}, 'س': {"s", 's'}, 'ش': {"sh", 'S'},
	'ص': {"s", 's'}, 'ض': {"d", 'd'}, 'ط': {"t", 't'}, 'ظ': {"z", 'z'},
	'ع': {"", 0}, 'غ': {"gh", 'g'}, 'ف': {"f", 'f'}, 'ق': {"q", 'k'},
	'ك': {"k", 'k'}, 'ل': {"l", 'l'}, 'م': {"m", 'm'}, 'ن': {"n", 'n'},
	'ه': {"h", 'h'}, 'ة': {"a", 0}, 'و': {"u", 'v'}, 'ي': {"i", 'y'},
	// Persian, Urdu and Pashto letters.
	'پ': {"p", 'p'}, 'چ': {"ch", 'C'}, 'ژ': {"zh", 'J'}, 'گ': {"g", 'g'},
	'ک': {"k", 'k'}, 'ی': {"i", 'y'}, 'ے': {"e", 'y'}, 'ہ': {"h", 'h'},
	'ٹ': {"t", 't'}, 'ڈ': {"d", 'd'}, 'ڑ': {"r", 'r'}, 'ں': {"n", 'n'},
	'ھ': {"h", 'h'}, 'ۀ': {"a", 0}, 'ځ': {"dz", 'z'}, 'څ': {"ts", 'z'},
	'ښ': {"sh", 'S'}, 'ږ': {"zh", 'J'}, 'ګ': {"g", 'g'}, 'ڼ': {"n", 'n'},
}

// isArabicScript reports whether r is a letter of the Arabic script.
func isArabicScript(r rune) bool { return unicode.Is(unicode.Arabic, r) }

// arabicWord is an Arabic-script word romanised: a readable Latin spelling
// and its consonant skeleton.
type arabicWord struct {
	latin string
	skel  string
}

// romaniseArabic romanises an Arabic-script word (after the article ال has
// been split off). Short vowels are not written in Arabic, so the Latin
// spelling carries only the long vowels; matching relies on the consonant
// skeleton, which ignores vowels on both sides.
func romaniseArabic(word string) arabicWord {
	rs := []rune(word)
	var lat, sk strings.Builder
	for i, r := range rs {
		l, ok := arabicTable[r]
		if !ok {
			continue // diacritics (harakat), tatweel, unknown letters
		}
		lat.WriteString(l.latin)
		c := l.class
		if (c == 'v' || c == 'y') && i > 0 {
			c = 0 // medial and final waw and ya are long vowels
		}
		if c == 'h' && i == len(rs)-1 && i > 0 {
			c = 0 // final ha, like ta marbuta, is not written in Latin
		}
		if c != 0 {
			if n := sk.Len(); n == 0 || sk.String()[n-1] != c {
				sk.WriteByte(c)
			}
		}
	}
	return arabicWord{latin: lat.String(), skel: sk.String()}
}
