package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"detente"

	"github.com/jackc/pgx/v5"
)

// ---- sync ----

// SyncState implements detente.Tx.
func (t *Tx) SyncState(ctx context.Context, partner string) (*detente.SyncState, error) {
	s := &detente.SyncState{Partner: partner}
	var cursor string
	var attempt, success int64
	found, err := t.one(ctx, `SELECT cursor, last_attempt, last_success, received, quarantined, rejected, errors, last_error
		FROM sync_state WHERE partner = $1`, []any{partner},
		&cursor, &attempt, &success, &s.Received, &s.Quarantined, &s.Rejected, &s.Errors, &s.LastError)
	if err != nil {
		return nil, fmt.Errorf("get sync state: %w", err)
	}
	if !found {
		return s, nil
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
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (partner) DO UPDATE SET cursor = excluded.cursor,
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
	_, err := t.exec(ctx, `INSERT INTO designations (authority, entity_id, delisted, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (authority, entity_id) DO UPDATE SET delisted = excluded.delisted, doc = excluded.doc`,
		d.Authority, d.EntityID, d.DelistedOn != "", mustJSON(d))
	if err != nil {
		return fmt.Errorf("put designation: %w", err)
	}
	return nil
}

// Designations implements detente.Tx.
func (t *Tx) Designations(ctx context.Context, authority string, withDelisted bool) ([]*detente.Designation, error) {
	var out []*detente.Designation
	err := t.each(ctx, `SELECT doc FROM designations WHERE ($1 = '' OR authority = $1) AND ($2 OR NOT delisted)
		ORDER BY authority, entity_id`, []any{authority, withDelisted}, func(rows pgx.Rows) error {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var d detente.Designation
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return fmt.Errorf("decode designation: %w", err)
		}
		out = append(out, &d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list designations: %w", err)
	}
	return out, nil
}

// ---- documents ----

// PutDoc implements detente.Tx.
func (t *Tx) PutDoc(ctx context.Context, kind, id string, doc []byte, create bool) error {
	q := `INSERT INTO docs (kind, id, doc) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc`
	if create {
		q = `INSERT INTO docs (kind, id, doc) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO NOTHING`
	}
	tag, err := t.exec(ctx, q, kind, id, nonNil(doc))
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, id, err)
	}
	if create && tag.RowsAffected() == 0 {
		return detente.Errorf(detente.EEXISTS, "%s %s already exists", kind, id)
	}
	return nil
}

// CreateDocs implements detente.Tx with one INSERT over the array of ids
// that returns the ids it inserted.
func (t *Tx) CreateDocs(ctx context.Context, kind string, ids []string) ([]bool, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	created := make(map[string]bool, len(ids))
	err := t.each(ctx, `INSERT INTO docs (kind, id, doc) SELECT $1, u.id, '\x'::bytea FROM unnest($2::text[]) AS u(id)
		ON CONFLICT (kind, id) DO NOTHING RETURNING id`, []any{kind, ids}, func(rows pgx.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		created[id] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", kind, err)
	}
	return detente.CreatedInOrder(ids, created), nil
}

// Doc implements detente.Tx.
func (t *Tx) Doc(ctx context.Context, kind, id string) ([]byte, error) {
	var b []byte
	found, err := t.one(ctx, `SELECT doc FROM docs WHERE kind = $1 AND id = $2`, []any{kind, id}, &b)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", kind, err)
	}
	if !found {
		return nil, notFound("%s %s not found", kind, id)
	}
	return b, nil
}

// Docs implements detente.Tx.
func (t *Tx) Docs(ctx context.Context, kind, prefix string, limit int) ([]detente.Doc, error) {
	// Prefix match by range, so the primary key serves it and LIKE's
	// wildcards in ids mean nothing; ids sort bytewise (COLLATE "C").
	args := []any{kind, prefix, prefix + "\U0010FFFF"}
	q := `SELECT id, doc FROM docs WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id`
	if limit > 0 {
		q += ` LIMIT ` + arg(&args, limit)
	}
	var out []detente.Doc
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		d := detente.Doc{Kind: kind}
		if err := rows.Scan(&d.ID, &d.Body); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	return out, nil
}

// DeleteDoc implements detente.Tx.
func (t *Tx) DeleteDoc(ctx context.Context, kind, id string) error {
	if _, err := t.exec(ctx, `DELETE FROM docs WHERE kind = $1 AND id = $2`, kind, id); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return nil
}
