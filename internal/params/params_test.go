package params

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"detente"
)

var testParams = []Param{
	Text("name"), List("authority"), Int("after", 0, math.MaxInt64), Int("limit", 1, 1000),
	Enum("format", "note", "json"), Bool("quarantined"), Date("dob"), Int("seq", 0, 10).Required(),
	Func("grading", func(v string) error {
		if _, err := detente.ParseGrading(v); err != nil {
			return detente.Errorf(detente.EINVALID, "%q is not a grading (a letter A-F and a digit 1-6, e.g. B2)", v)
		}
		return nil
	}),
}

func TestParse(t *testing.T) {
	v, err := Parse("seq=3&name=%D0%AE%D1%81%D1%83%D1%84+K&authority=un&authority=eu&after=17&limit=1000&format=json&quarantined=true&dob=1970-05&grading=B2&authority=", testParams...)
	if err != nil {
		t.Fatal(err)
	}
	if v.Text("name") != "Юсуф K" || !slices.Equal(v.List("authority"), []string{"un", "eu"}) || v.Int("after", 0) != 17 ||
		v.Int("limit", 100) != 1000 || v.Text("format") != "json" || !v.Bool("quarantined") || v.Text("dob") != "1970-05" ||
		v.Int("seq", -1) != 3 || v.Text("grading") != "B2" {
		t.Errorf("values: %+v", v)
	}
	// Absent and empty are the same: the default.
	v, err = Parse("seq=0&limit=&format=", testParams...)
	if err != nil {
		t.Fatal(err)
	}
	if v.Has("limit") || v.Int("limit", 100) != 100 || v.Text("format") != "" || v.Bool("quarantined") || v.Int("seq", -1) != 0 {
		t.Errorf("defaults: %+v", v)
	}
	// The console ignores what it does not take, and still checks what it
	// takes.
	if _, err := Parse("seq=1&utm_source=%ff&x=%zz", append(testParams, IgnoreOthers)...); err != nil {
		t.Errorf("IgnoreOthers: %v", err)
	}
	if _, err := Parse("seq=x&utm_source=y", append(testParams, IgnoreOthers)...); err == nil {
		t.Error("IgnoreOthers let a bad value through")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ query, msg string }{
		{"seq=1&after=x", `after: "x" is not a number`},
		{"seq=1&after=-1", `after: -1 is out of range (0 or more)`},
		{"seq=1&after=1e3", `after: "1e3" is not a number`},
		{"seq=1&after=99999999999999999999", `after: "99999999999999999999" is out of range (0 or more)`},
		{"seq=1&limit=0", `limit: 0 is out of range (1 to 1000)`},
		{"seq=1&limit=1001", `limit: 1001 is out of range (1 to 1000)`},
		{"seq=1&limit=5&limit=6", `limit: given 2 times, at most once`},
		{"seq=1&format=xml", `format: "xml" is not one of note, json`},
		{"seq=1&format=JSON", `format: "JSON" is not one of note, json`},
		{"seq=1&quarantined=yes", `quarantined: "yes" is not true or false`},
		{"seq=1&quarantined=1", `quarantined: "1" is not true or false`},
		{"seq=1&dob=1970-13", `dob: "1970-13" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)`},
		{"seq=1&dob=70", `dob: "70" is not a date`},
		{"seq=1&dob=1970-1-2", `dob: "1970-1-2" is not a date`},
		{"seq=1&grading=Z9", `grading: "Z9" is not a grading`},
		{"seq=1&name=%ff", `name: "\xff" is not valid UTF-8`},
		{"seq=1&authority=un&authority=%c3%28", `authority: "\xc3(" is not valid UTF-8`},
		{"seq=1&name=%zz", `name: "%zz" is not valid URL encoding`},
		{"seq=1&nom=x", `unknown parameter "nom": this endpoint takes name, authority, after, limit, format, quarantined, dob, seq, grading`},
		{"seq=1&%ff=x", `query string: "%ff" is not a parameter name`},
		{"seq=1;after=2", `query string: "seq=1;after=2" holds a semicolon`},
		{"", `seq is required`},
		{"seq=", `seq is required`},
		{"seq=11", `seq: 11 is out of range (0 to 10)`},
		{"name=" + strings.Repeat("%ff", 50) + "&seq=1", `name: "\xff\xff`},
	} {
		_, err := Parse(tt.query, testParams...)
		if detente.ErrorCode(err) != detente.EINVALID || !strings.HasPrefix(detente.ErrorMessage(err), tt.msg) {
			t.Errorf("Parse(%q) = %v, want EINVALID %q", tt.query, err, tt.msg)
		}
		if err != nil && len(detente.ErrorMessage(err)) > 300 {
			t.Errorf("Parse(%q): message of %d bytes", tt.query, len(detente.ErrorMessage(err)))
		}
	}
	if _, err := Parse("x=1"); err == nil || detente.ErrorMessage(err) != `unknown parameter "x": this endpoint takes no parameters` {
		t.Errorf("no parameters: %v", err)
	}
}

func TestUndeclaredPanics(t *testing.T) {
	v, _ := Parse("", Text("a"))
	defer func() {
		if recover() == nil {
			t.Error("reading an undeclared parameter did not panic")
		}
	}()
	v.Text("b")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"seq=1", "seq=1&name=%ff", "seq=2&after=-1&authority=a&authority=b", "seq=1;x", "a=%zz", "seq=1&dob=1970-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := Parse(q, testParams...)
		if err != nil {
			if detente.ErrorCode(err) != detente.EINVALID {
				t.Fatalf("Parse(%q): error %v is not EINVALID", q, err)
			}
			return
		}
		for _, name := range []string{"name", "format", "dob", "grading"} {
			if s := v.Text(name); !utf8.ValidString(s) {
				t.Fatalf("Parse(%q): %s = %q", q, name, s)
			}
		}
		if n := v.Int("limit", 1); n < 1 || n > 1000 {
			t.Fatalf("Parse(%q): limit %d", q, n)
		}
		if f := v.Text("format"); f != "" && f != "note" && f != "json" {
			t.Fatalf("Parse(%q): format %q", q, f)
		}
	})
}
