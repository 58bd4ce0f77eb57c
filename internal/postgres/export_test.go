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
