package screen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"detente"
	"detente/internal/lists"
)

// loadFixtures loads the UN, OFAC and EU lists from the shared test data.
func loadFixtures(t testing.TB) []detente.Designation {
	t.Helper()
	dir := sharedDir(t, "testdata/lists")
	open := func(p string) *os.File {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var all []detente.Designation
	un := open("un/consolidated.xml")
	defer un.Close()
	ds, err := lists.LoadUN(un)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, ds...)
	files := []*os.File{open("ofac/sdn.csv"), open("ofac/add.csv"), open("ofac/alt.csv"), open("ofac/sdn_comments.csv")}
	ds, err = lists.LoadOFAC(files[0], files[1], files[2], files[3])
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, ds...)
	eu := open("eu/32001R2580.csv")
	defer eu.Close()
	ds, err = lists.LoadEU(eu)
	if err != nil {
		t.Fatal(err)
	}
	return append(all, ds...)
}

var (
	fixtureOnce  sync.Once
	fixtureDS    []detente.Designation
	fixtureIndex *Index
)

func fixtureIx(t testing.TB) (*Index, []detente.Designation) {
	sharedDir(t, "testdata/lists")
	fixtureOnce.Do(func() {
		fixtureDS = loadFixtures(t)
		fixtureIndex = NewIndex(fixtureDS)
	})
	return fixtureIndex, fixtureDS
}

// Mistyping and re-transliteration, as people do it.
var respellings = [][2]string{
	{"mohammed", "muhammad"}, {"muhammad", "mohamed"}, {"mohamed", "mohammad"}, {"mohammad", "muhammed"},
	{"ahmed", "ahmad"}, {"ahmad", "ahmed"}, {"hussein", "husayn"}, {"husain", "hussein"}, {"hassan", "hasan"},
	{"yusuf", "youssef"}, {"youssef", "yusuf"}, {"abdul ", "abd al-"}, {"abd al-", "abdul "}, {"abdel", "abd el-"},
	{"ou", "u"}, {"oo", "u"}, {"ee", "i"}, {"q", "k"}, {"ph", "f"}, {"sh", "ch"},
	{"v", "w"}, {"ov", "off"}, {"ey", "ei"}, {"iy", "y"}, {"y", "i"}, {"ss", "s"}, {"ll", "l"}, {"dd", "d"},
	{"al-", "el-"}, {"al-", "al "}, {" bin ", " ibn "}, {" ibn ", " bin "}, {"abu ", "abou "}, {"omar", "umar"},
	{"osama", "usama"}, {"j", "dj"}, {"z", "s"}, {"tch", "ch"}, {"ck", "k"}, {"ie", "i"},
}

const keyboard = "qwertyuiopasdfghjklzxcvbnm"

// alterName changes a listed name the way screening inputs differ from
// lists: a re-transliteration or a typo (substitution, deletion, doubling or
// transposition), sometimes both in different words, sometimes the words in
// another order.
func alterName(rng *rand.Rand, name string) string {
	s := strings.ToLower(strings.ReplaceAll(name, ",", ""))
	changes := 1 + rng.IntN(2)
	typoed := map[int]bool{}
	for range changes {
		if rng.IntN(3) == 0 { // re-transliterate
			for range 5 {
				r := respellings[rng.IntN(len(respellings))]
				if strings.Contains(s, r[0]) {
					s = strings.Replace(s, r[0], r[1], 1)
					break
				}
			}
			continue
		}
		// One typo in a word of 5 letters or more not yet changed.
		ws := strings.Fields(s)
		var long []int
		for i, w := range ws {
			if len([]rune(w)) >= 5 && !typoed[i] {
				long = append(long, i)
			}
		}
		if len(long) == 0 {
			continue
		}
		i := long[rng.IntN(len(long))]
		typoed[i] = true
		w := []rune(ws[i])
		p := 1 + rng.IntN(len(w)-2)
		switch rng.IntN(4) {
		case 0: // substitution
			w[p] = rune(keyboard[rng.IntN(len(keyboard))])
		case 1: // deletion
			w = append(w[:p], w[p+1:]...)
		case 2: // doubling
			w = append(w[:p+1], w[p:]...)
		case 3: // transposition
			w[p], w[p+1] = w[p+1], w[p]
		}
		ws[i] = string(w)
		s = strings.Join(ws, " ")
	}
	if rng.IntN(4) == 0 {
		ws := strings.Fields(s)
		if len(ws) >= 2 {
			ws = append(ws[len(ws)-1:], ws[:len(ws)-1]...)
			s = strings.Join(ws, " ")
		}
	}
	return s
}

// TestAlertRecall screens altered names of listed people and requires that
// at least 98% still raise an alert on the right designation.
func TestAlertRecall(t *testing.T) {
	ix, ds := fixtureIx(t)
	rng := rand.New(rand.NewPCG(6, 2026))
	total, hit := 0, 0
	var misses []string
	for di, d := range ds {
		if d.Type != detente.EntityPerson || rng.IntN(3) != 0 {
			continue
		}
		name := d.PrimaryName()
		if len(strings.Fields(name)) < 2 {
			continue
		}
		q := alterName(rng, name)
		total++
		found := false
		for _, h := range ix.Search(Query{Name: q, Type: detente.EntityPerson}, 10) {
			if h.Designation == di && h.Match {
				found = true
				break
			}
		}
		if found {
			hit++
		} else if len(misses) < 40 {
			r := Compare(Query{Name: q, Type: detente.EntityPerson}, Query{Name: name, Type: d.Type, DatesOfBirth: d.DatesOfBirth})
			misses = append(misses, r.Explanation)
		}
	}
	recall := float64(hit) / float64(total)
	t.Logf("alert recall on %d altered listed names: %.4f", total, recall)
	if recall < 0.98 {
		for _, m := range misses {
			t.Log("missed", m)
		}
		t.Errorf("alert recall %.4f below 0.98", recall)
	}
}

