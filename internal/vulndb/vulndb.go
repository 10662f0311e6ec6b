// Package vulndb is Seawall's embedded vulnerability database: OSV
// records imported from files, directories, osv.dev all.zip exports and
// signed offline bundles into one SQLite file, indexed by (ecosystem,
// package), replaced atomically on every change.
package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file's name inside its directory.
const FileName = "vulndb.sqlite"

// format names the file layout; Open refuses any other.
const format = "seawall-vulndb/1"

// ErrNoDB is returned, wrapped, by Open when there is no database yet.
var ErrNoDB = errors.New("no vulnerability database")

// ErrFormat is returned, wrapped, by Open for a file that is not a
// Seawall vulnerability database of this version.
var ErrFormat = errors.New("not a Seawall vulnerability database")

// DefaultDir is where the database lives unless --db or SEAWALL_DB say
// otherwise: <user cache dir>/seawall/db.
func DefaultDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the vulnerability database (%v): set SEAWALL_DB or pass --db", err)
	}
	return filepath.Join(dir, "seawall", "db"), nil
}

// Path returns the database file for a --db value, which may name the
// directory or the file itself.
func Path(dirOrFile string) string {
	if strings.HasSuffix(dirOrFile, ".sqlite") || strings.HasSuffix(dirOrFile, ".db") {
		return dirOrFile
	}
	return filepath.Join(dirOrFile, FileName)
}

// DB is an open, read-only vulnerability database. It is safe for
// concurrent use. An import replaces the file under a new inode, so an
// open DB keeps reading the version it opened.
type DB struct {
	sql     *sql.DB
	path    string
	info    inventory.DBInfo
	sources []Source
	zstd    *zstd.Decoder
	lookup  *sql.Stmt
}

// Source is one place records were imported from, with its fetch times.
type Source struct {
	Name     string    `json:"name"`
	Location string    `json:"location"`
	Records  int       `json:"records"`            // records read from it at its last import
	Fetched  time.Time `json:"fetched"`            // when its content was last read or downloaded
	Checked  time.Time `json:"checked,omitzero"`   // when it was last confirmed current (HTTP 304 included)
	ETag     string    `json:"etag,omitempty"`     // of the download, for the record
	Digest   string    `json:"sha256,omitempty"`   // of the file or download read
	Verified string    `json:"verified,omitempty"` // for a bundle: the key that verified it
}

// Open opens the database at path (a file, or a directory holding
// FileName) read-only.
func Open(path string) (*DB, error) {
	path = Path(path)
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: run `seawall db update` (online) or `seawall db import` first", ErrNoDB, path)
		}
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("vulnerability database %s: %w: not a regular file", path, ErrFormat)
	}
	db, err := openSQL(path, true)
	if err != nil {
		return nil, err
	}
	d := &DB{sql: db, path: path}
	if err := d.load(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("vulnerability database %s: %w", path, err)
	}
	d.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(osv.MaxRecordSize*4))
	if err != nil {
		db.Close()
		return nil, err
	}
	d.lookup, err = db.Prepare(`SELECT v.data FROM affected a JOIN vulns v ON v.rowid = a.vuln WHERE a.ecosystem = ? AND a.name = ? ORDER BY v.id`)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("vulnerability database %s: %w: %v", path, ErrFormat, err)
	}
	return d, nil
}

// openSQL opens a SQLite file. Read-only handles are immutable: SQLite
// takes no locks and writes nothing beside the file, which is safe
// because the file is never changed in place, only replaced.
func openSQL(path string, readOnly bool) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := "_pragma=trusted_schema(0)"
	if readOnly {
		q = "mode=ro&immutable=1&" + q
	} else {
		q += "&_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=locking_mode(EXCLUSIVE)"
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("vulnerability database %s: %w", path, err)
	}
	if !readOnly {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	return db, nil
}

