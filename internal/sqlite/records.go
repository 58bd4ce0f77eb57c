package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"detente"
)

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
	return t.onePartner(ctx, "name = ?", name, detente.PartnerNotFound(name))
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
	_, err := t.exec(ctx, `INSERT INTO consents (id, originator, object, doc, revoked, revoked_reason, received)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id, originator) DO UPDATE SET revoked = true, revoked_reason = excluded.revoked_reason
		WHERE excluded.revoked AND NOT consents.revoked`,
		c.ID, c.Originator.String(), detente.NormalID(c.Object), doc, c.Revoked, c.RevokedReason, nanos(c.Received))
	if err != nil {
		return fmt.Errorf("put consent: %w", err)
	}
	return nil
}

// Consents implements detente.Tx.
func (t *Tx) Consents(ctx context.Context, object string) ([]*detente.Consent, error) {
	q, args := `SELECT doc, revoked, revoked_reason, received FROM consents WHERE object = ? ORDER BY id, originator`, []any{detente.NormalID(object)}
	if object == "" {
		q, args = `SELECT doc, revoked, revoked_reason, received FROM consents ORDER BY id, originator`, nil
	}
	return t.consents(ctx, q, args...)
}

// Consent implements detente.Tx.
func (t *Tx) Consent(ctx context.Context, id string, originator detente.PublicKey) (*detente.Consent, error) {
	cs, err := t.consents(ctx, `SELECT doc, revoked, revoked_reason, received FROM consents WHERE id = ? AND originator = ?`, id, originator.String())
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
