package pylock

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

type pdmLock struct {
	Package []pdmPackage `toml:"package"`
}

type pdmPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	// Groups lists the dependency groups that need the package:
	// "default" for the project's dependencies, and the names of its
	// optional and development groups. Lockfiles before PDM 2.8 have none.
	Groups []string `toml:"groups"`
	// Path is set for a local directory or archive.
	Path     string `toml:"path"`
	Editable bool   `toml:"editable"`
}

// ParsePdm reads a pdm.lock. A package is Dev when it has groups and none
// is "default". pdm.lock does not tell development groups from optional
// ones (extras), so a package needed only by an extra is Dev too; a
// lockfile without groups leaves Dev unset. PDM writes one entry per
// combination of extras; they are merged. Local directories and editable
// installs are the project's own code and left out; local archives, git
// and URL sources are third-party code and kept.
func ParsePdm(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lock pdmLock
	if err := decodeTOML(b, &lock); err != nil {
		return nil, fmt.Errorf("not a valid pdm.lock: %w", err)
	}
	c := newCollector()
	for _, p := range lock.Package {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if p.Editable || (p.Path != "" && !isArchive(p.Path)) {
			continue
		}
		name, version := strings.TrimSpace(p.Name), strings.TrimSpace(p.Version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		dev := len(p.Groups) > 0 && !slices.Contains(p.Groups, "default")
		c.add(name, version, dev, false)
	}
	return c.list(), nil
}

// isArchive reports whether a local path names a wheel or source archive
// rather than a directory.
func isArchive(p string) bool {
	p = strings.ToLower(p)
	for _, s := range []string{".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}
