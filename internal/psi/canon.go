package psi

import (
	"net/url"
	"path"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"detente/internal/screen"
)

// maxPersonKeys bounds the keys of one person: one spelling per Cyrillic
// romanisation system and their skeletons.
const maxPersonKeys = 8

// personKeys canonicalises "name|dob" (person canonicaliser v1).
//
// The name goes through screen.Normalize (folding, transliteration,
// honorifics and Arabic particles) once per Cyrillic romanisation system in
// screen.CyrillicSystems, so "Сергей Лавров" yields "lavrov sergey",
// "lavrov sergei", "lavrov sergej", "lawrow sergej", …; each spelling's
// tokens are sorted, so word order does not matter. The skeleton key joins
// the sorted screen.Skeleton of each token, so that "Sergei", "Sergey",
// "Sergej" and "Сергей" share it. Every key ends with "|" and the date of
// birth: a name alone is never a key.
func personKeys(value string) ([]Key, error) {
	i := strings.LastIndexByte(value, '|')
	if i < 0 {
		return nil, selectorError(TypePerson, `want "name|date of birth"`)
	}
	dob, err := canonicalDate(value[i+1:])
	if err != nil {
		return nil, err
	}
	name := value[:i]
	var spellings, skeletons []string
	for sys := range screen.CyrillicSystems {
		toks := strings.Fields(screen.Normalize(transliterateWith(name, sys)))
		if len(toks) == 0 {
			return nil, selectorError(TypePerson, "empty name")
		}
		spellings = append(spellings, sortedJoin(toks))
		sk := make([]string, len(toks))
		for j, t := range toks {
			sk[j] = screen.Skeleton(t)
		}
		skeletons = append(skeletons, sortedJoin(sk))
	}
	spellTag := Tag(TypePerson, PersonVersion, VariantSpelling)
	skelTag := Tag(TypePerson, PersonVersion, VariantSkeleton)
	keys := []Key{{Tag: skelTag, Value: skeletons[0] + "|" + dob}}
	for _, s := range spellings {
		keys = append(keys, Key{Tag: spellTag, Value: s + "|" + dob})
	}
	for _, s := range skeletons[1:] {
		keys = append(keys, Key{Tag: skelTag, Value: s + "|" + dob})
	}
	keys = dedupeKeys(keys)
	if len(keys) > maxPersonKeys {
		keys = keys[:maxPersonKeys]
	}
	return keys, nil
}

// transliterateWith replaces every run of Cyrillic letters in s with its
// spelling in system sys of screen.CyrillicSystems; other text is kept.
func transliterateWith(s string, sys int) string {
	var b, run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(screen.TransliterateCyrillic(run.String())[sys])
			run.Reset()
		}
	}
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) && unicode.IsLetter(r) {
			run.WriteRune(r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

// canonicalDate accepts YYYY-MM-DD, YYYY-MM or YYYY (and the same with
// slashes or dots, or DD.MM.YYYY) and returns the ISO 8601 form at the same
// precision. Keys match only dates of the same precision.
func canonicalDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", selectorError(TypePerson, "date of birth required")
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(parts) == 3 && len(parts[2]) == 4 && len(parts[0]) <= 2 {
		parts[0], parts[2] = parts[2], parts[0] // DD.MM.YYYY
	}
	if len(parts) == 0 || len(parts) > 3 || len(parts[0]) != 4 {
		return "", selectorError(TypePerson, "date of birth %q: want YYYY-MM-DD, YYYY-MM or YYYY", s)
	}
	limits := []int{9999, 12, 31}
	out := make([]string, len(parts))
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 || (i > 0 && len(p) > 2) {
			return "", selectorError(TypePerson, "date of birth %q: bad field %q", s, p)
		}
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", selectorError(TypePerson, "date of birth %q: bad field %q", s, p)
			}
			n = n*10 + int(c-'0')
		}
		if n < 1 || n > limits[i] || (i == 0 && n < 1800) {
			return "", selectorError(TypePerson, "date of birth %q: field %q out of range", s, p)
		}
		if i == 0 {
			out[i] = p
		} else {
			out[i] = string([]byte{byte('0' + n/10), byte('0' + n%10)})
		}
	}
	if len(out) == 3 && !validDay(out[0], out[1], out[2]) {
		return "", selectorError(TypePerson, "date of birth %q: no such day", s)
	}
	return strings.Join(out, "-"), nil
}

func validDay(y, m, d string) bool {
	atoi := func(s string) int {
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n
	}
	yy, mm, dd := atoi(y), atoi(m), atoi(d)
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mm-1]
	if mm == 2 && yy%4 == 0 && (yy%100 != 0 || yy%400 == 0) {
		days = 29
	}
	return dd <= days
}

