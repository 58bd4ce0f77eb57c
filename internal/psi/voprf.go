package psi

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/gtank/ristretto255"
)

// This file implements the verifiable mode of RFC 9497 (VOPRF) with the
// ciphersuite ristretto255-SHA512 (§4.1) on github.com/gtank/ristretto255:
//
//   - §3.2.1 DeriveKeyPair: voprfSuite.deriveKey;
//   - §3.3.2 Blind: voprfSuite.blind, with a fresh crypto/rand blind per
//     input (or the given ones, for the RFC's test vectors);
//   - §3.3.2 BlindEvaluate: voprfKey.blindEvaluate, with the batched DLEQ
//     proof of §2.2.1 GenerateProof and ComputeCompositesFast;
//   - §3.3.2 Finalize: voprfBlinds.finalize, which runs §2.2.2 VerifyProof
//     with ComputeComposites, then unblinds and hashes;
//   - §3.3.2 Evaluate: voprfKey.evaluate, the server's unblinded evaluation
//     (which encodes watchlists).
//
// The composites M = Σ dᵢ·Cᵢ and Z = Σ dᵢ·Dᵢ are functions of public values
// only, so both sides compute them with variable-time multi-scalar
// multiplications; everything that involves the private key, a blind or
// the proof nonce is constant-time. Elements and scalars from the wire are
// decoded canonically and the identity is refused (§4.1
// DeserializeElement, DeserializeScalar).

// RFC 9497 modes (§3.1).
const (
	modeOPRF  byte = 0x00
	modeVOPRF byte = 0x01
)

// voprfIdentifier is the ciphersuite identifier of RFC 9497 §4.1.
const voprfIdentifier = "ristretto255-SHA512"

// voprfScalarSize is the size of a serialized ristretto255 scalar (Ns).
const voprfScalarSize = 32

// voprfProofSize is the size of a serialized DLEQ proof: c and s.
const voprfProofSize = 2 * voprfScalarSize

// voprfSuite holds the domain-separation tags of one mode of
// ristretto255-SHA512, all derived from its context string (§3.1).
type voprfSuite struct {
	dstHashToGroup  []byte // "HashToGroup-" || contextString
	dstHashToScalar []byte // "HashToScalar-" || contextString
	dstDeriveKey    []byte // "DeriveKeyPair" || contextString
	dstSeed         []byte // "Seed-" || contextString
}

// newVOPRFSuite returns the suite of mode.
func newVOPRFSuite(mode byte) *voprfSuite {
	ctx := "OPRFV1-" + string([]byte{mode}) + "-" + voprfIdentifier
	return &voprfSuite{
		dstHashToGroup:  []byte("HashToGroup-" + ctx),
		dstHashToScalar: []byte("HashToScalar-" + ctx),
		dstDeriveKey:    []byte("DeriveKeyPair" + ctx),
		dstSeed:         []byte("Seed-" + ctx),
	}
}

// voprf is the suite of the query protocol: VOPRF mode.
var voprf = newVOPRFSuite(modeVOPRF)

// errVOPRF is wrapped by the failures of this file that are not a peer's
// fault.
var errVOPRF = errors.New("voprf")

// xmd64 is expand_message_xmd with SHA-512 (h2c.go) for 64 output bytes;
// msg is the concatenation of parts. The tags of this file are all
// shorter than 256 bytes, so it cannot fail.
func xmd64(out *[64]byte, dst []byte, msg ...[]byte) {
	b, err := expandMessageXMD(dst, 64, msg...)
	if err != nil {
		panic(err)
	}
	copy(out[:], b)
}

// hashToGroup is §4.1 HashToGroup: expand_message_xmd to 64 bytes, then
// the ristretto255 one-way map (RFC 9496 §4.3.4). msg is the
// concatenation of parts.
func (s *voprfSuite) hashToGroup(parts ...[]byte) *ristretto255.Element {
	var u [64]byte
	xmd64(&u, s.dstHashToGroup, parts...)
	return ristretto255.NewElement().FromUniformBytes(u[:])
}

// hashToScalar is §4.1 HashToScalar: expand_message_xmd to 64 bytes,
// read as a little-endian integer and reduced modulo the group order.
// msg is the concatenation of parts.
func (s *voprfSuite) hashToScalar(parts ...[]byte) *ristretto255.Scalar {
	var u [64]byte
	xmd64(&u, s.dstHashToScalar, parts...)
	return ristretto255.NewScalar().FromUniformBytes(u[:])
}

