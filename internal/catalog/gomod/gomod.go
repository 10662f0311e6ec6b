// Package gomod reads the Go modules a project declares in go.mod, and
// for modules older than Go 1.17, which do not list every module the
// build needs, also those recorded in go.sum.
package gomod

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxGoMod bounds a go.mod; the largest real ones are tens of KB.
	maxGoMod = 8 << 20
	// maxGoSum bounds a go.sum; large monorepos have a few MB.
	maxGoSum = 64 << 20
	// maxModules bounds how many modules one file may yield.
	maxModules = 200_000
	// maxPending bounds how many directories may wait for the other
	// half of their go.mod and go.sum pair.
	maxPending = 10_000
)

// Cataloger reads go.mod and go.sum files.
//
// go.sum matters only beside a go.mod whose go directive is older than
// 1.17: such a go.mod names only the modules its packages import, and the
// rest of the build list is recorded in go.sum alone. The engine hands
// over one file at a time, so the cataloger pairs the two files of a
// directory within one layer itself, in whichever order they come, and
// reports the go.sum modules with go.sum as their location. That state
// belongs to one scan: use a fresh Cataloger (list.All) for each.
type Cataloger struct {
	mu      sync.Mutex
	pending map[pairKey]*pair
}

type pairKey struct {
	layer int
	dir   string
}

// pair is what is known of one directory while the other file of the
// pair has not been seen.
type pair struct {
	modSeen bool
	needSum bool            // the go.mod was older than Go 1.17
	known   map[string]bool // module paths the go.mod already accounts for
	replace []*modfile.Replace
	sum     map[string]string // the go.sum, when it came first: path → version
	sumErr  error
	sumSeen bool
}

// New returns a go.mod cataloger.
func New() *Cataloger { return &Cataloger{pending: map[pairKey]*pair{}} }

func (*Cataloger) Name() string { return "go-mod" }

// Declared reports that go.mod declares, rather than installs, modules.
func (*Cataloger) Declared() bool { return true }

// Wants accepts go.mod and go.sum outside the module cache and vendor
// trees: the go.mod of a downloaded module describes that module, not
// the project being scanned.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	switch path.Base(p) {
	case "go.mod", "go.sum":
		return !strings.Contains(p, "/pkg/mod/") && !strings.Contains(p, "/vendor/")
	}
	return false
}

func (c *Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	dir, base := path.Split(f.Path)
	k := pairKey{f.Layer, dir}
	if base == "go.sum" {
		return c.catalogSum(f, k)
	}
	b, err := f.ReadAll(maxGoMod)
	if err != nil {
		return nil, err
	}
	m, err := parseMod(ctx, b)
	if m == nil {
		return nil, err
	}
	pkgs := m.pkgs

	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[k]
	switch {
	case p != nil && p.sumSeen:
		delete(c.pending, k)
		if m.needSum {
			if p.sumErr != nil && err == nil {
				err = fmt.Errorf("%sgo.sum: %w", dir, p.sumErr)
			}
			extra := m.fromSum(p.sum)
			for i := range extra {
				extra[i].Locations = []inventory.Location{{Path: dir + "go.sum"}}
			}
			pkgs = append(pkgs, extra...)
		}
	case len(c.pending) < maxPending:
		p := &pair{modSeen: true, needSum: m.needSum}
		if m.needSum {
			p.known, p.replace = m.known, m.replace
		}
		c.pending[k] = p
	}
	return pkgs, err
}

