package psi

import (
	"crypto/sha512"
	"fmt"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// This file implements the RFC 9380 suite edwards25519_XMD:SHA-512_ELL2_RO_
// (§8.5): expand_message_xmd with SHA-512 (§5.3.1), hash_to_field with
// L = 48 (§5.2), the Elligator 2 map to curve25519 (§6.7.1) followed by the
// rational map to edwards25519 (§6.8.2, RFC 7748 §4.1), point addition and
// clearing of the cofactor 8. The bulk protocols use the Montgomery
// u-coordinate of the result as the input of X25519. The test vectors of
// RFC 9380 Appendix J.5.1 check every step.

// expandMessageXMD is RFC 9380 §5.3.1 expand_message_xmd with SHA-512
// (b_in_bytes 64, s_in_bytes 128), returning n bytes. The message is the
// concatenation of parts.
func expandMessageXMD(dst []byte, n int, msg ...[]byte) ([]byte, error) {
	const bInBytes, sInBytes = sha512.Size, sha512.BlockSize
	ell := (n + bInBytes - 1) / bInBytes
	if ell > 255 || n > 65535 || len(dst) > 255 || n <= 0 {
		return nil, fmt.Errorf("expand_message_xmd: %d bytes with a %d-byte tag", n, len(dst))
	}
	dstPrime := append(dst[:len(dst):len(dst)], byte(len(dst)))
	h := sha512.New()
	var zPad [sInBytes]byte
	h.Write(zPad[:])
	for _, m := range msg {
		h.Write(m)
	}
	h.Write([]byte{byte(n >> 8), byte(n), 0})
	h.Write(dstPrime)
	b0 := h.Sum(nil)

	out := make([]byte, 0, ell*bInBytes)
	prev := make([]byte, bInBytes) // b_0 XOR b_(i-1); b_0 XOR 0 for b_1
	copy(prev, b0)
	for i := 1; i <= ell; i++ {
		if i > 1 {
			bi := out[len(out)-bInBytes:]
			for j := range prev {
				prev[j] = b0[j] ^ bi[j]
			}
		}
		h.Reset()
		h.Write(prev)
		h.Write([]byte{byte(i)})
		h.Write(dstPrime)
		out = h.Sum(out)
	}
	return out[:n], nil
}

// Constants of the map, computed once.
var (
	// montJ is J = 486662, the Montgomery A of curve25519.
	montJ = feFromUint(486662)
	// edC1 is sqrt(-486664) with sgn0 = 0: the constant of the rational
	// map from curve25519 to edwards25519.
	edC1 *field.Element
	// ell2C is a constant c with c² = 2/m, where m is the root of -1 that
	// field.SqrtRatio multiplies a non-square by: when gx1 is not square,
	// SqrtRatio(gx1, 1) = r with r² = m·gx1, and u·c·r is a square root of
	// gx2 = 2·u²·gx1.
	ell2C *field.Element
)

func init() {
	one := new(field.Element).One()
	minus486664 := new(field.Element).Negate(feFromUint(486664))
	c1, sq := new(field.Element).SqrtRatio(minus486664, one)
	if sq != 1 {
		panic("psi: -486664 is not a square")
	}
	edC1 = c1 // SqrtRatio returns the non-negative root: sgn0 = 0
	r, sq := new(field.Element).SqrtRatio(feFromUint(2), one)
	if sq != 0 {
		panic("psi: 2 is a square")
	}
	// r² = 2m, so (2/r)² = 4/(2m) = 2/m.
	ell2C = new(field.Element).Multiply(feFromUint(2), new(field.Element).Invert(r))
}

// feFromUint returns x as a field element.
func feFromUint(x uint64) *field.Element {
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(x >> (8 * i))
	}
	e, err := new(field.Element).SetBytes(b[:])
	if err != nil {
		panic(err)
	}
	return e
}

// hashToField is RFC 9380 §5.2 hash_to_field for edwards25519 (m = 1,
// L = 48) with count 2.
func hashToField(msg, dst []byte) (u0, u1 *field.Element, err error) {
	const L = 48
	b, err := expandMessageXMD(dst, 2*L, msg)
	if err != nil {
		return nil, nil, err
	}
	return feFromBigEndian(b[:L]), feFromBigEndian(b[L:]), nil
}

