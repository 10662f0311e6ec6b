// Package conan reads conan.lock, the lockfile of the Conan C and C++
// package manager: the graph lockfiles of Conan 1 (format 0.4 and the
// "pref" nodes of older ones) and the flat lockfiles of Conan 2 (0.5).
package conan

import (
	"bytes"
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

// maxLock bounds a conan.lock; Conan 1 lockfiles carry every option of
// every node and reach a few MB.
const maxLock = 64 << 20

// Cataloger reads conan.lock files.
type Cataloger struct{}

// New returns a conan.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "conan-lock" }

// Declared reports that conan.lock declares, rather than installs, packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts conan.lock, the name Conan writes by default; a lockfile
// that was given another name with --lockfile-out is not recognised.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "conan.lock"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

type lockFile struct {
	GraphLock *struct {
		Nodes map[string]node `json:"nodes"`
	} `json:"graph_lock"`
	// Conan 2 lists references by kind.
	Requires       []string `json:"requires"`
	BuildRequires  []string `json:"build_requires"`
	PythonRequires []string `json:"python_requires"`
}

type node struct {
	Ref           string  `json:"ref"`
	PRef          string  `json:"pref"` // lockfiles before 0.4: "name/version#rrev:package_id#prev"
	Path          string  `json:"path"`
	Context       string  `json:"context"`
	Requires      nodeIDs `json:"requires"`
	BuildRequires nodeIDs `json:"build_requires"`
}

// nodeIDs reads a node's requirements: a list of node ids, or, in old
// lockfiles, a map from package name to node id.
type nodeIDs []string

func (n *nodeIDs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		for _, id := range m {
			*n = append(*n, id)
		}
		sort.Strings(*n)
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*n = l
	return nil
}

// Parse reads a conan.lock. A reference "name/version@user/channel#rrev"
// gives the package name and version; a user and channel, which mark a
// package that is not from ConanCenter, go into Metadata.
//
// In a Conan 1 graph, nodes with a "path" are the project's own
// conanfile and are left out; what they require is Direct. Nodes in the
// "build" context (tools such as cmake) are Dev. Conan 2 lockfiles list
// references without a graph: build and python requirements are Dev,
// and Direct is not known.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &lf); err != nil {
		return nil, fmt.Errorf("not a valid conan.lock: %w", err)
	}
	c := &collector{m: map[string]*inventory.Package{}}
	if lf.GraphLock != nil {
		nodes := lf.GraphLock.Nodes
		direct := map[string]bool{}
		for _, n := range nodes {
			if n.Path != "" {
				for _, id := range append(append([]string(nil), n.Requires...), n.BuildRequires...) {
					direct[id] = true
				}
			}
		}
		ids := make([]string, 0, len(nodes))
		for id := range nodes {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for i, id := range ids {
			if i%4096 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			n := nodes[id]
			if n.Path != "" {
				continue
			}
			ref := n.Ref
			if ref == "" {
				ref = n.PRef
			}
			c.add(ref, n.Context == "build", direct[id])
		}
		return c.list(), nil
	}
	for _, r := range lf.Requires {
		c.add(r, false, false)
	}
	for _, r := range append(append([]string(nil), lf.BuildRequires...), lf.PythonRequires...) {
		c.add(r, true, false)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return c.list(), nil
}

// collector merges references into one package per name, version, user
// and channel: Dev only if every occurrence is, Direct if any is.
type collector struct {
	m map[string]*inventory.Package
}

func (c *collector) add(ref string, dev, direct bool) {
	name, version, user, channel, ok := ParseRef(ref)
	if !ok {
		return
	}
	k := name + "/" + version + "@" + user + "/" + channel
	if p, ok := c.m[k]; ok {
		p.Dev = p.Dev && dev
		p.Direct = p.Direct || direct
		return
	}
	p := &inventory.Package{Type: inventory.TypeConan, Name: name, Version: version, Dev: dev, Direct: direct}
	if user != "" {
		p.Metadata = map[string]string{"user": user}
		if channel != "" {
			p.Metadata["channel"] = channel
		}
	}
	c.m[k] = p
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

// ParseRef splits a Conan reference, "name/version[@user[/channel]]",
// optionally followed by "#revision", "%timestamp" or, for a package
// reference, ":package_id#revision".
func ParseRef(ref string) (name, version, user, channel string, ok bool) {
	ref = strings.TrimSpace(ref)
	if i := strings.IndexAny(ref, "#%:"); i >= 0 {
		ref = ref[:i]
	}
	ref, uc, _ := strings.Cut(ref, "@")
	name, version, found := strings.Cut(ref, "/")
	if !found || !validPart(name) || !validPart(version) {
		return "", "", "", "", false
	}
	if uc != "" {
		user, channel, _ = strings.Cut(uc, "/")
		if !validPart(user) || (channel != "" && !validPart(channel)) {
			return "", "", "", "", false
		}
		if user == "_" { // Conan's placeholder for "no user"
			user, channel = "", ""
		}
	}
	return name, version, user, channel, true
}

// validPart checks one part of a reference: Conan allows letters,
// digits, "_", "-", "+" and "." (and versions may hold "[]" ranges,
// which a lockfile never does).
func validPart(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-+.", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
