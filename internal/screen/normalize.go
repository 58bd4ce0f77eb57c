package screen

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// tokKind classifies a token for scoring.
type tokKind uint8

const (
	kindName     tokKind = iota // carries the match
	kindCommon                  // a common word of organisation names: weighs little
	kindLegal                   // a legal form (LLC, GmbH, JSC): never counts
	kindStop                    // a function word (the, of, and): never counts
	kindParticle                // a naming particle (al-, bin, van): never counts
	kindInitial                 // a single letter standing for a name
	kindNumber                  // digits, must agree exactly
	kindCountry                 // a country or region: tells subsidiaries apart
)

// numberWeight is the weight of a number or series marker (2004-1, III):
// it must agree exactly to count, and one that differs says less than a
// distinctive word that differs (fund III and fund IV are one family).
const numberWeight = 0.3

func (k tokKind) String() string {
	return [...]string{"name", "common", "legal-form", "stopword", "particle", "initial", "number", "country"}[k]
}

// token is one word of a normalised name with everything the matcher needs.
type token struct {
	raw    string   // as written, lowercased
	text   string   // canonical Latin spelling
	alts   []string // other Latin spellings (transliteration systems)
	skel   string   // Skeleton of text
	skels  []string // skeletons of alts
	ckey   string   // consonant key, for abjad (Arabic, Hebrew) comparisons
	ckeys  []string // other consonant keys of an abjad token
	canon  []uint16 // name groups (forms and nicknames, names.go)
	kind   tokKind
	weight float64
	abjad  bool // written in an abjad (Arabic or Hebrew script)
	// patronym marks a name that follows bin/ibn/ben: the father's name.
	patronym bool
	// family marks a word written before the comma of "FAMILY, Given".
	family bool
	// paren marks a word written only inside parentheses: an acronym or
	// alias of the name (BUTEMBO AIRLINES (BAL)).
	paren bool
	latin bool // written in (or transliterated into) Latin letters
}

