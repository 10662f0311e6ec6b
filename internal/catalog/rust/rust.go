// Package rust reads Cargo.lock, the lockfile of a Rust workspace, in
// every format Cargo has written (v1 to v4).
package rust

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a Cargo.lock; large workspaces have a few MB.
const maxLock = 64 << 20

// Cataloger reads Cargo.lock files.
type Cataloger struct{}

// New returns a Cargo.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "cargo-lock" }

// Declared reports that Cargo.lock declares the packages a build will
// use. Images seldom ship one; when they do, it is read only on request.
func (*Cataloger) Declared() bool { return true }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "Cargo.lock"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

type lockFile struct {
	Package []lockPackage `toml:"package"`
}

type lockPackage struct {
	Name         string   `toml:"name"`
	Version      string   `toml:"version"`
	Source       string   `toml:"source"`
	Dependencies []string `toml:"dependencies"`
}

// Parse reads a Cargo.lock. Workspace members and path dependencies, the
// crates without a source, are the project's own code and are left out,
// as every Seawall cataloger leaves out a project's own code: under a
// crates.io package URL they would match advisories for an unrelated
// published crate of the same name. They still tell what the workspace
// asked for: Direct marks the crates that a local crate depends on,
// since Cargo.lock has no other record of it. Crates from git or
// another registry carry their source in Metadata["source"], so that a
// matcher can keep crates.io advisories to crates.io crates.
// Dev-dependencies are not told apart; only Cargo.toml knows them.
func Parse(b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if _, err := toml.Decode(string(b), &lf); err != nil {
		return nil, fmt.Errorf("not a readable Cargo.lock: %w", err)
	}

	type key struct{ name, version, source string }
	var (
		pkgs   []inventory.Package
		keys   []key
		seen   = map[key]bool{}
		byName = map[string][]int{}
		bad    int
		local  int
	)
	for _, lp := range lf.Package {
		name, version := strings.TrimSpace(lp.Name), strings.TrimSpace(lp.Version)
		if name == "" || version == "" {
			bad++
			continue
		}
		if lp.Source == "" {
			local++
			continue
		}
		k := key{name, version, lp.Source}
		if seen[k] {
			continue
		}
		seen[k] = true
		p := inventory.Package{Type: inventory.TypeCargo, Name: name, Version: version}
		if !isCratesIO(lp.Source) {
			p.Metadata = map[string]string{"source": lp.Source}
		}
		byName[name] = append(byName[name], len(pkgs))
		pkgs = append(pkgs, p)
		keys = append(keys, k)
	}
	if bad > 0 && len(pkgs) == 0 && local == 0 {
		return nil, fmt.Errorf("not a Cargo.lock: %d packages without a name or version", bad)
	}

	// A dependency is "name", "name version" or "name version (source)";
	// the short forms are used when they are unambiguous.
	for _, lp := range lf.Package {
		if lp.Source != "" {
			continue
		}
		for _, d := range lp.Dependencies {
			f := strings.Fields(d)
			if len(f) == 0 {
				continue
			}
			cands := byName[f[0]]
			for _, i := range cands {
				if len(f) > 1 && keys[i].version != f[1] {
					continue
				}
				// The source of a dependency leaves out a git revision.
				if len(f) > 2 && !sameSource(keys[i].source, strings.Trim(strings.Join(f[2:], " "), "()")) {
					continue
				}
				pkgs[i].Direct = true
			}
		}
	}
	return pkgs, nil
}

func sameSource(full, short string) bool {
	base, _, _ := strings.Cut(full, "#")
	return full == short || base == short
}

func isCratesIO(source string) bool {
	return source == "registry+https://github.com/rust-lang/crates.io-index" ||
		source == "sparse+https://index.crates.io/"
}

var _ catalog.Cataloger = (*Cataloger)(nil)
