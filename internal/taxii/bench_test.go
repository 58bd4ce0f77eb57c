package taxii

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

// benchSource holds n objects of one version each in collA.
func benchSource(n int) *memSource {
	src := newMemSource()
	for i := range n {
		id := fmt.Sprintf("indicator--6b0e0a8e-4a1c-4d2b-9c1a-%012d", i)
		src.put(collA, Record{ID: id, Raw: obj(id, "2025-01-01T00:00:00Z")})
	}
	return src
}

func BenchmarkSelect(b *testing.B) {
	src := benchSource(10000)
	q := Query{Versions: VersionSet{Last: true}, AfterSeq: 5000, Limit: 100}
	for b.Loop() {
		Select(src.recs[collA], q)
	}
}

func BenchmarkParseQuery(b *testing.B) {
	raw := "match[type]=indicator,malware&match[version]=all&added_after=2025-01-01T00:00:00Z&limit=500&next=" +
		fuzzCursors.seal(10, [8]byte{}, Caller{Partner: "bravo"})
	for b.Loop() {
		parseQuery(raw, epObjects, collA, 100, 1000)
	}
}

// BenchmarkObjectsPage serves one page of 100 objects through the handler.
func BenchmarkObjectsPage(b *testing.B) {
	h := authenticate(NewServer(benchSource(1000), Options{}))
	for b.Loop() {
		r := httptest.NewRequest("GET", objectsPath(collA)+"?limit=100", nil)
		r.SetBasicAuth("bravo", "t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
