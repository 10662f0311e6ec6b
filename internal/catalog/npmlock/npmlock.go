// Package npmlock reads the JavaScript packages a project declares in its
// lockfiles: package-lock.json and npm-shrinkwrap.json (v1, v2, v3),
// yarn.lock (classic v1 and berry v2+), pnpm-lock.yaml (v5, v6, v9) and
// Bun's text bun.lock.
//
// Every lockfile format names packages that come from the project itself:
// the root, workspace members, and "file:", "link:", "portal:" directories.
// They are left out. They are not published packages, and reporting them
// under an npm package URL would match them against advisories for
// unrelated public packages that happen to share the name. Tarballs and
// git checkouts are third-party code and are reported with the version
// the lockfile records. An entry with no concrete version is left out.
package npmlock

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/npm"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLockfile bounds a lockfile. Large monorepo lockfiles reach tens of
// MB; anything larger is not a lockfile anyone committed.
const maxLockfile = 64 << 20

// Cataloger reads npm, yarn, pnpm and Bun lockfiles.
type Cataloger struct{}

// New returns an npm lockfile cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "npm-lock" }

// Declared reports that lockfiles hold declared, not installed, packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts the five lockfile names outside node_modules. A lockfile
// inside node_modules came with a published package; npm ignores it and
// what is installed is read from node_modules itself.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	switch path.Base(p) {
	case "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock":
		return !strings.Contains(p, "/node_modules/")
	}
	return false
}

func (c *Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLockfile)
	if err != nil {
		return nil, err
	}
	switch path.Base(f.Path) {
	case "yarn.lock":
		return ParseYarn(ctx, b)
	case "pnpm-lock.yaml":
		return ParsePnpm(ctx, b)
	case "bun.lock":
		return ParseBun(ctx, b)
	default:
		return ParsePackageLock(ctx, b)
	}
}

// collector merges the entries of one lockfile into one package per
// name and version. A package is Dev only if every occurrence is, and
// Direct if any occurrence is.
type collector struct {
	m map[string]*inventory.Package
}

func newCollector() *collector { return &collector{m: map[string]*inventory.Package{}} }

func key(name, version string) string { return name + "@" + version }

func (c *collector) add(name, version string, dev, direct bool, licenses []string) {
	k := key(name, version)
	if p, ok := c.m[k]; ok {
		p.Dev = p.Dev && dev
		p.Direct = p.Direct || direct
		if len(p.Licenses) == 0 {
			p.Licenses = licenses
		}
		return
	}
	ns, n := npm.SplitScope(name)
	c.m[k] = &inventory.Package{
		Type:      inventory.TypeNPM,
		Namespace: ns,
		Name:      n,
		Version:   version,
		Dev:       dev,
		Direct:    direct,
		Licenses:  licenses,
	}
}

func (c *collector) has(name, version string) bool {
	_, ok := c.m[key(name, version)]
	return ok
}

func (c *collector) setDirect(name, version string) {
	if p, ok := c.m[key(name, version)]; ok {
		p.Direct = true
	}
}

func (c *collector) list() []inventory.Package {
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]inventory.Package, 0, len(keys))
	for _, k := range keys {
		out = append(out, *c.m[k])
	}
	return out
}

// splitDescriptor splits "name@range" at the first "@" that is not the
// leading one of a scope: "@babel/core@^7.0.0" gives "@babel/core" and
// "^7.0.0"; "alias@npm:real@1.0.0" gives "alias" and "npm:real@1.0.0".
func splitDescriptor(s string) (name, rest string, ok bool) {
	if len(s) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return s, "", false
	}
	i++
	return s[:i], s[i+1:], i > 0
}

// validName is a loose check of an npm package name: non-empty, no
// whitespace or control characters, at most one "/" and that only in a
// scoped name. It keeps garbage from a malformed lockfile out of the
// inventory without second-guessing legacy names with capitals.
func validName(name string) bool {
	if name == "" || len(name) > 214 {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f || r == '"' || r == '\\' {
			return false
		}
	}
	slash := strings.Count(name, "/")
	if strings.HasPrefix(name, "@") {
		scope, rest := npm.SplitScope(name)
		return slash == 1 && scope != "" && rest != ""
	}
	return slash == 0
}

// validVersion rejects versions that are really URLs, paths or ranges.
func validVersion(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f || r == '"' || r == '\\' {
			return false
		}
	}
	return !strings.ContainsAny(v, ":/")
}

// isTarball reports whether a local file: reference names a packed
// package rather than a directory.
func isTarball(ref string) bool {
	ref = strings.ToLower(ref)
	return strings.HasSuffix(ref, ".tgz") || strings.HasSuffix(ref, ".tar.gz") || strings.HasSuffix(ref, ".tar")
}

// errNotLockfile wraps a parse failure with the format that was expected.
func errNotLockfile(format string, err error) error {
	return fmt.Errorf("not a valid %s: %w", format, err)
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