// CanonicalDocument canonicalises a travel document (document canonicaliser
// v1): "STATE:NUMBER" or an ICAO 9303 machine-readable zone, to
// "STATE:NUMBER" with the state's ICAO code stripped of fillers and the
// number upper-cased without spaces, hyphens or fillers.
func CanonicalDocument(value string) (string, error) {
	v := strings.TrimSpace(value)
	if looksLikeMRZ(v) {
		m, err := ParseMRZ(v)
		if err != nil {
			return "", err
		}
		return m.IssuingState + ":" + m.Number, nil
	}
	state, number, ok := strings.Cut(v, ":")
	if !ok {
		return "", selectorError(TypeDocument, `want "STATE:NUMBER" or a machine-readable zone`)
	}
	s, err := canonicalState(state)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(number) {
		switch {
		case r == ' ' || r == '-' || r == '<' || r == '\t':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return "", selectorError(TypeDocument, "number: invalid character %q", r)
		}
	}
	if b.Len() == 0 || b.Len() > 24 {
		return "", selectorError(TypeDocument, "number: want 1 to 24 letters or digits")
	}
	return s + ":" + b.String(), nil
}

// canonicalState validates an ICAO issuing-state code (one to three
// letters, fillers stripped: "D<<" is "D").
func canonicalState(s string) (string, error) {
	s = strings.TrimRight(strings.ToUpper(strings.TrimSpace(s)), "<")
	if len(s) == 0 || len(s) > 3 {
		return "", selectorError(TypeDocument, "issuing state %q: want an ICAO code of 1 to 3 letters", s)
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return "", selectorError(TypeDocument, "issuing state %q: want an ICAO code of 1 to 3 letters", s)
		}
	}
	return s, nil
}

// CanonicalPhone canonicalises a phone number to E.164 (phone canonicaliser
// v1): "+" and 7 to 15 digits, the first not 0. It accepts a leading "+" or
// "00", an optional "tel:" prefix, spaces, dots, hyphens, slashes,
// parentheses and a "(0)" trunk prefix. National numbers without a country
// code are refused: their country cannot be known.
func CanonicalPhone(value string) (string, error) {
	v := strings.TrimSpace(value)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "tel:"), "TEL:")
	v = strings.ReplaceAll(v, "(0)", "")
	var digits strings.Builder
	plus := false
	for i, r := range v {
		switch {
		case r == '+' && i == 0:
			plus = true
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", selectorError(TypePhone, "invalid character %q", r)
		}
	}
	d := digits.String()
	if !plus {
		if !strings.HasPrefix(d, "00") {
			return "", selectorError(TypePhone, "want an international number (+CC… or 00CC…)")
		}
		d = d[2:]
	}
	if len(d) < 7 || len(d) > 15 {
		return "", selectorError(TypePhone, "want 7 to 15 digits, got %d", len(d))
	}
	if d[0] == '0' {
		return "", selectorError(TypePhone, "country code cannot start with 0")
	}
	return "+" + d, nil
}

// CanonicalEmail canonicalises an e-mail address (e-mail canonicaliser v1):
// an optional "mailto:" prefix removed, Unicode NFC, lower-cased, the
// domain's trailing dot removed. Provider-specific rules (dots and "+tags"
// in some mailboxes) are not applied: they are not universal.
func CanonicalEmail(value string) (string, error) {
	v := strings.TrimSpace(value)
	if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
		v = v[7:]
	}
	v = strings.ToLower(norm.NFC.String(v))
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 {
		return "", selectorError(TypeEmail, "want local@domain")
	}
	local, domain := v[:at], strings.TrimSuffix(v[at+1:], ".")
	if len(local) > 64 {
		return "", selectorError(TypeEmail, "local part longer than 64 bytes")
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '@' || r == '"' {
			return "", selectorError(TypeEmail, "local part: invalid character %q", r)
		}
	}
	if err := checkDomain(domain); err != nil {
		return "", selectorError(TypeEmail, "domain: %v", err)
	}
	return local + "@" + domain, nil
}

