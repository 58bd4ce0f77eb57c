package web

import (
	"net/http"
	"strings"

	"detente"
)

// loginPage is the data of the login form.
type loginPage struct {
	CSRF  string
	Next  string
	Error string
}

// loginNonce returns the browser's pre-login nonce, setting a new one when
// it has none.
func (h *Handler) loginNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	nonce := randomString(32)
	setCookie(w, loginCookie, nonce, 3600)
	return nonce
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.authenticate(w, r) != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	nonce := h.loginNonce(w, r)
	next := r.URL.Query().Get("next")
	if next != "" {
		next = localPath(next)
	}
	h.render(w, r, nil, http.StatusOK, "login", "Log in", "", loginPage{CSRF: h.loginCSRF(nonce), Next: next})
}

// login exchanges a pasted bearer token for a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(status int, msg string) {
		nonce := h.loginNonce(w, r)
		h.render(w, r, nil, status, "login", "Log in", "", loginPage{CSRF: h.loginCSRF(nonce), Next: localPath(r.PostForm.Get("next")), Error: msg})
	}
	if err := h.origin.Check(r); err != nil {
		fail(http.StatusForbidden, "This form was sent from another site and was refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !equalStrings(r.PostForm.Get("csrf"), h.loginCSRF(c.Value)) {
		fail(http.StatusForbidden, "This form has expired: try again.")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	secret = strings.TrimSpace(strings.TrimPrefix(secret, "Bearer "))
	if secret == "" {
		fail(http.StatusBadRequest, "Paste your token: an administrator creates one with 'detente token create --role analyst'.")
		return
	}
	t, err := h.node.Authenticate(r.Context(), secret)
	if err != nil {
		if detente.ErrorCode(err) == detente.EUNAUTHORIZED {
			h.logger.WarnContext(r.Context(), "console: login refused", "remote", r.RemoteAddr)
			fail(http.StatusUnauthorized, "That token is not valid or has been revoked.")
			return
		}
		h.fail(w, r, nil, err)
		return
	}
	id, err := h.sessions.create(r.Context(), t)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	setCookie(w, sessionCookie, id, int(MaxSessionAge.Seconds()))
	setCookie(w, loginCookie, "", -1)
	h.logger.InfoContext(r.Context(), "console: login", "token", t.ID, "role", t.Role)
	http.Redirect(w, r, localPath(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := h.sessions.end(r.Context(), v.session); err != nil {
		return err
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
