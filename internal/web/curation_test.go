package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestCurationPage: a partner's curation report, charts drawn on the
// server, its names escaped; only roles that read intelligence see it.
func TestCurationPage(t *testing.T) {
	f := newFixture(t)
	c := f.as(t, analyst)
	resp, page := c.get("/partners/bravo/report")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, w := range []string{"<h1>Curation report on bravo</h1>", "By type", "By topic", "By region", "Over time",
		`<svg role="img"`, "<title>indicator: 1 object</title>", "single-source", "Terrorist labels", "Disputed"} {
		if !strings.Contains(page, w) {
			t.Errorf("the report does not show %q", w)
		}
	}
	if strings.Contains(page, xssScript) {
		t.Error("a partner's object name reached the page unescaped")
	}
	if _, page := c.get("/partners/bravo"); !strings.Contains(page, `href="/partners/bravo/report"`) {
		t.Error("the partner's page does not link its curation report")
	}
	if resp, _ := c.get("/partners/nobody/report"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown partner: %d, want 404", resp.StatusCode)
	}
	if resp, _ := f.as(t, auditor).get("/partners/bravo/report"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor: %d, want 403", resp.StatusCode)
	}
}
