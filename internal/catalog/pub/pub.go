// Package pub reads pubspec.lock, the lockfile of Dart and Flutter
// projects.
package pub

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a pubspec.lock; large Flutter apps have a few hundred KB.
const maxLock = 16 << 20

// Cataloger reads pubspec.lock files.
type Cataloger struct{}

// New returns a pubspec.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "pubspec-lock" }

// Declared reports that pubspec.lock declares, rather than installs, packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts pubspec.lock outside pub's package cache, where a
// published package's own lockfile says nothing about the project.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "pubspec.lock" && !strings.Contains(p, "/.pub-cache/")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

type lockFile struct {
	Packages map[string]lockPackage `yaml:"packages"`
}

type lockPackage struct {
	Dependency string `yaml:"dependency"`
	Source     string `yaml:"source"`
	Version    string `yaml:"version"`
}

// Parse reads a pubspec.lock. Packages from pub servers ("hosted") and
// git are reported; "path" packages are the project's own code and "sdk"
// packages (flutter, flutter_test) are part of the SDK, and both are
// left out. "direct main", "direct dev" and "direct overridden" mark
// Direct; "direct dev" also marks Dev. The lockfile does not say which
// transitive packages only dev dependencies need.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if err := yaml.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("not a valid pubspec.lock: %w", err)
	}
	names := make([]string, 0, len(lf.Packages))
	for n := range lf.Packages {
		names = append(names, n)
	}
	sort.Strings(names)
	var pkgs []inventory.Package
	for i, name := range names {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lp := lf.Packages[name]
		switch lp.Source {
		case "path", "sdk":
			continue
		}
		version := strings.TrimSpace(lp.Version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		p := inventory.Package{Type: inventory.TypePub, Name: name, Version: version}
		switch lp.Dependency {
		case "direct main", "direct overridden":
			p.Direct = true
		case "direct dev":
			p.Direct, p.Dev = true, true
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// validName checks a Dart package name: letters, digits and underscores.
// pub requires lower case for new packages; old ones are not checked.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validVersion accepts the characters of a semantic version.
func validVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+_", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
