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

// ---- objects ----

const objectCols = `seq, id, type, modified, created, spec_version, originator, signer, signature,
	markings, granular, refs, grading, received, quarantine, raw, added, origin`

func scanObject(rows interface{ Scan(...any) error }) (*detente.ObjectVersion, error) {
	var (
		o                              detente.ObjectVersion
		modified, created, recv, added int64
		markings, granular, refs       string
		grading                        string
		origin, signer                 []byte
	)
	err := rows.Scan(&o.Seq, &o.ID, &o.Type, &modified, &created, &o.SpecVersion, &o.Originator,
		&signer, &o.Signature, &markings, &granular, &refs, &grading, &recv, &o.Quarantine, &o.Raw, &added, &origin)
	if err != nil {
		return nil, err
	}
	o.Modified, o.Created, o.Received, o.Added = fromNanos(modified), fromNanos(created), fromNanos(recv), fromNanos(added)
	if len(origin) > 0 {
		o.Origin = origin
	}
	if len(signer) > 0 { // NULL for an unsigned version (a feed's)
		o.Signer = signer
	}
	if err := errors.Join(
		unmarshalList(markings, &o.Markings),
		unmarshalList(granular, &o.Granular),
		unmarshalList(refs, &o.Refs),
		o.Grading.UnmarshalText([]byte(grading)),
	); err != nil {
		return nil, fmt.Errorf("decode object %s: %w", o.ID, err)
	}
	return &o, nil
}