// catalogSum reads a go.sum when its go.mod needs it, or keeps it for a
// go.mod not yet seen.
func (c *Cataloger) catalogSum(f *image.File, k pairKey) ([]inventory.Package, error) {
	c.mu.Lock()
	p := c.pending[k]
	if p != nil && p.modSeen {
		delete(c.pending, k)
	}
	full := p == nil && len(c.pending) >= maxPending
	c.mu.Unlock()
	if full || (p != nil && p.modSeen && !p.needSum) {
		return nil, nil
	}
	if p != nil && p.sumSeen {
		return nil, nil // a second go.sum entry for the same path
	}

	var sum map[string]string
	b, err := f.ReadAll(maxGoSum)
	if err == nil {
		sum, err = ParseSum(b)
	}
	if p != nil && p.modSeen {
		m := &modInfo{known: p.known, replace: p.replace, needSum: true}
		return m.fromSum(sum), err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.pending[k]; q != nil && q.modSeen {
		// The go.mod came while the go.sum was read; it cannot, since one
		// layer is walked in order, but keep the pair consistent anyway.
		delete(c.pending, k)
		if !q.needSum {
			return nil, nil
		}
		m := &modInfo{known: q.known, replace: q.replace, needSum: true}
		return m.fromSum(sum), err
	}
	c.pending[k] = &pair{sumSeen: true, sum: sum, sumErr: err}
	return nil, nil
}

// modInfo is what one go.mod declares.
type modInfo struct {
	pkgs    []inventory.Package
	needSum bool
	// known holds the module paths go.mod accounts for: the main module,
	// every required module and every replacement.
	known   map[string]bool
	replace []*modfile.Replace
}

// Parse reads a go.mod and returns the modules it requires. It reads
// go.sum's modules only through the cataloger, which pairs the files;
// ParseWithSum does both for a go.mod and go.sum in hand.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	m, err := parseMod(ctx, b)
	if m == nil {
		return nil, err
	}
	return m.pkgs, err
}

// ParseWithSum reads a go.mod and, when its go directive is older than
// 1.17, the go.sum beside it.
func ParseWithSum(ctx context.Context, mod, sum []byte) ([]inventory.Package, error) {
	m, err := parseMod(ctx, mod)
	if m == nil {
		return nil, err
	}
	pkgs := m.pkgs
	if m.needSum && sum != nil {
		s, serr := ParseSum(sum)
		if err == nil && serr != nil {
			err = fmt.Errorf("go.sum: %w", serr)
		}
		pkgs = append(pkgs, m.fromSum(s)...)
	}
	return pkgs, err
}

// parseMod reads a go.mod. Each required module is reported once, with
// Direct set unless go.mod marks it "// indirect". A replace directive
// that names another module and version is applied, and the original is
// kept in Metadata["replaces"]; one that names a local directory makes
// the module the project's own code, which is left out, as is the main
// module. exclude directives are ignored: the build list only ever holds
// required versions and their replacements. The go directive and
// toolchain are not reported as the "stdlib" package: they state the
// oldest toolchain that may build the module, not the one that does.
//
// A go.mod the strict parser rejects (a directive newer than this
// parser, say) is read again leniently, which keeps requirements but
// drops replacements; the packages then come with the error.
func parseMod(ctx context.Context, b []byte) (*modInfo, error) {
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		lax, lerr := modfile.ParseLax("go.mod", b, nil)
		if lerr != nil || len(lax.Require) == 0 {
			return nil, fmt.Errorf("not a valid go.mod: %w", err)
		}
		f, err = lax, fmt.Errorf("go.mod read without its replace directives: %w", err)
	}
	if len(f.Require) > maxModules {
		return nil, fmt.Errorf("go.mod requires more than %d modules", maxModules)
	}
	m := &modInfo{known: map[string]bool{}, replace: f.Replace}
	var main string
	if f.Module != nil {
		main = f.Module.Mod.Path
		m.known[main] = true
	}
	// A module without a go directive is treated as go 1.16 by the go
	// command, which is also where go.sum starts to matter.
	m.needSum = f.Go == nil || olderThan117(f.Go.Version)

	seen := map[string]int{}
	for i, r := range f.Require {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r == nil || r.Mod.Path == "" || r.Mod.Path == main {
			continue
		}
		m.known[r.Mod.Path] = true
		p, ok := m.module(r.Mod, !r.Indirect)
		if !ok {
			continue
		}
		k := p.Name + "@" + p.Version
		if j, dup := seen[k]; dup {
			m.pkgs[j].Direct = m.pkgs[j].Direct || p.Direct
			continue
		}
		seen[k] = len(m.pkgs)
		m.pkgs = append(m.pkgs, p)
	}
	for _, r := range f.Replace {
		m.known[r.Old.Path] = true
		if r.New.Version != "" {
			m.known[r.New.Path] = true
		}
	}
	return m, err
}

