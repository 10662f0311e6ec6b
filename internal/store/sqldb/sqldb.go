// Package sqldb implements store.Store over database/sql: the queries,
// transactions and migrations that the SQLite and PostgreSQL backends
// share. A Dialect holds the little that differs between them.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Kind is what a driver error means to the store.
type Kind int

const (
	KindOther      Kind = iota
	KindUnique          // a unique or primary key constraint failed
	KindForeignKey      // a foreign key constraint failed
	KindRetry           // the transaction lost a race (busy, serialization, deadlock): run it again
	KindInvalid         // the backend cannot hold a value (NUL or invalid UTF-8 in PostgreSQL text)
)

// Dialect is what differs between backends.
type Dialect struct {
	Name string
	// Numbered placeholders ($1, $2 …) instead of ?. Queries are written
	// with ? and rewritten once.
	Numbered bool
	// TextTime stores times as fixed-width RFC 3339 text in UTC, which
	// sorts and compares as time does (SQLite has no time type).
	// Otherwise times go to the driver as time.Time.
	TextTime bool
	// Prepare keeps reads' statements prepared on every read connection,
	// for a driver that does not cache them itself (modernc's SQLite:
	// it halves a small read). pgx caches them already.
	Prepare bool
	// Classify tells what a driver error means.
	Classify func(error) Kind
	// MigrationsTable creates the schema_migrations table if it is
	// missing: version (integer key), name, applied_at (a time column).
	MigrationsTable string
	// MigrationLock, when set, runs first in the migration transaction so
	// that processes opening the same database at once migrate one at a
	// time (PostgreSQL: a transaction-scoped advisory lock).
	MigrationLock string
}

// DB is a store.Store on one or two database/sql pools. Reads go to read;
// writes and transactions go to write, which may be the same pool.
type DB struct {
	d     Dialect
	read  *sql.DB
	write *sql.DB
	r, w  runner // read and write with these
	log   *slog.Logger
	now   func() time.Time

	mu      sync.RWMutex
	rebound map[string]string
}

// New wraps the pools. For SQLite, write should hold one connection (one
// writer at a time, in the database's own order) and read several.
func New(d Dialect, read, write *sql.DB, log *slog.Logger) *DB {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{d: d, read: read, write: write, log: log, now: time.Now, rebound: map[string]string{}}
	db.r = runner{db: db, pool: read}
	if d.Prepare {
		db.r.stmts = &stmtCache{m: map[string]*sql.Stmt{}}
	}
	db.w = runner{db: db, pool: write}
	return db
}

// Ping checks both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("%s store: %w", db.d.Name, err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("%s store: %w", db.d.Name, err)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.r.stmts.close()
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// q returns query with the dialect's placeholders.
func (db *DB) q(query string) string {
	if !db.d.Numbered {
		return query
	}
	db.mu.RLock()
	s, ok := db.rebound[query]
	db.mu.RUnlock()
	if ok {
		return s
	}
	s = Number(query)
	db.mu.Lock()
	db.rebound[query] = s
	db.mu.Unlock()
	return s
}

