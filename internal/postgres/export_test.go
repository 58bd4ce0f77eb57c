package postgres

import "context"

// MigrateTo applies the migrations up to version n only, for upgrade tests.
func (s *Store) MigrateTo(ctx context.Context, n int) error { return s.migrateTo(ctx, n) }
