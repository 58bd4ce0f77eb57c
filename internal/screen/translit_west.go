package screen

import "strings"

// Hebrew, romanised as an abjad like Arabic: short vowels are not written,
// so matching relies on consonant keys. Letters that stand for two sounds
// (ב b/v, כ k/kh, פ p/f, ש sh/s, ח h/kh) give several keys.

// hebrewLetter is a Hebrew letter's usual Latin spelling and its skeleton
// classes (see skeleton.go), the usual first; "" is a vowel carrier.
type hebrewLetter struct {
	latin   string
	classes string
}

var hebrewTable = map[rune]hebrewLetter{
	'א': {"", "a"}, 'ב': {"b", "bv"}, 'ג': {"g", "g"}, 'ד': {"d", "d"}, 'ה': {"h", "h"},
	'ו': {"v", "v"}, 'ז': {"z", "z"}, 'ח': {"kh", "hxS"}, 'ט': {"t", "t"}, 'י': {"y", "y"},
	'כ': {"k", "kxS"}, 'ך': {"kh", "xkS"}, 'ל': {"l", "l"}, 'מ': {"m", "m"}, 'ם': {"m", "m"},
	'נ': {"n", "n"}, 'ן': {"n", "n"}, 'ס': {"s", "s"}, 'ע': {"", "a"}, 'פ': {"p", "pf"},
	'ף': {"f", "f"}, 'צ': {"ts", "z"}, 'ץ': {"ts", "z"}, 'ק': {"k", "k"}, 'ר': {"r", "r"},
	'ש': {"sh", "Ss"}, 'ת': {"t", "t"},
}

func isHebrew(r rune) bool { return r >= 0x0590 && r <= 0x05FF || r >= 0xFB1D && r <= 0xFB4F }

// maxAbjadKeys bounds the consonant keys of one Hebrew word.
const maxAbjadKeys = 8

// romaniseHebrew returns a Latin spelling of a Hebrew word (consonants and
// the vowels written with ו and י) and its consonant skeletons, the usual
// reading first.
func romaniseHebrew(word string) (string, []string) {
	rs := []rune(word)
	var lat strings.Builder
	keys := []string{""}
	add := func(classes string) {
		var next []string
		for _, k := range keys {
			for i := 0; i < len(classes); i++ {
				c := classes[i]
				if n := len(k); n > 0 && k[n-1] == c {
					next = append(next, k)
				} else {
					next = append(next, k+string(c))
				}
				if len(next) >= maxAbjadKeys {
					break
				}
			}
		}
		keys = dedupe(next)
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		l, ok := hebrewTable[r]
		if !ok {
			continue
		}
		geresh := i+1 < len(rs) && (rs[i+1] == '׳' || rs[i+1] == '\'')
		switch {
		case geresh && (r == 'ג' || r == 'ז'):
			lat.WriteString("j")
			add("J")
			continue
		case geresh && (r == 'צ' || r == 'ץ'):
			lat.WriteString("ch")
			add("S")
			continue
		}
		if (r == 'ו' || r == 'י') && i > 0 {
			// Medial and final vav and yod are mostly vowels; a double
			// vav is v.
			if r == 'ו' && i+1 < len(rs) && rs[i+1] == 'ו' {
				lat.WriteString("v")
				add("v")
				i++
				continue
			}
			if r == 'ו' {
				lat.WriteString("o")
			} else {
				lat.WriteString("i")
			}
			continue
		}
		if r == 'ה' && i == len(rs)-1 && i > 0 {
			lat.WriteString("a") // final he is a vowel
			continue
		}
		lat.WriteString(l.latin)
		if l.classes != "" {
			add(l.classes)
		}
	}
	// Latin writes צח as tzh (Yitzhak), which skeletons read as t + zh.
	if strings.Contains(word, "צח") {
		for _, k := range keys {
			if strings.Contains(k, "zh") && len(keys) < maxAbjadKeys+2 {
				keys = append(keys, strings.Replace(k, "zh", "tJ", 1))
			}
		}
	}
	return lat.String(), keys
}

