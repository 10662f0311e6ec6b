// Package apk reads the Alpine package database, lib/apk/db/installed,
// as used by Alpine, Wolfi and Chainguard images.
package apk

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxInstalled bounds the database file. Most of it is the file list
	// of each package; a large image's database is a few MB.
	maxInstalled = 64 << 20
	// maxPackages bounds how many packages one file may yield; Alpine's
	// whole repository holds about 30,000 packages per architecture.
	maxPackages = 100_000
)

// Cataloger reads apk installed databases.
type Cataloger struct{}

// New returns an apk cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "apk" }

// Wants the database at its classic place and under /usr, where apk-tools
// 3 and merged-/usr systems keep it.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && (p == "/lib/apk/db/installed" || p == "/usr/lib/apk/db/installed")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxInstalled)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// record is the part of one package record that is kept.
type record struct {
	name, version, arch, origin, license, maintainer, commit string
	fields                                                   int
}

// Parse reads an apk installed database: records of "K:value" lines,
// separated by blank lines. Records without a package name or version
// (or with spaces in them) are skipped. Malformed lines are reported in the error, which is
// returned together with the packages that could be read.
func Parse(b []byte) ([]inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	// Size the result once: growing a slice of large records dominates
	// the cost on big files.
	pkgs := make([]inventory.Package, 0, min(bytes.Count(b, []byte("P:")), maxPackages))
	var (
		rec        record
		badLines   int
		badRecords int
		firstBad   int
		lineNo     int
	)
	flush := func() {
		if rec.fields == 0 {
			return
		}
		if !valid(rec.name) || !valid(rec.version) {
			badRecords++
		} else {
			pkgs = append(pkgs, rec.pkg())
		}
		rec = record{}
	}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		lineNo++
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			if len(pkgs) >= maxPackages {
				return pkgs, fmt.Errorf("more than %d packages; the rest were not read", maxPackages)
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			if badLines == 0 {
				firstBad = lineNo
			}
			badLines++
			continue
		}
		rec.fields++
		v := string(bytes.TrimSpace(line[2:]))
		switch line[0] {
		case 'P':
			rec.name = v
		case 'V':
			rec.version = v
		case 'A':
			rec.arch = v
		case 'o':
			rec.origin = v
		case 'L':
			rec.license = v
		case 'm':
			rec.maintainer = v
		case 'c':
			rec.commit = v
		}
	}
	flush()
	switch {
	case badLines > 0 && len(pkgs) == 0:
		return nil, fmt.Errorf("not an apk database: %d malformed lines (first at line %d) and no packages", badLines, firstBad)
	case badLines > 0:
		return pkgs, fmt.Errorf("%d malformed lines, first at line %d; %d packages read", badLines, firstBad, len(pkgs))
	case badRecords > 0 && len(pkgs) == 0:
		return nil, fmt.Errorf("not an apk database: %d records without a package name or version", badRecords)
	}
	return pkgs, nil
}

// valid reports whether s can be a package name or version: apk allows
// neither spaces nor control characters in them.
func valid(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func (r *record) pkg() inventory.Package {
	p := inventory.Package{
		Type:    inventory.TypeAPK,
		Name:    r.name,
		Version: r.version,
		Arch:    r.arch,
		// Alpine advisories name the origin (the aport); a package
		// without one is its own origin.
		SourceName:    r.name,
		SourceVersion: r.version,
	}
	if r.origin != "" {
		p.SourceName = r.origin
	}
	if r.license != "" {
		// Kept as written: newer packages state an SPDX expression
		// ("MIT AND BSD-2-Clause"), older ones a space-separated list.
		p.Licenses = []string{r.license}
	}
	meta := map[string]string{}
	if r.maintainer != "" {
		meta["maintainer"] = r.maintainer
	}
	if r.commit != "" {
		meta["commit"] = r.commit // the aports commit that built it
	}
	if len(meta) > 0 {
		p.Metadata = meta
	}
	return p
}

var _ catalog.Cataloger = (*Cataloger)(nil)
