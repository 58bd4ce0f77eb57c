package screen

import (
	"strings"
	"testing"
	"unicode/utf8"

	"detente"
)

func TestCompareRegressions(t *testing.T) {
	person := detente.EntityPerson
	org := detente.EntityOrganization
	tests := []struct {
		a, b  string
		typ   detente.EntityType
		match bool
	}{
		{"George Bush", "George Habash", person, false},
		{"Sergei Lavrov", "Sergey Lavrov", person, true},
		{"Sergei Lavrov", "Sergej Lawrow", person, true},
		{"Sergei Lavrov", "Сергей Лавров", person, true},
		{"Sergey Lavrov", "Sergej Lawrow", person, true},
		{"Sergey Lavrov", "Сергей Лавров", person, true},
		{"Sergej Lawrow", "Сергей Лавров", person, true},
		{"Serguei Lavrov", "Сергей Лавров", person, true},
		{"Mohammed Yusuf", "Muhammad Youssef", person, true},
		{"Mohamed al-Hassan", "Mohammad el Hasan", person, true},
		{"Abdul Aziz Nooristani", "'Abd al-Aziz al-Nuristani", person, true},
		{"Osama bin Laden", "Usama bin Ladin", person, true},
		{"Saddam Hussein al-Tikriti", "صدام حسين التكريتي", person, true},
		{"Kyriakos Mitsotakis", "Κυριάκος Μητσοτάκης", person, true},
		{"SiemensAG", "Siemens AG", org, true},
		{"Mr. Rami Makhlouf", "Rami Makhlouf", person, true},
		// A legal form or a common word alone never matches.
		{"LLC", "LLC", org, false},
		{"Holding Ltd", "Holding GmbH", org, false},
		{"Volkswagen AG", "Siemens AG", org, false},
		{"International Trading Company", "International Trading Corp", org, false},
		{"Bank", "Bank of Iran", org, false},
		{"The Group", "Group Ltd", org, false},
		// Entity type is evidence against.
		{"Hellenic Spirit", "Hellenic Spirit", person, true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			r := Compare(Query{Name: tt.a, Type: tt.typ}, Query{Name: tt.b, Type: tt.typ})
			if r.Match != tt.match {
				t.Errorf("match = %v, want %v: %s", r.Match, tt.match, r.Explanation)
			}
			if r.Explanation == "" || len(r.Tokens) == 0 && r.Score > 0 {
				t.Errorf("result does not explain itself: %+v", r)
			}
		})
	}
}

