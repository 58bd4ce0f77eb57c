package psi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Type names a kind of selector.
type Type string

// Selector types. The Value formats are documented on each constant and in
// docs/matching.md.
const (
	// TypePerson is a person: "name|date of birth", the date written
	// YYYY-MM-DD, YYYY-MM or YYYY (for example "Sergei Lavrov|1950-03-21").
	// A person yields several keys, each combined with the date of birth.
	TypePerson Type = "person"
	// TypeDocument is a travel document: "STATE:NUMBER" with the ICAO
	// issuing-state code (for example "UTO:L898902C3"), or a whole ICAO 9303
	// machine-readable zone (TD1, TD2 or TD3) whose check digits must verify.
	TypeDocument Type = "document"
	// TypePhone is a phone number in international form ("+44 20 7946
	// 0000", "0044…"), canonicalised to E.164.
	TypePhone Type = "phone"
	// TypeEmail is an e-mail address.
	TypeEmail Type = "email"
	// TypeWallet is a cryptocurrency address: "CHAIN:ADDRESS" (for example
	// "eth:0x…", "btc:bc1…").
	TypeWallet Type = "wallet"
	// TypeFileHash is a file digest: "ALGORITHM:HEX" (md5, sha1, sha256,
	// sha384, sha512), or bare hex whose length names the algorithm.
	TypeFileHash Type = "file-hash"
	// TypeAccount is an account handle on a platform: "PLATFORM:HANDLE" (for
	// example "telegram:@example").
	TypeAccount Type = "account"
	// TypeURL is an absolute URL.
	TypeURL Type = "url"
)

// Types lists every selector type, in a stable order.
var Types = []Type{TypePerson, TypeDocument, TypePhone, TypeEmail, TypeWallet, TypeFileHash, TypeAccount, TypeURL}

// Selector is a typed value as a user or a list wrote it. Keys turns it into
// the canonical keys that the protocols match on.
type Selector struct {
	Type  Type   `json:"type"`
	Value string `json:"value"`
}

// String returns "type:value".
func (s Selector) String() string { return string(s.Type) + ":" + s.Value }

// Person returns the selector of a person with a name and a date of birth
// (YYYY-MM-DD, YYYY-MM or YYYY).
func Person(name, dob string) Selector {
	return Selector{Type: TypePerson, Value: name + "|" + dob}
}

// Document returns the selector of a travel document issued by state (the
// ICAO code, "UTO", "D", "GBR") with a number.
func Document(state, number string) Selector {
	return Selector{Type: TypeDocument, Value: state + ":" + number}
}

// Wallet returns the selector of an address on a chain ("btc", "eth", …).
func Wallet(chain, address string) Selector {
	return Selector{Type: TypeWallet, Value: chain + ":" + address}
}

// FileHash returns the selector of a digest computed with algorithm.
func FileHash(algorithm, hexDigest string) Selector {
	return Selector{Type: TypeFileHash, Value: algorithm + ":" + hexDigest}
}

// Account returns the selector of a handle on a platform.
func Account(platform, handle string) Selector {
	return Selector{Type: TypeAccount, Value: platform + ":" + handle}
}

// Key is one canonical input to the matching protocols. Two keys match only
// if both their tags and their canonical values are equal.
type Key struct {
	// Tag is the domain-separation tag: "detente/psi/TYPE/vN/VARIANT".
	Tag string `json:"tag"`
	// Value is the canonical value.
	Value string `json:"value"`
}

// Input returns the bytes fed to the PRF or hashed to the group: the tag's
// length as two big-endian bytes, the tag, then the value. The encoding is
// injective, so that no tag and value can be read as another.
func (k Key) Input() []byte {
	b := make([]byte, 2, 2+len(k.Tag)+len(k.Value))
	binary.BigEndian.PutUint16(b, uint16(len(k.Tag)))
	b = append(b, k.Tag...)
	return append(b, k.Value...)
}

