package screen

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// IdentifierType is the kind of a typed identifier.
type IdentifierType string

// The identifier types IdentifierIndex knows.
const (
	IDWallet     IdentifierType = "wallet"      // a crypto-currency address, with its chain
	IDPassport   IdentifierType = "passport"    // with its issuing state
	IDNationalID IdentifierType = "national-id" // with its issuing state
	IDIBAN       IdentifierType = "iban"        // ISO 13616, check digits verified
	IDBIC        IdentifierType = "bic"         // SWIFT/BIC, ISO 9362
	IDIMO        IdentifierType = "imo"         // IMO ship number, check digit verified
	IDAircraft   IdentifierType = "aircraft"    // aircraft registration (tail number)
	// IDIMOCompany is the IMO number of a ship's owner or manager: seven
	// digits with no check digit.
	IDIMOCompany IdentifierType = "imo-company"
	// IDDocument is a query type only: a travel or identity document of
	// either kind, since lists do not agree on which a number is.
	IDDocument IdentifierType = "document"
)

// Identifier is a typed identifier as a list or a user writes it.
type Identifier struct {
	Type IdentifierType `json:"type"`
	// Value is the identifier as written: spaces, hyphens and case do not
	// matter where the format says they do not.
	Value string `json:"value"`
	// Chain is a wallet's blockchain or currency: BTC, ETH (or any EVM
	// chain), TRX, LTC, BCH, XMR, USDT, …
	Chain string `json:"chain,omitempty"`
	// Country is the issuing state of a passport or national identity
	// document: ISO 3166 alpha-2 or alpha-3, or ICAO 9303 (D for Germany).
	Country string `json:"country,omitempty"`
}

// ErrIdentifier is wrapped by every error about an identifier that cannot
// be canonicalised.
var ErrIdentifier = errors.New("invalid identifier")

func idErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrIdentifier}, args...)...)
}

// Canonical returns the identifier's canonical key,
// "type:qualifier:value": two identifiers are the same when their keys are
// equal. It checks what the format allows to check (IBAN and IMO check
// digits, Base58Check and bech32 checksums of wallets) and returns an error
// wrapping ErrIdentifier for a value that fails.
func (id Identifier) Canonical() (string, error) {
	v := strings.TrimSpace(id.Value)
	if v == "" {
		return "", idErrorf("%s: empty value", id.Type)
	}
	switch id.Type {
	case IDIBAN:
		s, err := canonIBAN(v)
		return "iban::" + s, err
	case IDBIC:
		s, err := canonBIC(v)
		return "bic::" + s, err
	case IDIMO:
		s, err := canonIMO(v)
		return "imo::" + s, err
	case IDIMOCompany:
		s := strings.TrimPrefix(strings.ToUpper(stripSeparators(v, " -.")), "IMO")
		if len(s) != 7 || strings.Trim(s, "0123456789") != "" {
			return "", idErrorf("imo-company: %q is not a seven-digit IMO company number", v)
		}
		return "imo-company::" + s, nil
	case IDAircraft:
		s, err := canonAircraft(v)
		return "aircraft::" + s, err
	case IDPassport, IDNationalID, IDDocument:
		st, err := canonState(id.Country)
		if err != nil {
			return "", err
		}
		s := strings.ToUpper(stripSeparators(v, " -./<"))
		if s == "" || !isAlnum(s) || len(s) > 20 {
			return "", idErrorf("%s: %q is not a document number", id.Type, v)
		}
		return string(id.Type) + ":" + st + ":" + s, nil
	case IDWallet:
		fam, s, err := canonWallet(id.Chain, v)
		return "wallet:" + fam + ":" + s, err
	}
	return "", idErrorf("unknown identifier type %q", id.Type)
}

func stripSeparators(s, seps string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(seps, r) {
			return -1
		}
		return r
	}, s)
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// ibanLengths are the IBAN lengths of the countries of the SWIFT IBAN
// registry; other countries must give 15 to 34 characters.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31,
	"MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

