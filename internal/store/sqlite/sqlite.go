// Package sqlite is the embedded metadata store: one SQLite file in WAL
// mode (DATA/seawall.db), written through a single connection and read
// through a small pool of read-only ones.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite backend of store.Store.
type Store struct {
	*sqldb.DB
}

// dialect is SQLite's: ? placeholders, times as text.
var dialect = sqldb.Dialect{
	Name:     "sqlite",
	Prepare:  true,
	TextTime: true,
	Classify: classify,
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`,
	// The migration transaction is a write transaction, which begins
	// IMMEDIATE (see pragmas): it holds SQLite's one write lock.
}

// Pragmas for every connection. busy_timeout covers another process
// (a second seawall on the same file); in this one, writes queue for the
// single write connection instead.
const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=trusted_schema(0)"

// options are Open's choices; the benchmarks compare others.
type options struct {
	// readConns is the size of the read pool; 0 reads through the
	// write pool.
	readConns  int
	writeConns int
	// synchronous(FULL) makes a commit durable across power loss, not
	// only across a crash of the process (NORMAL); it costs an fsync of
	// the WAL per commit.
	synchronous string
}

var defaults = options{readConns: max(4, runtime.GOMAXPROCS(0)), writeConns: 1, synchronous: "FULL"}

// Open opens, creating it if needed, the database file at path and brings
// its schema up to date. It refuses a file that a newer Seawall migrated
// (errors.Is(err, sqldb.ErrNewerSchema)).
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	return open(ctx, path, log, defaults)
}

func open(ctx context.Context, path string, log *slog.Logger, o options) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	// The file holds password hashes: only its owner may read it. SQLite
	// gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	f.Close()

	// Writes take the write lock when they begin (_txlock=immediate), so
	// a transaction never fails halfway upgrading a read lock.
	all := pragmas + "&_pragma=synchronous(" + o.synchronous + ")"
	write, err := sql.Open("sqlite", dsn(abs, "_txlock=immediate&"+all))
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	write.SetMaxOpenConns(o.writeConns)
	write.SetMaxIdleConns(o.writeConns)
	read := write
	if o.readConns > 0 {
		read, err = sql.Open("sqlite", dsn(abs, all+"&_pragma=query_only(1)"))
		if err != nil {
			write.Close()
			return nil, fmt.Errorf("sqlite store %s: %w", path, err)
		}
		read.SetMaxOpenConns(o.readConns)
		read.SetMaxIdleConns(o.readConns)
	}

	s := &Store{DB: sqldb.New(dialect, read, write, log.With("store", "sqlite"))}
	sub, err := fs.Sub(migrations, "migrations")
	if err == nil {
		err = s.Migrate(ctx, sub)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func dsn(path, query string) string {
	return (&url.URL{Scheme: "file", Path: path, RawQuery: query}).String()
}

// classify reads SQLite's result codes.
func classify(err error) sqldb.Kind {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqldb.KindOther
	}
	switch code := e.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqldb.KindUnique
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqldb.KindForeignKey
	case code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED:
		return sqldb.KindRetry
	}
	return sqldb.KindOther
}

var _ store.Store = (*Store)(nil)
