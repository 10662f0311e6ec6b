// Package npm reads installed JavaScript packages: the package.json of
// every package directory under a node_modules folder. Lockfiles, which
// say what a project declares rather than what is installed, are read by
// catalog/npmlock.
package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxManifest bounds one package.json. Real ones are a few KB; the
// biggest published ones stay well under a megabyte.
const maxManifest = 8 << 20

// Cataloger reads node_modules/**/package.json.
type Cataloger struct{}

// New returns an npm cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "npm" }

// Wants accepts ".../node_modules/<name>/package.json" and
// ".../node_modules/@scope/<name>/package.json" only. Other package.json
// files inside a package (dist/esm/package.json holding {"type":"module"})
// and the project's own package.json do not describe installed packages.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	dir, ok := strings.CutSuffix(p, "/package.json")
	if !ok {
		return false
	}
	parent, base := splitLast(dir)
	if !validDirName(base) {
		return false
	}
	if strings.HasSuffix(parent, "/node_modules") {
		return true
	}
	grand, scope := splitLast(parent)
	return len(scope) > 1 && scope[0] == '@' && strings.HasSuffix(grand, "/node_modules")
}

func splitLast(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// validDirName rejects names npm never installs under: empty, hidden
// (".bin", ".pnpm", ".cache") and scope directories themselves.
func validDirName(s string) bool {
	return s != "" && s[0] != '.' && s[0] != '@'
}

func (c *Cataloger) Catalog(_ context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxManifest)
	if err != nil {
		return nil, err
	}
	p, err := Parse(b)
	if err != nil || p == nil {
		return nil, err
	}
	return []inventory.Package{*p}, nil
}

// manifest holds the package.json fields Seawall needs. License fields
// are kept raw because real packages use several shapes for them.
type manifest struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// Parse reads one package.json. It returns nil and no error for a file
// without a name or version: such files exist inside packages and are not
// package records.
func Parse(b []byte) (*inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	name, version := strings.TrimSpace(m.Name), strings.TrimSpace(m.Version)
	if name == "" || version == "" {
		return nil, nil
	}
	ns, n := SplitScope(name)
	p := &inventory.Package{
		Type:      inventory.TypeNPM,
		Namespace: ns,
		Name:      n,
		Version:   version,
	}
	lic := Licenses(m.License)
	if len(lic) == 0 {
		lic = Licenses(m.Licenses)
	}
	p.Licenses = lic
	return p, nil
}

// SplitScope splits "@babel/core" into the scope "@babel" and the name
// "core". Unscoped names come back unchanged with an empty scope.
func SplitScope(name string) (scope, rest string) {
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 1 && i < len(name)-1 {
			return name[:i], name[i+1:]
		}
	}
	return "", name
}

// Licenses reads a "license" or legacy "licenses" value: a string
// ("MIT"), an object ({"type": "MIT", "url": …}) or an array of either.
// Shapes it does not know yield nothing rather than an error, since a
// package with an odd license field is still a package.
func Licenses(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		for _, have := range out {
			if have == s {
				return
			}
		}
		out = append(out, s)
	}
	one := func(r json.RawMessage) {
		var s string
		if json.Unmarshal(r, &s) == nil {
			add(s)
			return
		}
		var o struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		if json.Unmarshal(r, &o) == nil {
			if o.Type != "" {
				add(o.Type)
			} else {
				add(o.Name)
			}
		}
	}
	switch raw[0] {
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, r := range list {
				one(r)
			}
		}
	default:
		one(raw)
	}
	return out
}

var _ catalog.Cataloger = (*Cataloger)(nil)