// feFromBigEndian reduces a big-endian integer of at most 64 bytes modulo p.
func feFromBigEndian(b []byte) *field.Element {
	var wide [64]byte
	for i, c := range b {
		wide[len(b)-1-i] = c
	}
	e, err := new(field.Element).SetWideBytes(wide[:])
	if err != nil {
		panic(err)
	}
	return e
}

// mapToEdwards25519 is RFC 9380 map_to_curve_elligator2_edwards25519: the
// Elligator 2 map to curve25519 (§6.7.1, Z = 2), then the rational map to
// edwards25519. It keeps x as a fraction and takes one square root: gx2 =
// 2·u²·gx1, so when gx1 is not square, a root of gx2 follows from the
// SqrtRatio of gx1.
func mapToEdwards25519(u *field.Element) *edwards25519.Point {
	var (
		one, u2, d, n, t, gx1n, d3, x, y, r1 field.Element
	)
	one.One()
	u2.Square(u)
	d.Add(&one, t.Add(&u2, &u2)) // D = 1 + 2u²
	n.Negate(montJ)              // x1 = N/D with N = -J
	// gx1 = N(N² + J·N·D + D²)/D³
	var nn, jnd, dd field.Element
	nn.Square(&n)
	jnd.Multiply(t.Multiply(montJ, &n), &d)
	dd.Square(&d)
	gx1n.Add(&nn, &jnd)
	gx1n.Add(&gx1n, &dd)
	gx1n.Multiply(&gx1n, &n)
	d3.Multiply(&dd, &d)
	_, square := r1.SqrtRatio(&gx1n, &d3)

	// Square: x = x1, y = sqrt(gx1) with sgn0(y) = 1 (r1 is non-negative).
	var yNeg field.Element
	yNeg.Negate(&r1)
	// Not square: x = x2 = -x1 - J = (-N - J·D)/D, y = u·c·r1 with sgn0 = 0.
	var x2n, y2 field.Element
	x2n.Subtract(x2n.Negate(&n), t.Multiply(montJ, &d))
	y2.Multiply(u, ell2C)
	y2.Multiply(&y2, &r1)
	y2.Absolute(&y2)
	x.Select(&n, &x2n, square)
	y.Select(&yNeg, &y2, square)

	// (s, t) = (x/D, y) on curve25519; edwards25519 (v, w) =
	// (c1·s/t, (s-1)/(s+1)) = (c1·x/(D·y), (x-D)/(x+D)).
	var vn, vd, wn, wd, X, Y, Z, T field.Element
	vn.Multiply(edC1, &x)
	vd.Multiply(&d, &y)
	wn.Subtract(&x, &d)
	wd.Add(&x, &d)
	X.Multiply(&vn, &wd)
	Y.Multiply(&wn, &vd)
	Z.Multiply(&vd, &wd)
	T.Multiply(&vn, &wn)
	var zero field.Element
	if Z.Equal(&zero) == 1 {
		// t = 0 or s = -1: the rational map's exceptional cases map to the
		// identity (RFC 9380 §6.8.2).
		return edwards25519.NewIdentityPoint()
	}
	p, err := new(edwards25519.Point).SetExtendedCoordinates(&X, &Y, &Z, &T)
	if err != nil {
		panic("psi: Elligator 2 left the curve")
	}
	return p
}

// hashToEdwards25519 is RFC 9380 hash_to_curve for the suite
// edwards25519_XMD:SHA-512_ELL2_RO_ with domain-separation tag dst.
func hashToEdwards25519(msg, dst []byte) (*edwards25519.Point, error) {
	u0, u1, err := hashToField(msg, dst)
	if err != nil {
		return nil, err
	}
	q := new(edwards25519.Point).Add(mapToEdwards25519(u0), mapToEdwards25519(u1))
	return q.MultByCofactor(q), nil
}

// hashToX25519 hashes msg to edwards25519 and returns the u-coordinate of
// the point on curve25519: an input for X25519 in the prime-order subgroup.
func hashToX25519(msg, dst []byte) ([]byte, error) {
	p, err := hashToEdwards25519(msg, dst)
	if err != nil {
		return nil, err
	}
	return p.BytesMontgomery(), nil
}
