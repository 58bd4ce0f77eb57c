package corroboration

import (
	"net/netip"
	"strings"

	"detente/internal/psi"
	"detente/internal/stix"
)

// Kinds of assertion. Each kind has its own canonical form of the value, so
// that two spellings of one thing are one key and two things never are.
const (
	KindIPv4     = "ipv4"      // dotted quad, or a CIDR prefix with its host bits cleared
	KindIPv6     = "ipv6"      // RFC 5952 form, or a CIDR prefix likewise
	KindDomain   = "domain"    // lower case, without a trailing dot
	KindURL      = "url"       // the private-matching URL canonicaliser's form
	KindFileHash = "file-hash" // "algorithm:hex", e.g. "sha256:ab…"
	KindEmail    = "email"     // the private-matching e-mail canonicaliser's form
	KindWallet   = "wallet"    // "chain:address" canonicalised, else the address as written
	KindPhone    = "phone"     // E.164
	KindAccount  = "account"   // an account login, lower case
	KindName     = "name"      // a threat actor's, intrusion set's or identity's name, normalised
	// KindPattern prefixes the kind of a pattern comparison on any other
	// object path: "pattern:" and the path, the value as written.
	KindPattern = "pattern:"
)

// Assertion is one thing an object says: a value of a kind, in the kind's
// canonical form.
type Assertion struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// String returns "kind=value".
func (a Assertion) String() string { return a.Kind + "=" + a.Value }

// maxAssertions bounds what one object may assert: a pattern with
// thousands of values (a block list in one indicator) indexes its first
// ones only.
const maxAssertions = 256

// Extract returns what an object of type typ, whose top-level properties
// are fields, asserts: the values of an observable, the string values an
// indicator's STIX pattern compares for equality, the names and aliases of
// a threat actor, intrusion set or identity. Values that do not
// canonicalise (a malformed address) are left out: an assertion is linked
// only by its canonical form. The result has no duplicates.
func Extract(typ string, fields map[string]any) []Assertion {
	var out []Assertion
	add := func(kind, value string) {
		if a, ok := canonical(kind, value); ok && len(out) < maxAssertions {
			for _, b := range out {
				if b == a {
					return
				}
			}
			out = append(out, a)
		}
	}
	str := func(k string) string { s, _ := fields[k].(string); return s }
	switch typ {
	case "ipv4-addr":
		add(KindIPv4, str("value"))
	case "ipv6-addr":
		add(KindIPv6, str("value"))
	case "domain-name":
		add(KindDomain, str("value"))
	case "url":
		add(KindURL, str("value"))
	case "email-addr":
		add(KindEmail, str("value"))
	case "file", "artifact", "x509-certificate":
		if hs, ok := fields["hashes"].(map[string]any); ok {
			for alg, h := range hs {
				if s, ok := h.(string); ok {
					add(KindFileHash, alg+":"+s)
				}
			}
		}
	case "user-account":
		add(KindAccount, str("account_login"))
	case "cryptocurrency-wallet", "x-cryptocurrency-wallet", "x-crypto-wallet":
		add(KindWallet, walletValue(str("currency")+str("chain"), str("address")))
	case "telephone-number", "x-phone-number", "x-telephone-number":
		add(KindPhone, str("value")+str("number"))
	case "indicator":
		if pt := str("pattern_type"); pt == "stix" || pt == "" {
			cs, err := stix.PatternComparisons(str("pattern"))
			if err != nil {
				break
			}
			for _, c := range cs {
				kind, value := patternKind(c)
				add(kind, value)
			}
		}
	case "threat-actor", "intrusion-set", "identity", "campaign":
		if typ == "campaign" {
			break
		}
		add(KindName, str("name"))
		if as, ok := fields["aliases"].([]any); ok {
			for _, a := range as {
				if s, ok := a.(string); ok {
					add(KindName, s)
				}
			}
		}
	}
	return out
}

