package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// bunLock is the text lockfile of Bun 1.1 and later (bun.lock). Its
// "packages" map goes from an install path ("a", "a/b", "@s/a/b") to a
// tuple whose first element is "name@resolution": a version for registry
// packages, "github:…", "git+…", a URL, or "file:", "link:",
// "workspace:" and "root:" for the project's own code. The info object
// with the package's dependencies follows, after the registry URL for
// registry packages.
type bunLock struct {
	LockfileVersion int                          `json:"lockfileVersion"`
	Workspaces      map[string]bunWorkspace      `json:"workspaces"`
	Packages        map[string][]json.RawMessage `json:"packages"`
}

type bunWorkspace struct {
	Name                 string            `json:"name"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

type bunInfo struct {
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

// ParseBun reads a bun.lock. A package is Direct when a workspace names
// it, and Dev when only devDependencies of workspaces lead to it; peer
// and optional dependencies count as production ones, as npm installs
// them. Git, tarball and local packages carry no version in bun.lock and
// are left out, as are workspace members. The binary bun.lockb of older
// Bun releases is not read.
func ParseBun(ctx context.Context, b []byte) ([]inventory.Package, error) {
	js, err := jsoncToJSON(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if err != nil {
		return nil, errNotLockfile("bun.lock", err)
	}
	var lock bunLock
	if err := json.Unmarshal(js, &lock); err != nil {
		return nil, errNotLockfile("bun.lock", err)
	}

	keys := make([]string, 0, len(lock.Packages))
	for k := range lock.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	type entry struct {
		name, version string // version is "" for packages not reported
		deps          []string
		ends          []int // where each package name of the install path ends
	}
	entries := make(map[string]*entry, len(keys))
	// children maps an install path to the packages installed right
	// under it, by name; "" is the top level.
	children := map[string]map[string]string{}
	for i, k := range keys {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tuple := lock.Packages[k]
		ends := bunSegmentEnds(k)
		if len(tuple) == 0 || len(k) > maxBunKey || len(ends) == 0 || len(ends) > maxNesting {
			continue
		}
		var ident string
		if json.Unmarshal(tuple[0], &ident) != nil {
			continue
		}
		name, res, ok := splitDescriptor(ident)
		if !ok {
			continue
		}
		e := &entry{name: name, ends: ends}
		if validName(name) && validVersion(res) {
			e.version = res
		}
		for _, raw := range tuple[1:] {
			if len(raw) == 0 || raw[0] != '{' {
				continue
			}
			var info bunInfo
			if json.Unmarshal(raw, &info) == nil {
				e.deps = depNames(info.Dependencies, info.OptionalDependencies, info.PeerDependencies)
			}
			break
		}
		entries[k] = e
		parent, last := "", k
		if len(ends) > 1 {
			parent, last = k[:ends[len(ends)-2]], k[ends[len(ends)-2]+1:]
		}
		if children[parent] == nil {
			children[parent] = map[string]string{}
		}
		children[parent][last] = k
	}

	// resolve finds the package that name means to the package installed
	// at from: the nearest copy up the install path, as Node resolves.
	resolve := func(from string, ends []int, name string) string {
		for i := len(ends); i >= 0; i-- {
			prefix := ""
			if i > 0 {
				prefix = from[:ends[i-1]]
			}
			if k, ok := children[prefix][name]; ok {
				return k
			}
		}
		return ""
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
			e := entries[k]
			for _, d := range e.deps {
				if r := resolve(k, e.ends, d); r != "" && !seen[r] {
					queue = append(queue, r)
				}
			}
		}
		return seen
	}

	// Workspace members are installed under their package name; the root
	// workspace ("") at the top.
	var prodRoots, devRoots []string
	direct := map[string]bool{}
	for path, ws := range lock.Workspaces {
		from := ""
		if path != "" && len(ws.Name) <= maxBunKey {
			from = ws.Name
		}
		ends := bunSegmentEnds(from)
		if len(ends) > maxNesting {
			from, ends = "", nil
		}
		for _, d := range depNames(ws.Dependencies, ws.OptionalDependencies, ws.PeerDependencies) {
			if r := resolve(from, ends, d); r != "" {
				prodRoots = append(prodRoots, r)
				direct[r] = true
			}
		}
		for _, d := range depNames(ws.DevDependencies) {
			if r := resolve(from, ends, d); r != "" {
				devRoots = append(devRoots, r)
				direct[r] = true
			}
		}
	}
	prod, dev := walk(prodRoots), walk(devRoots)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	c := newCollector()
	for _, k := range keys {
		e := entries[k]
		if e == nil || e.version == "" {
			continue
		}
		c.add(e.name, e.version, dev[k] && !prod[k], direct[k], nil)
	}
	return c.list(), nil
}

// depNames lists the names in dependency maps, sorted.
func depNames(maps ...map[string]string) []string {
	var out []string
	for _, m := range maps {
		for n := range m {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// bunSegmentEnds returns where each package name of an install path
// ends: "a/@s/b/c" holds "a", "@s/b" and "c" and gives 1, 6, 8.
func bunSegmentEnds(p string) []int {
	if p == "" {
		return nil
	}
	var ends []int
	scoped := false
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '@' && (i == 0 || p[i-1] == '/'):
			scoped = true
		case p[i] == '/' && scoped:
			scoped = false
		case p[i] == '/':
			ends = append(ends, i)
		}
	}
	return append(ends, len(p))
}

// maxBunKey bounds an install path; real ones are a few hundred bytes.
const maxBunKey = 4096

// maxJSONCDepth bounds nesting while stripping JSONC; encoding/json has
// its own limit, this one only keeps the count from overflowing.
const maxJSONCDepth = 10_000

// jsoncToJSON turns JSON with comments and trailing commas, which Bun
// writes, into plain JSON. It works in one pass over the input: a comma
// is dropped when the next thing after it, past white space and
// comments, closes an object or array.
func jsoncToJSON(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	comma := -1 // index in out of a comma not yet followed by a value
	depth := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			start := i
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return nil, errors.New("unterminated string")
			}
			out = append(out, b[start:i+1]...)
			comma = -1
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return nil, errors.New("unterminated comment")
			}
			i += end + 3
			out = append(out, ' ')
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			out = append(out, c)
		case c == ',':
			comma = len(out)
			out = append(out, c)
		case c == '}' || c == ']':
			if comma >= 0 {
				out[comma] = ' '
			}
			comma = -1
			depth--
			out = append(out, c)
		case c == '{' || c == '[':
			depth++
			if depth > maxJSONCDepth {
				return nil, errors.New("nested too deeply")
			}
			comma = -1
			out = append(out, c)
		default:
			comma = -1
			out = append(out, c)
		}
	}
	return out, nil
}