// checkDomain validates a lower-cased domain name: dot-separated labels of
// letters, digits and hyphens (any script), none empty.
func checkDomain(d string) error {
	if d == "" || len(d) > 253 {
		return errorString("want 1 to 253 bytes")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return errorString("empty or long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errorString("label starts or ends with a hyphen")
		}
		for _, r := range label {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || unicode.Is(unicode.Mn, r)) {
				return errorString("invalid character " + string(r))
			}
		}
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// chainAliases maps chain names to their canonical short names. The EVM
// chains share "evm": one key controls an address on all of them.
var chainAliases = map[string]string{
	"bitcoin": "btc", "xbt": "btc", "btc": "btc",
	"litecoin": "ltc", "ltc": "ltc",
	"bitcoin-cash": "bch", "bitcoincash": "bch", "bch": "bch",
	"dogecoin": "doge", "doge": "doge",
	"dash": "dash", "zcash": "zec", "zec": "zec",
	"monero": "xmr", "xmr": "xmr",
	"tron": "trx", "trx": "trx",
	"solana": "sol", "sol": "sol",
	"ethereum": "evm", "eth": "evm", "etc": "evm", "bsc": "evm", "bnb": "evm",
	"polygon": "evm", "matic": "evm", "arbitrum": "evm", "arb": "evm",
	"optimism": "evm", "op": "evm", "avalanche": "evm", "avax": "evm",
	"base": "evm", "evm": "evm",
	"ripple": "xrp", "xrp": "xrp", "ton": "ton", "ada": "ada", "cardano": "ada",
}

// tokenChains are tokens, not chains, that lists give in place of a chain
// (OFAC's "Digital Currency Address - USDT"): the address format says which
// chain holds them.
var tokenChains = map[string]bool{"usdt": true, "usdc": true, "tether": true, "dai": true}

// CanonicalWallet canonicalises "CHAIN:ADDRESS" (wallet canonicaliser v1) to
// "CHAIN:ADDRESS" with the chain's canonical name ("evm" for every EVM
// chain; a token such as "usdt" becomes the chain its address format
// implies), EVM addresses as lower-case 0x-hex (the EIP-55 checksum case
// dropped), bech32 and cashaddr addresses lower-cased, and base58 and other
// addresses kept as written: they are case-sensitive.
func CanonicalWallet(value string) (string, error) {
	chain, addr, ok := strings.Cut(strings.TrimSpace(value), ":")
	if !ok {
		return "", selectorError(TypeWallet, `want "CHAIN:ADDRESS"`)
	}
	chain = strings.ToLower(strings.TrimSpace(chain))
	addr = strings.TrimSpace(addr)
	if strings.HasPrefix(strings.ToLower(addr), "bitcoincash:") {
		addr = addr[len("bitcoincash:"):]
	}
	if addr == "" || len(addr) > 128 {
		return "", selectorError(TypeWallet, "address: want 1 to 128 characters")
	}
	for _, r := range addr {
		if !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')) {
			return "", selectorError(TypeWallet, "address: invalid character %q", r)
		}
	}
	isEVM := len(addr) == 42 && (addr[:2] == "0x" || addr[:2] == "0X") && isHex(addr[2:])
	c, known := chainAliases[chain]
	switch {
	case known:
	case tokenChains[chain] && isEVM:
		c = "evm"
	case tokenChains[chain] && addr[0] == 'T' && len(addr) == 34:
		c = "trx"
	case tokenChains[chain]:
		return "", selectorError(TypeWallet, "token %q: address format names no chain", chain)
	default:
		for _, r := range chain {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", selectorError(TypeWallet, "chain %q: want letters, digits and hyphens", chain)
			}
		}
		if chain == "" || len(chain) > 32 {
			return "", selectorError(TypeWallet, "chain: want 1 to 32 characters")
		}
		c = chain
	}
	switch {
	case c == "evm":
		if !isEVM {
			return "", selectorError(TypeWallet, "address: want 0x and 40 hex digits")
		}
		addr = strings.ToLower(addr)
	case c == "bch" || hasBech32Prefix(addr):
		addr = strings.ToLower(addr)
	}
	return c + ":" + addr, nil
}

