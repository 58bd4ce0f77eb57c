package screen

import (
	"strings"
	"unicode"
)

// Japanese kana, romanised in Hepburn (the system of Japanese passports and
// of the Library of Congress, ALA-LC), written without macrons.

// kanaTable maps hiragana to Hepburn; katakana is mapped to hiragana first.
var kanaTable = map[rune]string{
	'あ': "a", 'い': "i", 'う': "u", 'え': "e", 'お': "o",
	'か': "ka", 'き': "ki", 'く': "ku", 'け': "ke", 'こ': "ko",
	'が': "ga", 'ぎ': "gi", 'ぐ': "gu", 'げ': "ge", 'ご': "go",
	'さ': "sa", 'し': "shi", 'す': "su", 'せ': "se", 'そ': "so",
	'ざ': "za", 'じ': "ji", 'ず': "zu", 'ぜ': "ze", 'ぞ': "zo",
	'た': "ta", 'ち': "chi", 'つ': "tsu", 'て': "te", 'と': "to",
	'だ': "da", 'ぢ': "ji", 'づ': "zu", 'で': "de", 'ど': "do",
	'な': "na", 'に': "ni", 'ぬ': "nu", 'ね': "ne", 'の': "no",
	'は': "ha", 'ひ': "hi", 'ふ': "fu", 'へ': "he", 'ほ': "ho",
	'ば': "ba", 'び': "bi", 'ぶ': "bu", 'べ': "be", 'ぼ': "bo",
	'ぱ': "pa", 'ぴ': "pi", 'ぷ': "pu", 'ぺ': "pe", 'ぽ': "po",
	'ま': "ma", 'み': "mi", 'む': "mu", 'め': "me", 'も': "mo",
	'や': "ya", 'ゆ': "yu", 'よ': "yo",
	'ら': "ra", 'り': "ri", 'る': "ru", 'れ': "re", 'ろ': "ro",
	'わ': "wa", 'ゐ': "i", 'ゑ': "e", 'を': "o", 'ん': "n", 'ゔ': "vu",
	'ぁ': "a", 'ぃ': "i", 'ぅ': "u", 'ぇ': "e", 'ぉ': "o",
	'ゃ': "ya", 'ゅ': "yu", 'ょ': "yo", 'ゎ': "wa",
}

func isKana(r rune) bool {
	return unicode.In(r, unicode.Hiragana, unicode.Katakana) || r == 'ー'
}

func kanaToHiragana(r rune) rune {
	if r >= 0x30A1 && r <= 0x30F6 {
		return r - 0x60
	}
	if r == 'ヷ' {
		return 'わ'
	}
	return r
}

// kanaUnit is one mora: consonant part and vowel.
type kanaUnit struct{ cons, vowel string }

func splitMora(s string) kanaUnit {
	if i := strings.LastIndexAny(s, "aeiou"); i >= 0 && i == len(s)-1 {
		return kanaUnit{s[:i], s[i:]}
	}
	return kanaUnit{s, ""}
}

// kanaMorae reads a kana word into morae, combining small kana (kya, fa,
// ti), the sokuon (っ: doubled consonant) and the long-vowel mark (ー).
func kanaMorae(word string) []kanaUnit {
	var us []kanaUnit
	double := false
	for _, r := range word {
		r = kanaToHiragana(r)
		if r == 'っ' {
			double = true
			continue
		}
		if r == 'ー' {
			if len(us) > 0 {
				us = append(us, kanaUnit{vowel: us[len(us)-1].vowel})
			}
			continue
		}
		lat, ok := kanaTable[r]
		if !ok {
			continue
		}
		small := strings.ContainsRune("ぁぃぅぇぉゃゅょゎ", r)
		if small && len(us) > 0 {
			p := &us[len(us)-1]
			v := splitMora(lat)
			switch {
			case strings.HasPrefix(lat, "y"): // kya, sha, cho
				if p.cons == "sh" || p.cons == "ch" || p.cons == "j" {
					p.vowel = v.vowel
				} else {
					p.cons += "y"
					p.vowel = v.vowel
				}
			case p.cons == "" && p.vowel == "u": // ウィ wi, ウォ wo
				p.cons, p.vowel = "w", v.vowel
			case (p.cons == "t" || p.cons == "d") && (v.vowel == "i" || v.vowel == "u"): // ティ ti, ドゥ du
				p.vowel = v.vowel
			case p.cons == "f" || p.cons == "v" || p.cons == "ts" || p.cons == "sh" || p.cons == "ch" || p.cons == "j":
				p.vowel = v.vowel // ファ fa, ヴァ va, ツァ tsa, シェ she
			default:
				us = append(us, kanaUnit{vowel: v.vowel})
			}
			continue
		}
		u := splitMora(lat)
		if double && u.cons != "" {
			c := u.cons[:1]
			if u.cons == "ch" {
				c = "t"
			}
			u.cons = c + u.cons
		}
		double = false
		us = append(us, u)
	}
	return us
}

