package trace

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestLawBound checks the Chernoff bound against the exact tail of an
// innocent's score, by enumeration over small sets of positions.
func TestLawBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(12)
		ps := make([]float64, n)
		for i := range ps {
			ps[i] = 0.01 + 0.98*rng.Float64()
			if trial%3 == 0 {
				ps[i] = binaryLevels(DefaultCutoff)[rng.IntN(BiasLevels)]
			}
		}
		// Every pattern of matches, its score and probability.
		type outcome struct{ s, p float64 }
		var outs []outcome
		for mask := range 1 << n {
			o := outcome{p: 1}
			for i, p := range ps {
				if mask>>i&1 == 1 {
					o.s += scoreMatch(p)
					o.p *= p
				} else {
					o.s += scoreMiss(p)
					o.p *= 1 - p
				}
			}
			outs = append(outs, o)
		}
		// The exact tail at each score: outcomes from the highest score down.
		slices.SortFunc(outs, func(a, b outcome) int { return cmp.Compare(b.s, a.s) })
		l := newLaw(ps)
		exact := 0.0
		for i, o := range outs {
			exact += o.p
			if i+1 < len(outs) && outs[i+1].s >= o.s-1e-12 {
				continue // the tail at o.s includes the ties
			}
			if b := math.Exp(l.logBound(o.s)); b < exact*(1-1e-9) {
				t.Fatalf("biases %v: bound %g below the exact tail %g at score %g", ps, b, exact, o.s)
			}
		}
		for _, L := range []float64{1, 5, 10} {
			z := l.threshold(L)
			if math.IsInf(z, 1) {
				if _, logP := l.maxScore(); -logP >= L {
					t.Fatalf("biases %v: no threshold for %v though a perfect match has log-probability %v", ps, L, logP)
				}
				continue
			}
			if got := l.logBound(z); math.Abs(got+L) > 1e-6 {
				t.Fatalf("biases %v: bound at the threshold for %v is e^%v", ps, L, got)
			}
		}
	}
	if b := newLaw(nil).logBound(1); !math.IsInf(b, -1) {
		t.Errorf("no positions: bound e^%v for a positive score", b)
	}
}

func TestDefaultCutoff(t *testing.T) {
	d := design3(t)
	t.Logf("%+v", *d)
	if d.Cutoff < 0.7*DefaultCutoff || d.Cutoff > 1.3*DefaultCutoff || d.Length < 1000 || d.Length > 1500 {
		t.Errorf("design %+v: DefaultCutoff %v is out of date", *d, DefaultCutoff)
	}
}

// TestDesignAsymptotics checks the designs against Laarhoven and de
// Weger's asymptotics: ℓ/(c² ln(1/ε1)) above π²/2 and coming down towards
// it as c grows, and a cutoff that shrinks with c.
func TestDesignAsymptotics(t *testing.T) {
	prev := &Design{Length: 0, Cutoff: 1}
	prevD := math.Inf(1)
	for _, c := range []int{3, 5, 8} {
		d := design3(t)
		if c != 3 {
			var err error
			if d, err = NewDesign(c, 1e-8, 1e-2); err != nil {
				t.Fatal(err)
			}
		}
		dl := float64(d.Length) / (float64(c*c) * math.Log(1e8))
		t.Logf("c = %2d: ℓ = %5d (d_ℓ = %.2f), Z = %.0f, δ = %.4f", c, d.Length, dl, d.Threshold, d.Cutoff)
		if dl <= math.Pi*math.Pi/2 || dl >= prevD || d.Cutoff >= prev.Cutoff || d.Length <= prev.Length {
			t.Errorf("c = %d: d_ℓ = %.2f after %.2f, δ = %v after %v", c, dl, prevD, d.Cutoff, prev.Cutoff)
		}
		prev, prevD = d, dl
	}
	for _, bad := range [][3]float64{{0, 1e-3, 1e-3}, {3, 0, 0.1}, {3, 0.1, 1}} {
		if _, err := NewDesign(int(bad[0]), bad[1], bad[2]); err == nil {
			t.Errorf("NewDesign%v: no error", bad)
		}
	}
}