// canonIBAN upper-cases an IBAN, removes spaces and hyphens, and checks
// its length and ISO 7064 mod 97-10 check digits.
func canonIBAN(v string) (string, error) {
	s := strings.ToUpper(stripSeparators(v, " -"))
	if len(s) < 15 || len(s) > 34 || !isAlnum(s) || s[0] < 'A' || s[1] < 'A' || s[2] > '9' || s[3] > '9' {
		return "", idErrorf("iban: %q is not an IBAN", v)
	}
	if n, ok := ibanLengths[s[:2]]; ok && len(s) != n {
		return "", idErrorf("iban: %q has %d characters, %s IBANs have %d", v, len(s), s[:2], n)
	}
	rem := 0
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' {
			n := int(c-'A') + 10
			rem = (rem*100 + n) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	if rem != 1 {
		return "", idErrorf("iban: %q fails its check digits", v)
	}
	return s, nil
}

// canonBIC upper-cases a BIC and drops the XXX branch code of a head
// office, so that ABCDDEFF and ABCDDEFFXXX are one key.
func canonBIC(v string) (string, error) {
	s := strings.ToUpper(stripSeparators(v, " -"))
	if (len(s) != 8 && len(s) != 11) || !isAlnum(s) {
		return "", idErrorf("bic: %q is not 8 or 11 letters and digits", v)
	}
	for i := 0; i < 6; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return "", idErrorf("bic: %q: institution and country must be letters", v)
		}
	}
	return strings.TrimSuffix(s, "XXX"), nil
}

// canonIMO reads an IMO ship number (IMO 9074729) and checks its digit:
// the first six digits weighted 7 to 2, summed, modulo 10.
func canonIMO(v string) (string, error) {
	s := strings.ToUpper(stripSeparators(v, " -."))
	s = strings.TrimPrefix(s, "IMO")
	if len(s) != 7 || strings.Trim(s, "0123456789") != "" {
		return "", idErrorf("imo: %q is not a seven-digit IMO number", v)
	}
	sum := 0
	for i := 0; i < 6; i++ {
		sum += int(s[i]-'0') * (7 - i)
	}
	if sum%10 != int(s[6]-'0') {
		return "", idErrorf("imo: %q fails its check digit", v)
	}
	return s, nil
}

// canonAircraft upper-cases a registration and drops the hyphen between
// nationality mark and registration mark (EP-IAA, EPIAA; 4X-ABC).
func canonAircraft(v string) (string, error) {
	s := strings.ToUpper(stripSeparators(v, " -"))
	if len(s) < 3 || len(s) > 10 || !isAlnum(s) {
		return "", idErrorf("aircraft: %q is not a registration", v)
	}
	return s, nil
}

// icaoStates are ICAO 9303 codes that are not ISO 3166 alpha-3.
var icaoStates = map[string]string{"D": "DEU", "GBD": "GBR", "GBN": "GBR", "GBO": "GBR", "GBP": "GBR", "GBS": "GBR", "RKS": "XKX", "UNO": "UNO", "XXA": "XXA"}

// canonState returns the ISO 3166 alpha-3 code of an issuing state.
func canonState(c string) (string, error) {
	c = strings.ToUpper(strings.Trim(strings.TrimSpace(c), "<"))
	if c == "" {
		return "", idErrorf("a travel or identity document needs its issuing state")
	}
	if s, ok := icaoStates[c]; ok {
		return s, nil
	}
	r, err := language.ParseRegion(c)
	if err != nil || !r.IsCountry() {
		return "", idErrorf("%q is not a country code", c)
	}
	return r.ISO3(), nil
}

// evmChains are chains whose addresses are Ethereum's: one key serves
// them all.
var evmChains = map[string]bool{
	"eth": true, "etc": true, "evm": true, "bsc": true, "bnb": true, "bep20": true, "erc20": true,
	"polygon": true, "matic": true, "arbitrum": true, "arb": true, "optimism": true, "op": true,
	"base": true, "avax": true, "avalanche": true, "ftm": true, "fantom": true,
}

// chainAliases are other names of chains.
var chainAliases = map[string]string{"xbt": "btc", "bitcoin": "btc", "trc20": "trx", "tron": "trx", "litecoin": "ltc", "monero": "xmr", "ripple": "xrp", "solana": "sol", "dogecoin": "doge", "zcash": "zec", "bitcoincash": "bch"}

