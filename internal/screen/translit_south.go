package screen

import "strings"

// Thai, romanised in the Royal Thai General System of Transcription (RTGS,
// Royal Institute 1999/2000), and in the letter-for-letter style many Thai
// families use for their own names (Abhisit, Vejjajiva, Shinawatra).

// thaiConsonant is how a Thai consonant is written at the start of a
// syllable and at its end in RTGS, and letter for letter.
type thaiConsonant struct{ initial, final, letter string }

var thaiConsonants = map[rune]thaiConsonant{
	'ก': {"k", "k", "k"}, 'ข': {"kh", "k", "kh"}, 'ฃ': {"kh", "k", "kh"}, 'ค': {"kh", "k", "kh"},
	'ฅ': {"kh", "k", "kh"}, 'ฆ': {"kh", "k", "gh"}, 'ง': {"ng", "ng", "ng"}, 'จ': {"ch", "t", "j"},
	'ฉ': {"ch", "t", "ch"}, 'ช': {"ch", "t", "ch"}, 'ซ': {"s", "t", "s"}, 'ฌ': {"ch", "t", "jh"},
	'ญ': {"y", "n", "y"}, 'ฎ': {"d", "t", "d"}, 'ฏ': {"t", "t", "t"}, 'ฐ': {"th", "t", "th"},
	'ฑ': {"th", "t", "d"}, 'ฒ': {"th", "t", "dh"}, 'ณ': {"n", "n", "n"}, 'ด': {"d", "t", "d"},
	'ต': {"t", "t", "t"}, 'ถ': {"th", "t", "th"}, 'ท': {"th", "t", "th"}, 'ธ': {"th", "t", "dh"},
	'น': {"n", "n", "n"}, 'บ': {"b", "p", "b"}, 'ป': {"p", "p", "p"}, 'ผ': {"ph", "p", "ph"},
	'ฝ': {"f", "p", "f"}, 'พ': {"ph", "p", "ph"}, 'ฟ': {"f", "p", "f"}, 'ภ': {"ph", "p", "bh"},
	'ม': {"m", "m", "m"}, 'ย': {"y", "i", "y"}, 'ร': {"r", "n", "r"}, 'ล': {"l", "n", "l"},
	'ว': {"w", "o", "v"}, 'ศ': {"s", "t", "s"}, 'ษ': {"s", "t", "s"}, 'ส': {"s", "t", "s"},
	'ห': {"h", "", "h"}, 'ฬ': {"l", "n", "l"}, 'อ': {"", "", ""}, 'ฮ': {"h", "", "h"},
}

func isThaiConsonant(r rune) bool { _, ok := thaiConsonants[r]; return ok }
func isThaiLeadVowel(r rune) bool { return r >= 'เ' && r <= 'ไ' }

// isThaiMark reports vowel signs written after, above or below a consonant.
func isThaiMark(r rune) bool {
	return r == 'ะ' || r == 'ั' || r == 'า' || r == 'ำ' || (r >= 'ิ' && r <= 'ู')
}

func isThaiCluster(c1, c2 rune) bool {
	if c2 != 'ร' && c2 != 'ล' && c2 != 'ว' {
		return false
	}
	return strings.ContainsRune("กขคปพผตบฟ", c1)
}

// TransliterateThai returns the RTGS spelling of a Thai word and its
// letter-for-letter spelling.
func TransliterateThai(word string) []string {
	var rs []rune
	for _, r := range word {
		if r >= '่' && r <= '๋' || r == '็' || r == 'ๆ' {
			continue // tone marks, the shortener, the repetition sign
		}
		if r == '์' { // thanthakhat: the letter it sits on is silent
			for len(rs) > 0 && isThaiMark(rs[len(rs)-1]) {
				rs = rs[:len(rs)-1]
			}
			if len(rs) > 0 {
				rs = rs[:len(rs)-1]
			}
			continue
		}
		rs = append(rs, r)
	}
	rtgs := thaiRead(rs, false)
	// Many Thai names are written without the h of aspirated consonants
	// (Thavisin, Leekpai, Pita).
	plain := strings.NewReplacer("ph", "p", "th", "t", "kh", "k").Replace(rtgs)
	return dedupe([]string{rtgs, thaiRead(rs, true), plain})
}

