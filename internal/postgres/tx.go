package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/translog"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
)

// Tx is a detente.Tx on one PostgreSQL transaction. Update may run the
// functions of several concurrent calls in one Tx, one after the other,
// each after a savepoint (group.go).
type Tx struct {
	conn     *pgx.Conn
	store    *Store
	readOnly bool
	// shared is set when the transaction runs the functions of several
	// Update calls (dbctx).
	shared bool
	// owner is the index, in its group, of the Update call whose function
	// is running.
	owner int

	// began is set once BEGIN is sent or queued to be sent.
	began bool
	// queue holds the statements not sent yet (pipe.go); sends counts the
	// round trips made.
	queue []stmt
	sends int
	// broken is the first error of a statement the database ran, and
	// brokenBy the call it belongs to; every later statement fails with it
	// until Update rolls that call's work back.
	broken   error
	brokenBy int
	// brokenByServer is set when broken is an error the server reported for
	// a statement (so the transaction is aborted and nothing committed), not
	// a failure of the connection.
	brokenByServer bool

	// locked is set once the transaction holds the write head's table lock.
	locked bool
	// head is the write head as this transaction moves it, nil until read
	// under the lock; dirty when it must be written back before commit.
	head  *writeHead
	dirty bool
	// wantHead is set when fn needed the write head, so a retry takes the
	// lock first.
	wantHead bool
	// retry is set when the database aborted the transaction with a
	// serialisation failure or a deadlock: running fn again may succeed.
	retry bool
	// syncCommit is set when the transaction must commit synchronously
	// even if it holds the write head (it stores a checkpoint).
	syncCommit bool
	// appending is set while AppendEvent writes the tree hashes of its leaf.
	appending bool

	// hashes caches the log hashes read and written in this transaction;
	// hashLog lists its keys in the order they were added, so that a
	// rollback to a savepoint can remove the later ones.
	hashes  map[detente.LogNode]detente.LogHash
	hashLog []detente.LogNode
}

// writeHead is the write_head row.
type writeHead struct {
	events  int64 // the log's size
	objects int64 // the last object seq
	added   int64 // the last object added time, Unix ns
}

var _ detente.Tx = (*Tx)(nil)

func newTx(s *Store, conn *pgx.Conn, readOnly bool) *Tx {
	return &Tx{store: s, conn: conn, readOnly: readOnly, hashes: map[detente.LogNode]detente.LogHash{}}
}

// fail records whether err aborted the transaction in a way a retry can
// cure, and translates it.
func (t *Tx) fail(err error) error {
	if retryable(err) {
		t.retry = true
	}
	return translate(err)
}

// addHash caches h as the hash of n in this transaction.
func (t *Tx) addHash(n detente.LogNode, h detente.LogHash) {
	if _, ok := t.hashes[n]; !ok {
		t.hashLog = append(t.hashLog, n)
	}
	t.hashes[n] = h
}

// cachedHash returns the hash of n if the store has it cached. Only a
// transaction holding the write head asks: its snapshot holds every
// committed append, so no cached hash is newer than what it sees.
func (t *Tx) cachedHash(n detente.LogNode) (detente.LogHash, bool) {
	if !t.locked || t.head == nil || t.readOnly {
		return detente.LogHash{}, false
	}
	return t.store.hashes.get(n)
}

var errReadOnly = detente.Errorf(detente.EINTERNAL, "write in a read-only transaction")

func notFound(what string, args ...any) error {
	return detente.Errorf(detente.ENOTFOUND, what, args...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("postgres: marshal %T: %v", v, err)) // only plain domain data is marshalled
	}
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- the write head ----

