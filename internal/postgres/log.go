package postgres

import (
	"context"
	"errors"
	"fmt"

	"detente"
	"detente/internal/translog"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
)

// ---- events ----

// AppendEvent implements detente.Tx. It holds the write head until commit,
// so that no other transaction, in this process or another, takes the same
// position.
func (t *Tx) AppendEvent(ctx context.Context, e *detente.Event) error {
	if t.readOnly {
		return errReadOnly
	}
	if err := t.lockHead(ctx); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	e.Seq = t.head.events
	leaf := detente.LogHash(translog.LeafHash(e))
	t.enqueue("append event", `INSERT INTO events (seq, time, type, partner, body, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.Seq, nanos(e.Time), e.Type, e.Partner, []byte(e.Body), leaf[:])
	t.addHash(detente.LogNode{Level: 0, Index: e.Seq}, leaf)
	t.appending = true
	err := translog.Append(ctx, translog.TxHashes(t), e.Seq, e)
	t.appending = false
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	t.head.events++
	t.dirty = true
	return nil
}

// Events implements detente.Tx.
func (t *Tx) Events(ctx context.Context, f detente.EventFilter) ([]*detente.Event, error) {
	var args []any
	q := `SELECT seq, time, type, partner, body FROM events WHERE seq >= ` + arg(&args, f.FromSeq)
	if f.BeforeSeq > 0 {
		q += ` AND seq < ` + arg(&args, f.BeforeSeq)
	}
	if f.Type != "" {
		q += ` AND type = ` + arg(&args, f.Type)
	}
	if f.Partner != "" {
		q += ` AND partner = ` + arg(&args, f.Partner)
	}
	if f.Newest {
		q += ` ORDER BY seq DESC`
	} else {
		q += ` ORDER BY seq`
	}
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(&args, f.Limit)
	}
	var out []*detente.Event
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		var (
			e    detente.Event
			tm   int64
			body []byte
		)
		if err := rows.Scan(&e.Seq, &tm, &e.Type, &e.Partner, &body); err != nil {
			return err
		}
		e.Time, e.Body = fromNanos(tm), body
		out = append(out, &e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// CountEvents implements detente.Tx.
func (t *Tx) CountEvents(ctx context.Context) (int64, error) {
	if t.head != nil {
		return t.head.events, nil
	}
	var n int64
	if _, err := t.one(ctx, `SELECT events FROM write_head`, nil, &n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// ---- meta ----

// Meta implements detente.Tx.
func (t *Tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	found, err := t.one(ctx, `SELECT value FROM meta WHERE key = $1`, []any{key}, &v)
	if err != nil {
		return "", fmt.Errorf("get setting: %w", err)
	}
	if !found {
		return "", notFound("setting %s not found", key)
	}
	return v, nil
}

// SetMeta implements detente.Tx.
func (t *Tx) SetMeta(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set setting: %w", err)
	}
	return nil
}

// ---- the log's tree, checkpoints, alerts ----

// LogHashes implements detente.Tx. It reads the hashes it has not cached in
// at most two queries.
func (t *Tx) LogHashes(ctx context.Context, nodes []detente.LogNode) ([]detente.LogHash, error) {
	var leaves, keys []int64
	for _, n := range nodes {
		if _, ok := t.hashes[n]; ok {
			continue
		}
		if h, ok := t.cachedHash(n); ok {
			t.addHash(n, h)
			continue
		}
		if n.Level == 0 {
			leaves = append(leaves, n.Index)
		} else {
			keys = append(keys, tlog.StoredHashIndex(n.Level, n.Index))
		}
	}
	read := func(query string, ids []int64, node func(int64) detente.LogNode) error {
		if len(ids) == 0 {
			return nil
		}
		return t.each(ctx, query, []any{ids}, func(rows pgx.Rows) error {
			var id int64
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				return err
			}
			if len(b) == len(detente.LogHash{}) {
				t.addHash(node(id), detente.LogHash(b))
			}
			return nil
		})
	}
	if err := errors.Join(
		read(`SELECT seq, leaf_hash FROM events WHERE seq = ANY($1)`, leaves,
			func(seq int64) detente.LogNode { return detente.LogNode{Level: 0, Index: seq} }),
		read(`SELECT key, hash FROM log_hashes WHERE key = ANY($1)`, keys,
			func(key int64) detente.LogNode {
				l, n := tlog.SplitStoredHashIndex(key)
				return detente.LogNode{Level: l, Index: n}
			}),
	); err != nil {
		return nil, fmt.Errorf("read log hashes: %w", err)
	}
	out := make([]detente.LogHash, len(nodes))
	for i, n := range nodes {
		h, ok := t.hashes[n]
		if !ok {
			return nil, notFound("log hash %d/%d is not stored", n.Level, n.Index)
		}
		out[i] = h
	}
	return out, nil
}

// PutLogHashes implements detente.Tx.
func (t *Tx) PutLogHashes(ctx context.Context, nodes []detente.LogNode, hashes []detente.LogHash) error {
	if t.readOnly {
		return errReadOnly
	}
	var (
		keys []int64
		hs   [][]byte
		news []detente.LogNode
	)
	for i, n := range nodes {
		h := hashes[i]
		if old, ok := t.hashes[n]; ok {
			if old != h {
				return detente.Errorf(detente.ECONFLICT, "log hash %d/%d is already stored with another value", n.Level, n.Index)
			}
			continue // stored, or written in this transaction (a leaf with its event)
		}
		if n.Level == 0 {
			tag, err := t.exec(ctx, `UPDATE events SET leaf_hash = $1 WHERE seq = $2 AND leaf_hash IS NULL`, h[:], n.Index)
			if err != nil {
				return fmt.Errorf("write log hash: %w", err)
			}
			if tag.RowsAffected() == 0 {
				if err := t.sameHash(ctx, n, h); err != nil {
					return err
				}
			}
			t.addHash(n, h)
			continue
		}
		keys, hs, news = append(keys, tlog.StoredHashIndex(n.Level, n.Index)), append(hs, h[:]), append(news, n)
	}
	if len(keys) == 0 {
		return nil
	}
	if t.appending {
		// AppendEvent, with the write head held: the interior hashes a new
		// leaf completes lie beyond the stored tree, so none can exist
		// (they are written in the transaction that adds the leaf). Queue
		// the insert with the others; a stored row would fail the commit
		// rather than be overwritten.
		t.enqueue("write log hashes", `INSERT INTO log_hashes (key, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])`, keys, hs)
		for i, n := range news {
			t.addHash(n, detente.LogHash(hs[i]))
		}
		return nil
	}
	written := map[int64]bool{}
	err := t.each(ctx, `INSERT INTO log_hashes (key, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])
		ON CONFLICT (key) DO NOTHING RETURNING key`, []any{keys, hs}, func(rows pgx.Rows) error {
		var k int64
		err := rows.Scan(&k)
		written[k] = true
		return err
	})
	if err != nil {
		return fmt.Errorf("write log hashes: %w", err)
	}
	for i, n := range news {
		h := detente.LogHash(hs[i])
		if !written[keys[i]] {
			if err := t.sameHash(ctx, n, h); err != nil {
				return err
			}
		}
		t.addHash(n, h)
	}
	return nil
}

// sameHash checks that the stored hash of n is h.
func (t *Tx) sameHash(ctx context.Context, n detente.LogNode, h detente.LogHash) error {
	got, err := t.LogHashes(ctx, []detente.LogNode{n})
	if err != nil {
		return err
	}
	if got[0] != h {
		return detente.Errorf(detente.ECONFLICT, "log hash %d/%d is already stored with another value", n.Level, n.Index)
	}
	return nil
}

// PutCheckpoint implements detente.Tx. The transaction then commits
// synchronously, even holding the write head (no early lock release): a
// checkpoint is visible to other processes only once it is durable, and
// with it every entry it covers.
func (t *Tx) PutCheckpoint(ctx context.Context, c *detente.Checkpoint) error {
	t.syncCommit = true
	tag, err := t.exec(ctx, `INSERT INTO checkpoints (size, note, time) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`,
		c.Size, c.Note, nanos(c.Time))
	if err != nil {
		return fmt.Errorf("put checkpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return detente.Errorf(detente.EEXISTS, "a checkpoint for size %d is already stored", c.Size)
	}
	return nil
}

func (t *Tx) checkpoints(ctx context.Context, query string, args ...any) ([]*detente.Checkpoint, error) {
	var out []*detente.Checkpoint
	err := t.each(ctx, query, args, func(rows pgx.Rows) error {
		var c detente.Checkpoint
		var tm int64
		if err := rows.Scan(&c.Size, &c.Note, &tm); err != nil {
			return err
		}
		c.Time = fromNanos(tm)
		out = append(out, &c)
		return nil
	})
	return out, err
}

// Checkpoint implements detente.Tx.
func (t *Tx) Checkpoint(ctx context.Context, size int64) (*detente.Checkpoint, error) {
	var cs []*detente.Checkpoint
	var err error
	if size < 0 {
		cs, err = t.checkpoints(ctx, `SELECT size, note, time FROM checkpoints ORDER BY size DESC LIMIT 1`)
	} else {
		cs, err = t.checkpoints(ctx, `SELECT size, note, time FROM checkpoints WHERE size = $1`, size)
	}
	if err != nil {
		return nil, fmt.Errorf("get checkpoint: %w", err)
	}
	if len(cs) == 0 {
		return nil, notFound("no checkpoint for size %d", size)
	}
	return cs[0], nil
}

// Checkpoints implements detente.Tx.
func (t *Tx) Checkpoints(ctx context.Context) ([]*detente.Checkpoint, error) {
	cs, err := t.checkpoints(ctx, `SELECT size, note, time FROM checkpoints ORDER BY size`)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	return cs, nil
}

// PutCosignature implements detente.Tx.
func (t *Tx) PutCosignature(ctx context.Context, size int64, witness string, line []byte) error {
	_, err := t.exec(ctx, `INSERT INTO cosignatures (size, witness, line) VALUES ($1, $2, $3)
		ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line`, size, witness, line)
	if err != nil {
		return fmt.Errorf("put cosignature: %w", err)
	}
	return nil
}

// Cosignatures implements detente.Tx.
func (t *Tx) Cosignatures(ctx context.Context, size int64) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := t.each(ctx, `SELECT witness, line FROM cosignatures WHERE size = $1 ORDER BY witness`, []any{size}, func(rows pgx.Rows) error {
		var w string
		var line []byte
		err := rows.Scan(&w, &line)
		out[w] = line
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list cosignatures: %w", err)
	}
	return out, nil
}

// PutAlert implements detente.Tx.
func (t *Tx) PutAlert(ctx context.Context, a *detente.Alert) error {
	if t.readOnly {
		return errReadOnly
	}
	var first int64
	if _, err := t.one(ctx, `INSERT INTO alerts (key, time, first, count, kind, partner, message, evidence)
		VALUES ($1, $2, $2, 1, $3, $4, $5, $6)
		ON CONFLICT (kind, key) WHERE key <> '' DO UPDATE SET time = excluded.time, partner = excluded.partner,
			message = excluded.message, evidence = excluded.evidence, count = alerts.count + 1
		RETURNING id, first, count`,
		[]any{a.Key, nanos(a.Time), a.Kind, a.Partner, a.Message, nonNil(a.Evidence)}, &a.ID, &first, &a.Count); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	a.First = fromNanos(first)
	return nil
}

const alertCols = `id, key, time, first, count, kind, partner, message, evidence`

// scanAlert reads one row of alertCols.
func scanAlert(rows pgx.Rows) (*detente.Alert, error) {
	var a detente.Alert
	var tm, first int64
	if err := rows.Scan(&a.ID, &a.Key, &tm, &first, &a.Count, &a.Kind, &a.Partner, &a.Message, &a.Evidence); err != nil {
		return nil, err
	}
	a.Time, a.First = fromNanos(tm), fromNanos(first)
	return &a, nil
}

// Alerts implements detente.Tx.
func (t *Tx) Alerts(ctx context.Context, limit int) ([]*detente.Alert, error) {
	q := `SELECT ` + alertCols + ` FROM alerts ORDER BY time DESC, id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ` + arg(&args, limit)
	}
	var out []*detente.Alert
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		a, err := scanAlert(rows)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// AlertGroups implements detente.Tx.
func (t *Tx) AlertGroups(ctx context.Context, perKind int) ([]detente.AlertGroup, error) {
	var out []detente.AlertGroup
	err := t.each(ctx, `SELECT kind, count(*), sum(count)::bigint, max(time) FROM alerts GROUP BY kind ORDER BY max(time) DESC, kind`, nil,
		func(rows pgx.Rows) error {
			var g detente.AlertGroup
			var last int64
			err := rows.Scan(&g.Kind, &g.Alerts, &g.Raised, &last)
			g.Last = fromNanos(last)
			out = append(out, g)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("group alerts: %w", err)
	}
	if perKind <= 0 || len(out) == 0 {
		return out, nil
	}
	kinds := make([]string, len(out))
	index := map[string]int{}
	for i, g := range out {
		kinds[i], index[g.Kind] = g.Kind, i
	}
	// The latest of every kind in one round trip.
	var args []any
	q := `SELECT ` + alertCols + ` FROM (SELECT *, row_number() OVER (PARTITION BY kind ORDER BY time DESC, id DESC) AS rn
		FROM alerts WHERE kind = ANY(` + arg(&args, kinds) + `)) AS ranked WHERE rn <= ` + arg(&args, perKind) + ` ORDER BY kind, time DESC, id DESC`
	err = t.each(ctx, q, args, func(rows pgx.Rows) error {
		a, err := scanAlert(rows)
		if err == nil {
			out[index[a.Kind]].Latest = append(out[index[a.Kind]].Latest, a)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("group alerts: %w", err)
	}
	return out, nil
}
