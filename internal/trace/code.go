package trace

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// The code is a symmetric Tardos code (Tardos 2003; Škorić, Katzenbeisser
// and Celik 2008) over an unbounded set of positions, with the parameters
// of Laarhoven and de Weger ("Optimal symmetric Tardos traitor tracing
// schemes", 2014).
//
// Biases. Every position i has a bias vector p_i: the probability of each
// symbol. A binary position (two wordings) takes p_i = (1−p, p) with p
// drawn from Tardos' arcsine distribution with cutoff δ: p = sin²θ, θ
// uniform on [θ_δ, π/2−θ_δ], sin²θ_δ = δ, so that δ ≤ p ≤ 1−δ. θ is
// discretised to BiasLevels equally likely midpoints, which keeps the
// distribution's shape (and the strategy-independence of the coalition's
// expected score) to well under a percent while letting the simulations
// group positions by bias. A q-ary position (3 to 16 wordings, time and
// number canaries) takes a Dirichlet(½, …, ½) vector — the q-ary
// generalisation of the arcsine law used by Škorić et al. — with a floor:
// p ← f + (1−qf)·p, f = min(δ, 1/(2q)), so every symbol has probability
// at least f.
//
// Score. With y_i the symbol observed in the leak and x_ji recipient j's,
// the symmetric score of j is S_j = Σ_i g(x_ji, y_i, p_i,y_i) with
// g = +√((1−p)/p) if x_ji = y_i and −√(p/(1−p)) otherwise, p = p_i,y_i
// the bias of the observed symbol. For an innocent recipient, whose
// symbols are independent of the leak, each term has mean 0 and variance
// 1; the coalition's total score grows like 2ℓ/π (binary). Unobserved
// positions (a wording removed or paraphrased) and ambiguous ones (two
// wordings of one position in the leak) add nothing to anyone's score.

// BiasLevels is the number of equally likely values of a binary position's
// bias.
const BiasLevels = 32

// DefaultCutoff is the cutoff δ of the node's code: the value of Design
// for coalitions of 3, ε1 = 10⁻⁸ and ε2 = 10⁻² (TestDefaultCutoff). It
// hardly depends on ε1; a larger coalition size calls for a smaller δ
// (Laarhoven and de Weger's δ ∝ c^(−4/3)).
const DefaultCutoff = 0.02

// binaryLevels returns the BiasLevels values of p (the probability of
// symbol 1) for cutoff δ, increasing. They are symmetric: the level k and
// BiasLevels−1−k values add up to 1.
func binaryLevels(cutoff float64) []float64 {
	t0 := math.Asin(math.Sqrt(cutoff))
	w := (math.Pi/2 - 2*t0) / BiasLevels
	ps := make([]float64, BiasLevels)
	for k := range ps {
		s := math.Sin(t0 + (float64(k)+0.5)*w)
		ps[k] = s * s
	}
	for k := range BiasLevels / 2 {
		ps[BiasLevels-1-k] = 1 - ps[k] // exactly symmetric
	}
	return ps
}

// checkCutoff reports whether δ can be a cutoff.
func checkCutoff(cutoff float64) error {
	if !(cutoff > 0 && cutoff < 0.25) {
		return fmt.Errorf("cutoff %v is not in (0, 0.25)", cutoff)
	}
	return nil
}

// scoreMatch and scoreMiss are the terms of the symmetric score for a
// position whose observed symbol has bias p.
func scoreMatch(p float64) float64 { return math.Sqrt((1 - p) / p) }
func scoreMiss(p float64) float64  { return -math.Sqrt(p / (1 - p)) }

// law is the distribution of an innocent recipient's score over a set of
// observed positions, known through the biases of the observed symbols:
// the score is a sum of independent terms, each +a with probability v and
// −b otherwise (a = √((1−v)/v), b = √(v/(1−v))), whatever the coalition
// did, because an innocent's symbols are drawn independently of it.
//
// Its tail is bounded with Chernoff's inequality, computed exactly for
// these positions: P[S ≥ s] ≤ exp(inf_λ (K(λ) − λs)), K the cumulant
// generating function Σ ln(v·e^(λa) + (1−v)·e^(−λb)). This is the
// operational bound that Furon and Desoubeaux ("Tardos codes for real")
// recommend once a copy has been found: tighter than the worst case over
// all codes that fixes a design's threshold, and valid for any mix of
// binary and q-ary positions, any number of them and any attack.
type law struct {
	v       []float64 // distinct biases of observed symbols, increasing
	n       []float64 // how many positions have each
	a, b, d []float64 // per bias: the score of a match, minus that of a miss, their sum
}

