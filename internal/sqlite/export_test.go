package sqlite

import (
	"context"
	"database/sql"
)

// CreateAt creates the database at path with the migrations up to version
// n only, for upgrade tests.
func CreateAt(ctx context.Context, path string, n int) error {
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return err
	}
	defer w.Close()
	s := &Store{w: w}
	return s.migrateTo(ctx, n)
}
