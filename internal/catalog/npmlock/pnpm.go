package npmlock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxDocuments bounds the YAML documents read from one pnpm-lock.yaml.
// pnpm writes one, or two when it also locks its own version.
const maxDocuments = 8

type pnpmLock struct {
	LockfileVersion yaml.Node `yaml:"lockfileVersion"`

	// v5 and v6 without workspaces list the root's dependencies at the
	// top level; workspaces and v9 use importers.
	Dependencies         map[string]yaml.Node    `yaml:"dependencies"`
	DevDependencies      map[string]yaml.Node    `yaml:"devDependencies"`
	OptionalDependencies map[string]yaml.Node    `yaml:"optionalDependencies"`
	Importers            map[string]pnpmImporter `yaml:"importers"`

	Packages  map[string]pnpmPackage  `yaml:"packages"`
	Snapshots map[string]pnpmSnapshot `yaml:"snapshots"`
}

type pnpmImporter struct {
	Dependencies               map[string]yaml.Node `yaml:"dependencies"`
	DevDependencies            map[string]yaml.Node `yaml:"devDependencies"`
	OptionalDependencies       map[string]yaml.Node `yaml:"optionalDependencies"`
	PackageManagerDependencies map[string]yaml.Node `yaml:"packageManagerDependencies"`
	ConfigDependencies         map[string]yaml.Node `yaml:"configDependencies"`
}

type pnpmPackage struct {
	Resolution struct {
		Directory string `yaml:"directory"`
		Type      string `yaml:"type"`
	} `yaml:"resolution"`
	// Name and Version are set when the key does not hold them: tarball,
	// git and local packages.
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Dev     *bool  `yaml:"dev"`
}

type pnpmSnapshot struct {
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

// ParsePnpm reads a pnpm-lock.yaml.
//
// Package keys differ by lockfile version: "/name/1.2.3_peer@1.0.0" in
// v5, "/name@1.2.3(peer@1.0.0)" in v6 and "name@1.2.3" in v9, where peer
// variants move to "snapshots". The peer suffix is not part of the
// version. v5 and v6 mark dev-only packages with "dev: true"; v9 does not,
// so Dev is worked out from the importers: a package is Dev when only
// devDependencies reach it through the snapshot graph.
func ParsePnpm(ctx context.Context, b []byte) ([]inventory.Package, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	c := newCollector()
	seen := false
	for n := 0; ; n++ {
		if n == maxDocuments {
			return nil, fmt.Errorf("pnpm-lock.yaml: more than %d YAML documents", maxDocuments)
		}
		var lock pnpmLock
		err := dec.Decode(&lock)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errNotLockfile("pnpm-lock.yaml", err)
		}
		if lock.LockfileVersion.Kind == 0 && len(lock.Packages) == 0 {
			continue // empty document
		}
		seen = true
		if lock.isPackageManagerOnly() {
			continue
		}
		if err := lock.collect(ctx, c); err != nil {
			return nil, err
		}
	}
	if !seen {
		return nil, nil
	}
	return c.list(), nil
}

// isPackageManagerOnly reports whether a document only locks pnpm itself
// (packageManagerDependencies), which pnpm 10 writes as a separate first
// document. pnpm is not a dependency of the project.
func (l *pnpmLock) isPackageManagerOnly() bool {
	if len(l.Importers) == 0 || len(l.Dependencies)+len(l.DevDependencies)+len(l.OptionalDependencies) > 0 {
		return false
	}
	env := false
	for _, imp := range l.Importers {
		if len(imp.Dependencies)+len(imp.DevDependencies)+len(imp.OptionalDependencies) > 0 {
			return false
		}
		env = env || len(imp.PackageManagerDependencies)+len(imp.ConfigDependencies) > 0
	}
	return env
}

func (l *pnpmLock) version() (float64, error) {
	if l.LockfileVersion.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("pnpm-lock.yaml: no lockfileVersion")
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(l.LockfileVersion.Value), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("pnpm-lock.yaml: lockfileVersion %q is not a number", l.LockfileVersion.Value)
	}
	return v, nil
}