// Number rewrites each ? in query as $1, $2 …. The store's queries hold
// no ? inside string literals.
func Number(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// err turns a driver error into the store's sentinels, keeping the
// driver's error in the chain.
func (db *DB) err(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	}
	switch db.d.Classify(err) {
	case KindUnique:
		return fmt.Errorf("%w: %w", store.ErrExists, err)
	case KindForeignKey:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case KindInvalid:
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return err
}

// lookupErr is err for a read, or a delete by name: text the backend
// cannot hold names nothing, so it is ErrNotFound as well as ErrInvalid.
func (db *DB) lookupErr(err error) error {
	if err != nil && db.d.Classify(err) == KindInvalid {
		return fmt.Errorf("%w (%w): %w", store.ErrNotFound, store.ErrInvalid, err)
	}
	return db.err(err)
}

// fkNotFound is err, except that a failed foreign key means that what the
// row points at (a project, a user) does not exist.
func (db *DB) fkNotFound(err error, what string) error {
	if err != nil && db.d.Classify(err) == KindForeignKey {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return db.err(err)
}

// affected is ErrNotFound when an update or delete changed no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// inTx runs fn in a write transaction, and again (a few times, after a
// short random pause) when the database says it lost a race.
func (db *DB) inTx(ctx context.Context, fn func(w runner) error) error {
	const attempts = 8
	for i := 0; ; i++ {
		err := db.tryTx(ctx, fn)
		if err == nil || i == attempts-1 || ctx.Err() != nil || db.d.Classify(err) != KindRetry {
			return err
		}
		pause := time.Duration(1+rand.IntN(1<<min(i, 6))) * time.Millisecond
		db.log.DebugContext(ctx, "retrying transaction", "attempt", i+1, "pause", pause, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(w runner) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(runner{db: db, tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// runner runs queries, written with ?, on a pool or in a transaction.
type runner struct {
	db    *DB
	pool  *sql.DB
	tx    *sql.Tx
	stmts *stmtCache // nil: do not prepare
}

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if r.tx != nil {
		return r.tx.ExecContext(ctx, r.db.q(query), args...)
	}
	return r.pool.ExecContext(ctx, r.db.q(query), args...)
}

func (r runner) rows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	switch {
	case r.tx != nil:
		return r.tx.QueryContext(ctx, r.db.q(query), args...)
	case r.stmts != nil:
		st, err := r.stmts.get(ctx, r.pool, r.db.q(query))
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return r.pool.QueryContext(ctx, r.db.q(query), args...)
}

func (r runner) row(ctx context.Context, query string, args ...any) row {
	switch {
	case r.tx != nil:
		return r.tx.QueryRowContext(ctx, r.db.q(query), args...)
	case r.stmts != nil:
		st, err := r.stmts.get(ctx, r.pool, r.db.q(query))
		if err != nil {
			return errRow{err}
		}
		return st.QueryRowContext(ctx, args...)
	}
	return r.pool.QueryRowContext(ctx, r.db.q(query), args...)
}

// list runs a read query and scans each row with scan.
func list[T any](ctx context.Context, db *DB, scan func(row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.r.rows(ctx, query, args...)
	if err != nil {
		return nil, db.lookupErr(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one runs a read query that returns at most one row.
func one[T any](ctx context.Context, db *DB, scan func(row) (T, error), query string, args ...any) (*T, error) {
	v, err := scan(db.r.row(ctx, query, args...))
	if err != nil {
		return nil, db.lookupErr(err)
	}
	return &v, nil
}

// row is what *sql.Row and *sql.Rows have in common.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// stmtCache holds a pool's prepared statements. The store's queries are
// constants, so it stays small.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st := c.m[query]
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[query]; old != nil {
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// textTime is how TextTime dialects store a time: fixed width, so that
// text order is time order.
const textTime = "2006-01-02T15:04:05.000000Z"

// norm is t as the store keeps it: UTC, to the microsecond.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// stamp returns t normalised, or now when t is zero.
func (db *DB) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = db.now()
	}
	return norm(t)
}

// t is the driver value for t: NULL when t is zero.
func (db *DB) t(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = norm(t)
	if db.d.TextTime {
		return t.Format(textTime)
	}
	return t
}

// timeScan scans a time column, whichever way the dialect stores it, into
// *p (zero for NULL).
type timeScan struct{ p *time.Time }

func (s timeScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.p = time.Time{}
	case time.Time:
		*s.p = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

func (s timeScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	*s.p = t.UTC()
	return nil
}

// limit is n as SQL's LIMIT: no limit when n < 0.
func limit(n int) int64 {
	if n < 0 {
		return 1<<63 - 1
	}
	return int64(n)
}
