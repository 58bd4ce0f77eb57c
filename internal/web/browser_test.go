package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"detente"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// artifacts returns the directory for screenshots: $DETENTE_ARTIFACTS
// when set, else a temporary directory of the test.
func artifacts(t *testing.T) string {
	dir := os.Getenv("DETENTE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a headless Chromium with a fresh profile, or skips the
// test when there is none (fails under CI=true, where it must run).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser tests skipped: no Chromium at %s (install it with 'apt-get install -y chromium')", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		// The node's certificate is self-signed (partners pin keys, not
		// CAs), as is the test server's.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// watch fails the test on any script dialog (an executed payload would
// open one), uncaught exception or Content-Security-Policy violation.
func watch(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser log: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	entries := chromedp.Events(ctx, cdplog.EntryAdded)
	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() == nil {
			t.Errorf(format, args...)
		}
	}
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			report("a script dialog opened: %q", ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			report("uncaught exception: %s %s", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL)
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			if strings.Contains(ev.Entry.Text, "Content Security Policy") || ev.Entry.Level == cdplog.EntryLevelError {
				report("browser %s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
			}
		}
	}()
}

// shoot saves a full-page screenshot as name.png in dir.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// run runs a value-returning action and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// follow runs an action that navigates (a click, a submit) and waits for
// the new page, which must answer 200.
func follow(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("%s: %d", resp.URL, resp.Status)
	}
}

// TestBrowser logs in as an analyst in a real Chromium, browses to an
// object whose name is a script, runs a release check and reads the
// decision, saving a screenshot at each step.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	f := newFixture(t)
	dir := artifacts(t)
	watch(t, ctx)

	// A stranger is sent to the login.
	follow(t, ctx, chromedp.Navigate(f.srv.URL+"/"))
	if u := run(t, ctx, chromedp.Location()); !strings.Contains(u, "/login") {
		t.Fatalf("a logged-out visit to / landed on %s, want the login", u)
	}
	shoot(t, ctx, dir, "01-login")

	do(t, ctx, chromedp.SendKeys(chromedp.ID("token"), f.tokens[detente.RoleAnalyst]))
	follow(t, ctx, chromedp.Submit(chromedp.ID("token")))
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h1 != "Node alpha" {
		t.Errorf("overview heading %q", h1)
	}
	shoot(t, ctx, dir, "02-overview")
	// Keyboard: the first Tab reaches the skip link.
	do(t, ctx, chromedp.KeyEvent("\t"))
	if c := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.className`)); c != "skip" {
		t.Errorf("the first Tab focused %q, want the skip link", c)
	}

	follow(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/objects"]`)))
	shoot(t, ctx, dir, "03-intelligence")
	link := chromedp.CSS(`a[href="/objects/` + f.report + `"]`)
	listed := run(t, ctx, chromedp.Text(link))
	follow(t, ctx, chromedp.Click(link))
	h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	shoot(t, ctx, dir, "04-object")
	// The payload is shown as the text it is: neither run nor parsed.
	if want := xssScript + " Harbour plot"; h1 != want || listed != want {
		t.Errorf("object name shown as %q (in the list %q), want the text %q", h1, listed, want)
	}

	follow(t, ctx, chromedp.Click(chromedp.CSS(`a.button[href^="/release-check"]`)))
	do(t, ctx, chromedp.SetValue(chromedp.ID("rc-partner"), "bravo"))
	follow(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/release-check"] button[type="submit"]`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("decision")))
	decision := run(t, ctx, chromedp.Text(chromedp.ID("decision-h")))
	closure := run(t, ctx, chromedp.Text(chromedp.CSS("ol.closure")))
	u := run(t, ctx, chromedp.Location())
	shoot(t, ctx, dir, "05-release-check")
	if !strings.Contains(decision, "Denied") {
		t.Errorf("decision %q, want Denied (the report's closure holds a TLP:RED indicator)", decision)
	}
	if !strings.Contains(closure, "Source identity") {
		t.Errorf("closure %q does not name the RED indicator", closure)
	}
	if !strings.Contains(u, "partner=bravo") {
		t.Errorf("release check at %s", u)
	}

	// Log out, and log in as an administrator to see the charts and the log.
	follow(t, ctx, chromedp.Click(chromedp.CSS("button.link")))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("token"), f.tokens[detente.RoleAdmin]))
	follow(t, ctx, chromedp.Submit(chromedp.ID("token")))
	for _, p := range []struct{ path, name, wait string }{
		{"/partners/bravo", "06-partner-chart", "figure.chart svg"},
		{"/partners", "07-partners", "#add-agreement"},
		{"/log", "08-log", "table.log"},
		{"/log/0", "09-log-entry", "#verif-h"},
		{"/screening?name=Yusuf+Karimow&compare=1&authority=un&authority=eu", "10-screening", "figure.chart svg"},
		{"/matching", "11-matching", "#run-h"},
		{"/channels", "12-channels", "figure.chart svg g.conflict"},
	} {
		follow(t, ctx, chromedp.Navigate(f.srv.URL+p.path))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shoot(t, ctx, dir, p.name)
	}

	// Acknowledge the overdue crisis alert from the channels page.
	ack := chromedp.CSS(`form[action^="/messages/"] input[name="by"]`)
	do(t, ctx, chromedp.SendKeys(ack, "Ana Duty"))
	follow(t, ctx, chromedp.Submit(ack))
	flash := run(t, ctx, chromedp.Text(chromedp.CSS(".flash")))
	if !strings.Contains(flash, "acknowledged") || !strings.Contains(flash, "Ana Duty") {
		t.Errorf("after acknowledging: flash %q", flash)
	}
	shoot(t, ctx, dir, "13-channels-acknowledged")
}
