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
	"detente/internal/translog"

	"golang.org/x/mod/sumdb/tlog"
)

// Tx is a detente.Tx on one SQLite transaction.
type Tx struct {
	tx       *sql.Tx
	readOnly bool
	stmts    map[string]*sql.Stmt // prepared once per transaction
	// nextSeq is the log position of the next event, -1 until first read;
	// the write lock held by the transaction keeps it exact.
	nextSeq int64
	// lastAdded is the largest Added so far (Unix ns), -1 until first read.
	lastAdded int64
	// hashes caches the log hashes read and written in this transaction.
	hashes map[detente.LogNode]detente.LogHash
}

var _ detente.Tx = (*Tx)(nil)

func (t *Tx) close() {
	for _, s := range t.stmts {
		s.Close()
	}
}

// stmt returns the prepared statement for query, preparing it on first use.
func (t *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	t.stmts[query] = s
	return s, nil
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, detente.Errorf(detente.EINTERNAL, "write in a read-only transaction")
	}
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return nil, translate(err)
	}
	return res, nil
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return nil, translate(err)
	}
	return rows, nil
}

func notFound(what string, args ...any) error {
	return detente.Errorf(detente.ENOTFOUND, what, args...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlite: marshal %T: %v", v, err)) // only plain domain data is marshalled
	}
	return string(b)
}

// ---- objects ----

const objectCols = `seq, id, type, modified, created, spec_version, originator, signer, signature,
	markings, granular, refs, grading, received, quarantine, raw, added, origin`

func scanObject(rows interface{ Scan(...any) error }) (*detente.ObjectVersion, error) {
	var (
		o                              detente.ObjectVersion
		modified, created, recv, added int64
		markings, granular, refs       string
		grading                        string
		origin                         []byte
	)
	err := rows.Scan(&o.Seq, &o.ID, &o.Type, &modified, &created, &o.SpecVersion, &o.Originator,
		&o.Signer, &o.Signature, &markings, &granular, &refs, &grading, &recv, &o.Quarantine, &o.Raw, &added, &origin)
	if err != nil {
		return nil, err
	}
	o.Modified, o.Created, o.Received, o.Added = fromNanos(modified), fromNanos(created), fromNanos(recv), fromNanos(added)
	if len(origin) > 0 {
		o.Origin = origin
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
	case own.first:
		_, err = t.exec(ctx, `INSERT INTO owners (id, owner) VALUES (?, ?)`, o.ID, append([]byte{}, o.OriginKey()...))
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
	var others, ownerSigned bool
	err = t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM objects WHERE id = ? AND modified <> ?),
		EXISTS (SELECT 1 FROM objects WHERE id = ? AND signer = ?)`, o.ID, nanos(o.Modified), o.ID, owner).Scan(&others, &ownerSigned)
	if err != nil {
		return ownership{}, translate(err)
	}
	return ownership{supersede: detente.ApplyOwnership(o, owner, others, ownerSigned)}, nil
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
	q = "SELECT " + objectCols + " FROM (" + q + ") WHERE seq > ? ORDER BY seq"
	args = append(args, afterSeq)
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

// CountObjects implements detente.Tx.
func (t *Tx) CountObjects(ctx context.Context) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM objects`).Scan(&n)
	return n, translate(err)
}

// ---- partners ----

const partnerCols = `name, key, url, state, state_reason, created, updated`