// unmarshalList decodes a JSON array column; most are empty, and skipping
// the decoder for them matters when a partner pages through a large store.
func unmarshalList[T any](s string, v *[]T) error {
	if s == "[]" || s == "" {
		*v = nil
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func collectObjects(rows *sql.Rows) ([]*detente.ObjectVersion, error) {
	defer rows.Close()
	var out []*detente.ObjectVersion
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// PutObject implements detente.Tx.
func (t *Tx) PutObject(ctx context.Context, o *detente.ObjectVersion) (bool, error) {
	o.NormalizeIDs()
	if t.lastAdded < 0 {
		if err := t.queryRow(ctx, `SELECT coalesce(max(added), 0) FROM objects`).Scan(&t.lastAdded); err != nil {
			return false, fmt.Errorf("insert object %s: %w", o.ID, translate(err))
		}
	}
	own, err := t.ownership(ctx, o)
	if err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	added := max(time.Now().UnixMicro()*1000, t.lastAdded+1000) // µs, unique, increasing
	res, err := t.exec(ctx, `INSERT INTO objects (id, type, modified, created, spec_version, originator,
		signer, signature, markings, granular, refs, grading, received, quarantine, raw, added, origin)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ID, o.Type, nanos(o.Modified), nanos(o.Created), o.SpecVersion, o.Originator,
		[]byte(o.Signer), o.Signature, mustJSON(nonNil(o.Markings)), mustJSON(nonNil(o.Granular)),
		mustJSON(nonNil(o.Refs)), o.Grading.String(), nanos(o.Received), o.Quarantine, o.Raw, added, originColumn(o))
	if err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	} else if n == 0 { // the version is already stored: same content, or a conflict
		rows, err := t.query(ctx, `SELECT `+objectCols+` FROM objects WHERE id = ? AND modified = ? AND coalesce(signer, x'') = ?`,
			o.ID, nanos(o.Modified), append([]byte{}, o.Signer...))
		if err != nil {
			return false, fmt.Errorf("insert object %s: %w", o.ID, err)
		}
		same, err := collectObjects(rows)
		if err != nil || len(same) == 0 {
			return false, fmt.Errorf("insert object %s: the stored version is gone: %v", o.ID, err)
		}
		existing := same[0]
		if string(existing.Raw) != string(o.Raw) {
			return false, detente.ConflictError(o)
		}
		o.Seq, o.Added, o.Quarantine = existing.Seq, existing.Added, existing.Quarantine
		return false, nil
	}
	if o.Seq, err = res.LastInsertId(); err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	o.Added, t.lastAdded = fromNanos(added), added
	switch {
	case own.first && o.ClaimsID():
		_, err = t.exec(ctx, `INSERT INTO owners (id, owner) VALUES (?, ?)`, o.ID, append([]byte{}, o.OriginKey()...))
	case own.first:
		// Quarantined as foreign before it came: it claims nothing.
	case own.supersede:
		// The owner's own signed version: relayed copies of the id are no
		// longer current.
		_, err = t.exec(ctx, `UPDATE objects SET quarantine = ? WHERE id = ? AND quarantine = '' AND signer IS NOT ?`,
			detente.QuarantineSuperseded+": "+detente.SupersededDetail, o.ID, []byte(o.Signer))
	}
	if err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	return true, nil
}

// ownership is what id ownership says of a version about to be stored.
type ownership struct {
	first     bool // no version of the id is stored: its origin becomes the owner
	supersede bool // signed by its owner: relayed copies of the id are superseded
}

// ownership applies id ownership to o before it is stored (see
// detente.Tx.PutObject), quarantining o when the rules say so.
func (t *Tx) ownership(ctx context.Context, o *detente.ObjectVersion) (ownership, error) {
	var owner []byte
	err := t.queryRow(ctx, `SELECT owner FROM owners WHERE id = ?`, o.ID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return ownership{first: true}, nil
	}
	if err != nil {
		return ownership{}, translate(err)
	}
	var held detente.Held
	err = t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM objects WHERE id = ? AND modified <> ?),
		EXISTS (SELECT 1 FROM objects WHERE id = ? AND signer = ?),
		EXISTS (SELECT 1 FROM objects WHERE id = ? AND created <> 0 AND coalesce(origin, signer, x'') = ?)`,
		o.ID, nanos(o.Modified), o.ID, owner, o.ID, owner).Scan(&held.Others, &held.OwnerSigned, &held.OwnerDated)
	if err != nil {
		return ownership{}, translate(err)
	}
	return ownership{supersede: detente.ApplyOwnership(o, owner, held)}, nil
}

// originColumn is the origin column of o: NULL when it is the signer.
func originColumn(o *detente.ObjectVersion) []byte {
	if !o.Relayed() {
		return nil
	}
	return o.Origin
}

// Owner implements detente.Tx.
func (t *Tx) Owner(ctx context.Context, id string) (detente.PublicKey, error) {
	var owner []byte
	err := t.queryRow(ctx, `SELECT owner FROM owners WHERE id = ?`, detente.NormalID(id)).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("object %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get owner: %w", translate(err))
	}
	return detente.PublicKey(owner), nil
}

// PutObjects implements detente.Tx: SQLite runs in process, so a loop of
// PutObject costs no round trips.
func (t *Tx) PutObjects(ctx context.Context, vs []*detente.ObjectVersion) ([]detente.PutResult, error) {
	out := make([]detente.PutResult, len(vs))
	for i, v := range vs {
		added, err := t.PutObject(ctx, v)
		if detente.ErrorCode(err) == detente.ECONFLICT {
			out[i].Err = err
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i].Added = added
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Object implements detente.Tx.
func (t *Tx) Object(ctx context.Context, id string) (*detente.ObjectVersion, error) {
	id = detente.NormalID(id)
	rows, err := t.query(ctx, `SELECT `+objectCols+` FROM objects
		WHERE id = ? AND quarantine = ''
		ORDER BY coalesce(origin, signer, x'') = coalesce((SELECT owner FROM owners WHERE id = ?), x'') DESC, modified DESC, seq DESC
		LIMIT 1`, id, id)
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err)
	}
	objs, err := collectObjects(rows)
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err)
	}
	if len(objs) == 0 {
		return nil, notFound("object %s not found", id)
	}
	return objs[0], nil
}

// ObjectFrom implements detente.Tx.
func (t *Tx) ObjectFrom(ctx context.Context, id string, origin detente.PublicKey) (*detente.ObjectVersion, error) {
	rows, err := t.query(ctx, `SELECT `+objectCols+` FROM objects
		WHERE id = ? AND quarantine = '' AND coalesce(origin, signer, x'') = ?
		ORDER BY modified DESC, seq DESC LIMIT 1`, detente.NormalID(id), append([]byte{}, origin...))
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err)
	}
	objs, err := collectObjects(rows)
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err)
	}
	if len(objs) == 0 {
		return nil, notFound("object %s of %s not found", id, origin)
	}
	return objs[0], nil
}

