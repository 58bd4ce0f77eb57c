package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// assetVersion holds a short content hash per static file, appended to its
// URL so browsers may cache it for long and still see a new version.
var assetVersion = func() map[string]string {
	m := map[string]string{}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, _ := staticFS.ReadFile("static/" + e.Name())
		h := sha256.Sum256(b)
		m[e.Name()] = hex.EncodeToString(h[:6])
	}
	return m
}()

// static serves the embedded stylesheet and script.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	if r.URL.Query().Get("v") == assetVersion[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Write(b) // the client may have gone; nothing to do about it
}

var funcs = template.FuncMap{
	"asset":     func(name string) string { return "/static/" + name + "?v=" + assetVersion[name] },
	"when":      when,
	"day":       func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"num":       num,
	"pct":       func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" },
	"short":     shorten,
	"join":      strings.Join,
	"tlp":       tlpLabel,
	"add":       func(a, b int) int { return a + b },
	"add64":     func(a, b int64) int64 { return a + b },
	"denyCodes": denyCodes,
	"has":       slices.Contains[[]string],
	"list":      func(xs ...string) []string { return xs },
	"upper":     strings.ToUpper,
	"refOf":     refOf,
	"deref":     func(p *int) int { return *p },
}

// when formats a time for people: "3 Mar 2026, 14:05 UTC"; "never" for the
// zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// num formats an integer with thousands separators: 12,345.
func num(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// shorten cuts s to n characters with an ellipsis.
func shorten(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// tlpLabel returns "TLP:AMBER" for a TLP, "" for none.
func tlpLabel(t detente.TLP) string {
	if t == 0 {
		return ""
	}
	return "TLP:" + strings.ToUpper(t.String())
}

// parsePages parses every page template with the layout.
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/layout.html" || n == "templates/partials.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages
}

// view is what every page template receives.
type view struct {
	Node  string
	Visit *visit // nil on the login page
	Title string
	Nav   string // the active navigation entry
	Flash *flash
	// Crisis is the banner of unacknowledged crisis alerts, for those who
	// may read what channels carry; nil when none waits.
	Crisis *crisisBanner
	Page   any
}

// render writes page name with data as the response.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, v *visit, status int, name, title, nav string, data any) {
	vw := view{Node: h.node.Name, Visit: v, Title: title, Nav: nav, Page: data}
	if v != nil {
		f, err := h.sessions.takeFlash(r.Context(), v.session)
		if err != nil {
			h.logger.ErrorContext(r.Context(), "console: read the session's message", "err", err)
		}
		vw.Flash = f
		if v.Can("intel") {
			vw.Crisis = h.crisisBanner(r)
		}
	}
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, "layout.html", vw); err != nil {
		h.logger.ErrorContext(r.Context(), "console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes()) // the client may have gone; nothing to do about it
}

// objRef is a reference to an object as a page shows it.
type objRef struct {
	ID   string
	Name string
	Link bool // the object is held and the visitor may read it
}

// refOf returns the reference to id: linked and named only for visitors
// who may read intelligence, and only when the node holds it (names).
func refOf(v *visit, names map[string]string, id string) objRef {
	r := objRef{ID: id}
	if name, ok := names[id]; ok && v != nil && v.Can("intel") {
		r.Name, r.Link = name, true
	}
	return r
}