func TestCompareEvidence(t *testing.T) {
	base := Query{Name: "Ali Hassan Mahmoud", Type: detente.EntityPerson, DatesOfBirth: []string{"1970-05-01"}, Nationalities: []string{"IQ"}}
	tests := []struct {
		name  string
		b     Query
		match bool
		kind  string
	}{
		{"same dob", Query{Name: "Ali Hasan Mahmud", DatesOfBirth: []string{"1970-05-01"}}, true, "dob"},
		{"dob far apart", Query{Name: "Ali Hasan Mahmud", DatesOfBirth: []string{"1940"}}, false, "dob"},
		{"organisation", Query{Name: "Ali Hasan Mahmud", Type: detente.EntityOrganization}, false, "type"},
		{"other nationality", Query{Name: "Ali Hasan Mahmud", Nationalities: []string{"FR"}}, true, "nationality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(base, tt.b)
			if r.Match != tt.match {
				t.Errorf("match = %v, want %v: %s", r.Match, tt.match, r.Explanation)
			}
			found := false
			for _, e := range r.Evidence {
				found = found || e.Kind == tt.kind
			}
			if !found {
				t.Errorf("no %s evidence in %s", tt.kind, r.Explanation)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mr. Recep Tayyip Erdoğan", "recep tayyip erdogan"},
		{"Sheikh Isa Bin Tarif", "isa bin tarif"},
		{"G.m.b.H.", "gmbh"},
		{"Al-Qa'ida", "al qaida"},
		{"Abdul Aziz", "abd aziz"},
		{"Abdurrahman", "abd rahman"},
		{"Shamsuddin", "shams din"},
		{"Brigade Forty-Four", "brigade 44"},
		{"Ig0r Sech1n", "igor sechin"},
		{"Сергей Лавров", "sergey lavrov"},
		{"Κυριάκος", "kyriakos"},
		{"AT&T", "at and t"},
		{"Limited Liability Company Iskusstvo", "limitedliabilitycompany iskusstvo"},
		{"习近平", "xi jinping"},
		{"ﾊﾞﾗｸ･ｵﾊﾞﾏ", "baraku obama"},
		{"\u1100\u1175\u11B7\u110C\u1165\u11BC\u110B\u1173\u11AB", "kim jeongeun"},
		{"ედუარდ შევარდნაძე", "eduard shevardnadze"},
		{"नरेन्द्र मोदी", "narendra modi"},
		{"Deutsche Bank's Int'l Fund III", "deutsche bank international fund 3"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTransliterateCyrillic(t *testing.T) {
	got := TransliterateCyrillic("Сергей")
	want := []string{"sergey", "sergei", "sergej", "sergej", "serguei"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("TransliterateCyrillic(Сергей) = %v, want %v", got, want)
	}
	got = TransliterateCyrillic("Лавров")
	if got[3] != "lawrow" {
		t.Errorf("German Лавров = %q, want lawrow", got[3])
	}
}

func TestSkeleton(t *testing.T) {
	groups := [][]string{
		{"mohammed", "muhammad", "mohamed", "mohammad", "muhammed"},
		{"lavrov", "lawrow"},
		{"sergei", "sergey", "sergej", "serguei"},
		{"hussein", "husayn", "hussain", "husein"},
		{"qaddafi", "kaddafi", "qadhafi"},
	}
	for _, g := range groups {
		t.Run(g[0], func(t *testing.T) {
			for _, w := range g[1:] {
				if Skeleton(w) != Skeleton(g[0]) {
					t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q", w, Skeleton(w), g[0], Skeleton(g[0]))
				}
			}
		})
	}
	if Skeleton("bush") == Skeleton("habash") {
		t.Error("bush and habash share a skeleton")
	}
}

func TestJaroWinkler(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.84},
		{"", "", 1},
		{"abc", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := JaroWinkler(tt.a, tt.b); got < tt.want-0.005 || got > tt.want+0.005 {
				t.Errorf("JaroWinkler = %.3f, want %.3f", got, tt.want)
			}
		})
	}
}

// TestCrossScriptUN queries every UN entry that carries an original-script
// name by that name and requires the entry among the hits.
func TestCrossScriptUN(t *testing.T) {
	ix, ds := fixtureIx(t)
	total, found := 0, 0
	var missed []string
	for di, d := range ds {
		if d.Authority != "un" {
			continue
		}
		for _, n := range d.Names {
			if n.Kind != detente.NameKindOriginalScript || n.Script == "Latn" {
				continue
			}
			total++
			ok := false
			for _, h := range ix.Search(Query{Name: n.Name, Type: d.Type}, 10) {
				if h.Designation == di && h.Match {
					ok = true
				}
			}
			if ok {
				found++
			} else {
				missed = append(missed, n.Name)
			}
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("cross-script: %d of %d UN original-script names find their entry (%.3f)", found, total, rate)
	if rate < 0.99 {
		t.Errorf("cross-script recall %.3f below 0.99; missed %v", rate, missed)
	}
}

// TestCrossScriptLatinToOriginal compares each UN primary name with its own
// original-script name.
func TestCrossScriptLatinToOriginal(t *testing.T) {
	_, ds := fixtureIx(t)
	total, match := 0, 0
	for _, d := range ds {
		if d.Authority != "un" {
			continue
		}
		for _, n := range d.Names {
			if n.Kind == detente.NameKindOriginalScript && n.Script == "Arab" {
				total++
				if Compare(Query{Name: d.PrimaryName()}, Query{Name: n.Name}).Match {
					match++
				}
			}
		}
	}
	t.Logf("UN primary Latin name vs its Arabic original: %d of %d match (%.3f)", match, total, float64(match)/float64(total))
	if float64(match)/float64(total) < 0.65 {
		t.Errorf("only %d of %d Latin/Arabic pairs match", match, total)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Sergei Lavrov", "Сергей Лавров", "صدام حسين التكريتي", "Κυριάκος", "G.m.b.H.", "Abd al-Aziz", "Ig0r", "1st Forty-Four", "", "ա.բ", "a..b", "abdullahi abdul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) && utf8.ValidString(s) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, n)
		}
		if Normalize(s) != n {
			t.Fatalf("Normalize(%q) is not deterministic", s)
		}
		r := CompareNames(s, s)
		if r.Score < 0 || r.Score > 1 {
			t.Fatalf("score %f out of range", r.Score)
		}
		for _, w := range strings.Fields(n) {
			_ = Skeleton(w)
		}
	})
}

func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"Сергей", "щука", "Йод", "Ёлка", "Κυριάκος", "Բարակ", "عبد الله", "习近平", "バラク・オバマ", "김정은", "יצחק", "ประยุทธ์", "नरेन्द्र", "შევარდნაძე"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := TransliterateCyrillic(s); len(got) != len(CyrillicSystems) {
			t.Fatalf("TransliterateCyrillic(%q) returned %d spellings", s, len(got))
		}
		if got := TransliterateGreek(s); len(got) != 2 {
			t.Fatalf("TransliterateGreek(%q) returned %d spellings", s, len(got))
		}
		if len(TransliterateArmenian(s)) == 0 || len(TransliterateGeorgian(s)) == 0 || len(TransliterateKana(s)) == 0 ||
			len(TransliterateHangul(s)) == 0 || len(TransliterateThai(s)) == 0 || len(TransliterateDevanagari(s)) == 0 {
			t.Fatalf("a transliteration of %q returned no spelling", s)
		}
		_ = romaniseArabic(s)
		_, _ = romaniseHebrew(s)
		_ = readHanName(s)
	})
}

func TestThreshold(t *testing.T) {
	a, b := Query{Name: "Abdel Fattah el-Sirri"}, Query{Name: "Abdel Fattah el-Sisi"}
	r := Compare(a, b)
	if r.Threshold != DefaultThreshold {
		t.Errorf("threshold = %v, want the default", r.Threshold)
	}
	a.Threshold = 0.7
	if r := Compare(a, b); r.Threshold != 0.7 || r.Match != (r.Score >= 0.7) {
		t.Errorf("threshold 0.7: %+v", r)
	}
	for _, bad := range []float64{-0.1, 1.5} {
		if CheckThreshold(bad) == nil {
			t.Errorf("CheckThreshold(%v) = nil", bad)
		}
	}
	if CheckThreshold(0) != nil || CheckThreshold(0.9) != nil {
		t.Error("CheckThreshold refuses a good threshold")
	}
}
