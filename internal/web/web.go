// Package web serves the node's console: server-rendered HTML pages for
// analysts, liaison officers and auditors, mounted at "/" beside the JSON
// API and TAXII.
//
// Users log in by pasting a bearer token (detente token create); the
// console keeps a server-side session in the node's database, referenced
// by a random id in a Secure, HttpOnly, SameSite=Strict cookie. Every page and action
// checks the token's current role exactly as the JSON API does (admin,
// analyst, auditor), every POST carries a per-session CSRF token and passes
// a cross-origin check, and every response carries a strict
// Content-Security-Policy. Analysts and administrators act on channels
// from it (acknowledge, answer, send, file notices) and see a banner of
// the crisis alerts awaiting acknowledgement on every page.
// docs/console.md describes the pages and the security measures.
package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"detente"
	"detente/internal/httperr"
	"detente/internal/node"
)

// MaxForm bounds the body of every form post.
const MaxForm = 1 << 20

// Handler is the console over one node.
type Handler struct {
	node     *node.Node
	logger   *slog.Logger
	mux      *http.ServeMux
	sessions *sessions
	csrfKey  []byte
	origin   *http.CrossOriginProtection
	pages    map[string]*template.Template
	// compareWait is how long the screening page waits for a comparison
	// of lists before showing its progress.
	compareWait time.Duration
}

// New returns the console handler for n, to be mounted at "/".
func New(n *node.Node, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		node: n, logger: logger, mux: http.NewServeMux(),
		sessions: newSessions(n.Store, func() time.Time { return n.Now() }),
		csrfKey:  loginKey(n.Key),
		origin:   http.NewCrossOriginProtection(),
		pages:    parsePages(),

		compareWait: compareWait,
	}
	h.routes()
	return h
}

// Security headers sent with every response.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

// Who may see what: the same role sets as the JSON API's endpoints.
var (
	anyRole = []detente.Role{detente.RoleAdmin, detente.RoleAnalyst, detente.RoleAuditor}
	// intel is who reads intelligence content (objects, screening), runs
	// private matching and reads its budgets, and reads and acts on what
	// channels carry (messages, notices, conflicts), as the API's
	// analysts.
	intel = []detente.Role{detente.RoleAdmin, detente.RoleAnalyst}
	// auditors is who reads the log's entries and the alerts.
	auditors = []detente.Role{detente.RoleAdmin, detente.RoleAuditor}
	admins   = []detente.Role{detente.RoleAdmin}
)

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /static/{file}", h.static)
	h.mux.HandleFunc("GET /login", h.loginForm)
	h.mux.HandleFunc("POST /login", h.login)
	h.handle("POST /logout", anyRole, h.logout)

	h.handle("GET /{$}", anyRole, h.overview)
	h.handle("GET /objects", intel, h.objects)
	h.handle("GET /objects/{id}", intel, h.object)
	h.handle("GET /release-check", anyRole, h.releaseCheck)
	h.handle("GET /partners", anyRole, h.partners)
	h.handle("GET /partners/{name}", anyRole, h.partner)
	h.handle("GET /partners/{name}/report", intel, h.curation)
	h.handle("POST /partners", admins, h.addPartner)
	h.handle("POST /partners/{name}/state", admins, h.setPartnerState)
	h.handle("POST /agreements", admins, h.addAgreement)
	h.handle("POST /agreements/{id}/state", admins, h.setAgreementState)
	h.handle("GET /ledger", anyRole, h.ledgerPage)
	h.handle("POST /ledger/holds/{partner}/release", admins, h.releaseHold)
	h.handle("POST /partners/{name}/grade", intel, h.gradePartner)
	h.handle("POST /objects/{id}/grade", intel, h.gradeObject)
	h.handle("POST /objects/{id}/feedback", intel, h.sendFeedback)
	h.handle("GET /log", auditors, h.logPage)
	h.handle("GET /log/{seq}", auditors, h.logEntry)
	h.handle("GET /screening", anyRole, h.screening)
	h.handle("GET /matching", anyRole, h.matching)
	h.handle("POST /matching", intel, h.runMatch)
	h.handle("GET /trace", intel, h.tracing)
	h.handle("POST /trace", intel, h.runTrace)
	h.handle("POST /trace/evidence", intel, h.traceEvidence)
	h.handle("GET /channels", anyRole, h.channels)
	h.handle("GET /messages/{id}", intel, h.messagePage)
	h.handle("POST /messages", intel, h.sendMessage)
	h.handle("POST /messages/{id}/ack", intel, h.ackMessage)
	h.handle("POST /messages/{id}/reply", intel, h.replyMessage)
	h.handle("GET /notices/{id}", intel, h.noticePage)
	h.handle("POST /notices", intel, h.fileNotice)
	h.handle("POST /notices/{id}/amend", intel, h.amendNotice)
	h.handle("POST /notices/{id}/cancel", intel, h.cancelNotice)

	// Anything else: the login for strangers, "not found" for users.
	h.handle("/", anyRole, func(w http.ResponseWriter, r *http.Request, v *visit) error {
		return detente.Errorf(detente.ENOTFOUND, "there is no page at %s", r.URL.Path)
	})
}

// visit is one authenticated request.
type visit struct {
	session *session
	Token   *detente.Token
	Role    detente.Role
	CSRF    string
}