// voprfLen returns I2OSP(len(b), 2); b is shorter than 2^16.
func voprfLen(b []byte) []byte {
	return binary.BigEndian.AppendUint16(nil, uint16(len(b)))
}

// voprfAppendPrefixed appends I2OSP(len(b), 2) || b to dst.
func voprfAppendPrefixed(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b)))
	return append(dst, b...)
}

// r255Identity is the identity element, for comparisons.
var r255Identity = ristretto255.NewElement()

// isR255Identity reports whether e is the identity element.
func isR255Identity(e *ristretto255.Element) bool { return e.Equal(r255Identity) == 1 }

// r255Zero is the scalar 0, for comparisons.
var r255Zero = ristretto255.NewScalar()

// isR255Zero reports whether s is zero.
func isR255Zero(s *ristretto255.Scalar) bool { return s.Equal(r255Zero) == 1 }

// voprfPublic is a server's public key: the element and its encoding.
type voprfPublic struct {
	e   *ristretto255.Element
	enc []byte
}

// parseVOPRFPublic decodes a public key, refusing non-canonical encodings
// and the identity.
func parseVOPRFPublic(b []byte) (*voprfPublic, error) {
	e := ristretto255.NewElement()
	if err := e.Decode(b); err != nil || isR255Identity(e) {
		return nil, fmt.Errorf("%w: public key is not a valid element", ErrMessage)
	}
	return &voprfPublic{e: e, enc: e.Encode(nil)}, nil
}

// voprfKey is a server's key pair.
type voprfKey struct {
	suite *voprfSuite
	sk    *ristretto255.Scalar
	pub   voprfPublic
}

// deriveKey is §3.2.1 DeriveKeyPair: skS = HashToScalar(seed ||
// I2OSP(len(info), 2) || info || I2OSP(counter, 1)) with the DeriveKeyPair
// tag, for the first counter that gives a non-zero scalar.
func (s *voprfSuite) deriveKey(seed, info []byte) (*voprfKey, error) {
	if len(info) > 0xffff {
		return nil, fmt.Errorf("%w: derive key: info of %d bytes", errVOPRF, len(info))
	}
	for counter := range 256 {
		var u [64]byte
		xmd64(&u, s.dstDeriveKey, seed, voprfLen(info), info, []byte{byte(counter)})
		sk := ristretto255.NewScalar().FromUniformBytes(u[:])
		if isR255Zero(sk) {
			continue
		}
		pk := ristretto255.NewElement().ScalarBaseMult(sk)
		return &voprfKey{suite: s, sk: sk, pub: voprfPublic{e: pk, enc: pk.Encode(nil)}}, nil
	}
	return nil, fmt.Errorf("%w: derive key: no non-zero scalar", errVOPRF)
}

// randomR255Scalars returns n uniformly random non-zero scalars from
// crypto/rand (§4.1 RandomScalar: 64 random bytes reduced modulo the
// order).
func randomR255Scalars(n int) []*ristretto255.Scalar {
	out := make([]*ristretto255.Scalar, n)
	buf := make([]byte, 64*n)
	rand.Read(buf) // crypto/rand.Read does not fail
	for i := range out {
		out[i] = ristretto255.NewScalar().FromUniformBytes(buf[64*i : 64*i+64])
		for isR255Zero(out[i]) { // probability 2^-252
			var b [64]byte
			rand.Read(b[:])
			out[i].FromUniformBytes(b[:])
		}
	}
	return out
}

// voprfBatch is a batch of elements with their concatenated canonical
// encodings, ElementSize bytes each.
type voprfBatch struct {
	elems []*ristretto255.Element
	enc   []byte
}

// len returns the number of elements.
func (b *voprfBatch) len() int { return len(b.elems) }

// encodedAt returns the encoding of element i.
func (b *voprfBatch) encodedAt(i int) []byte { return b.enc[i*ElementSize : (i+1)*ElementSize] }

