package psi

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// rfc9380Messages are the messages of RFC 9380 Appendix J.
var rfc9380Messages = []string{
	"",
	"abc",
	"abcdef0123456789",
	"q128_" + strings.Repeat("q", 128),
	"a512_" + strings.Repeat("a", 512),
}

// TestHashToEdwards25519Vectors checks hash_to_field, map_to_curve and
// hash_to_curve against RFC 9380 Appendix J.5.1
// (edwards25519_XMD:SHA-512_ELL2_RO_).
func TestHashToEdwards25519Vectors(t *testing.T) {
	dst := []byte("QUUX-V01-CS02-with-edwards25519_XMD:SHA-512_ELL2_RO_")
	vectors := []struct{ px, py, u0, u1, q0x, q0y, q1x, q1y string }{
		{"3c3da6925a3c3c268448dcabb47ccde5439559d9599646a8260e47b1e4822fc6", "09a6c8561a0b22bef63124c588ce4c62ea83a3c899763af26d795302e115dc21",
			"03fef4813c8cb5f98c6eef88fae174e6e7d5380de2b007799ac7ee712d203f3a", "780bdddd137290c8f589dc687795aafae35f6b674668d92bf92ae793e6a60c75",
			"6549118f65bb617b9e8b438decedc73c496eaed496806d3b2eb9ee60b88e09a7", "7315bcc8cf47ed68048d22bad602c6680b3382a08c7c5d3f439a973fb4cf9feb",
			"31dcfc5c58aa1bee6e760bf78cbe71c2bead8cebb2e397ece0f37a3da19c9ed2", "7876d81474828d8a5928b50c82420b2bd0898d819e9550c5c82c39fc9bafa196"},
		{"608040b42285cc0d72cbb3985c6b04c935370c7361f4b7fbdb1ae7f8c1a8ecad", "1a8395b88338f22e435bbd301183e7f20a5f9de643f11882fb237f88268a5531",
			"5081955c4141e4e7d02ec0e36becffaa1934df4d7a270f70679c78f9bd57c227", "005bdc17a9b378b6272573a31b04361f21c371b256252ae5463119aa0b925b76",
			"5c1525bd5d4b4e034512949d187c39d48e8cd84242aa4758956e4adc7d445573", "2bf426cf7122d1a90abc7f2d108befc2ef415ce8c2d09695a7407240faa01f29",
			"37b03bba828860c6b459ddad476c83e0f9285787a269df2156219b7e5c86210c", "285ebf5412f84d0ad7bb4e136729a9ffd2195d5b8e73c0dc85110ce06958f432"},
		{"6d7fabf47a2dc03fe7d47f7dddd21082c5fb8f86743cd020f3fb147d57161472", "53060a3d140e7fbcda641ed3cf42c88a75411e648a1add71217f70ea8ec561a6",
			"285ebaa3be701b79871bcb6e225ecc9b0b32dff2d60424b4c50642636a78d5b3", "2e253e6a0ef658fedb8e4bd6a62d1544fd6547922acb3598ec6b369760b81b31",
			"3ac463dd7fddb773b069c5b2b01c0f6b340638f54ee3bd92d452fcec3015b52d", "7b03ba1e8db9ec0b390d5c90168a6a0b7107156c994c674b61fe696cbeb46baf",
			"0757e7e904f5e86d2d2f4acf7e01c63827fde2d363985aa7432106f1b3a444ec", "50026c96930a24961e9d86aa91ea1465398ff8e42015e2ec1fa397d416f6a1c0"},
		{"5fb0b92acedd16f3bcb0ef83f5c7b7a9466b5f1e0d8d217421878ea3686f8524", "2eca15e355fcfa39d2982f67ddb0eea138e2994f5956ed37b7f72eea5e89d2f7",
			"4fedd25431c41f2a606952e2945ef5e3ac905a42cf64b8b4d4a83c533bf321af", "02f20716a5801b843987097a8276b6d869295b2e11253751ca72c109d37485a9",
			"703e69787ea7524541933edf41f94010a201cc841c1cce60205ec38513458872", "32bb192c4f89106466f0874f5fd56a0d6b6f101cb714777983336c159a9bec75",
			"0c9077c5c31720ed9413abe59bf49ce768506128d810cb882435aa90f713ef6b", "7d5aec5210db638c53f050597964b74d6dda4be5b54fa73041bf909ccb3826cb"},
		{"0efcfde5898a839b00997fbe40d2ebe950bc81181afbd5cd6b9618aa336c1e8c", "6dc2fc04f266c5c27f236a80b14f92ccd051ef1ff027f26a07f8c0f327d8f995",
			"6e34e04a5106e9bd59f64aba49601bf09d23b27f7b594e56d5de06df4a4ea33b", "1c1c2cb59fc053f44b86c5d5eb8c1954b64976d0302d3729ff66e84068f5fd96",
			"21091b2e3f9258c7dfa075e7ae513325a94a3d8a28e1b1cb3b5b6f5d65675592", "41a33d324c89f570e0682cdf7bdb78852295daf8084c669f2cc9692896ab5026",
			"4c07ec48c373e39a23bd7954f9e9b66eeab9e5ee1279b867b3d5315aa815454f", "67ccac7c3cb8d1381242d8d6585c57eabaddbb5dca5243a68a8aeb5477d94b3a"},
	}
	for i, v := range vectors {
		msg := []byte(rfc9380Messages[i])
		u0, u1, err := hashToField(msg, dst)
		if err != nil {
			t.Fatal(err)
		}
		checkFE(t, i, "u[0]", u0, v.u0)
		checkFE(t, i, "u[1]", u1, v.u1)
		checkPoint(t, i, "Q0", mapToEdwards25519(u0), v.q0x, v.q0y)
		checkPoint(t, i, "Q1", mapToEdwards25519(u1), v.q1x, v.q1y)
		p, err := hashToEdwards25519(msg, dst)
		if err != nil {
			t.Fatal(err)
		}
		checkPoint(t, i, "P", p, v.px, v.py)
	}
}

