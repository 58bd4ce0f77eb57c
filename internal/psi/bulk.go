package psi

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"filippo.io/edwards25519/field"
)

// Mode says what a bulk exchange reveals to the side that learns.
type Mode string

// Bulk modes.
const (
	// ModeIntersection reveals which of the learner's own elements are in
	// the intersection.
	ModeIntersection Mode = "intersection"
	// ModeCount reveals only the size of the intersection: the tags are
	// shuffled, so the learner cannot tell which of its elements matched.
	ModeCount Mode = "count"
)

// Learner says which side of a bulk exchange learns the result.
type Learner string

// Learners.
const (
	LearnerInitiator Learner = "initiator"
	LearnerResponder Learner = "responder"
	// LearnerBoth lets both sides learn. The initiator learns first and
	// could withhold the last message: agreements should prefer one
	// learner per exchange.
	LearnerBoth Learner = "both"
)

// Bulk limits.
const (
	// CountMinSetSize is the least set size either side accepts in count
	// mode, so that a count cannot collapse into a membership test. A
	// larger BulkParams.MinSetSize raises it.
	CountMinSetSize = 10
	// MaxBulkElements bounds each side's set in one exchange.
	MaxBulkElements = 1 << 20
	// BulkTagSize is the size of a truncated hash of a doubly
	// exponentiated element: 96 bits keep the chance of a false match under
	// 2^-60 for a million by a million elements.
	BulkTagSize = 12
)

// h2cDST is the RFC 9380 domain-separation tag of the bulk protocols'
// hash to curve (edwards25519_XMD:SHA-512_ELL2_RO_, see h2c.go).
var h2cDST = []byte("detente/psi/bulk/v2/edwards25519_XMD:SHA-512_ELL2_RO_")

// BulkParams are the terms of one bulk exchange. Both sides set them from
// the agreement, the messages record them, and a side refuses a message
// whose parameters differ from its own.
type BulkParams struct {
	// Session identifies the exchange; NewSession makes one.
	Session string `json:"session"`
	// Mode is ModeIntersection or ModeCount.
	Mode Mode `json:"mode"`
	// Learner is the side that learns: initiator, responder or both.
	Learner Learner `json:"learner"`
	// MinSetSize is the least set size either side accepts; in count mode
	// it is at least CountMinSetSize.
	MinSetSize int `json:"min_set_size,omitempty"`
	// MaxSetSize is the largest set size either side accepts; 0 means
	// MaxBulkElements.
	MaxSetSize int `json:"max_set_size,omitempty"`
}

// NewSession returns a random session identifier.
func NewSession() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Validate checks p.
func (p BulkParams) Validate() error {
	if p.Session == "" || len(p.Session) > 64 {
		return fmt.Errorf("%w: session: want 1 to 64 bytes", ErrMessage)
	}
	if p.Mode != ModeIntersection && p.Mode != ModeCount {
		return fmt.Errorf("%w: mode %q", ErrMessage, p.Mode)
	}
	switch p.Learner {
	case LearnerInitiator, LearnerResponder, LearnerBoth:
	default:
		return fmt.Errorf("%w: learner %q", ErrMessage, p.Learner)
	}
	if p.MinSetSize < 0 || p.MaxSetSize < 0 || p.MaxSetSize > MaxBulkElements {
		return fmt.Errorf("%w: set size bounds", ErrMessage)
	}
	if p.MaxSetSize > 0 && p.MaxSetSize < p.min() {
		return fmt.Errorf("%w: max set size below min set size", ErrMessage)
	}
	return nil
}

func (p BulkParams) min() int {
	if p.Mode == ModeCount {
		return max(p.MinSetSize, CountMinSetSize)
	}
	return p.MinSetSize
}

func (p BulkParams) max() int {
	if p.MaxSetSize == 0 {
		return MaxBulkElements
	}
	return p.MaxSetSize
}

func (p BulkParams) initiatorLearns() bool { return p.Learner != LearnerResponder }
func (p BulkParams) responderLearns() bool { return p.Learner != LearnerInitiator }

// checkSize checks a set size against p.
func (p BulkParams) checkSize(who string, n int) error {
	if n < p.min() || n > p.max() {
		return fmt.Errorf("%w: %s set of %d, want %d to %d", ErrSetSize, who, n, p.min(), p.max())
	}
	return nil
}

