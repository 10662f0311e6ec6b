package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
)

// The file is a SQLite database:
//
//	meta(key, value)                  format, info (inventory.DBInfo as JSON), sources
//	vulns(rowid, id, modified, data)  data: the record as JSON, zstd-compressed
//	affected(ecosystem, name, vuln)   one row per (ecosystem, normalised name) a record names
//
// affected is a WITHOUT ROWID table keyed on (ecosystem, name, vuln), so
// a lookup is one B-tree range scan plus one rowid fetch per record.
const schema = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vulns (id TEXT NOT NULL UNIQUE, modified INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, vuln INTEGER NOT NULL, PRIMARY KEY (ecosystem, name, vuln)) WITHOUT ROWID;
`

// key is one index entry of a record.
type key struct{ ecosystem, name string }

// indexKeys lists the (ecosystem, normalised name) pairs a record names,
// without duplicates.
func indexKeys(v *osv.Vulnerability) []key {
	var keys []key
	for _, a := range v.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue
		}
		k := key{a.Package.Ecosystem, NormalizeName(a.Package.Ecosystem, a.Package.Name)}
		dup := false
		for _, o := range keys {
			if o == k {
				dup = true
				break
			}
		}
		if !dup {
			keys = append(keys, k)
		}
	}
	return keys
}

// encodeRecord is the stored form of a record: canonical JSON, zstd.
func encodeRecord(enc *zstd.Encoder, v *osv.Vulnerability) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", v.ID, err)
	}
	return enc.EncodeAll(raw, make([]byte, 0, len(raw)/3)), nil
}

func newEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
}

// builder writes a new database file. It owns a temporary file in the
// target's directory; commit renames it over the target.
type builder struct {
	tmp  string
	db   *sql.DB
	tx   *sql.Tx
	dec  *zstd.Decoder
	get  *sql.Stmt
	ins  *sql.Stmt
	upd  *sql.Stmt
	aff  *sql.Stmt
	del  *sql.Stmt
	seen map[string]int // id → input order, for ties between inputs
}

// newBuilder starts a build next to dbPath: a copy of the existing
// database when base is set, or an empty one.
func newBuilder(ctx context.Context, dbPath string, base bool) (b *builder, err error) {
	dir := filepath.Dir(dbPath)
	f, err := os.CreateTemp(dir, "."+filepath.Base(dbPath)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: cannot write in %s: %w", dir, err)
	}
	b = &builder{tmp: f.Name(), seen: map[string]int{}}
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	fresh := true
	if base {
		src, err := os.Open(dbPath)
		switch {
		case err == nil:
			_, err = io.Copy(f, src)
			src.Close()
			if err != nil {
				f.Close()
				return b, fmt.Errorf("vulnerability database: copying %s: %w", dbPath, err)
			}
			fresh = false
		case !errors.Is(err, os.ErrNotExist):
			f.Close()
			return b, fmt.Errorf("vulnerability database: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return b, err
	}
	if !fresh {
		// Refuse to build on a file that is not ours rather than
		// overwrite it later with a mix.
		ro, err := openSQL(b.tmp, true)
		if err != nil {
			return b, err
		}
		meta, err := readMeta(ctx, ro)
		ro.Close()
		if err != nil || meta["format"] != format {
			return b, fmt.Errorf("vulnerability database %s: %w (format %q): move it away, or import with replace", dbPath, ErrFormat, meta["format"])
		}
	}
	if b.db, err = openSQL(b.tmp, false); err != nil {
		return b, err
	}
	if fresh {
		if _, err := b.db.ExecContext(ctx, schema); err != nil {
			return b, fmt.Errorf("vulnerability database: creating schema: %w", err)
		}
	}
	if b.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1)); err != nil {
		return b, err
	}
	if b.tx, err = b.db.BeginTx(ctx, nil); err != nil {
		return b, err
	}
	for _, s := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&b.get, `SELECT rowid, modified, data FROM vulns WHERE id = ?`},
		{&b.ins, `INSERT INTO vulns (id, modified, data) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`},
		{&b.upd, `UPDATE vulns SET modified = ?, data = ? WHERE rowid = ?`},
		{&b.aff, `INSERT OR IGNORE INTO affected (ecosystem, name, vuln) VALUES (?, ?, ?)`},
		{&b.del, `DELETE FROM affected WHERE ecosystem = ? AND name = ? AND vuln = ?`},
	} {
		if *s.st, err = b.tx.PrepareContext(ctx, s.sql); err != nil {
			return b, fmt.Errorf("vulnerability database: %w", err)
		}
	}
	return b, nil
}

// outcome of put.
const (
	added = iota
	updated
	unchanged
)

// put stores a record unless the database already has one with the same
// ID that is at least as new. Between two inputs of one import with the
// same modified time, the earlier input (lower seq) wins.
func (b *builder) put(ctx context.Context, v *osv.Vulnerability, blob []byte, keys []key, seq int) (int, error) {
	mod := v.Modified.UnixNano()
	// Most records are new: try the insert first, and read the stored
	// one only when the ID is taken.
	res, err := b.ins.ExecContext(ctx, v.ID, mod, blob)
	if err != nil {
		return 0, fmt.Errorf("storing %s: %w", v.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		rowid, err := res.LastInsertId()
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if _, err := b.aff.ExecContext(ctx, k.ecosystem, k.name, rowid); err != nil {
				return 0, fmt.Errorf("indexing %s: %w", v.ID, err)
			}
		}
		b.seen[v.ID] = seq
		return added, nil
	}
	var rowid, oldMod int64
	var oldBlob []byte
	if err := b.get.QueryRowContext(ctx, v.ID).Scan(&rowid, &oldMod, &oldBlob); err != nil {
		return 0, fmt.Errorf("reading %s: %w", v.ID, err)
	}
	if mod < oldMod {
		return unchanged, nil
	}
	if mod == oldMod {
		prev, ok := b.seen[v.ID]
		if !ok || prev <= seq {
			return unchanged, nil
		}
	}
	old, err := decodeRecord(b.dec, oldBlob, new([]byte))
	if err != nil {
		return 0, fmt.Errorf("replacing %s: %w", v.ID, err)
	}
	for _, k := range indexKeys(old) {
		if _, err := b.del.ExecContext(ctx, k.ecosystem, k.name, rowid); err != nil {
			return 0, fmt.Errorf("re-indexing %s: %w", v.ID, err)
		}
	}
	if _, err := b.upd.ExecContext(ctx, mod, blob, rowid); err != nil {
		return 0, fmt.Errorf("storing %s: %w", v.ID, err)
	}
	for _, k := range keys {
		if _, err := b.aff.ExecContext(ctx, k.ecosystem, k.name, rowid); err != nil {
			return 0, fmt.Errorf("indexing %s: %w", v.ID, err)
		}
	}
	b.seen[v.ID] = seq
	return updated, nil
}

// sources reads the source list of the database being built.
func (b *builder) sources(ctx context.Context) ([]Source, error) {
	var raw string
	err := b.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'sources'`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Source
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("%w: meta sources: %v", ErrFormat, err)
	}
	return out, nil
}