// canonWallet returns the chain family and canonical address of a wallet:
// hex addresses lower-cased (EIP-55 case is a checksum, not part of the
// address), bech32 ones lower-cased after their checksum is verified,
// base58 ones kept as written (case is significant) after their
// Base58Check checksum is verified where the chain uses one. A token
// (USDT, USDC) takes the chain its address implies.
func canonWallet(chain, v string) (string, string, error) {
	c := strings.ToLower(strings.TrimSpace(chain))
	if a, ok := chainAliases[c]; ok {
		c = a
	}
	if c == "" {
		return "", "", idErrorf("wallet: the chain is required")
	}
	a := strings.TrimSpace(v)
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		a = a[i+1:] // bitcoincash:q…, ethereum:0x…
	}
	isHex := len(a) == 42 && (strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X")) && isHexString(a[2:])
	switch {
	case evmChains[c] || (c == "usdt" || c == "usdc" || c == "dai") && isHex:
		if !isHex {
			return "", "", idErrorf("wallet: %q is not a 0x address of 40 hex digits", v)
		}
		return "evm", strings.ToLower(a), nil
	case c == "usdt" || c == "usdc":
		switch {
		case strings.HasPrefix(a, "T"):
			c = "trx"
		case c == "usdt" && (strings.HasPrefix(a, "1") || strings.HasPrefix(a, "3")):
			c = "btc" // Tether on the Omni layer lives at a Bitcoin address
		default:
			return "", "", idErrorf("wallet: which chain %s address %q is on is unknown", chain, v)
		}
	}
	lower := strings.ToLower(a)
	for _, hrp := range []string{"bc1", "tb1", "ltc1", "bnb1", "cosmos1"} {
		if strings.HasPrefix(lower, hrp) {
			if a != lower && a != strings.ToUpper(a) {
				return "", "", idErrorf("wallet: bech32 address %q mixes cases", v)
			}
			if !bech32Valid(lower) {
				return "", "", idErrorf("wallet: %q fails its bech32 checksum", v)
			}
			return c, lower, nil
		}
	}
	if c == "bch" && (strings.HasPrefix(lower, "q") || strings.HasPrefix(lower, "p")) {
		return c, lower, nil // cashaddr: one case
	}
	if !isBase58(a) {
		return "", "", idErrorf("wallet: %q is not a %s address", v, chain)
	}
	switch c {
	case "btc", "ltc", "trx", "doge", "dash", "zec", "bch":
		if !base58CheckValid(a) {
			return "", "", idErrorf("wallet: %q fails its Base58Check checksum", v)
		}
	}
	return c, a, nil
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func isBase58(s string) bool {
	if len(s) < 25 || len(s) > 110 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base58Alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// base58CheckValid decodes s and checks that its last four bytes are the
// first four of the double SHA-256 of the rest.
func base58CheckValid(s string) bool {
	n := new(big.Int)
	b58 := big.NewInt(58)
	for i := 0; i < len(s); i++ {
		n.Mul(n, b58)
		n.Add(n, big.NewInt(int64(strings.IndexByte(base58Alphabet, s[i]))))
	}
	b := n.Bytes()
	for i := 0; i < len(s) && s[i] == '1'; i++ {
		b = append([]byte{0}, b...)
	}
	if len(b) < 5 {
		return false
	}
	h := sha256.Sum256(b[:len(b)-4])
	h = sha256.Sum256(h[:])
	return string(h[:4]) == string(b[len(b)-4:])
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Valid checks the checksum of a lower-case bech32 (BIP 173) or
// bech32m (BIP 350) string.
func bech32Valid(s string) bool {
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) || len(s) > 90 {
		return false
	}
	hrp, data := s[:pos], s[pos+1:]
	values := make([]byte, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	for i := 0; i < len(data); i++ {
		d := strings.IndexByte(bech32Charset, data[i])
		if d < 0 {
			return false
		}
		values = append(values, byte(d))
	}
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1 || chk == 0x2bc830a3
}

// IdentifierHit is one designation found by ScreenIdentifier.
type IdentifierHit struct {
	// Designation is the key the identifier was added under, normally
	// detente.Designation.Key() ("authority/entity_id").
	Designation string `json:"designation"`
	// Listed is the identifier as the list wrote it.
	Listed Identifier `json:"listed"`
	// Canonical is the key both sides share.
	Canonical string `json:"canonical"`
	// Branch is set when a BIC of a branch matched the listed BIC of its
	// institution.
	Branch bool `json:"branch,omitempty"`
	// StateUnconfirmed is set when a document number matched but the list
	// or the query does not say which state issued it: the same number of
	// another state's document is another document.
	StateUnconfirmed bool `json:"state_unconfirmed,omitempty"`
	// AsWritten is set when the listed value fails its own check (an IMO
	// check digit, a wallet checksum) and matched as written, letter for
	// letter.
	AsWritten bool `json:"as_written,omitempty"`
}

// IdentifierIndex looks typed identifiers up exactly after
// canonicalisation. It is safe for concurrent use.
//
// Lists are messy, and an identifier a list gives is indexed even when it
// cannot be canonicalised: a document without its issuing state is found
// by its number with any state (the hit says StateUnconfirmed), and a value
// that fails its own check is found by the same text (AsWritten).
type IdentifierIndex struct {
	mu sync.RWMutex
	m  map[string][]IdentifierHit
}

// NewIdentifierIndex returns an empty index.
func NewIdentifierIndex() *IdentifierIndex {
	return &IdentifierIndex{m: map[string][]IdentifierHit{}}
}

// family is the part of the key an identifier type shares with the types
// it is screened against: a document query finds passports and national
// IDs, an IMO query ships and companies.
func family(t IdentifierType) string {
	switch t {
	case IDPassport, IDNationalID, IDDocument:
		return "doc"
	case IDIMO, IDIMOCompany:
		return "imo"
	}
	return string(t)
}

// indexKey returns the key id is indexed and looked up under, and whether
// it is the value as written rather than its canonical form. Documents are
// keyed by their number alone (the state is compared afterwards), IMO
// numbers by their seven digits whatever their check digit says.
func indexKey(id Identifier) (key string, asWritten bool, err error) {
	v := strings.TrimSpace(id.Value)
	switch id.Type {
	case IDPassport, IDNationalID, IDDocument:
		n := docNumber(v)
		if n == "" || len(n) > 20 {
			return "", false, idErrorf("%s: %q is not a document number", id.Type, v)
		}
		return "doc:" + n, false, nil
	case IDIMO, IDIMOCompany:
		s := strings.TrimPrefix(strings.ToUpper(stripSeparators(v, " -.:")), "IMO")
		if len(s) != 7 || strings.Trim(s, "0123456789") != "" {
			return "", false, idErrorf("%s: %q is not a seven-digit IMO number", id.Type, v)
		}
		_, err := canonIMO(s)
		return "imo:" + s, id.Type == IDIMO && err != nil, nil
	}
	k, err := id.Canonical()
	if err == nil {
		return k, false, nil
	}
	loose := strings.ToUpper(stripSeparators(v, " -"))
	if loose == "" || len(loose) > 128 || (id.Type != IDWallet && id.Type != IDIBAN && id.Type != IDBIC && id.Type != IDAircraft) {
		return "", false, err
	}
	if id.Type == IDWallet {
		loose = v // base58 case is significant
	}
	return family(id.Type) + ":as-written:" + loose, true, err
}

// docNumber returns a document number's letters and digits, upper-cased:
// lists write the same number with spaces, hyphens, dots, slashes and
// brackets ("265 216", "D489833(9)").
func docNumber(v string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(v) {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Add records that the designation with the given key carries id. An
// identifier that cannot be canonicalised is indexed as written when its
// type allows (see IdentifierIndex); otherwise Add returns an error
// wrapping ErrIdentifier and records nothing.
func (x *IdentifierIndex) Add(designation string, id Identifier) error {
	k, asWritten, err := indexKey(id)
	if k == "" {
		return fmt.Errorf("designation %s: %w", designation, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	h := IdentifierHit{Designation: designation, Listed: id, Canonical: k, AsWritten: asWritten}
	if !slices.ContainsFunc(x.m[k], func(o IdentifierHit) bool { return o.Designation == designation && o.Listed == id }) {
		x.m[k] = append(x.m[k], h)
	}
	return nil
}

// Len returns the number of distinct identifier keys indexed.
func (x *IdentifierIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.m)
}

// ScreenIdentifier canonicalises id and returns the designations that
// carry it, one hit per listed identifier; a BIC of a branch also finds
// its institution's BIC. A document (IDDocument for either kind) matches a
// listed one of the same number and issuing state, or of the same number
// when either side lacks the state (StateUnconfirmed); a document of
// another state does not match. An identifier that cannot be
// canonicalised is an error wrapping ErrIdentifier, never a silent miss,
// unless a listed value fails the same check and is written the same
// (AsWritten).
func (x *IdentifierIndex) ScreenIdentifier(id Identifier) ([]IdentifierHit, error) {
	if id.Type == IDDocument || id.Type == IDPassport || id.Type == IDNationalID {
		return x.screenDocument(id)
	}
	if id.Type == IDIMO || id.Type == IDIMOCompany {
		k, _, err := indexKey(id)
		if err != nil {
			return nil, err
		}
		x.mu.RLock()
		defer x.mu.RUnlock()
		return slices.Clone(x.m[k]), nil
	}
	k, err := id.Canonical()
	if err != nil {
		loose, _, _ := indexKey(id)
		x.mu.RLock()
		defer x.mu.RUnlock()
		if hits := x.m[loose]; loose != "" && len(hits) > 0 {
			return slices.Clone(hits), nil
		}
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	hits := slices.Clone(x.m[k])
	if id.Type == IDBIC && len(k) == len("bic::")+11 {
		for _, h := range x.m[k[:len(k)-3]] {
			h.Branch = true
			hits = append(hits, h)
		}
	}
	return hits, nil
}

func (x *IdentifierIndex) screenDocument(id Identifier) ([]IdentifierHit, error) {
	k, _, err := indexKey(id)
	if err != nil {
		return nil, err
	}
	state := ""
	if strings.TrimSpace(id.Country) != "" {
		if state, err = canonState(id.Country); err != nil {
			return nil, idErrorf("%s: %q is not a country code", id.Type, id.Country)
		}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var hits []IdentifierHit
	for _, h := range x.m[k] {
		if id.Type != IDDocument && h.Listed.Type != id.Type {
			continue
		}
		listed, _ := canonState(h.Listed.Country)
		switch {
		case state == "" || listed == "":
			h.StateUnconfirmed = true
		case listed != state:
			continue
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// QueryKinds are the kinds of identifier a user screens, as the CLI's
// flags, the batch file's columns and the API's parameters name them, with
// the type each stands for: a document is a passport or a national ID, an
// IMO number a ship's or a company's.
var QueryKinds = []struct {
	Name string
	Type IdentifierType
}{
	{"wallet", IDWallet}, {"document", IDDocument}, {"imo", IDIMO},
	{"iban", IDIBAN}, {"bic", IDBIC}, {"aircraft", IDAircraft},
}

// ParseQuery reads an identifier as a user writes it for a kind of
// QueryKinds: CHAIN:ADDRESS for a wallet, STATE:NUMBER or NUMBER (any
// state) for a document, the value alone otherwise. Its error wraps
// ErrIdentifier and names the kind.
func ParseQuery(kind, v string) (Identifier, error) {
	v = strings.TrimSpace(v)
	i := slices.IndexFunc(QueryKinds, func(k struct {
		Name string
		Type IdentifierType
	}) bool {
		return k.Name == kind
	})
	if i < 0 {
		return Identifier{}, idErrorf("unknown kind of identifier %q", kind)
	}
	id := Identifier{Type: QueryKinds[i].Type, Value: v}
	switch id.Type {
	case IDWallet:
		chain, addr, ok := strings.Cut(v, ":")
		if !ok || strings.TrimSpace(chain) == "" || strings.TrimSpace(addr) == "" {
			return id, idErrorf("%s: %q: want CHAIN:ADDRESS, e.g. XBT:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", kind, v)
		}
		id.Chain, id.Value = strings.TrimSpace(chain), strings.TrimSpace(addr)
	case IDDocument:
		if st, num, ok := strings.Cut(v, ":"); ok {
			id.Country, id.Value = strings.TrimSpace(st), strings.TrimSpace(num)
		}
	}
	if id.Value == "" {
		return id, idErrorf("%s: empty value", kind)
	}
	return id, nil
}
