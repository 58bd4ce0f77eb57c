package feed

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"detente"
)

// Document kinds the Service keeps in the store (Tx.PutDoc): each feed's
// configuration, and its state (cursor and counts), by feed name.
const (
	DocConfig = "feed"
	DocState  = "feed-state"
)

// Log event types of feeds.
const (
	// EventFeedAdded records a feed added: its name, format, URL, rules
	// and kind of authentication, never a secret or a file path.
	EventFeedAdded = "feed.added"
	// EventFeedRemoved records a feed removed, by name.
	EventFeedRemoved = "feed.removed"
)

// DefaultMaxSkew is how far in the future an object's created or modified
// time may lie when ServiceConfig.MaxSkew is zero.
const DefaultMaxSkew = 24 * time.Hour

// ServiceConfig is what a Service gets from its node.
type ServiceConfig struct {
	// Store is the node's store: feeds, their cursors and what they bring.
	Store detente.Store
	// Key is the node's private key: it signs what feeds with Originate
	// bring, and the origin key of each feed derives from it (OriginKey).
	Key ed25519.PrivateKey
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far in the future an object's times may lie;
	// DefaultMaxSkew if zero or nil.
	MaxSkew func() time.Duration
	// Logger logs pulls and rejected objects; nil logs nothing.
	Logger *slog.Logger
}

// Service is a node's feeds: their configuration and state in the store,
// and the pulls that bring their objects in, each page with its log
// entries and cursor in one transaction. Its methods are safe for
// concurrent use.
type Service struct {
	c       ServiceConfig
	mu      sync.Mutex
	pulling map[string]bool
}

// NewService returns the Service c describes.
func NewService(c ServiceConfig) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{c: c, pulling: map[string]bool{}}
}

// OriginKey returns the origin key of feed name on the node whose key is
// nodeKey: the key that owns the ids this feed brings first, when they
// come unsigned. It is derived (HKDF-SHA-256) from the node key and the
// name, so nobody outside the node can compute it or sign as the feed, and
// two feeds (or the node itself) never own each other's ids.
func OriginKey(nodeKey ed25519.PrivateKey, name string) detente.PublicKey {
	seed, err := hkdf.Key(sha256.New, nodeKey.Seed(), []byte(name), "detente/feed/origin/v1", ed25519.SeedSize)
	if err != nil {
		panic(err) // HKDF always gives 32 bytes
	}
	return detente.PublicKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
}

