package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"detente"
	"detente/internal/pgtest"
	"detente/internal/postgres"
	"detente/internal/storetest"
	"detente/internal/translog"
	"detente/internal/translog/translogtest"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTemp opens a store on a new, empty database.
func openTemp(t testing.TB) *postgres.Store {
	t.Helper()
	return openURL(t, pgtest.URL(t))
}

// openURL opens a store on url, closed when t ends.
func openURL(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) detente.Store { return openTemp(t) })
}

// TestHashStoreConformance runs the log's hash-store suite against
// translog.TxHashes over this store's transactions (and its cache of
// committed hashes).
func TestHashStoreConformance(t *testing.T) {
	translogtest.Run(t, func(t *testing.T) translogtest.Log { return translogtest.Store(openTemp(t)) })
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := openURL(t, url)
	have, known, err := s.SchemaVersion(ctx)
	if err != nil || have != known || known < 2 {
		t.Fatalf("SchemaVersion = %d, %d, %v; want the newest known", have, known, err)
	}
	execSQL(t, url, `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`)
	_, err = postgres.Open(ctx, url)
	if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of schema 999 (known %d) = %v, want a clear EINVALID refusal", known, err)
	}
	c, err := postgres.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if have, _, err := c.SchemaVersion(ctx); err != nil || have != 999 {
		t.Errorf("SchemaVersion after refusal = %d, %v; want 999", have, err)
	}
	if err := c.Migrate(ctx); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("Migrate on schema 999 = %v, want EINVALID", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:secret@[::1")
	if detente.ErrorCode(err) != detente.EINVALID || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(bad URL) = %v, want EINVALID without the password", err)
	}
}

// TestMigrateEmpty opens the same empty database from several stores at
// once, as processes starting together would: each migration is applied
// once and every store works.
func TestMigrateEmpty(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	c, err := postgres.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if have, known, err := c.SchemaVersion(ctx); err != nil || have != 0 || known < 2 {
		t.Fatalf("empty database: SchemaVersion = %d, %d, %v; want 0", have, known, err)
	}
	stores := make([]*postgres.Store, 3)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, url) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("concurrent open %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	have, known, err := c.SchemaVersion(ctx)
	if err != nil || have != known {
		t.Fatalf("after open: SchemaVersion = %d, %d, %v", have, known, err)
	}
	var rows int
	queryRow(t, url, `SELECT count(*) FROM schema_migrations`, &rows)
	if rows != known {
		t.Errorf("schema_migrations has %d rows, want %d (each migration once)", rows, known)
	}
	for i, s := range stores {
		if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, event(i, 0)) }); err != nil {
			t.Fatalf("append through store %d: %v", i, err)
		}
	}
	checkLog(t, stores[0], len(stores))
}

