package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"detente"
	"detente/internal/matching"
	"detente/internal/nodetest"
	protocol "detente/internal/peer"
	"detente/internal/psi"
	"detente/internal/server"
)

// matchTerms is an agreement's match block allowing every mode.
func matchTerms(evaluations int, modes ...string) map[string]any {
	if len(modes) == 0 {
		modes = []string{"query", "bulk", "count"}
	}
	return map[string]any{"evaluations": evaluations, "period": "720h", "max_set_size": 1000, "modes": modes}
}

// linkMatch makes a and b partners under agreements in force for a year
// and carrying the given match blocks (nil: none).
func linkMatch(t testing.TB, a, b *peer, aTerms, bTerms map[string]any) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, x := range []struct {
		self, other *peer
		terms       map[string]any
	}{{a, b, aTerms}, {b, a, bTerms}} {
		if _, err := x.self.AddPartner(ctx, x.other.Name, x.other.PublicKey(), x.other.srv.URL()); err != nil {
			t.Fatal(err)
		}
		doc := map[string]any{"partner": x.other.Name, "from": now.Add(-time.Hour), "until": now.AddDate(1, 0, 0),
			"tlp_ceiling": "amber", "types": []string{"indicator"}, "onward_sharing": detente.OnwardNone, "purpose": "counter-terrorism"}
		if x.terms != nil {
			doc["match"] = x.terms
		}
		raw, _ := json.Marshal(doc)
		ag, err := detente.ParseAgreement(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.self.AddAgreement(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
}

// clock is a node clock that tests move forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func startClockedPeer(t testing.TB, name string, c *clock) *peer {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := nodetest.Init(ctx, dir, name); err != nil {
		t.Fatal(err)
	}
	n, err := nodetest.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Now = c.Now // before anything runs
	p := &peer{Node: n, dir: dir, srv: server.New(n, nil, server.Options{})}
	if err := p.srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

func addWatchlist(t testing.TB, p *peer, name string, typ psi.Type, marking detente.TLP, lines ...string) {
	t.Helper()
	sels, bad := matching.ParseSelectorFile(typ, []byte(strings.Join(lines, "\n")))
	if len(bad) > 0 {
		t.Fatalf("watchlist %s: %v", name, bad)
	}
	if _, err := p.Matching.AddToWatchlist(context.Background(), name, typ, marking, sels); err != nil {
		t.Fatal(err)
	}
}

func selectorLines(t testing.TB, typ psi.Type, lines ...string) []matching.SelectorLine {
	t.Helper()
	sels, bad := matching.ParseSelectorFile(typ, []byte(strings.Join(lines, "\n")))
	if len(bad) > 0 {
		t.Fatalf("selectors: %v", bad)
	}
	return sels
}

// randomPhones returns n distinct random E.164 numbers.
func randomPhones(t testing.TB, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		v, err := rand.Int(rand.Reader, big.NewInt(1e10))
		if err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprintf("+44%010d", v.Int64())
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// spaced writes an E.164 number as people do: "0044 1234 567 890".
func spaced(e164 string) string {
	d := strings.TrimPrefix(e164, "+")
	return "00" + d[:2] + " " + d[2:6] + " " + d[6:9] + "-" + d[9:]
}

// phoneScenario: bravo (the owner) holds 40 random phones; alpha's 25
// selectors share exactly 9 of them, written differently.
type phoneScenario struct {
	owner       []string
	query       []string // as alpha writes them
	want        []string // the matching ones, as alpha wrote them, in order
	querierOnly []string
}

func newPhoneScenario(t testing.TB) phoneScenario {
	phones := randomPhones(t, 56)
	s := phoneScenario{owner: phones[:40]}
	for i, p := range phones[31:56] { // 31..39 shared (9), 40..55 alpha's own (16)
		q := p
		if i%2 == 0 {
			q = spaced(p)
		}
		s.query = append(s.query, q)
		if slices.Contains(s.owner, p) {
			s.want = append(s.want, q)
		} else {
			s.querierOnly = append(s.querierOnly, q)
		}
	}
	if len(s.want) != 9 || len(s.querierOnly) != 16 {
		panic("scenario")
	}
	return s
}

// recorder is a RoundTripper that keeps every request and response body.
type recorder struct {
	next http.RoundTripper
	mu   stdsync.Mutex
	reqs []string // "METHOD PATH"
	body bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var in []byte
	if req.Body != nil {
		in, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(in))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(out))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
	r.body.Write(in)
	r.body.Write(out)
	for k, vs := range resp.Header {
		r.body.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	r.body.WriteString(req.URL.RawQuery)
	return resp, nil
}

func (r *recorder) count(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.reqs {
		if x == method+" "+path {
			n++
		}
	}
	return n
}

func (r *recorder) wrap(rt http.RoundTripper) http.RoundTripper { r.next = rt; return r }

// recordedMatching returns a matching service of p, as the node composes
// it, whose connections to partners go through rec.
func recordedMatching(p *peer, rec *recorder) *matching.Service {
	return matching.New(matching.Config{Store: p.Store, Name: p.Name, SealKey: p.SubKey(matching.OwnerKeyInfo),
		Now: func() time.Time { return p.Now() },
		PeerClient: func(x *detente.Partner) (*protocol.Client, error) {
			c, err := p.PeerClient(x)
			if err != nil {
				return nil, err
			}
			c.HTTP.Transport = rec.wrap(c.HTTP.Transport)
			return c, nil
		}})
}

func match(t *testing.T, m *matching.Service, partner string, typ psi.Type, mode string, sels []matching.SelectorLine) *matching.Result {
	t.Helper()
	res, err := m.Match(context.Background(), matching.Request{Partner: partner, Type: typ, Mode: mode, Selectors: sels})
	if err != nil {
		t.Fatalf("%s match: %v", mode, err)
	}
	return res
}

// TestMatchModesAcrossNodes: alpha matches its phones against bravo's
// watchlist over loopback in every mode, and learns exactly the known
// overlap (as alpha wrote it) or its size.
func TestMatchModesAcrossNodes(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkMatch(t, alpha, bravo, matchTerms(10000), matchTerms(10000))
	s := newPhoneScenario(t)
	addWatchlist(t, bravo, "phones", psi.TypePhone, detente.TLPAmber, s.owner[:20]...)
	addWatchlist(t, bravo, "more-phones", psi.TypePhone, detente.TLPGreen, s.owner[20:]...)
	// A RED list is above the agreement's ceiling: never matched against.
	secret := randomPhones(t, 1)[0]
	addWatchlist(t, bravo, "protected", psi.TypePhone, detente.TLPRed, secret)
	addWatchlist(t, bravo, "passports", psi.TypeDocument, detente.TLPAmber, "UTO:L898902C3", "D:C01X00T47")

	sels := selectorLines(t, psi.TypePhone, append(slices.Clone(s.query), secret)...)
	m := alpha.Matching
	for _, mode := range []string{"query", "bulk"} {
		res := match(t, m, "bravo", psi.TypePhone, mode, sels)
		if !slices.Equal(res.Matches, s.want) || res.Count != nil {
			t.Errorf("%s: matches %q, want %q", mode, res.Matches, s.want)
		}
		if res.Cost < len(sels) || res.Used == 0 || res.Limit != 10000 {
			t.Errorf("%s: cost %d, budget %d of %d", mode, res.Cost, res.Used, res.Limit)
		}
	}
	res := match(t, m, "bravo", psi.TypePhone, "count", sels)
	if res.Count == nil || *res.Count != len(s.want) || res.Matches != nil {
		t.Errorf("count: %+v, want %d", res, len(s.want))
	}
	// Documents, with an MRZ on alpha's side; the owner's phone lists are
	// not in the way.
	mrz := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
	docs := selectorLines(t, psi.TypeDocument, mrz, "UTO:X1234567")
	if res := match(t, m, "bravo", psi.TypeDocument, "query", docs); !slices.Equal(res.Matches, []string{mrz}) {
		t.Errorf("documents: %q", res.Matches)
	}
	// A query with no hit reports an empty list, not a missing one.
	res = match(t, m, "bravo", psi.TypePhone, "query", selectorLines(t, psi.TypePhone, s.querierOnly...))
	if res.Matches == nil || len(res.Matches) != 0 {
		t.Errorf("no hits: %#v", res.Matches)
	}
	out, _ := json.Marshal(res)
	if !strings.Contains(string(out), `"matches":[]`) || strings.Contains(string(out), `"count"`) {
		t.Errorf("JSON of a query without hits: %s", out)
	}

	// Count mode refuses sets under the minimum (10).
	_, err := m.Match(context.Background(), matching.Request{Partner: "bravo", Type: psi.TypePhone, Mode: "count", Selectors: sels[:3]})
	if err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("count with 3 selectors: %v", err)
	}
	// Both sides logged every exchange, with counts.
	for _, p := range []*peer{alpha, bravo} {
		es := events(t, p, detente.EventMatchQuery)
		if len(es) != 5 {
			t.Errorf("%s logged %d match events, want 5", p.Name, len(es))
		}
	}
}

func events(t testing.TB, p *peer, typ string) []*detente.Event {
	t.Helper()
	ctx := context.Background()
	var es []*detente.Event
	if err := p.Store.View(ctx, func(tx detente.Tx) (err error) { es, err = tx.Events(ctx, detente.EventFilter{Type: typ}); return }); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestMatchBudget: the owner charges each query's padded size before
// evaluating and refuses, clearly, once the period's budget is spent; the
// budget document and the log show the counts.
func TestMatchBudget(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkMatch(t, alpha, bravo, matchTerms(10000), matchTerms(64, "query", "bulk"))
	s := newPhoneScenario(t)
	addWatchlist(t, bravo, "phones", psi.TypePhone, detente.TLPAmber, s.owner...)
	m := alpha.Matching
	sels := selectorLines(t, psi.TypePhone, s.query[:10]...) // padded to 16
	for i := range 4 {
		if res := match(t, m, "bravo", psi.TypePhone, "query", sels); res.Cost != 16 || res.Used != 16*(i+1) || res.Limit != 64 {
			t.Fatalf("query %d: cost %d, used %d of %d", i, res.Cost, res.Used, res.Limit)
		}
	}
	_, err := m.Match(context.Background(), matching.Request{Partner: "bravo", Type: psi.TypePhone, Mode: "query", Selectors: sels})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "budget for this period exhausted: 64 of 64 used") {
		t.Fatalf("fifth query: %v", err)
	}
	// Bulk draws on the same budget.
	_, err = m.Match(context.Background(), matching.Request{Partner: "bravo", Type: psi.TypePhone, Mode: "bulk", Selectors: sels})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "exhausted") {
		t.Fatalf("bulk after the budget: %v", err)
	}
	bs, err := bravo.Matching.Budgets(context.Background())
	if err != nil || len(bs) != 1 {
		t.Fatalf("budgets: %v %v", bs, err)
	}
	if b := bs[0]; b.Partner != "alpha" || b.Used != 64 || b.Limit != 64 || b.Queries != 4 || b.Exchanges != 0 || b.Refused != 2 || !strings.HasPrefix(b.Epoch, "alpha/") {
		t.Errorf("budget: %+v", b)
	}
	es := events(t, bravo, detente.EventMatchQuery)
	if len(es) != 6 {
		t.Fatalf("%d match events, want 6", len(es))
	}
	var last map[string]any
	json.Unmarshal(es[5].Body, &last)
	if last["refused"] == nil || last["used"] != float64(64) || last["limit"] != float64(64) || last["mode"] != "bulk" || es[5].Partner != "alpha" {
		t.Errorf("refusal event: %s", es[5].Body)
	}
	var first map[string]any
	json.Unmarshal(es[0].Body, &first)
	if first["elements"] != float64(16) || first["cost"] != float64(16) || first["used"] != float64(16) || first["epoch"] == nil {
		t.Errorf("query event: %s", es[0].Body)
	}
}

