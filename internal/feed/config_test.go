package feed

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/stix"
	"detente/internal/taxii"
)

func TestParseCollectionURL(t *testing.T) {
	for _, tc := range []struct{ in, root, id string }{
		{"https://opencti.example/taxii2/root/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/", "https://opencti.example/taxii2/root/", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"},
		{"https://misp.example/taxii2/api/collections/abc", "https://misp.example/taxii2/api/", "abc"},
		{"https://h:8443/collections/x/", "https://h:8443/", "x"},
		{"https://h/a%20b/collections/c%20d/", "https://h/a%20b/", "c d"},
	} {
		root, id, err := taxii.ParseCollectionURL(tc.in)
		if err != nil || root != tc.root || id != tc.id {
			t.Errorf("%s: %q %q %v, want %q %q", tc.in, root, id, err, tc.root, tc.id)
		}
	}
	// A collection id holding a slash cannot be named in a path: the
	// encoded form is refused rather than read as two segments.
	for _, in := range []string{
		"", "collections/x/", "/taxii2/collections/x/", "https://h/taxii2/api/", "https://h/taxii2/api/collections/",
		"https://h/taxii2/api/collections//", "https://u:p@h/api/collections/x/", "https://h/api/collections/x/?limit=5",
		"https://h/api/collections/x/#f", "https://h/api/objects/x/", "mailto:x@y", "https://h/api/collections/../",
		"https://h/api/collections/%zz/", "https://h/api/collections/c%2Fd/",
	} {
		if root, id, err := taxii.ParseCollectionURL(in); err == nil {
			t.Errorf("%q accepted: %q %q", in, root, id)
		}
	}
}

func FuzzParseCollectionURL(f *testing.F) {
	for _, s := range []string{
		"https://opencti.example/taxii2/root/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/",
		"https://h/a%20b/collections/c%2Fd%20e/", "http://[::1]:8080/collections/x", "https://h/api/collections/x/?q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		root, id, err := taxii.ParseCollectionURL(s)
		if err != nil {
			return
		}
		if id == "" || !strings.HasSuffix(root, "/") {
			t.Fatalf("%q: root %q id %q", s, root, id)
		}
		// The API root and id name the same collection again.
		u := root + "collections/" + url.PathEscape(id) + "/"
		root2, id2, err := taxii.ParseCollectionURL(u)
		if err != nil || root2 != root || id2 != id {
			t.Fatalf("%q → %q %q → %q → %q %q %v", s, root, id, u, root2, id2, err)
		}
	})
}

func TestValidate(t *testing.T) {
	ok := Config{Name: "misp-main", URL: "https://misp.example/taxii2/api/collections/x/"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		msg  string
	}{
		{"empty name", func(c *Config) { c.Name = "" }, "feed name"},
		{"name with a slash", func(c *Config) { c.Name = "a/b" }, "feed name"},
		{"name starting with a dot", func(c *Config) { c.Name = ".x" }, "feed name"},
		{"not a collection", func(c *Config) { c.URL = "https://misp.example/taxii2/" }, "does not end in /collections/<id>/"},
		{"http", func(c *Config) { c.URL = "http://misp.example/taxii2/api/collections/x/" }, "must start with https://"},
		{"both auths", func(c *Config) { c.Username, c.TokenFile = "u", "/t" }, "not both"},
		{"format", func(c *Config) { c.Format = "csv" }, "unknown format"},
		{"grading", func(c *Config) { c.Grading = detente.Grading{Reliability: 'Z', Credibility: 1} }, "invalid grading"},
		{"TLP", func(c *Config) { c.TLP = 9 }, "invalid TLP"},
		{"MISP URL with a query", func(c *Config) { c.Format, c.URL = FormatMISP, "https://misp.example/feed/?x=1" }, "query"},
		{"MISP URL relative", func(c *Config) { c.Format, c.URL = FormatMISP, "/feed/" }, "not an absolute URL"},
	} {
		c := ok
		tc.edit(&c)
		if err := c.Validate(); detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/api/collections/x/", "http://localhost/api/collections/x/", "http://[::1]/api/collections/x/"} {
		c := ok
		c.URL = u
		if err := c.Validate(); err != nil {
			t.Errorf("loopback %s: %v", u, err)
		}
	}
	m := Config{Name: "m", Format: FormatMISP, URL: "https://misp.example/feeds/osint"}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}