// specialLetters are Latin letters that NFKD does not decompose.
var specialLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŀ': "l", 'ŧ': "t", 'ĸ': "k", 'ŋ': "ng",
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', '`', 'ʻ', 'ʼ', '´', 'ʾ', 'ʿ':
		return true
	}
	return false
}

// fold lowercases s, strips diacritics from every script but Cyrillic (whose
// й and ё are letters of their own), and maps the Latin letters NFKD leaves
// alone.
func fold(s string) string {
	// Composed forms first: Hangul written as conjoining jamo and
	// half-width katakana become the syllables and kana the tables know.
	if strings.ContainsFunc(s, func(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }) {
		s = norm.NFKC.String(s)
	} else if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		r = unicode.ToLower(r)
		if unicode.Is(unicode.Cyrillic, r) || keepsMarks(r) {
			b.WriteRune(r)
			continue
		}
		if t, ok := specialLetters[r]; ok {
			b.WriteString(t)
			continue
		}
		if r == '\u200c' || r == '\u200d' || r == 'ـ' {
			continue // zero-width joiners and Arabic tatweel
		}
		for _, d := range norm.NFKD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			if t, ok := specialLetters[d]; ok {
				b.WriteString(t)
				continue
			}
			b.WriteRune(unicode.ToLower(d))
		}
	}
	return b.String()
}

// keepsMarks reports whether r belongs to a script whose combining marks
// are letters or vowels (Thai, Devanagari, kana voicing marks) or whose
// syllables NFKD would take apart (Hangul).
func keepsMarks(r rune) bool {
	return isHangul(r) || isKana(r) || isThai(r) || isDevanagari(r) || r == 0x3099 || r == 0x309A
}

// dropPossessive removes the English possessive 's (Deutsche Bank's).
func dropPossessive(s string) string {
	if !strings.Contains(s, "'s") && !strings.Contains(s, "’s") {
		return s
	}
	rs := []rune(s)
	out := rs[:0:0]
	for i := 0; i < len(rs); i++ {
		if (rs[i] == '\'' || rs[i] == '’') && i > 0 && unicode.IsLetter(rs[i-1]) && i+1 < len(rs) && rs[i+1] == 's' &&
			(i+2 == len(rs) || !unicode.IsLetter(rs[i+2])) {
			i++
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// rawPiece is a word cut from a name with the separator that followed it.
type rawPiece struct {
	word string
	sep  string
}

// split cuts folded text into words. Apostrophes join (Qa'ida → qaida), "&"
// becomes "and", everything else that is not a letter or digit separates.
func split(s string) []rawPiece {
	var out []rawPiece
	var w, sep strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, rawPiece{word: w.String()})
			w.Reset()
			sep.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Mn, r):
			if w.Len() == 0 && len(out) > 0 {
				out[len(out)-1].sep = sep.String()
				sep.Reset()
			}
			w.WriteRune(r)
		case isApostrophe(r):
			// join
		case r == '&':
			flush()
			out = append(out, rawPiece{word: "and"})
		default:
			if w.Len() > 0 {
				out = append(out, rawPiece{word: w.String()})
				w.Reset()
				sep.Reset()
			}
			sep.WriteRune(r)
		}
	}
	flush()
	return out
}

// joinDotted joins single letters written with dots and no spaces, as in
// "U.S.", "G.m.b.H." and "L.X.C", into one word.
func joinDotted(ps []rawPiece) []string {
	var out []string
	for i := 0; i < len(ps); i++ {
		if utf8.RuneCountInString(ps[i].word) == 1 && ps[i].sep == "." {
			j := i
			var b strings.Builder
			for j < len(ps) && utf8.RuneCountInString(ps[j].word) == 1 {
				b.WriteString(ps[j].word)
				if ps[j].sep != "." {
					break
				}
				j++
			}
			if j >= len(ps) {
				j = len(ps) - 1
			}
			if j > i {
				out = append(out, b.String())
				i = j
				continue
			}
		}
		out = append(out, ps[i].word)
	}
	return out
}

// arabicSuffixDin are endings of compound names in -uddin (Shams al-Din).
var arabicSuffixDin = []string{"uddeen", "ouddine", "oudine", "oudin", "uddin", "eddine", "eddin", "addin", "aldin", "udin", "udeen"}

// abdForms are the spellings of "abd" (servant of) that start compounds.
var abdForms = set("abd abdu abdul abdel abdal abdol abdur abdi abdou abdoul abdil abdel")

// abdSkeletons are the skeletons of the spellings of "abd".
var abdSkeletons = skeletonSet("abd abdu abdul abdel abdal abdol abdur abdi abdou abdoul abdil")

// isAbdForm reports whether w spells "abd" (servant of), the first half of
// compounds such as Abdul Aziz, allowing one typo (abdlu, abbdul).
func isAbdForm(w string) bool {
	if abdForms[w] || abdSkeletons[Skeleton(w)] {
		return true
	}
	if len(w) < 5 || len(w) > 6 || w[0] != 'a' {
		return false
	}
	return blend(w, "abdul") >= 0.84 || blend(w, "abdel") >= 0.84
}

var abdullahSkeletons = skeletonSet("abdullah abdallah abdulla abdalla abdollah abdellah abdulah abdalah")

// isAbdullah reports whether w spells Abdullah, allowing one typo.
func isAbdullah(w string) bool {
	if abdullahSkeletons[Skeleton(w)] {
		return true
	}
	return len(w) >= 6 && len(w) <= 10 && w[0] == 'a' && blend(w, "abdullah") >= 0.88
}

func abdToken(raw string) token {
	t := latinToken(raw, "abd", nil)
	t.kind, t.weight = kindName, 0.5
	return t
}

// Normalize returns the canonical form of a name: folded, transliterated to
// Latin (first system), with honorifics dropped and Arabic particles and
// compounds canonicalised, as space-separated tokens. Legal forms and
// stopwords are kept, so that Normalize shows what the matcher sees.
func Normalize(name string) string {
	toks := tokenize(name)
	parts := make([]string, 0, len(toks))
	for _, t := range toks {
		parts = append(parts, t.text)
	}
	return strings.Join(parts, " ")
}

// Scripts of words, as scriptOf returns them.
const (
	scriptLatin      = 'L' // Latin letters or digits
	scriptCyrillic   = 'C'
	scriptGreek      = 'G'
	scriptArabic     = 'A'
	scriptHebrew     = 'E'
	scriptArmenian   = 'H'
	scriptGeorgian   = 'Y'
	scriptHan        = 'Z'
	scriptKana       = 'J' // hiragana or katakana, possibly with Han
	scriptHangul     = 'K'
	scriptThai       = 'T'
	scriptDevanagari = 'D'
	scriptOther      = 'O'
)

// scriptOf returns the dominant script of a word (one of the script…
// constants): that of its first letter, except that kana anywhere makes a
// word Japanese.
func scriptOf(w string) byte {
	var first byte
	for _, r := range w {
		var s byte
		switch {
		case r < 0x250 && unicode.IsLetter(r):
			s = scriptLatin
		case isKana(r):
			return scriptKana
		case unicode.Is(unicode.Cyrillic, r):
			s = scriptCyrillic
		case unicode.Is(unicode.Greek, r):
			s = scriptGreek
		case isArabicScript(r):
			s = scriptArabic
		case isHebrew(r):
			s = scriptHebrew
		case isArmenian(r):
			s = scriptArmenian
		case isGeorgian(r):
			s = scriptGeorgian
		case isHangul(r):
			s = scriptHangul
		case isHan(r):
			s = scriptHan
		case isThai(r):
			s = scriptThai
		case isDevanagari(r):
			s = scriptDevanagari
		case unicode.IsLetter(r):
			s = scriptOther
		}
		if first == 0 && s != 0 {
			first = s
			if s != scriptHan {
				return s
			}
		}
	}
	if first == 0 {
		return scriptLatin
	}
	return first
}

func isThai(r rune) bool { return r >= 0x0E00 && r <= 0x0E7F }

// foreignNameDots separate the parts of foreign names written in Chinese or
// Japanese (贝拉克·奥巴马): such names are not family name then given name.
const foreignNameDots = "·・•‧"

// tokenize turns a name into tokens ready for matching.
func tokenize(name string) []token {
	if len(name) > 1024 {
		name = name[:1024]
	}
	words := joinDotted(split(dropPossessive(fold(name))))
	// Latin-side rewriting that needs word context.
	var digitAlts map[string]string
	for i, w := range words {
		words[i] = fixDigits(w)
		if words[i] != w {
			if a := digitAlt(w); a != "" && a != words[i] {
				if digitAlts == nil {
					digitAlts = map[string]string{}
				}
				digitAlts[words[i]] = a
			}
		}
	}
	words = numbers(words)
	words = replacePhrases(words)
	for i, w := range words {
		if full, ok := abbreviations[w]; ok {
			words[i] = full
		}
	}
	foreign := strings.ContainsAny(name, foreignNameDots)
	// Words before a comma are family names ("GARCIA LOPEZ, Juan").
	nfam := 0
	if before, _, ok := strings.Cut(name, ","); ok {
		nfam = len(joinDotted(split(fold(before))))
	}

	toks := make([]token, 0, len(words)+2)
	for i := 0; i < len(words); i++ {
		w := words[i]
		from, fam := len(toks), i < nfam
		switch scriptOf(w) {
		case scriptCyrillic:
			toks = append(toks, variantToken(w, TransliterateCyrillic(w)))
		case scriptGreek:
			toks = append(toks, variantToken(w, TransliterateGreek(w)))
		case scriptArmenian:
			toks = append(toks, variantToken(w, TransliterateArmenian(w)))
		case scriptGeorgian:
			toks = append(toks, variantToken(w, TransliterateGeorgian(w)))
		case scriptThai:
			toks = append(toks, variantToken(w, TransliterateThai(w)))
		case scriptDevanagari:
			toks = append(toks, variantToken(w, TransliterateDevanagari(w)))
		case scriptKana:
			toks = append(toks, variantToken(w, TransliterateKana(w)))
		case scriptHangul:
			raws, forms := []string{w}, [][]string{TransliterateHangul(w)}
			if !foreign {
				raws, forms = readHangulName(w)
			}
			for k := range raws {
				toks = append(toks, variantToken(raws[k], forms[k]))
			}
		case scriptHan:
			n := hanName{raw: []string{w}, forms: [][]string{readHanWord([]rune(w), false)}}
			if !foreign {
				n = readHanName(w)
			}
			for k := range n.raw {
				toks = append(toks, variantToken(n.raw[k], n.forms[k]))
			}
		case scriptHebrew:
			toks = append(toks, hebrewToken(w))
		case scriptArabic:
			toks = append(toks, arabicTokens(w, &i, words)...)
		case scriptOther:
			t := token{raw: w, text: w, kind: kindName, weight: 1}
			toks = append(toks, t)
		default:
			alts := pinyinAlts(w)
			if a, ok := digitAlts[w]; ok {
				alts = append(alts, a)
			}
			toks = append(toks, latinToken(w, w, alts))
		}
		for k := from; k < len(toks); k++ {
			toks[k].family = fam
		}
	}
	toks = canonicaliseArabicLatin(toks)
	markParenthesised(name, toks)
	givenBen(toks)
	markPatronyms(toks)
	return toks
}

// markParenthesised marks the tokens whose words appear only inside
// parentheses in name.
func markParenthesised(name string, toks []token) {
	if !strings.Contains(name, "(") {
		return
	}
	var in, out strings.Builder
	depth := 0
	for _, r := range name {
		switch {
		case r == '(':
			depth++
			in.WriteByte(' ')
		case r == ')' && depth > 0:
			depth--
			in.WriteByte(' ')
		case depth > 0:
			in.WriteRune(r)
		default:
			out.WriteRune(r)
		}
	}
	inside := map[string]bool{}
	for _, p := range split(fold(in.String())) {
		inside[p.word] = true
	}
	for _, p := range split(fold(out.String())) {
		delete(inside, p.word)
	}
	for i := range toks {
		// Countries and numbers in parentheses still tell entities apart
		// (Bowne Global Solutions (France), (Germany)).
		if (inside[toks[i].raw] || inside[toks[i].text]) && toks[i].kind != kindCountry && toks[i].kind != kindNumber {
			toks[i].paren = true
		}
	}
}

// variantToken builds a token from the Latin spellings of a word written in
// another script, the first being its canonical spelling.
func variantToken(raw string, forms []string) token {
	forms = dedupe(forms)
	return latinToken(raw, forms[0], forms[1:])
}

// hebrewToken romanises a Hebrew word as an abjad token.
func hebrewToken(w string) token {
	switch w {
	case "בן", "בת":
		return token{raw: w, text: "ben", kind: kindParticle, abjad: true}
	}
	lat, keys := romaniseHebrew(w)
	t := token{raw: w, text: lat, kind: kindName, weight: 1, abjad: true}
	for i, k := range keys {
		ck := consonantKey(k)
		if i == 0 {
			t.ckey = ck
		} else if ck != t.ckey {
			t.ckeys = append(t.ckeys, ck)
		}
	}
	t.ckeys = dedupe(t.ckeys)
	if len(t.ckey) <= 2 {
		t.weight = 0.7
	}
	t.canon = abjadNameGroups(&t)
	return t
}

// nameGroupsByCKey maps the consonant keys (of three consonants or more)
// of every spelling in the name tables to its groups, so that a name
// written in an abjad finds its forms (בנימין, bnmn: Binyamin, Benjamin).
var nameGroupsByCKey = func() map[string][]uint16 {
	m := map[string][]uint16{}
	for n, gs := range nameGroups {
		k := consonantKey(Skeleton(n))
		if len(k) < 3 {
			continue
		}
		for _, g := range gs {
			if !slices.Contains(m[k], g) {
				m[k] = append(m[k], g)
			}
		}
	}
	return m
}()

// abjadNameGroups returns the name groups an abjad token's consonant keys
// reach.
func abjadNameGroups(t *token) []uint16 {
	var gs []uint16
	t.consonantKeys(func(k string) bool {
		for _, g := range nameGroupsByCKey[k] {
			if !slices.Contains(gs, g) {
				gs = append(gs, g)
			}
		}
		return true
	})
	return gs
}

// pinyinAlts returns the Wade–Giles spelling of a Latin word that reads as
// pinyin of one to three syllables and is spelt differently in Wade–Giles
// (Jinping, Chinping), so that pinyin and Wade–Giles spellings of a Chinese
// name meet.
func pinyinAlts(w string) []string {
	// Wade–Giles writes pinyin r as j, which skeletons would confuse with
	// pinyin j and zh: words with r keep their spelling.
	if len(w) < 2 || len(w) > 14 || !strings.ContainsAny(w, "xqjzc") || strings.IndexByte(w, 'r') >= 0 {
		return nil
	}
	syls, ok := splitPinyin(w)
	if !ok || len(syls) > 3 {
		return nil
	}
	var b strings.Builder
	for _, s := range syls {
		b.WriteString(wadeGilesSyllable(s))
	}
	if wg := b.String(); wg != w {
		return []string{wg}
	}
	return nil
}

// givenBen reads "ben" at the start of a name of two or three words as the
// given name (Ben Smith), not the patronymic particle (Ali ben Hassan).
func givenBen(toks []token) {
	if len(toks) < 2 || len(toks) > 3 || toks[0].text != "ben" || toks[0].abjad || toks[1].kind == kindParticle {
		return
	}
	toks[0].kind, toks[0].weight = kindName, 0.7
	toks[0].canon = nameGroups["ben"]
}

var patronymMarkers = set("bin ibn ben bint binti bn ibnu ould walad")

// markPatronyms marks the tokens that follow bin, ibn or ben.
func markPatronyms(toks []token) {
	for i := 1; i < len(toks); i++ {
		if toks[i].kind == kindParticle {
			continue
		}
		for j := i - 1; j >= 0 && toks[j].kind == kindParticle; j-- {
			if patronymMarkers[toks[j].text] {
				toks[i].patronym = true
				break
			}
		}
	}
}

func hasPatronym(toks []token) bool {
	for i := range toks {
		if toks[i].patronym {
			return true
		}
	}
	return false
}

func dedupe(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		dup := false
		for _, p := range ss[:i] {
			if p == s {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

func replacePhrases(ws []string) []string {
	for _, ph := range legalPhrases {
		for i := 0; i+len(ph) <= len(ws); i++ {
			ok := true
			for j, p := range ph {
				if ws[i+j] != p {
					ok = false
					break
				}
			}
			if ok {
				rest := append([]string{strings.Join(ph, "")}, ws[i+len(ph):]...)
				ws = append(ws[:i], rest...)
			}
		}
	}
	return ws
}

// latinToken builds a token from a Latin spelling and alternatives.
func latinToken(raw, text string, alts []string) token {
	t := token{raw: raw, text: text, alts: alts, latin: true}
	t.skel = Skeleton(text)
	for _, a := range alts {
		t.skels = append(t.skels, Skeleton(a))
	}
	t.ckey = consonantKey(t.skel)
	classify(&t)
	return t
}

func classify(t *token) {
	w := t.text
	t.kind, t.weight = kindName, 1
	switch {
	case honorifics[w]:
		t.kind, t.weight = kindStop, 0
		t.raw = "~" + t.raw // marked for removal
	case isDigits(w):
		t.kind, t.weight = kindNumber, numberWeight
	case legalForms[w] || strings.HasSuffix(w, "llc") && len(w) <= 5:
		t.kind, t.weight = kindLegal, 0
	case legalPhraseWord(w) || len(w) > 8 && nearLegal(w):
		t.kind, t.weight = kindLegal, 0
	case stopwords[w]:
		t.kind, t.weight = kindStop, 0
	case particles[w]:
		t.kind, t.weight = kindParticle, 0
	case utf8.RuneCountInString(w) == 1:
		t.kind, t.weight = kindInitial, 0.5
	case commonWords[w]:
		t.kind, t.weight = kindCommon, 0.35
	case countryWords[w]:
		t.kind, t.weight = kindCountry, 0.6
	case commonNames[t.skel]:
		t.weight = 0.7
	}
	t.canon = nameGroupsOf(t)
}

// nameGroupsOf returns the name groups of any spelling of t.
func nameGroupsOf(t *token) []uint16 {
	gs := nameGroups[t.text]
	for _, a := range t.alts {
		for _, g := range nameGroups[a] {
			if !slices.Contains(gs, g) {
				gs = append(slices.Clip(gs), g)
			}
		}
	}
	return gs
}

// nearLegal reports whether a long word is a misspelt legal form
// (Aktiengeselschaft).
func nearLegal(w string) bool {
	for _, l := range []string{"aktiengesellschaft", "gesellschaft", "corporation", "incorporated", "limited"} {
		if blend(w, l) >= 0.9 {
			return true
		}
	}
	return false
}

func legalPhraseWord(w string) bool {
	for _, ph := range legalPhrases {
		if strings.Join(ph, "") == w {
			return true
		}
	}
	return false
}

// arabicTokens romanises an Arabic-script word, splitting off the article
// and joining abd compounds (عبد الله → abdlah).
func arabicTokens(w string, i *int, words []string) []token {
	var out []token
	rs := []rune(w)
	if len(rs) > 3 && rs[0] == 'ا' && rs[1] == 'ل' {
		out = append(out, token{raw: "ال", text: "al", kind: kindParticle, abjad: true})
		rs = rs[2:]
		w = string(rs)
	}
	if strings.HasPrefix(w, "عبد") && len(rs) > 4 && w != "عبدالله" {
		// Joined abd compound: عبدالحليم → abd + halim.
		rest := rs[3:]
		if len(rest) > 3 && rest[0] == 'ا' && rest[1] == 'ل' {
			rest = rest[2:]
		}
		rw := romaniseArabic(string(rest))
		t := token{raw: string(rest), text: rw.latin, ckey: consonantKey(rw.skel), kind: kindName, weight: 1, abjad: true}
		return append(out, token{raw: "عبد", text: "abd", ckey: "bd", kind: kindName, weight: 0.5, abjad: true}, t)
	}
	switch w {
	case "ولد":
		return append(out, token{raw: w, text: "ould", kind: kindParticle, abjad: true})
	case "بن", "ابن", "بنت":
		return append(out, token{raw: w, text: "bin", kind: kindParticle, abjad: true})
	case "ابو", "أبو", "ابى", "أبي":
		t := token{raw: w, text: "abu", skel: "aba", kind: kindName, weight: 0.7, abjad: true}
		return append(out, t)
	case "عبد":
		if *i+1 < len(words) && (words[*i+1] == "الله" || words[*i+1] == "اللہ") {
			*i++
			return append(out, token{raw: "عبد الله", text: "abdullah", ckey: "bdl", kind: kindName, weight: 1, abjad: true})
		}
		return append(out, token{raw: w, text: "abd", ckey: "bd", kind: kindName, weight: 0.5, abjad: true})
	case "عبدالله":
		return append(out, token{raw: w, text: "abdullah", ckey: "bdl", kind: kindName, weight: 1, abjad: true})
	}
	rw := romaniseArabic(w)
	t := token{raw: w, text: rw.latin, kind: kindName, weight: 1, abjad: true}
	t.ckey = consonantKey(rw.skel)
	if commonNames[Skeleton(rw.latin)] || len(t.ckey) <= 2 {
		t.weight = 0.7
	}
	t.canon = abjadNameGroups(&t)
	return append(out, t)
}

// canonicaliseArabicLatin rewrites Latin tokens of Arabic names: abd
// compounds (Abdul Aziz, Abd al-Aziz and Abdulaziz all become abdaziz),
// -uddin compounds (Shamsuddin → shams din), and drops honorifics.
func canonicaliseArabicLatin(toks []token) []token {
	out := make([]token, 0, len(toks)+2)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == kindStop && strings.HasPrefix(t.raw, "~") {
			continue // honorific
		}
		if !t.latin || t.abjad {
			out = emitFamily(out, t.family, t)
			continue
		}
		w := t.text
		if isAbdullah(w) {
			out = emitFamily(out, t.family, latinToken(t.raw, "abdullah", nil))
			continue
		}
		if isAbdForm(w) {
			if i+1 < len(toks) && isAbdullah("abd"+toks[i+1].text) {
				out = emitFamily(out, t.family, latinToken(t.raw+" "+toks[i+1].raw, "abdullah", nil))
				i++
				continue
			}
			out = emitFamily(out, t.family, abdToken(t.raw))
			continue
		}
		if len(w) > 5 && strings.HasPrefix(w, "abd") {
			rest := w[3:]
			for _, p := range []string{"ul", "el", "al", "ol", "oul", "ou", "u", "i", "o"} {
				if strings.HasPrefix(rest, p) && len(rest)-len(p) >= 3 {
					if p == "u" || p == "i" || p == "o" || p == "ou" {
						// abdurrahman, abdirahman: keep the consonant.
						if len(rest) > len(p)+1 && rest[len(p)] == rest[len(p)+1] {
							rest = rest[len(p)+1:]
						}
						break
					}
					rest = rest[len(p):]
					if rest[0] == 'l' && len(rest) > 3 {
						rest = rest[1:] // abdullah → lah
					}
					break
				}
			}
			out = emitFamily(out, t.family, abdToken(t.raw), latinToken(rest, rest, nil))
			continue
		}
		split := false
		if t.kind == kindName {
			for _, suf := range arabicSuffixDin {
				if len(w) >= len(suf)+3 && strings.HasSuffix(w, suf) {
					out = emitFamily(out, t.family, latinToken(w[:len(w)-len(suf)], w[:len(w)-len(suf)], nil), latinToken("din", "din", nil))
					split = true
					break
				}
			}
		}
		if !split {
			out = emitFamily(out, t.family, t)
		}
	}
	return out
}

// emitFamily appends ts to out with their family mark set to fam.
func emitFamily(out []token, fam bool, ts ...token) []token {
	for _, t := range ts {
		t.family = fam
		out = append(out, t)
	}
	return out
}