func hasBech32Prefix(a string) bool {
	l := strings.ToLower(a)
	for _, p := range []string{"bc1", "tb1", "ltc1", "bcrt1"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// hashAlgorithms maps algorithm names to canonical names and hex lengths.
var hashAlgorithms = map[string]struct {
	name string
	hex  int
}{
	"md5": {"md5", 32}, "sha1": {"sha1", 40}, "sha-1": {"sha1", 40},
	"sha256": {"sha256", 64}, "sha-256": {"sha256", 64},
	"sha384": {"sha384", 96}, "sha-384": {"sha384", 96},
	"sha512": {"sha512", 128}, "sha-512": {"sha512", 128},
}

// hashByLength names the algorithm of a bare hex digest.
var hashByLength = map[int]string{32: "md5", 40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}

// CanonicalFileHash canonicalises "ALGORITHM:HEX" or bare hex (file-hash
// canonicaliser v1) to "algorithm:lower-case hex", checking the length.
func CanonicalFileHash(value string) (string, error) {
	v := strings.TrimSpace(value)
	alg, digest, ok := strings.Cut(v, ":")
	if !ok {
		alg, digest = "", v
	}
	digest = strings.ToLower(strings.TrimSpace(digest))
	if !isHex(digest) {
		return "", selectorError(TypeFileHash, "digest: want hex digits")
	}
	if alg == "" {
		name, ok := hashByLength[len(digest)]
		if !ok {
			return "", selectorError(TypeFileHash, "digest of %d hex digits names no algorithm", len(digest))
		}
		return name + ":" + digest, nil
	}
	a, ok := hashAlgorithms[strings.ToLower(strings.TrimSpace(alg))]
	if !ok {
		return "", selectorError(TypeFileHash, "unknown algorithm %q", alg)
	}
	if len(digest) != a.hex {
		return "", selectorError(TypeFileHash, "%s digest: want %d hex digits, got %d", a.name, a.hex, len(digest))
	}
	return a.name + ":" + digest, nil
}

// platformAliases maps platform names to canonical names.
var platformAliases = map[string]string{
	"twitter": "x", "x": "x", "x.com": "x", "twitter.com": "x",
	"telegram": "telegram", "tg": "telegram", "t.me": "telegram",
	"facebook": "facebook", "fb": "facebook", "instagram": "instagram", "ig": "instagram",
	"tiktok": "tiktok", "youtube": "youtube", "yt": "youtube", "vk": "vk", "vkontakte": "vk",
	"github": "github", "reddit": "reddit", "discord": "discord", "signal": "signal",
}

// CanonicalAccount canonicalises "PLATFORM:HANDLE" (account canonicaliser
// v1) to "platform:handle": the platform lower-cased and aliased ("twitter"
// is "x", "tg" is "telegram"), the handle lower-cased without a leading "@".
// Handles are case-insensitive on every platform listed in docs/matching.md.
func CanonicalAccount(value string) (string, error) {
	p, h, ok := strings.Cut(strings.TrimSpace(value), ":")
	if !ok {
		return "", selectorError(TypeAccount, `want "PLATFORM:HANDLE"`)
	}
	p = strings.ToLower(strings.TrimSpace(p))
	if c, ok := platformAliases[p]; ok {
		p = c
	}
	if p == "" || len(p) > 32 {
		return "", selectorError(TypeAccount, "platform: want 1 to 32 characters")
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", selectorError(TypeAccount, "platform %q: invalid character %q", p, r)
		}
	}
	h = strings.TrimPrefix(strings.TrimSpace(h), "@")
	h = strings.ToLower(norm.NFC.String(h))
	if h == "" || len(h) > 256 {
		return "", selectorError(TypeAccount, "handle: want 1 to 256 bytes")
	}
	for _, r := range h {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", selectorError(TypeAccount, "handle: invalid character %q", r)
		}
	}
	return p + ":" + h, nil
}

// CanonicalURL canonicalises an absolute URL (URL canonicaliser v1): scheme
// and host lower-cased, trailing dots and the default port removed (80 and
// 443 for http and https alike, since both schemes merge), user
// information and fragment dropped, dot segments resolved, an empty path
// made "/", percent-encoding normalised (unreserved characters decoded,
// hex upper-cased); the query is kept as written. http and https are the
// same resource: both become "//host/path", so that a watchlist entry
// matches whichever scheme the querier saw. Other schemes keep their name.
func CanonicalURL(value string) (string, error) {
	v := strings.TrimSpace(value)
	u, err := url.Parse(v)
	if err != nil {
		return "", selectorError(TypeURL, "%v", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", selectorError(TypeURL, "want an absolute URL with a host")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	host = strings.TrimRight(host, ".")
	if host == "" {
		return "", selectorError(TypeURL, "empty host")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "http" || scheme == "https") && (port == "80" || port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	trailing := strings.HasSuffix(p, "/")
	p = path.Clean(p)
	if trailing && p != "/" {
		p += "/"
	}
	out := (&url.URL{Path: p}).EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	// Refuse what the standard library accepts once but not in canonical
	// form (odd hosts under unusual schemes), so that canonical values are
	// stable.
	if _, err := url.Parse(scheme + "://" + host + out); err != nil {
		return "", selectorError(TypeURL, "host %q: %v", host, err)
	}
	if scheme == "http" || scheme == "https" {
		return "//" + host + out, nil
	}
	return scheme + "://" + host + out, nil
}
