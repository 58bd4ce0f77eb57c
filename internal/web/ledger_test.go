package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"detente"
)

// TestLedgerPage: the ledger with its chart per partner, and the
// receiver's own grading of a partner and an assertion, shown beside the
// originator's.
func TestLedgerPage(t *testing.T) {
	f := newFixture(t)
	an := f.as(t, detente.RoleAnalyst)
	resp, body := an.get("/ledger")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ledger: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{`id="p-bravo"`, `<svg role="img"`, "given (solid)", "balance (line, right axis)", `aria-current="page">Ledger`} {
		if !strings.Contains(body, want) {
			t.Errorf("ledger page lacks %q", want)
		}
	}
	if resp, _ := an.get("/ledger?period=soon"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad period: %d", resp.StatusCode)
	}

	if resp, _ := an.get("/objects/" + f.received); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	if resp, body := an.post("/objects/"+f.received+"/grade", url.Values{"credibility": {"4"}, "note": {"only bravo says so"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("grade object: %d\n%s", resp.StatusCode, body)
	}
	an.get("/partners/bravo")
	if resp, body := an.post("/partners/bravo/grade", url.Values{"reliability": {"D"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("grade partner: %d\n%s", resp.StatusCode, body)
	}
	_, body = an.get("/objects/" + f.received)
	for _, want := range []string{`id="grading-h"`, "<strong>D</strong>", "<strong>4</strong>", "only bravo says so"} {
		if !strings.Contains(body, want) {
			t.Errorf("object page lacks %q", want)
		}
	}
	if _, body = an.get("/partners/bravo"); !strings.Contains(body, "Reliability <strong>D</strong>") {
		t.Error("partner page does not show this node's grade")
	}

	au := f.as(t, detente.RoleAuditor)
	au.get("/ledger")
	if resp, _ := au.post("/partners/bravo/grade", url.Values{"reliability": {"A"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor graded: %d", resp.StatusCode)
	}
	if resp, _ := an.post("/ledger/holds/bravo/release", url.Values{"reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst released a hold: %d", resp.StatusCode)
	}
}

// TestFeedbackForm: the feedback forms show on a partner's object, not on
// this node's own; a sighting sent is released to bravo (the fixture's
// agreement does not cover sightings: it is kept, and the flash says so).
func TestFeedbackForm(t *testing.T) {
	f := newFixture(t)
	an := f.as(t, detente.RoleAnalyst)
	if _, body := an.get("/objects/" + f.received); !strings.Contains(body, "Feedback to bravo") {
		t.Error("no feedback form on bravo's object")
	}
	if _, body := an.get("/objects/" + f.actor); strings.Contains(body, "Feedback to") {
		t.Error("a feedback form on this node's own object")
	}
	an.get("/objects/" + f.received)
	resp, body := an.post("/objects/"+f.received+"/feedback", url.Values{"kind": {"sighting"}, "count": {"2"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("feedback: %d\n%s", resp.StatusCode, body)
	}
	if _, body := an.get("/objects/" + f.received); !strings.Contains(body, "does not let it go to bravo") {
		t.Errorf("no flash about the denied release:\n%s", body)
	}
}
