package scanq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// VulnDB is the server's vulnerability database. An import or update
// (`seawall db import --db DIR`, or the import API) replaces the file
// under a new inode; Reload notices and opens the new one, while scans
// that started on the old one finish on it.
type VulnDB struct {
	path string

	mu    sync.Mutex
	cur   *dbRef
	ident fileIdent
}

// dbRef counts the scans using one open database, so that a reload
// closes the old one only when the last of them is done.
type dbRef struct {
	db   *vulndb.DB
	refs int
	old  bool
}

// fileIdent tells one database file from the next: an import writes a
// new file, so its modification time changes.
type fileIdent struct {
	size  int64
	mtime time.Time
}

// OpenVulnDB returns the database at path (a directory holding
// vulndb.FileName, or the file). A database that does not exist yet is not
// an error: scans fail with a clear message until one is imported.
func OpenVulnDB(path string) (*VulnDB, error) {
	v := &VulnDB{path: vulndb.Path(path)}
	if _, err := v.Reload(); err != nil && !errors.Is(err, vulndb.ErrNoDB) {
		return nil, err
	}
	return v, nil
}

// Path is the database file.
func (v *VulnDB) Path() string { return v.path }

// Reload opens the database file again when it was replaced since the
// last (re)load, and reports whether it did.
func (v *VulnDB) Reload() (bool, error) {
	st, err := os.Stat(v.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("%w at %s: import one with `seawall db import --db %s FILE` on the server, or POST it to /api/v1/vulndb/import",
				vulndb.ErrNoDB, v.path, v.path)
		}
		return false, fmt.Errorf("vulnerability database: %w", err)
	}
	id := fileIdent{size: st.Size(), mtime: st.ModTime()}
	v.mu.Lock()
	same := v.cur != nil && v.ident == id
	v.mu.Unlock()
	if same {
		return false, nil
	}
	db, err := vulndb.Open(v.path)
	if err != nil {
		return false, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if old := v.cur; old != nil {
		old.old = true
		if old.refs == 0 {
			old.db.Close()
		}
	}
	v.cur, v.ident = &dbRef{db: db}, id
	return true, nil
}

// Acquire returns the current database and a function to call when done
// with it.
func (v *VulnDB) Acquire() (*vulndb.DB, func(), error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cur == nil {
		return nil, nil, fmt.Errorf("%w at %s: import one with `seawall db import --db %s FILE` on the server, or POST it to /api/v1/vulndb/import",
			vulndb.ErrNoDB, v.path, v.path)
	}
	ref := v.cur
	ref.refs++
	return ref.db, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		ref.refs--
		if ref.refs == 0 && ref.old {
			ref.db.Close()
		}
	}, nil
}

// Info describes the current database; ok is false when there is none.
func (v *VulnDB) Info() (inventory.DBInfo, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cur == nil {
		return inventory.DBInfo{}, false
	}
	return v.cur.db.Info(), true
}

// Close closes the database once no scan uses it.
func (v *VulnDB) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cur != nil {
		v.cur.old = true
		if v.cur.refs == 0 {
			v.cur.db.Close()
		}
		v.cur = nil
	}
	return nil
}

// memoDB answers lookups from memory after the first: a rematch of many
// images asks about the same packages again and again.
type memoDB struct {
	db *vulndb.DB
	mu sync.Mutex
	m  map[[2]string]memoEntry
}

type memoEntry struct {
	vs  []*osv.Vulnerability
	err error
}

func newMemo(db *vulndb.DB) *memoDB { return &memoDB{db: db, m: map[[2]string]memoEntry{}} }

func (m *memoDB) Ecosystems() []string { return m.db.Ecosystems() }

func (m *memoDB) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	k := [2]string{ecosystem, name}
	m.mu.Lock()
	e, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		return e.vs, e.err
	}
	vs, err := m.db.Lookup(ctx, ecosystem, name)
	if err != nil && ctx.Err() != nil {
		return vs, err // not remembered: the next caller's context may be fine
	}
	m.mu.Lock()
	m.m[k] = memoEntry{vs, err}
	m.mu.Unlock()
	return vs, err
}
