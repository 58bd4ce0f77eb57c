package web

import (
	"context"
	"detente/internal/nodetest"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"detente"
)

// TestSessionsAcrossProcesses runs the console of one node in two
// "processes" (two nodes opened on one data directory, each with its own
// handler, as two serve processes on one PostgreSQL database) behind one
// address, switching between them mid-session as a load balancer would: a
// session, its CSRF token and its one-shot message work on either, the
// login form of one is accepted by the other, and logging out on one ends
// the session on both.
func TestSessionsAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n2, err := nodetest.Open(ctx, f.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n2.Close() })
	n2.Now = f.clock
	h1, h2 := f.h, New(n2, nil)

	c := f.as(t, detente.RoleAnalyst) // logs in on h1
	f.serving.Store(h2)
	if _, page := c.get("/matching"); !strings.Contains(page, "Log out") {
		t.Fatal("the session of process 1 is unknown to process 2")
	}
	f.serving.Store(h1)
	c.get("/matching") // the CSRF token as process 1 renders it
	f.serving.Store(h2)
	resp, body := c.post("/matching", url.Values{"partner": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a form of process 1 posted to process 2: %d\n%s", resp.StatusCode, body)
	}
	f.serving.Store(h1)
	if _, page := c.get(resp.Header.Get("Location")); !strings.Contains(page, "choose a partner") {
		t.Error("the message set by process 2 is not shown by process 1")
	}

	// A login form served by one process, submitted to the other.
	d := f.client(t)
	f.serving.Store(h1)
	d.get("/login")
	f.serving.Store(h2)
	if resp, body := d.post("/login", url.Values{"token": {f.tokens[detente.RoleAuditor]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login form of process 1 posted to process 2: %d\n%s", resp.StatusCode, body)
	}

	// Logging out on process 2 ends the session on process 1.
	f.serving.Store(h2)
	c.get("/")
	if resp, _ := c.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	f.serving.Store(h1)
	if resp, _ := c.get("/matching"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("after logging out on process 2, process 1 answers %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var left int
	f.node.Store.View(ctx, func(tx detente.Tx) error {
		ds, err := tx.Docs(ctx, docSession, "", 0)
		left = len(ds)
		return err
	})
	if left != 1 { // the auditor's
		t.Errorf("%d sessions stored, want 1", left)
	}
}
