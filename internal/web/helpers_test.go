package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"detente/internal/screen"
)

func TestNum(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := num(in); got != want {
			t.Errorf("num(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{1: 1, 2: 2, 3: 5, 6: 10, 11: 20, 21: 50, 99: 100, 101: 200} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

// hostilePaths are values of a login's "next" that would send the browser
// to another site, or could: each must fall back to the overview.
var hostilePaths = []string{
	"", "objects", "https://evil.example", "http:evil.example", "javascript:alert(1)", "JavaScript:alert(1)",
	"data:text/html,x", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
	"/%09/evil.example/", "/\t/evil.example/", "/\n/evil.example", "/\r/evil.example", "/a\r\nSet-Cookie: x",
	"/%0d%0aSet-Cookie:%20x", "/%2F/evil.example", "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example",
	"/%5cevil.example", "/ok\\..\\evil", "/\x00/evil.example", "/%00", "/\x7f/evil.example", "/\u0085/evil.example",
	"/%C2%85/evil.example", "/%zz", " /objects", "/objects\t",
	"/x%ff", "/x\xff", "/objects/%ed%a0%80", // not UTF-8: echoed into the login form
}

func TestLocalPath(t *testing.T) {
	for _, in := range hostilePaths {
		if got := localPath(in); got != "/" {
			t.Errorf("localPath(%q) = %q, want /", in, got)
		}
	}
	for _, in := range []string{"/", "/objects?q=x", "/objects?q=a%20b&tlp=amber%2Bstrict", "/log?from=3&type=release",
		"/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "/screening?name=%D0%AE%D1%81%D1%83%D1%84", "/partners/bravo#agreements"} {
		if got := localPath(in); got != in {
			t.Errorf("localPath(%q) = %q, want it unchanged", in, got)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range append([]string{"/", "/ok?next=//x"}, hostilePaths...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := localPath(s)
		if p == "/" {
			return
		}
		if p != s {
			t.Fatalf("localPath(%q) = %q, neither the input nor /", s, p)
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			t.Fatalf("localPath(%q) kept an undecodable path", s)
		}
		for _, x := range []string{p, d} {
			if !strings.HasPrefix(x, "/") || strings.HasPrefix(x, "//") || strings.ContainsAny(x, "\\\t\r\n") {
				t.Fatalf("localPath(%q) = %q leaves the site", s, p)
			}
		}
		// What a browser makes of it: drop tabs and newlines, read "\\" as
		// "/", resolve against this site. It must stay on this site.
		base, _ := url.Parse("https://node.example/login")
		u, err := base.Parse(strings.ReplaceAll(p, "\\", "/"))
		if err != nil || u.Host != "node.example" || u.Scheme != "https" {
			t.Fatalf("localPath(%q) = %q resolves to %v", s, p, u)
		}
	})
}

func TestSignatureNames(t *testing.T) {
	note := "detente/alpha/00\n3\nroot=\n\n— detente/alpha/00 AAAA\n— w1 BBBB\nnot a signature\n— w1 CCCC\n— w2 DDDD\n"
	if got := strings.Join(signatureNames([]byte(note)), " "); got != "detente/alpha/00 w1 w2" {
		t.Errorf("signatureNames = %q", got)
	}
	if got := signatureNames([]byte("no blank line")); got != nil {
		t.Errorf("signatureNames without signatures = %q", got)
	}
}

func FuzzSignatureNames(f *testing.F) {
	f.Add([]byte("o\n1\nr\n\n— a b\n"))
	f.Fuzz(func(t *testing.T, note []byte) {
		for _, n := range signatureNames(note) {
			if n == "" || strings.ContainsAny(n, " \n") {
				t.Fatalf("name %q", n)
			}
		}
	})
}

func TestExchangeChart(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	days := make([]dayCount, chartDays)
	for i := range days {
		days[i].Date = day.AddDate(0, 0, i)
	}
	days[3].Sent, days[3].Received, days[29].Received = 4, 1, 7
	c := exchangeChart(days)
	if c.Empty || c.Max != 7 || len(c.Bars) != 3 {
		t.Fatalf("chart: empty %v, max %d, %d bars", c.Empty, c.Max, len(c.Bars))
	}
	for _, b := range c.Bars {
		if b.X < c.Left || b.X+b.W > c.Right || b.Y < c.Top || b.Y+b.H != c.Bottom || b.H <= 0 {
			t.Errorf("bar %+v outside the plot %d..%d × %d..%d", b, c.Left, c.Right, c.Top, c.Bottom)
		}
	}
	if c.Bars[0].Fill == c.Bars[1].Fill || !strings.Contains(c.Bars[1].Title, "1 object received") {
		t.Errorf("sent and received bars: %+v %+v", c.Bars[0], c.Bars[1])
	}
	if top := c.YTicks[len(c.YTicks)-1]; top.Label != "10" || top.Y != c.Top {
		t.Errorf("top tick %+v", top)
	}
	if empty := exchangeChart(make([]dayCount, chartDays)); !empty.Empty || len(empty.Bars) != 0 {
		t.Errorf("an empty chart has %d bars", len(empty.Bars))
	}
}

func TestDivergenceMap(t *testing.T) {
	r := &screen.Report{
		Authorities: []string{"eu", "un", "us"},
		Entities: []screen.Entity{
			{ListedBy: []string{"eu", "un", "us"}}, {ListedBy: []string{"un", "us"}}, {ListedBy: []string{"us"}}, {ListedBy: []string{"us"}},
		},
		Pairs: []screen.PairSummary{{A: "eu", B: "un", Both: 1}, {A: "eu", B: "us", Both: 1}, {A: "un", B: "us", Both: 2}},
	}
	m := divergenceMap(r)
	if len(m.Cells) != 9 {
		t.Fatalf("%d cells", len(m.Cells))
	}
	cell := func(i, j int) heatCell { return m.Cells[i*3+j] }
	if c := cell(0, 0); !c.Diagonal || c.Label != "1" {
		t.Errorf("eu diagonal %+v", c)
	}
	if c := cell(1, 2); c.Label != "2" || c.Sub != "100%" { // un lists 2, us lists both
		t.Errorf("un→us %+v", c)
	}
	if c := cell(2, 1); c.Label != "2" || c.Sub != "50%" { // us lists 4, un 2 of them
		t.Errorf("us→un %+v", c)
	}
	if cell(1, 2).Fill == cell(2, 1).Fill {
		t.Error("100% and 50% have the same shade")
	}
	if cell(1, 2).Ink == cell(0, 1).Ink && cell(0, 1).Sub != "100%" {
		t.Error("text colour does not follow the shade")
	}
}