// patternKind maps a pattern comparison to the kind of assertion it makes.
func patternKind(c stix.Comparison) (kind, value string) {
	typ, prop, _ := strings.Cut(c.Path, ":")
	switch typ + ":" + prop {
	case "ipv4-addr:value":
		return KindIPv4, c.Value
	case "ipv6-addr:value":
		return KindIPv6, c.Value
	case "domain-name:value":
		return KindDomain, c.Value
	case "url:value":
		return KindURL, c.Value
	case "email-addr:value", "email-message:from_ref.value", "email-message:sender_ref.value":
		return KindEmail, c.Value
	case "user-account:account_login":
		return KindAccount, c.Value
	case "cryptocurrency-wallet:address", "x-cryptocurrency-wallet:address", "x-crypto-wallet:address":
		return KindWallet, c.Value
	case "telephone-number:value", "x-phone-number:value", "x-telephone-number:value":
		return KindPhone, c.Value
	}
	if alg, ok := strings.CutPrefix(prop, "hashes."); ok && (typ == "file" || typ == "artifact" || typ == "x509-certificate") {
		return KindFileHash, strings.Trim(alg, "'") + ":" + c.Value
	}
	return KindPattern + c.Path, c.Value
}

// walletValue joins a chain and an address as the wallet canonicaliser
// reads them; an address without a chain stays alone.
func walletValue(chain, addr string) string {
	if chain == "" {
		return addr
	}
	return chain + ":" + addr
}

// canonical returns the assertion of value as kind in canonical form, and
// false when value is empty or is not a value of the kind.
func canonical(kind, value string) (Assertion, bool) {
	value = strings.TrimSpace(value)
	if value == "" || len(value) > 2048 {
		return Assertion{}, false
	}
	var err error
	switch kind {
	case KindIPv4, KindIPv6:
		kind, value, err = canonicalIP(value)
	case KindDomain:
		value = strings.TrimSuffix(strings.ToLower(value), ".")
	case KindURL:
		value, err = psi.CanonicalURL(value)
	case KindFileHash:
		value, err = psi.CanonicalFileHash(value)
	case KindEmail:
		value, err = psi.CanonicalEmail(value)
	case KindPhone:
		value, err = psi.CanonicalPhone(value)
	case KindWallet:
		if strings.Contains(value, ":") {
			value, err = psi.CanonicalWallet(value)
		}
	case KindAccount:
		value = strings.ToLower(value)
	case KindName:
		value = NormalName(value)
	}
	if err != nil || value == "" {
		return Assertion{}, false
	}
	return Assertion{Kind: kind, Value: value}, true
}

// canonicalIP canonicalises an address or CIDR prefix and returns its
// kind: a prefix with its host bits cleared, a /32 (/128) as the bare
// address, an IPv4-mapped IPv6 address as the IPv4 address it is (so that
// it links with the same address written as IPv4).
func canonicalIP(value string) (kind, canon string, err error) {
	var p netip.Prefix
	if strings.Contains(value, "/") {
		if p, err = netip.ParsePrefix(value); err != nil {
			return "", "", err
		}
	} else {
		a, err := netip.ParseAddr(value)
		if err != nil {
			return "", "", err
		}
		p = netip.PrefixFrom(a.WithZone(""), a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	kind = KindIPv6
	if p.Addr().Is4() {
		kind = KindIPv4
	}
	p = p.Masked()
	if p.Bits() == p.Addr().BitLen() {
		return kind, p.Addr().String(), nil
	}
	return kind, p.String(), nil
}

// NormalName is the exact form of a name the index keys on: lower case,
// runs of spaces and punctuation folded to one space. Spellings beyond
// that (scripts, transliterations, particles) are the name matcher's work
// (Index.Names).
func NormalName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '\t' || r == '\n' || r == '-' || r == '_' || r == '.' || r == ',' || r == '\'' || r == '"' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
