package postgres

import "context"

// MigrateTo applies the migrations up to version n only, for upgrade tests.
func (s *Store) MigrateTo(ctx context.Context, n int) error { return s.migrateTo(ctx, n) }

// Waiting returns how many Update calls wait for a group.
func (s *Store) Waiting() int {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	return len(s.groups.queue)
}

// Barriers returns how many commit barriers the store has passed.
func (s *Store) Barriers(ctx context.Context) (n int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT coalesce((SELECT n FROM commit_barrier WHERE process = $1), 0)`, s.process).Scan(&n)
	return n, err
}

// SetEarlyRelease turns early lock release on or off, for benchmarks that
// compare.
func (s *Store) SetEarlyRelease(on bool) { s.noEarlyRelease = !on }