// State is where a feed stands: its cursor and what its pulls did.
type State struct {
	Cursor      Cursor    `json:"cursor"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Objects     int64     `json:"objects"`     // versions stored (added)
	Quarantined int64     `json:"quarantined"` // of which quarantined by id ownership
	Rejected    int64     `json:"rejected"`    // not stored: invalid, conflicting, dated in the future
	Errors      int64     `json:"errors"`      // failed pulls in a row
	LastError   string    `json:"last_error,omitempty"`
}

// Status is a feed with its state, as status commands show it.
type Status struct {
	Config
	State State  `json:"state"`
	Where string `json:"position"` // the cursor in words
}

// Add stores a new feed. Secrets come from files only: a Config carrying a
// password, token or CA pool in memory is refused, and so is one whose
// files cannot be read now. File paths are stored absolute. The addition
// is logged without secrets or paths.
func (s *Service) Add(ctx context.Context, c Config) (*Config, error) {
	if c.Password != "" || c.Token != "" || c.RootCAs != nil {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: a password or token is given in a file (password_file, token_file), never in the request: the node stores the path, not the secret", c.Name)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.PasswordFile != "" && c.Username == "" {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: a password file needs a user", c.Name)
	}
	if c.Username != "" && c.PasswordFile == "" {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: a user needs a password file", c.Name)
	}
	for _, p := range []*string{&c.PasswordFile, &c.TokenFile, &c.CAFile} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return nil, detente.Errorf(detente.EINVALID, "feed %s: %v", c.Name, err)
			}
			*p = abs
		}
	}
	if _, err := c.credentials(); err != nil {
		return nil, err
	}
	if _, err := c.HTTPClient(); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	auth := "none"
	switch {
	case c.TokenFile != "":
		auth = "bearer"
	case c.Username != "":
		auth = "basic"
	}
	body := map[string]any{"name": c.Name, "format": string(c.format()), "url": c.URL, "tlp": c.tlp().String(),
		"grading": c.Grading.String(), "originate": c.Originate, "auth": auth}
	err = s.c.Store.Update(ctx, func(tx detente.Tx) error {
		if err := tx.PutDoc(ctx, DocConfig, c.Name, doc, true); detente.ErrorCode(err) == detente.EEXISTS {
			return detente.Errorf(detente.EEXISTS, "feed %s already exists: remove it first to change it", c.Name)
		} else if err != nil {
			return err
		}
		return s.logEvent(ctx, tx, EventFeedAdded, body)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Remove removes feed name and its cursor. What it brought stays.
func (s *Service) Remove(ctx context.Context, name string) error {
	return s.c.Store.Update(ctx, func(tx detente.Tx) error {
		if _, err := s.config(ctx, tx, name); err != nil {
			return err
		}
		if err := errors.Join(tx.DeleteDoc(ctx, DocConfig, name), tx.DeleteDoc(ctx, DocState, name)); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, EventFeedRemoved, map[string]string{"name": name})
	})
}

// Feed returns the configuration of feed name.
func (s *Service) Feed(ctx context.Context, name string) (*Config, error) {
	var c *Config
	err := s.c.Store.View(ctx, func(tx detente.Tx) (err error) { c, err = s.config(ctx, tx, name); return })
	return c, err
}

func (s *Service) config(ctx context.Context, tx detente.Tx, name string) (*Config, error) {
	b, err := tx.Doc(ctx, DocConfig, name)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil, detente.Errorf(detente.ENOTFOUND, "no feed named %q", name)
	} else if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode feed %s: %w", name, err)
	}
	return &c, nil
}

// List returns every feed, by name.
func (s *Service) List(ctx context.Context) ([]*Config, error) {
	out := []*Config{}
	err := s.c.Store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, DocConfig, "", 0)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, d := range docs {
			var c Config
			if err := json.Unmarshal(d.Body, &c); err != nil {
				return fmt.Errorf("decode feed %s: %w", d.ID, err)
			}
			out = append(out, &c)
		}
		return nil
	})
	return out, err
}

// Status returns every feed with its state, by name.
func (s *Service) Status(ctx context.Context) ([]*Status, error) {
	out := []*Status{}
	err := s.c.Store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, DocConfig, "", 0)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, d := range docs {
			st := &Status{}
			if err := json.Unmarshal(d.Body, &st.Config); err != nil {
				return fmt.Errorf("decode feed %s: %w", d.ID, err)
			}
			state, err := s.state(ctx, tx, d.ID)
			if err != nil {
				return err
			}
			st.State, st.Where = *state, state.Cursor.String()
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

func (s *Service) state(ctx context.Context, tx detente.Tx, name string) (*State, error) {
	var st State
	b, err := tx.Doc(ctx, DocState, name)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return &st, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode the state of feed %s: %w", name, err)
	}
	return &st, nil
}

func (s *Service) putState(ctx context.Context, tx detente.Tx, name string, st *State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.PutDoc(ctx, DocState, name, b, false)
}

// Result is the outcome of one feed's pull.
type Result struct {
	Stats
	Error string `json:"error,omitempty"`
}

// Pull pulls feed name once, from where it stands to the end of what it
// has. Each page's objects, their log entries and the cursor are stored in
// one transaction, so a pull killed at any point loses and doubles
// nothing. The attempt and its outcome are recorded in the feed's state.
// progress, when set, is called after each page. Pulling a feed that this
// process is already pulling is ECONFLICT.
func (s *Service) Pull(ctx context.Context, name string, progress func(Stats)) (*Result, error) {
	c, err := s.Feed(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.pulling[name] {
		s.mu.Unlock()
		return nil, detente.Errorf(detente.ECONFLICT, "feed %s is being pulled already", name)
	}
	s.pulling[name] = true
	s.mu.Unlock()
	defer func() { s.mu.Lock(); delete(s.pulling, name); s.mu.Unlock() }()

	p := &Puller{Feed: *c, Sink: &sink{s: s, origin: OriginKey(s.c.Key, name)}, Key: s.c.Key, Progress: progress, Logger: s.c.Logger}
	st, pullErr := p.Pull(ctx)
	res := &Result{Stats: st}
	if pullErr != nil {
		res.Error = detente.ErrorMessage(pullErr)
	}
	err = s.c.Store.Update(context.WithoutCancel(ctx), func(tx detente.Tx) error {
		state, err := s.state(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := s.config(ctx, tx, name); err != nil {
			return nil // removed meanwhile
		}
		state.LastAttempt = s.now()
		if pullErr == nil {
			state.LastSuccess, state.Errors, state.LastError = state.LastAttempt, 0, ""
		} else {
			state.Errors++
			state.LastError = res.Error
		}
		return s.putState(ctx, tx, name, state)
	})
	if err != nil {
		return res, err
	}
	if pullErr != nil {
		return res, pullErr
	}
	return res, nil
}

// PullAll pulls every feed once, one after the other. A feed that fails
// does not stop the others: its error is in its Result.
func (s *Service) PullAll(ctx context.Context, progress func(Stats)) ([]*Result, error) {
	cs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Result{}
	for _, c := range cs {
		r, err := s.Pull(ctx, c.Name, progress)
		if r == nil {
			r = &Result{Stats: Stats{Feed: c.Name}, Error: detente.ErrorMessage(err)}
		}
		out = append(out, r)
	}
	return out, nil
}

// Run pulls every feed each interval until ctx ends. A feed that fails is
// retried with exponential backoff, up to maxBackoff. When several
// processes serve one node (a store with leases), only the holder of the
// "feeds" lease pulls, so two pulls never move one cursor.
func (s *Service) Run(ctx context.Context, interval, maxBackoff time.Duration) {
	next := map[string]time.Time{}
	fails := map[string]int{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if release, ok := s.lease(ctx); ok {
			s.pass(ctx, interval, maxBackoff, next, fails)
			release()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) pass(ctx context.Context, interval, maxBackoff time.Duration, next map[string]time.Time, fails map[string]int) {
	cs, err := s.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.c.Logger.WarnContext(ctx, "feeds: list", "err", err)
		}
		return
	}
	for _, c := range cs {
		if ctx.Err() != nil {
			return
		}
		if time.Now().Before(next[c.Name]) {
			continue
		}
		r, err := s.Pull(ctx, c.Name, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fails[c.Name]++
			wait := min(maxBackoff, interval<<min(fails[c.Name], 16))
			next[c.Name] = time.Now().Add(wait)
			s.c.Logger.WarnContext(ctx, "feed pull failed", "feed", c.Name, "retry_in", wait, "err", err)
			continue
		}
		fails[c.Name], next[c.Name] = 0, time.Time{}
		if r.Objects+r.Rejected > 0 {
			s.c.Logger.InfoContext(ctx, "feed pulled", "feed", c.Name, "objects", r.Objects, "rejected", r.Rejected)
		}
	}
}

// leaser is a store whose processes share work (see federation).
type leaser interface {
	Lease(ctx context.Context, name string) (release func(), ok bool, err error)
}

func (s *Service) lease(ctx context.Context) (func(), bool) {
	l, ok := s.c.Store.(leaser)
	if !ok {
		return func() {}, true
	}
	release, ok, err := l.Lease(ctx, "feeds")
	if err != nil {
		s.c.Logger.WarnContext(ctx, "lease", "name", "feeds", "err", err)
		return nil, false
	}
	return release, ok
}

func (s *Service) now() time.Time { return s.c.Now().UTC() }

func (s *Service) maxSkew() time.Duration {
	if s.c.MaxSkew != nil {
		if d := s.c.MaxSkew(); d > 0 {
			return d
		}
	}
	return DefaultMaxSkew
}

func (s *Service) logEvent(ctx context.Context, tx detente.Tx, typ string, body any) error {
	e, err := detente.NewEvent(s.now(), typ, "", body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// sink stores a feed's pages in the node's store.
type sink struct {
	s      *Service
	origin detente.PublicKey // the feed's origin key
}

func (k *sink) Cursor(ctx context.Context, feed string) (Cursor, error) {
	var c Cursor
	err := k.s.c.Store.View(ctx, func(tx detente.Tx) error {
		st, err := k.s.state(ctx, tx, feed)
		if err == nil {
			c = st.Cursor
		}
		return err
	})
	return c, err
}

// Store writes page's items, one log entry for each version added,
// quarantined or refused, and next as the feed's cursor, in one
// transaction. A version that conflicts with one stored, or is dated
// beyond the clock skew allowed, is refused alone.
func (k *sink) Store(ctx context.Context, feed string, page *Page, next Cursor) error {
	s := k.s
	now := s.now()
	self := detente.PublicKey(s.c.Key.Public().(ed25519.PublicKey))
	source := SourcePrefix + feed
	limit := now.Add(s.maxSkew())
	var vs []*detente.ObjectVersion
	var future []*Item
	for _, it := range page.Items {
		v := it.Version
		if v.Created.After(limit) || v.Modified.After(limit) {
			future = append(future, it)
			continue
		}
		v.Received = now
		if len(v.Signer) == 0 {
			v.Origin = k.origin // unsigned: the feed owns the ids it brings first
		}
		vs = append(vs, v)
	}
	return s.c.Store.Update(ctx, func(tx detente.Tx) error {
		state, err := s.state(ctx, tx, feed)
		if err != nil {
			return err
		}
		if _, err := s.config(ctx, tx, feed); err != nil {
			return err // removed while being pulled
		}
		partners, err := tx.Partners(ctx) // to name originators and the keys in alerts
		if err != nil {
			return err
		}
		for _, v := range vs {
			v.Quarantine, v.Seq = "", 0 // fn may be retried
			if len(v.Signer) > 0 && v.Originator == "" {
				v.Originator = detente.OriginatorOf(v.OriginKey(), self, partners)
				if v.Relayed() && v.OriginKey().Equal(self) {
					v.AddQuarantine(detente.QuarantineForeign, "a relayed copy names this node as its originator")
				}
			}
		}
		if err := detente.QuarantineRetired(ctx, tx, vs); err != nil {
			return err
		}
		put, err := tx.PutObjects(ctx, vs)
		if err != nil {
			return err
		}
		for i, v := range vs {
			body := map[string]string{"id": v.ID, "type": v.Type, "modified": fmtTime(v.Modified),
				"originator": v.Originator, "source": source, "sha256": sum(v.Raw)}
			typ := detente.EventObjectIngested
			switch {
			case put[i].Err != nil:
				state.Rejected++
				typ = detente.EventObjectQuarantined
				body = map[string]string{"id": v.ID, "modified": fmtTime(v.Modified), "source": source, "rejected": detente.ErrorMessage(put[i].Err)}
			case !put[i].Added:
				continue
			case v.Quarantine != "":
				state.Objects++
				state.Quarantined++
				typ = detente.EventObjectQuarantined
				body["reason"] = v.Quarantine
				// Keys by the names people know: this node, a partner,
				// this feed (whose origin key nobody outside can know).
				why := detente.NameKeys(v.Quarantine, self, partners, map[string]string{k.origin.String(): "feed " + feed})
				alert := &detente.Alert{Key: detente.NormalID(v.ID), Time: now, Kind: detente.AlertQuarantine,
					Message: fmt.Sprintf("%s from %s quarantined: %s", v.Key(), source, why)}
				if err := tx.PutAlert(ctx, alert); err != nil {
					return err
				}
			default:
				state.Objects++
			}
			if err := s.logEvent(ctx, tx, typ, body); err != nil {
				return err
			}
		}
		for _, it := range future {
			state.Rejected++
			reason := fmt.Sprintf("%s: dated more than %s in the future", it.Version.ID, s.maxSkew())
			body := map[string]string{"id": it.Version.ID, "modified": fmtTime(it.Version.Modified), "source": source, "rejected": reason}
			if err := s.logEvent(ctx, tx, detente.EventObjectQuarantined, body); err != nil {
				return err
			}
		}
		state.Rejected += int64(len(page.Rejected))
		state.Cursor = next
		return s.putState(ctx, tx, feed, state)
	})
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
