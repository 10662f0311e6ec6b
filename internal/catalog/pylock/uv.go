package pylock

import (
	"context"
	"fmt"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

type uvLock struct {
	Package []uvPackage `toml:"package"`
}

type uvPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	// Source has one key naming its kind: registry, git, url, path,
	// directory, editable or virtual.
	Source               map[string]any            `toml:"source"`
	Dependencies         []uvDependency            `toml:"dependencies"`
	OptionalDependencies map[string][]uvDependency `toml:"optional-dependencies"`
	DevDependencies      map[string][]uvDependency `toml:"dev-dependencies"`
}

type uvDependency struct {
	Name    string   `toml:"name"`
	Version string   `toml:"version"` // set when the name alone is ambiguous
	Extra   []string `toml:"extra"`
}

// local reports whether a package is the project's own code: the root,
// a workspace member, or a local directory.
func (p *uvPackage) local() bool {
	for _, k := range []string{"editable", "virtual", "directory"} {
		if _, ok := p.Source[k]; ok {
			return true
		}
	}
	return false
}

// ParseUV reads a uv.lock. The project's own packages are left out but
// tell the rest: what they depend on is Direct, and a package reached
// only through their dev-dependencies is Dev. Optional dependencies
// (extras) are production dependencies.
func ParseUV(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lock uvLock
	if err := decodeTOML(b, &lock); err != nil {
		return nil, fmt.Errorf("not a valid uv.lock: %w", err)
	}
	pkgs := lock.Package
	byName := map[string][]int{}
	for i := range pkgs {
		n := normName(pkgs[i].Name)
		byName[n] = append(byName[n], i)
	}
	resolve := func(d uvDependency) []int {
		var out []int
		for _, i := range byName[normName(d.Name)] {
			if d.Version == "" || d.Version == pkgs[i].Version {
				out = append(out, i)
			}
		}
		return out
	}

	// A node is a package, or a package's extra ("pkg[extra]"), whose
	// optional dependencies come along with it.
	type node struct {
		pkg   int
		extra string
	}
	walk := func(roots []uvDependency) map[int]bool {
		seen := map[node]bool{}
		reached := map[int]bool{}
		var queue []node
		push := func(d uvDependency) {
			for _, i := range resolve(d) {
				queue = append(queue, node{i, ""})
				for _, e := range d.Extra {
					queue = append(queue, node{i, e})
				}
			}
		}
		for _, d := range roots {
			push(d)
		}
		for len(queue) > 0 {
			if len(seen)%4096 == 0 && ctx.Err() != nil {
				return reached
			}
			n := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[n] {
				continue
			}
			seen[n] = true
			reached[n.pkg] = true
			p := &pkgs[n.pkg]
			deps := p.Dependencies
			if n.extra != "" {
				deps = p.OptionalDependencies[n.extra]
			}
			for _, d := range deps {
				push(d)
			}
		}
		return reached
	}

	var prodRoots, devRoots []uvDependency
	for i := range pkgs {
		p := &pkgs[i]
		if !p.local() {
			continue
		}
		prodRoots = append(prodRoots, p.Dependencies...)
		for _, deps := range p.OptionalDependencies {
			prodRoots = append(prodRoots, deps...)
		}
		for _, deps := range p.DevDependencies {
			devRoots = append(devRoots, deps...)
		}
	}
	direct := map[int]bool{}
	for _, d := range append(append([]uvDependency(nil), prodRoots...), devRoots...) {
		for _, i := range resolve(d) {
			direct[i] = true
		}
	}
	prod, dev := walk(prodRoots), walk(devRoots)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	c := newCollector()
	for i := range pkgs {
		p := &pkgs[i]
		if p.local() {
			continue
		}
		name, version := strings.TrimSpace(p.Name), strings.TrimSpace(p.Version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		c.add(name, version, dev[i] && !prod[i], direct[i])
	}
	return c.list(), nil
}