// Set is a prepared set of inputs for a bulk exchange, each tied to the
// items (selectors) it came from.
type Set struct {
	inputs [][]byte
	owners [][]int
}

// NewSet prepares selectors for a bulk exchange in mode: every key of each
// selector in intersection mode, only its representative key in count
// mode (so that a selector counts once). Keys shared by several selectors
// are sent once.
func NewSet(selectors []Selector, mode Mode) (*Set, error) {
	s := &Set{}
	index := make(map[string]int)
	for i, sel := range selectors {
		ks, err := sel.Keys()
		if err != nil {
			return nil, fmt.Errorf("selector %d: %w", i, err)
		}
		if mode == ModeCount {
			ks = ks[:1]
		}
		for _, k := range ks {
			s.add(index, k.Input(), i)
		}
	}
	return s, nil
}

// NewRawSet prepares inputs that are already domain-separated (built with
// Key.Input or under a tag of the caller's). Item i is inputs[i].
func NewRawSet(inputs [][]byte) *Set {
	s := &Set{}
	index := make(map[string]int, len(inputs))
	for i, in := range inputs {
		s.add(index, in, i)
	}
	return s
}

func (s *Set) add(index map[string]int, in []byte, item int) {
	j, ok := index[string(in)]
	if !ok {
		j = len(s.inputs)
		index[string(in)] = j
		s.inputs = append(s.inputs, in)
		s.owners = append(s.owners, nil)
	}
	s.owners[j] = append(s.owners[j], item)
}

// Len returns the number of distinct inputs.
func (s *Set) Len() int { return len(s.inputs) }

// BulkOptions tune one side of a bulk exchange.
type BulkOptions struct {
	// NoPadding sends exactly the set instead of padding it with random
	// elements to Bucket(n).
	NoPadding bool
}

// BulkHello opens a bulk exchange: the initiator's elements H(x)^a,
// shuffled and padded.
type BulkHello struct {
	Version int        `json:"version"`
	Params  BulkParams `json:"params"`
	// Elements are 32 bytes each, concatenated.
	Elements []byte `json:"elements"`
	// Cost is the number of exponentiations the initiator performed.
	Cost int `json:"cost"`
}

// BulkReply answers a BulkHello: the responder's elements H(y)^b, shuffled
// and padded, and, when the initiator learns, the truncated hashes of
// H(x)^ab, in hello order (intersection mode) or shuffled (count mode).
type BulkReply struct {
	Version  int        `json:"version"`
	Params   BulkParams `json:"params"`
	Elements []byte     `json:"elements"`
	// Tags are BulkTagSize bytes each, concatenated; empty when only the
	// responder learns.
	Tags []byte `json:"tags,omitempty"`
	// Cost is the number of exponentiations the responder performed.
	Cost int `json:"cost"`
}

// BulkFinish closes an exchange in which the responder learns: the
// truncated hashes of H(y)^ba, in reply order (intersection mode) or
// shuffled (count mode).
type BulkFinish struct {
	Version int    `json:"version"`
	Session string `json:"session"`
	Tags    []byte `json:"tags"`
	// Cost is the number of exponentiations the initiator performed for
	// this message.
	Cost int `json:"cost"`
}

// BulkResult is what one side learned.
type BulkResult struct {
	Mode    Mode    `json:"mode"`
	Learner Learner `json:"learner"`
	// Learned is false on the side that learns nothing.
	Learned bool `json:"learned"`
	// Matches are the indices of this side's items in the intersection,
	// sorted (intersection mode only).
	Matches []int `json:"matches,omitempty"`
	// Count is the number of this side's distinct inputs in the
	// intersection.
	Count int `json:"count"`
	// Size and PeerSize are the set sizes as sent, padding included.
	Size     int `json:"size"`
	PeerSize int `json:"peer_size"`
}

// The bulk protocols are Diffie-Hellman PSI over X25519 (RFC 7748): an
// input x is hashed to a point H(x) of edwards25519's prime-order subgroup
// (RFC 9380, h2c.go) and sent as its curve25519 u-coordinate; a side
// "exponentiates" with X25519(k, u), which commutes:
// X25519(a, X25519(b, u)) = X25519(b, X25519(a, u)). X25519's clamped
// scalars are multiples of the cofactor 8, so an element with a small-order
// component (sent to probe a key) loses it, and curve25519's twist security
// makes checking that a peer's u is on the curve unnecessary (RFC 7748 §5).
// Go's crypto/ecdh computes X25519 in constant time with assembly field
// arithmetic, about 1.6 times as fast as a ristretto255 scalar
// multiplication in circl.

