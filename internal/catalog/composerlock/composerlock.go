// Package composerlock reads composer.lock, the lockfile Composer writes
// for a PHP project.
package composerlock

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a composer.lock; big applications have a few MB.
const maxLock = 64 << 20

// Cataloger reads composer.lock files.
type Cataloger struct{}

// New returns a composer.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "composer-lock" }

// Declared reports that composer.lock declares packages rather than
// records installed ones.
func (*Cataloger) Declared() bool { return true }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "composer.lock"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

type lockFile struct {
	Packages    []json.RawMessage `json:"packages"`
	PackagesDev []json.RawMessage `json:"packages-dev"`
}

type lockPackage struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	License licenses `json:"license"`
}

// Parse reads a composer.lock: "packages" and, marked Dev,
// "packages-dev". A package in both lists is not Dev. Names split into
// the vendor (the namespace) and the package name; versions lose the "v"
// of a "v1.8.1" tag, as advisories list them without it. The lockfile
// does not say which packages composer.json asks for, so none is Direct.
func Parse(b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("not a readable composer.lock: %w", err)
	}
	var (
		pkgs []inventory.Package
		seen = map[string]int{}
		bad  int
	)
	add := func(list []json.RawMessage, dev bool) {
		for _, raw := range list {
			// One malformed entry should not cost the others.
			var lp lockPackage
			if err := json.Unmarshal(raw, &lp); err != nil {
				bad++
				continue
			}
			p, ok := lp.pkg()
			if !ok {
				continue
			}
			p.Dev = dev
			k := p.Namespace + "/" + p.Name + "@" + p.Version
			if i, ok := seen[k]; ok {
				pkgs[i].Dev = pkgs[i].Dev && dev
				continue
			}
			seen[k] = len(pkgs)
			pkgs = append(pkgs, p)
		}
	}
	add(lf.Packages, false)
	add(lf.PackagesDev, true)
	if bad > 0 {
		return pkgs, fmt.Errorf("%d malformed package entries skipped", bad)
	}
	return pkgs, nil
}

func (lp lockPackage) pkg() (inventory.Package, bool) {
	vendor, name, ok := strings.Cut(strings.TrimSpace(lp.Name), "/")
	version := strings.TrimSpace(lp.Version)
	if !ok || vendor == "" || name == "" || version == "" {
		return inventory.Package{}, false
	}
	if len(version) > 1 && (version[0] == 'v' || version[0] == 'V') && version[1] >= '0' && version[1] <= '9' {
		version = version[1:]
	}
	return inventory.Package{
		Type:      inventory.TypeComposer,
		Namespace: vendor,
		Name:      name,
		Version:   version,
		Licenses:  lp.License,
	}, true
}

// licenses accepts the "license" field as Composer allows it: a list, or
// a single string.
type licenses []string

func (l *licenses) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		if one != "" {
			*l = licenses{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil // a malformed licence is no reason to lose the package
	}
	for _, s := range many {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

var _ catalog.Cataloger = (*Cataloger)(nil)
