package imagetest

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the path of the shared real-data folder
// (../shared/data beside the repository) or skips the test when it is
// absent, as it is on a fresh clone.
func SharedData(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SEAWALL_SHARED_DATA"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "data")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared real-data folder %s not present; skipping the large real-data check", p)
	}
	return p
}

// CICache returns the directory where .ci/run caches real test inputs
// (a debootstrapped Debian root filesystem), or skips when it is absent.
func CICache(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("SEAWALL_CI_CACHE")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip("no home directory for the CI cache")
		}
		dir = filepath.Join(home, ".cache", "seawall-ci")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present: run .ci/run (as root, on Debian) to build it", p)
	}
	return p
}
