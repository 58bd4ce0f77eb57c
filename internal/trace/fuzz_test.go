package trace

import (
	"bytes"
	"math"
	"testing"
)

// FuzzLeak feeds Trace arbitrary leaked documents: it must not fail or
// panic, and every bound must be a probability.
func FuzzLeak(f *testing.F) {
	s := testScheme(f)
	tpl := mustParse(f, testReport("report--77777777-8888-4999-8aaa-bbbbbbbbbbbb", 12, true, 12))
	copies, recs := release(f, s, tpl, recipients(4)...)
	f.Add(mustJSON(f, copies[0].Object))
	f.Add([]byte(pasted(copies[1].Object["description"].(string))))
	f.Add([]byte(`{"description": "\ud83d\ude00 \u00e9 \\" [[x|y]]"}`))
	f.Add([]byte(`"a JSON string \u0041"`))
	f.Add([]byte("\x1f\x1f.sinkhole.example.net aaaaaaaaaa.sinkhole.example.net- 1210. -1210 1,210"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		res, err := s.Trace([]Candidate{{tpl, recs}}, doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range res.Scores {
			if !(sc.FalseAccusationBound >= 0 && sc.FalseAccusationBound <= 1) || math.IsNaN(sc.Score) || sc.Positions < sc.Matches {
				t.Fatalf("score %+v", sc)
			}
		}
	})
}

// FuzzEvidence feeds VerifyEvidence changed evidence: it must not panic,
// and must accept only the evidence as it was signed (up to white space).
func FuzzEvidence(f *testing.F) {
	c := newEvidenceCase(f)
	f.Add(c.data, 0, byte(0))
	f.Add(c.data, 100, byte('x'))
	f.Add(c.data, len(c.data)/2, byte('0'))
	f.Fuzz(func(t *testing.T, data []byte, at int, b byte) {
		if at >= 0 && at < len(data) {
			data = bytes.Clone(data)
			data[at] = b
		}
		_, err := VerifyEvidence(data, c.pub)
		if err == nil && !bytes.Equal(bytes.Join(bytes.Fields(data), nil), bytes.Join(bytes.Fields(c.data), nil)) {
			t.Fatalf("changed evidence verifies")
		}
	})
}
