package psi

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ProtocolVersion is the version of every message of this package.
// Version 2 moved the bulk and count modes from ristretto255 to X25519;
// the query mode's messages and outputs are unchanged. Version 3 carries
// the person canonicaliser v2 (PersonVersion): a node of version 2 would
// silently miss names it now reads differently, so it is refused by name.
const ProtocolVersion = 3

// ElementSize is the size of a compressed ristretto255 element.
const ElementSize = 32

// MaxQueryElements bounds the elements of one query request.
const MaxQueryElements = 1 << 16

// QueryRequest carries the querier's blinded keys to the owner. It holds no
// selector, nor any unkeyed function of one: each element is a hashed key
// multiplied by a fresh random blind.
type QueryRequest struct {
	Version int    `json:"version"`
	Epoch   string `json:"epoch"`
	// Elements are the blinded elements, 32 bytes each, concatenated.
	Elements []byte `json:"elements"`
}

// Count returns the number of elements: what the owner learns, and what a
// budget should charge.
func (r *QueryRequest) Count() int { return len(r.Elements) / ElementSize }

// Validate checks the shape of r (not that its elements decode).
func (r *QueryRequest) Validate() error {
	if r.Version != ProtocolVersion {
		return fmt.Errorf("%w: query request version %d", ErrMessage, r.Version)
	}
	if err := checkEpoch(r.Epoch); err != nil {
		return err
	}
	if len(r.Elements) == 0 || len(r.Elements)%ElementSize != 0 {
		return fmt.Errorf("%w: query request: elements not a positive multiple of %d bytes", ErrMessage, ElementSize)
	}
	if r.Count() > MaxQueryElements {
		return fmt.Errorf("%w: query request: %d elements, at most %d", ErrSetSize, r.Count(), MaxQueryElements)
	}
	return nil
}

// QueryResponse carries the owner's evaluation of a QueryRequest and the
// batched DLEQ proof (RFC 9497 verifiable mode) that it used the epoch's
// published key.
type QueryResponse struct {
	Version int    `json:"version"`
	Epoch   string `json:"epoch"`
	// Elements are the evaluated elements, 32 bytes each, in request order.
	Elements []byte `json:"elements"`
	// Proof is the batched DLEQ proof: two 32-byte scalars.
	Proof []byte `json:"proof"`
	// Cost is the number of evaluations performed.
	Cost int `json:"cost"`
}

// Validate checks the shape of r.
func (r *QueryResponse) Validate() error {
	if r.Version != ProtocolVersion {
		return fmt.Errorf("%w: query response version %d", ErrMessage, r.Version)
	}
	if err := checkEpoch(r.Epoch); err != nil {
		return err
	}
	if len(r.Elements) == 0 || len(r.Elements)%ElementSize != 0 {
		return fmt.Errorf("%w: query response: elements not a positive multiple of %d bytes", ErrMessage, ElementSize)
	}
	if len(r.Proof) != 2*ElementSize {
		return fmt.Errorf("%w: query response: proof of %d bytes", ErrMessage, len(r.Proof))
	}
	if r.Cost != len(r.Elements)/ElementSize {
		return fmt.Errorf("%w: query response: cost %d for %d elements", ErrMessage, r.Cost, len(r.Elements)/ElementSize)
	}
	return nil
}

// EpochError is returned when a message belongs to another epoch. It wraps
// ErrEpoch and names the current one.
type EpochError struct {
	Got, Current string
}

// Error describes the mismatch.
func (e *EpochError) Error() string {
	return fmt.Sprintf("%v: got %q, current %q", ErrEpoch, e.Got, e.Current)
}

// Unwrap returns ErrEpoch.
func (e *EpochError) Unwrap() error { return ErrEpoch }

// Owner answers queries against its watchlist for one epoch.
type Owner struct {
	epoch string
	key   *voprfKey
}

// NewOwner returns the Owner of key for epoch.
func NewOwner(key *OwnerKey, epoch string) (*Owner, error) {
	sk, err := key.epochKey(epoch)
	if err != nil {
		return nil, err
	}
	return &Owner{epoch: epoch, key: sk}, nil
}

// Epoch returns the owner's epoch.
func (o *Owner) Epoch() string { return o.epoch }

// Evaluate evaluates the blinded elements of req under the epoch's key and
// proves it. The owner learns only req.Count(). It returns an *EpochError
// if req is for another epoch. Budgets are the caller's: charge
// req.Count() before calling.
func (o *Owner) Evaluate(req *QueryRequest) (*QueryResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.Epoch != o.epoch {
		return nil, &EpochError{Got: req.Epoch, Current: o.epoch}
	}
	blinded, err := decodeVOPRFBatch(req.Elements)
	if err != nil {
		return nil, err
	}
	ev, proof := o.key.blindEvaluate(blinded)
	return &QueryResponse{Version: ProtocolVersion, Epoch: o.epoch, Elements: ev.enc, Proof: proof, Cost: ev.len()}, nil
}

// Hit is a selector of the querier found on the owner's watchlist.
type Hit struct {
	// Index is the selector's index in the slice given to NewQuery.
	Index    int      `json:"index"`
	Selector Selector `json:"selector"`
	// Variants are the key variants that matched ("canonical", "spelling",
	// "skeleton"); a person matched only by its skeleton is a weaker hit.
	Variants []string `json:"variants"`
}

