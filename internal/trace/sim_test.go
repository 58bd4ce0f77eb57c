package trace

import (
	"flag"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

var trials = flag.Int("trace.trials", 10000, "trials of each seeded simulation of the code")

// The simulations draw codewords from the code's distribution with
// math/rand/v2 rather than the keyed PRF (TestPRFDistribution checks that
// the PRF draws the same distribution), for 100 recipients, with
// positions grouped by bias level and codewords bit-packed, so that 10,000
// trials of every attack run in seconds under the race detector. Scores,
// bounds and accusations are the package's own (assess's formula, law).

// attack is a collusion strategy: it writes the leaked symbols y from the
// colluders' codewords xs (bit-packed, one bit per position).
type attack struct {
	name string
	fn   func(rng *rand.Rand, xs [][]uint64, y []uint64)
}

var attacks = []attack{
	// interleaving: each position copied from a colluder chosen at random.
	{"interleaving", func(rng *rand.Rand, xs [][]uint64, y []uint64) {
		for w := range y {
			v := xs[0][w]
			diff := uint64(0)
			for _, x := range xs[1:] {
				diff |= x[w] ^ v
			}
			for d := diff; d != 0; d &= d - 1 {
				b := uint64(1) << bits.TrailingZeros64(d)
				v = v&^b | xs[rng.IntN(len(xs))][w]&b
			}
			y[w] = v
		}
	}},
	// majority: the symbol most colluders hold, ties broken at random.
	{"majority", func(rng *rand.Rand, xs [][]uint64, y []uint64) {
		for w := range y {
			switch len(xs) {
			case 2:
				a, b := xs[0][w], xs[1][w]
				y[w] = a&b | (a^b)&rng.Uint64()
			case 3:
				a, b, c := xs[0][w], xs[1][w], xs[2][w]
				y[w] = a&b | a&c | b&c
			default:
				panic("majority: simulated for 2 or 3 colluders only")
			}
		}
	}},
	// random choice: a symbol chosen at random among those the colluders hold.
	{"random-choice", func(rng *rand.Rand, xs [][]uint64, y []uint64) {
		for w := range y {
			and, or := xs[0][w], xs[0][w]
			for _, x := range xs[1:] {
				and &= x[w]
				or |= x[w]
			}
			y[w] = and | (or &^ and & rng.Uint64())
		}
	}},
}

// scenario is a coalition size and an attack.
type scenario struct {
	c      int
	attack attack
}

func (s scenario) String() string {
	if s.c == 1 {
		return "single leaker"
	}
	return string(rune('0'+s.c)) + " colluders, " + s.attack.name
}

// aliasTable draws 8 positions of one bias level at once: a byte whose
// bits are independent Bernoulli(p), by Walker's alias method, from 32
// random bits (an 8-bit index and a 24-bit threshold, exact to 2⁻²⁴ of a
// bucket), so that one Uint64 draws 16 positions.
type aliasTable struct {
	thr   [256]uint32
	alias [256]uint8
}

const aliasOne = 1 << 24

func newAliasTable(p float64) *aliasTable {
	var prob [256]float64
	for x := range 256 {
		k := bits.OnesCount8(uint8(x))
		prob[x] = math.Pow(p, float64(k)) * math.Pow(1-p, float64(8-k)) * 256
	}
	a := &aliasTable{}
	var small, large []int
	for x, q := range prob {
		if q < 1 {
			small = append(small, x)
		} else {
			large = append(large, x)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.thr[s], a.alias[s] = uint32(math.Round(prob[s]*aliasOne)), uint8(l)
		prob[l] -= 1 - prob[s]
		if prob[l] < 1 {
			large, small = large[:len(large)-1], append(small, l)
		}
	}
	for _, x := range append(small, large...) {
		a.thr[x], a.alias[x] = aliasOne, uint8(x)
	}
	return a
}

// simOutcome counts what happened in one scenario.
type simOutcome struct {
	caught, falseAccusations, trials int
	// The highest score of an innocent and the lowest best score of a
	// colluder, as fractions of the accusation threshold, over all trials.
	maxInnocent, minColluder float64
}

// simulate runs trials of every scenario with n recipients and ell
// positions per trial, sharing each trial's codewords between scenarios.
func simulate(t *testing.T, seed uint64, n, ell, trials int, cutoff, eps float64, scens []scenario) []simOutcome {
	levels := binaryLevels(cutoff)
	tables := make([]*aliasTable, BiasLevels)
	weight := make([]float64, BiasLevels) // score of a match minus that of a miss
	for k, p := range levels {
		tables[k] = newAliasTable(p)
		weight[k] = scoreMatch(p) - scoreMiss(p)
	}
	workers := min(runtime.GOMAXPROCS(0), 2)
	out := make([][]simOutcome, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := make([]simOutcome, len(scens))
			for i := range res {
				res[i].maxInnocent, res[i].minColluder = math.Inf(-1), math.Inf(1)
			}
			pcg := rand.NewPCG(seed, uint64(wk))
			rng := rand.New(pcg)
			var s simState
			for tr := wk; tr < trials; tr += workers {
				s.trial(pcg, n, ell, levels, tables)
				for si, sc := range scens {
					colluder, innocent, z := s.run(rng, sc, levels, weight, eps)
					r := &res[si]
					if colluder >= z {
						r.caught++
					}
					if innocent >= z {
						r.falseAccusations++
					}
					r.trials++
					r.maxInnocent, r.minColluder = max(r.maxInnocent, innocent/z), min(r.minColluder, colluder/z)
				}
			}
			out[wk] = res
		}()
	}
	wg.Wait()
	total := make([]simOutcome, len(scens))
	for i := range total {
		total[i].maxInnocent, total[i].minColluder = math.Inf(-1), math.Inf(1)
	}
	for _, res := range out {
		for i, r := range res {
			total[i].caught += r.caught
			total[i].falseAccusations += r.falseAccusations
			total[i].trials += r.trials
			total[i].maxInnocent = max(total[i].maxInnocent, r.maxInnocent)
			total[i].minColluder = min(total[i].minColluder, r.minColluder)
		}
	}
	return total
}

// simState is one trial's code: positions sorted by bias level, each
// level's range starting on a byte, codewords of n recipients.
type simState struct {
	n, words int
	count    [BiasLevels]int
	start    [BiasLevels]int // first bit of each level's range
	segs     []simSeg
	x        []uint64 // n codewords of words words
	y        []uint64
}

// simSeg is the part of one level's range within one word.
type simSeg struct {
	word  int
	mask  uint64
	level int
}

func (s *simState) trial(pcg *rand.PCG, n, ell int, levels []float64, tables []*aliasTable) {
	s.n = n
	s.count = [BiasLevels]int{}
	for i := 0; i < ell; {
		r := pcg.Uint64()
		for j := 0; j < 12 && i < ell; j++ {
			s.count[r&(BiasLevels-1)]++
			r >>= 5
			i++
		}
	}
	bit := 0
	s.segs = s.segs[:0]
	for k := range BiasLevels {
		s.start[k] = bit
		for b := bit; b < bit+s.count[k]; {
			w := b / 64
			end := min(bit+s.count[k], (w+1)*64)
			s.segs = append(s.segs, simSeg{w, (^uint64(0) >> (64 - (end - b))) << (b % 64), k})
			b = end
		}
		bit += (s.count[k] + 7) &^ 7
	}
	s.words = (bit + 63) / 64
	if s.words > maxSimWords || n > maxSimRecipients {
		panic("simulation: too many positions or recipients")
	}
	if cap(s.x) < n*s.words {
		s.x = make([]uint64, n*s.words)
		s.y = make([]uint64, s.words)
	}
	s.x, s.y = s.x[:n*s.words], s.y[:s.words]
	// Level by level, into local arrays: cheap under the race detector.
	var rows [maxSimRecipients * maxSimWords]uint64
	var thr [256]uint32
	var alias [256]uint8
	for k := range BiasLevels {
		thr, alias = tables[k].thr, tables[k].alias
		for j := range n {
			row := rows[j*s.words : (j+1)*s.words]
			for b := 0; b < s.count[k]; b += 16 {
				r := pcg.Uint64()
				for h := 0; h < 2 && b+8*h < s.count[k]; h++ {
					i := uint8(r)
					v := uint64(i)
					if uint32(r>>8)&(aliasOne-1) >= thr[i] {
						v = uint64(alias[i])
					}
					at := s.start[k] + b + 8*h
					row[at/64] |= v << (at % 64)
					r >>= 32
				}
			}
		}
	}
	copy(s.x, rows[:n*s.words])
}

// maxSimWords bounds the positions of a simulated trial (with each bias
// level padded to a byte): 8192.
const maxSimWords = 128

// maxSimRecipients bounds the recipients of a simulation.
const maxSimRecipients = 128

// run plays one scenario on the trial's codewords, colluders being
// recipients 0…c−1, and returns the best score of a colluder, that of an
// innocent, and the accusation threshold: the score at which assess's
// bound (n times the Chernoff bound of law) reaches eps.
func (s *simState) run(rng *rand.Rand, sc scenario, levels, weight []float64, eps float64) (colluder, innocent, threshold float64) {
	xs := make([][]uint64, sc.c)
	for j := range xs {
		xs[j] = s.x[j*s.words : (j+1)*s.words]
	}
	if sc.c == 1 {
		copy(s.y, xs[0])
	} else {
		sc.attack.fn(rng, xs, s.y)
	}
	// The law of an innocent's score, the score of a recipient holding
	// no observed symbol (every term a miss), and the segments in local
	// arrays.
	counts := make([]float64, BiasLevels)
	base := 0.0
	var y [maxSimWords]uint64
	copy(y[:], s.y)
	var segWord [maxSimWords + BiasLevels]int
	var segMask [maxSimWords + BiasLevels]uint64
	var segWeight [maxSimWords + BiasLevels]float64
	for i, g := range s.segs {
		ones := bits.OnesCount64(y[g.word] & g.mask)
		zeros := bits.OnesCount64(g.mask) - ones
		counts[g.level] += float64(ones)
		counts[BiasLevels-1-g.level] += float64(zeros)
		base += float64(ones)*scoreMiss(levels[g.level]) + float64(zeros)*scoreMiss(1-levels[g.level])
		segWord[i], segMask[i], segWeight[i] = g.word, g.mask, weight[g.level]
	}
	segs := len(s.segs)
	bestInnocent, bestColluder := math.Inf(-1), math.Inf(-1)
	var row [maxSimWords]uint64
	for j := range s.n {
		copy(row[:s.words], s.x[j*s.words:(j+1)*s.words])
		score := base
		for i := range segs {
			w := segWord[i]
			score += segWeight[i] * float64(bits.OnesCount64(^(row[w]^y[w])&segMask[i]))
		}
		if j < sc.c {
			bestColluder = max(bestColluder, score)
		} else {
			bestInnocent = max(bestInnocent, score)
		}
	}
	z := lawOf(levels, counts).threshold(math.Log(float64(s.n)) - math.Log(eps))
	return bestColluder, bestInnocent, z
}

// TestSimulation is the acceptance test of the code: 100
// recipients; a single leaker identified in every trial; coalitions of 2
// and 3 using interleaving, majority and random-choice attacks caught (a
// colluder accused) in at least 99% of trials; no innocent accused in any
// trial. The code has the length Design gives for coalitions of 3 with
// ε1 = 10⁻⁸ (DefaultEpsilon over 100 recipients) and ε2 = 10⁻², and the
// node's DefaultCutoff.
func TestSimulation(t *testing.T) {
	const n = 100
	d := design3(t)
	scens := []scenario{{c: 1}}
	for _, c := range []int{2, 3} {
		for _, a := range attacks {
			scens = append(scens, scenario{c, a})
		}
	}
	start := time.Now()
	res := simulate(t, 20260301, n, d.Length, *trials, DefaultCutoff, DefaultEpsilon, scens)
	t.Logf("%d trials, %d recipients, %d positions, δ = %v, ε = %v: %v", *trials, n, d.Length, DefaultCutoff, DefaultEpsilon, time.Since(start).Round(time.Millisecond))
	for i, sc := range scens {
		r := res[i]
		rate := float64(r.caught) / float64(r.trials)
		t.Logf("%-30s caught %6.2f%% (%d/%d), innocents accused in %d trials; best innocent at most %.2f of the threshold, best colluder at least %.2f",
			sc, 100*rate, r.caught, r.trials, r.falseAccusations, r.maxInnocent, r.minColluder)
		switch {
		case r.falseAccusations > 0:
			t.Errorf("%s: an innocent accused in %d of %d trials", sc, r.falseAccusations, r.trials)
		case sc.c == 1 && r.caught != r.trials:
			t.Errorf("single leaker identified in %d of %d trials, want all", r.caught, r.trials)
		case rate < 0.99:
			t.Errorf("%s: caught in %.2f%% of trials, want at least 99%%", sc, 100*rate)
		}
	}
}

// TestSimulationShortCode shows what a code of a quarter of the design
// length does: coalitions escape more often, but no innocent is accused,
// because the bound holds for any number of positions.
func TestSimulationShortCode(t *testing.T) {
	const n = 100
	d := design3(t)
	ell, tr := d.Length/4, max(*trials/10, 100)
	scens := []scenario{{c: 1}, {2, attacks[0]}, {3, attacks[0]}, {3, attacks[1]}}
	res := simulate(t, 20260302, n, ell, tr, DefaultCutoff, DefaultEpsilon, scens)
	for i, sc := range scens {
		r := res[i]
		t.Logf("%d positions, %-30s caught %6.2f%%, innocents accused in %d of %d trials", ell, sc, 100*float64(r.caught)/float64(r.trials), r.falseAccusations, r.trials)
		if r.falseAccusations > 0 {
			t.Errorf("%s: an innocent accused in %d of %d trials", sc, r.falseAccusations, r.trials)
		}
	}
}
