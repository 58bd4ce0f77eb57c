package api_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"detente"
	"detente/internal/api"
)

// badParams holds, for every route that takes query parameters, bad
// values of each parameter, raw (percent-encoded as sent).
var badParams = map[string]map[string][]string{
	"POST /api/v1/objects":       {"grading": {"Z9", "B", "%ff"}, "fingerprint": {"yes", "1", "%ff"}, "partial": {"yes", "1"}},
	"POST /api/v1/leak/evidence": {"for": {"%ff"}},
	"GET /api/v1/objects": {
		"type": {"%ff"}, "after": {"x", "-1", "1.5", "99999999999999999999"}, "limit": {"0", "1001", "x", "-4"},
		"originator": {"%c3%28"}, "versions": {"some", "ALL"}, "quarantined": {"yes", "1", "%ff"},
	},
	"GET /api/v1/releases/check": {"object": {"%ff"}, "partner": {"%ff"}},
	"GET /api/v1/releases":       {"object": {"%ff"}, "partner": {"%ff"}, "limit": {"0", "5000", "ten"}},
	"GET /api/v1/events": {
		"from": {"x", "-1"}, "type": {"%ff"}, "partner": {"%ff"}, "order": {"sideways", "Newest"}, "limit": {"0", "1001", "x"},
	},
	"GET /api/v1/log/checkpoint":        {"format": {"xml", "%ff"}},
	"GET /api/v1/log/entries":           {"from": {"one", "-2"}, "to": {"x", "-1", "%20"}},
	"GET /api/v1/log/proof/inclusion":   {"seq": {"abc", "-1", "%ff"}, "size": {"x", "0", "-3"}},
	"GET /api/v1/log/proof/consistency": {"old": {"x", "0"}, "new": {"2x", "0"}},
	"GET /api/v1/log/export":            {"from": {"x", "-1"}, "to": {"%20", "y"}},
	"GET /api/v1/alerts":                {"limit": {"0", "-1", "1001", "x"}},
	"GET /api/v1/screen": {
		"name": {"%ff"}, "type": {"ship", "Person"}, "dob": {"garbage", "1970-13-01", "70"}, "country": {"%ff"},
		"limit": {"0", "101", "x"}, "threshold": {"0", "1.5", "-0.2", "high", "NaN"},
	},
	"GET /api/v1/screen/identifiers": {
		"wallet": {"%ff", "0x7f367cc41522ce07553e823bf3be79a889debe1b", "XBT:nonsense"}, "document": {"%ff", "DE:--"},
		"imo": {"%ff", "123"}, "iban": {"%ff", "GB00"}, "bic": {"%ff", "DEUT"}, "aircraft": {"%ff", "-"},
	},
	"GET /api/v1/names/compare":      {"a": {"%ff", "%e2%82"}, "b": {"%ff"}, "type": {"ship"}, "threshold": {"2", "x"}},
	"GET /api/v1/lists/compare":      {"authority": {"%ff"}},
	"GET /api/v1/messages":           {"channel": {"%ff"}},
	"POST /api/v1/lists/{authority}": {"allow_mass_delisting": {"yes", "1", "%ff"}},
	"GET /api/v1/ledger":             {"partner": {"%ff"}, "period": {"soon", "-3d", "%ff"}},
}

