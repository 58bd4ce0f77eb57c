package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"detente/internal/datadir"
	"detente/internal/server"
	"detente/internal/web"
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

// browser starts a headless Chromium with a fresh profile that accepts,
// besides certificates it trusts, exactly the certificate whose public
// key hashes to spki (base64 SHA-256 of its SubjectPublicKeyInfo): the
// node's, self-signed as every node's is. It skips the test when there is
// no Chromium (fails under CI=true, where it must run).
func browser(t *testing.T, spki string) context.Context {
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
		// As an operator pins the node's key: this one certificate, not
		// every certificate error.
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
// open one), uncaught exception, Content-Security-Policy violation or
// error the browser logs.
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

// shootElement saves a screenshot of the first element sel matches, at
// twice the scale, as name.png in dir.
func shootElement(t *testing.T, ctx context.Context, dir, name, sel string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS(sel), 2))
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

// text returns the text content of the first element sel matches, "" if
// there is none (as in the page, whatever the style makes of it).
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
}

// serve runs the fixture's node as detente serve does (internal/server:
// TAXII, the API, the partner protocol, the console and the background
// work on one TLS listener) with the node's own certificate for browsers
// (datadir.WebCertificate). It returns the node's URL and the base64
// SHA-256 of the certificate's public key.
func serve(t *testing.T, f *web.ServedFixture) (string, string) {
	t.Helper()
	cert, err := datadir.WebCertificate(f.Dir, f.Node.Name, []string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Fatalf("the web certificate's key is %T, want ECDSA (browsers refuse Ed25519)", leaf.PublicKey)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := server.New(f.Node, logger, server.Options{WebCert: &cert})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if t.Failed() {
			mu.Lock()
			t.Logf("server log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	// The listener presents that certificate to a client that does not ask
	// for a partner's name.
	u, _ := url.Parse(srv.URL())
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := conn.ConnectionState().PeerCertificates[0].Raw; !bytes.Equal(got, leaf.Raw) {
		t.Fatal("the listener does not present the node's web certificate")
	}
	conn.Close()
	return srv.URL(), base64.StdEncoding.EncodeToString(sum[:])
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestBrowser drives a real Chromium against a node served as detente
// serve serves it, over TLS with the node's own certificate, which the
// browser accepts as an operator who pinned it would (and no other):
// an analyst logs in, sees the crisis banner on the overview, browses to
// an object whose name is a script (shown as text), runs a release check,
// acknowledges the crisis alert from the banner, answers a partner's
// request, files a notice of planned activity and views it on the map
// (coastlines, a round circle, labels apart), reads a relationship as a
// sentence with its neighbourhood graph; then an administrator sees the
// alerts by kind and the other pages. Any script dialog, uncaught
// exception, CSP violation or browser error fails the test; a full-page
// screenshot is taken at each step.
func TestBrowser(t *testing.T) {
	f := web.NewServedFixture(t)
	base, spki := serve(t, f)
	ctx := browser(t, spki)
	dir := artifacts(t)

	// Exactly that certificate: another self-signed one is refused.
	other := httptest.NewUnstartedServer(http.NotFoundHandler())
	other.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	other.StartTLS()
	defer other.Close()
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(other.URL+"/")); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Fatalf("another self-signed certificate: %v, want a certificate error", err)
	}
	watch(t, ctx)

	// A stranger is sent to the login.
	follow(t, ctx, chromedp.Navigate(base+"/"))
	if u := run(t, ctx, chromedp.Location()); !strings.Contains(u, "/login") {
		t.Fatalf("a logged-out visit to / landed on %s, want the login", u)
	}
	shoot(t, ctx, dir, "01-login")

	// The analyst's overview: the crisis alert, its text shown as text.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("token"), f.Tokens[detente.RoleAnalyst]))
	follow(t, ctx, chromedp.Submit(chromedp.ID("token")))
	if h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h1 != "Node alpha" {
		t.Errorf("overview heading %q", h1)
	}
	banner := text(t, ctx, "section.crisis")
	for _, w := range []string{"crisis alert awaits", "Crisis " + web.XSSScript, "Evacuate " + web.XSSScript, "From bravo", "acknowledgement overdue"} {
		if !strings.Contains(banner, w) {
			t.Errorf("the crisis banner does not say %q:\n%s", w, banner)
		}
	}
	if w := text(t, ctx, "#await-h + div table"); !strings.Contains(w, "answer by") {
		t.Errorf("the overview does not list the request to answer:\n%s", w)
	}
	shoot(t, ctx, dir, "02-overview-crisis")
	// Keyboard: the first Tab reaches the skip link.
	do(t, ctx, chromedp.KeyEvent("\t"))
	if c := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.className`)); c != "skip" {
		t.Errorf("the first Tab focused %q, want the skip link", c)
	}

	follow(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/objects"]`)))
	shoot(t, ctx, dir, "03-intelligence")
	link := chromedp.CSS(`a[href="/objects/` + f.Report + `"]`)
	listed := run(t, ctx, chromedp.Text(link))
	follow(t, ctx, chromedp.Click(link))
	h1 := run(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	shoot(t, ctx, dir, "04-object")
	// The payload is shown as the text it is: neither run nor parsed.
	if want := web.XSSScript + " Harbour plot"; h1 != want || listed != want {
		t.Errorf("object name shown as %q (in the list %q), want the text %q", h1, listed, want)
	}

	follow(t, ctx, chromedp.Click(chromedp.CSS(`a.button[href^="/release-check"]`)))
	do(t, ctx, chromedp.SetValue(chromedp.ID("rc-partner"), "bravo"))
	follow(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/release-check"] button[type="submit"]`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("decision")))
	decision := run(t, ctx, chromedp.Text(chromedp.ID("decision-h")))
	closure := run(t, ctx, chromedp.Text(chromedp.CSS("ol.closure")))
	checked := run(t, ctx, chromedp.Location())
	shoot(t, ctx, dir, "05-release-check")
	if !strings.Contains(decision, "Denied") {
		t.Errorf("decision %q, want Denied (the report's closure holds a TLP:RED indicator)", decision)
	}
	if !strings.Contains(closure, "Source identity") {
		t.Errorf("closure %q does not name the RED indicator", closure)
	}

	// Acknowledge the crisis alert from the banner, on whatever page: the
	// browser comes back to it, and the banner is gone.
	by := chromedp.CSS(`section.crisis input[name="by"]`)
	do(t, ctx, chromedp.SendKeys(by, "Ana Duty"))
	follow(t, ctx, chromedp.Submit(by))
	if u := run(t, ctx, chromedp.Location()); u != checked {
		t.Errorf("after acknowledging: at %s, want back at %s", u, checked)
	}
	if flash := text(t, ctx, ".flash"); !strings.Contains(flash, "acknowledged") || !strings.Contains(flash, "Ana Duty") {
		t.Errorf("after acknowledging: flash %q", flash)
	}
	if b := text(t, ctx, "section.crisis"); b != "" {
		t.Errorf("the banner is still shown after the acknowledgement:\n%s", b)
	}
	shoot(t, ctx, dir, "06-acknowledged")

	// Answer bravo's request.
	follow(t, ctx, chromedp.Navigate(base+"/messages/"+f.Request))
	if s := text(t, ctx, "#reply"); !strings.Contains(s, "asks this node for a response by") {
		t.Errorf("the request does not say what to do:\n%s", s)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("r-subject"), "Route confirmed"),
		chromedp.SendKeys(chromedp.ID("r-body"), "Gate 4, 18:00 UTC."), chromedp.SendKeys(chromedp.ID("r-by"), "Ana Duty"))
	follow(t, ctx, chromedp.Submit(chromedp.ID("r-subject")))
	if flash := text(t, ctx, ".flash"); !strings.Contains(flash, "response sent") {
		t.Errorf("after answering: flash %q", flash)
	}
	if facts := text(t, ctx, "dl.facts"); !strings.Contains(facts, "response") || !strings.Contains(facts, "In reply to") || !strings.Contains(facts, f.Request) {
		t.Errorf("the response's page:\n%s", facts)
	}
	shoot(t, ctx, dir, "07-reply")

	// File a notice off the coast, and view it on its map.
	follow(t, ctx, chromedp.Navigate(base+"/channels#file-h"))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("n-nature"), "Maritime patrol"), chromedp.SendKeys(chromedp.ID("n-lat"), "50.95"),
		chromedp.SendKeys(chromedp.ID("n-lon"), "1.60"), chromedp.SendKeys(chromedp.ID("n-radius"), "15000"),
		chromedp.SendKeys(chromedp.ID("n-alt"), "0..FL30"), chromedp.SendKeys(chromedp.ID("n-from"), "1h"),
		chromedp.SendKeys(chromedp.ID("n-until"), "4h"))
	follow(t, ctx, chromedp.Submit(chromedp.ID("n-nature")))
	if flash := text(t, ctx, ".flash"); !strings.Contains(flash, "notice filed") {
		t.Errorf("after filing: flash %q", flash)
	}
	if facts := text(t, ctx, "dl.facts"); !strings.Contains(facts, "0m..FL30") {
		t.Errorf("the notice's altitude is not written 0m..FL30:\n%s", facts)
	}
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("figure.chart svg")))
	if n := run(t, ctx, chromedp.Evaluate[int](`(document.querySelector("svg path.coast") || {getAttribute: () => ""}).getAttribute("d").length`)); n < 50 {
		t.Errorf("no coastline on the map of a notice off Calais (path of %d bytes)", n)
	}
	// The circle is round on the screen.
	ratio := run(t, ctx, chromedp.Evaluate[float64](`(() => { const b = document.querySelector("svg g.area polygon").getBoundingClientRect(); return b.width / b.height })()`))
	if ratio < 0.98 || ratio > 1.02 {
		t.Errorf("a circle is drawn %.3f times as wide as high", ratio)
	}
	shoot(t, ctx, dir, "08-notice")
	shootElement(t, ctx, dir, "08-notice-map", "figure.chart")

	// The channels page: every notice on one map, labels apart.
	follow(t, ctx, chromedp.Navigate(base+"/channels"))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("figure.chart svg g.conflict")))
	overlaps := run(t, ctx, chromedp.Evaluate[int](`(() => {
		const bs = [...document.querySelectorAll("svg text.label")].map(t => t.getBoundingClientRect());
		let n = 0;
		for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
			const a = bs[i], b = bs[j];
			if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
		}
		return bs.length < 4 ? -1 : n; })()`))
	if overlaps != 0 {
		t.Errorf("labels on the map: %d overlapping pairs (-1: fewer than four labels)", overlaps)
	}
	if table := text(t, ctx, "#dc-h ~ div.scroll table"); !strings.Contains(table, "0m..FL30") || !strings.Contains(table, "0m..120m") {
		t.Errorf("the notices' altitudes are not in one notation:\n%s", table)
	}
	shoot(t, ctx, dir, "09-channels")
	shootElement(t, ctx, dir, "09-channels-map", "#dc-h ~ figure.chart")

	// A relationship as a sentence, and the neighbourhood graph.
	follow(t, ctx, chromedp.Navigate(base+"/objects?q=black+meridian"))
	if list := text(t, ctx, "table.objects"); !strings.Contains(list, "Black Meridian Front uses BMF donation wallet") {
		t.Errorf("the search does not list the relationship as a sentence:\n%s", list)
	}
	follow(t, ctx, chromedp.Navigate(base+"/objects/"+f.Actor))
	if rel := text(t, ctx, "ul.relations"); !strings.Contains(rel, "Black Meridian Front uses BMF donation wallet") {
		t.Errorf("the actor's relationships:\n%s", rel)
	}
	if g := text(t, ctx, "figure.graph svg"); !strings.Contains(g, "BMF donation wallet") || !strings.Contains(g, "uses") {
		t.Errorf("the neighbourhood graph:\n%s", g)
	}
	shoot(t, ctx, dir, "10-object")
	shootElement(t, ctx, dir, "10-object-graph", "figure.graph")

	// Log out, and log in as an administrator: the alerts by kind, the
	// charts and the log.
	follow(t, ctx, chromedp.Click(chromedp.CSS("button.link")))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("token"), f.Tokens[detente.RoleAdmin]))
	follow(t, ctx, chromedp.Submit(chromedp.ID("token")))
	if a := text(t, ctx, "#alerts-h ~ section.alert-group"); !strings.Contains(a, "quarantine") && !strings.Contains(a, "channel") {
		t.Errorf("the overview's alerts:\n%s", a)
	}
	shoot(t, ctx, dir, "11-overview-admin")
	for _, p := range []struct{ path, name, wait string }{
		{"/partners/bravo", "12-partner-chart", "figure.chart svg"},
		{"/partners", "13-partners", "#add-agreement"},
		{"/log", "14-log", "table.log"},
	} {
		follow(t, ctx, chromedp.Navigate(base+p.path))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shoot(t, ctx, dir, p.name)
	}
	// The log's dates stay on one line.
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelector("table.log td.when time").getClientRects().length`)); n != 1 {
		t.Errorf("a log date takes %d lines", n)
	}
	// A page of older entries links to the newer ones.
	follow(t, ctx, chromedp.Navigate(base+"/log?before=20"))
	if more := text(t, ctx, "nav.pager"); !strings.Contains(more, "Newer entries") {
		t.Errorf("the log's older page does not lead back: %q", more)
	}
	for _, p := range []struct{ path, name, wait string }{
		{"/log/0", "15-log-entry", "#verif-h"},
		{"/screening?name=Yusuf+Karimow&compare=1&authority=un&authority=eu", "16-screening", "figure.chart svg"},
		{"/matching", "17-matching", "#run-h"},
	} {
		follow(t, ctx, chromedp.Navigate(base+p.path))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(p.wait)))
		shoot(t, ctx, dir, p.name)
	}
}
