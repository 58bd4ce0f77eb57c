package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/node"
	"detente/internal/stix"
)

var (
	objectLinkRE = regexp.MustCompile(`<th scope="row">(?:<span class="sentence">)?<a href="/objects/([^"]+)"`)
	olderRE      = regexp.MustCompile(`href="(/objects\?[^"]*before=[^"]*)">Older`)
	newerRE      = regexp.MustCompile(`href="(/objects\?[^"]*after=[^"]*)">← Newer`)
	logRowRE     = regexp.MustCompile(`<th scope="row"><a href="/log/(\d+)">`)
	logOlderRE   = regexp.MustCompile(`href="(/log\?[^"]*)">Older entries`)
	logNewerRE   = regexp.MustCompile(`href="(/log[^"]*)">← Newer entries`)
)

// ingestIndicators ingests n indicators named "Bulk n" (0, 1, …), one
// bundle each, so that each is stored after the one before.
func ingestIndicators(t *testing.T, n *node.Node, count int) {
	t.Helper()
	ts := stix.FormatTimestamp(time.Now().Add(-time.Hour))
	for i := range count {
		b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid4(), "objects": []map[string]any{{
			"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuid4(), "created": ts, "modified": ts,
			"name": fmt.Sprintf("Bulk %d", i), "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": ts}}})
		if _, err := n.Ingest(context.Background(), b, node.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestObjectsNewestFirst checks that the intelligence list shows the most
// recently stored first, a page at a time, older and newer pages linked.
func TestObjectsNewestFirst(t *testing.T) {
	f := newFixture(t)
	ingestIndicators(t, f.node, objectsPerPage+10)
	c := f.as(t, analyst)
	_, page := c.get("/objects?type=indicator")
	if i, j := strings.Index(page, fmt.Sprintf("Bulk %d<", objectsPerPage+9)), strings.Index(page, fmt.Sprintf("Bulk %d<", objectsPerPage+8)); i < 0 || j < i {
		t.Fatalf("the newest is not first")
	}
	first := objectLinkRE.FindAllStringSubmatch(page, -1)
	if len(first) != objectsPerPage || strings.Contains(page, "← Newer") {
		t.Fatalf("first page: %d objects, or a newer page", len(first))
	}
	older := olderRE.FindStringSubmatch(page)
	if older == nil {
		t.Fatal("no older page")
	}
	_, page = c.get(html.UnescapeString(older[1]))
	second := objectLinkRE.FindAllStringSubmatch(page, -1)
	// 60 bulk indicators and the fixture's 4 (one of them quarantined, not listed).
	if len(second) != 13 || !strings.Contains(page, "Bulk 0<") || strings.Contains(page, "Older →") {
		t.Fatalf("second page: %d objects", len(second))
	}
	newer := newerRE.FindStringSubmatch(page)
	if newer == nil {
		t.Fatal("no newer page from the second")
	}
	_, page = c.get(html.UnescapeString(newer[1]))
	back := objectLinkRE.FindAllStringSubmatch(page, -1)
	if len(back) != objectsPerPage || back[0][1] != first[0][1] || back[len(back)-1][1] != first[len(first)-1][1] {
		t.Errorf("back to the newer page: %d objects from %s, want the first page again", len(back), back[0][1])
	}
}

// TestObjectsSearch checks searching by name, alias, type and text, and
// relationships listed as sentences.
func TestObjectsSearch(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, analyst)
	for _, s := range []struct {
		query string
		want  []string
		not   []string
	}{
		{"q=BMF", []string{"Black Meridian Front", "BMF donation wallet"}, []string{"Harbour plot</a>"}},
		{"q=black+meridian", []string{"Black Meridian Front</a> <em>uses</em> <a href=\"/objects/infrastructure--"}, []string{"Courier phone"}},
		{"type=relationship", []string{"<em>uses</em>", "(relationship)"}, []string{"Harbour plot</a>"}},
		{"q=threat-actor", []string{"Black Meridian Front"}, []string{"Harbour plot</a>"}},
		{"q=used+by", []string{"Courier phone"}, []string{"Black Meridian Front</a>"}}, // a description
		{"q=198.51.100", []string{"From bravo"}, nil},                                  // a pattern
	} {
		_, page := c.get("/objects?" + s.query)
		for _, w := range s.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: no %q", s.query, w)
			}
		}
		for _, w := range s.not {
			if strings.Contains(page, w) {
				t.Errorf("%s: %q listed", s.query, w)
			}
		}
	}
}