func thaiRead(rs []rune, letter bool) string {
	var b strings.Builder
	cons := func(r rune, final bool) string {
		c := thaiConsonants[r]
		switch {
		case letter && final && (r == 'ร' || r == 'ล'):
			return c.letter
		case letter:
			return c.letter
		case final:
			return c.final
		}
		return c.initial
	}
	n := len(rs)
	i := 0
	for i < n {
		r := rs[i]
		if !isThaiConsonant(r) && !isThaiLeadVowel(r) {
			switch r {
			case 'ฤ':
				b.WriteString("rue")
			case 'ฦ':
				b.WriteString("lue")
			}
			i++
			continue
		}
		lead := rune(0)
		if isThaiLeadVowel(r) {
			lead = r
			i++
			if i >= n || !isThaiConsonant(rs[i]) {
				continue
			}
		}
		// Initial consonant or cluster; a leading ห or อ before a
		// sonorant only sets the tone.
		c1 := rs[i]
		i++
		if (c1 == 'ห' && i < n && strings.ContainsRune("งญนมยรลว", rs[i]) && (i+1 >= n || !isThaiConsonant(rs[i+1]) || lead != 0)) ||
			(c1 == 'อ' && i < n && rs[i] == 'ย') {
			c1 = rs[i]
			i++
		}
		b.WriteString(cons(c1, false))
		if i < n && isThaiConsonant(rs[i]) && isThaiCluster(c1, rs[i]) && i+1 < n && (isThaiMark(rs[i+1]) || lead != 0) {
			b.WriteString(cons(rs[i], false))
			i++
		}
		// Vowel.
		v := ""
		switch lead {
		case 'เ':
			switch {
			case i+1 < n && rs[i] == 'า' && rs[i+1] == 'ะ':
				v, i = "o", i+2
			case i < n && rs[i] == 'า':
				v, i = "ao", i+1
			case i+1 < n && rs[i] == 'ี' && rs[i+1] == 'ย':
				v, i = "ia", i+2
			case i+1 < n && rs[i] == 'ื' && rs[i+1] == 'อ':
				v, i = "uea", i+2
			case i < n && rs[i] == 'อ':
				v, i = "oe", i+1
			case i < n && rs[i] == 'ะ':
				v, i = "e", i+1
			case i < n && rs[i] == 'ิ':
				v, i = "oe", i+1
			default:
				v = "e"
			}
		case 'แ':
			v = "ae"
			if i < n && rs[i] == 'ะ' {
				i++
			}
		case 'โ':
			v = "o"
			if i < n && rs[i] == 'ะ' {
				i++
			}
		case 'ใ', 'ไ':
			v = "ai"
		default:
			switch {
			case i+1 < n && rs[i] == 'ั' && rs[i+1] == 'ว':
				v, i = "ua", i+2
			case i < n && (rs[i] == 'ั' || rs[i] == 'า' || rs[i] == 'ะ'):
				v, i = "a", i+1
				if i < n && rs[i] == 'ะ' {
					i++
				}
			case i < n && rs[i] == 'ำ':
				v, i = "am", i+1
			case i < n && (rs[i] == 'ิ' || rs[i] == 'ี'):
				v, i = "i", i+1
			case i < n && (rs[i] == 'ึ' || rs[i] == 'ื'):
				v, i = "ue", i+1
				if i < n && rs[i] == 'อ' {
					i++
				}
			case i < n && (rs[i] == 'ุ' || rs[i] == 'ู'):
				v, i = "u", i+1
			case i+1 < n && rs[i] == 'ร' && rs[i+1] == 'ร':
				v, i = "an", i+2
			case i+1 < n && rs[i] == 'อ' && isThaiConsonant(rs[i+1]):
				v, i = "o", i+1
			case i < n && rs[i] == 'อ' && i+1 == n:
				v, i = "o", i+1
			case i+1 < n && rs[i] == 'ว' && isThaiConsonant(rs[i+1]) && (i+2 >= n || !isThaiMark(rs[i+2])):
				v, i = "ua", i+1
			case i < n && isThaiConsonant(rs[i]) && (i+1 >= n || !isThaiMark(rs[i+1])):
				v = "o" // closed syllable without a written vowel
			default:
				v = "a"
			}
		}
		b.WriteString(v)
		// Final consonant: one that carries no vowel of its own, is not
		// the initial of a cluster or of -รร-, and is not followed at the
		// end of the word by a second one after an open long vowel
		// (จุลานนท์ chulanon: the first is a syllable of its own).
		rr := i+2 < n && rs[i+1] == 'ร' && rs[i+2] == 'ร'
		open := v == "a" && i > 0 && rs[i-1] == 'า' || v == "i" || v == "u" || v == "ue"
		pairAtEnd := i+2 == n && isThaiConsonant(rs[i+1]) && open
		if i < n && isThaiConsonant(rs[i]) && !rr && !pairAtEnd && (i+1 >= n || !isThaiMark(rs[i+1]) && !(i+2 < n && isThaiConsonant(rs[i+1]) && isThaiCluster(rs[i], rs[i+1]) && isThaiMark(rs[i+2]))) {
			f := rs[i]
			if !(lead == 'ไ' || lead == 'ใ') || f != 'ย' {
				b.WriteString(cons(f, true))
			}
			i++
			// A second consonant without a vowel before the end or the
			// next leading vowel is silent (จันทร์, บัตร).
			if i < n && isThaiConsonant(rs[i]) && (i+1 >= n || isThaiLeadVowel(rs[i+1])) {
				if letter {
					b.WriteString(cons(rs[i], false) + "a")
				}
				i++
			}
		}
	}
	return b.String()
}

