package sqldb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// ErrNewerSchema is returned by Migrate when the database was migrated by
// a newer Seawall than this one.
var ErrNewerSchema = errors.New("database schema is newer than this seawall")

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string // the file name
	SQL     string
}

// Migrations reads the *.sql files at the top of fsys. Their names start
// with their version, 1, 2, 3 … with no gaps: "0001_init.sql".
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: path.Base(name), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (no gaps or duplicates)", m.Name, m.Version, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations")
	}
	return ms, nil
}

// Migrate applies the migrations in fsys that the database lacks, all in
// one transaction, and records each in schema_migrations. It refuses a
// database that a newer Seawall has migrated past what it knows.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := Migrations(fsys)
	if err != nil {
		return fmt.Errorf("%s store: %w", db.d.Name, err)
	}
	latest := ms[len(ms)-1].Version
	err = db.inTx(ctx, func(w runner) error {
		if db.d.MigrationLock != "" {
			if _, err := w.tx.ExecContext(ctx, db.d.MigrationLock); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := w.tx.ExecContext(ctx, db.d.MigrationsTable); err != nil {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		var current int
		if err := w.row(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		if current > latest {
			return fmt.Errorf("%w: it is at version %d and this seawall knows up to %d: run the newer seawall, or restore a backup taken before the upgrade", ErrNewerSchema, current, latest)
		}
		for _, m := range ms[current:] {
			if _, err := w.tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := w.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, db.t(db.now())); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			db.log.InfoContext(ctx, "applied migration", "migration", m.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s store: migrate: %w", db.d.Name, err)
	}
	return nil
}

// SchemaVersion is the highest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.row(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