// lockHead locks the write head until the transaction ends and reads it,
// in one round trip: LOCK TABLE … IN EXCLUSIVE MODE (which conflicts with
// itself and with row locks, not with plain reads: Views and backups go on)
// and SELECT … FOR UPDATE. As the first statements of a transaction they
// come before its snapshot, which is then current for the lock holder.
// When the snapshot is older than the last change of the head (it was taken
// before the lock was granted), SELECT … FOR UPDATE fails with a
// serialisation failure and Update runs fn again, the lock first.
func (t *Tx) lockHead(ctx context.Context) error {
	t.wantHead = true
	if t.head != nil {
		return nil
	}
	if !t.locked {
		t.enqueue("lock write head", `LOCK TABLE write_head IN EXCLUSIVE MODE`)
		t.locked = true
	}
	var h writeHead
	if _, err := t.one(ctx, `SELECT events, objects, added FROM write_head FOR UPDATE`, nil, &h.events, &h.objects, &h.added); err != nil {
		return fmt.Errorf("read write head: %w", err)
	}
	t.head = &h
	return nil
}

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
		owner               []byte
		others, ownerSigned bool
	)
	if _, err := t.one(ctx, `SELECT w.owner,
			EXISTS (SELECT 1 FROM objects WHERE id = $1 AND modified <> $2),
			EXISTS (SELECT 1 FROM objects WHERE id = $1 AND signer = w.owner)
		FROM (SELECT (SELECT owner FROM owners WHERE id = $1) AS owner) w`,
		[]any{o.ID, nanos(o.Modified)}, &owner, &others, &ownerSigned); err != nil {
		return false, fmt.Errorf("insert object %s: %w", o.ID, err)
	}
	supersede := owner != nil && detente.ApplyOwnership(o, owner, others, ownerSigned)
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
	case owner == nil:
		t.enqueue("record owner", `INSERT INTO owners (id, owner) VALUES ($1, $2)`, o.ID, ownerColumn(o))
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
				quarantine      *string
				signer          []byte
			)
			if err := rows.Scan(&id, &owner, &mod, &seq, &added, &signedByOwner, &quarantine, &signer, &raw); err != nil {
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
			st.owner = ownerColumn(v)
			ownerIDs, owners = append(ownerIDs, v.ID), append(owners, st.owner)
		} else {
			others := len(st.modified) > 1 || (len(st.modified) == 1 && !st.modified[k.modified])
			supersede = detente.ApplyOwnership(v, st.owner, others, st.ownerSigned)
		}
		seq++
		last = max(time.Now().UnixMicro()*1000, last+1000) // µs, unique, increasing
		col := len(cols.seq)
		st.versions[k] = &stored{seq: seq, added: last, raw: v.Raw, col: col}
		st.modified[k.modified] = true
		if v.Signer.Equal(st.owner) {
			st.ownerSigned = true
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
	if f.LatestOnly {
		q = "SELECT " + objectCols + " FROM (" + q + ") AS latest WHERE rn = 1 AND seq > " + after
	} else if len(where) > 0 {
		q += " AND seq > " + after
	} else {
		q += " WHERE seq > " + after
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT " + arg(&args, f.Limit)
	}
	objs, err := t.objects(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return objs, nil
}

// CountObjects implements detente.Tx.
func (t *Tx) CountObjects(ctx context.Context) (int64, error) {
	var n int64
	if _, err := t.one(ctx, `SELECT count(*) FROM objects`, nil, &n); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	return n, nil
}

// ---- partners ----

const partnerCols = `name, key, url, state, state_reason, created, updated`

func scanPartner(r pgx.Row) (*detente.Partner, error) {
	var (
		p                detente.Partner
		key              []byte
		created, updated int64
		state            string
	)
	if err := r.Scan(&p.Name, &key, &p.URL, &state, &p.StateReason, &created, &updated); err != nil {
		return nil, err
	}
	p.Key, p.State = detente.PublicKey(key), detente.PartnerState(state)
	p.Created, p.Updated = fromNanos(created), fromNanos(updated)
	return &p, nil
}

// PutPartner implements detente.Tx.
func (t *Tx) PutPartner(ctx context.Context, p *detente.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if t.readOnly {
		return errReadOnly
	}
	// Checked first so that the conflict leaves the transaction usable, as
	// on SQLite; a concurrent insert is still caught by the unique index.
	var other string
	if found, err := t.one(ctx, `SELECT name FROM partners WHERE key = $1 AND name <> $2`, []any{[]byte(p.Key), p.Name}, &other); err != nil {
		return fmt.Errorf("put partner: %w", err)
	} else if found {
		return detente.Errorf(detente.ECONFLICT, "partner %s: another partner already has this key", p.Name)
	}
	_, err := t.exec(ctx, `INSERT INTO partners (`+partnerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO UPDATE SET key = excluded.key, url = excluded.url, state = excluded.state,
		state_reason = excluded.state_reason, updated = excluded.updated`,
		p.Name, []byte(p.Key), p.URL, string(p.State), p.StateReason, nanos(p.Created), nanos(p.Updated))
	if detente.ErrorCode(err) == detente.ECONFLICT {
		return detente.Errorf(detente.ECONFLICT, "partner %s: another partner already has this key", p.Name)
	}
	if err != nil {
		return fmt.Errorf("put partner: %w", err)
	}
	return nil
}

func (t *Tx) onePartner(ctx context.Context, where string, arg any, missing error) (*detente.Partner, error) {
	var out *detente.Partner
	err := t.each(ctx, `SELECT `+partnerCols+` FROM partners WHERE `+where, []any{arg}, func(rows pgx.Rows) error {
		p, err := scanPartner(rows)
		out = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get partner: %w", err)
	}
	if out == nil {
		return nil, missing
	}
	return out, nil
}

// Partner implements detente.Tx.
func (t *Tx) Partner(ctx context.Context, name string) (*detente.Partner, error) {
	return t.onePartner(ctx, "name = $1", name, notFound("partner %s not found", name))
}

// PartnerByKey implements detente.Tx.
func (t *Tx) PartnerByKey(ctx context.Context, k detente.PublicKey) (*detente.Partner, error) {
	return t.onePartner(ctx, "key = $1", []byte(k), notFound("no partner has key %s", k))
}

// Partners implements detente.Tx.
func (t *Tx) Partners(ctx context.Context) ([]*detente.Partner, error) {
	var out []*detente.Partner
	err := t.each(ctx, `SELECT `+partnerCols+` FROM partners ORDER BY name`, nil, func(rows pgx.Rows) error {
		p, err := scanPartner(rows)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	return out, nil
}

// ---- agreements ----

// PutAgreement implements detente.Tx.
func (t *Tx) PutAgreement(ctx context.Context, a *detente.Agreement) error {
	if a.ID == "" {
		return detente.Errorf(detente.EINVALID, "agreement has no id")
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if t.readOnly {
		return errReadOnly
	}
	var latest int
	if _, err := t.one(ctx, `SELECT coalesce(max(version), 0) FROM agreements WHERE id = $1`, []any{a.ID}, &latest); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	if a.Version != latest+1 {
		return detente.Errorf(detente.ECONFLICT, "agreement %s: version %d is not the next version (latest is %d)", a.ID, a.Version, latest)
	}
	if _, err := t.exec(ctx, `INSERT INTO agreements (id, version, doc) VALUES ($1, $2, $3)`, a.ID, a.Version, mustJSON(a)); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM agreement_partners WHERE id = $1`, a.ID); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO agreement_partners (id, partner) SELECT $1, unnest($2::text[])`, a.ID, a.Partners); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	return nil
}

func (t *Tx) agreements(ctx context.Context, query string, args ...any) ([]*detente.Agreement, error) {
	var out []*detente.Agreement
	err := t.each(ctx, query, args, func(rows pgx.Rows) error {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var a detente.Agreement
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return fmt.Errorf("decode agreement: %w", err)
		}
		out = append(out, &a)
		return nil
	})
	return out, err
}

// Agreement implements detente.Tx.
func (t *Tx) Agreement(ctx context.Context, id string) (*detente.Agreement, error) {
	as, err := t.agreements(ctx, `SELECT doc FROM agreements WHERE id = $1 ORDER BY version DESC LIMIT 1`, id)
	if err != nil {
		return nil, fmt.Errorf("get agreement: %w", err)
	}
	if len(as) == 0 {
		return nil, notFound("agreement %s not found", id)
	}
	return as[0], nil
}

// Agreements implements detente.Tx.
func (t *Tx) Agreements(ctx context.Context, partner string) ([]*detente.Agreement, error) {
	q := `SELECT a.doc FROM agreements a
		WHERE a.version = (SELECT max(version) FROM agreements b WHERE b.id = a.id)`
	var args []any
	if partner != "" {
		q += ` AND a.id IN (SELECT id FROM agreement_partners WHERE partner = $1)`
		args = append(args, partner)
	}
	as, err := t.agreements(ctx, q+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	return as, nil
}

// AgreementVersions implements detente.Tx.
func (t *Tx) AgreementVersions(ctx context.Context, id string) ([]*detente.Agreement, error) {
	as, err := t.agreements(ctx, `SELECT doc FROM agreements WHERE id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("list agreement versions: %w", err)
	}
	return as, nil
}