func (l *pnpmLock) collect(ctx context.Context, c *collector) error {
	ver, err := l.version()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(l.Packages))
	for k := range l.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	byKey := make(map[string][2]string, len(keys))
	var devOnly map[string]bool
	if ver >= 9 {
		devOnly = l.devOnly(ctx)
	}

	for i, k := range keys {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		e := l.Packages[k]
		if e.Resolution.Directory != "" || e.Resolution.Type == "directory" {
			continue // a local directory: the project's own code
		}
		name, version := parsePnpmKey(k, ver)
		if e.Name != "" {
			name = e.Name
		}
		if e.Version != "" {
			version = e.Version
		}
		name, version = strings.TrimSpace(name), strings.TrimSpace(version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		dev := e.Dev != nil && *e.Dev
		if ver >= 9 && e.Dev == nil {
			dev = devOnly[k]
		}
		c.add(name, version, dev, false, nil)
		byKey[k] = [2]string{name, version}
	}

	for _, d := range l.directRefs() {
		if nv, ok := lookupRef(byKey, d[0], d[1]); ok {
			c.setDirect(nv[0], nv[1])
		} else if n, v, ok := resolveRef(d[0], d[1], ver); ok {
			c.setDirect(n, v)
		}
	}
	return nil
}

// lookupRef finds the package a dependency reference points at by the
// key pnpm would have written for it: "/a/1.0.0_peer" (v5),
// "/a@1.0.0(peer)" (v6), "a@1.0.0" (v9), or the reference itself when it
// is a key (tarballs, aliases).
func lookupRef(byKey map[string][2]string, name, ref string) ([2]string, bool) {
	if ref == "" {
		return [2]string{}, false
	}
	for _, k := range []string{ref, "/" + name + "/" + ref, "/" + name + "@" + ref, name + "@" + ref, packageOfSnapshot(name + "@" + ref), packageOfSnapshot(ref)} {
		if nv, ok := byKey[k]; ok {
			return nv, true
		}
	}
	return [2]string{}, false
}

// parsePnpmKey reads a name and version from a package key. The version
// is empty when the key holds a URL or path instead (tarballs, git), and
// both are empty for keys it does not understand.
func parsePnpmKey(k string, ver float64) (name, version string) {
	sep := "@"
	if ver < 6 {
		sep = "/"
	}
	if ver < 9 {
		// "/name/1.0.0", "registry.example/@s/n/1.0.0": drop the registry.
		i := strings.IndexByte(k, '/')
		if i < 0 {
			return "", ""
		}
		k = k[i+1:]
	} else {
		k = strings.TrimPrefix(k, "/")
	}
	scope := ""
	if strings.HasPrefix(k, "@") {
		var ok bool
		scope, k, ok = strings.Cut(k, "/")
		if !ok {
			return "", ""
		}
	}
	name, version, ok := strings.Cut(k, sep)
	if !ok || name == "" {
		return "", ""
	}
	if scope != "" {
		name = scope + "/" + name
	}
	version = trimPeers(version)
	if version == "" || version[0] < '0' || version[0] > '9' {
		// A URL or path: the entry's own version field may say more.
		return name, ""
	}
	return name, version
}

// trimPeers drops a peer-dependency suffix: "7.21.5_@babel+core@7.21.8"
// (v5) and "7.21.5(@babel/core@7.20.7)" (v6+) are both 7.21.5.
func trimPeers(v string) string {
	if i := strings.IndexAny(v, "_("); i >= 0 {
		return v[:i]
	}
	return v
}

// importerVersion reads a dependency's resolved version from an importer
// or top-level dependency map: a plain string in v5, {specifier, version}
// from v6 on.
func importerVersion(n yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strings.TrimSpace(n.Value)
	case yaml.MappingNode:
		var v struct {
			Version string `yaml:"version"`
		}
		if n.Decode(&v) == nil {
			return strings.TrimSpace(v.Version)
		}
	}
	return ""
}

