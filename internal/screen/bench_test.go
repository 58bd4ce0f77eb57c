package screen

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
)

// BenchmarkLoadAndIndex loads the UN, OFAC and EU lists from the shared test
// data and indexes them.
func BenchmarkLoadAndIndex(b *testing.B) {
	sharedDir(b, "testdata/lists")
	var n int
	for b.Loop() {
		ds := loadFixtures(b)
		n = NewIndex(ds).Len()
	}
	b.ReportMetric(float64(n), "designations")
}

// benchQueries returns screening queries: altered listed names, unlisted
// names and original-script names, in a fixed order.
func benchQueries(ds []detente.Designation) []Query {
	rng := rand.New(rand.NewPCG(1, 2))
	var qs []Query
	for _, d := range ds {
		if d.Type == detente.EntityPerson && rng.IntN(10) == 0 {
			qs = append(qs, Query{Name: alterName(rng, d.PrimaryName()), Type: detente.EntityPerson})
		}
		for _, n := range d.Names {
			if n.Kind == detente.NameKindOriginalScript && rng.IntN(4) == 0 {
				qs = append(qs, Query{Name: n.Name})
			}
		}
	}
	for range len(qs) {
		qs = append(qs, Query{Name: givenNames[rng.IntN(len(givenNames))] + " " + familyNames[rng.IntN(len(familyNames))]})
	}
	rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}

// BenchmarkSearch screens one name at a time against the three lists and
// reports the 50th and 99th percentile latency of single queries, in wall
// time and, on Linux, in CPU time of the thread that ran them: on a
// machine shared with other work the wall-time tail measures the
// scheduler as much as the search.
func BenchmarkSearch(b *testing.B) {
	ix, ds := fixtureIx(b)
	qs := benchQueries(ds)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, 4096)
	cpu := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		c0, ok := threadCPU()
		start := time.Now()
		ix.Search(qs[i%len(qs)], 10)
		lat = append(lat, time.Since(start))
		if c1, _ := threadCPU(); ok {
			cpu = append(cpu, c1-c0)
		}
		i++
	}
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	if len(cpu) > 0 {
		b.ReportMetric(pct(cpu, 0.50), "cpu-p50-ms")
		b.ReportMetric(pct(cpu, 0.99), "cpu-p99-ms")
	}
}

// BenchmarkCompare compares two names.
func BenchmarkCompare(b *testing.B) {
	a := Query{Name: "Abd al-Aziz Muhammad al-Nuristani", DatesOfBirth: []string{"1970"}}
	c := Query{Name: "NURISTANI, Abdul Aziz Mohammed", DatesOfBirth: []string{"1970-01-01"}}
	for b.Loop() {
		Compare(a, c)
	}
}

// BenchmarkCompareLists20k resolves two synthetic lists of 20,000 people
// each (half of the second list are re-spelt entries of the first).
func BenchmarkCompareLists20k(b *testing.B) {
	ds := syntheticLists(20000)
	var both int
	for b.Loop() {
		both = CompareLists(ds, CompareOptions{}).Pairs[0].Both
	}
	b.ReportMetric(float64(both), "resolved")
}

// BenchmarkNormalize normalises a mixed-script name.
func BenchmarkNormalize(b *testing.B) {
	names := []string{"Mr. Abd al-Rahman bin Muhammad al-Qahtani", "Сергей Викторович Лавров", "صدام حسين التكريتي", "OOO Oboronnye Initsiativy"}
	for b.Loop() {
		for _, n := range names {
			_ = strings.Fields(Normalize(n))
		}
	}
}

// BenchmarkCompareListsFixtures resolves the UN, OFAC and EU lists of the
// shared fixtures against each other (what 'detente lists compare un ofac
// eu' does after reading the store).
func BenchmarkCompareListsFixtures(b *testing.B) {
	_, ds := fixtureIx(b)
	var scope int
	for b.Loop() {
		scope = len(CompareLists(ds, CompareOptions{}).Scope)
	}
	b.ReportMetric(float64(scope), "scope-differences")
}
