package screen

import (
	_ "embed"
	"encoding/binary"
	"sort"
	"strings"
	"sync"
	"unicode"
)

//go:generate go run gen_han.go

// han.bin holds the Mandarin readings of U+3400–U+9FFF (see gen_han.go).
//
//go:embed han.bin
var hanData []byte

const (
	hanFirst = 0x3400
	hanLast  = 0x9FFF
)

type hanTable struct {
	syls    []string
	primary []byte // 2 bytes per code point from hanFirst
	extras  []byte // 6 bytes per entry: offset, second, third
}

var hanTab = sync.OnceValue(func() hanTable {
	d := hanData
	n := int(binary.LittleEndian.Uint16(d[4:]))
	d = d[6:]
	nl := strings.IndexByte(string(d), '\n')
	t := hanTable{syls: strings.Fields(string(d[:nl]))}
	if len(t.syls) != n {
		panic("screen: han.bin is corrupt")
	}
	d = d[nl+1:]
	size := 2 * (hanLast - hanFirst + 1)
	t.primary = d[:size]
	d = d[size:]
	ne := int(binary.LittleEndian.Uint16(d))
	t.extras = d[2 : 2+6*ne]
	return t
})

// hanReadings returns the toneless pinyin readings of a Han character, the
// most common first; nil when the character is not in the table.
func hanReadings(r rune) []string {
	if r < hanFirst || r > hanLast {
		return nil
	}
	t := hanTab()
	off := int(r - hanFirst)
	p := binary.LittleEndian.Uint16(t.primary[2*off:])
	if p == 0 {
		return nil
	}
	out := []string{t.syls[p-1]}
	ne := len(t.extras) / 6
	i := sort.Search(ne, func(i int) bool { return int(binary.LittleEndian.Uint16(t.extras[6*i:])) >= off })
	if i < ne && int(binary.LittleEndian.Uint16(t.extras[6*i:])) == off {
		for _, k := range []int{2, 4} {
			if s := binary.LittleEndian.Uint16(t.extras[6*i+k:]); s != 0 {
				out = append(out, t.syls[s-1])
			}
		}
	}
	return out
}

// hanSurnameReadings are the readings surnames take where a character has
// several and the surname's is not the most common (单 Shan, 曾 Zeng, 解
// Xie), and the compound surnames, from the standard list of Chinese family
// names.
var hanSurnameReadings = map[string]string{
	"单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao",
	"查": "zha", "乐": "yue", "盖": "ge", "缪": "miao", "覃": "qin", "召": "shao",
	"种": "chong", "秘": "bi", "折": "she", "员": "yun", "句": "gou", "尉": "yu",
	"繁": "po", "翟": "zhai", "万": "wan", "燕": "yan", "隗": "wei", "阚": "kan",
	"長": "zhang", "长": "zhang", "重": "chong", "都": "du", "沈": "shen", "石": "shi",
	"欧阳": "ouyang", "司马": "sima", "诸葛": "zhuge", "上官": "shangguan", "东方": "dongfang",
	"皇甫": "huangfu", "令狐": "linghu", "慕容": "murong", "夏侯": "xiahou", "公孙": "gongsun",
	"尉迟": "yuchi", "长孙": "zhangsun", "宇文": "yuwen", "司徒": "situ", "端木": "duanmu",
	"西门": "ximen", "南宫": "nangong", "万俟": "moqi", "司空": "sikong", "轩辕": "xuanyuan",
	"歐陽": "ouyang", "司馬": "sima", "諸葛": "zhuge", "東方": "dongfang", "公孫": "gongsun",
	"尉遲": "yuchi", "長孫": "zhangsun", "西門": "ximen", "南宮": "nangong",
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// hanName is a Han-script word read as a Chinese name: the family name and
// the given name, each with its Latin spellings (pinyin first).
type hanName struct {
	raw   []string
	forms [][]string
}

// readHanName splits a Han word of two to four characters into family and
// given name (one character, or two for the compound surnames) and reads
// both; a longer word or one with characters the table lacks is read as one
// word.
func readHanName(w string) hanName {
	rs := []rune(w)
	split := 0
	if len(rs) >= 2 && len(rs) <= 4 {
		split = 1
		if len(rs) >= 3 {
			if _, ok := hanSurnameReadings[string(rs[:2])]; ok {
				split = 2
			}
		}
	}
	var n hanName
	if split > 0 {
		fam, giv := string(rs[:split]), string(rs[split:])
		n.raw = []string{fam, giv}
		n.forms = [][]string{readHanWord(rs[:split], true), readHanWord(rs[split:], false)}
		return n
	}
	n.raw = []string{w}
	n.forms = [][]string{readHanWord(rs, false)}
	return n
}

// maxHanForms bounds the spellings of one Han word.
const maxHanForms = 8

// readHanWord returns the Latin spellings of a run of Han characters: pinyin
// with the first reading of each character (the surname reading for a
// family name), for a family name the same with each other reading of one
// character, then the Wade–Giles form of each.
func readHanWord(rs []rune, surname bool) []string {
	if surname {
		if s, ok := hanSurnameReadings[string(rs)]; ok {
			return appendWadeGiles([]string{s})
		}
	}
	per := make([][]string, len(rs))
	for i, r := range rs {
		per[i] = hanReadings(r)
		if len(per[i]) == 0 {
			per[i] = []string{string(r)}
		}
	}
	join := func(swap, alt int) string {
		var b strings.Builder
		for i, rd := range per {
			if i == swap {
				b.WriteString(rd[alt])
			} else {
				b.WriteString(rd[0])
			}
		}
		return b.String()
	}
	forms := []string{join(-1, 0)}
	if surname {
		// A family name the surname table does not list: its other
		// readings too (given names take the common reading; their rare
		// ones would mostly match other names).
		for i, rd := range per {
			for k := 1; k < len(rd) && len(forms) < maxHanForms/2; k++ {
				forms = append(forms, join(i, k))
			}
		}
	}
	return appendWadeGiles(forms)
}

// appendWadeGiles adds the Wade–Giles spelling of each pinyin form that
// differs from it.
func appendWadeGiles(forms []string) []string {
	n := len(forms)
	for _, f := range forms[:n] {
		if wg, ok := pinyinToWadeGiles(f); ok && wg != f && len(forms) < maxHanForms {
			forms = append(forms, wg)
		}
	}
	return dedupe(forms)
}

// pinyinSyllables is the set of toneless pinyin syllables, from the
// readings table.
var pinyinSyllables = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, s := range hanTab().syls {
		m[s] = true
	}
	return m
})

