package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"detente"

	"github.com/jackc/pgx/v5"
)

// ---- objects ----

const objectCols = `seq, id, type, modified, created, spec_version, originator, signer, signature,
	markings, granular, refs, grading, received, quarantine, raw, added, origin`

func scanObject(rows pgx.Rows) (*detente.ObjectVersion, error) {
	var (
		o                              detente.ObjectVersion
		modified, created, recv, added int64
		signer, origin                 []byte
		markings, granular, refs       string
		grading                        string
	)
	err := rows.Scan(&o.Seq, &o.ID, &o.Type, &modified, &created, &o.SpecVersion, &o.Originator,
		&signer, &o.Signature, &markings, &granular, &refs, &grading, &recv, &o.Quarantine, &o.Raw, &added, &origin)
	if err != nil {
		return nil, err
	}
	o.Signer, o.Origin = detente.PublicKey(signer), detente.PublicKey(origin)
	o.Modified, o.Created, o.Received, o.Added = fromNanos(modified), fromNanos(created), fromNanos(recv), fromNanos(added)
	if err := errors.Join(
		json.Unmarshal([]byte(markings), &o.Markings),
		json.Unmarshal([]byte(granular), &o.Granular),
		json.Unmarshal([]byte(refs), &o.Refs),
		o.Grading.UnmarshalText([]byte(grading)),
	); err != nil {
		return nil, fmt.Errorf("decode object %s: %w", o.ID, err)
	}
	return &o, nil
}

func (t *Tx) objects(ctx context.Context, query string, args ...any) ([]*detente.ObjectVersion, error) {
	var out []*detente.ObjectVersion
	err := t.each(ctx, query, args, func(rows pgx.Rows) error {
		o, err := scanObject(rows)
		if err == nil {
			out = append(out, o)
		}
		return err
	})
	return out, err
}