// bulkKey is one side's fresh X25519 key for one exchange.
type bulkKey = *ecdh.PrivateKey

// newBulkKey returns a fresh random key.
func newBulkKey() (bulkKey, error) {
	return ecdh.X25519().GenerateKey(rand.Reader)
}

// exponentiate hashes inputs to the curve and applies k, returning the
// u-coordinates.
func exponentiate(inputs [][]byte, k bulkKey) ([]byte, error) {
	out := make([]byte, len(inputs)*ElementSize)
	err := parallel(len(inputs), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			u, err := hashToX25519(inputs[i], h2cDST)
			if err != nil {
				return err
			}
			e, err := x25519(k, u)
			if err != nil {
				return fmt.Errorf("input %d: %w", i, err)
			}
			copy(out[i*ElementSize:], e)
		}
		return nil
	})
	return out, err
}

// x25519 returns X25519(k, u).
func x25519(k bulkKey, u []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(u)
	if err != nil {
		return nil, err
	}
	return k.ECDH(pub)
}

// randomElements returns n random elements, indistinguishable from
// exponentiated inputs: u-coordinates of random points of the prime-order
// subgroup.
func randomElements(n int) ([]byte, error) {
	out := make([]byte, n*ElementSize)
	err := parallel(n, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			k, err := newBulkKey()
			if err != nil {
				return err
			}
			copy(out[i*ElementSize:], k.PublicKey().Bytes())
		}
		return nil
	})
	return out, err
}

// canonicalU reports whether u is the canonical encoding of a field element
// (below 2^255 - 19, top bit clear). X25519 accepts the other encodings of
// the same values, which would let a peer disguise a repeated element.
func canonicalU(u []byte) bool {
	e, err := new(field.Element).SetBytes(u)
	return err == nil && bytes.Equal(e.Bytes(), u)
}

