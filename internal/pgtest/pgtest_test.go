package pgtest_test

import (
	"context"
	"testing"

	"detente/internal/pgtest"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestURL checks that each URL names a new, empty database of its own, and
// that it is gone once its test has ended.
func TestURL(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("first", func(t *testing.T) {
		first = pgtest.URL(t)
		second := pgtest.URL(t)
		if first == second {
			t.Fatalf("two calls gave the same database %s", first)
		}
		for _, u := range []string{first, second} {
			c, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			var tables int
			if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("new database has %d tables", tables)
			}
		}
	})
	if first == "" {
		return // skipped
	}
	// The first database was dropped when its test ended.
	c, err := pgx.Connect(ctx, first)
	if err == nil {
		c.Close(ctx)
		t.Errorf("database of an ended test still exists")
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@db:5432/postgres?sslmode=disable", "postgres://u:p@db:5432/x?sslmode=disable"},
		{"postgresql://u@db", "postgresql://u@db/x"},
		{"postgres://postgres@/postgres?host=%2Ftmp%2Fs", "postgres://postgres@/x?host=%2Ftmp%2Fs"},
		{"postgres://u@db/?dbname=postgres", "postgres://u@db/x?dbname=x"},
		{"host=db user=u dbname=postgres", "host=db user=u dbname=postgres dbname=x"},
	} {
		got, err := pgtest.WithDatabase(c.in, "x")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