// TestDesignThreshold checks that the exact bound Trace uses accuses at a
// score no higher than the design's Z (at the design length, against a
// coalition of 3 voting by majority) in almost every case.
func TestDesignThreshold(t *testing.T) {
	d := design3(t)
	rng := rand.New(rand.NewPCG(3, 4))
	levels := binaryLevels(d.Cutoff)
	below := 0
	const trials = 200
	for range trials {
		var ps []float64
		for range d.Length {
			p := levels[rng.IntN(BiasLevels)]
			ones := 0
			for range 3 {
				if rng.Float64() < p {
					ones++
				}
			}
			if ones >= 2 {
				ps = append(ps, p)
			} else {
				ps = append(ps, 1-p)
			}
		}
		if newLaw(ps).threshold(math.Log(1e8)) <= d.Threshold {
			below++
		}
	}
	t.Logf("the exact threshold is at most Z = %.1f in %d of %d trials", d.Threshold, below, trials)
	if below < trials*95/100 {
		t.Errorf("the exact threshold is at most Z in only %d of %d trials", below, trials)
	}
}

// TestPRFDistribution checks that the keyed PRF draws the code's
// distribution: bias levels uniform, symbols with their biases, q-ary
// biases with mean 1/q and the floor, labels distinct.
func TestPRFDistribution(t *testing.T) {
	s := testScheme(t)
	p := s.newPRF()
	levels := binaryLevels(DefaultCutoff)
	const positions, holders = 16000, 40
	var count [BiasLevels]float64
	var ones, expect, variance [BiasLevels]float64
	for i := range positions {
		pos := p.position("report--x", "v1", i)
		b := p.bias(pos, 2, levels, DefaultCutoff)
		k := slices.Index(levels, b[1])
		if k < 0 || b[0]+b[1] != 1 {
			t.Fatalf("bias %v is not a level", b)
		}
		count[k]++
		if i%4 == 0 {
			for r := range holders {
				ones[k] += float64(p.symbol(pos, fmt.Sprint(r), b))
				expect[k] += b[1]
				variance[k] += b[0] * b[1]
			}
		}
	}
	chi2 := 0.0
	for _, c := range count {
		e := float64(positions) / BiasLevels
		chi2 += (c - e) * (c - e) / e
	}
	if chi2 > 70 { // 31 degrees of freedom: p < 10⁻⁴
		t.Errorf("bias levels: χ² = %.1f", chi2)
	}
	for k := range BiasLevels {
		if z := (ones[k] - expect[k]) / math.Sqrt(variance[k]); math.Abs(z) > 4.5 {
			t.Errorf("level %d (p = %.3f): %v ones, %v expected (z = %.1f)", k, levels[k], ones[k], expect[k], z)
		}
	}
	for _, q := range []int{3, 5, 16} {
		mean := make([]float64, q)
		freq := make([]float64, q)
		floor := min(DefaultCutoff, 1/(2*float64(q)))
		const n = 3000
		for i := range n {
			pos := p.position("report--q", "v1", i)
			b := p.bias(pos, q, levels, DefaultCutoff)
			sum := 0.0
			for a, v := range b {
				if v < floor*(1-1e-12) {
					t.Fatalf("q = %d: bias %v under the floor %v", q, v, floor)
				}
				mean[a] += v / n
				sum += v
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Fatalf("q = %d: biases add up to %v", q, sum)
			}
			freq[p.symbol(pos, "r", b)] += 1.0 / n
		}
		for a := range q {
			if math.Abs(mean[a]-1/float64(q)) > 0.03 || math.Abs(freq[a]-1/float64(q)) > 0.04 {
				t.Errorf("q = %d, symbol %d: mean bias %.3f, frequency %.3f, want %.3f", q, a, mean[a], freq[a], 1/float64(q))
			}
		}
	}
	labels := map[string]bool{}
	for r := range 5000 {
		l := p.label(Position(7), fmt.Sprint(r))
		if len(l) != labelLen || labels[l] {
			t.Fatalf("label %q repeated or of the wrong length", l)
		}
		labels[l] = true
	}
}

var design3Once = sync.OnceValues(func() (*Design, error) { return NewDesign(3, DefaultEpsilon/100, 0.01) })

// design3 returns the design the simulations use: coalitions of 3,
// DefaultEpsilon over 100 recipients, ε2 = 10⁻².
func design3(t testing.TB) *Design {
	t.Helper()
	d, err := design3Once()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