// Given and family names of many origins and scripts, none of them a listed
// person's full name (checked in TestFalseAlerts).
var (
	givenNames = strings.Fields(`James Mary Robert Patricia Emma Oliver Charlotte Liam Sophie Thomas
		Jean Marie Pierre Camille Louis Chloé Hugo Léa Antoine Juliette
		Hans Anna Jürgen Ursula Klaus Petra Lukas Katrin Matthias Sabine
		José María Carmen Javier Lucía Alejandro Sofía Diego Valentina Mateo
		Giulia Marco Francesca Luca Chiara Matteo Alessandro Elena
		Ivan Olga Dmitri Natalia Alexei Tatiana Nikolai Svetlana Пётр Анна Ирина Михаил
		Wei Fang Jing Lei Hui Yan Ming Xiu 伟 静
		Hiroshi Yuki Takeshi Haruka Kenji Akiko Sakura Daisuke
		Ji-woo Min-jun Seo-yeon Hyun-woo
		Amit Priya Rahul Sunita Vikram Anjali Arjun Kavya
		Chinedu Ngozi Kwame Ama Oluwaseun Thandiwe Tendai Abebe
		Mehmet Ayşe Emre Zeynep Burak Elif
		Lars Ingrid Sven Astrid Mikko Aino
		Kofi Yaw Esi Adwoa Nnamdi Chiamaka
		Nguyen Thi Minh Anh Tuan Linh
		Kaito Aroha Tane Mele Sione
		Yosef Noa Avi Tamar Dov
		Fatima Layla Rania Nour Salma Yasmin Karim Tariq Samir Rami Walid
		Giorgos Eleni Κώστας Μαρία
		Aleksander Katarzyna Piotr Zofia Jakub
		Bogdan Ioana Radu Andreea`)
	familyNames = strings.Fields(`Smith Johnson Williams Brown Taylor Wilson Davies Evans
		Martin Bernard Dubois Lefebvre Moreau Laurent Fournier Girard
		Müller Schmidt Schneider Fischer Weber Becker Hoffmann Schäfer
		García Fernández López Martínez Sánchez Pérez Gómez Ruiz
		Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci
		Ivanov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Новиков Морозов
		Wang Li Zhang Liu Chen Yang Huang Zhao 王 李
		Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura
		Kim Lee Park Choi Jung Kang
		Sharma Verma Gupta Singh Patel Reddy Iyer Nair
		Okafor Mensah Boateng Adeyemi Mwangi Kamau Dlamini Nkosi
		Yılmaz Kaya Demir Şahin Çelik Öztürk
		Andersson Johansson Karlsson Nielsen Hansen Virtanen Korhonen
		Nowak Kowalski Wiśniewski Wójcik Popescu Ionescu Horvat Novak
		Tran Pham Hoang Vu Dang
		Cohen Levi Mizrahi Friedman
		Papadopoulos Georgiou Παπαδόπουλος
		Haddad Khoury Mansour Nasser Saleh Hamdan Qasim Farouk`)
)

// TestFalseAlerts screens names drawn from many cultures that are not on
// the lists and requires that at most 1% raise an alert.
func TestFalseAlerts(t *testing.T) {
	ix, _ := fixtureIx(t)
	rng := rand.New(rand.NewPCG(23, 11))
	const n = 2000
	total, alerts, alertsDOB := 0, 0, 0
	var shown []string
	for total < n {
		name := givenNames[rng.IntN(len(givenNames))] + " " + familyNames[rng.IntN(len(familyNames))]
		if rng.IntN(5) == 0 {
			name = givenNames[rng.IntN(len(givenNames))] + " " + name
		}
		hits := ix.Search(Query{Name: name, Type: detente.EntityPerson}, 3)
		if len(hits) > 0 && isListed(hits[0]) {
			continue // the name is actually listed: not a false alert
		}
		total++
		if len(hits) > 0 && hits[0].Match {
			alerts++
			if len(shown) < 30 {
				shown = append(shown, hits[0].Result.Explanation)
			}
		}
		dob := fmt.Sprintf("%d-%02d-%02d", 1940+rng.IntN(60), 1+rng.IntN(12), 1+rng.IntN(28))
		hits = ix.Search(Query{Name: name, Type: detente.EntityPerson, DatesOfBirth: []string{dob}}, 3)
		if len(hits) > 0 && hits[0].Match {
			alertsDOB++
		}
	}
	rate := float64(alerts) / float64(total)
	t.Logf("false alert rate on %d unlisted names: %.4f by name alone, %.4f with a date of birth", total, rate, float64(alertsDOB)/float64(total))
	if rate > 0.01 {
		for _, s := range shown {
			t.Log("false alert", s)
		}
		t.Errorf("false alert rate %.4f above 0.01", rate)
	}
}

// isListed reports whether a hit is the query's own name: every token on
// both sides matched exactly or as a spelling variant.
func isListed(h Hit) bool {
	if h.Result.NameScore < 0.97 {
		return false
	}
	for _, tm := range h.Result.Tokens {
		if tm.Method == "unmatched" || tm.Method == MethodFuzzy || tm.Method == MethodInitial {
			return false
		}
	}
	return true
}