// tagsOf applies k to the peer's elements and returns the truncated hash of
// each product. It refuses non-canonical and small-order elements, and
// elements whose products repeat: a repeated element, even disguised by a
// small-order component, would let a count reveal membership.
func tagsOf(session string, elems []byte, k bulkKey) ([]byte, error) {
	if len(elems)%ElementSize != 0 {
		return nil, fmt.Errorf("%w: elements not a multiple of %d bytes", ErrMessage, ElementSize)
	}
	n := len(elems) / ElementSize
	prods := make([]byte, n*ElementSize)
	err := parallel(n, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			u := elems[i*ElementSize : (i+1)*ElementSize]
			if !canonicalU(u) {
				return fmt.Errorf("%w: element %d is not a canonical encoding", ErrMessage, i)
			}
			p, err := x25519(k, u)
			if err != nil {
				return fmt.Errorf("%w: element %d has small order", ErrMessage, i)
			}
			copy(prods[i*ElementSize:], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	seen := make(map[[ElementSize]byte]struct{}, n)
	for i := range n {
		p := [ElementSize]byte(prods[i*ElementSize:])
		if _, dup := seen[p]; dup {
			return nil, fmt.Errorf("%w: element %d repeats an earlier one", ErrMessage, i)
		}
		seen[p] = struct{}{}
	}
	out := make([]byte, n*BulkTagSize)
	err = parallel(n, func(lo, hi int) error {
		h := sha256.New()
		var sum [sha256.Size]byte
		var sl [2]byte
		binary.BigEndian.PutUint16(sl[:], uint16(len(session)))
		for i := lo; i < hi; i++ {
			h.Reset()
			h.Write([]byte("detente/psi/bulk/v2/tag"))
			h.Write(sl[:])
			h.Write([]byte(session))
			h.Write(prods[i*ElementSize : (i+1)*ElementSize])
			copy(out[i*BulkTagSize:(i+1)*BulkTagSize], h.Sum(sum[:0]))
		}
		return nil
	})
	return out, err
}

// permuteChunks returns b, cut into chunks of size, in the order perm.
func permuteChunks(b []byte, size int, perm []int) []byte {
	out := make([]byte, len(b))
	for i, p := range perm {
		copy(out[i*size:], b[p*size:(p+1)*size])
	}
	return out
}

// prepare pads and shuffles a side's exponentiated set. It returns the
// elements as sent and, for each sent position, the input index or -1.
func prepare(set *Set, k bulkKey, opt BulkOptions) ([]byte, []int, error) {
	elems, err := exponentiate(set.inputs, k)
	if err != nil {
		return nil, nil, err
	}
	n := set.Len()
	total := n
	if !opt.NoPadding {
		total = Bucket(n)
	}
	if total > n {
		pad, err := randomElements(total - n)
		if err != nil {
			return nil, nil, err
		}
		elems = append(elems, pad...)
	}
	perm := shuffle(total)
	order := make([]int, total)
	for i, p := range perm {
		if p < n {
			order[i] = p
		} else {
			order[i] = -1
		}
	}
	return permuteChunks(elems, ElementSize, perm), order, nil
}

// BulkInitiator is the initiator's state in a bulk exchange. It is used
// once.
type BulkInitiator struct {
	p     BulkParams
	set   *Set
	a     bulkKey
	order []int
	done  bool
}

// NewBulkInitiator opens a bulk exchange over set with fresh keys and
// returns the hello to send.
func NewBulkInitiator(p BulkParams, set *Set, opt BulkOptions) (*BulkInitiator, *BulkHello, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if err := p.checkSize("own", set.Len()); err != nil {
		return nil, nil, err
	}
	a, err := newBulkKey()
	if err != nil {
		return nil, nil, err
	}
	elems, order, err := prepare(set, a, opt)
	if err != nil {
		return nil, nil, err
	}
	bi := &BulkInitiator{p: p, set: set, a: a, order: order}
	return bi, &BulkHello{Version: ProtocolVersion, Params: p, Elements: elems, Cost: set.Len()}, nil
}

// Validate checks the shape of h.
func (h *BulkHello) Validate() error {
	if h.Version != ProtocolVersion {
		return fmt.Errorf("%w: bulk hello version %d", ErrMessage, h.Version)
	}
	if err := h.Params.Validate(); err != nil {
		return err
	}
	if len(h.Elements)%ElementSize != 0 {
		return fmt.Errorf("%w: bulk hello: elements not a multiple of %d bytes", ErrMessage, ElementSize)
	}
	return h.Params.checkSize("initiator", len(h.Elements)/ElementSize)
}

// Validate checks the shape of r.
func (r *BulkReply) Validate() error {
	if r.Version != ProtocolVersion {
		return fmt.Errorf("%w: bulk reply version %d", ErrMessage, r.Version)
	}
	if err := r.Params.Validate(); err != nil {
		return err
	}
	if len(r.Elements)%ElementSize != 0 || len(r.Tags)%BulkTagSize != 0 {
		return fmt.Errorf("%w: bulk reply: bad element or tag length", ErrMessage)
	}
	if (len(r.Tags) > 0) != r.Params.initiatorLearns() {
		return fmt.Errorf("%w: bulk reply: tags present iff the initiator learns", ErrMessage)
	}
	return r.Params.checkSize("responder", len(r.Elements)/ElementSize)
}

// Validate checks the shape of f.
func (f *BulkFinish) Validate() error {
	if f.Version != ProtocolVersion {
		return fmt.Errorf("%w: bulk finish version %d", ErrMessage, f.Version)
	}
	if f.Session == "" || len(f.Tags)%BulkTagSize != 0 {
		return fmt.Errorf("%w: bulk finish: bad session or tag length", ErrMessage)
	}
	return nil
}

// BulkResponder is the responder's state in a bulk exchange.
type BulkResponder struct {
	p      BulkParams
	set    *Set
	order  []int
	xTags  map[[BulkTagSize]byte]struct{}
	peerN  int
	result *BulkResult
}

// RespondBulk answers hello over set with fresh keys. p holds the
// responder's own terms: a hello with other parameters is refused with an
// error wrapping ErrParams. In count mode, and whenever p sets bounds, both
// the hello's size and set's size are checked.
func RespondBulk(p BulkParams, set *Set, hello *BulkHello, opt BulkOptions) (*BulkResponder, *BulkReply, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if hello.Params != p {
		return nil, nil, fmt.Errorf("%w: hello %+v, ours %+v", ErrParams, hello.Params, p)
	}
	if err := hello.Validate(); err != nil {
		return nil, nil, err
	}
	if err := p.checkSize("own", set.Len()); err != nil {
		return nil, nil, err
	}
	b, err := newBulkKey()
	if err != nil {
		return nil, nil, err
	}
	xTags, err := tagsOf(p.Session, hello.Elements, b)
	if err != nil {
		return nil, nil, err
	}
	elems, order, err := prepare(set, b, opt)
	if err != nil {
		return nil, nil, err
	}
	peerN := len(hello.Elements) / ElementSize
	br := &BulkResponder{p: p, set: set, order: order, peerN: peerN}
	reply := &BulkReply{Version: ProtocolVersion, Params: p, Elements: elems, Cost: peerN + set.Len()}
	if p.initiatorLearns() {
		if p.Mode == ModeCount {
			reply.Tags = permuteChunks(xTags, BulkTagSize, shuffle(peerN))
		} else {
			reply.Tags = xTags
		}
	}
	if p.responderLearns() {
		br.xTags = tagSet(xTags)
	} else {
		br.result = &BulkResult{Mode: p.Mode, Learner: p.Learner, Size: len(order), PeerSize: peerN}
	}
	return br, reply, nil
}

func tagSet(tags []byte) map[[BulkTagSize]byte]struct{} {
	m := make(map[[BulkTagSize]byte]struct{}, len(tags)/BulkTagSize)
	for i := 0; i+BulkTagSize <= len(tags); i += BulkTagSize {
		m[[BulkTagSize]byte(tags[i:i+BulkTagSize])] = struct{}{}
	}
	return m
}

// match compares tags (in sent order when order is not nil) against set
// and fills r.
func match(r *BulkResult, tags []byte, set map[[BulkTagSize]byte]struct{}, order []int, s *Set) {
	r.Learned = true
	var items []int
	for i := 0; i*BulkTagSize < len(tags); i++ {
		if _, ok := set[[BulkTagSize]byte(tags[i*BulkTagSize:(i+1)*BulkTagSize])]; !ok {
			continue
		}
		if order == nil { // count mode
			r.Count++
			continue
		}
		if order[i] < 0 { // padding cannot match; be safe
			continue
		}
		r.Count++
		items = append(items, s.owners[order[i]]...)
	}
	if order != nil {
		r.Matches = sortedUnique(items)
	}
}

func sortedUnique(xs []int) []int {
	seen := make(map[int]bool, len(xs))
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// HandleReply processes the responder's reply. It returns the initiator's
// result and, when the responder learns, the finish message to send (nil
// otherwise).
func (bi *BulkInitiator) HandleReply(reply *BulkReply) (*BulkResult, *BulkFinish, error) {
	if bi.done {
		return nil, nil, fmt.Errorf("%w: exchange already finished", ErrMessage)
	}
	if reply.Params != bi.p {
		return nil, nil, fmt.Errorf("%w: reply %+v, ours %+v", ErrParams, reply.Params, bi.p)
	}
	if err := reply.Validate(); err != nil {
		return nil, nil, err
	}
	if bi.p.initiatorLearns() && len(reply.Tags)/BulkTagSize != len(bi.order) {
		return nil, nil, fmt.Errorf("%w: %d tags for %d elements sent", ErrMessage, len(reply.Tags)/BulkTagSize, len(bi.order))
	}
	yTags, err := tagsOf(bi.p.Session, reply.Elements, bi.a)
	if err != nil {
		return nil, nil, err
	}
	bi.done = true
	peerN := len(reply.Elements) / ElementSize
	res := &BulkResult{Mode: bi.p.Mode, Learner: bi.p.Learner, Size: len(bi.order), PeerSize: peerN}
	if bi.p.initiatorLearns() {
		order := bi.order
		if bi.p.Mode == ModeCount {
			order = nil
		}
		match(res, reply.Tags, tagSet(yTags), order, bi.set)
	}
	var fin *BulkFinish
	if bi.p.responderLearns() {
		tags := yTags
		if bi.p.Mode == ModeCount {
			tags = permuteChunks(yTags, BulkTagSize, shuffle(peerN))
		}
		fin = &BulkFinish{Version: ProtocolVersion, Session: bi.p.Session, Tags: tags, Cost: peerN}
	}
	return res, fin, nil
}

// Result returns the responder's result when it learns nothing (so that the
// caller can log sizes); it is nil when the responder waits for a finish.
func (br *BulkResponder) Result() *BulkResult { return br.result }

// HandleFinish processes the initiator's finish and returns the
// responder's result.
func (br *BulkResponder) HandleFinish(f *BulkFinish) (*BulkResult, error) {
	if !br.p.responderLearns() || br.xTags == nil {
		return nil, fmt.Errorf("%w: no finish expected", ErrMessage)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Session != br.p.Session {
		return nil, fmt.Errorf("%w: finish for session %q", ErrParams, f.Session)
	}
	if len(f.Tags)/BulkTagSize != len(br.order) {
		return nil, fmt.Errorf("%w: %d tags for %d elements sent", ErrMessage, len(f.Tags)/BulkTagSize, len(br.order))
	}
	res := &BulkResult{Mode: br.p.Mode, Learner: br.p.Learner, Size: len(br.order), PeerSize: br.peerN}
	order := br.order
	if br.p.Mode == ModeCount {
		order = nil
	}
	match(res, f.Tags, br.xTags, order, br.set)
	br.xTags = nil
	return res, nil
}

// Binary framing of bulk messages: JSON is convenient but base64 adds a
// third to the elements. MarshalBinary writes "DTPSIB1", then the
// message's JSON without its elements and tags, then the elements and the
// tags, each preceded by its length (4 bytes, big-endian).
const bulkMagic = "DTPSIB1"

func marshalFramed(header any, elems, tags []byte) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("marshal header: %w", err)
	}
	b := make([]byte, 0, len(bulkMagic)+12+len(h)+len(elems)+len(tags))
	b = append(b, bulkMagic...)
	for _, part := range [][]byte{h, elems, tags} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
		b = append(b, part...)
	}
	return b, nil
}

func unmarshalFramed(b []byte, header any) (elems, tags []byte, err error) {
	if !bytes.HasPrefix(b, []byte(bulkMagic)) {
		return nil, nil, fmt.Errorf("%w: bad magic", ErrMessage)
	}
	b = b[len(bulkMagic):]
	var parts [3][]byte
	for i := range parts {
		if len(b) < 4 {
			return nil, nil, fmt.Errorf("%w: truncated", ErrMessage)
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(len(b)) < uint64(n) {
			return nil, nil, fmt.Errorf("%w: truncated", ErrMessage)
		}
		parts[i], b = b[:n], b[n:]
	}
	if len(b) != 0 {
		return nil, nil, fmt.Errorf("%w: trailing bytes", ErrMessage)
	}
	if err := json.Unmarshal(parts[0], header); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrMessage, err)
	}
	return bytes.Clone(parts[1]), bytes.Clone(parts[2]), nil
}