// TestMatchRefusedWithoutTerms: an agreement without a match block allows
// no matching (default deny), on either side, and an agreement allowing
// only some modes refuses the others.
func TestMatchRefusedWithoutTerms(t *testing.T) {
	alpha, bravo, charlie := startPeer(t, "alpha"), startPeer(t, "bravo"), startPeer(t, "charlie")
	linkMatch(t, alpha, bravo, matchTerms(1000), nil)                         // bravo has not agreed
	linkMatch(t, alpha, charlie, matchTerms(1000), matchTerms(1000, "query")) // charlie: query only
	s := newPhoneScenario(t)
	addWatchlist(t, bravo, "phones", psi.TypePhone, detente.TLPAmber, s.owner...)
	addWatchlist(t, charlie, "phones", psi.TypePhone, detente.TLPAmber, s.owner...)
	m := alpha.Matching
	sels := selectorLines(t, psi.TypePhone, s.query...)
	for _, mode := range []string{"query", "bulk", "count"} {
		_, err := m.Match(context.Background(), matching.Request{Partner: "bravo", Type: psi.TypePhone, Mode: mode, Selectors: sels})
		if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "bravo has no agreement in force with alpha that allows private matching") {
			t.Errorf("%s against bravo: %v", mode, err)
		}
	}
	_, err := m.Match(context.Background(), matching.Request{Partner: "charlie", Type: psi.TypePhone, Mode: "bulk", Selectors: sels})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "does not allow private matching in bulk mode") {
		t.Errorf("bulk against charlie: %v", err)
	}
	if res := match(t, m, "charlie", psi.TypePhone, "query", sels); !slices.Equal(res.Matches, s.want) {
		t.Errorf("query against charlie: %q", res.Matches)
	}
	// bravo asks alpha, whose agreement allows it, but bravo's own does not.
	_, err = bravo.Matching.Match(context.Background(), matching.Request{Partner: "alpha", Type: psi.TypePhone, Selectors: sels})
	if detente.ErrorCode(err) != detente.EDENIED || !strings.Contains(err.Error(), "bravo has no agreement in force with alpha") {
		t.Errorf("bravo asking: %v", err)
	}
	if es := events(t, bravo, detente.EventMatchQuery); len(es) != 0 {
		t.Errorf("refused requests were charged: %d events", len(es))
	}
}

