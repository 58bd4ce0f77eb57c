package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"detente"
	"detente/internal/sqlite"
	"detente/internal/storetest"
	"detente/internal/translog/translogtest"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) detente.Store { return openTemp(t) })
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	_, known, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(ctx, path)
	if detente.ErrorCode(err) != detente.EINVALID {
		t.Fatalf("open of schema 999 (known %d) = %v, want a clear refusal", known, err)
	}
}

// TestOwnershipMigration opens a database written at the schema before id
// ownership: ids are normalised and owners recorded, and what the rule
// forbids is quarantined.
func TestOwnershipMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "node.db")
	if err := sqlite.CreateAt(ctx, path, 6); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range storetest.LegacyObjects() {
		if _, err := db.ExecContext(ctx, `INSERT INTO objects (seq, id, type, modified, created, spec_version, originator, signer, signature,
			markings, granular, refs, grading, received, quarantine, raw, added)
			VALUES (?, ?, ?, ?, ?, '2.1', 'self', ?, x'00', ?, ?, ?, '', ?, '', ?, ?)`,
			o.Seq, o.ID, o.Type, o.Modified.UnixNano(), o.Modified.UnixNano(), o.Signer, o.Markings, o.Granular, o.Refs,
			o.Modified.UnixNano(), o.Raw, o.Added); err != nil {
			t.Fatal(err)
		}
	}
	c := storetest.LegacyConsent()
	doc, _ := json.Marshal(c)
	if _, err := db.ExecContext(ctx, `INSERT INTO consents (id, object, doc, revoked, revoked_reason, received) VALUES (?, ?, ?, 0, '', 0)`,
		c.ID, c.Object, doc); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO releases (object, modified, partner, allowed, reasons, time) VALUES (?, 0, 'bravo', 1, '[]', 0)`,
		storetest.LegacyReleaseObject); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckOwnershipMigration(t, s)
}

// TestHashStoreConformance runs the log's hash-store suite against
// translog.TxHashes over this store's transactions.
func TestHashStoreConformance(t *testing.T) {
	translogtest.Run(t, func(t *testing.T) translogtest.Log { return translogtest.Store(openTemp(t)) })
}