// Variant returns the last element of the tag: "canonical", "spelling",
// "skeleton".
func (k Key) Variant() string { return k.Tag[strings.LastIndexByte(k.Tag, '/')+1:] }

// Canonicaliser versions. A change in what a canonicaliser outputs for any
// input is a new version: keys of different versions carry different tags
// and never match, so both sides of an agreement must use the same versions.
// Person v2: internal/screen's normalisation now transliterates Han, kana,
// Hangul, Hebrew, Thai, Georgian, Armenian and Devanagari and expands more
// abbreviations, so v1 and v2 keys differ for such names.
const (
	PersonVersion   = 2
	DocumentVersion = 1
	PhoneVersion    = 1
	EmailVersion    = 1
	WalletVersion   = 1
	FileHashVersion = 1
	AccountVersion  = 1
	URLVersion      = 1
)

// Key variants, the last element of a tag.
const (
	// VariantCanonical is the single key of the types that have one.
	VariantCanonical = "canonical"
	// VariantSpelling is a person key from one transliteration of the name:
	// its tokens sorted, with the date of birth.
	VariantSpelling = "spelling"
	// VariantSkeleton is a person key from the phonetic skeletons of the
	// name's tokens, with the date of birth.
	VariantSkeleton = "skeleton"
)

// maxValueLen bounds what a canonicaliser reads.
const maxValueLen = 1024

// ErrSelector is wrapped by every error about a malformed selector.
var ErrSelector = errors.New("invalid selector")

// selectorError builds an error that names the type and wraps ErrSelector.
func selectorError(t Type, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrSelector, t, fmt.Sprintf(format, args...))
}

// Tag returns the domain-separation tag of a selector type, canonicaliser
// version and key variant.
func Tag(t Type, version int, variant string) string {
	return "detente/psi/" + string(t) + "/v" + strconv.Itoa(version) + "/" + variant
}

// Keys returns the canonical keys of s, deduplicated. The first key is the
// representative one, used where a selector must count once (count mode):
// for a person it is the skeleton key of the name's first transliteration;
// every other type has a single key. It fails, wrapping ErrSelector, when
// the value cannot be canonicalised.
func (s Selector) Keys() ([]Key, error) {
	if len(s.Value) > maxValueLen {
		return nil, selectorError(s.Type, "value longer than %d bytes", maxValueLen)
	}
	var (
		v   string
		err error
		ver int
	)
	switch s.Type {
	case TypePerson:
		return personKeys(s.Value)
	case TypeDocument:
		ver = DocumentVersion
		v, err = CanonicalDocument(s.Value)
	case TypePhone:
		ver = PhoneVersion
		v, err = CanonicalPhone(s.Value)
	case TypeEmail:
		ver = EmailVersion
		v, err = CanonicalEmail(s.Value)
	case TypeWallet:
		ver = WalletVersion
		v, err = CanonicalWallet(s.Value)
	case TypeFileHash:
		ver = FileHashVersion
		v, err = CanonicalFileHash(s.Value)
	case TypeAccount:
		ver = AccountVersion
		v, err = CanonicalAccount(s.Value)
	case TypeURL:
		ver = URLVersion
		v, err = CanonicalURL(s.Value)
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrSelector, s.Type)
	}
	if err != nil {
		return nil, err
	}
	return []Key{{Tag: Tag(s.Type, ver, VariantCanonical), Value: v}}, nil
}

// Canonical returns the canonical value of s: the value of its
// representative key.
func (s Selector) Canonical() (string, error) {
	ks, err := s.Keys()
	if err != nil {
		return "", err
	}
	return ks[0].Value, nil
}

// dedupeKeys removes repeated keys, keeping the first of each.
func dedupeKeys(ks []Key) []Key {
	seen := make(map[Key]bool, len(ks))
	out := ks[:0]
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// sortedJoin sorts tokens and joins them with spaces.
func sortedJoin(toks []string) string {
	toks = append([]string(nil), toks...)
	sort.Strings(toks)
	return strings.Join(toks, " ")
}
