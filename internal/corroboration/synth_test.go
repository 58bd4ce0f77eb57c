package corroboration

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"detente"
)

// exchange is a synthetic exchange between originators with its ground
// truth: who originated what, what was relayed by whom, what was repeated.
type exchange struct {
	versions []*detente.ObjectVersion
	fields   []map[string]any
	// truth maps each canonical assertion to the origins (key text) that
	// originated an object asserting it.
	truth map[Assertion]map[string]bool
	// relays counts the relayed copies in versions; dups the versions
	// that repeat a value their originator already asserted.
	relays, dups int
}

// value is one thing in the world with several spellings of it.
type value struct {
	canon     Assertion
	spellings []func(r *rand.Rand) (typ string, fields map[string]any)
}

// genValue returns the i-th value of the synthetic world: IPv4, IPv6,
// domains, URLs, file hashes, e-mail addresses, wallets, phones, each
// with spellings that differ but canonicalise alike. Neighbouring values
// differ by little (1.2.3.4 and 1.2.3.40, a.example and a.example.org), so
// a matcher too loose would link them.
func genValue(i int) value {
	ind := func(p string) func(*rand.Rand) (string, map[string]any) {
		return func(*rand.Rand) (string, map[string]any) {
			return "indicator", map[string]any{"pattern_type": "stix", "pattern": p}
		}
	}
	sco := func(typ string, f map[string]any) func(*rand.Rand) (string, map[string]any) {
		return func(*rand.Rand) (string, map[string]any) { return typ, f }
	}
	switch i % 8 {
	case 0:
		a := fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)
		return value{Assertion{KindIPv4, a}, []func(*rand.Rand) (string, map[string]any){
			sco("ipv4-addr", map[string]any{"value": a}), ind("[ipv4-addr:value = '" + a + "']"),
			ind("[ipv4-addr:value = '" + a + "/32']"), ind("[ipv6-addr:value = '::ffff:" + a + "']")}}
	case 1:
		a := fmt.Sprintf("2001:db8::%x:%x", i/65536, i%65536)
		long := fmt.Sprintf("2001:0DB8:0000:0000:0000:0000:%04X:%04X", i/65536, i%65536)
		return value{Assertion{KindIPv6, netip.MustParseAddr(a).String()}, []func(*rand.Rand) (string, map[string]any){
			sco("ipv6-addr", map[string]any{"value": long}), ind("[ipv6-addr:value = '" + a + "']")}}
	case 2:
		d := fmt.Sprintf("host%d.example", i)
		return value{Assertion{KindDomain, d}, []func(*rand.Rand) (string, map[string]any){
			sco("domain-name", map[string]any{"value": strings.ToUpper(d)}), ind("[domain-name:value = '" + d + ".']")}}
	case 3:
		u := fmt.Sprintf("//drop%d.example/p/%d", i, i)
		return value{Assertion{KindURL, u}, []func(*rand.Rand) (string, map[string]any){
			sco("url", map[string]any{"value": fmt.Sprintf("HTTP://Drop%d.example:80/p/./%d", i, i)}),
			ind(fmt.Sprintf("[url:value = 'https://drop%d.example/p/%d#frag']", i, i))}}
	case 4:
		h := fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15)
		return value{Assertion{KindFileHash, "sha256:" + h}, []func(*rand.Rand) (string, map[string]any){
			sco("file", map[string]any{"hashes": map[string]any{"SHA-256": strings.ToUpper(h)}}),
			ind("[file:hashes.'SHA-256' = '" + h + "']"), ind("[file:hashes.sha256 = '" + strings.ToUpper(h) + "']")}}
	case 5:
		e := fmt.Sprintf("courier%d@mail.example", i)
		return value{Assertion{KindEmail, e}, []func(*rand.Rand) (string, map[string]any){
			sco("email-addr", map[string]any{"value": "Courier" + e[7:]}), ind("[email-addr:value = 'mailto:" + e + "']")}}
	case 6:
		w := fmt.Sprintf("0x%040x", i)
		return value{Assertion{KindWallet, "evm:" + w}, []func(*rand.Rand) (string, map[string]any){
			ind("[cryptocurrency-wallet:address = 'ethereum:0x" + strings.ToUpper(w[2:]) + "']"),
			sco("cryptocurrency-wallet", map[string]any{"currency": "eth", "address": w})}}
	default:
		p := fmt.Sprintf("+44%010d", i)
		return value{Assertion{KindPhone, p}, []func(*rand.Rand) (string, map[string]any){
			sco("x-phone-number", map[string]any{"value": "0044 " + p[3:6] + " " + p[6:]}),
			ind("[x-phone-number:value = '" + p + "']")}}
	}
}

// genExchange builds a synthetic exchange: origins originators; values
// values, each asserted by a random subset of them (half by one only);
// each assertion in a random spelling, some repeated in a second object or
// version by the same originator, and some relayed by another node (a
// relayed copy signed by the relay, its origin the originator).
func genExchange(seed uint64, origins, values int) *exchange {
	r := rand.New(rand.NewPCG(seed, seed^0xdeadbeef))
	keys := make([]detente.PublicKey, origins)
	for i := range keys {
		var seedBytes [ed25519.SeedSize]byte
		seedBytes[0], seedBytes[1] = byte(seed), byte(i)
		keys[i] = detente.PublicKey(ed25519.NewKeyFromSeed(seedBytes[:]).Public().(ed25519.PublicKey))
	}
	ex := &exchange{truth: map[Assertion]map[string]bool{}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seq := int64(0)
	put := func(id, typ string, f map[string]any, origin, signer int, modified time.Time) {
		seq++
		v := &detente.ObjectVersion{ID: id, Type: typ, Modified: modified, Created: t0, Seq: seq,
			Signer: keys[signer], Origin: keys[origin], Originator: fmt.Sprintf("o%d", origin)}
		if typ != "indicator" {
			v.Created = time.Time{} // an observable
		}
		ex.versions = append(ex.versions, v)
		ex.fields = append(ex.fields, f)
	}
	for i := range values {
		val := genValue(i)
		n := 1
		if r.IntN(2) == 0 {
			n = 2 + r.IntN(origins-1)
		}
		for _, o := range r.Perm(origins)[:n] {
			if ex.truth[val.canon] == nil {
				ex.truth[val.canon] = map[string]bool{}
			}
			ex.truth[val.canon][keys[o].String()] = true
			sp := val.spellings[r.IntN(len(val.spellings))]
			typ, f := sp(r)
			id := fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", typ, i, o)
			put(id, typ, f, o, o, t0)
			if r.IntN(4) == 0 { // a second version of the same object
				put(id, typ, f, o, o, t0.Add(time.Hour))
				ex.dups++
			}
			if r.IntN(4) == 0 { // another object with the same value, another spelling
				typ2, f2 := val.spellings[r.IntN(len(val.spellings))](r)
				put(fmt.Sprintf("%s--%08x-1111-4000-8000-%012x", typ2, i, o), typ2, f2, o, o, t0)
				ex.dups++
			}
			if r.IntN(3) == 0 { // relayed by another node
				relay := (o + 1 + r.IntN(origins-1)) % origins
				put(id, typ, f, o, relay, t0.Add(2*time.Hour))
				ex.relays++
			}
		}
	}
	return ex
}
