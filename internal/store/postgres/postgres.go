// Package postgres is the metadata store for replicas at scale: every
// seawall serve replica shares one PostgreSQL database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL backend of store.Store.
type Store struct {
	*sqldb.DB
}

var dialect = sqldb.Dialect{
	Name:     "postgres",
	Numbered: true,
	Classify: classify,
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL
	)`,
	// Replicas that start at once queue here, and all but the first find
	// nothing left to do. The lock is per schema, and ends with the
	// transaction.
	MigrationLock: `SELECT pg_advisory_xact_lock(hashtext('seawall.migrations.' || COALESCE(current_schema(), '')))`,
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as libpq takes) and brings its schema up to date. Run-time
// parameters in dsn, such as search_path, apply to every connection.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password included.
		return nil, errors.New("postgres store: the DSN does not parse: want postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…")
	}
	db := stdlib.OpenDB(*cfg)
	n := max(8, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}

	s := &Store{DB: sqldb.New(dialect, db, db, log.With("store", "postgres"))}
	sub, err := fs.Sub(migrations, "migrations")
	if err == nil {
		err = s.Migrate(ctx, sub)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// classify reads PostgreSQL's SQLSTATE codes.
func classify(err error) sqldb.Kind {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqldb.KindOther
	}
	switch e.Code {
	case "23505": // unique_violation
		return sqldb.KindUnique
	case "23503": // foreign_key_violation
		return sqldb.KindForeignKey
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return sqldb.KindRetry
	case "22021", "22P05": // character_not_in_repertoire (NUL, bad UTF-8), untranslatable_character
		return sqldb.KindInvalid
	}
	return sqldb.KindOther
}

var _ store.Store = (*Store)(nil)
