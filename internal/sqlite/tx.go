package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"detente"
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