// PutObject implements detente.Tx. It holds the write head until commit,
// so Seq and Added become visible in the order they are assigned. The
// insert waits for its outcome (whether the version was new), and carries
// the statements queued before it.
func (t *Tx) PutObject(ctx context.Context, o *detente.ObjectVersion) (bool, error) {
	if t.readOnly {
		return false, errReadOnly
	}
	o.NormalizeIDs()
	if err := t.lockHead(ctx); err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	// Ownership, under the write head: no other transaction stores a
	// version of the id meanwhile.
	var (
		owner []byte
		held  detente.Held
	)
	if _, err := t.one(ctx, `SELECT w.owner,
			EXISTS (SELECT 1 FROM objects WHERE id = $1 AND modified <> $2),
			EXISTS (SELECT 1 FROM objects WHERE id = $1 AND signer = w.owner),
			EXISTS (SELECT 1 FROM objects WHERE id = $1 AND created <> 0 AND coalesce(origin, signer, '\x'::bytea) = coalesce(w.owner, '\x'::bytea))
		FROM (SELECT (SELECT owner FROM owners WHERE id = $1) AS owner) w`,
		[]any{o.ID, nanos(o.Modified)}, &owner, &held.Others, &held.OwnerSigned, &held.OwnerDated); err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	supersede := owner != nil && detente.ApplyOwnership(o, owner, held)
	seq := t.head.objects + 1
	added := max(time.Now().UnixMicro()*1000, t.head.added+1000) // µs, unique, increasing
	tag, err := t.exec(ctx, `INSERT INTO objects (`+objectCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT DO NOTHING`,
		seq, o.ID, o.Type, nanos(o.Modified), nanos(o.Created), o.SpecVersion, o.Originator,
		[]byte(o.Signer), o.Signature, mustJSON(nonNil(o.Markings)), mustJSON(nonNil(o.Granular)),
		mustJSON(nonNil(o.Refs)), o.Grading.String(), nanos(o.Received), o.Quarantine, o.Raw, added, originColumn(o))
	if err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	if tag.RowsAffected() == 0 { // the version is already stored: same content, or a conflict
		same, err := t.objects(ctx, `SELECT `+objectCols+` FROM objects WHERE id = $1 AND modified = $2 AND coalesce(signer, '\x'::bytea) = $3`,
			o.ID, nanos(o.Modified), append([]byte{}, o.Signer...))
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
	t.head.objects, t.head.added, t.dirty = seq, added, true
	o.Seq, o.Added = seq, fromNanos(added)
	switch {
	case owner == nil && o.ClaimsID():
		t.enqueue("record owner", `INSERT INTO owners (id, owner) VALUES ($1, $2)`, o.ID, ownerColumn(o))
	case owner == nil:
		// Quarantined as foreign before it came: it claims nothing.
	case supersede:
		t.enqueue("supersede relayed copies", `UPDATE objects SET quarantine = $1 WHERE id = $2 AND quarantine = '' AND signer IS DISTINCT FROM $3`,
			detente.QuarantineSuperseded+": "+detente.SupersededDetail, o.ID, []byte(o.Signer))
	}
	return true, nil
}

// normalIDs returns ids in detente.NormalID form.
func normalIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = detente.NormalID(id)
	}
	return out
}

// ownerColumn is the owner column of the id of o when o is its first
// version: its origin, empty (not NULL) when unsigned.
func ownerColumn(o *detente.ObjectVersion) []byte {
	return append([]byte{}, o.OriginKey()...)
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
	found, err := t.one(ctx, `SELECT owner FROM owners WHERE id = $1`, []any{detente.NormalID(id)}, &owner)
	if err != nil {
		return nil, fmt.Errorf("get owner: %w", err)
	}
	if !found {
		return nil, notFound("object %s not found", id)
	}
	return detente.PublicKey(owner), nil
}

// PutObjects implements detente.Tx in one round trip: with the write head
// held (so no other transaction stores objects meanwhile), it reads the
// owners and stored versions of the ids of vs, decides each version in
// order as PutObject would (an earlier version of vs counts as stored),
// and queues the INSERTs of the new ones from arrays, sent with the next
// statement or COMMIT.
func (t *Tx) PutObjects(ctx context.Context, vs []*detente.ObjectVersion) ([]detente.PutResult, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	out := make([]detente.PutResult, len(vs))
	if len(vs) == 0 {
		return out, nil
	}
	if err := t.lockHead(ctx); err != nil {
		return nil, fmt.Errorf("insert objects: %w", err)
	}
	type stored struct {
		seq, added int64
		raw        []byte // only for the versions vs names
		quarantine string
		col        int // index in the insert columns, -1 when stored before
	}
	// version is a version's key within one id: modified and signer.
	type version struct {
		modified int64
		signer   string
	}
	// idState is what the batch knows of one id: its owner, and each
	// version stored before or in the batch.
	type idState struct {
		owner       []byte
		versions    map[version]*stored
		modified    map[int64]bool // the Modified times of the versions
		ownerSigned bool
		ownerDated  bool  // a version the owner originated has a created time
		relayed     []int // column indexes of relayed copies inserted by the batch
	}
	for _, v := range vs {
		v.NormalizeIDs()
	}
	ids, mods := make([]string, len(vs)), make([]int64, len(vs))
	for i, v := range vs {
		ids[i], mods[i] = v.ID, nanos(v.Modified)
	}
	state := map[string]*idState{}
	err := t.each(ctx, `SELECT k.id, w.owner, o.modified, o.seq, o.added, o.signer IS NOT DISTINCT FROM w.owner, o.quarantine, o.signer,
			o.created <> 0 AND coalesce(o.origin, o.signer, '\x'::bytea) = coalesce(w.owner, '\x'::bytea),
			CASE WHEN (o.id, o.modified) IN (SELECT * FROM unnest($1::text[], $2::bigint[])) THEN o.raw END
		FROM (SELECT DISTINCT unnest($1::text[]) AS id) k
		LEFT JOIN owners w ON w.id = k.id
		LEFT JOIN objects o ON o.id = k.id`,
		[]any{ids, mods}, func(rows pgx.Rows) error {
			var (
				id              string
				owner, raw      []byte
				mod, seq, added *int64
				signedByOwner   *bool
				datedByOwner    *bool
				quarantine      *string
				signer          []byte
			)
			if err := rows.Scan(&id, &owner, &mod, &seq, &added, &signedByOwner, &quarantine, &signer, &datedByOwner, &raw); err != nil {
				return err
			}
			st := state[id]
			if st == nil {
				st = &idState{owner: owner, versions: map[version]*stored{}, modified: map[int64]bool{}}
				state[id] = st
			}
			if mod != nil {
				st.versions[version{*mod, string(signer)}] = &stored{seq: *seq, added: *added, raw: raw, quarantine: *quarantine, col: -1}
				st.modified[*mod] = true
				st.ownerSigned = st.ownerSigned || (signedByOwner != nil && *signedByOwner)
				st.ownerDated = st.ownerDated || (datedByOwner != nil && *datedByOwner)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("insert objects: %w", err)
	}
	var (
		cols = struct {
			seq, modified, created, received, added             []int64
			id, typ, spec, originator, markings, granular, refs []string
			grading, quarantine                                 []string
			signer, signature, raw, origin                      [][]byte
		}{}
		owners     [][]byte
		ownerIDs   []string
		superseded []string // ids whose stored relayed copies are superseded
		seq, last  = t.head.objects, t.head.added
	)
	for i, v := range vs {
		st := state[v.ID]
		k := version{nanos(v.Modified), string(v.Signer)}
		if s, ok := st.versions[k]; ok {
			if string(s.raw) != string(v.Raw) {
				out[i].Err = detente.ConflictError(v)
				continue
			}
			v.Seq, v.Added, v.Quarantine = s.seq, fromNanos(s.added), s.quarantine
			if s.col >= 0 {
				v.Quarantine = cols.quarantine[s.col]
			}
			continue
		}
		supersede := false
		if st.owner == nil {
			if v.ClaimsID() {
				st.owner = ownerColumn(v)
				ownerIDs, owners = append(ownerIDs, v.ID), append(owners, st.owner)
			}
		} else {
			others := len(st.modified) > 1 || (len(st.modified) == 1 && !st.modified[k.modified])
			supersede = detente.ApplyOwnership(v, st.owner, detente.Held{Others: others, OwnerSigned: st.ownerSigned, OwnerDated: st.ownerDated})
		}
		seq++
		last = max(time.Now().UnixMicro()*1000, last+1000) // µs, unique, increasing
		col := len(cols.seq)
		st.versions[k] = &stored{seq: seq, added: last, raw: v.Raw, col: col}
		st.modified[k.modified] = true
		if v.Signer.Equal(st.owner) {
			st.ownerSigned = true
		}
		if v.OriginKey().Equal(st.owner) && !v.Created.IsZero() {
			st.ownerDated = true
		}
		if supersede {
			// Relayed copies this batch inserted are superseded in the
			// columns; those stored before by an UPDATE.
			for _, j := range st.relayed {
				if cols.quarantine[j] == "" {
					cols.quarantine[j] = detente.QuarantineSuperseded + ": " + detente.SupersededDetail
				}
			}
			superseded = append(superseded, v.ID)
		} else if v.Relayed() && v.Quarantine == "" {
			st.relayed = append(st.relayed, col)
		}
		v.Seq, v.Added = seq, fromNanos(last)
		out[i].Added = true
		c := &cols
		c.seq, c.modified, c.created = append(c.seq, seq), append(c.modified, k.modified), append(c.created, nanos(v.Created))
		c.received, c.added = append(c.received, nanos(v.Received)), append(c.added, last)
		c.id, c.typ, c.spec, c.originator = append(c.id, v.ID), append(c.typ, v.Type), append(c.spec, v.SpecVersion), append(c.originator, v.Originator)
		c.markings = append(c.markings, mustJSON(nonNil(v.Markings)))
		c.granular = append(c.granular, mustJSON(nonNil(v.Granular)))
		c.refs = append(c.refs, mustJSON(nonNil(v.Refs)))
		c.grading, c.quarantine = append(c.grading, v.Grading.String()), append(c.quarantine, v.Quarantine)
		c.signer, c.signature, c.raw = append(c.signer, []byte(v.Signer)), append(c.signature, v.Signature), append(c.raw, v.Raw)
		c.origin = append(c.origin, originColumn(v))
	}
	if len(cols.seq) == 0 {
		return out, nil
	}
	c := &cols
	if len(superseded) > 0 {
		// Before the INSERT: only versions stored earlier are updated.
		t.enqueue("supersede relayed copies", `UPDATE objects o SET quarantine = $1 FROM owners w
			WHERE o.id = ANY($2::text[]) AND w.id = o.id AND o.quarantine = '' AND o.signer IS DISTINCT FROM w.owner`,
			detente.QuarantineSuperseded+": "+detente.SupersededDetail, superseded)
	}
	t.enqueue("insert objects", `INSERT INTO objects (`+objectCols+`)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
			$8::bytea[], $9::bytea[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::bytea[], $17::bigint[], $18::bytea[])`,
		c.seq, c.id, c.typ, c.modified, c.created, c.spec, c.originator, c.signer, c.signature,
		c.markings, c.granular, c.refs, c.grading, c.received, c.quarantine, c.raw, c.added, c.origin)
	if len(ownerIDs) > 0 {
		t.enqueue("record owners", `INSERT INTO owners (id, owner) SELECT * FROM unnest($1::text[], $2::bytea[])`, ownerIDs, owners)
	}
	t.head.objects, t.head.added, t.dirty = seq, last, true
	return out, nil
}

// Object implements detente.Tx.
func (t *Tx) Object(ctx context.Context, id string) (*detente.ObjectVersion, error) {
	id = detente.NormalID(id)
	objs, err := t.objects(ctx, `SELECT `+objectCols+` FROM objects
		WHERE id = $1 AND quarantine = ''
		ORDER BY coalesce(origin, signer, '\x'::bytea) = coalesce((SELECT owner FROM owners WHERE id = $1), '\x'::bytea) DESC, modified DESC, seq DESC
		LIMIT 1`, id)
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
	objs, err := t.objects(ctx, `SELECT `+objectCols+` FROM objects
		WHERE id = $1 AND quarantine = '' AND coalesce(origin, signer, '\x'::bytea) = $2
		ORDER BY modified DESC, seq DESC LIMIT 1`, detente.NormalID(id), append([]byte{}, origin...))
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
	objs, err := t.objects(ctx, `SELECT `+objectCols+` FROM objects WHERE id = $1 AND modified = $2
		ORDER BY quarantine = '' DESC, coalesce(origin, signer, '\x'::bytea) = coalesce((SELECT owner FROM owners WHERE id = $1), '\x'::bytea) DESC, seq
		LIMIT 1`, id, nanos(modified))
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
	objs, err := t.objects(ctx, `SELECT `+objectCols+` FROM objects WHERE id = $1 ORDER BY modified, seq`, detente.NormalID(id))
	if err != nil {
		return nil, fmt.Errorf("list object versions: %w", err)
	}
	return objs, nil
}

// Objects implements detente.Tx.
func (t *Tx) Objects(ctx context.Context, f detente.ObjectFilter) ([]*detente.ObjectVersion, error) {
	var (
		where []string
		args  []any
	)
	if len(f.IDs) > 0 {
		where = append(where, "id = ANY("+arg(&args, normalIDs(f.IDs))+")")
	}
	if len(f.Types) > 0 {
		where = append(where, "type = ANY("+arg(&args, f.Types)+")")
	}
	if f.Originator != "" {
		where = append(where, "originator = "+arg(&args, f.Originator))
	}
	if !f.WithQuarantined {
		where = append(where, "quarantine = ''")
	}
	if f.MultiVersion {
		// A scalar subquery, run for each row through the id index:
		// PostgreSQL turns an EXISTS into a semi-join, which for a range
		// of seq it may plan as a hash of the whole table. Two versions
		// are enough to know.
		other := "SELECT 1 FROM objects AS other WHERE other.id = objects.id"
		if !f.WithQuarantined {
			other += " AND other.quarantine = ''"
		}
		where = append(where, "(SELECT count(*) FROM ("+other+" LIMIT 2) AS two) > 1")
	}
	floor := "" // the first seq added after f.AddedAfter, less one
	if !f.AddedAfter.IsZero() {
		if f.LatestOnly {
			where = append(where, "added > "+arg(&args, nanos(f.AddedAfter)))
		} else {
			// Added increases strictly with Seq, so "added after t" is "seq
			// from the first version added after t": a bound the primary
			// key serves in order (as on SQLite), where filtering on added
			// would walk the key from the start of the table.
			floor = "coalesce((SELECT seq - 1 FROM objects WHERE added > " + arg(&args, nanos(f.AddedAfter)) +
				" ORDER BY added LIMIT 1), 9223372036854775807)"
		}
	}
	q := "SELECT " + objectCols + " FROM objects"
	if f.LatestOnly {
		q = "SELECT " + objectCols + ", row_number() OVER (PARTITION BY id ORDER BY modified DESC) AS rn FROM objects"
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	after := arg(&args, f.AfterSeq)
	if floor != "" {
		after = "GREATEST(" + after + ", " + floor + ")"
	}
	bound := "seq > " + after
	if f.BeforeSeq > 0 {
		bound += " AND seq < " + arg(&args, f.BeforeSeq)
	}
	if f.LatestOnly {
		q = "SELECT " + objectCols + " FROM (" + q + ") AS latest WHERE rn = 1 AND " + bound
	} else if len(where) > 0 {
		q += " AND " + bound
	} else {
		q += " WHERE " + bound
	}
	if f.Newest {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	if f.Limit > 0 {
		q += " LIMIT " + arg(&args, f.Limit)
	}
	objs, err := t.objects(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return objs, nil
}

// Referrers implements detente.Tx.
func (t *Tx) Referrers(ctx context.Context, id string, limit int) ([]string, error) {
	var args []any
	want, _ := json.Marshal([]map[string]string{{"id": detente.NormalID(id)}})
	q := `SELECT id FROM objects WHERE refs::jsonb @> ` + arg(&args, string(want)) + `::jsonb GROUP BY id ORDER BY min(seq)`
	if limit > 0 {
		q += ` LIMIT ` + arg(&args, limit)
	}
	var out []string
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		var s string
		err := rows.Scan(&s)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	return out, nil
}

// CountObjects implements detente.Tx.
func (t *Tx) CountObjects(ctx context.Context) (int64, error) {
	var n int64
	if _, err := t.one(ctx, `SELECT count(*) FROM objects`, nil, &n); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	return n, nil
}

// ReassignOwner implements detente.Tx. It holds the write head, so no
// version is being stored under the old owner meanwhile.
func (t *Tx) ReassignOwner(ctx context.Context, from, to detente.PublicKey) (int64, error) {
	if t.readOnly {
		return 0, errReadOnly
	}
	if err := t.lockHead(ctx); err != nil {
		return 0, fmt.Errorf("reassign owner: %w", err)
	}
	tag, err := t.exec(ctx, `UPDATE owners SET owner = $1 WHERE owner = $2`, append([]byte{}, to...), append([]byte{}, from...))
	if err != nil {
		return 0, fmt.Errorf("reassign owner: %w", err)
	}
	return tag.RowsAffected(), nil
}
