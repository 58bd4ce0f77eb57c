package hotline_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"detente"
	"detente/internal/hotline"
	"detente/internal/hotline/hotlinetest"
	"detente/internal/peer"
	"detente/internal/pgtest"
	"detente/internal/postgres"
	"detente/internal/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// service returns a Service over s for a new node key.
func service(t testing.TB, s detente.Store) *hotline.Service {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return hotline.NewService(hotline.Config{Store: s, Name: "alpha", Key: key})
}

// openSQLite opens a new SQLite store, closed when t ends.
func openSQLite(t testing.TB) detente.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens a store on a new PostgreSQL database, closed when t
// ends. Without PostgreSQL the test skips, except in CI (pgtest).
func openPostgres(t testing.TB) detente.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemStore(t *testing.T) {
	hotlinetest.Run(t, func(t *testing.T) hotline.Store { return hotline.NewMemStore() })
}

func TestDocStoreSQLite(t *testing.T) {
	hotlinetest.Run(t, func(t *testing.T) hotline.Store { return service(t, openSQLite(t)).Store() })
}

func TestDocStorePostgres(t *testing.T) {
	// The first database starts the throwaway cluster (pgtest), here
	// rather than inside a bubble of fake time (testing/synctest), where
	// the cluster's process would outlive the bubble; and without
	// PostgreSQL the test skips, or in CI fails, once.
	openPostgres(t)
	hotlinetest.Run(t, func(t *testing.T) hotline.Store { return service(t, openPostgres(t)).Store() })
}

// TestDocStoreLogs checks that each change of the Store over the node's
// documents is logged with it: insert-if-absent by (sender, idempotency
// key), the pending index, the heard times, that a failed update changes
// nothing, and the log events of what did change.
func TestDocStoreLogs(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	_, key, _ := ed25519.GenerateKey(nil)
	self := detente.PublicKey(key.Public().(ed25519.PublicKey))
	st := hotline.NewService(hotline.Config{Store: db, Name: "alpha", Key: key}).Store()
	pub, _, _ := ed25519.GenerateKey(nil)
	now := time.Now().UTC()
	terms := hotline.Terms{ID: hotline.NewID("channel"), Purpose: "Euro 2028 security", Parties: []hotline.Party{
		{Name: "alpha", Key: self}, {Name: "bravo", Key: detente.PublicKey(pub)}}}
	ch, err := hotline.Propose(terms, "liaison", now, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateChannel(ctx, ch); detente.ErrorCode(err) != detente.EEXISTS {
		t.Errorf("second create: %v", err)
	}
	m := hotline.NewMessage(ch.ID, hotline.TypeNotice, now)
	m.Subject = "x"
	m.Sign(key)
	r := &hotline.Record{Message: m, Outgoing: true, State: hotline.Sent, Stored: now, Pending: true,
		Deliveries: []hotline.Delivery{{Partner: "bravo", Key: detente.PublicKey(pub), NextAttempt: now}}}
	if _, ins, err := st.PutMessage(ctx, r); err != nil || !ins {
		t.Fatalf("put: %v %v", ins, err)
	}
	retry := *m
	retry.ID = hotline.NewID("message") // a retry rebuilt with a new id, same key
	if got, ins, err := st.PutMessage(ctx, &hotline.Record{Message: &retry, Outgoing: true}); err != nil || ins || got.Message.ID != m.ID {
		t.Errorf("same idempotency key: %v %v %v", got, ins, err)
	}
	other := *m
	other.IdempotencyKey = "another"
	if _, _, err := st.PutMessage(ctx, &hotline.Record{Message: &other}); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("same id, other key: %v", err)
	}
	if rs, _ := st.Messages(ctx, hotline.MessageFilter{Pending: true}); len(rs) != 1 {
		t.Errorf("pending: %d", len(rs))
	}
	boom := detente.Errorf(detente.EINVALID, "boom")
	if err := st.UpdateMessage(ctx, m.ID, func(r *hotline.Record) error { r.Pending = false; return boom }); err != boom {
		t.Errorf("failed update returned %v", err)
	}
	if rs, _ := st.Messages(ctx, hotline.MessageFilter{Pending: true}); len(rs) != 1 {
		t.Error("a failed update changed the record")
	}
	if err := st.UpdateMessage(ctx, m.ID, func(r *hotline.Record) error { r.Pending, r.State = false, hotline.Delivered; return nil }); err != nil {
		t.Fatal(err)
	}
	if rs, _ := st.Messages(ctx, hotline.MessageFilter{Pending: true}); len(rs) != 0 {
		t.Error("the pending index kept a delivered message")
	}
	if err := st.PutHeard(ctx, ch.ID, "bravo", now); err != nil {
		t.Fatal(err)
	}
	st.PutHeard(ctx, ch.ID, "bravo", now.Add(-time.Minute))
	if h, _ := st.Heard(ctx, ch.ID); !h["bravo"].Equal(now) {
		t.Errorf("heard %v", h)
	}

	var actions []string
	db.View(ctx, func(tx detente.Tx) error {
		es, err := tx.Events(ctx, detente.EventFilter{Type: detente.EventChannel})
		for _, e := range es {
			var b map[string]any
			json.Unmarshal(e.Body, &b)
			actions = append(actions, b["action"].(string))
		}
		return err
	})
	want := []string{"transition", "message", "message.state"}
	if len(actions) != len(want) || actions[0] != want[0] || actions[1] != want[1] || actions[2] != want[2] {
		t.Errorf("logged %v, want %v", actions, want)
	}
}

// TestMaxChannelBody: the partner endpoints take the largest message the
// package accepts, and one byte more (for its decoder to refuse).
func TestMaxChannelBody(t *testing.T) {
	if peer.MaxChannelBody != hotline.MaxMessageSize {
		t.Fatalf("peer.MaxChannelBody is %d, hotline.MaxMessageSize %d", peer.MaxChannelBody, hotline.MaxMessageSize)
	}
}
