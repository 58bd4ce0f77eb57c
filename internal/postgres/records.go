package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"detente"

	"github.com/jackc/pgx/v5"
)

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
	return t.onePartner(ctx, "name = $1", name, detente.PartnerNotFound(name))
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
	_, err := t.exec(ctx, `INSERT INTO consents (id, originator, object, doc, revoked, revoked_reason, received)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id, originator) DO UPDATE SET revoked = true, revoked_reason = excluded.revoked_reason
		WHERE excluded.revoked AND NOT consents.revoked`,
		c.ID, c.Originator.String(), detente.NormalID(c.Object), mustJSON(c), c.Revoked, c.RevokedReason, nanos(c.Received))
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return nil
}

// Consents implements detente.Tx.
func (t *Tx) Consents(ctx context.Context, object string) ([]*detente.Consent, error) {
	q, args := `SELECT doc, revoked, revoked_reason, received FROM consents WHERE object = $1 ORDER BY id, originator`, []any{detente.NormalID(object)}
	if object == "" {
		q, args = `SELECT doc, revoked, revoked_reason, received FROM consents ORDER BY id, originator`, nil
	}
	return t.consents(ctx, q, args...)
}

// Consent implements detente.Tx.
func (t *Tx) Consent(ctx context.Context, id string, originator detente.PublicKey) (*detente.Consent, error) {
	cs, err := t.consents(ctx, `SELECT doc, revoked, revoked_reason, received FROM consents WHERE id = $1 AND originator = $2`, id, originator.String())
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