// TestConfigJSON: the node stores a feed's configuration as JSON without
// its secrets; TLP and grading read back.
func TestConfigJSON(t *testing.T) {
	c := Config{Name: "m", URL: "https://h/api/collections/x/", Username: "u", PasswordFile: "/etc/detente/m.pw", Password: "secret", Token: "tok",
		Grading: detente.Grading{Reliability: 'B', Credibility: 2}, TLP: detente.TLPGreen, Originate: true}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret") || strings.Contains(string(b), "tok") {
		t.Errorf("secrets serialised: %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back.TLP != detente.TLPGreen || back.Grading != c.Grading || back.PasswordFile != c.PasswordFile || !back.Originate {
		t.Errorf("round trip: %s → %+v %v", b, back, err)
	}
	zero, _ := json.Marshal(Config{Name: "z", URL: "https://h/api/collections/x/"})
	if string(zero) != `{"name":"z","url":"https://h/api/collections/x/"}` {
		t.Errorf("zero config: %s", zero)
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	pw, tok, empty := filepath.Join(dir, "pw"), filepath.Join(dir, "tok"), filepath.Join(dir, "empty")
	os.WriteFile(pw, []byte("p4ss word\r\n"), 0o600)
	os.WriteFile(tok, []byte("tok\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)
	c := Config{Name: "f", Username: "u", PasswordFile: pw}
	cr, err := c.credentials()
	if err != nil || cr.username != "u" || cr.password != "p4ss word" {
		t.Errorf("%+v %v", cr, err)
	}
	c = Config{Name: "f", TokenFile: tok}
	if cr, err := c.credentials(); err != nil || cr.token != "tok" {
		t.Errorf("%+v %v", cr, err)
	}
	c = Config{Name: "f", TokenFile: empty}
	if _, err := c.credentials(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty token file: %v", err)
	}
}

func TestCursorJSON(t *testing.T) {
	c := Cursor{AddedAfter: time.Date(2026, 3, 1, 10, 0, 0, 1000, time.UTC), Next: "abc", Last: time.Date(2026, 3, 1, 10, 0, 0, 2000, time.UTC),
		Events: map[string]int64{eventA: 1770805512}}
	b, _ := json.Marshal(c)
	back, err := ParseCursor(b)
	if err != nil || !sameCursor(back, c) {
		t.Errorf("%s → %+v %v", b, back, err)
	}
	if z, err := ParseCursor(nil); err != nil || !sameCursor(z, Cursor{}) {
		t.Errorf("empty: %+v %v", z, err)
	}
	if _, err := ParseCursor([]byte("{")); err == nil {
		t.Error("malformed cursor accepted")
	}
	for _, tc := range []struct {
		c    Cursor
		want string
	}{
		{Cursor{}, "start"},
		{Cursor{Last: c.Last}, "added after 2026-03-01T10:00:00.000002Z"},
		{Cursor{Last: c.Last, Next: "x"}, "mid-walk, last added 2026-03-01T10:00:00.000002Z"},
		{Cursor{Events: c.Events}, "1 events"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

func FuzzConvertMISPEvent(f *testing.F) {
	for _, uuid := range []string{eventA, eventB, eventC} {
		data, err := os.ReadFile(filepath.Join("testdata", "misp", uuid+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"uuid":"5f3a9c2e-1b7d-4e8a-9c6f-2d4b8e1a7c30","timestamp":1,"Attribute":[{"type":"domain|ip","value":"a|b","to_ids":"1"},{"type":"ip-dst|port","value":"1.2.3.4|99999"},{"type":"AS","value":"AS-1"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, bad, err := ConvertMISPEvent(data, detente.Grading{Reliability: 'B', Credibility: 2})
		if err != nil {
			if len(objs)+len(bad) > 0 {
				t.Fatal("objects with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range objs {
			if seen[o.ID] {
				t.Fatalf("%s twice", o.ID)
			}
			seen[o.ID] = true
			if _, err := stix.ParseObject(o.Raw); err != nil {
				t.Fatalf("converted object does not validate: %v", err)
			}
		}
		again, _, _ := ConvertMISPEvent(data, detente.Grading{Reliability: 'B', Credibility: 2})
		if len(again) != len(objs) {
			t.Fatal("not deterministic")
		}
		for i := range objs {
			if string(again[i].Raw) != string(objs[i].Raw) {
				t.Fatal("not deterministic")
			}
		}
	})
}
