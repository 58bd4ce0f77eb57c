package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"detente"
)

// Cookie names. The __Host- prefix makes browsers accept the cookie only
// when it is Secure, has Path=/ and no Domain: it cannot be set by a
// sibling subdomain or over plain HTTP.
const (
	sessionCookie = "__Host-detente-session"
	loginCookie   = "__Host-detente-login"
)

// Session lifetimes.
const (
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout = 30 * time.Minute
	// MaxSessionAge ends every session this long after login.
	MaxSessionAge = 12 * time.Hour
	// MaxSessions bounds the sessions held in memory; logging in beyond it
	// ends the oldest.
	MaxSessions = 10_000
)

// session is one logged-in browser. It holds the hash of the token the
// user logged in with, never the token itself, so every request re-checks
// that the token is still live (not revoked) and reads its current role.
type session struct {
	key       string // hex SHA-256 of the cookie value: the map key
	tokenHash []byte
	tokenID   string
	csrf      string // per-session token every POST form must carry
	created   time.Time
	lastSeen  time.Time
	flash     *flash        // one-shot message shown on the next page
	match     *matchOutcome // one-shot result of a private match
}

// flash is a message carried across a redirect after a POST.
type flash struct {
	Error bool
	Text  string
}

// sessions holds the sessions of this process in memory. Sessions are not
// shared between processes: behind a load balancer, a user must stick to
// one process (docs/console.md).
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

// create starts a session for t and returns the cookie value, which only
// the browser keeps: the map is keyed by its hash.
func (s *sessions) create(t *detente.Token) string {
	id := randomString(32)
	now := s.now()
	se := &session{key: hashKey(id), tokenHash: t.Hash, tokenID: t.ID, csrf: randomString(32), created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	for len(s.m) >= MaxSessions {
		var oldest *session
		for _, x := range s.m {
			if oldest == nil || x.created.Before(oldest.created) {
				oldest = x
			}
		}
		delete(s.m, oldest.key)
	}
	s.m[se.key] = se
	return id
}

func (s *sessions) expired(se *session, now time.Time) bool {
	return now.Sub(se.lastSeen) > IdleTimeout || now.Sub(se.created) > MaxSessionAge
}

// sweepLocked drops expired sessions.
func (s *sessions) sweepLocked(now time.Time) {
	for k, se := range s.m {
		if s.expired(se, now) {
			delete(s.m, k)
		}
	}
}

// get returns the live session of the cookie value id, touching it.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := hashKey(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.m[key]
	if se == nil {
		return nil
	}
	if s.expired(se, now) {
		delete(s.m, key)
		return nil
	}
	se.lastSeen = now
	return se
}

// end ends a session.
func (s *sessions) end(se *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, se.key)
}

// setFlash records a message for the session's next page.
func (s *sessions) setFlash(se *session, f *flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se.flash = f
}

// takeFlash returns and clears the session's message.
func (s *sessions) takeFlash(se *session) *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := se.flash
	se.flash = nil
	return f
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// loginCSRF returns the token the login form must carry for the browser
// holding the pre-login cookie nonce: an HMAC under a per-process key, so
// nothing is stored before login (a double-submit cookie whose value an
// attacker cannot forge without the key).
func (h *Handler) loginCSRF(nonce string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("detente-console-login/v1\n" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equalStrings(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