func (d *DB) load(ctx context.Context) error {
	meta, err := readMeta(ctx, d.sql)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if meta["format"] != format {
		return fmt.Errorf("%w: format %q, want %q: rebuild it with `seawall db update` or `seawall db import`", ErrFormat, meta["format"], format)
	}
	if err := json.Unmarshal([]byte(meta["info"]), &d.info); err != nil {
		return fmt.Errorf("%w: meta info: %v", ErrFormat, err)
	}
	if err := json.Unmarshal([]byte(meta["sources"]), &d.sources); err != nil {
		return fmt.Errorf("%w: meta sources: %v", ErrFormat, err)
	}
	return nil
}

func readMeta(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// Close releases the database.
func (d *DB) Close() error {
	if d.lookup != nil {
		d.lookup.Close()
	}
	if d.zstd != nil {
		d.zstd.Close()
	}
	return d.sql.Close()
}

// Path is the file the DB was opened from.
func (d *DB) Path() string { return d.path }

// Info describes the database: build time, record counts (in total and
// per ecosystem, a record counting once in each ecosystem it names) and
// sources.
func (d *DB) Info() inventory.DBInfo {
	info := d.info
	info.Ecosystems = make(map[string]int, len(d.info.Ecosystems))
	for k, v := range d.info.Ecosystems {
		info.Ecosystems[k] = v
	}
	info.Sources = append([]string(nil), d.info.Sources...)
	return info
}

// Sources lists where the records came from, with fetch times.
func (d *DB) Sources() []Source { return append([]Source(nil), d.sources...) }

// Ecosystems lists the ecosystems present, exactly as the records spell
// them ("Debian:12", "Alpine:v3.19", "PyPI"), sorted.
func (d *DB) Ecosystems() []string {
	out := make([]string, 0, len(d.info.Ecosystems))
	for e := range d.info.Ecosystems {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// Lookup returns every record with an affected entry for the package:
// ecosystem exactly as the records spell it, name as NormalizeName makes
// it (so callers may pass either spelling). Withdrawn records are
// included; the matcher decides what they mean. Records come sorted by
// ID. The index answers it: no record is read that does not name the
// package.
func (d *DB) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	rows, err := d.lookup.QueryContext(ctx, ecosystem, NormalizeName(ecosystem, name))
	if err != nil {
		return nil, fmt.Errorf("vulnerability database lookup %s/%s: %w", ecosystem, name, err)
	}
	defer rows.Close()
	var out []*osv.Vulnerability
	var buf []byte
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("vulnerability database lookup %s/%s: %w", ecosystem, name, err)
		}
		v, err := decodeRecord(d.zstd, blob, &buf)
		if err != nil {
			return nil, fmt.Errorf("vulnerability database lookup %s/%s: %w", ecosystem, name, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vulnerability database lookup %s/%s: %w", ecosystem, name, err)
	}
	return out, nil
}

// Get returns one record by ID, or nil when there is none.
func (d *DB) Get(ctx context.Context, id string) (*osv.Vulnerability, error) {
	var blob []byte
	err := d.sql.QueryRowContext(ctx, `SELECT data FROM vulns WHERE id = ?`, id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vulnerability database get %s: %w", id, err)
	}
	var buf []byte
	return decodeRecord(d.zstd, blob, &buf)
}

// All calls fn with every record, in ID order; it stops at fn's first
// error and returns it.
func (d *DB) All(ctx context.Context, fn func(*osv.Vulnerability) error) error {
	rows, err := d.sql.QueryContext(ctx, `SELECT data FROM vulns ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return err
		}
		v, err := decodeRecord(d.zstd, blob, &buf)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// decodeRecord reads a stored record: zstd-compressed canonical JSON as
// written by encodeRecord.
func decodeRecord(dec *zstd.Decoder, blob []byte, buf *[]byte) (*osv.Vulnerability, error) {
	raw, err := dec.DecodeAll(blob, (*buf)[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: a stored record does not decompress: %v", ErrFormat, err)
	}
	*buf = raw
	// osv.Parse reads JSON about twice as fast as encoding/json does into
	// the struct; the stored form is its own output, so it passes.
	if v, _, err := osv.Parse(raw, "stored.json"); err == nil {
		return v, nil
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: a stored record is not valid JSON: %v", ErrFormat, err)
	}
	return &v, nil
}
