package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog/npm"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxNesting bounds the recursion into a v1 lockfile's nested
// "dependencies". npm trees nest a few levels; a deeper file is hostile.
const maxNesting = 128

type packageLock struct {
	LockfileVersion int `json:"lockfileVersion"`
	// Packages is the v2/v3 form: install path → package.
	Packages map[string]lockPackage `json:"packages"`
	// Dependencies is the v1 form: name → package, nested.
	Dependencies map[string]lockDependency `json:"dependencies"`
}

type lockPackage struct {
	Name     string `json:"name"` // set when it differs from the path: aliases
	Version  string `json:"version"`
	Resolved string `json:"resolved"`
	Link     bool   `json:"link"`
	Dev      bool   `json:"dev"`

	License json.RawMessage `json:"license"`

	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

type lockDependency struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Dependencies map[string]lockDependency `json:"dependencies"`
}

// ParsePackageLock reads package-lock.json or npm-shrinkwrap.json. It
// reads the "packages" map of v2 and v3 lockfiles and falls back to the
// nested "dependencies" of v1.
//
// "dev": true marks a Dev package. "devOptional" does not: npm sets it on
// packages that are also an optional dependency of a production package,
// and `npm ci --omit=dev` still installs those.
func ParsePackageLock(ctx context.Context, b []byte) ([]inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var lock packageLock
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, errNotLockfile("package-lock.json", err)
	}
	c := newCollector()
	if len(lock.Packages) > 0 {
		if err := fromPackages(ctx, lock.Packages, c); err != nil {
			return nil, err
		}
		return c.list(), nil
	}
	if err := fromDependencies(ctx, lock.Dependencies, 0, c); err != nil {
		return nil, err
	}
	return c.list(), nil
}

// fromPackages reads the v2/v3 "packages" map. Its keys are install
// paths: "" is the root project, "node_modules/a/node_modules/@s/b" a
// nested package, and a key outside any node_modules ("packages/web",
// "deps/etag") is a workspace member or a local directory that a
// "link": true entry under node_modules points at.
func fromPackages(ctx context.Context, pkgs map[string]lockPackage, c *collector) error {
	paths := make([]string, 0, len(pkgs))
	for p := range pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	// A package is direct when the root or a workspace member names it
	// and it resolves to the copy next to that project.
	direct := map[string]bool{}
	for _, p := range paths {
		if isInstallPath(p) {
			continue
		}
		e := pkgs[p]
		for _, deps := range []map[string]string{e.Dependencies, e.DevDependencies, e.OptionalDependencies, e.PeerDependencies} {
			for name := range deps {
				for _, cand := range []string{joinPath(p, "node_modules/"+name), "node_modules/" + name} {
					if _, ok := pkgs[cand]; ok {
						direct[cand] = true
						break
					}
				}
			}
		}
	}

	for i, p := range paths {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !isInstallPath(p) {
			continue
		}
		e := pkgs[p]
		if e.Link {
			continue // the target is a local directory, see above
		}
		name := e.Name
		if name == "" {
			name = p[strings.LastIndex(p, "node_modules/")+len("node_modules/"):]
		}
		version := strings.TrimSpace(e.Version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		c.add(name, version, e.Dev, direct[p], npm.Licenses(e.License))
	}
	return nil
}

// isInstallPath reports whether a "packages" key is a path under some
// node_modules directory.
func isInstallPath(p string) bool {
	return strings.HasPrefix(p, "node_modules/") || strings.Contains(p, "/node_modules/")
}

func joinPath(dir, rest string) string {
	if dir == "" {
		return rest
	}
	return dir + "/" + rest
}

// fromDependencies reads the v1 "dependencies" tree. A v1 entry's
// "version" is a version for registry packages, "npm:real@1.2.3" for an
// alias, and a URL or "file:" path for git, tarball and local packages;
// those carry no version and are left out.
func fromDependencies(ctx context.Context, deps map[string]lockDependency, depth int, c *collector) error {
	if depth > maxNesting {
		return fmt.Errorf("package-lock.json: dependencies nested deeper than %d levels", maxNesting)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		d := deps[name]
		n, v := name, strings.TrimSpace(d.Version)
		if rest, ok := strings.CutPrefix(v, "npm:"); ok {
			if real, ver, ok := splitDescriptor(rest); ok {
				n, v = real, ver
			}
		}
		if validName(n) && validVersion(v) {
			c.add(n, v, d.Dev, false, nil)
		}
		if len(d.Dependencies) > 0 {
			if err := fromDependencies(ctx, d.Dependencies, depth+1, c); err != nil {
				return err
			}
		}
	}
	return nil
}
