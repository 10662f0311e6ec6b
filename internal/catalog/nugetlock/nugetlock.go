// Package nugetlock reads packages.lock.json, the lockfile NuGet writes
// for a .NET project when locking is on.
package nugetlock

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a packages.lock.json; big solutions have a few MB.
const maxLock = 64 << 20

// Cataloger reads packages.lock.json files.
type Cataloger struct{}

// New returns a packages.lock.json cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "nuget-lock" }

// Declared reports that packages.lock.json declares packages rather than
// records installed ones.
func (*Cataloger) Declared() bool { return true }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "packages.lock.json"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

type lockFile struct {
	Version      int                                  `json:"version"`
	Dependencies map[string]map[string]lockDependency `json:"dependencies"`
}

type lockDependency struct {
	Type     string `json:"type"`
	Resolved string `json:"resolved"`
}

// Parse reads a packages.lock.json. Dependencies are listed per target
// framework (and runtime); a package resolved to the same version for
// several frameworks is one package, Direct if any framework lists it as
// Direct. "Project" entries are project references, not packages.
func Parse(b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("not a readable packages.lock.json: %w", err)
	}
	if lf.Dependencies == nil {
		return nil, fmt.Errorf("not a packages.lock.json: no dependencies")
	}
	frameworks := make([]string, 0, len(lf.Dependencies))
	for fw := range lf.Dependencies {
		frameworks = append(frameworks, fw)
	}
	sort.Strings(frameworks)
	var (
		pkgs []inventory.Package
		seen = map[string]int{}
	)
	for _, fw := range frameworks {
		deps := lf.Dependencies[fw]
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			d := deps[name]
			version := strings.TrimSpace(d.Resolved)
			if strings.EqualFold(d.Type, "Project") || name == "" || version == "" {
				continue
			}
			isDirect := strings.EqualFold(d.Type, "Direct")
			k := name + "/" + version
			if i, ok := seen[k]; ok {
				pkgs[i].Direct = pkgs[i].Direct || isDirect
				continue
			}
			seen[k] = len(pkgs)
			pkgs = append(pkgs, inventory.Package{Type: inventory.TypeNuGet, Name: name, Version: version, Direct: isDirect})
		}
	}
	return pkgs, nil
}

var _ catalog.Cataloger = (*Cataloger)(nil)
