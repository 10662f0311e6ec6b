package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqldb"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/store/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "seawall.db"))
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seawall.db")
	s := open(t, path)
	if err := s.CreateProject(ctx, &store.Project{Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	if _, err := s.ProjectByName(ctx, "kept"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	v, err := s.SchemaVersion(ctx)
	files, _ := filepath.Glob("migrations/*.sql")
	if err != nil || v != len(files) {
		t.Errorf("schema version %d, %v; want %d (one per migration)", v, err, len(files))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600: it holds password hashes", info.Mode().Perm())
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seawall.db")
	s := open(t, path)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', '2999-01-01T00:00:00.000000Z')`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(context.Background(), path, nil)
	if !errors.Is(err, sqldb.ErrNewerSchema) {
		t.Fatalf("opening a database from a newer seawall: %v, want ErrNewerSchema", err)
	}
	t.Log(err)
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seawall.db")
	if err := os.WriteFile(path, []byte("this is not a database, it is a text file that is long enough"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(context.Background(), path, nil); err == nil {
		t.Fatal("opened a text file as a database")
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return open(b, filepath.Join(b.TempDir(), "seawall.db"))
	})
}
