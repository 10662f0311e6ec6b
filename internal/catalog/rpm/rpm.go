// Package rpm reads the RPM package database in each of its three
// formats: Berkeley DB (Packages, rpm up to 4.15), NDB (Packages.db,
// SUSE) and SQLite (rpmdb.sqlite, rpm 4.16 and later).
//
// The formats are read by this package rather than by
// github.com/knqyf263/go-rpmdb: that library parses Berkeley DB and NDB
// pages in goroutines of its own, where a corrupt database can panic
// (which no recover in the caller can catch, so the process dies) or
// loop forever, and it opens SQLite databases read-write. Here every
// offset is checked before use, each page is read at most once, and
// SQLite databases are opened read-only and immutable.
package rpm

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxDB bounds the database file; the largest real ones (a full
	// Fedora or RHEL install under Berkeley DB) are a few hundred MB.
	maxDB = 1 << 30
	// maxPackages bounds how many packages one database may yield.
	maxPackages = 200_000
	// timeout bounds one database, whatever it holds. Real ones take
	// well under a second.
	timeout = 2 * time.Minute
)

// Cataloger reads rpm databases.
type Cataloger struct{}

// New returns an rpm cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "rpm" }

// Wants the database files in /var/lib/rpm and in /usr/lib/sysimage/rpm,
// where Fedora 36+, openSUSE and SLE 15 keep them.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	dir, base := path.Split(p)
	if dir != "/var/lib/rpm/" && dir != "/usr/lib/sysimage/rpm/" {
		return false
	}
	return base == "Packages" || base == "Packages.db" || base == "rpmdb.sqlite"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) (pkgs []inventory.Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("rpm database parser failed: %v", r)
		}
	}()
	if f.Size > maxDB {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit for an rpm database: %w", f.Size, maxDB, image.ErrTooLarge)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return read(ctx, f)
}

// read dispatches on the file name, and for Packages on its content,
// since both Berkeley DB and NDB databases have been shipped under it.
func read(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	c := &collector{}
	var err error
	if path.Base(f.Path) == "rpmdb.sqlite" {
		var p string
		if p, err = f.LocalPath(); err != nil {
			return nil, err
		}
		err = readSQLite(ctx, p, c.add)
	} else {
		var ra io.ReaderAt
		if ra, err = f.ReaderAt(); err != nil {
			return nil, err
		}
		err = readPackages(ctx, ra, f.Size, c.add)
	}
	if err == nil {
		err = c.err()
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("rpm database read stopped: %w", ctx.Err())
	}
	return c.pkgs, err
}

// readPackages reads a Packages or Packages.db file, whichever format it is in.
func readPackages(ctx context.Context, r io.ReaderAt, size int64, emit func([]byte, error) error) error {
	magic := make([]byte, 16)
	if err := readFull(r, magic, 0); err != nil {
		return fmt.Errorf("not an rpm database: %d bytes", size)
	}
	switch {
	case string(magic[0:4]) == "RpmP":
		return readNDB(ctx, r, size, emit)
	case string(magic) == "SQLite format 3\x00":
		return fmt.Errorf("%w: a SQLite database under a Berkeley DB name", errSQLite)
	}
	return readBDB(ctx, r, size, emit)
}

// collector turns header blobs into packages. A record that cannot be
// read is counted and skipped, so that one bad record does not hide the
// rest; the count is reported as an error alongside the packages.
type collector struct {
	pkgs     []inventory.Package
	bad      int
	firstBad error
}

func (c *collector) add(blob []byte, err error) error {
	var h *header
	if err == nil {
		h, err = parseHeader(blob)
	}
	if err != nil {
		if c.bad == 0 {
			c.firstBad = err
		}
		c.bad++
		return nil
	}
	// gpg-pubkey "packages" are the keys rpm trusts, not software.
	if h.name == "gpg-pubkey" {
		return nil
	}
	if len(c.pkgs) >= maxPackages {
		return fmt.Errorf("more than %d packages; the rest were not read", maxPackages)
	}
	c.pkgs = append(c.pkgs, h.pkg())
	return nil
}

func (c *collector) err() error {
	if c.bad == 0 {
		return nil
	}
	return fmt.Errorf("%d unreadable package records (first: %w); %d packages read", c.bad, c.firstBad, len(c.pkgs))
}

func (h *header) pkg() inventory.Package {
	p := inventory.Package{
		Type: inventory.TypeRPM,
		Name: h.name,
		// Distro advisories compare "version-release"; the epoch is kept
		// apart, as the purl spec and OSV do.
		Version:       versionRelease(h.version, h.release),
		Arch:          h.arch,
		SourceName:    h.name,
		SourceVersion: versionRelease(h.version, h.release),
	}
	if h.hasEpoch && h.epoch > 0 {
		p.Epoch = int(h.epoch)
	}
	if name, version, ok := parseSourceRPM(h.sourceRPM); ok {
		p.SourceName, p.SourceVersion = name, version
	}
	if h.license != "" && h.license != "(none)" {
		p.Licenses = []string{h.license}
	}
	meta := map[string]string{}
	if h.vendor != "" && h.vendor != "(none)" {
		meta["vendor"] = h.vendor
	}
	if h.modularityLabel != "" {
		meta["modularitylabel"] = h.modularityLabel
	}
	if len(meta) > 0 {
		p.Metadata = meta
	}
	return p
}

func versionRelease(version, release string) string {
	if release == "" {
		return version
	}
	return version + "-" + release
}

// parseSourceRPM splits a source rpm file name, "glibc-2.34-2.cm2.src.rpm",
// into name and version-release ("glibc", "2.34-2.cm2"). Names may hold
// dashes ("python-setuptools"), versions and releases may not, so the
// split counts dashes from the right.
func parseSourceRPM(s string) (name, version string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		if base, found = strings.CutSuffix(s, ".nosrc.rpm"); !found {
			return "", "", false
		}
	}
	r := strings.LastIndexByte(base, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(base[:r], '-')
	if v <= 0 || v+1 == r || r+1 == len(base) {
		return "", "", false
	}
	return base[:v], base[v+1:], true
}

// readFull reads len(b) bytes at off; a ReaderAt may report io.EOF
// together with a full read.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

var _ catalog.Cataloger = (*Cataloger)(nil)
