package stix

import (
	"reflect"
	"strings"
	"testing"
)

func TestPatternComparisons(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []Comparison
	}{
		{`[ipv4-addr:value = '198.51.100.1']`, []Comparison{{"ipv4-addr:value", "198.51.100.1"}}},
		{`[file:hashes.'SHA-256' = 'AB12' OR file:name = 'x.exe'] AND [domain-name:value = 'evil.example']`,
			[]Comparison{{"file:hashes.'SHA-256'", "AB12"}, {"file:name", "x.exe"}, {"domain-name:value", "evil.example"}}},
		{`[url:value IN ('http://a.example/', 'http://b.example/')]`, []Comparison{{"url:value", "http://a.example/"}, {"url:value", "http://b.example/"}}},
		{`[email-addr:value NOT = 'a@b.example']`, nil},
		{`[domain-name:value LIKE '%.example']`, nil},
		{`[user-account:account_login = 'o\'brien']`, []Comparison{{"user-account:account_login", "o'brien"}}},
		{`[network-traffic:dst_port = 443]`, nil},
	} {
		got, err := PatternComparisons(c.pattern)
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.pattern, got, c.want)
		}
	}
	if _, err := PatternComparisons(`[ipv4-addr:value = ]`); err == nil {
		t.Error("an invalid pattern gave no error")
	}
}

// FuzzPatternComparisons: collecting comparisons never changes what a
// pattern parses to: the same error as ValidatePattern, or none, and
// every value collected appears in the pattern.
func FuzzPatternComparisons(f *testing.F) {
	for _, s := range []string{`[ipv4-addr:value = '1.2.3.4']`, `[url:value IN ('a', 'b\'c')]`, `[file:hashes.'SHA-256' NOT = 'x']`, `[a:b = ]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		cs, err := PatternComparisons(p)
		verr := ValidatePattern(p)
		if (err == nil) != (verr == nil) || err != nil && err.Error() != verr.Error() {
			t.Fatalf("%q: PatternComparisons %v, ValidatePattern %v", p, err, verr)
		}
		for _, c := range cs {
			if !strings.Contains(p, c.Path) {
				t.Fatalf("%q: path %q not in the pattern", p, c.Path)
			}
		}
	})
}
