// Package pylock reads the Python packages a project declares:
// requirements files (pinned entries only), poetry.lock, Pipfile.lock,
// uv.lock, pdm.lock and PEP 751 pylock.toml. Installed distributions are
// read by catalog/python.
//
// Packages that are the project's own code (the root project, workspace
// members, editable and local-directory sources) are left out: they are
// not published packages, and a PyPI package URL for them would match
// advisories for unrelated packages of the same name. Git and archive
// sources are third-party code and are reported with the version the
// lockfile records.
package pylock

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxLockfile bounds a lockfile; uv and poetry lockfiles of large
	// projects reach a few MB, mostly hashes.
	maxLockfile = 64 << 20
	// maxRequirements bounds a requirements file.
	maxRequirements = 16 << 20
)

// Cataloger reads Python lockfiles and requirements files.
type Cataloger struct{}

// New returns a Python lockfile cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "python-lock" }

// Declared reports that lockfiles hold declared, not installed, packages.
func (*Cataloger) Declared() bool { return true }

// kind names the format a file name implies; "" for files not wanted.
func kind(p string) string {
	dir, base := path.Split(p)
	switch base {
	case "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "pylock.toml":
		return base
	}
	if strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml") {
		return "pylock.toml"
	}
	if strings.HasSuffix(base, ".txt") && (strings.Contains(base, "requirements") || path.Base(dir) == "requirements") {
		return "requirements.txt"
	}
	return ""
}

// Wants accepts the lockfile names, "*requirements*.txt" and "*.txt" in a
// "requirements" directory, outside installed package trees: a package in
// site-packages or node_modules may ship its own requirements.txt, which
// says nothing about this project.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() || kind(p) == "" {
		return false
	}
	return !strings.Contains(p, "/site-packages/") && !strings.Contains(p, "/dist-packages/") && !strings.Contains(p, "/node_modules/")
}

func (c *Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	k := kind(f.Path)
	limit := int64(maxLockfile)
	if k == "requirements.txt" {
		limit = maxRequirements
	}
	b, err := f.ReadAll(limit)
	if err != nil {
		return nil, err
	}
	switch k {
	case "poetry.lock":
		return ParsePoetry(ctx, b)
	case "Pipfile.lock":
		return ParsePipfile(ctx, b)
	case "uv.lock":
		return ParseUV(ctx, b)
	case "pdm.lock":
		return ParsePdm(ctx, b)
	case "pylock.toml":
		return ParsePylock(ctx, b)
	default:
		return ParseRequirements(ctx, b)
	}
}

// collector merges entries into one package per name and version. A
// package is Dev only if every occurrence is, and Direct if any is.
type collector struct {
	m map[string]*inventory.Package
}

func newCollector() *collector { return &collector{m: map[string]*inventory.Package{}} }

func (c *collector) add(name, version string, dev, direct bool) {
	k := normName(name) + "@" + version
	if p, ok := c.m[k]; ok {
		p.Dev = p.Dev && dev
		p.Direct = p.Direct || direct
		return
	}
	c.m[k] = &inventory.Package{Type: inventory.TypePyPI, Name: name, Version: version, Dev: dev, Direct: direct}
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

// normName applies PEP 503 normalisation, for comparing names only; the
// package keeps the name as the file spells it.
func normName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// validName checks a PEP 508 distribution name.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(s)-1 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

// validVersion accepts the characters of PEP 440 versions, including
// local versions ("1.0+cpu") and the legacy forms pip still installs. It
// rejects wildcards, environment variables, URLs and whitespace.
func validVersion(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+!", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
