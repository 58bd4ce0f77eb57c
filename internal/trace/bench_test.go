package trace

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFingerprint fingerprints a report of 20 marked sentences, a
// marked name and reference, and three canaries (25 marks) for one
// recipient: the cost added to a release, per object.
func BenchmarkFingerprint(b *testing.B) {
	s := testScheme(b)
	tpl := mustParse(b, testReport("report--44444444-5555-4666-8777-888888888888", 20, true, 9))
	rs := recipients(100)
	i := 0
	for b.Loop() {
		if _, err := s.Fingerprint(tpl, rs[i%len(rs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkParse parses the same report's markup: done once per object
// version, for all its recipients.
func BenchmarkParse(b *testing.B) {
	obj := testReport("report--44444444-5555-4666-8777-888888888888", 20, true, 9)
	for b.Loop() {
		if _, err := Parse(obj, "report--44444444-5555-4666-8777-888888888888", "v"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrace traces one leaked document against 1,000 released
// object versions (reports of 20 marked sentences and three canaries),
// each released to 100 recipients: 100,000 records. In "distinct" the
// reports have different texts, as they would; in "shared" they all have
// the same text (but their own positions), so the leak is read in every
// one of them: the worst case. The leaked object's records are real
// fingerprints; the others' symbols are drawn from the biases with
// math/rand, which costs the same to trace and much less to set up.
func BenchmarkTrace(b *testing.B) {
	s := testScheme(b)
	rs := recipients(100)
	for _, texts := range []string{"distinct", "shared"} {
		rng := rand.New(rand.NewPCG(5, 6))
		var cands []Candidate
		var leaked map[string]any
		for i := range 1000 {
			id := fmt.Sprintf("report--00000000-0000-4000-8000-%012d", i)
			seed := uint64(100 + i)
			if texts == "shared" {
				seed = 100
			}
			tpl := mustParse(b, testReport(id, 20, true, seed))
			if i == 500 {
				copies, recs := release(b, s, tpl, rs...)
				cands, leaked = append(cands, Candidate{tpl, recs}), copies[17].Object
				continue
			}
			cands = append(cands, Candidate{tpl, randomRecords(s, tpl, rs, rng)})
		}
		for _, form := range []struct {
			name string
			doc  []byte
		}{
			{"object", mustJSON(b, leaked)},
			{"pasted", []byte(pasted(leaked["description"].(string)))},
		} {
			b.Run(texts+"/"+form.name, func(b *testing.B) {
				for b.Loop() {
					res, err := s.Trace(cands, form.doc)
					if err != nil {
						b.Fatal(err)
					}
					if got := accused(res); len(got) != 1 || got[0] != rs[17] {
						b.Fatalf("accused %q", got)
					}
				}
			})
		}
	}
}

// randomRecords returns records of tpl for rs with symbols drawn from the
// code's biases by rng rather than the PRF, and random labels.
func randomRecords(s *Scheme, tpl *Template, rs []string, rng *rand.Rand) []*Record {
	lay := tpl.layout(s, DefaultCutoff)
	var recs []*Record
	for _, r := range rs {
		rec := &Record{Object: tpl.id, Version: tpl.version, Recipient: r, Cutoff: DefaultCutoff, Symbols: make([]byte, len(tpl.marks))}
		for j, m := range tpl.marks {
			if m.Symbols() == 0 {
				rec.Labels = append(rec.Labels, fmt.Sprintf("%010d", rng.IntN(1e9)))
				continue
			}
			u, c := rng.Float64(), 0.0
			for a, p := range lay.bias[j] {
				if c += p; u < c || a == len(lay.bias[j])-1 {
					rec.Symbols[j] = byte(a)
					break
				}
			}
		}
		recs = append(recs, rec)
	}
	return recs
}