// ---- consents ----

// PutConsent implements detente.Tx.
func (t *Tx) PutConsent(ctx context.Context, c *detente.Consent) error {
	_, err := t.exec(ctx, `INSERT INTO consents (id, object, doc, revoked, revoked_reason, received)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET revoked = true, revoked_reason = excluded.revoked_reason
		WHERE excluded.revoked AND NOT consents.revoked`,
		c.ID, detente.NormalID(c.Object), mustJSON(c), c.Revoked, c.RevokedReason, nanos(c.Received))
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return nil
}

// Consents implements detente.Tx.
func (t *Tx) Consents(ctx context.Context, object string) ([]*detente.Consent, error) {
	q, args := `SELECT doc, revoked, revoked_reason, received FROM consents WHERE object = $1 ORDER BY id`, []any{detente.NormalID(object)}
	if object == "" {
		q, args = `SELECT doc, revoked, revoked_reason, received FROM consents ORDER BY id`, nil
	}
	return t.consents(ctx, q, args...)
}

// Consent implements detente.Tx.
func (t *Tx) Consent(ctx context.Context, id string) (*detente.Consent, error) {
	cs, err := t.consents(ctx, `SELECT doc, revoked, revoked_reason, received FROM consents WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, notFound("consent %s not found", id)
	}
	return cs[0], nil
}

func (t *Tx) consents(ctx context.Context, q string, args ...any) ([]*detente.Consent, error) {
	var out []*detente.Consent
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		var (
			doc     string
			c       detente.Consent
			revoked bool
			reason  string
			recv    int64
		)
		if err := rows.Scan(&doc, &revoked, &reason, &recv); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return fmt.Errorf("decode consent: %w", err)
		}
		c.Revoked, c.RevokedReason, c.Received = revoked, reason, fromNanos(recv)
		out = append(out, &c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	return out, nil
}

// ---- releases ----

// PutRelease implements detente.Tx.
func (t *Tx) PutRelease(ctx context.Context, r *detente.Release) error {
	if t.readOnly {
		return errReadOnly
	}
	if _, err := t.one(ctx, `INSERT INTO releases (object, modified, partner, allowed, reasons, time)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		[]any{detente.NormalID(r.Object), nanos(r.Modified), r.Partner, r.Allowed, mustJSON(nonNil(r.Reasons)), nanos(r.Time)}, &r.ID); err != nil {
		return fmt.Errorf("put release: %w", err)
	}
	return nil
}