// decodeVOPRFBatch decodes concatenated elements from the wire, refusing
// non-canonical encodings and the identity, and naming the first bad one.
func decodeVOPRFBatch(b []byte) (*voprfBatch, error) {
	if len(b)%ElementSize != 0 {
		return nil, fmt.Errorf("%w: elements not a multiple of %d bytes", ErrMessage, ElementSize)
	}
	n := len(b) / ElementSize
	out := &voprfBatch{elems: make([]*ristretto255.Element, n), enc: b}
	err := parallel(n, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			e := ristretto255.NewElement()
			if err := e.Decode(out.encodedAt(i)); err != nil {
				return fmt.Errorf("%w: element %d does not decode", ErrMessage, i)
			}
			if isR255Identity(e) {
				return fmt.Errorf("%w: element %d is the identity", ErrMessage, i)
			}
			out.elems[i] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// encodeVOPRFBatch encodes es.
func encodeVOPRFBatch(es []*ristretto255.Element) *voprfBatch {
	out := &voprfBatch{elems: es, enc: make([]byte, len(es)*ElementSize)}
	parallel(len(es), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			es[i].Encode(out.enc[i*ElementSize : i*ElementSize])
		}
		return nil
	})
	return out
}

// r255VarTimeMSM returns Σ s[i]·p[i], in variable time: for public values
// only. The sum is split over GOMAXPROCS goroutines.
func r255VarTimeMSM(s []*ristretto255.Scalar, p []*ristretto255.Element) *ristretto255.Element {
	var mu sync.Mutex
	sum := ristretto255.NewElement()
	parallel(len(s), func(lo, hi int) error {
		part := ristretto255.NewElement().VarTimeMultiScalarMult(s[lo:hi], p[lo:hi])
		mu.Lock()
		sum.Add(sum, part)
		mu.Unlock()
		return nil
	})
	return sum
}

// compositeWeights returns the dᵢ of §2.2.1 ComputeComposites for the
// public key encoding pk and the batches c and d: seed =
// Hash(I2OSP(len(Bm), 2) || Bm || I2OSP(len(seedDST), 2) || seedDST), and
// dᵢ = HashToScalar(I2OSP(len(seed), 2) || seed || I2OSP(i, 2) ||
// I2OSP(len(Ci), 2) || Ci || I2OSP(len(Di), 2) || Di || "Composite").
// The index takes two bytes: batches hold at most 2^16 elements
// (MaxQueryElements, checked by the callers).
func (s *voprfSuite) compositeWeights(pk []byte, c, d *voprfBatch) []*ristretto255.Scalar {
	h := sha512.New()
	h.Write(voprfLen(pk))
	h.Write(pk)
	h.Write(voprfLen(s.dstSeed))
	h.Write(s.dstSeed)
	seed := h.Sum(nil)
	prefix := voprfAppendPrefixed(nil, seed)
	out := make([]*ristretto255.Scalar, c.len())
	parallel(len(out), func(lo, hi int) error {
		var t []byte
		for i := lo; i < hi; i++ {
			t = binary.BigEndian.AppendUint16(t[:0], uint16(i))
			t = voprfAppendPrefixed(t, c.encodedAt(i))
			t = voprfAppendPrefixed(t, d.encodedAt(i))
			t = append(t, "Composite"...)
			out[i] = s.hashToScalar(prefix, t)
		}
		return nil
	})
	return out
}

// challenge is the challenge of §2.2.1 GenerateProof and §2.2.2
// VerifyProof: HashToScalar over the length-prefixed encodings of B, M,
// Z, t2 and t3, then "Challenge".
func (s *voprfSuite) challenge(pk []byte, m, z, t2, t3 *ristretto255.Element) *ristretto255.Scalar {
	t := make([]byte, 0, 5*(2+ElementSize)+len("Challenge"))
	t = voprfAppendPrefixed(t, pk)
	for _, e := range []*ristretto255.Element{m, z, t2, t3} {
		t = binary.BigEndian.AppendUint16(t, ElementSize)
		t = e.Encode(t)
	}
	t = append(t, "Challenge"...)
	return s.hashToScalar(t)
}