// unkeyedForms returns what must never leave the querier about sel: the
// value, its canonical keys, and their unkeyed SHA-256 in raw, hex and
// base64 forms.
func unkeyedForms(t testing.TB, sel psi.Selector) [][]byte {
	ks, err := sel.Keys()
	if err != nil {
		t.Fatal(err)
	}
	forms := [][]byte{[]byte(sel.Value)}
	pre := [][]byte{[]byte(sel.Value)}
	for _, k := range ks {
		forms = append(forms, []byte(k.Value))
		pre = append(pre, []byte(k.Value), k.Input())
	}
	for _, p := range pre {
		h := sha256.Sum256(p)
		forms = append(forms, h[:], []byte(hex.EncodeToString(h[:])), []byte(base64.StdEncoding.EncodeToString(h[:])), []byte(base64.RawURLEncoding.EncodeToString(h[:])))
	}
	return forms
}

// TestMatchRevealsNoSelector: across every mode, neither the traffic
// between the nodes nor anything the owner stores (its whole data
// directory: database, log, documents) holds one of the querier's
// selectors or an unkeyed hash of one, and the querier's own log holds none
// of them either.
func TestMatchRevealsNoSelector(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkMatch(t, alpha, bravo, matchTerms(10000), matchTerms(10000))
	s := newPhoneScenario(t)
	addWatchlist(t, bravo, "phones", psi.TypePhone, detente.TLPAmber, s.owner...)
	persons := []string{"Sergei Lavrov,1950-03-21", "Yusuf Karimov,1984-07-12"}
	addWatchlist(t, bravo, "persons", psi.TypePerson, detente.TLPAmber, persons[0])
	rec := &recorder{}
	m := recordedMatching(alpha, rec)
	sels := selectorLines(t, psi.TypePhone, s.query...)
	for _, mode := range []string{"query", "bulk", "count"} {
		match(t, m, "bravo", psi.TypePhone, mode, sels)
	}
	psels := selectorLines(t, psi.TypePerson, "Сергей Лавров,1950-03-21", persons[1])
	if res := match(t, m, "bravo", psi.TypePerson, "query", psels); !slices.Equal(res.Matches, []string{"Сергей Лавров,1950-03-21"}) {
		t.Errorf("persons: %q", res.Matches)
	}
	if rec.count("POST", "/detente/v1/match/query") != 2 || rec.count("POST", "/detente/v1/match/bulk") != 2 {
		t.Fatalf("recorded %v", rec.reqs)
	}

	var secrets []psi.Selector
	for _, q := range s.querierOnly {
		secrets = append(secrets, psi.Selector{Type: psi.TypePhone, Value: q})
	}
	secrets = append(secrets, psi.Person("Yusuf Karimov", "1984-07-12"))
	// Every querier selector, matched or not, is absent from the traffic.
	var all []psi.Selector
	for _, sl := range append(slices.Clone(sels), psels...) {
		all = append(all, sl.Selector)
	}
	traffic := rec.body.Bytes()
	for _, sel := range all {
		for _, f := range unkeyedForms(t, sel) {
			if bytes.Contains(traffic, f) {
				t.Errorf("traffic holds %q of %s", f, sel)
			}
		}
	}
	// The owner's store holds none of the querier's own selectors. (Those
	// that matched are on its own watchlist, by definition.)
	bravo.stop()
	var files [][]byte
	filepath.WalkDir(bravo.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			files = append(files, b)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no files in the owner's data directory")
	}
	for _, sel := range secrets {
		for _, f := range unkeyedForms(t, sel) {
			for _, b := range files {
				if bytes.Contains(b, f) {
					t.Errorf("the owner's data directory holds %q of %s", f, sel)
				}
			}
		}
	}
	// Nor does the querier's log, matched or not.
	es := events(t, alpha, "")
	logged, _ := json.Marshal(es)
	for _, sel := range all {
		for _, f := range unkeyedForms(t, sel) {
			if bytes.Contains(logged, f) {
				t.Errorf("alpha's log holds %q of %s", f, sel)
			}
		}
	}
}