// newLaw returns the law of the positions whose observed symbols have the
// biases ps (in any order).
func newLaw(ps []float64) *law {
	s := slices.Clone(ps)
	slices.Sort(s)
	var v, n []float64
	for _, p := range s {
		if k := len(v); k > 0 && v[k-1] == p {
			n[k-1]++
			continue
		}
		v = append(v, p)
		n = append(n, 1)
	}
	return lawOf(v, n)
}

// lawOf returns the law of n[i] positions of bias v[i], v increasing.
func lawOf(v, n []float64) *law {
	l := &law{v: v, n: n, a: make([]float64, len(v)), b: make([]float64, len(v)), d: make([]float64, len(v))}
	for i, p := range v {
		l.a[i], l.b[i] = scoreMatch(p), -scoreMiss(p)
		l.d[i] = l.a[i] + l.b[i]
	}
	return l
}

// cgf returns K(λ) and its first and second derivatives.
func (l *law) cgf(t float64) (k, k1, k2 float64) {
	for i, v := range l.v {
		n, a, d := l.n[i], l.a[i], l.d[i]
		if n == 0 {
			continue
		}
		e := math.Exp(-t * d)
		den := v + (1-v)*e
		w := v / den
		k += n * (t*a + math.Log(den))
		k1 += n * (a - d*(1-w))
		k2 += n * d * d * w * (1 - w)
	}
	return k, k1, k2
}

// maxScore returns the highest score possible (every symbol matches) and
// the natural log of its probability for an innocent.
func (l *law) maxScore() (s, logP float64) {
	for i, v := range l.v {
		if l.n[i] > 0 {
			s += l.n[i] * l.a[i]
			logP += l.n[i] * math.Log(v)
		}
	}
	return s, logP
}

// logBound returns the natural log of the Chernoff bound on the
// probability that an innocent scores at least s: 0 for s ≤ 0, −Inf above
// the highest possible score.
func (l *law) logBound(s float64) float64 {
	if s <= 0 {
		return 0
	}
	sMax, logPMax := l.maxScore()
	switch {
	case s > sMax*(1+1e-9):
		return math.Inf(-1)
	case s >= sMax*(1-1e-9):
		return logPMax
	}
	// Solve K'(λ) = s, K' increasing from 0 to sMax.
	t := l.solve(func(t float64) (float64, float64) {
		_, k1, k2 := l.cgf(t)
		return k1 - s, k2
	})
	k, _, _ := l.cgf(t)
	return min(0, k-t*s)
}

// threshold returns the lowest score s whose bound logBound(s) is at most
// −L (L > 0): the accusation threshold for a false-accusation probability
// of e^(−L). It is +Inf when even a perfect match is not that unlikely.
func (l *law) threshold(L float64) float64 {
	if _, logPMax := l.maxScore(); -logPMax < L {
		return math.Inf(1)
	}
	// Solve I(λ) = λK'(λ) − K(λ) = L; I is increasing, with derivative λ·K"(λ).
	t := l.solve(func(t float64) (float64, float64) {
		k, k1, k2 := l.cgf(t)
		return t*k1 - k - L, t * k2
	})
	_, k1, _ := l.cgf(t)
	return k1
}

// solve finds the root λ > 0 of an increasing function f (returned with
// its derivative), negative at 0 and positive for large λ, by Newton's
// method kept inside a bisection bracket.
func (l *law) solve(f func(float64) (float64, float64)) float64 {
	lo, hi := 0.0, 1.0
	for i := 0; i < 200; i++ {
		if v, _ := f(hi); v >= 0 {
			break
		}
		lo, hi = hi, hi*2
	}
	t := (lo + hi) / 2
	for range 200 {
		v, d := f(t)
		if math.Abs(v) <= 1e-12*(1+math.Abs(v)) || hi-lo <= 1e-15*hi {
			break
		}
		if v < 0 {
			lo = t
		} else {
			hi = t
		}
		next := t - v/d
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		t = next
	}
	return t
}

