package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"detente"
)

// ---- sync ----

// SyncState implements detente.Tx.
func (t *Tx) SyncState(ctx context.Context, partner string) (*detente.SyncState, error) {
	s := &detente.SyncState{Partner: partner}
	var cursor string
	var attempt, success int64
	err := t.queryRow(ctx, `SELECT cursor, last_attempt, last_success, received, quarantined, rejected, errors, last_error
		FROM sync_state WHERE partner = ?`, partner).Scan(&cursor, &attempt, &success, &s.Received, &s.Quarantined, &s.Rejected, &s.Errors, &s.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get sync state: %w", translate(err))
	}
	s.LastAttempt, s.LastSuccess = fromNanos(attempt), fromNanos(success)
	if cursor != "" {
		if s.Cursor, err = time.Parse(time.RFC3339Nano, cursor); err != nil {
			return nil, fmt.Errorf("get sync state: cursor: %w", err)
		}
	}
	return s, nil
}

// PutSyncState implements detente.Tx.
func (t *Tx) PutSyncState(ctx context.Context, s *detente.SyncState) error {
	cursor := ""
	if !s.Cursor.IsZero() {
		cursor = s.Cursor.UTC().Format(time.RFC3339Nano)
	}
	_, err := t.exec(ctx, `INSERT INTO sync_state (partner, cursor, last_attempt, last_success, received, quarantined, rejected, errors, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner) DO UPDATE SET cursor = excluded.cursor,
		last_attempt = excluded.last_attempt, last_success = excluded.last_success, received = excluded.received,
		quarantined = excluded.quarantined, rejected = excluded.rejected, errors = excluded.errors, last_error = excluded.last_error`,
		s.Partner, cursor, nanos(s.LastAttempt), nanos(s.LastSuccess), s.Received, s.Quarantined, s.Rejected, s.Errors, s.LastError)
	if err != nil {
		return fmt.Errorf("put sync state: %w", err)
	}
	return nil
}

// ---- designations ----

// PutDesignation implements detente.Tx.
func (t *Tx) PutDesignation(ctx context.Context, d *detente.Designation) error {
	if d.Authority == "" || d.EntityID == "" {
		return detente.Errorf(detente.EINVALID, "a designation needs an authority and an entity id")
	}
	_, err := t.exec(ctx, `INSERT INTO designations (authority, entity_id, delisted, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (authority, entity_id) DO UPDATE SET delisted = excluded.delisted, doc = excluded.doc`,
		d.Authority, d.EntityID, d.DelistedOn != "", mustJSON(d))
	if err != nil {
		return fmt.Errorf("put designation: %w", err)
	}
	return nil
}

// Designations implements detente.Tx.
func (t *Tx) Designations(ctx context.Context, authority string, withDelisted bool) ([]*detente.Designation, error) {
	q := `SELECT doc FROM designations WHERE (? = '' OR authority = ?) AND (? OR delisted = 0) ORDER BY authority, entity_id`
	rows, err := t.query(ctx, q, authority, authority, withDelisted)
	if err != nil {
		return nil, fmt.Errorf("list designations: %w", err)
	}
	defer rows.Close()
	var out []*detente.Designation
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list designations: %w", err)
		}
		var d detente.Designation
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("decode designation: %w", err)
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}

// ---- documents ----

// PutDoc implements detente.Tx.
func (t *Tx) PutDoc(ctx context.Context, kind, id string, doc []byte, create bool) error {
	q := `INSERT INTO docs (kind, id, doc) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc`
	if create {
		q = `INSERT INTO docs (kind, id, doc) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO NOTHING`
	}
	res, err := t.exec(ctx, q, kind, id, nonNil(doc))
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, id, err)
	}
	if n, _ := res.RowsAffected(); create && n == 0 {
		return detente.Errorf(detente.EEXISTS, "%s %s already exists", kind, id)
	}
	return nil
}

// createDocsChunk is how many documents one CreateDocs statement inserts:
// two parameters each, well under SQLite's limit on parameters.
const createDocsChunk = 500

// CreateDocs implements detente.Tx with multi-row INSERTs that return the
// ids they inserted.
func (t *Tx) CreateDocs(ctx context.Context, kind string, ids []string) ([]bool, error) {
	created := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += createDocsChunk {
		chunk := ids[start:min(len(ids), start+createDocsChunk)]
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, kind, id)
		}
		q := `INSERT INTO docs (kind, id, doc) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, x''), ", len(chunk)), ", ") +
			` ON CONFLICT (kind, id) DO NOTHING RETURNING id`
		rows, err := t.tx.QueryContext(ctx, q, args...) // shape varies with the chunk: not cached
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", kind, translate(err))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("create %s: %w", kind, translate(err))
			}
			created[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("create %s: %w", kind, translate(err))
		}
	}
	return detente.CreatedInOrder(ids, created), nil
}

// Doc implements detente.Tx.
func (t *Tx) Doc(ctx context.Context, kind, id string) ([]byte, error) {
	var b []byte
	err := t.queryRow(ctx, `SELECT doc FROM docs WHERE kind = ? AND id = ?`, kind, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("%s %s not found", kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", kind, translate(err))
	}
	return b, nil
}

// Docs implements detente.Tx.
func (t *Tx) Docs(ctx context.Context, kind, prefix string, limit int) ([]detente.Doc, error) {
	if limit <= 0 {
		limit = -1
	}
	// Prefix match by range, so the primary key serves it and LIKE's
	// wildcards in ids mean nothing.
	rows, err := t.query(ctx, `SELECT id, doc FROM docs WHERE kind = ? AND id >= ? AND id < ? ORDER BY id LIMIT ?`,
		kind, prefix, prefix+"\U0010FFFF", limit)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	defer rows.Close()
	var out []detente.Doc
	for rows.Next() {
		d := detente.Doc{Kind: kind}
		if err := rows.Scan(&d.ID, &d.Body); err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDoc implements detente.Tx.
func (t *Tx) DeleteDoc(ctx context.Context, kind, id string) error {
	if _, err := t.exec(ctx, `DELETE FROM docs WHERE kind = ? AND id = ?`, kind, id); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return nil
}