// generateProof is §2.2.1 GenerateProof with ComputeCompositesFast, for
// k = skS, A the generator, B = pkS, C the blinded and D the evaluated
// elements; r is the proof nonce. It returns c || s.
func (k *voprfKey) generateProof(c, d *voprfBatch, r *ristretto255.Scalar) []byte {
	s := k.suite
	w := s.compositeWeights(k.pub.enc, c, d)
	m := r255VarTimeMSM(w, c.elems)                    // M is public
	z := ristretto255.NewElement().ScalarMult(k.sk, m) // Z = k·M
	t2 := ristretto255.NewElement().ScalarBaseMult(r)
	t3 := ristretto255.NewElement().ScalarMult(r, m)
	ch := s.challenge(k.pub.enc, m, z, t2, t3)
	sc := ristretto255.NewScalar().Multiply(ch, k.sk)
	sc.Subtract(r, sc) // s = r - c·k
	proof := ch.Encode(make([]byte, 0, voprfProofSize))
	return sc.Encode(proof)
}

// verifyProof is §2.2.2 VerifyProof with ComputeComposites: it checks that
// log_G(pk) = log_Cᵢ(Dᵢ) for all i, given c || s. It returns an error
// wrapping ErrMessage for a malformed proof and ErrProof for a proof that
// does not verify.
func (s *voprfSuite) verifyProof(pk *voprfPublic, c, d *voprfBatch, proof []byte) error {
	if len(proof) != voprfProofSize {
		return fmt.Errorf("%w: proof of %d bytes", ErrMessage, len(proof))
	}
	if c.len() != d.len() || c.len() == 0 || c.len() > MaxQueryElements {
		return fmt.Errorf("%w: %d evaluations for %d elements", ErrMessage, d.len(), c.len())
	}
	ch, sc := ristretto255.NewScalar(), ristretto255.NewScalar()
	if ch.Decode(proof[:voprfScalarSize]) != nil || sc.Decode(proof[voprfScalarSize:]) != nil {
		return fmt.Errorf("%w: proof scalar not canonical", ErrMessage)
	}
	w := s.compositeWeights(pk.enc, c, d)
	var m, z *ristretto255.Element
	var wg sync.WaitGroup
	wg.Go(func() { m = r255VarTimeMSM(w, c.elems) })
	z = r255VarTimeMSM(w, d.elems)
	wg.Wait()
	t2 := ristretto255.NewElement().VarTimeDoubleScalarBaseMult(ch, pk.e, sc) // s·G + c·pk
	t3 := ristretto255.NewElement().VarTimeMultiScalarMult(
		[]*ristretto255.Scalar{sc, ch}, []*ristretto255.Element{m, z}) // s·M + c·Z
	if s.challenge(pk.enc, m, z, t2, t3).Equal(ch) != 1 {
		return ErrProof
	}
	return nil
}

// blindEvaluate is §3.3.2 BlindEvaluate for a batch: it multiplies each
// blinded element by the private key and proves it with one batched DLEQ
// proof under a fresh nonce from crypto/rand. It returns the evaluated
// elements and the proof.
func (k *voprfKey) blindEvaluate(blinded *voprfBatch) (*voprfBatch, []byte) {
	return k.blindEvaluateWithNonce(blinded, randomR255Scalars(1)[0])
}

// blindEvaluateWithNonce is blindEvaluate with the proof nonce r, for the
// RFC's test vectors.
func (k *voprfKey) blindEvaluateWithNonce(blinded *voprfBatch, r *ristretto255.Scalar) (*voprfBatch, []byte) {
	ev := k.evaluateBatch(blinded)
	return ev, k.generateProof(blinded, ev, r)
}

// evaluateBatch multiplies each element of blinded by the private key
// (§3.3.1 BlindEvaluate, without proof).
func (k *voprfKey) evaluateBatch(blinded *voprfBatch) *voprfBatch {
	out := make([]*ristretto255.Element, blinded.len())
	parallel(len(out), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			out[i] = ristretto255.NewElement().ScalarMult(k.sk, blinded.elems[i])
		}
		return nil
	})
	return encodeVOPRFBatch(out)
}

// evaluate is §3.3.2 Evaluate: the output for input computed with the
// private key, equal to what a client finalizes for it.
func (k *voprfKey) evaluate(input []byte) ([]byte, error) {
	p := k.suite.hashToGroup(input)
	if isR255Identity(p) {
		return nil, fmt.Errorf("%w: input hashes to the identity", errVOPRF)
	}
	var enc [ElementSize]byte
	return voprfFinalizeHash(input, ristretto255.NewElement().ScalarMult(k.sk, p).Encode(enc[:0])), nil
}