// MarshalBinary encodes h in the binary framing.
func (h *BulkHello) MarshalBinary() ([]byte, error) {
	c := *h
	c.Elements = nil
	return marshalFramed(&c, h.Elements, nil)
}

// UnmarshalBinary decodes h from the binary framing.
func (h *BulkHello) UnmarshalBinary(b []byte) error {
	var c BulkHello
	elems, _, err := unmarshalFramed(b, &c)
	if err != nil {
		return err
	}
	c.Elements = elems
	*h = c
	return nil
}

// MarshalBinary encodes r in the binary framing.
func (r *BulkReply) MarshalBinary() ([]byte, error) {
	c := *r
	c.Elements, c.Tags = nil, nil
	return marshalFramed(&c, r.Elements, r.Tags)
}

// UnmarshalBinary decodes r from the binary framing.
func (r *BulkReply) UnmarshalBinary(b []byte) error {
	var c BulkReply
	elems, tags, err := unmarshalFramed(b, &c)
	if err != nil {
		return err
	}
	c.Elements, c.Tags = elems, tags
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	*r = c
	return nil
}

// MarshalBinary encodes f in the binary framing.
func (f *BulkFinish) MarshalBinary() ([]byte, error) {
	c := *f
	c.Tags = nil
	return marshalFramed(&c, nil, f.Tags)
}

// UnmarshalBinary decodes f from the binary framing.
func (f *BulkFinish) UnmarshalBinary(b []byte) error {
	var c BulkFinish
	_, tags, err := unmarshalFramed(b, &c)
	if err != nil {
		return err
	}
	c.Tags = tags
	*f = c
	return nil
}
