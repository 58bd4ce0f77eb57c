package screen

import (
	"encoding/csv"
	"os"
	"testing"

	"detente"
)

// f1Floor is the F1 score on pairs.csv below which TestPairsAccuracy fails.
// Naive Jaro-Winkler on whole names reaches about 0.68.
const f1Floor = 0.90

func schemaType(s string) detente.EntityType {
	switch s {
	case "Person":
		return detente.EntityPerson
	case "Vessel":
		return detente.EntityVessel
	default:
		return detente.EntityOrganization
	}
}

func TestPairsAccuracy(t *testing.T) {
	p := sharedDir(t, "testdata/names/pairs.csv")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, tn, fn int
	for _, row := range rows[1:] {
		typ := schemaType(row[1])
		r := Compare(Query{Name: row[2], Type: typ}, Query{Name: row[3], Type: typ})
		want := row[4] == "true"
		switch {
		case r.Match && want:
			tp++
		case r.Match && !want:
			fp++
			if testing.Verbose() {
				t.Logf("FP %s", r.Explanation)
			}
		case !r.Match && want:
			fn++
			if testing.Verbose() {
				t.Logf("FN %s", r.Explanation)
			}
		default:
			tn++
		}
	}
	prec := float64(tp) / float64(tp+fp)
	rec := float64(tp) / float64(tp+fn)
	f1 := 2 * prec * rec / (prec + rec)
	t.Logf("pairs.csv at threshold %.2f: %d pairs, precision %.3f, recall %.3f, F1 %.3f (tp %d fp %d tn %d fn %d)",
		DefaultThreshold, len(rows)-1, prec, rec, f1, tp, fp, tn, fn)
	if f1 < f1Floor {
		t.Errorf("F1 %.3f below the floor %.2f", f1, f1Floor)
	}
}

// TestPairsCurve reports precision, recall and F1 on pairs.csv at
// thresholds from 0.60 to 0.95: the curve docs/screening.md shows.
func TestPairsCurve(t *testing.T) {
	p := sharedDir(t, "testdata/names/pairs.csv")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type scored struct {
		s    float64
		want bool
	}
	var all []scored
	for _, row := range rows[1:] {
		typ := schemaType(row[1])
		r := Compare(Query{Name: row[2], Type: typ}, Query{Name: row[3], Type: typ})
		all = append(all, scored{r.Score, row[4] == "true"})
	}
	t.Log("| threshold | precision | recall | F1 |")
	t.Log("|---|---|---|---|")
	for _, th := range []float64{0.60, 0.65, 0.70, 0.75, 0.80, DefaultThreshold, 0.85, 0.90, 0.95} {
		var tp, fp, fn int
		for _, x := range all {
			m := x.s >= th-1e-9
			switch {
			case m && x.want:
				tp++
			case m && !x.want:
				fp++
			case !m && x.want:
				fn++
			}
		}
		prec := float64(tp) / float64(tp+fp)
		rec := float64(tp) / float64(tp+fn)
		t.Logf("| %.2f | %.3f | %.3f | %.3f |", th, prec, rec, 2*prec*rec/(prec+rec))
	}
}
