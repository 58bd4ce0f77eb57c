package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"detente"
	"detente/internal/lists"
	"detente/internal/screening"
)

func TestScreening(t *testing.T) {
	f := setup(t)
	csv := "entity_id,type,name,aliases,dob\nBR-1,person,Sergei Ivanovich Lavrov,Сергей Лавров,1950-03-21\nBR-2,organization,Black Meridian Front,BMF,\n"
	code, m, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo", csv)
	if code != 201 || m["added"].(float64) != 2 {
		t.Fatalf("load: %d %s", code, raw)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/screen?name="+url.QueryEscape("Sergej Lawrow")+"&dob=1950-03-21&type=person", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[detente.RoleAnalyst])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var hits []struct {
		Score     float64 `json:"score"`
		Match     bool    `json:"match"`
		Authority string  `json:"authority"`
		EntityID  string  `json:"entity_id"`
		Name      string  `json:"name"`
		Result    struct {
			Explanation string `json:"explanation"`
		} `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&hits)
	resp.Body.Close()
	if len(hits) == 0 || !hits[0].Match || hits[0].EntityID != "BR-1" || hits[0].Authority != "bravo" || hits[0].Result.Explanation == "" {
		t.Fatalf("screen: %+v", hits)
	}
	code, _, raw = f.do(t, detente.RoleAnalyst, "POST", "/api/v1/screen/batch", `{"queries": [{"name": "BMF"}, {"name": ""}, {"name": "Сергей Лавров"}]}`)
	var batch []struct {
		Name    string `json:"name"`
		Error   string `json:"error"`
		Results []struct {
			EntityID string `json:"entity_id"`
			Match    bool   `json:"match"`
		} `json:"results"`
	}
	json.Unmarshal([]byte(raw), &batch)
	if code != 200 || len(batch) != 3 || batch[1].Error == "" || len(batch[2].Results) == 0 || batch[2].Results[0].EntityID != "BR-1" {
		t.Errorf("batch: %d %s", code, raw)
	}
	code, m, _ = f.do(t, detente.RoleAnalyst, "GET", "/api/v1/names/compare?a=George+Bush&b=George+Habash", "")
	if code != 200 || m["match"] != false {
		t.Errorf("names compare: %v", m)
	}
	for _, bad := range []string{"/api/v1/screen", "/api/v1/screen?name=x&type=ship", "/api/v1/screen?name=x&limit=0", "/api/v1/names/compare?a=x"} {
		if code, m, _ := f.do(t, detente.RoleAnalyst, "GET", bad, ""); code != 400 || errCode(m) != detente.EINVALID {
			t.Errorf("%s: %d %v", bad, code, m)
		}
	}
	if code, m, _ := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/ofac", "x"); code != 400 || errCode(m) != detente.EINVALID {
		t.Errorf("ofac upload: %d %v", code, m)
	}
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// TestPostListStrict: a malformed list is refused whole, and an issue that
// delists more than 20 % of the active entries is refused (409) unless
// allow_mass_delisting=true; a refusal changes nothing.
func TestPostListStrict(t *testing.T) {
	f := setup(t)
	const issue1 = "entity_id,name\nP-1,Alpha\nP-2,Beta\nP-3,Gamma\nP-4,Delta\nP-5,Epsilon\n"
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo", issue1); code != 201 {
		t.Fatalf("first load: %d %s", code, raw)
	}
	code, m, _ := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo", "entity_id,name,dob\nP-1,Alpha,2099-13-45\n")
	if code != 400 || errCode(m) != detente.EINVALID || !strings.Contains(errMessage(m), "body line 2: field 3 (dob)") {
		t.Errorf("invalid date: %d %v", code, m)
	}
	const issue2 = "entity_id,name\nP-1,Alpha\nP-2,Beta\nP-3,Gamma\n" // delists 2 of 5
	code, m, _ = f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo", issue2)
	if code != 409 || errCode(m) != detente.ECONFLICT || !strings.Contains(errMessage(m), "delist 2 of its 5") {
		t.Errorf("mass delisting: %d %v", code, m)
	}
	if code, m, _ := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo?allow_mass_delisting=maybe", issue2); code != 400 {
		t.Errorf("bad allow_mass_delisting: %d %v", code, m)
	}
	_, _, raw := f.do(t, detente.RoleAdmin, "GET", "/api/v1/lists", "")
	var ls []struct {
		Authority        string
		Active, Delisted int
	}
	if err := json.Unmarshal([]byte(raw), &ls); err != nil || len(ls) != 1 || ls[0].Active != 5 || ls[0].Delisted != 0 {
		t.Errorf("refusals changed the list: %s", raw)
	}
	code, m, raw = f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo?allow_mass_delisting=true", issue2)
	if code != 201 || m["removed"].(float64) != 2 {
		t.Errorf("allowed mass delisting: %d %s", code, raw)
	}
}

// BenchmarkScreenHTTP measures screening queries per second over HTTP on
// loopback against the UN, OFAC and EU fixtures, with 8 concurrent
// clients. Target: at least 300 queries/s on 2 cores.
//
// With DETENTE_WATCHMAN_URL set (e.g. http://127.0.0.1:8084), the same
// clients send the same names to a moov-io/watchman server's /search
// instead, for a side-by-side figure (docs/benchmarks.md).
func BenchmarkScreenHTTP(b *testing.B) {
	names := []string{"Usama bin Laden", "Сергей Лавров", "Abu Bakr al-Baghdadi", "John Smith", "Hizballah", "Mohammed Omar",
		"Ayman al-Zawahiri", "Maria Gonzalez", "Al Shabaab", "Anwar al Awlaki"}
	if wm := os.Getenv("DETENTE_WATCHMAN_URL"); wm != "" {
		benchHTTP(b, names, func(name string) *http.Request {
			req, _ := http.NewRequest("GET", wm+"/search?limit=10&name="+url.QueryEscape(name), nil)
			return req
		}, func(r io.Reader) error {
			var v map[string]json.RawMessage
			return json.NewDecoder(r).Decode(&v)
		})
		return
	}
	dir := os.Getenv("DETENTE_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	l := filepath.Join(dir, "testdata", "lists")
	if _, err := os.Stat(l); err != nil {
		b.Skipf("shared lists not found at %s", l)
	}
	f := setup(b)
	ctx := context.Background()
	open := func(p string) *os.File {
		fh, err := os.Open(filepath.Join(l, p))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { fh.Close() })
		return fh
	}
	for _, a := range []struct {
		name  string
		files []string
	}{{"un", []string{"un/consolidated.xml"}}, {"ofac", []string{"ofac/sdn.csv", "ofac/add.csv", "ofac/alt.csv", "ofac/sdn_comments.csv"}}, {"eu", []string{"eu/32001R2580.csv"}}} {
		var files []*os.File
		for _, p := range a.files {
			files = append(files, open(p))
		}
		var ds []detente.Designation
		var err error
		switch a.name {
		case "un":
			ds, err = lists.LoadUN(files[0])
		case "ofac":
			ds, err = lists.LoadOFAC(files[0], files[1], files[2], files[3])
		case "eu":
			ds, err = lists.LoadEU(files[0])
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.node.Screening.LoadList(ctx, a.name, ds, screening.ListLoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	benchHTTP(b, names, func(name string) *http.Request {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/screen?name="+url.QueryEscape(name), nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[detente.RoleAnalyst])
		return req
	}, func(r io.Reader) error {
		var v []json.RawMessage
		return json.NewDecoder(r).Decode(&v)
	})
}

// benchHTTP sends the names round robin from 4 × GOMAXPROCS clients and
// reports queries per second.
func benchHTTP(b *testing.B, names []string, request func(name string) *http.Request, decode func(io.Reader) error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			resp, err := client.Do(request(names[i%int64(len(names))]))
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
				if resp != nil {
					resp.Body.Close()
				}
				continue
			}
			if decode(resp.Body) != nil {
				failed.Add(1)
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	if failed.Load() > 0 {
		b.Fatalf("%d requests failed", failed.Load())
	}
}

func TestScreenIdentifiersAPI(t *testing.T) {
	f := setup(t)
	csv := "entity_id,type,name,dob,nationality,wallets,passports\n" +
		"BR-1,person,Sergei Ivanovich Lavrov,1950-03-21,RU,,RU:7512345678\n" +
		"BR-2,organization,Black Meridian Front,,,ETH:0x7F367cC41522cE07553e823bf3be79A889DEbe1B,\n"
	if code, _, raw := f.do(t, detente.RoleAdmin, "POST", "/api/v1/lists/bravo", csv); code != 201 {
		t.Fatalf("load: %d %s", code, raw)
	}
	code, _, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/screen/identifiers?document=RUS:751-234-5678&wallet=BSC:0x7f367cc41522ce07553e823bf3be79a889debe1b&imo=9074729", "")
	var hits []screening.IdentifierHit
	json.Unmarshal([]byte(raw), &hits)
	if code != 200 || len(hits) != 2 || hits[1].EntityID != "BR-1" || hits[1].DatesOfBirth[0] != "1950-03-21" || hits[1].Nationalities[0] != "RU" || hits[0].EntityID != "BR-2" {
		t.Errorf("identifiers: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/screen/identifiers", ""); code != 400 || !strings.Contains(raw, "give at least one identifier") {
		t.Errorf("no identifier: %d %s", code, raw)
	}
	code, _, raw = f.do(t, detente.RoleAnalyst, "POST", "/api/v1/screen/batch",
		`{"queries": [{"identifiers": [{"type": "wallet", "chain": "ETH", "value": "0x7f367cc41522ce07553e823bf3be79a889debe1b"}]},
		{"name": "Sergej Lawrow", "threshold": 0.99, "identifiers": [{"type": "document", "value": "7512345678"}]},
		{"identifiers": [{"type": "iban", "value": "GB00"}]}, {"name": "BMF", "threshold": 7}]}`)
	var batch []struct {
		Error   string `json:"error"`
		Results []struct {
			Match bool `json:"match"`
		} `json:"results"`
		IdentifierResults []screening.IdentifierHit `json:"identifier_results"`
	}
	json.Unmarshal([]byte(raw), &batch)
	if code != 200 || len(batch) != 4 || len(batch[0].IdentifierResults) != 1 || batch[0].IdentifierResults[0].EntityID != "BR-2" ||
		len(batch[1].Results) == 0 || batch[1].Results[0].Match || len(batch[1].IdentifierResults) != 1 || !batch[1].IdentifierResults[0].StateUnconfirmed ||
		!strings.HasPrefix(batch[2].Error, "iban: ") || !strings.HasPrefix(batch[3].Error, "threshold 7: ") {
		t.Errorf("batch: %d %s", code, raw)
	}
	if code, m, raw := f.do(t, detente.RoleAnalyst, "GET", "/api/v1/names/compare?a=Sergei+Lavrov&b=Sergej+Lawrow&threshold=0.99", ""); code != 200 || m["match"] != false || m["threshold"] != 0.99 {
		t.Errorf("names compare with a threshold: %d %s", code, raw)
	}
}