// Can reports whether the visitor may see what a capability guards:
// "intel" (intelligence content), "log" (log entries and alerts) or
// "admin" (changes to partners and agreements).
func (v *visit) Can(capability string) bool {
	switch capability {
	case "intel":
		return slices.Contains(intel, v.Role)
	case "log":
		return slices.Contains(auditors, v.Role)
	case "admin":
		return slices.Contains(admins, v.Role)
	}
	return false
}

type pageFunc func(w http.ResponseWriter, r *http.Request, v *visit) error

// handle registers fn for pattern, open to roles only. A visitor without a
// live session is sent to the login; one whose role may not see the page
// gets 403. POSTs must pass the cross-origin check and carry the
// session's CSRF token.
func (h *Handler) handle(pattern string, roles []detente.Role, fn pageFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		v := h.authenticate(w, r)
		if v == nil {
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			to := "/login"
			if next != "" && next != "/" {
				to += "?" + url.Values{"next": {next}}.Encode()
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := h.checkPost(w, r, v); err != nil {
				h.fail(w, r, v, err)
				return
			}
		}
		if !slices.Contains(roles, v.Role) {
			h.fail(w, r, v, detente.Errorf(detente.EFORBIDDEN, "your role (%s) may not see or do this", v.Role))
			return
		}
		if !utf8.ValidString(r.URL.Path) {
			// As the API: refused, not looked up as U+FFFD.
			h.fail(w, r, v, detente.Errorf(detente.EINVALID, "the page's address is not valid UTF-8"))
			return
		}
		if err := fn(w, r, v); err != nil {
			h.fail(w, r, v, err)
		}
	})
}

// authenticate returns the visit of r's session, or nil (and clears a stale
// cookie) when there is none, it expired, or its token was revoked.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) *visit {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	se, err := h.sessions.get(r.Context(), c.Value)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "console: read session", "err", err)
		return nil
	}
	if se == nil {
		setCookie(w, sessionCookie, "", -1)
		return nil
	}
	t, err := h.node.TokenByHash(r.Context(), se.TokenHash)
	if err != nil || t.Revoked {
		if err != nil && detente.ErrorCode(err) != detente.ENOTFOUND {
			h.logger.ErrorContext(r.Context(), "console: read token", "err", err)
			return nil
		}
		if err := h.sessions.end(r.Context(), se); err != nil {
			h.logger.ErrorContext(r.Context(), "console: end session", "err", err)
		}
		setCookie(w, sessionCookie, "", -1)
		return nil
	}
	return &visit{session: se, Token: t, Role: t.Role, CSRF: se.CSRF}
}

// checkPost applies the cross-origin check and the CSRF token check to a
// form post, and parses the form.
func (h *Handler) checkPost(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := h.origin.Check(r); err != nil {
		return detente.Errorf(detente.EFORBIDDEN, "this form was sent from another site and was refused")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	parse := r.ParseForm
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		parse = func() error { return r.ParseMultipartForm(MaxForm) } // an upload (the trace page)
	}
	if err := parse(); err != nil {
		return detente.Errorf(detente.EINVALID, "the form could not be read")
	}
	if !equalStrings(r.PostForm.Get("csrf"), v.CSRF) {
		return detente.Errorf(detente.EFORBIDDEN, "this form has expired or did not come from this console: reload the page and try again")
	}
	return nil
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
}

// fail renders err for people: its message when it is an *detente.Error,
// "internal error" otherwise (the details go to the log only).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	code := detente.ErrorCode(err)
	if code == detente.EINTERNAL {
		h.logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := httperr.StatusOfCode(code)
	h.render(w, r, v, status, "error", http.StatusText(status), "", errorPage{Status: status, Message: detente.ErrorMessage(err)})
}

// done ends a successful form post: the message is shown on the page the
// browser is sent to (post/redirect/get).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, v *visit, to, message string) error {
	if err := h.sessions.setFlash(r.Context(), v.session, &flash{Text: message}); err != nil {
		return err
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// refused ends a form post the node refused for a reason the user can fix:
// the reason is shown on the page the browser is sent back to. Internal
// errors are not refusals.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, v *visit, to string, err error) error {
	if detente.ErrorCode(err) == detente.EINTERNAL {
		return err
	}
	if err := h.sessions.setFlash(r.Context(), v.session, &flash{Error: true, Text: detente.ErrorMessage(err)}); err != nil {
		return err
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// formValue returns a trimmed form field.
func formValue(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostForm.Get(name))
}

// localPath returns p when it is an absolute path on this site, and "/"
// (the overview) otherwise: a login's "next" must not send the user
// elsewhere. Browsers drop tabs and newlines from a URL, read "\\" as "/"
// and take "//host" for another site, so "/\t/evil.example" or
// "/\\evil.example" leave the site; localPath refuses p unless, both as
// given and percent-decoded, it is valid UTF-8, starts with exactly one
// "/" and holds no backslash and no control character, and it parses
// without a scheme or a host.
func localPath(p string) string {
	if !isLocalPath(p) {
		return "/"
	}
	return p
}

func isLocalPath(p string) bool {
	decoded, err := url.PathUnescape(p)
	if err != nil {
		return false
	}
	for _, s := range []string{p, decoded} {
		if !utf8.ValidString(s) {
			return false // the login form would echo the bytes into a UTF-8 page
		}
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
			return false
		}
		if strings.ContainsFunc(s, isControl) {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }
