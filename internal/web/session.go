package web

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
	// MaxSessions bounds the live sessions; logging in beyond it ends the
	// oldest.
	MaxSessions = 10_000
)

// session is one logged-in browser. It holds the hash of the token the
// user logged in with, never the token itself, so every request re-checks
// that the token is still live (not revoked) and reads its current role.
type session struct {
	key       string        // hex SHA-256 of the cookie value: the document id
	TokenHash []byte        `json:"token_hash"`
	TokenID   string        `json:"token_id"`
	CSRF      string        `json:"csrf"` // per-session token every POST form must carry
	Created   time.Time     `json:"created"`
	LastSeen  time.Time     `json:"last_seen"`
	Flash     *flash        `json:"flash,omitempty"` // one-shot message shown on the next page
	Match     *matchOutcome `json:"match,omitempty"` // one-shot result of a private match
}

// flash is a message carried across a redirect after a POST.
type flash struct {
	Error bool   `json:"error,omitempty"`
	Text  string `json:"text"`
}

// docSession is the document kind of console sessions.
const docSession = "console.session"

// Session bookkeeping.
const (
	// touchEvery is how stale a session's last-seen time may get before a
	// request writes it back: idle expiry is exact to within this.
	touchEvery = time.Minute
	// sweepEvery is how often logging in also deletes expired sessions.
	sweepEvery = time.Minute
)

// sessions keeps the console's sessions in the node's store, as documents
// keyed by the SHA-256 of the cookie value (a copy of the database holds no
// usable cookie). Every process of a node on PostgreSQL therefore knows
// every session: a load balancer need not stick a browser to one process,
// and logging out on one ends the session on all.
type sessions struct {
	store detente.Store
	now   func() time.Time

	mu        sync.Mutex
	lastSweep time.Time
}

func newSessions(store detente.Store, now func() time.Time) *sessions {
	return &sessions{store: store, now: now}
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

// put writes se.
func putSession(ctx context.Context, tx detente.Tx, se *session) error {
	b, err := json.Marshal(se)
	if err != nil {
		return err
	}
	return tx.PutDoc(ctx, docSession, se.key, b, false)
}

// readSession reads the session stored under key; nil if there is none.
func readSession(ctx context.Context, tx detente.Tx, key string) (*session, error) {
	b, err := tx.Doc(ctx, docSession, key)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	se := &session{key: key}
	if err := json.Unmarshal(b, se); err != nil {
		return nil, fmt.Errorf("console session: %w", err)
	}
	return se, nil
}

// create starts a session for t and returns the cookie value, which only
// the browser keeps: the store holds its hash.
func (s *sessions) create(ctx context.Context, t *detente.Token) (string, error) {
	id := randomString(32)
	now := s.now()
	se := &session{key: hashKey(id), TokenHash: t.Hash, TokenID: t.ID, CSRF: randomString(32), Created: now, LastSeen: now}
	if err := s.store.Update(ctx, func(tx detente.Tx) error { return putSession(ctx, tx, se) }); err != nil {
		return "", err
	}
	if err := s.sweep(ctx, now); err != nil {
		return "", err
	}
	return id, nil
}

func (s *sessions) expired(se *session, now time.Time) bool {
	return now.Sub(se.LastSeen) > IdleTimeout || now.Sub(se.Created) > MaxSessionAge
}

// sweep deletes expired sessions, and the oldest beyond MaxSessions, at
// most once per sweepEvery in this process.
func (s *sessions) sweep(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	if now.Sub(s.lastSweep) < sweepEvery && !s.lastSweep.IsZero() {
		s.mu.Unlock()
		return nil
	}
	s.lastSweep = now
	s.mu.Unlock()
	return s.store.Update(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docSession, "", 0)
		if err != nil {
			return err
		}
		var live []*session
		for _, d := range docs {
			se := &session{key: d.ID}
			if json.Unmarshal(d.Body, se) != nil || s.expired(se, now) {
				if err := tx.DeleteDoc(ctx, docSession, d.ID); err != nil {
					return err
				}
				continue
			}
			live = append(live, se)
		}
		if len(live) <= MaxSessions {
			return nil
		}
		slices.SortFunc(live, func(a, b *session) int { return a.Created.Compare(b.Created) })
		for _, se := range live[:len(live)-MaxSessions] {
			if err := tx.DeleteDoc(ctx, docSession, se.key); err != nil {
				return err
			}
		}
		return nil
	})
}

// get returns the live session of the cookie value id (nil if there is
// none or it expired), touching it.
func (s *sessions) get(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	key := hashKey(id)
	now := s.now()
	var se *session
	err := s.store.View(ctx, func(tx detente.Tx) (err error) {
		se, err = readSession(ctx, tx, key)
		return err
	})
	if err != nil || se == nil {
		return nil, err
	}
	if s.expired(se, now) {
		return nil, s.end(ctx, se)
	}
	if now.Sub(se.LastSeen) >= touchEvery {
		err := s.store.Update(ctx, func(tx detente.Tx) error {
			cur, err := readSession(ctx, tx, key)
			if err != nil || cur == nil {
				return err
			}
			cur.LastSeen = now
			se = cur
			return putSession(ctx, tx, cur)
		})
		if err != nil {
			return nil, err
		}
	}
	return se, nil
}

// end ends a session, on every process.
func (s *sessions) end(ctx context.Context, se *session) error {
	return s.store.Update(ctx, func(tx detente.Tx) error { return tx.DeleteDoc(ctx, docSession, se.key) })
}

// change applies fn to the stored session se (if it still exists) and
// stores it, keeping se in step.
func (s *sessions) change(ctx context.Context, se *session, fn func(*session)) error {
	return s.store.Update(ctx, func(tx detente.Tx) error {
		cur, err := readSession(ctx, tx, se.key)
		if err != nil || cur == nil {
			return err
		}
		fn(cur)
		*se = *cur
		return putSession(ctx, tx, cur)
	})
}

// setFlash records a message for the session's next page.
func (s *sessions) setFlash(ctx context.Context, se *session, f *flash) error {
	return s.change(ctx, se, func(cur *session) { cur.Flash = f })
}

// takeFlash returns and clears the session's message. se was read at the
// start of the request, so a page without a message writes nothing.
func (s *sessions) takeFlash(ctx context.Context, se *session) (*flash, error) {
	if se.Flash == nil {
		return nil, nil
	}
	var f *flash
	err := s.change(ctx, se, func(cur *session) { f, cur.Flash = cur.Flash, nil })
	return f, err
}

// setMatch keeps a match's outcome for the next page.
func (s *sessions) setMatch(ctx context.Context, se *session, m *matchOutcome) error {
	return s.change(ctx, se, func(cur *session) { cur.Match = m })
}

// takeMatch returns and clears the session's match outcome.
func (s *sessions) takeMatch(ctx context.Context, se *session) (*matchOutcome, error) {
	if se.Match == nil {
		return nil, nil
	}
	var m *matchOutcome
	err := s.change(ctx, se, func(cur *session) { m, cur.Match = cur.Match, nil })
	return m, err
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// loginCSRF returns the token the login form must carry for the browser
// holding the pre-login cookie nonce: an HMAC under a key derived from the
// node's private key, so nothing is stored before login (a double-submit
// cookie whose value an attacker cannot forge without the key) and a form
// served by one process of the node is accepted by another.
func (h *Handler) loginCSRF(nonce string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("detente-console-login/v1\n" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// loginKey derives the key of loginCSRF from the node's private key: the
// same on every process of the node, and useless for anything else.
func loginKey(k ed25519.PrivateKey) []byte {
	m := hmac.New(sha256.New, k.Seed())
	m.Write([]byte("detente-console-login-csrf-key/v1"))
	return m.Sum(nil)
}

func equalStrings(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