// module turns a required module into a package, applying replacements.
// It reports false for a module replaced by a local directory and for a
// path or version that is not valid.
func (m *modInfo) module(mod module.Version, direct bool) (inventory.Package, bool) {
	p := inventory.Package{Type: inventory.TypeGolang, Name: mod.Path, Version: mod.Version, Direct: direct}
	if r := findReplace(m.replace, mod); r != nil {
		if r.New.Version == "" {
			return p, false // a local directory: the project's own code
		}
		p.Name, p.Version = r.New.Path, r.New.Version
		p.Metadata = map[string]string{"replaces": mod.Path + "@" + mod.Version}
	}
	if !validModule(p.Name, p.Version) {
		return p, false
	}
	return p, true
}

// findReplace returns the replace directive for mod: one naming its exact
// version wins over one for every version of the path.
func findReplace(rs []*modfile.Replace, mod module.Version) *modfile.Replace {
	var wild *modfile.Replace
	for _, r := range rs {
		if r == nil || r.Old.Path != mod.Path {
			continue
		}
		if r.Old.Version == mod.Version {
			return r
		}
		if r.Old.Version == "" {
			wild = r
		}
	}
	return wild
}

// fromSum returns the modules of go.sum that go.mod does not account for,
// the newest version of each, as indirect dependencies. Only lines for a
// module's content count: a "/go.mod" line says that the go command read
// the module's go.mod while resolving versions, not that the build uses
// the module.
func (m *modInfo) fromSum(sum map[string]string) []inventory.Package {
	paths := make([]string, 0, len(sum))
	for p := range sum {
		if !m.known[p] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	out := make([]inventory.Package, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		pkg, ok := m.module(module.Version{Path: p, Version: sum[p]}, false)
		if !ok || seen[pkg.Name+"@"+pkg.Version] {
			continue
		}
		seen[pkg.Name+"@"+pkg.Version] = true
		out = append(out, pkg)
	}
	return out
}

// ParseSum reads a go.sum into the newest version of each module whose
// content it records. Malformed lines are skipped; a file with no
// well-formed line at all is an error.
func ParseSum(b []byte) (map[string]string, error) {
	out := map[string]string{}
	var good, bad int
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !strings.HasPrefix(f[2], "h1:") {
			bad++
			continue
		}
		good++
		p, v := f[0], f[1]
		if strings.HasSuffix(v, "/go.mod") || !validModule(p, v) {
			continue
		}
		if old, ok := out[p]; !ok || semver.Compare(v, old) > 0 {
			if !ok && len(out) >= maxModules {
				return out, fmt.Errorf("more than %d modules; the rest were not read", maxModules)
			}
			out[p] = v
		}
	}
	if good == 0 && bad > 0 {
		return nil, fmt.Errorf("not a go.sum: %d malformed lines", bad)
	}
	return out, nil
}

// validModule checks a module path and a semantic version, as the go
// command would accept them in a build list.
func validModule(p, v string) bool {
	return len(p) <= 1024 && module.CheckPath(p) == nil && semver.IsValid(v)
}

// olderThan117 reports whether a go directive's version ("1.16",
// "1.21.0", "1.22rc1") is older than Go 1.17. Versions it cannot read
// are taken as new: go.sum is then left alone, as for any modern module.
func olderThan117(v string) bool {
	maj, rest, _ := strings.Cut(v, ".")
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return a < 1 || (a == 1 && b < 17)
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