// TestObjectNeighbourhood checks an object's relationships as sentences,
// what references it, and the graph of its neighbourhood.
func TestObjectNeighbourhood(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, analyst)
	_, page := c.get("/objects/" + f.actor)
	for _, w := range []string{"Relationships", "Black Meridian Front</a> <em>uses</em>", "BMF donation wallet", "(the relationship)",
		`class="chart graph"`, `class="gnode center"`, ">uses</text>", "BMF donation wallet</text>",
		"<h4>Corroboration</h4>", "Single source: no other originator asserts"} {
		if !strings.Contains(page, w) {
			t.Errorf("the actor's page does not show %q", w)
		}
	}
	// The wallet sees the relationship from the other end.
	m := regexp.MustCompile(`href="/objects/(infrastructure--[^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no link to the wallet")
	}
	_, page = c.get("/objects/" + m[1])
	if !strings.Contains(page, "<em>uses</em>") || !strings.Contains(page, "Black Meridian Front</text>") {
		t.Error("the wallet's page does not show who uses it")
	}
	rel := regexp.MustCompile(`href="/objects/(relationship--[^"]+)"`).FindStringSubmatch(page)
	_, page = c.get("/objects/" + rel[1])
	if !strings.Contains(page, "<h1>Black Meridian Front uses BMF donation wallet</h1>") {
		t.Error("the relationship's page is not titled with its sentence")
	}
	// The report: what it references, by name, in the graph.
	_, page = c.get("/objects/" + f.report)
	for _, w := range []string{"Source identity</text>", ">object</text>"} {
		if !strings.Contains(page, w) {
			t.Errorf("the report's graph does not show %q", w)
		}
	}
	// Referenced by: the green indicator is in the report.
	_, page = c.get("/objects/" + f.received)
	if strings.Contains(page, "Neighbourhood") {
		t.Error("an object nothing references and that references nothing has a neighbourhood")
	}
}

// TestLogPages checks the log's pages, newest first: older entries a
// link away, and back.
func TestLogPages(t *testing.T) {
	f := newFixture(t)
	for i := range 70 {
		if _, _, err := f.node.CreateToken(context.Background(), detente.RoleAuditor, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	size, _ := countEvents(f)
	c := f.as(t, auditor)
	_, page := c.get("/log")
	rows := logRowRE.FindAllStringSubmatch(page, -1)
	if len(rows) != logPerPage || rows[0][1] != itoa(size-1) || strings.Contains(page, "← Newer") {
		t.Fatalf("the newest page: %d rows from %s", len(rows), rows[0][1])
	}
	older := logOlderRE.FindStringSubmatch(page)
	if older == nil {
		t.Fatal("no older page")
	}
	_, page = c.get(html.UnescapeString(older[1]))
	rows2 := logRowRE.FindAllStringSubmatch(page, -1)
	if len(rows2) == 0 || rows2[0][1] != itoa(size-1-logPerPage) {
		t.Fatalf("the older page starts at %v, want %d", rows2, size-1-logPerPage)
	}
	newer := logNewerRE.FindStringSubmatch(page)
	if newer == nil {
		t.Fatal("no newer page")
	}
	_, page = c.get(html.UnescapeString(newer[1]))
	if back := logRowRE.FindAllStringSubmatch(page, -1); len(back) != logPerPage || back[0][1] != rows[0][1] {
		t.Errorf("back to the newest page: %d rows from %v", len(back), back)
	}
	// Filtered: the token entries only, paged the same way.
	_, page = c.get("/log?type=token.created")
	if rows := logRowRE.FindAllStringSubmatch(page, -1); len(rows) != logPerPage || logOlderRE.FindStringSubmatch(page) == nil {
		t.Errorf("token entries: %d rows", len(rows))
	}
	if !strings.Contains(page, `<td class="when">`) {
		t.Error("the dates are not kept on one line")
	}
}

// TestPathNotUTF8: a page address that is not UTF-8 is refused with 400,
// as the API refuses it, not looked up as U+FFFD.
func TestPathNotUTF8(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, detente.RoleAnalyst)
	for _, path := range []string{"/objects/indicator--%ff", "/partners/%ff/report"} {
		if resp, body := c.get(path); resp.StatusCode != 400 || !strings.Contains(body, "not valid UTF-8") {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}
