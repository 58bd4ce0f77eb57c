package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"detente"
	"detente/internal/translog"

	"golang.org/x/mod/sumdb/tlog"
)

// ---- events ----

// AppendEvent implements detente.Tx.
func (t *Tx) AppendEvent(ctx context.Context, e *detente.Event) error {
	if t.nextSeq < 0 {
		n, err := t.CountEvents(ctx)
		if err != nil {
			return fmt.Errorf("append event: %w", err)
		}
		t.nextSeq = n
	}
	e.Seq = t.nextSeq
	leaf := detente.LogHash(translog.LeafHash(e))
	if _, err := t.exec(ctx, `INSERT INTO events (seq, time, type, partner, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Seq, nanos(e.Time), e.Type, e.Partner, []byte(e.Body), leaf[:]); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	t.hashes[detente.LogNode{Level: 0, Index: e.Seq}] = leaf
	if err := translog.Append(ctx, translog.TxHashes(t), e.Seq, e); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	t.nextSeq++
	return nil
}

// Events implements detente.Tx.
func (t *Tx) Events(ctx context.Context, f detente.EventFilter) ([]*detente.Event, error) {
	q := `SELECT seq, time, type, partner, body FROM events WHERE seq >= ?`
	args := []any{f.FromSeq}
	if f.BeforeSeq > 0 {
		q += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.Partner != "" {
		q += ` AND partner = ?`
		args = append(args, f.Partner)
	}
	if f.Newest {
		q += ` ORDER BY seq DESC`
	} else {
		q += ` ORDER BY seq`
	}
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []*detente.Event
	for rows.Next() {
		var (
			e    detente.Event
			tm   int64
			body []byte
		)
		if err := rows.Scan(&e.Seq, &tm, &e.Type, &e.Partner, &body); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.Time, e.Body = fromNanos(tm), body
		out = append(out, &e)
	}
	return out, rows.Err()
}

// CountEvents implements detente.Tx.
func (t *Tx) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	rows, err := t.query(ctx, `SELECT coalesce(max(seq) + 1, 0) FROM events`)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
	}
	return n, rows.Err()
}

// ---- meta ----

// Meta implements detente.Tx.
func (t *Tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("setting %s not found", key)
	}
	if err != nil {
		return "", fmt.Errorf("get setting: %w", translate(err))
	}
	return v, nil
}

// SetMeta implements detente.Tx.
func (t *Tx) SetMeta(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set setting: %w", err)
	}
	return nil
}

// ---- the log's tree, checkpoints, alerts ----

// LogHashes implements detente.Tx.
func (t *Tx) LogHashes(ctx context.Context, nodes []detente.LogNode) ([]detente.LogHash, error) {
	out := make([]detente.LogHash, len(nodes))
	for i, n := range nodes {
		if h, ok := t.hashes[n]; ok {
			out[i] = h
			continue
		}
		var b []byte
		var err error
		if n.Level == 0 {
			err = t.queryRow(ctx, `SELECT leaf_hash FROM events WHERE seq = ?`, n.Index).Scan(&b)
		} else {
			err = t.queryRow(ctx, `SELECT hash FROM log_hashes WHERE key = ?`, tlog.StoredHashIndex(n.Level, n.Index)).Scan(&b)
		}
		if errors.Is(err, sql.ErrNoRows) || (err == nil && len(b) != len(out[i])) {
			return nil, notFound("log hash %d/%d is not stored", n.Level, n.Index)
		}
		if err != nil {
			return nil, fmt.Errorf("read log hash: %w", translate(err))
		}
		copy(out[i][:], b)
		t.hashes[n] = out[i]
	}
	return out, nil
}

// PutLogHashes implements detente.Tx.
func (t *Tx) PutLogHashes(ctx context.Context, nodes []detente.LogNode, hashes []detente.LogHash) error {
	for i, n := range nodes {
		h := hashes[i]
		if old, ok := t.hashes[n]; ok {
			if old != h {
				return detente.Errorf(detente.ECONFLICT, "log hash %d/%d is already stored with another value", n.Level, n.Index)
			}
			if n.Level == 0 {
				continue // written with its event
			}
		}
		var res sql.Result
		var err error
		if n.Level == 0 {
			res, err = t.exec(ctx, `UPDATE events SET leaf_hash = ? WHERE seq = ? AND leaf_hash IS NULL`, h[:], n.Index)
		} else {
			res, err = t.exec(ctx, `INSERT INTO log_hashes (key, hash) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
				tlog.StoredHashIndex(n.Level, n.Index), h[:])
		}
		if err != nil {
			return fmt.Errorf("write log hash: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			got, err := t.LogHashes(ctx, []detente.LogNode{n})
			if err != nil {
				return err
			}
			if got[0] != h {
				return detente.Errorf(detente.ECONFLICT, "log hash %d/%d is already stored with another value", n.Level, n.Index)
			}
		}
		t.hashes[n] = h
	}
	return nil
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return t.tx.QueryRowContext(ctx, query, args...) // reports the same error on Scan
	}
	return s.QueryRowContext(ctx, args...)
}