// finish writes the metadata and closes the file; commit must follow.
func (b *builder) finish(ctx context.Context, sources []Source, builtAt time.Time) (inventory.DBInfo, error) {
	info := inventory.DBInfo{BuiltAt: builtAt.UTC(), Ecosystems: map[string]int{}}
	if err := b.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM vulns`).Scan(&info.Records); err != nil {
		return info, err
	}
	// A record naming two packages of one ecosystem counts once there.
	rows, err := b.tx.QueryContext(ctx, `SELECT ecosystem, COUNT(DISTINCT vuln) FROM affected GROUP BY ecosystem`)
	if err != nil {
		return info, err
	}
	for rows.Next() {
		var e string
		var n int
		if err := rows.Scan(&e, &n); err != nil {
			rows.Close()
			return info, err
		}
		info.Ecosystems[e] = n
	}
	if err := rows.Close(); err != nil {
		return info, err
	}
	sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
	for _, s := range sources {
		info.Sources = append(info.Sources, s.Location)
	}
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return info, err
	}
	srcJSON, err := json.Marshal(sources)
	if err != nil {
		return info, err
	}
	for k, v := range map[string]string{"format": format, "info": string(infoJSON), "sources": string(srcJSON)} {
		if _, err := b.tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, k, v); err != nil {
			return info, err
		}
	}
	for _, st := range []*sql.Stmt{b.get, b.ins, b.upd, b.aff, b.del} {
		st.Close()
	}
	if err := b.tx.Commit(); err != nil {
		return info, fmt.Errorf("vulnerability database: commit: %w", err)
	}
	b.tx = nil
	if err := b.db.Close(); err != nil {
		return info, err
	}
	b.db = nil
	return info, nil
}

// commit makes the finished file the database: fsync the file, rename it
// over dbPath, fsync the directory. Until the rename the old database is
// untouched; after it, readers that open the path see the new one.
func (b *builder) commit(dbPath string) error {
	f, err := os.OpenFile(b.tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("vulnerability database: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(b.tmp, dbPath); err != nil {
		return fmt.Errorf("vulnerability database: %w", err)
	}
	b.tmp = ""
	syncDir(filepath.Dir(dbPath))
	return nil
}

// abort removes the temporary file; the old database stays as it was.
func (b *builder) abort() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
	if b.db != nil {
		b.db.Close()
		b.db = nil
	}
	if b.dec != nil {
		b.dec.Close()
	}
	if b.tmp != "" {
		os.Remove(b.tmp)
		b.tmp = ""
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// removeStaleTemps deletes temporary files that a killed import left in
// dir: a half-built database, downloads, an extracted bundle database. It
// runs under the import lock, so no live import owns them.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, prefix) || strings.HasPrefix(n, ".download-") || (strings.HasPrefix(n, ".bundle-db-") && strings.HasSuffix(n, ".sqlite")) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