// voprfFinalizeHash is the output of §3.3.1 Finalize:
// Hash(I2OSP(len(input), 2) || input || I2OSP(len(unblindedElement), 2) ||
// unblindedElement || "Finalize").
func voprfFinalizeHash(input, unblinded []byte) []byte {
	h := sha512.New()
	h.Write(voprfLen(input))
	h.Write(input)
	h.Write(voprfLen(unblinded))
	h.Write(unblinded)
	h.Write([]byte("Finalize"))
	return h.Sum(nil)
}

// voprfBlinds is a client's state between Blind and Finalize.
type voprfBlinds struct {
	suite   *voprfSuite
	inputs  [][]byte
	blinds  []*ristretto255.Scalar
	blinded *voprfBatch
}

// blind is §3.3.2 Blind for a batch: blindedElement = blind ·
// HashToGroup(input), with a fresh non-zero blind from crypto/rand for
// each input if blinds is nil. It refuses an input that hashes to the
// identity (InvalidInputError).
func (s *voprfSuite) blind(inputs [][]byte, blinds []*ristretto255.Scalar) (*voprfBlinds, error) {
	if blinds == nil {
		blinds = randomR255Scalars(len(inputs))
	}
	if len(blinds) != len(inputs) {
		return nil, fmt.Errorf("%w: %d blinds for %d inputs", errVOPRF, len(blinds), len(inputs))
	}
	out := make([]*ristretto255.Element, len(inputs))
	err := parallel(len(inputs), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			p := s.hashToGroup(inputs[i])
			if isR255Identity(p) {
				return fmt.Errorf("%w: input %d hashes to the identity", errVOPRF, i)
			}
			out[i] = p.ScalarMult(blinds[i], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &voprfBlinds{suite: s, inputs: inputs, blinds: blinds, blinded: encodeVOPRFBatch(out)}, nil
}

// finalize is §3.3.2 Finalize for a batch: it verifies the proof of the
// evaluated elements under pk (an error wrapping ErrProof if it fails),
// then returns the output of each input.
func (b *voprfBlinds) finalize(pk *voprfPublic, evaluated *voprfBatch, proof []byte) ([][]byte, error) {
	if err := b.suite.verifyProof(pk, b.blinded, evaluated, proof); err != nil {
		return nil, err
	}
	return b.unblind(evaluated), nil
}

// unblind returns Finalize's output for each input: the hash of the input
// and blind⁻¹ · evaluatedElement. The inverses share one inversion
// (Montgomery's trick).
func (b *voprfBlinds) unblind(evaluated *voprfBatch) [][]byte {
	inv := invertR255Scalars(b.blinds)
	out := make([][]byte, len(inv))
	parallel(len(out), func(lo, hi int) error {
		var enc [ElementSize]byte
		n := ristretto255.NewElement()
		for i := lo; i < hi; i++ {
			n.ScalarMult(inv[i], evaluated.elems[i])
			out[i] = voprfFinalizeHash(b.inputs[i], n.Encode(enc[:0]))
		}
		return nil
	})
	return out
}

// invertR255Scalars returns the inverses of non-zero scalars with one
// inversion and 3(n-1) multiplications, all constant-time.
func invertR255Scalars(xs []*ristretto255.Scalar) []*ristretto255.Scalar {
	n := len(xs)
	if n == 0 {
		return nil
	}
	// prefix[i] = x₀·…·xᵢ
	prefix := make([]*ristretto255.Scalar, n)
	prefix[0] = new(ristretto255.Scalar)
	*prefix[0] = *xs[0]
	for i := 1; i < n; i++ {
		prefix[i] = ristretto255.NewScalar().Multiply(prefix[i-1], xs[i])
	}
	acc := ristretto255.NewScalar().Invert(prefix[n-1]) // (x₀·…·xᵢ)⁻¹, i from n-1 down
	out := make([]*ristretto255.Scalar, n)
	for i := n - 1; i > 0; i-- {
		out[i] = ristretto255.NewScalar().Multiply(acc, prefix[i-1])
		acc.Multiply(acc, xs[i])
	}
	out[0] = acc
	return out
}