// PutCheckpoint implements detente.Tx.
func (t *Tx) PutCheckpoint(ctx context.Context, c *detente.Checkpoint) error {
	res, err := t.exec(ctx, `INSERT INTO checkpoints (size, note, time) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`,
		c.Size, c.Note, nanos(c.Time))
	if err != nil {
		return fmt.Errorf("put checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return detente.Errorf(detente.EEXISTS, "a checkpoint for size %d is already stored", c.Size)
	}
	return nil
}

// Checkpoint implements detente.Tx.
func (t *Tx) Checkpoint(ctx context.Context, size int64) (*detente.Checkpoint, error) {
	var row *sql.Row
	if size < 0 {
		row = t.queryRow(ctx, `SELECT size, note, time FROM checkpoints ORDER BY size DESC LIMIT 1`)
	} else {
		row = t.queryRow(ctx, `SELECT size, note, time FROM checkpoints WHERE size = ?`, size)
	}
	var c detente.Checkpoint
	var tm int64
	err := row.Scan(&c.Size, &c.Note, &tm)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no checkpoint for size %d", size)
	}
	if err != nil {
		return nil, fmt.Errorf("get checkpoint: %w", translate(err))
	}
	c.Time = fromNanos(tm)
	return &c, nil
}

// Checkpoints implements detente.Tx.
func (t *Tx) Checkpoints(ctx context.Context) ([]*detente.Checkpoint, error) {
	rows, err := t.query(ctx, `SELECT size, note, time FROM checkpoints ORDER BY size`)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	defer rows.Close()
	var out []*detente.Checkpoint
	for rows.Next() {
		var c detente.Checkpoint
		var tm int64
		if err := rows.Scan(&c.Size, &c.Note, &tm); err != nil {
			return nil, fmt.Errorf("list checkpoints: %w", err)
		}
		c.Time = fromNanos(tm)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// PutCosignature implements detente.Tx.
func (t *Tx) PutCosignature(ctx context.Context, size int64, witness string, line []byte) error {
	_, err := t.exec(ctx, `INSERT INTO cosignatures (size, witness, line) VALUES (?, ?, ?)
		ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line`, size, witness, line)
	if err != nil {
		return fmt.Errorf("put cosignature: %w", err)
	}
	return nil
}

// Cosignatures implements detente.Tx.
func (t *Tx) Cosignatures(ctx context.Context, size int64) (map[string][]byte, error) {
	rows, err := t.query(ctx, `SELECT witness, line FROM cosignatures WHERE size = ? ORDER BY witness`, size)
	if err != nil {
		return nil, fmt.Errorf("list cosignatures: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var w string
		var line []byte
		if err := rows.Scan(&w, &line); err != nil {
			return nil, fmt.Errorf("list cosignatures: %w", err)
		}
		out[w] = line
	}
	return out, rows.Err()
}

// PutAlert implements detente.Tx.
func (t *Tx) PutAlert(ctx context.Context, a *detente.Alert) error {
	if t.readOnly {
		return detente.Errorf(detente.EINTERNAL, "write in a read-only transaction")
	}
	rows, err := t.query(ctx, `INSERT INTO alerts (key, time, first, count, kind, partner, message, evidence)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?)
		ON CONFLICT (kind, key) WHERE key <> '' DO UPDATE SET time = excluded.time, partner = excluded.partner,
			message = excluded.message, evidence = excluded.evidence, count = alerts.count + 1
		RETURNING id, first, count`,
		a.Key, nanos(a.Time), nanos(a.Time), a.Kind, a.Partner, a.Message, nonNil(a.Evidence))
	if err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("put alert: %w", cmp.Or(rows.Err(), sql.ErrNoRows))
	}
	var first int64
	if err := rows.Scan(&a.ID, &first, &a.Count); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	a.First = fromNanos(first)
	return rows.Close()
}

const alertCols = `id, key, time, first, count, kind, partner, message, evidence`

// scanAlerts reads rows of alertCols.
func scanAlerts(rows *sql.Rows) ([]*detente.Alert, error) {
	defer rows.Close()
	var out []*detente.Alert
	for rows.Next() {
		var a detente.Alert
		var tm, first int64
		if err := rows.Scan(&a.ID, &a.Key, &tm, &first, &a.Count, &a.Kind, &a.Partner, &a.Message, &a.Evidence); err != nil {
			return nil, err
		}
		a.Time, a.First = fromNanos(tm), fromNanos(first)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// Alerts implements detente.Tx.
func (t *Tx) Alerts(ctx context.Context, limit int) ([]*detente.Alert, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.query(ctx, `SELECT `+alertCols+` FROM alerts ORDER BY time DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out, err := scanAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// AlertGroups implements detente.Tx.
func (t *Tx) AlertGroups(ctx context.Context, perKind int) ([]detente.AlertGroup, error) {
	rows, err := t.query(ctx, `SELECT kind, count(*), sum(count), max(time) FROM alerts GROUP BY kind ORDER BY max(time) DESC, kind`)
	if err != nil {
		return nil, fmt.Errorf("group alerts: %w", err)
	}
	var out []detente.AlertGroup
	for rows.Next() {
		var g detente.AlertGroup
		var last int64
		if err := rows.Scan(&g.Kind, &g.Alerts, &g.Raised, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("group alerts: %w", err)
		}
		g.Last = fromNanos(last)
		out = append(out, g)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("group alerts: %w", err)
	}
	if perKind <= 0 {
		return out, nil
	}
	for i := range out {
		rows, err := t.query(ctx, `SELECT `+alertCols+` FROM alerts WHERE kind = ? ORDER BY time DESC, id DESC LIMIT ?`, out[i].Kind, perKind)
		if err != nil {
			return nil, fmt.Errorf("group alerts: %w", err)
		}
		if out[i].Latest, err = scanAlerts(rows); err != nil {
			return nil, fmt.Errorf("group alerts: %w", err)
		}
	}
	return out, nil
}