// QueryOptions tune NewQuery.
type QueryOptions struct {
	// NoPadding sends exactly the selectors' keys instead of padding them
	// with random dummies to Bucket(n).
	NoPadding bool
}

// slot ties a blinded input to the selectors it came from.
type slot struct {
	owners  []int
	variant string
}

// Query is the querier's state between NewQuery and Finalize. A Query is
// used once.
type Query struct {
	w         *Watchlist
	pk        *voprfPublic
	blinds    *voprfBlinds
	slots     []slot // by blinded index; nil owners for dummies
	selectors []Selector
	done      bool
}

// NewQuery blinds the keys of selectors for a query against w, the owner's
// encoded watchlist, and returns the request to send. Keys shared by
// several selectors are sent once; dummies pad the count to Bucket(n) and
// the order is shuffled.
func NewQuery(w *Watchlist, selectors []Selector, opt QueryOptions) (*Query, *QueryRequest, error) {
	pk, err := parseVOPRFPublic(w.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("watchlist: %w", err)
	}
	index := make(map[Key]int)
	var slots []slot
	var inputs [][]byte
	for i, s := range selectors {
		ks, err := s.Keys()
		if err != nil {
			return nil, nil, fmt.Errorf("selector %d: %w", i, err)
		}
		for _, k := range ks {
			j, ok := index[k]
			if !ok {
				j = len(slots)
				index[k] = j
				slots = append(slots, slot{variant: k.Variant()})
				inputs = append(inputs, k.Input())
			}
			slots[j].owners = append(slots[j].owners, i)
		}
	}
	if len(inputs) == 0 {
		return nil, nil, fmt.Errorf("%w: no selectors", ErrSetSize)
	}
	if !opt.NoPadding {
		for _, d := range dummyInputs(Bucket(len(inputs)) - len(inputs)) {
			inputs = append(inputs, d)
			slots = append(slots, slot{})
		}
	}
	if len(inputs) > MaxQueryElements {
		return nil, nil, fmt.Errorf("%w: %d keys, at most %d", ErrSetSize, len(inputs), MaxQueryElements)
	}
	perm := shuffle(len(inputs))
	shIn := make([][]byte, len(inputs))
	shSlots := make([]slot, len(inputs))
	for i, p := range perm {
		shIn[i], shSlots[i] = inputs[p], slots[p]
	}
	blinds, err := voprf.blind(shIn, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("blind: %w", err)
	}
	q := &Query{w: w, pk: pk, blinds: blinds, slots: shSlots, selectors: selectors}
	// The request gets its own copy: the proof is verified against the
	// elements kept here.
	req := &QueryRequest{Version: ProtocolVersion, Epoch: w.Epoch, Elements: slices.Clone(blinds.blinded.enc)}
	return q, req, nil
}

// Finalize verifies the owner's proof, unblinds the evaluations and tests
// them against the watchlist. It returns the hits in selector order. It
// returns an *EpochError if resp is for another epoch than the watchlist
// (the cached encoding is stale: fetch the owner's current one), and an
// error wrapping ErrProof if the owner did not use the published key.
func (q *Query) Finalize(resp *QueryResponse) ([]Hit, error) {
	if q.done {
		return nil, fmt.Errorf("%w: query already finalized", ErrMessage)
	}
	if err := resp.Validate(); err != nil {
		return nil, err
	}
	if resp.Epoch != q.w.Epoch {
		return nil, &EpochError{Got: resp.Epoch, Current: q.w.Epoch}
	}
	if resp.Cost != len(q.slots) {
		return nil, fmt.Errorf("%w: %d evaluations for %d elements", ErrMessage, resp.Cost, len(q.slots))
	}
	evals, err := decodeVOPRFBatch(resp.Elements)
	if err != nil {
		return nil, err
	}
	outs, err := q.blinds.finalize(q.pk, evals, resp.Proof)
	if err != nil {
		if errors.Is(err, ErrProof) {
			return nil, fmt.Errorf("%w under the public key of epoch %q", err, q.w.Epoch)
		}
		return nil, err
	}
	q.done = true
	matched := make(map[int][]string)
	for i, out := range outs {
		s := q.slots[i]
		if s.owners == nil || !q.w.contains(entryTag(q.w.Epoch, out)) {
			continue
		}
		for _, o := range s.owners {
			matched[o] = append(matched[o], s.variant)
		}
	}
	var hits []Hit
	for i, s := range q.selectors {
		if vs, ok := matched[i]; ok {
			hits = append(hits, Hit{Index: i, Selector: s, Variants: dedupeStrings(vs)})
		}
	}
	return hits, nil
}

func dedupeStrings(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Cache keeps the latest encoded watchlist of each owner. An entry serves
// only queries for its own epoch: Get with another epoch drops it, so that
// an epoch change invalidates the cached encoding. It is safe for
// concurrent use.
type Cache struct {
	mu sync.Mutex
	m  map[string]*Watchlist
}

// Put stores w as owner's current encoded watchlist.
func (c *Cache) Put(owner string, w *Watchlist) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*Watchlist)
	}
	c.m[owner] = w
}

// Get returns owner's cached watchlist if it is for epoch; otherwise it
// drops any stale entry and reports false.
func (c *Cache) Get(owner, epoch string) (*Watchlist, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[owner]
	if !ok {
		return nil, false
	}
	if w.Epoch != epoch {
		delete(c.m, owner)
		return nil, false
	}
	return w, true
}