// splitPinyin cuts a word into pinyin syllables, preferring fewer, longer
// syllables (xian, not xi an); ok is false when it cannot.
func splitPinyin(w string) ([]string, bool) {
	if len(w) == 0 || len(w) > 24 {
		return nil, false
	}
	syl := pinyinSyllables()
	// best[i] is the fewest syllables covering w[:i], prev the cut.
	var best, prev [25]int
	for i := 1; i <= len(w); i++ {
		best[i] = 1 << 20
		for j := max(0, i-6); j < i; j++ {
			if best[j] < 1<<20 && syl[w[j:i]] && best[j]+1 < best[i] {
				best[i], prev[i] = best[j]+1, j
			}
		}
	}
	if best[len(w)] >= 1<<20 {
		return nil, false
	}
	var out []string
	for i := len(w); i > 0; i = prev[i] {
		out = append(out, w[prev[i]:i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, true
}

// pinyinToWadeGiles rewrites a word of pinyin syllables in Wade–Giles as it
// is written without diacritics or apostrophes (Xi Jinping → Hsi Chinping,
// Mao Zedong → Mao Tsetung); ok is false when w is not pinyin.
func pinyinToWadeGiles(w string) (string, bool) {
	syls, ok := splitPinyin(w)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, s := range syls {
		b.WriteString(wadeGilesSyllable(s))
	}
	return b.String(), true
}

// wgWhole are the syllables Wade–Giles spells as a whole.
var wgWhole = map[string]string{
	"zi": "tzu", "ci": "tzu", "si": "ssu", "zhi": "chih", "chi": "chih", "shi": "shih", "ri": "jih",
	"yi": "i", "you": "yu", "yan": "yen", "ye": "yeh", "yong": "yung", "yu": "yu", "yue": "yueh",
	"yuan": "yuan", "yun": "yun", "er": "erh", "e": "o", "he": "ho", "ge": "ko", "ke": "ko",
}

// wgInitials maps pinyin initials to Wade–Giles, longest first.
var wgInitials = []struct{ py, wg string }{
	{"zh", "ch"}, {"ch", "ch"}, {"sh", "sh"}, {"b", "p"}, {"p", "p"}, {"d", "t"}, {"t", "t"},
	{"g", "k"}, {"k", "k"}, {"j", "ch"}, {"q", "ch"}, {"x", "hs"}, {"z", "ts"}, {"c", "ts"},
	{"r", "j"},
}

func wadeGilesSyllable(s string) string {
	if w, ok := wgWhole[s]; ok {
		return w
	}
	ini, fin := "", s
	for _, p := range wgInitials {
		if strings.HasPrefix(s, p.py) {
			ini, fin = p.wg, s[len(p.py):]
			break
		}
	}
	switch {
	case strings.HasSuffix(fin, "ian"):
		fin = fin[:len(fin)-3] + "ien"
	case fin == "ie":
		fin = "ieh"
	case fin == "ong":
		fin = "ung"
	case fin == "iong":
		fin = "iung"
	case fin == "uo" && (ini == "k" || ini == "h" || ini == "sh"):
		fin = "uo"
	case fin == "uo":
		fin = "o"
	case fin == "e" && ini != "":
		fin = "e"
	case fin == "ue":
		fin = "ueh"
	}
	return ini + fin
}