// resolveRef turns a dependency reference (name, version as an importer
// or snapshot states it) into the package it names. An alias states the
// real package: "/real/1.0.0" (v5), "/real@1.0.0" (v6), "real@1.0.0" (v9).
func resolveRef(name, ref string, ver float64) (string, string, bool) {
	switch {
	case ref == "" || strings.HasPrefix(ref, "link:") || strings.HasPrefix(ref, "file:"):
		return "", "", false
	case ref[0] >= '0' && ref[0] <= '9':
		return name, trimPeers(ref), true
	case strings.HasPrefix(ref, "/") && ver < 9:
		n, v := parsePnpmKey(ref, ver)
		return n, v, n != "" && v != ""
	}
	n, v := parsePnpmKey(ref, 9)
	return n, v, n != "" && v != ""
}

// directRefs lists the (name, reference) pairs the root or any workspace
// project depends on directly.
func (l *pnpmLock) directRefs() [][2]string {
	var out [][2]string
	add := func(m map[string]yaml.Node) {
		for name, n := range m {
			out = append(out, [2]string{name, importerVersion(n)})
		}
	}
	add(l.Dependencies)
	add(l.DevDependencies)
	add(l.OptionalDependencies)
	for _, imp := range l.Importers {
		add(imp.Dependencies)
		add(imp.DevDependencies)
		add(imp.OptionalDependencies)
	}
	return out
}

// devOnly walks the v9 snapshot graph from the importers and returns the
// package keys ("name@1.0.0") that only devDependencies reach.
func (l *pnpmLock) devOnly(ctx context.Context) map[string]bool {
	snapKey := func(name, ref string) (string, bool) {
		switch {
		case ref == "" || strings.HasPrefix(ref, "link:") || strings.HasPrefix(ref, "file:"):
			return "", false
		case ref[0] >= '0' && ref[0] <= '9':
			return name + "@" + ref, true
		}
		return ref, true // an alias: "real@1.0.0(peer@2.0.0)"
	}
	walk := func(roots []string) map[string]bool {
		seen := map[string]bool{}
		queue := append([]string(nil), roots...)
		for len(queue) > 0 {
			if len(seen)%4096 == 0 && ctx.Err() != nil {
				return seen
			}
			k := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[k] {
				continue
			}
			seen[k] = true
			s := l.Snapshots[k]
			for _, m := range []map[string]string{s.Dependencies, s.OptionalDependencies} {
				for n, ref := range m {
					if sk, ok := snapKey(n, strings.TrimSpace(ref)); ok && !seen[sk] {
						queue = append(queue, sk)
					}
				}
			}
		}
		return seen
	}
	var prod, dev []string
	for _, imp := range l.Importers {
		for _, m := range []map[string]yaml.Node{imp.Dependencies, imp.OptionalDependencies} {
			for n, node := range m {
				if k, ok := snapKey(n, importerVersion(node)); ok {
					prod = append(prod, k)
				}
			}
		}
		for n, node := range imp.DevDependencies {
			if k, ok := snapKey(n, importerVersion(node)); ok {
				dev = append(dev, k)
			}
		}
	}
	if len(dev) == 0 {
		return nil
	}
	inProd, inDev := walk(prod), walk(dev)
	pkgProd := map[string]bool{}
	for k := range inProd {
		pkgProd[packageOfSnapshot(k)] = true
	}
	out := map[string]bool{}
	for k := range inDev {
		if p := packageOfSnapshot(k); !pkgProd[p] {
			out[p] = true
		}
	}
	return out
}

// packageOfSnapshot drops the peer suffix of a v9 snapshot key:
// "a@1.0.0(b@2.0.0)" belongs to the package "a@1.0.0".
func packageOfSnapshot(k string) string {
	if i := strings.IndexByte(k, '('); i > 0 {
		return k[:i]
	}
	return k
}
