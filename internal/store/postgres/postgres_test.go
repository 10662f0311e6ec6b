package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/postgres"
	"github.com/seawall-dev/seawall/internal/store/sqldb"
	"github.com/seawall-dev/seawall/internal/store/storetest"
)

const defaultDSN = "postgres://seawall:seawall@127.0.0.1:5432/seawall_test?sslmode=disable"

var server struct {
	once sync.Once
	dsn  string
	db   *sql.DB // creates and drops the tests' schemas
	err  error
}

// admin connects once per test binary. An unreachable server skips the
// test, unless SEAWALL_TEST_POSTGRES names it: then it was meant to be
// there (CI starts it), and the test fails.
func admin(t testing.TB) (*sql.DB, string) {
	t.Helper()
	server.once.Do(func() {
		server.dsn = os.Getenv("SEAWALL_TEST_POSTGRES")
		if server.dsn == "" {
			server.dsn = defaultDSN
		}
		server.db, server.err = sql.Open("pgx", server.dsn)
		if server.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			server.err = server.db.PingContext(ctx)
		}
	})
	if server.err != nil {
		if os.Getenv("SEAWALL_TEST_POSTGRES") != "" {
			t.Fatalf("PostgreSQL named by SEAWALL_TEST_POSTGRES is unreachable: %v", server.err)
		}
		t.Skipf("no PostgreSQL at %s (start one, or set SEAWALL_TEST_POSTGRES; .ci/run does both): %v", redact(defaultDSN), server.err)
	}
	return server.db, server.dsn
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the DSN"
	}
	return u.Redacted()
}

// schema creates an empty schema for one test, dropped when it ends, and
// returns a DSN whose connections use it.
func schema(t testing.TB) string {
	t.Helper()
	db, dsn := admin(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("SEAWALL_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, schema(t)) })
}

// TestMigrateOnce starts replicas at once on an empty database: each
// opens, and the migrations run once.
func TestMigrateOnce(t *testing.T) {
	dsn := schema(t)
	const replicas = 8
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	s := open(t, dsn)
	db, _ := admin(t)
	u, _ := url.Parse(dsn)
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + u.Query().Get("search_path") + `.schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(context.Background()); err != nil || rows != v {
		t.Errorf("schema_migrations has %d rows for version %d (%v): a migration ran twice", rows, v, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := schema(t)
	open(t, dsn).Close()
	db, _ := admin(t)
	u, _ := url.Parse(dsn)
	_, err := db.Exec(`INSERT INTO ` + u.Query().Get("search_path") + `.schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', now())`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), dsn, nil)
	if !errors.Is(err, sqldb.ErrNewerSchema) {
		t.Fatalf("opening a database from a newer seawall: %v, want ErrNewerSchema", err)
	}
}

func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://seawall:hunter2@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", nil)
	if err == nil {
		t.Fatal("opened a store on a closed port")
	}
	if got := err.Error(); strings.Contains(got, "hunter2") {
		t.Errorf("the error shows the password: %s", got)
	}
	if _, err := postgres.Open(ctx, "postgres://seawall:hunter2@[::1/%zz", nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad DSN: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b, schema(b)) })
}
