package screen

import (
	"strconv"
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
)

func (k tokKind) String() string {
	return [...]string{"name", "common", "legal-form", "stopword", "particle", "initial", "number"}[k]
}

// token is one word of a normalised name with everything the matcher needs.
type token struct {
	raw    string   // as written, lowercased
	text   string   // canonical Latin spelling
	alts   []string // other Latin spellings (transliteration systems)
	skel   string   // Skeleton of text
	skels  []string // skeletons of alts
	ckey   string   // consonant key, for Arabic-script comparisons
	canon  string   // name-variant group, "" when none
	kind   tokKind
	weight float64
	arabic bool // written in Arabic script
	// patronym marks a name that follows bin/ibn/ben: the father's name.
	patronym bool
	latin    bool // written in (or transliterated into) Latin letters
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
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		r = unicode.ToLower(r)
		if unicode.Is(unicode.Cyrillic, r) {
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

// leet maps digits written for look-alike letters (Ig0r Sech1n).
var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b'}

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
	for _, w := range ws {
		if n, ok := numberWords[w]; ok {
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

// honorifics are titles and forms of address dropped from names.
var honorifics = set("mr mrs ms miss mister madam mme mlle dr doctor prof professor sir dame lord lady " +
	"sheikh shaikh shaykh sheik cheikh shaik haji hajji hajj alhaj alhajj hadji " +
	"mullah mulla molla maulana mawlana maulvi mawlawi mawlavi moulavi maulawi " +
	"qari imam ayatollah ayatullah hojatoleslam hujjat sayed sayyed sayyid seyed sayid syed " +
	"president prasident presidente premier minister general gen colonel col captain capt " +
	"major maj lieutenant lt commander cmdr brigadier marshal sergeant sgt admiral " +
	"hon honourable honorable rev reverend father fr emir his her excellency he " +
	"mv mt ms mty m/v")

// legalForms are organisation legal-form words and abbreviations.
var legalForms = set("ag aktiengesellschaft gmbh gesellschaft llc lc llp lp ltd limited inc incorporated " +
	"corp corporation co company cie cia sa sas sarl srl spa sca sl slu bv nv plc pte pty bhd sdn " +
	"kg kgaa ohg ev eg ab oy oyj as asa aps a/s kk kabushiki kaisha gk yk " +
	"jsc ojsc cjsc pjsc ao oao zao pao ooo tov pp " +
	"sro spol doo ad eood ood kft zrt nyrt sp zoo oo " +
	"fze fzco fzc fzllc wll sal saog saoc saa sac ltda eireli mei " +
	"cv rl de sab sapi ste societe establishment est trading_as")

// legalPhrases are multi-word legal forms, replaced by one legal token.
var legalPhrases = [][]string{
	{"open", "joint", "stock", "company"},
	{"closed", "joint", "stock", "company"},
	{"public", "joint", "stock", "company"},
	{"joint", "stock", "company"},
	{"limited", "liability", "company"},
	{"limited", "liability", "partnership"},
	{"public", "limited", "company"},
	{"limited", "partnership"},
	{"gesellschaft", "mit", "beschrankter", "haftung"},
	{"societatea", "cu", "raspundere", "limitata"},
	{"obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"},
	{"aktsionernoye", "obshchestvo"},
	{"otkrytoye", "aktsionernoye", "obshchestvo"},
	{"zakrytoye", "aktsionernoye", "obshchestvo"},
	{"publichnoye", "aktsionernoye", "obshchestvo"},
	{"sociedad", "anonima"},
	{"societe", "anonyme"},
	{"sp", "z", "oo"},
	{"s", "de", "rl"},
	{"s", "a"},
}

// stopwords are function words ignored in names of all languages.
var stopwords = set("the of and for in on at to by with a an und der die das des den dem " +
	"le la les du et da do dos das di del della van von vom zu ten ter")

// commonWords are frequent words of organisation names: they weigh little.
var commonWords = set("bank banque banco group groupe gruppe grupo holding holdings international intl " +
	"trading trade traders industries industry industrial global services service solutions " +
	"enterprise enterprises investment investments capital partners fund trust foundation " +
	"organization organisation association society national general shipping import export " +
	"petroleum oil gas energy commercial development management technology technologies systems " +
	"logistics consulting construction engineering finance financial insurance resources " +
	"marine maritime transport airlines airline aviation exchange agency center centre " +
	"institute committee council office ministry department army front party movement " +
	"brigade brigades battalion forces force network charity charitable relief " +
	"islamic islamiyya islami al-islamiyya mujahideen")

// particles are naming particles that come and go between spellings.
var particles = set("al el ul ad ash as az at ar an ed es ez ud ur un " +
	"bin ibn ben bint binti bn ibnu ould walad bte")

// commonNames are given names so frequent that matching them alone means
// little.
var commonNames = skeletonSet("mohammed ahmed ali hassan hussein omar umar abdullah ibrahim " +
	"khalid mahmoud mustafa yusuf abu din abd ahmad hamid karim rahman jan khan gul shah " +
	"kim lee li park choi wang zhang chen liu yang " +
	"john james david michael maria jose juan ivan sergey alexander vladimir")

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

func skeletonSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[Skeleton(f)] = true
	}
	return m
}

// variantGroups are spellings of one name that skeletons do not unite:
// established renderings and nicknames.
var variantGroups = [][]string{
	{"qaddafi", "gaddafi", "kadhafi", "qadhafi", "gadhafi", "kaddafi", "qadafi", "gadafi", "khadafy"},
	{"jamal", "gamal", "djamal"},
	{"yusuf", "youssef", "yousef", "yosef", "joseph", "josef", "jusuf", "yousif", "yusif", "yousuf"},
	{"john", "juan", "johann", "johannes", "jean", "ivan", "giovanni", "joao", "jon", "sean", "ian"},
	{"mohammed", "mehmet", "mehmed", "mamadou", "mohd", "muhd", "mhd"},
	{"theodore", "ted", "teddy", "fyodor", "fedor", "theodor"},
	{"benjamin", "bibi", "binyamin"},
	{"william", "bill", "billy", "wilhelm", "guillaume", "guillermo"},
	{"robert", "bob", "bobby", "rob"},
	{"james", "jim", "jimmy", "diego", "jaime", "jacques"},
	{"michael", "mike", "mikhail", "michel", "miguel", "mikael"},
	{"richard", "dick", "rick"},
	{"alexander", "alex", "sasha", "alexandre", "aleksandr", "alexandr", "oleksandr", "iskander", "iskandar"},
	{"barack", "barry"},
	{"peter", "pyotr", "pierre", "pedro", "pietro", "petr", "petro"},
	{"paul", "pavel", "pablo", "paolo", "pol"},
	{"george", "georgy", "georgiy", "jorge", "giorgio", "georges", "jurgen"},
	{"nicholas", "nikolai", "nikolay", "nicolas", "nicola", "mykola"},
	{"vladimir", "volodymyr", "wladimir", "uladzimir"},
	{"osama", "usama", "ussama", "oussama"},
	{"xi", "hsi", "si", "shi"},
	{"jinping", "chinping"},
	{"muammar", "moammar", "moamar", "muamar"},
	{"ahmadinejad", "ahmadinezhad"},
	{"gazprom", "gasprom"},
}

var variantOf = func() map[string]string {
	m := map[string]string{}
	for _, g := range variantGroups {
		for _, n := range g {
			m[n] = g[0]
		}
	}
	return m
}()

// scopeWords mark part of an organisation: a wing, faction or branch.
var scopeWords = set("wing military armed faction branch political youth division battalion unit " +
	"brigade brigades cell command regional section")

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

// scriptOf returns the dominant script of a word: 'L' Latin or digits, 'C'
// Cyrillic, 'G' Greek, 'A' Arabic, 'H' Armenian, 'O' other.
func scriptOf(w string) byte {
	for _, r := range w {
		switch {
		case r < 0x250 && unicode.IsLetter(r):
			return 'L'
		case unicode.Is(unicode.Cyrillic, r):
			return 'C'
		case unicode.Is(unicode.Greek, r):
			return 'G'
		case isArabicScript(r):
			return 'A'
		case unicode.Is(unicode.Armenian, r):
			return 'H'
		case unicode.IsLetter(r):
			return 'O'
		}
	}
	return 'L'
}

// tokenize turns a name into tokens ready for matching.
func tokenize(name string) []token {
	if len(name) > 1024 {
		name = name[:1024]
	}
	words := joinDotted(split(fold(name)))
	// Latin-side rewriting that needs word context.
	for i, w := range words {
		words[i] = fixDigits(w)
	}
	words = numbers(words)
	words = replacePhrases(words)

	toks := make([]token, 0, len(words)+2)
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch scriptOf(w) {
		case 'C':
			alts := dedupe(TransliterateCyrillic(w))
			toks = append(toks, latinToken(w, alts[0], alts[1:]))
		case 'G':
			alts := dedupe(TransliterateGreek(w))
			toks = append(toks, latinToken(w, alts[0], alts[1:]))
		case 'H':
			toks = append(toks, latinToken(w, TransliterateArmenian(w), nil))
		case 'A':
			toks = append(toks, arabicTokens(w, &i, words)...)
		case 'O':
			t := token{raw: w, text: w, kind: kindName, weight: 1}
			toks = append(toks, t)
		default:
			toks = append(toks, latinToken(w, w, nil))
		}
	}
	toks = canonicaliseArabicLatin(toks)
	markPatronyms(toks)
	return toks
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
		t.kind, t.weight = kindNumber, 1
	case legalForms[w] || strings.HasSuffix(w, "llc") && len(w) <= 5:
		t.kind, t.weight = kindLegal, 0
	case len(w) > 8 && (legalPhraseWord(w) || nearLegal(w)):
		t.kind, t.weight = kindLegal, 0
	case stopwords[w]:
		t.kind, t.weight = kindStop, 0
	case particles[w]:
		t.kind, t.weight = kindParticle, 0
	case utf8.RuneCountInString(w) == 1:
		t.kind, t.weight = kindInitial, 0.5
	case commonWords[w]:
		t.kind, t.weight = kindCommon, 0.35
	case commonNames[t.skel]:
		t.weight = 0.7
	}
	if v, ok := variantOf[w]; ok {
		t.canon = v
	}
	for _, a := range t.alts {
		if v, ok := variantOf[a]; ok && t.canon == "" {
			t.canon = v
		}
	}
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
		out = append(out, token{raw: "ال", text: "al", kind: kindParticle, arabic: true})
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
		t := token{raw: string(rest), text: rw.latin, ckey: consonantKey(rw.skel), kind: kindName, weight: 1, arabic: true}
		return append(out, token{raw: "عبد", text: "abd", ckey: "bd", kind: kindName, weight: 0.5, arabic: true}, t)
	}
	switch w {
	case "ولد":
		return append(out, token{raw: w, text: "ould", kind: kindParticle, arabic: true})
	case "بن", "ابن", "بنت":
		return append(out, token{raw: w, text: "bin", kind: kindParticle, arabic: true})
	case "ابو", "أبو", "ابى", "أبي":
		t := token{raw: w, text: "abu", skel: "aba", kind: kindName, weight: 0.7, arabic: true}
		return append(out, t)
	case "عبد":
		if *i+1 < len(words) && (words[*i+1] == "الله" || words[*i+1] == "اللہ") {
			*i++
			return append(out, token{raw: "عبد الله", text: "abdullah", ckey: "bdl", kind: kindName, weight: 1, arabic: true})
		}
		return append(out, token{raw: w, text: "abd", ckey: "bd", kind: kindName, weight: 0.5, arabic: true})
	case "عبدالله":
		return append(out, token{raw: w, text: "abdullah", ckey: "bdl", kind: kindName, weight: 1, arabic: true})
	}
	rw := romaniseArabic(w)
	t := token{raw: w, text: rw.latin, kind: kindName, weight: 1, arabic: true}
	t.ckey = consonantKey(rw.skel)
	if commonNames[Skeleton(rw.latin)] || len(t.ckey) <= 2 {
		t.weight = 0.7
	}
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
		if !t.latin || t.arabic {
			out = append(out, t)
			continue
		}
		w := t.text
		if isAbdullah(w) {
			out = append(out, latinToken(t.raw, "abdullah", nil))
			continue
		}
		if isAbdForm(w) {
			if i+1 < len(toks) && isAbdullah("abd"+toks[i+1].text) {
				out = append(out, latinToken(t.raw+" "+toks[i+1].raw, "abdullah", nil))
				i++
				continue
			}
			out = append(out, abdToken(t.raw))
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
			out = append(out, abdToken(t.raw), latinToken(rest, rest, nil))
			continue
		}
		split := false
		if t.kind == kindName {
			for _, suf := range arabicSuffixDin {
				if len(w) >= len(suf)+3 && strings.HasSuffix(w, suf) {
					out = append(out, latinToken(w[:len(w)-len(suf)], w[:len(w)-len(suf)], nil), latinToken("din", "din", nil))
					split = true
					break
				}
			}
		}
		if !split {
			out = append(out, t)
		}
	}
	return out
}