func scanPartner(r interface{ Scan(...any) error }) (*detente.Partner, error) {
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
	_, err := t.exec(ctx, `INSERT INTO partners (`+partnerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
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
	rows, err := t.query(ctx, `SELECT `+partnerCols+` FROM partners WHERE `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("get partner: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("get partner: %w", err)
		}
		return nil, missing
	}
	return scanPartner(rows)
}

// Partner implements detente.Tx.
func (t *Tx) Partner(ctx context.Context, name string) (*detente.Partner, error) {
	return t.onePartner(ctx, "name = ?", name, notFound("partner %s not found", name))
}

// PartnerByKey implements detente.Tx.
func (t *Tx) PartnerByKey(ctx context.Context, k detente.PublicKey) (*detente.Partner, error) {
	return t.onePartner(ctx, "key = ?", []byte(k), notFound("no partner has key %s", k))
}

// Partners implements detente.Tx.
func (t *Tx) Partners(ctx context.Context) ([]*detente.Partner, error) {
	rows, err := t.query(ctx, `SELECT `+partnerCols+` FROM partners ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	defer rows.Close()
	var out []*detente.Partner
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			return nil, fmt.Errorf("list partners: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
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
	var latest int
	if err := t.tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM agreements WHERE id = ?`, a.ID).Scan(&latest); err != nil {
		return fmt.Errorf("put agreement: %w", translate(err))
	}
	if a.Version != latest+1 {
		return detente.Errorf(detente.ECONFLICT, "agreement %s: version %d is not the next version (latest is %d)", a.ID, a.Version, latest)
	}
	if _, err := t.exec(ctx, `INSERT INTO agreements (id, version, doc) VALUES (?, ?, ?)`, a.ID, a.Version, mustJSON(a)); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM agreement_partners WHERE id = ?`, a.ID); err != nil {
		return fmt.Errorf("put agreement: %w", err)
	}
	for _, p := range a.Partners {
		if _, err := t.exec(ctx, `INSERT INTO agreement_partners (id, partner) VALUES (?, ?)`, a.ID, p); err != nil {
			return fmt.Errorf("put agreement: %w", err)
		}
	}
	return nil
}

func collectAgreements(rows *sql.Rows) ([]*detente.Agreement, error) {
	defer rows.Close()
	var out []*detente.Agreement
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var a detente.Agreement
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return nil, fmt.Errorf("decode agreement: %w", err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// Agreement implements detente.Tx.
func (t *Tx) Agreement(ctx context.Context, id string) (*detente.Agreement, error) {
	rows, err := t.query(ctx, `SELECT doc FROM agreements WHERE id = ? ORDER BY version DESC LIMIT 1`, id)
	if err != nil {
		return nil, fmt.Errorf("get agreement: %w", err)
	}
	as, err := collectAgreements(rows)
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
		q += ` AND a.id IN (SELECT id FROM agreement_partners WHERE partner = ?)`
		args = append(args, partner)
	}
	rows, err := t.query(ctx, q+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list agreements: %w", err)
	}
	return collectAgreements(rows)
}

// AgreementVersions implements detente.Tx.
func (t *Tx) AgreementVersions(ctx context.Context, id string) ([]*detente.Agreement, error) {
	rows, err := t.query(ctx, `SELECT doc FROM agreements WHERE id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("list agreement versions: %w", err)
	}
	return collectAgreements(rows)
}

// ---- consents ----

// PutConsent implements detente.Tx.
func (t *Tx) PutConsent(ctx context.Context, c *detente.Consent) error {
	doc := mustJSON(c)
	_, err := t.exec(ctx, `INSERT INTO consents (id, object, doc, revoked, revoked_reason, received)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET revoked = true, revoked_reason = excluded.revoked_reason
		WHERE excluded.revoked AND NOT consents.revoked`,
		c.ID, detente.NormalID(c.Object), doc, c.Revoked, c.RevokedReason, nanos(c.Received))
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return nil
}

// Consents implements detente.Tx.
func (t *Tx) Consents(ctx context.Context, object string) ([]*detente.Consent, error) {
	q, args := `SELECT doc, revoked, revoked_reason, received FROM consents WHERE object = ? ORDER BY id`, []any{detente.NormalID(object)}
	if object == "" {
		q, args = `SELECT doc, revoked, revoked_reason, received FROM consents ORDER BY id`, nil
	}
	return t.consents(ctx, q, args...)
}

