package psi

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"runtime"
	"sync"
)

// minChunk is the least work worth a goroutine: a few scalar
// multiplications.
const minChunk = 64

// parallel runs f over [0, n) cut into contiguous chunks, one goroutine per
// processor, and returns the first error.
func parallel(n int, f func(lo, hi int) error) error {
	workers := runtime.GOMAXPROCS(0)
	if w := (n + minChunk - 1) / minChunk; w < workers {
		workers = w
	}
	if workers <= 1 {
		return f(0, n)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	step := (n + workers - 1) / workers
	for w := range workers {
		lo, hi := w*step, min((w+1)*step, n)
		wg.Go(func() { errs[w] = f(lo, hi) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// shuffle returns a uniformly random permutation of [0, n) drawn from
// crypto/rand (Fisher–Yates).
func shuffle(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := randIntn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// randIntn returns a uniform integer in [0, n) from crypto/rand.
func randIntn(n int) int {
	if n <= 1<<31 {
		// Rejection sampling on 64 random bits: negligible bias either way,
		// none with the rejection.
		limit := ^uint64(0) - ^uint64(0)%uint64(n)
		var b [8]byte
		for {
			if _, err := rand.Read(b[:]); err != nil {
				panic(err) // crypto/rand.Read does not fail
			}
			if v := binary.LittleEndian.Uint64(b[:]); v < limit {
				return int(v % uint64(n))
			}
		}
	}
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(v.Int64())
}

// Bucket returns the padded size of a set of n elements: the least size of
// the form m·2^k with m in 4…7 that is at least max(n, 16). Padding to it
// (with random dummies that match nothing) tells the peer only which of a
// few sizes per doubling the set has, at a cost of at most 25% more work:
// 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, …
func Bucket(n int) int {
	if n <= 16 {
		return 16
	}
	k := 0
	for (n-1)>>k >= 8 {
		k++
	}
	// (n-1)>>k is in 4…7; the bucket is one step above it.
	m := (n-1)>>k + 1
	return m << k
}

// dummyInputs returns n random PRF inputs under a tag no selector has, so
// that they match nothing.
func dummyInputs(n int) [][]byte {
	out := make([][]byte, n)
	buf := make([]byte, 32*n)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	for i := range out {
		out[i] = Key{Tag: "detente/psi/dummy", Value: string(buf[32*i : 32*i+32])}.Input()
	}
	return out
}
