package rpm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var errSQLite = errors.New("malformed SQLite rpm database")

// readSQLite calls emit with each header blob of an rpmdb.sqlite at path.
//
// The file is opened read-only and immutable: SQLite takes no locks and
// writes no journal, WAL or shared-memory file beside it, which matters
// when path is the scanned tree's own file rather than a private copy.
// Before the query runs, the schema is checked to be rpm's: Packages must
// be a plain table whose blob column is stored, not computed, so that a
// crafted schema cannot make the query itself expensive.
func readSQLite(ctx context.Context, path string, emit func([]byte, error) error) error {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&immutable=1&_pragma=trusted_schema(0)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("%w: %v", errSQLite, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	var kind, schema string
	err = db.QueryRowContext(ctx, `SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE`).Scan(&kind, &schema)
	if err != nil {
		return fmt.Errorf("%w: no Packages table: %v", errSQLite, err)
	}
	if kind != "table" {
		return fmt.Errorf("%w: Packages is a %s, not a table", errSQLite, kind)
	}
	if f := strings.Fields(strings.ToUpper(schema)); len(f) > 1 && f[1] == "VIRTUAL" {
		return fmt.Errorf("%w: Packages is a virtual table", errSQLite)
	}
	if err := checkBlobColumn(ctx, db); err != nil {
		return err
	}

	rows, err := db.QueryContext(ctx, `SELECT blob FROM Packages`)
	if err != nil {
		return fmt.Errorf("%w: %v", errSQLite, err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("%w: %v", errSQLite, err)
		}
		if err := emit(blob, nil); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", errSQLite, err)
	}
	return nil
}

// checkBlobColumn makes sure Packages has an ordinary "blob" column.
// PRAGMA table_xinfo marks generated columns with hidden = 2 (virtual)
// or 3 (stored).
func checkBlobColumn(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT name, hidden FROM pragma_table_xinfo('Packages')`)
	if err != nil {
		return fmt.Errorf("%w: %v", errSQLite, err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var name string
		var hidden int
		if err := rows.Scan(&name, &hidden); err != nil {
			return fmt.Errorf("%w: %v", errSQLite, err)
		}
		if strings.EqualFold(name, "blob") {
			if hidden != 0 {
				return fmt.Errorf("%w: Packages.blob is a generated column", errSQLite)
			}
			found = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %v", errSQLite, err)
	}
	if !found {
		return fmt.Errorf("%w: Packages has no blob column", errSQLite)
	}
	return nil
}