// checkFE compares e with a big-endian hex field element.
func checkFE(t *testing.T, i int, name string, e *field.Element, want string) {
	t.Helper()
	w := mustHex(t, want)
	got := e.Bytes()
	for l, r := 0, len(got)-1; l < r; l, r = l+1, r-1 {
		got[l], got[r] = got[r], got[l]
	}
	if !bytes.Equal(got, w) {
		t.Errorf("vector %d: %s = %x, want %s", i, name, got, want)
	}
}

// checkPoint compares p's affine coordinates with big-endian hex values.
func checkPoint(t *testing.T, i int, name string, p *edwards25519.Point, wantX, wantY string) {
	t.Helper()
	X, Y, Z, _ := p.ExtendedCoordinates()
	zInv := new(field.Element).Invert(Z)
	checkFE(t, i, name+".x", new(field.Element).Multiply(X, zInv), wantX)
	checkFE(t, i, name+".y", new(field.Element).Multiply(Y, zInv), wantY)
}

// TestExpandMessageXMDVectors checks expand_message_xmd against RFC 9380
// Appendix K.3 (SHA-512).
func TestExpandMessageXMDVectors(t *testing.T) {
	dst := []byte("QUUX-V01-CS02-with-expander-SHA512-256")
	for _, v := range []struct {
		msg  string
		n    int
		want string
	}{
		{"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"},
		{"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"},
	} {
		got, err := expandMessageXMD(dst, v.n, []byte(v.msg))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != v.want {
			t.Errorf("expand_message_xmd(%q, %d) = %x, want %s", v.msg, v.n, got, v.want)
		}
	}
	if _, err := expandMessageXMD(dst, 256*64); err == nil {
		t.Error("expand_message_xmd accepted ell > 255")
	}
}

// TestHashToX25519Commutes checks what the bulk protocols rely on: X25519
// with two keys commutes on hashed inputs, and hashed inputs are in the
// prime-order subgroup (multiplying by the group order gives the identity).
func TestHashToX25519Commutes(t *testing.T) {
	a, _ := ecdh.X25519().GenerateKey(rand.Reader)
	b, _ := ecdh.X25519().GenerateKey(rand.Reader)
	for i := range 20 {
		msg := []byte{byte(i), 'x'}
		u, err := hashToX25519(msg, []byte("test"))
		if err != nil {
			t.Fatal(err)
		}
		ua := mustX25519(t, a, u)
		ub := mustX25519(t, b, u)
		if !bytes.Equal(mustX25519(t, b, ua), mustX25519(t, a, ub)) {
			t.Fatalf("input %d: X25519 does not commute", i)
		}
		p, _ := hashToEdwards25519(msg, []byte("test"))
		// ℓ·P = 0: multiply by ℓ-1 and add P.
		lMinus1, _ := edwards25519.NewScalar().SetCanonicalBytes(mustHex(t, "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"))
		q := new(edwards25519.Point).ScalarMult(lMinus1, p)
		if q.Add(q, p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("input %d: hash not in the prime-order subgroup", i)
		}
	}
}

func mustX25519(t *testing.T, k *ecdh.PrivateKey, u []byte) []byte {
	t.Helper()
	out, err := x25519(k, u)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