// Design holds the parameters of the code for catching coalitions of up
// to Colluders recipients, from Laarhoven and de Weger's analysis of the
// symmetric score with the arcsine distribution with cutoff:
//
//   - soundness: an innocent is accused with probability at most Epsilon1.
//     Chernoff with parameter α: P[S_j ≥ Z] ≤ e^(−αZ)·E[e^(αS_ji)]^ℓ, the
//     expectation taken over the bias and the worst symbol the coalition
//     could put there;
//   - completeness: the coalition's total score Σ_{j∈C} S_j stays below
//     c·Z (so that no colluder reaches Z) with probability at most
//     Epsilon2, bounded the same way with a parameter β against the worst
//     strategy (at each position, the coalition's choice given how many of
//     its members hold each symbol — the marking assumption).
//
// Laarhoven and de Weger bound the two moment generating functions with
// e^x ≤ 1 + x + r·x² and solve for ℓ = d_ℓ·c²·ln(1/ε1),
// Z = d_z·c·ln(1/ε1) and δ = 1/(d_δ·c^(4/3)); as c grows, d_ℓ → π²/2 and
// d_z → π: codes of about (π²/2)·c²·ln(1/ε1) positions, 4.93% of Tardos'
// original length. NewDesign solves the same two conditions numerically
// with the moment generating functions computed exactly (for the discrete
// levels actually used), optimising α, β and δ, which only makes the
// bounds tighter: for c = 3, ε1 = 10⁻⁸, ε2 = 10⁻², it gives δ ≈ 0.02,
// ℓ ≈ 1230 positions (d_ℓ ≈ 7.4; the asymptotic formula says 818) and
// Z ≈ 225; for c = 20 d_ℓ has come down to ≈ 6.1.
//
// ℓ counts observed positions, over every leaked document traced together.
// Scheme.Trace does not use Z: it accuses with the exact bound for the
// positions actually observed (see law), which is lower than Z at the
// design length almost always (TestDesignThreshold).
type Design struct {
	Colluders int     // c
	Epsilon1  float64 // probability of accusing a given innocent
	Epsilon2  float64 // probability of accusing no colluder
	Cutoff    float64 // δ
	Length    int     // ℓ, observed positions needed
	Threshold float64 // Z, the accusation threshold at that length
}

// NewDesign computes the design for coalitions of up to c recipients.
func NewDesign(c int, eps1, eps2 float64) (*Design, error) {
	if c < 1 || c > 64 {
		return nil, errors.New("design: coalition size must be 1 to 64")
	}
	if !(eps1 > 0 && eps1 < 1 && eps2 > 0 && eps2 < 1) {
		return nil, errors.New("design: error probabilities must be in (0, 1)")
	}
	l1, l2 := -math.Log(eps1), -math.Log(eps2)
	best := &Design{Colluders: c, Epsilon1: eps1, Epsilon2: eps2, Length: math.MaxInt}
	try := func(logDelta float64) int {
		delta := math.Exp(logDelta)
		m := newMoments(c, delta)
		n, z := m.length(l1, l2)
		if n < best.Length || n == best.Length && delta > best.Cutoff {
			best.Length, best.Cutoff, best.Threshold = n, delta, z
		}
		return n
	}
	// A coarse scan of log δ, then golden-section refinement around the best.
	lo, hi := math.Log(1e-4), math.Log(0.2)
	const steps = 16
	bestI, bestN := 0, math.MaxInt
	for i := 0; i <= steps; i++ {
		if n := try(lo + (hi-lo)*float64(i)/steps); n < bestN {
			bestI, bestN = i, n
		}
	}
	a := lo + (hi-lo)*float64(max(bestI-1, 0))/steps
	b := lo + (hi-lo)*float64(min(bestI+1, steps))/steps
	golden(a, b, 12, func(x float64) float64 { return -float64(try(x)) })
	return best, nil
}

