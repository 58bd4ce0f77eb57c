package screen

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the directory of the shared test data (DETENTE_SHARED or
// ../../../shared). It skips the test when the data is absent, and fails it
// when CI=true, so that CI always runs the tests on real data.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("DETENTE_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data %s is missing (CI=true): %v", p, err)
		}
		t.Skipf("shared test data %s is absent; set DETENTE_SHARED to run this test", p)
	}
	return p
}