// Devanagari (Hindi, Marathi, Nepali), romanised as in the Hunterian system
// and in ISO 15919 without diacritics, with and without the inherent vowel
// that Hindi drops at the end of a word (Narendra, Ram, Rama).

var devaConsonants = map[rune]string{
	'क': "k", 'ख': "kh", 'ग': "g", 'घ': "gh", 'ङ': "n", 'च': "ch", 'छ': "chh", 'ज': "j", 'झ': "jh",
	'ञ': "n", 'ट': "t", 'ठ': "th", 'ड': "d", 'ढ': "dh", 'ण': "n", 'त': "t", 'थ': "th", 'द': "d",
	'ध': "dh", 'न': "n", 'ऩ': "n", 'प': "p", 'फ': "ph", 'ब': "b", 'भ': "bh", 'म': "m", 'य': "y",
	'र': "r", 'ऱ': "r", 'ल': "l", 'ळ': "l", 'व': "v", 'श': "sh", 'ष': "sh", 'स': "s", 'ह': "h",
	'\u0958': "q", '\u0959': "kh", '\u095A': "gh", '\u095B': "z", '\u095C': "r", '\u095D': "rh", '\u095E': "f", '\u095F': "y",
}

var devaVowels = map[rune]string{
	'अ': "a", 'आ': "a", 'इ': "i", 'ई': "i", 'उ': "u", 'ऊ': "u", 'ऋ': "ri", 'ए': "e", 'ऐ': "ai",
	'ओ': "o", 'औ': "au", 'ऑ': "o", 'ऍ': "e",
}

var devaSigns = map[rune]string{
	'ा': "a", 'ि': "i", 'ी': "i", 'ु': "u", 'ू': "u", 'ृ': "ri", 'े': "e", 'ै': "ai", 'ो': "o",
	'ौ': "au", 'ॉ': "o", 'ॅ': "e",
}

func isDevanagari(r rune) bool { return r >= 0x0900 && r <= 0x097F }

// TransliterateDevanagari returns the Latin spellings of a Devanagari word:
// the inherent vowel dropped at the end of the word and between a vowel and
// a consonant that carries a vowel (Hindi), dropped at the end only, and
// kept (Sanskrit).
func TransliterateDevanagari(word string) []string {
	type unit struct {
		cons, vowel string
		inherent    bool
		nasal       bool // anusvara: no consonant cluster
	}
	var us []unit
	rs := []rune(word)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if i+1 < len(rs) && rs[i+1] == '़' {
			// Nukta: क़ written as क + ़.
			switch r {
			case 'क':
				r = '\u0958'
			case 'ख':
				r = '\u0959'
			case 'ग':
				r = '\u095A'
			case 'ज':
				r = '\u095B'
			case 'ड':
				r = '\u095C'
			case 'ढ':
				r = '\u095D'
			case 'फ':
				r = '\u095E'
			}
			rs = append(rs[:i+1], rs[i+2:]...)
		}
		switch {
		case devaConsonants[r] != "":
			u := unit{cons: devaConsonants[r], vowel: "a", inherent: true}
			if i+1 < len(rs) {
				if s, ok := devaSigns[rs[i+1]]; ok {
					u.vowel, u.inherent = s, false
					i++
				} else if rs[i+1] == '्' {
					u.vowel, u.inherent = "", false
					i++
				}
			}
			us = append(us, u)
		case devaVowels[r] != "":
			us = append(us, unit{vowel: devaVowels[r]})
		case r == 'ं' || r == 'ँ':
			// Anusvara and candrabindu: a nasal, m before labials.
			nas := "n"
			if i+1 < len(rs) && strings.ContainsRune("पफबभम", rs[i+1]) {
				nas = "m"
			} else if i+1 < len(rs) && strings.ContainsRune("कखगघह", rs[i+1]) {
				nas = "ng" // सिंह Singh
			}
			us = append(us, unit{cons: nas, nasal: true})
		case r == 'ः':
			us = append(us, unit{cons: "h"})
		}
	}
	render := func(dropFinal, dropMedial bool) string {
		var b strings.Builder
		for i, u := range us {
			b.WriteString(u.cons)
			v := u.vowel
			if u.inherent {
				last := i == len(us)-1
				cluster := i > 0 && us[i-1].cons != "" && us[i-1].vowel == "" && !us[i-1].nasal
				if last && dropFinal && !cluster && len(us) > 1 {
					v = ""
				}
				if !last && dropMedial && i > 0 && us[i-1].vowel != "" && i+1 < len(us) &&
					us[i+1].cons != "" && !us[i+1].inherent && us[i+1].vowel != "" {
					v = ""
				}
			}
			b.WriteString(v)
		}
		return b.String()
	}
	return dedupe([]string{render(true, true), render(true, false), render(false, false)})
}