// TestMatchEpochChange: the querier caches the owner's encoded watchlist
// for the epoch; a new period is a new epoch, with a new key, and the cached
// encoding is dropped and fetched again.
func TestMatchEpochChange(t *testing.T) {
	c := &clock{}
	alpha, bravo := startPeer(t, "alpha"), startClockedPeer(t, "bravo", c)
	linkMatch(t, alpha, bravo, matchTerms(10000), matchTerms(10000))
	s := newPhoneScenario(t)
	addWatchlist(t, bravo, "phones", psi.TypePhone, detente.TLPAmber, s.owner...)
	rec := &recorder{}
	m := recordedMatching(alpha, rec)
	sels := selectorLines(t, psi.TypePhone, s.query...)
	first := match(t, m, "bravo", psi.TypePhone, "query", sels)
	second := match(t, m, "bravo", psi.TypePhone, "query", sels)
	if n := rec.count("GET", "/detente/v1/match/watchlist"); n != 1 || first.Epoch != second.Epoch {
		t.Fatalf("same epoch: %d fetches, epochs %s and %s", n, first.Epoch, second.Epoch)
	}
	c.advance(721 * time.Hour)
	third := match(t, m, "bravo", psi.TypePhone, "query", sels)
	if n := rec.count("GET", "/detente/v1/match/watchlist"); n != 2 || third.Epoch == first.Epoch {
		t.Fatalf("new period: %d fetches, epochs %s then %s", n, first.Epoch, third.Epoch)
	}
	if !slices.Equal(third.Matches, s.want) || third.Used != third.Cost {
		t.Errorf("new epoch: matches %q, used %d (a new period's budget starts at 0)", third.Matches, third.Used)
	}
	// Each epoch was published once, each with its own key, both logged.
	es := events(t, bravo, detente.EventMatchEpoch)
	if len(es) != 2 {
		t.Fatalf("%d epoch events", len(es))
	}
	var a, b map[string]any
	json.Unmarshal(es[0].Body, &a)
	json.Unmarshal(es[1].Body, &b)
	if a["epoch"] == b["epoch"] || a["public_key_sha256"] == b["public_key_sha256"] || a["entries"] != float64(40) {
		t.Errorf("epoch events: %s, %s", es[0].Body, es[1].Body)
	}
	// The querier logged the key it verified against: the same hash.
	qs := events(t, alpha, detente.EventMatchQuery)
	var q map[string]any
	json.Unmarshal(qs[len(qs)-1].Body, &q)
	if q["public_key_sha256"] != b["public_key_sha256"] || q["hits"] != float64(9) {
		t.Errorf("querier's event: %s", qs[len(qs)-1].Body)
	}
}

// TestMatchAPI: an analyst matches through POST /api/v1/match.
func TestMatchAPI(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	linkMatch(t, alpha, bravo, matchTerms(10000), matchTerms(10000))
	addWatchlist(t, bravo, "wallets", psi.TypeWallet, detente.TLPAmber, "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "eth:0x52908400098527886E0F7030069857D2E4169EE7")
	_, secret, err := alpha.CreateToken(context.Background(), detente.RoleAnalyst, "desk")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	post := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", alpha.srv.URL()+"/api/v1/match", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post(`{"partner": "bravo", "type": "wallet", "selectors": ["polygon:0x52908400098527886e0f7030069857d2e4169ee7", "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT"]}`)
	if code != 200 || fmt.Sprint(out["matches"]) != "[polygon:0x52908400098527886e0f7030069857d2e4169ee7]" || out["cost"] != float64(16) {
		t.Errorf("query: %d %v", code, out)
	}
	code, out = post(`{"partner": "bravo", "type": "wallet", "selectors": ["btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "nonsense"]}`)
	if code != 400 || !strings.Contains(fmt.Sprint(out["error"]), "line 2") {
		t.Errorf("bad selector: %d %v", code, out)
	}
}