// TransliterateKana returns Latin spellings of a hiragana or katakana word:
// Hepburn without long vowels (Shinzo, Tokyo), the kana-for-kana form
// (Shinzou, Toukyou), and, for names of foreign origin written in
// katakana, the form without the vowels Japanese adds between consonants,
// with r and with l (ドナルド → donard, donald).
func TransliterateKana(word string) []string {
	us := kanaMorae(word)
	if len(us) == 0 {
		return []string{word}
	}
	var full, short, bare strings.Builder
	for i, u := range us {
		full.WriteString(u.cons + u.vowel)
		// Long vowels: ou, oo, uu, ei written once in simplified Hepburn.
		long := i > 0 && u.cons == "" && us[i-1].vowel != "" &&
			(u.vowel == us[i-1].vowel || u.vowel == "u" && us[i-1].vowel == "o")
		if !long {
			short.WriteString(u.cons + u.vowel)
		}
		// Epenthetic vowels: u after most consonants and o after t and d,
		// before another consonant or at the end, except in the first
		// mora unless a consonant cluster (tr, pr, gr) follows.
		next := i+1 < len(us)
		nextCons := next && us[i+1].cons != ""
		epen := u.cons != "" && u.cons != "n" && (u.vowel == "u" && u.cons != "ts" && u.cons != "y" ||
			u.vowel == "o" && (u.cons == "t" || u.cons == "d"))
		drop := epen && (!next || nextCons) && len(us) > 1
		if i == 0 && drop && !(nextCons && us[1].cons == "r") {
			drop = false
		}
		if long || u.cons == "" && u.vowel == "" {
			continue
		}
		c := u.cons
		if c == "n" && u.vowel == "" && nextCons && strings.IndexByte("bpm", us[i+1].cons[0]) >= 0 {
			c = "m"
		}
		bare.WriteString(c)
		if !drop {
			bare.WriteString(u.vowel)
		}
	}
	forms := []string{short.String(), full.String()}
	if b := bare.String(); b != forms[0] {
		forms = append(forms, b)
		if strings.Contains(b, "r") {
			forms = append(forms, strings.ReplaceAll(b, "r", "l"))
		}
	}
	return dedupe(forms)
}

// Korean Hangul, romanised in the Revised Romanisation of Korean (2000)
// and McCune–Reischauer (as written without breves and apostrophes), with
// the usual spellings of family names (김 Kim, 이 Lee, 박 Park).