// moments holds, for one cutoff, what the soundness and completeness
// conditions need.
type moments struct {
	c      int
	levels []float64
	bin    [][]float64 // bin[k][i]: probability that k colluders hold 1 at level i
	t1     [][]float64 // t1[k][i]: the coalition's score when it outputs 1
}

func newMoments(c int, delta float64) *moments {
	m := &moments{c: c, levels: binaryLevels(delta)}
	for k := 0; k <= c; k++ {
		bk := make([]float64, BiasLevels)
		tk := make([]float64, BiasLevels)
		for i, p := range m.levels {
			bk[i] = binomial(c, k) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(c-k))
			tk[i] = (float64(k) - float64(c)*p) / math.Sqrt(p*(1-p))
		}
		m.bin, m.t1 = append(m.bin, bk), append(m.t1, tk)
	}
	return m
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := range k {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// innocentMGF returns E[e^(αS)] for one position of an innocent, with the
// symbol observed there chosen to make it largest.
func (m *moments) innocentMGF(alpha float64) float64 {
	mgf := func(v float64) float64 {
		return v*math.Exp(alpha*scoreMatch(v)) + (1-v)*math.Exp(alpha*scoreMiss(v))
	}
	s := 0.0
	for _, p := range m.levels {
		s += max(mgf(p), mgf(1-p))
	}
	return s / BiasLevels
}

// coalitionMGF returns E[e^(−βT)] for the coalition's total score T at one
// position, against its worst strategy.
func (m *moments) coalitionMGF(beta float64) float64 {
	total := 0.0
	for k := 0; k <= m.c; k++ {
		out1, out0 := 0.0, 0.0
		for i := range m.levels {
			out1 += m.bin[k][i] * math.Exp(-beta*m.t1[k][i])
			out0 += m.bin[k][i] * math.Exp(beta*m.t1[k][i])
		}
		switch k {
		case 0:
			total += out0 // all hold 0: the marking assumption forces 0
		case m.c:
			total += out1
		default:
			total += max(out0, out1)
		}
	}
	return total / BiasLevels
}

// soundZ is the smallest threshold that keeps the accusation of an
// innocent below e^(−l1) over ell positions.
func (m *moments) soundZ(ell, l1 float64) float64 {
	return -golden(math.Log(1e-6), math.Log(20), 40, func(x float64) float64 {
		a := math.Exp(x)
		return -(l1 + ell*math.Log(m.innocentMGF(a))) / a
	})
}

// completeZ is the largest threshold that the coalition's total score
// exceeds c times except with probability e^(−l2).
func (m *moments) completeZ(ell, l2 float64) float64 {
	return golden(math.Log(1e-6), math.Log(20), 40, func(x float64) float64 {
		b := math.Exp(x)
		return (-l2 - ell*math.Log(m.coalitionMGF(b))) / (b * float64(m.c))
	})
}

// length returns the smallest ℓ meeting both conditions, and Z for it.
func (m *moments) length(l1, l2 float64) (int, float64) {
	ok := func(ell int) bool { return m.soundZ(float64(ell), l1) <= m.completeZ(float64(ell), l2) }
	// Bracket from the asymptotic length, then bisect.
	lo, hi := 0, max(16, int(math.Pi*math.Pi*float64(m.c*m.c)*l1))
	for !ok(hi) && hi < 1<<30 {
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, m.soundZ(float64(hi), l1)
}

// golden maximises a unimodal f on [a, b] by golden-section search and
// returns the largest value seen.
func golden(a, b float64, iters int, f func(float64) float64) float64 {
	const r = 0.6180339887498949
	x1, x2 := b-r*(b-a), a+r*(b-a)
	f1, f2 := f(x1), f(x2)
	for range iters {
		if f1 < f2 {
			a, x1, f1 = x1, x2, f2
			x2 = a + r*(b-a)
			f2 = f(x2)
		} else {
			b, x2, f2 = x2, x1, f1
			x1 = b - r*(b-a)
			f1 = f(x1)
		}
	}
	return max(f1, f2)
}