// Georgian (Mkhedruli), in the national system of 2002 as written without
// apostrophes, which is also the BGN/PCGN one.
var georgianTable = map[rune]string{
	'ა': "a", 'ბ': "b", 'გ': "g", 'დ': "d", 'ე': "e", 'ვ': "v", 'ზ': "z", 'თ': "t", 'ი': "i",
	'კ': "k", 'ლ': "l", 'მ': "m", 'ნ': "n", 'ო': "o", 'პ': "p", 'ჟ': "zh", 'რ': "r", 'ს': "s",
	'ტ': "t", 'უ': "u", 'ფ': "p", 'ქ': "k", 'ღ': "gh", 'ყ': "q", 'შ': "sh", 'ჩ': "ch", 'ც': "ts",
	'ძ': "dz", 'წ': "ts", 'ჭ': "ch", 'ხ': "kh", 'ჯ': "j", 'ჰ': "h",
}

func isGeorgian(r rune) bool { return r >= 0x10A0 && r <= 0x10FF || r >= 0x1C90 && r <= 0x1CBF }

// TransliterateGeorgian returns the Latin spellings of a Georgian word: the
// national system, and the Russian-mediated one found in older documents
// (ყ as k, ჯ as dzh, ხ as kh, ღ as g).
func TransliterateGeorgian(word string) []string {
	var a, b strings.Builder
	for _, r := range word {
		if r >= 0x1C90 && r <= 0x1CBF {
			r = r - 0x1C90 + 0x10D0 // Mtavruli capitals
		}
		t, ok := georgianTable[r]
		if !ok {
			a.WriteRune(r)
			b.WriteRune(r)
			continue
		}
		a.WriteString(t)
		switch r {
		case 'ყ':
			t = "k"
		case 'ჯ':
			t = "dzh"
		case 'ღ':
			t = "g"
		}
		b.WriteString(t)
	}
	return dedupe([]string{a.String(), b.String()})
}

// armenianTable maps Armenian lowercase letters to their Eastern Armenian
// spelling (BGN/PCGN 1981) and, where it differs, the Western one.
var armenianTable = map[rune][2]string{
	'ա': {"a", "a"}, 'բ': {"b", "p"}, 'գ': {"g", "k"}, 'դ': {"d", "t"}, 'ե': {"e", "e"},
	'զ': {"z", "z"}, 'է': {"e", "e"}, 'ը': {"e", "e"}, 'թ': {"t", "t"}, 'ժ': {"zh", "zh"},
	'ի': {"i", "i"}, 'լ': {"l", "l"}, 'խ': {"kh", "kh"}, 'ծ': {"ts", "dz"}, 'կ': {"k", "g"},
	'հ': {"h", "h"}, 'ձ': {"dz", "ts"}, 'ղ': {"gh", "gh"}, 'ճ': {"ch", "j"}, 'մ': {"m", "m"},
	'յ': {"y", "y"}, 'ն': {"n", "n"}, 'շ': {"sh", "sh"}, 'ո': {"o", "o"}, 'չ': {"ch", "ch"},
	'պ': {"p", "b"}, 'ջ': {"j", "ch"}, 'ռ': {"r", "r"}, 'ս': {"s", "s"}, 'վ': {"v", "v"},
	'տ': {"t", "d"}, 'ր': {"r", "r"}, 'ց': {"ts", "ts"}, 'ւ': {"v", "v"}, 'փ': {"p", "p"},
	'ք': {"k", "k"}, 'օ': {"o", "o"}, 'ֆ': {"f", "f"}, 'և': {"ev", "ev"},
}

func isArmenian(r rune) bool { return r >= 0x0530 && r <= 0x058F || r >= 0xFB13 && r <= 0xFB17 }

// TransliterateArmenian returns the Latin spellings of an Armenian word:
// Eastern Armenian (BGN/PCGN), then Western Armenian (Kardashian,
// Aznavourian), with ե as ye and ո as vo at the start of a word, and -յան
// also as -ian.
func TransliterateArmenian(word string) []string {
	rs := []rune(strings.ToLower(word))
	out := make([]string, 2)
	for sys := range out {
		var b strings.Builder
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			switch {
			case r == 'ո' && i+1 < len(rs) && rs[i+1] == 'ւ':
				b.WriteString("u")
				i++
				continue
			case r == 'ե' && i == 0:
				b.WriteString("ye")
				continue
			case r == 'ո' && i == 0 && sys == 0:
				b.WriteString("vo")
				continue
			case r == 'և' && i == 0:
				b.WriteString("yev")
				continue
			}
			if t, ok := armenianTable[r]; ok {
				b.WriteString(t[sys])
			} else {
				b.WriteRune(r)
			}
		}
		out[sys] = b.String()
	}
	if strings.HasSuffix(out[0], "yan") {
		out = append(out, strings.TrimSuffix(out[0], "yan")+"ian")
	}
	return dedupe(out)
}