var (
	hangulInitRR = []string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"}
	hangulInitMR = []string{"k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "ch", "tch", "ch", "k", "t", "p", "h"}
	// Voiced forms of MR initials inside a word, after a vowel or n, m, ng, l.
	hangulInitMRVoiced = []string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "tch", "ch", "k", "t", "p", "h"}
	hangulVowelRR      = []string{"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"}
	hangulVowelMR      = []string{"a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "u", "ui", "i"}
	hangulFinal        = []string{"", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"}
)

// hangulSurnames are the usual Latin spellings of common Korean family
// names, as in passports and the press.
var hangulSurnames = map[string][]string{
	"김": {"kim", "gim"}, "이": {"lee", "yi", "rhee", "ri"}, "리": {"ri", "lee", "rhee"}, "박": {"park", "pak", "bak"},
	"최": {"choi", "choe"}, "정": {"jung", "jeong", "chung", "chong"}, "강": {"kang", "gang"},
	"조": {"cho", "jo", "joe"}, "윤": {"yoon", "yun"}, "장": {"jang", "chang"}, "임": {"lim", "im", "rim"},
	"림": {"rim", "lim"}, "한": {"han"}, "오": {"oh", "o"}, "서": {"seo", "suh", "so"}, "신": {"shin", "sin"},
	"권": {"kwon", "gwon"}, "황": {"hwang"}, "안": {"ahn", "an"}, "송": {"song"}, "류": {"ryu", "yoo", "yu", "ryoo"},
	"유": {"yoo", "yu"}, "홍": {"hong"}, "전": {"jeon", "jun", "chon", "chun"}, "고": {"ko", "go"},
	"문": {"moon", "mun"}, "손": {"son", "sohn"}, "양": {"yang", "ryang"}, "배": {"bae", "pae"},
	"백": {"baek", "paek", "paik"}, "허": {"heo", "hur", "ho"}, "노": {"roh", "noh", "no"}, "로": {"ro", "roh"},
	"남": {"nam"}, "심": {"shim", "sim"}, "하": {"ha"}, "곽": {"kwak", "gwak"}, "성": {"sung", "seong", "song"},
	"차": {"cha"}, "주": {"joo", "ju", "chu"}, "우": {"woo", "u"}, "구": {"koo", "gu", "ku"}, "민": {"min"},
	"진": {"jin", "chin"}, "나": {"na", "ra"}, "지": {"ji", "chi"}, "엄": {"um", "eom", "uhm"}, "채": {"chae"},
	"원": {"won"}, "천": {"cheon", "chun"}, "방": {"bang", "pang"}, "공": {"kong", "gong"}, "현": {"hyun", "hyeon"},
	"함": {"ham"}, "변": {"byun", "byeon", "pyon"}, "염": {"yeom", "yum"}, "여": {"yeo", "yo"}, "추": {"choo", "chu"},
	"도": {"do", "to"}, "소": {"so"}, "석": {"seok", "suk", "sok"}, "선": {"sun", "seon"}, "설": {"seol", "sul"},
	"마": {"ma"}, "길": {"gil", "kil"}, "연": {"yeon", "yon"}, "표": {"pyo"}, "명": {"myung", "myeong"},
	"기": {"ki", "gi"}, "반": {"ban", "pan"}, "왕": {"wang"}, "금": {"keum", "kum"}, "옥": {"ok"}, "인": {"in"},
	"맹": {"maeng"}, "제": {"je"}, "모": {"mo"}, "탁": {"tak"}, "국": {"kook", "guk"}, "은": {"eun"}, "편": {"pyeon"},
	"용": {"yong"}, "태": {"tae"}, "황보": {"hwangbo"}, "남궁": {"namgung"}, "제갈": {"jegal"}, "선우": {"sunwoo", "seonu"},
	"독고": {"dokgo"}, "사공": {"sagong"},
}

func isHangul(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }

// romaniseHangul romanises a run of Hangul syllables, syllable by syllable
// as names are (no sound changes across syllables), in RR (sys 0) or MR
// (sys 1).
func romaniseHangul(rs []rune, sys int) string {
	var b strings.Builder
	prevFinal := -1
	for i, r := range rs {
		if !isHangul(r) {
			b.WriteRune(r)
			prevFinal = -1
			continue
		}
		s := int(r - 0xAC00)
		ini, vow, fin := s/(21*28), s%(21*28)/28, s%28
		if sys == 0 {
			b.WriteString(hangulInitRR[ini])
			b.WriteString(hangulVowelRR[vow])
		} else {
			voiced := i > 0 && prevFinal >= 0 && (prevFinal == 0 || hangulFinal[prevFinal] == "n" || hangulFinal[prevFinal] == "m" || hangulFinal[prevFinal] == "ng" || hangulFinal[prevFinal] == "l")
			if voiced {
				b.WriteString(hangulInitMRVoiced[ini])
			} else {
				b.WriteString(hangulInitMR[ini])
			}
			if ini == 9 && (vow == 20 || vow == 16) { // 시 shi, 쉬 shwi
				b.WriteString("h")
			}
			b.WriteString(hangulVowelMR[vow])
		}
		b.WriteString(hangulFinal[fin])
		prevFinal = fin
	}
	return b.String()
}

// TransliterateHangul returns the Latin spellings of a Hangul word: Revised
// Romanisation, then McCune–Reischauer.
func TransliterateHangul(word string) []string {
	rs := []rune(word)
	return dedupe([]string{romaniseHangul(rs, 0), romaniseHangul(rs, 1)})
}

// readHangulName splits a Hangul word of two to four syllables into family
// name (one syllable, or two for the compound family names) and given
// name, and returns the spellings of each.
func readHangulName(w string) (raws []string, forms [][]string) {
	rs := []rune(w)
	if len(rs) < 2 || len(rs) > 4 {
		return []string{w}, [][]string{TransliterateHangul(w)}
	}
	split := 1
	if len(rs) >= 3 {
		if _, ok := hangulSurnames[string(rs[:2])]; ok {
			split = 2
		}
	}
	fam, giv := string(rs[:split]), string(rs[split:])
	ff := hangulSurnames[fam]
	ff = dedupe(append(append([]string{}, ff...), TransliterateHangul(fam)...))
	return []string{fam, giv}, [][]string{ff, TransliterateHangul(giv)}
}