// PutReleases implements detente.Tx, in one statement: a page served to a
// partner is recorded in one round trip.
func (t *Tx) PutReleases(ctx context.Context, rs []*detente.Release) error {
	if t.readOnly {
		return errReadOnly
	}
	if len(rs) <= 1 {
		for _, r := range rs {
			if err := t.PutRelease(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		objects, partners, reasons []string
		modified, times            []int64
		allowed                    []bool
	)
	for _, r := range rs {
		objects, partners, reasons = append(objects, detente.NormalID(r.Object)), append(partners, r.Partner), append(reasons, mustJSON(nonNil(r.Reasons)))
		modified, times, allowed = append(modified, nanos(r.Modified)), append(times, nanos(r.Time)), append(allowed, r.Allowed)
	}
	// Identities are assigned in the order the rows are inserted, which
	// ORDER BY fixes: the smallest id is the first release's.
	var ids []int64
	err := t.each(ctx, `INSERT INTO releases (object, modified, partner, allowed, reasons, time)
		SELECT o, m, p, a, r, t FROM unnest($1::text[], $2::bigint[], $3::text[], $4::boolean[], $5::text[], $6::bigint[])
			WITH ORDINALITY AS u(o, m, p, a, r, t, n)
		ORDER BY n RETURNING id`, []any{objects, modified, partners, allowed, reasons, times}, func(rows pgx.Rows) error {
		var id int64
		err := rows.Scan(&id)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("put releases: %w", err)
	}
	if len(ids) != len(rs) {
		return fmt.Errorf("put releases: %d of %d stored", len(ids), len(rs))
	}
	slices.Sort(ids)
	for i, r := range rs {
		r.ID = ids[i]
	}
	return nil
}

// Releases implements detente.Tx.
func (t *Tx) Releases(ctx context.Context, f detente.ReleaseFilter) ([]*detente.Release, error) {
	q := `SELECT id, object, modified, partner, allowed, reasons, time FROM releases WHERE true`
	var args []any
	if f.Object != "" {
		q += ` AND object = ` + arg(&args, detente.NormalID(f.Object))
	}
	if f.Partner != "" {
		q += ` AND partner = ` + arg(&args, f.Partner)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(&args, f.Limit)
	}
	var out []*detente.Release
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		var (
			r            detente.Release
			modified, tm int64
			reasons      string
		)
		if err := rows.Scan(&r.ID, &r.Object, &modified, &r.Partner, &r.Allowed, &reasons, &tm); err != nil {
			return err
		}
		r.Modified, r.Time = fromNanos(modified), fromNanos(tm)
		if err := json.Unmarshal([]byte(reasons), &r.Reasons); err != nil {
			return fmt.Errorf("decode release: %w", err)
		}
		out = append(out, &r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	return out, nil
}

// ---- tokens ----

const tokenCols = `id, hash, role, label, created, revoked`

func scanToken(r pgx.Row) (*detente.Token, error) {
	var (
		tk      detente.Token
		role    string
		created int64
	)
	if err := r.Scan(&tk.ID, &tk.Hash, &role, &tk.Label, &created, &tk.Revoked); err != nil {
		return nil, err
	}
	tk.Role, tk.Created = detente.Role(role), fromNanos(created)
	return &tk, nil
}

// PutToken implements detente.Tx.
func (t *Tx) PutToken(ctx context.Context, tk *detente.Token) error {
	if t.readOnly {
		return errReadOnly
	}
	// Checked first so that the conflict leaves the transaction usable.
	var other string
	if found, err := t.one(ctx, `SELECT id FROM tokens WHERE hash = $1 AND id <> $2`, []any{tk.Hash, tk.ID}, &other); err != nil {
		return fmt.Errorf("put token: %w", err)
	} else if found {
		return detente.Errorf(detente.ECONFLICT, "already stored")
	}
	_, err := t.exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET revoked = excluded.revoked, label = excluded.label`,
		tk.ID, tk.Hash, string(tk.Role), tk.Label, nanos(tk.Created), tk.Revoked)
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash implements detente.Tx.
func (t *Tx) TokenByHash(ctx context.Context, hash []byte) (*detente.Token, error) {
	var out *detente.Token
	err := t.each(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, []any{hash}, func(rows pgx.Rows) error {
		tk, err := scanToken(rows)
		out = tk
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	if out == nil {
		return nil, notFound("token not found")
	}
	return out, nil
}

// Tokens implements detente.Tx.
func (t *Tx) Tokens(ctx context.Context) ([]*detente.Token, error) {
	var out []*detente.Token
	err := t.each(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created, id`, nil, func(rows pgx.Rows) error {
		tk, err := scanToken(rows)
		out = append(out, tk)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

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
	if _, err := t.one(ctx, `INSERT INTO alerts (time, kind, partner, message, evidence) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		[]any{nanos(a.Time), a.Kind, a.Partner, a.Message, nonNil(a.Evidence)}, &a.ID); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	return nil
}

// Alerts implements detente.Tx.
func (t *Tx) Alerts(ctx context.Context, limit int) ([]*detente.Alert, error) {
	q := `SELECT id, time, kind, partner, message, evidence FROM alerts ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ` + arg(&args, limit)
	}
	var out []*detente.Alert
	err := t.each(ctx, q, args, func(rows pgx.Rows) error {
		var a detente.Alert
		var tm int64
		if err := rows.Scan(&a.ID, &tm, &a.Kind, &a.Partner, &a.Message, &a.Evidence); err != nil {
			return err
		}
		a.Time = fromNanos(tm)
		out = append(out, &a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

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