// goodParams are valid values of the required parameters, sent with each
// bad one.
var goodParams = map[string]url.Values{
	"GET /api/v1/releases/check":        {"object": {"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, "partner": {"bravo"}},
	"GET /api/v1/log/proof/inclusion":   {"seq": {"0"}},
	"GET /api/v1/log/proof/consistency": {"old": {"1"}},
	"GET /api/v1/names/compare":         {"a": {"Sergei Lavrov"}, "b": {"Sergej Lawrow"}},
}

var pathValue = regexp.MustCompile(`\{[a-z]+\}`)

// request returns the method and URL path of route, with query q.
func request(route, q string) (string, string) {
	method, path, _ := strings.Cut(route, " ")
	path = pathValue.ReplaceAllString(path, "x")
	if q != "" {
		path += "?" + q
	}
	return method, path
}

// TestBadParameters sends every route a bad value of each query parameter
// it takes, and a parameter it does not take: each is 400 invalid naming
// the parameter, and changes nothing.
func TestBadParameters(t *testing.T) {
	f := setup(t)
	takes := api.New(f.node, nil).Takes()
	for route, ps := range takes {
		for _, p := range ps {
			if len(badParams[route][p]) == 0 {
				t.Errorf("%s takes %s, which has no bad value in the table", route, p)
			}
		}
	}
	for route, ps := range badParams {
		for p := range ps {
			if !slices.Contains(takes[route], p) {
				t.Errorf("the table has %s for %s, which takes %q", p, route, takes[route])
			}
		}
	}
	before := f.size(t)
	for route, ps := range badParams {
		for p, values := range ps {
			for _, bad := range values {
				good := url.Values{}
				for k, v := range goodParams[route] {
					if k != p {
						good[k] = v
					}
				}
				q := good.Encode()
				if q != "" {
					q += "&"
				}
				method, path := request(route, q+url.QueryEscape(p)+"="+bad)
				t.Run(method+" "+path, func(t *testing.T) {
					code, m, raw := f.do(t, detente.RoleAdmin, method, path, indicator)
					msg, _ := m["error"].(map[string]any)["message"].(string)
					if code != http.StatusBadRequest || errCode(m) != detente.EINVALID || !strings.HasPrefix(msg, p+": ") {
						t.Fatalf("got %d %s, want 400 invalid naming %s", code, raw, p)
					}
				})
			}
		}
	}
	// A parameter a route does not take is refused, not ignored, and the
	// message says what the route takes.
	for route, ps := range takes {
		method, path := request(route, "after=x")
		if slices.Contains(ps, "after") {
			method, path = request(route, "nonsense=1")
		}
		t.Run("unknown "+method+" "+path, func(t *testing.T) {
			code, m, raw := f.do(t, detente.RoleAdmin, method, path, indicator)
			msg, _ := m["error"].(map[string]any)["message"].(string)
			if code != http.StatusBadRequest || errCode(m) != detente.EINVALID || !strings.HasPrefix(msg, "unknown parameter ") {
				t.Fatalf("got %d %s, want 400 invalid", code, raw)
			}
			if len(ps) > 0 && !strings.HasSuffix(msg, "takes "+strings.Join(ps, ", ")) {
				t.Errorf("message %q does not say what %s takes", msg, route)
			}
		})
	}
	// A path parameter that is not UTF-8 is refused too, naming it, not
	// turned into U+FFFD and looked up.
	for route := range takes {
		names := pathValue.FindAllString(route, -1)
		if len(names) == 0 {
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		path = pathValue.ReplaceAllString(path, "x%ff")
		t.Run("path "+method+" "+path, func(t *testing.T) {
			code, m, raw := f.do(t, detente.RoleAdmin, method, path, indicator)
			msg, _ := m["error"].(map[string]any)["message"].(string)
			if code != http.StatusBadRequest || errCode(m) != detente.EINVALID || !strings.HasPrefix(msg, strings.Trim(names[0], "{}")+": ") {
				t.Fatalf("got %d %s, want 400 invalid naming %s", code, raw, names[0])
			}
		})
	}
	if after := f.size(t); after != before {
		t.Errorf("requests refused for their parameters changed the log: %d entries, then %d", before, after)
	}
}

// TestParameterMessages checks a few messages word for word.
func TestParameterMessages(t *testing.T) {
	f := setup(t)
	for path, want := range map[string]string{
		"/api/v1/alerts?after=x":                   `unknown parameter "after": this endpoint takes limit`,
		"/api/v1/alerts?limit=x":                   `limit: "x" is not a number`,
		"/api/v1/alerts?limit=5000":                `limit: 5000 is out of range (1 to 1000)`,
		"/api/v1/objects?after=-1":                 `after: -1 is out of range (0 or more)`,
		"/api/v1/names/compare?a=%ff&b=x":          `a: "\xff" is not valid UTF-8`,
		"/api/v1/names/compare?a=x":                `b is required`,
		"/api/v1/log/checkpoint?format=xml":        `format: "xml" is not one of note, json`,
		"/api/v1/objects?quarantined=yes":          `quarantined: "yes" is not true or false`,
		"/api/v1/screen?name=x&dob=1970-13":        `dob: "1970-13" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)`,
		"/api/v1/screen?name=x&threshold=2":        `threshold: "2": threshold must be a number above 0 and at most 1`,
		"/api/v1/screen/identifiers?wallet=0x1":    `wallet: "0x1": want CHAIN:ADDRESS, e.g. XBT:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa`,
		"/api/v1/events?limit=1&limit=2":           `limit: given 2 times, at most once`,
		"/api/v1/node?x=1":                         `unknown parameter "x": this endpoint takes no parameters`,
		"/api/v1/log/proof/inclusion?seq=0;size=1": `query string: "seq=0;size=1" holds a semicolon: separate parameters with &`,
	} {
		code, m, raw := f.do(t, detente.RoleAdmin, "GET", path, "")
		msg, _ := m["error"].(map[string]any)["message"].(string)
		if code != http.StatusBadRequest || errCode(m) != detente.EINVALID || msg != want {
			t.Errorf("GET %s: %d %s, want 400 %q", path, code, raw, want)
		}
	}
}

// size returns the log's size.
func (f *fixture) size(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	if err := f.node.Store.View(ctx, func(tx detente.Tx) (err error) { n, err = tx.CountEvents(ctx); return }); err != nil {
		t.Fatal(err)
	}
	return n
}