// Consent implements detente.Tx.
func (t *Tx) Consent(ctx context.Context, id string) (*detente.Consent, error) {
	cs, err := t.consents(ctx, `SELECT doc, revoked, revoked_reason, received FROM consents WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, notFound("consent %s not found", id)
	}
	return cs[0], nil
}

func (t *Tx) consents(ctx context.Context, q string, args ...any) ([]*detente.Consent, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	var out []*detente.Consent
	for rows.Next() {
		var (
			doc  string
			c    detente.Consent
			recv int64
		)
		if err := rows.Scan(&doc, &c.Revoked, &c.RevokedReason, &recv); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		revoked, reason := c.Revoked, c.RevokedReason
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return nil, fmt.Errorf("decode consent: %w", err)
		}
		c.Revoked, c.RevokedReason, c.Received = revoked, reason, fromNanos(recv)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// ---- releases ----

// PutRelease implements detente.Tx.
func (t *Tx) PutRelease(ctx context.Context, r *detente.Release) error {
	res, err := t.exec(ctx, `INSERT INTO releases (object, modified, partner, allowed, reasons, time)
		VALUES (?, ?, ?, ?, ?, ?)`, detente.NormalID(r.Object), nanos(r.Modified), r.Partner, r.Allowed, mustJSON(nonNil(r.Reasons)), nanos(r.Time))
	if err != nil {
		return fmt.Errorf("put release: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// releaseBatch is how many releases one INSERT statement carries.
const releaseBatch = 200

// PutReleases implements detente.Tx with multi-row INSERTs: recording a
// page of 1,000 releases one statement at a time was a third of the time
// of serving it.
func (t *Tx) PutReleases(ctx context.Context, rs []*detente.Release) error {
	reasons := map[string]string{} // pages share a few reason lists: encode each once
	for len(rs) > 0 {
		n := min(len(rs), releaseBatch)
		chunk := rs[:n]
		rs = rs[n:]
		args := make([]any, 0, 6*n)
		for _, r := range chunk {
			key := fmt.Sprint(r.Reasons)
			js, ok := reasons[key]
			if !ok {
				js = mustJSON(nonNil(r.Reasons))
				reasons[key] = js
			}
			args = append(args, detente.NormalID(r.Object), nanos(r.Modified), r.Partner, r.Allowed, js, nanos(r.Time))
		}
		q := `INSERT INTO releases (object, modified, partner, allowed, reasons, time) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("put releases: %w", err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("put releases: %w", err)
		}
		for i, r := range chunk { // rowids of one INSERT are consecutive
			r.ID = last - int64(n-1-i)
		}
	}
	return nil
}

// Releases implements detente.Tx.
func (t *Tx) Releases(ctx context.Context, f detente.ReleaseFilter) ([]*detente.Release, error) {
	q := `SELECT id, object, modified, partner, allowed, reasons, time FROM releases WHERE 1=1`
	var args []any
	if f.Object != "" {
		q += ` AND object = ?`
		args = append(args, detente.NormalID(f.Object))
	}
	if f.Partner != "" {
		q += ` AND partner = ?`
		args = append(args, f.Partner)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []*detente.Release
	for rows.Next() {
		var (
			r            detente.Release
			modified, tm int64
			reasons      string
		)
		if err := rows.Scan(&r.ID, &r.Object, &modified, &r.Partner, &r.Allowed, &reasons, &tm); err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		r.Modified, r.Time = fromNanos(modified), fromNanos(tm)
		if err := json.Unmarshal([]byte(reasons), &r.Reasons); err != nil {
			return nil, fmt.Errorf("decode release: %w", err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ---- tokens ----

const tokenCols = `id, hash, role, label, created, revoked`

func scanToken(r interface{ Scan(...any) error }) (*detente.Token, error) {
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
	_, err := t.exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET revoked = excluded.revoked, label = excluded.label`,
		tk.ID, tk.Hash, string(tk.Role), tk.Label, nanos(tk.Created), tk.Revoked)
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// TokenByHash implements detente.Tx.
func (t *Tx) TokenByHash(ctx context.Context, hash []byte) (*detente.Token, error) {
	rows, err := t.query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash)
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("get token: %w", err)
		}
		return nil, notFound("token not found")
	}
	return scanToken(rows)
}

// Tokens implements detente.Tx.
func (t *Tx) Tokens(ctx context.Context) ([]*detente.Token, error) {
	rows, err := t.query(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*detente.Token
	for rows.Next() {
		tk, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, tk)
	}
	return out, rows.Err()
}

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
	res, err := t.exec(ctx, `INSERT INTO alerts (time, kind, partner, message, evidence) VALUES (?, ?, ?, ?, ?)`,
		nanos(a.Time), a.Kind, a.Partner, a.Message, nonNil(a.Evidence))
	if err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// Alerts implements detente.Tx.
func (t *Tx) Alerts(ctx context.Context, limit int) ([]*detente.Alert, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.query(ctx, `SELECT id, time, kind, partner, message, evidence FROM alerts ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []*detente.Alert
	for rows.Next() {
		var a detente.Alert
		var tm int64
		if err := rows.Scan(&a.ID, &tm, &a.Kind, &a.Partner, &a.Message, &a.Evidence); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		a.Time = fromNanos(tm)
		out = append(out, &a)
	}
	return out, rows.Err()
}

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