// TestMigratePrevious stores data under the previous schema version, then
// opens the database: the pending migration is applied, the data survives,
// and new events and objects continue where the old ones stopped.
func TestMigratePrevious(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	c, err := postgres.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, known, _ := c.SchemaVersion(ctx)
	if err := c.MigrateTo(ctx, known-1); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// Events 0..old-1 with their leaf and tree hashes, and object versions,
	// written as the previous version's store wrote them.
	const old = 40
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	hs := &capture{MemStore: translog.NewMemStore()}
	for i := range old {
		e := event(0, i)
		e.Seq = int64(i)
		if err := translog.Append(ctx, hs, e.Seq, e); err != nil {
			t.Fatal(err)
		}
		leaf := translog.LeafHash(e)
		if _, err := conn.Exec(ctx, `INSERT INTO events (seq, time, type, partner, body, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6)`,
			e.Seq, e.Time.UnixNano(), e.Type, e.Partner, []byte(e.Body), leaf[:]); err != nil {
			t.Fatal(err)
		}
	}
	for n, h := range hs.written {
		if n.Level == 0 {
			continue
		}
		if _, err := conn.Exec(ctx, `INSERT INTO log_hashes (key, hash) VALUES ($1, $2)`, n.Key(), h[:]); err != nil {
			t.Fatal(err)
		}
	}
	oldAdded := time.Now().Add(time.Hour).UnixMicro() * 1000 // a clock that was ahead: Added must still increase
	for i := range 5 {
		if _, err := conn.Exec(ctx, `INSERT INTO objects (seq, id, type, modified, created, spec_version, originator,
			markings, granular, refs, grading, received, quarantine, raw, added)
			VALUES ($1, $2, 'indicator', $3, $3, '2.1', 'self', '[]', '[]', '[]', '', $3, '', $4, $5)`,
			i+1, objID(100+i), t0.UnixNano(), []byte(`{}`), oldAdded+int64(i)*1000); err != nil {
			t.Fatal(err)
		}
	}
	// From version 2 on, the store keeps the write head in step with what
	// it writes.
	var hasHead bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('write_head') IS NOT NULL`).Scan(&hasHead); err != nil {
		t.Fatal(err)
	}
	if hasHead {
		if _, err := conn.Exec(ctx, `UPDATE write_head SET events = $1, objects = 5, added = $2`, old, oldAdded+4000); err != nil {
			t.Fatal(err)
		}
	}

	s := openURL(t, url)
	if have, known2, err := s.SchemaVersion(ctx); err != nil || have != known2 || known2 != known {
		t.Fatalf("after open: SchemaVersion = %d, %d, %v; want %d", have, known2, err, known)
	}
	var o *detente.ObjectVersion
	err = s.Update(ctx, func(tx detente.Tx) error {
		if err := tx.AppendEvent(ctx, event(1, 0)); err != nil {
			return err
		}
		o = obj(objID(1), "new")
		_, err := tx.PutObject(ctx, o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, s, old+1)
	if o.Seq != 6 || o.Added.UnixNano() <= oldAdded+4000 {
		t.Errorf("new object: Seq %d, Added %v; want 6, after the stored ones", o.Seq, o.Added)
	}
	err = s.View(ctx, func(tx detente.Tx) error {
		got, err := tx.Object(ctx, objID(102))
		if err != nil || got.Seq != 3 || string(got.Raw) != `{}` {
			t.Errorf("old object after migration = %+v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// capture is a translog.HashStore that remembers what was written.
type capture struct {
	*translog.MemStore
	written map[translog.Node]tlog.Hash
}

func (c *capture) WriteHashes(ctx context.Context, nodes []translog.Node, hashes []tlog.Hash) error {
	if c.written == nil {
		c.written = map[translog.Node]tlog.Hash{}
	}
	for i, n := range nodes {
		c.written[n] = hashes[i]
	}
	return c.MemStore.WriteHashes(ctx, nodes, hashes)
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// event returns the i-th event of writer w; its body names both.
func event(w, i int) *detente.Event {
	e, err := detente.NewEvent(t0.Add(time.Duration(w*1000000+i)*time.Microsecond+7), detente.EventRelease, "bravo", map[string]int{"w": w, "i": i})
	if err != nil {
		panic(err)
	}
	return e
}

func objID(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }

func obj(id, body string) *detente.ObjectVersion {
	return &detente.ObjectVersion{ID: id, Type: "indicator", SpecVersion: "2.1", Modified: t0, Created: t0,
		Originator: detente.OriginSelf, Received: t0, Raw: []byte(fmt.Sprintf(`{"id":%q,"x":%q}`, id, body))}
}

// checkLog checks that s holds a log of want events with contiguous seqs
// and that the tree the store kept has the root an independent computation
// over the stored events gives, at every size.
func checkLog(t *testing.T, s detente.Store, want int) []*detente.Event {
	t.Helper()
	ctx := context.Background()
	var events []*detente.Event
	err := s.View(ctx, func(tx detente.Tx) error {
		var err error
		if events, err = tx.Events(ctx, detente.EventFilter{}); err != nil {
			return err
		}
		if n, err := tx.CountEvents(ctx); err != nil || n != int64(len(events)) {
			t.Errorf("CountEvents = %d, %v; %d events stored", n, err, len(events))
		}
		mem := translog.NewMemStore()
		for i, e := range events {
			if e.Seq != int64(i) {
				return fmt.Errorf("event at %d has seq %d", i, e.Seq)
			}
			if err := translog.Append(ctx, mem, e.Seq, e); err != nil {
				return err
			}
		}
		for size := int64(1); size <= int64(len(events)); size++ {
			want, err := translog.TreeHash(ctx, mem, size)
			if err != nil {
				return err
			}
			got, err := translog.TreeHash(ctx, translog.TxHashes(tx), size)
			if err != nil {
				return fmt.Errorf("tree hash at %d: %w", size, err)
			}
			if got != want {
				return fmt.Errorf("root at size %d = %v, want %v", size, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != want {
		t.Fatalf("%d events, want %d", len(events), want)
	}
	return events
}

// execSQL runs one statement on the database at url.
func execSQL(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

// queryRow runs a query for one row on the database at url.
func queryRow(t *testing.T, url, sql string, dest ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatal(err)
	}
}

func TestLease(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, ok, err := a.Lease(ctx, "sync")
	if err != nil || !ok {
		t.Fatalf("first lease: %v %v", ok, err)
	}
	if _, ok, err := b.Lease(ctx, "sync"); err != nil || ok {
		t.Fatalf("second process got the held lease: %v %v", ok, err)
	}
	if r, ok, err := b.Lease(ctx, "other"); err != nil || !ok {
		t.Fatalf("an unrelated lease: %v %v", ok, err)
	} else {
		r()
	}
	release()
	r, ok, err := b.Lease(ctx, "sync")
	if err != nil || !ok {
		t.Fatalf("lease after release: %v %v", ok, err)
	}
	r()
	// A process that dies loses its leases with its session: take the lease
	// on a raw connection, as another process would, then drop it.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var held bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, "detente-lease/crash").Scan(&held); err != nil || !held {
		t.Fatalf("raw lease: %v %v", held, err)
	}
	if _, ok, _ := b.Lease(ctx, "crash"); ok {
		t.Fatal("lease held by another session was granted")
	}
	conn.Close(ctx) // the process dies
	// The server releases the lock when the session's backend exits, a
	// moment after the connection closes: wait for that, within bounds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, ok, err := b.Lease(ctx, "crash")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			r()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lease of a dead session not released within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRefusesAsyncCommit: a store refuses a connection whose commits return
// before they are durable.
func TestRefusesAsyncCommit(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	_, err := postgres.Open(ctx, url+sep+"options=-c%20synchronous_commit%3Doff")
	if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), "synchronous_commit is off") {
		t.Fatalf("Open with synchronous_commit off: %v, want EINVALID", err)
	}
	openURL(t, url) // the same database with the default setting opens
}

// TestOwnershipMigration opens a database written at the schema before id
// ownership: ids are normalised and owners recorded, and what the rule
// forbids is quarantined.
func TestOwnershipMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	c, err := postgres.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MigrateTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	c.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var last storetest.LegacyObject
	for _, o := range storetest.LegacyObjects() {
		if _, err := conn.Exec(ctx, `INSERT INTO objects (seq, id, type, modified, created, spec_version, originator, signer, signature,
			markings, granular, refs, grading, received, quarantine, raw, added)
			VALUES ($1, $2, $3, $4, $4, '2.1', 'self', $5, '\x00', $6, $7, $8, '', $4, '', $9, $10)`,
			o.Seq, o.ID, o.Type, o.Modified.UnixNano(), o.Signer, o.Markings, o.Granular, o.Refs, o.Raw, o.Added); err != nil {
			t.Fatal(err)
		}
		last = o
	}
	if _, err := conn.Exec(ctx, `UPDATE write_head SET objects = $1, added = $2`, last.Seq, last.Added); err != nil {
		t.Fatal(err)
	}
	cs := storetest.LegacyConsent()
	doc, _ := json.Marshal(cs)
	if _, err := conn.Exec(ctx, `INSERT INTO consents (id, object, doc, revoked, revoked_reason, received) VALUES ($1, $2, $3, false, '', 0)`,
		cs.ID, cs.Object, string(doc)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO releases (object, modified, partner, allowed, reasons, time) VALUES ($1, 0, 'bravo', true, '[]', 0)`,
		storetest.LegacyReleaseObject); err != nil {
		t.Fatal(err)
	}
	storetest.CheckOwnershipMigration(t, openURL(t, url))
}