// ObjectVersion implements detente.Tx.
func (t *Tx) ObjectVersion(ctx context.Context, id string, modified time.Time) (*detente.ObjectVersion, error) {
	id = detente.NormalID(id)
	rows, err := t.query(ctx, `SELECT `+objectCols+` FROM objects WHERE id = ? AND modified = ?
		ORDER BY quarantine = '' DESC, coalesce(origin, signer, x'') = coalesce((SELECT owner FROM owners WHERE id = ?), x'') DESC, seq
		LIMIT 1`, id, nanos(modified), id)
	if err != nil {
		return nil, fmt.Errorf("get object version: %w", err)
	}
	objs, err := collectObjects(rows)
	if err != nil {
		return nil, fmt.Errorf("get object version: %w", err)
	}
	if len(objs) == 0 {
		return nil, notFound("object %s version %s not found", id, modified.UTC().Format(time.RFC3339Nano))
	}
	return objs[0], nil
}

// ObjectVersions implements detente.Tx.
func (t *Tx) ObjectVersions(ctx context.Context, id string) ([]*detente.ObjectVersion, error) {
	rows, err := t.query(ctx, `SELECT `+objectCols+` FROM objects WHERE id = ? ORDER BY modified, seq`, detente.NormalID(id))
	if err != nil {
		return nil, fmt.Errorf("list object versions: %w", err)
	}
	return collectObjects(rows)
}

// Objects implements detente.Tx.
func (t *Tx) Objects(ctx context.Context, f detente.ObjectFilter) ([]*detente.ObjectVersion, error) {
	var (
		where []string
		args  []any
	)
	if len(f.IDs) > 0 {
		where = append(where, "id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, detente.NormalID(id))
		}
	}
	if len(f.Types) > 0 {
		where = append(where, "type IN ("+placeholders(len(f.Types))+")")
		for _, ty := range f.Types {
			args = append(args, ty)
		}
	}
	if f.Originator != "" {
		where = append(where, "originator = ?")
		args = append(args, f.Originator)
	}
	if !f.WithQuarantined {
		where = append(where, "quarantine = ''")
	}
	if f.MultiVersion {
		other := "SELECT 1 FROM objects AS other WHERE other.id = objects.id AND other.seq <> objects.seq"
		if !f.WithQuarantined {
			other += " AND other.quarantine = ''"
		}
		where = append(where, "EXISTS ("+other+")")
	}
	afterSeq := f.AfterSeq
	if !f.AddedAfter.IsZero() {
		// Added increases strictly with Seq, so "added after t" is "seq
		// from the first version added after t": a bound the primary key
		// serves in order, where filtering on added would sort every
		// later row.
		var first int64
		err := t.queryRow(ctx, `SELECT seq FROM objects WHERE added > ? ORDER BY added LIMIT 1`, nanos(f.AddedAfter)).Scan(&first)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list objects: %w", translate(err))
		}
		afterSeq = max(afterSeq, first-1)
	}
	inner := "SELECT " + objectCols + " FROM objects"
	if len(where) > 0 {
		inner += " WHERE " + strings.Join(where, " AND ")
	}
	q := inner
	if f.LatestOnly {
		q = `SELECT ` + objectCols + ` FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY modified DESC) AS rn
			FROM (` + inner + `)) WHERE rn = 1`
	}
	q = "SELECT " + objectCols + " FROM (" + q + ") WHERE seq > ?"
	args = append(args, afterSeq)
	if f.BeforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, f.BeforeSeq)
	}
	if f.Newest {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := t.tx.QueryContext(ctx, q, args...) // shape varies: not cached
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", translate(err))
	}
	return collectObjects(rows)
}

// Referrers implements detente.Tx.
func (t *Tx) Referrers(ctx context.Context, id string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.query(ctx, `SELECT o.id FROM object_refs r JOIN objects o ON o.seq = r.seq WHERE r.ref = ?
		GROUP BY o.id ORDER BY min(r.seq) LIMIT ?`, detente.NormalID(id), limit)
	if err != nil {
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("list referrers: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CountObjects implements detente.Tx.
func (t *Tx) CountObjects(ctx context.Context) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM objects`).Scan(&n)
	return n, translate(err)
}

// ReassignOwner implements detente.Tx.
func (t *Tx) ReassignOwner(ctx context.Context, from, to detente.PublicKey) (int64, error) {
	res, err := t.exec(ctx, `UPDATE owners SET owner = ? WHERE owner = ?`, append([]byte{}, to...), append([]byte{}, from...))
	if err != nil {
		return 0, fmt.Errorf("reassign owner: %w", err)
	}
	return res.RowsAffected()
}
