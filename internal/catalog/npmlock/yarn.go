package npmlock

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// ParseYarn reads a yarn.lock. Berry (yarn 2+) lockfiles are YAML and
// carry a __metadata entry; classic (yarn 1) lockfiles use yarn's own
// indented format.
//
// Neither format says which packages are dev dependencies; that needs the
// project's package.json, which a lockfile cataloger does not read.
// Berry lockfiles list each workspace's dependencies, which gives Direct.
func ParseYarn(ctx context.Context, b []byte) ([]inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if isBerry(b) {
		return parseBerry(ctx, b)
	}
	return parseClassic(ctx, b)
}

func isBerry(b []byte) bool {
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		if string(bytes.TrimRight(line, "\r")) == "__metadata:" {
			return true
		}
		b = rest
	}
	return false
}

// classicEntry is one block of a classic yarn.lock:
//
//	"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
//	  version "7.12.13"
//	  resolved "https://registry.yarnpkg.com/…"
type classicEntry struct {
	descriptors []string
	name        string // the optional "name" field: the manifest's name
	version     string
}

func parseClassic(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var (
		entries  []classicEntry
		cur      = -1
		bad      int
		firstBad int
	)
	lineNo := 0
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		lineNo++
		if lineNo%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s := strings.TrimRight(string(line), "\r")
		if strings.TrimSpace(s) == "" || s[0] == '#' {
			continue
		}
		indent := len(s) - len(strings.TrimLeft(s, " "))
		switch {
		case indent == 0:
			cur = -1
			descs, ok := splitHeader(s)
			if !ok {
				if bad == 0 {
					firstBad = lineNo
				}
				bad++
				continue
			}
			entries = append(entries, classicEntry{descriptors: descs})
			cur = len(entries) - 1
		case indent == 2 && cur >= 0:
			k, v, ok := classicField(s[2:])
			if !ok {
				continue
			}
			switch k {
			case "version":
				entries[cur].version = v
			case "name":
				entries[cur].name = v
			}
		}
	}

	c := newCollector()
	for _, e := range entries {
		name, version, ok := classicPackage(e)
		if ok {
			c.add(name, version, false, false, nil)
		}
	}
	pkgs := c.list()
	if bad > 0 {
		err := fmt.Errorf("yarn.lock: %d malformed entry headers, the first on line %d", bad, firstBad)
		if len(pkgs) == 0 {
			return nil, err
		}
		return pkgs, err
	}
	return pkgs, nil
}

// splitHeader splits an entry header line, without its final colon, into
// descriptors: `"a@^1.0.0", a@^1.1.0:` gives a@^1.0.0 and a@^1.1.0.
func splitHeader(s string) ([]string, bool) {
	s, ok := strings.CutSuffix(s, ":")
	if !ok {
		return nil, false
	}
	var out []string
	for _, d := range strings.Split(s, ", ") {
		d = unquote(strings.TrimSpace(d))
		if d == "" {
			return nil, false
		}
		out = append(out, d)
	}
	return out, len(out) > 0
}

// classicField splits `version "1.2.3"` (or `"version" "1.2.3"`) into key
// and value. A key with no value opens a nested block and is not a field.
func classicField(s string) (k, v string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", false
		}
		k, v = s[1:end+1], s[end+2:]
	} else {
		k, v, _ = strings.Cut(s, " ")
	}
	k = strings.TrimSuffix(k, ":")
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "", false
	}
	return k, unquote(v), true
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// classicPackage names the package an entry resolved to. The first
// descriptor gives the name, or the real name behind an "npm:" alias; an
// entry reached through a local protocol is the project's own code.
func classicPackage(e classicEntry) (name, version string, ok bool) {
	for _, d := range e.descriptors {
		_, rng, _ := splitDescriptor(d)
		if isLocalRange(rng) {
			return "", "", false
		}
	}
	// A descriptor without a range ("balanced-match:") is just a name.
	name, rng, _ := splitDescriptor(e.descriptors[0])
	if alias, isAlias := strings.CutPrefix(rng, "npm:"); isAlias {
		if real, _, ok := splitDescriptor(alias); ok {
			name = real
		}
	}
	if e.name != "" {
		name = e.name
	}
	version = strings.TrimSpace(e.version)
	return name, version, validName(name) && validVersion(version)
}

// isLocalRange reports whether a descriptor range points into the
// project: a workspace, a linked or portal directory, a file: directory.
func isLocalRange(rng string) bool {
	for _, p := range []string{"workspace:", "link:", "portal:", "exec:"} {
		if strings.HasPrefix(rng, p) {
			return true
		}
	}
	if ref, ok := strings.CutPrefix(rng, "file:"); ok {
		return !isTarball(ref)
	}
	return false
}

type berryEntry struct {
	Version      string            `yaml:"version"`
	Resolution   string            `yaml:"resolution"`
	Dependencies map[string]string `yaml:"dependencies"`
}

// berry kinds of resolution.
const (
	berryPackage = iota
	berryWorkspace
	berryLocal
	berryInvalid
)

func parseBerry(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, errNotLockfile("yarn.lock", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("yarn.lock: top level is not a mapping")
	}
	c := newCollector()
	byDescriptor := map[string]string{} // "a@npm:^1.0.0" → collector key
	var workspaces []berryEntry
	bad := 0
	// The nodes are walked by hand rather than decoded into a map so that
	// a duplicated key, which yaml.v3 rejects, costs one entry, not the file.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if i%8192 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		k := root.Content[i].Value
		if k == "__metadata" {
			continue
		}
		var e berryEntry
		if err := root.Content[i+1].Decode(&e); err != nil {
			bad++
			continue
		}
		res := e.Resolution
		if res == "" {
			res, _, _ = strings.Cut(k, ",")
		}
		name, version, kind := berryResolve(strings.TrimSpace(res), strings.TrimSpace(e.Version), 0)
		switch kind {
		case berryWorkspace:
			workspaces = append(workspaces, e)
			continue
		case berryLocal:
			continue
		case berryInvalid:
			bad++
			continue
		}
		if !validName(name) || !validVersion(version) {
			continue
		}
		c.add(name, version, false, false, nil)
		for _, d := range strings.Split(k, ",") {
			d = strings.TrimSpace(d)
			byDescriptor[d] = key(name, version)
			// Local descriptors carry the workspace that asked for them
			// ("::locator=app%40workspace%3A."); the workspace's own
			// dependency list does not.
			if short, _, ok := strings.Cut(d, "::"); ok {
				byDescriptor[short] = key(name, version)
			}
		}
	}
	for _, ws := range workspaces {
		for n, r := range ws.Dependencies {
			for _, d := range []string{n + "@" + r, n + "@npm:" + r} {
				if k, ok := byDescriptor[d]; ok {
					c.m[k].Direct = true
					break
				}
			}
		}
	}
	pkgs := c.list()
	if bad > 0 && len(pkgs) == 0 {
		return nil, fmt.Errorf("yarn.lock: %d entries without a usable resolution and no packages", bad)
	}
	return pkgs, nil
}

// berryResolve reads a berry resolution such as "lodash@npm:4.17.21".
// Patched packages ("resolve@patch:resolve@npm%3A1.22.8#~builtin<…>") and
// virtual ones (peer-dependency instances, "x@virtual:abc#npm:1.0.0")
// resolve to the npm package underneath.
func berryResolve(res, version string, depth int) (string, string, int) {
	if depth > 4 {
		return "", "", berryInvalid
	}
	name, ref, ok := splitDescriptor(res)
	if !ok {
		return "", "", berryInvalid
	}
	switch {
	case version == "0.0.0-use.local" || strings.HasPrefix(ref, "workspace:"):
		return "", "", berryWorkspace
	case strings.HasPrefix(ref, "npm:"):
		v, _, _ := strings.Cut(ref[len("npm:"):], "::")
		if real, ver, ok := splitDescriptor(v); ok {
			return real, ver, berryPackage
		}
		return name, v, berryPackage
	case strings.HasPrefix(ref, "patch:"):
		inner, _, _ := strings.Cut(ref[len("patch:"):], "#")
		if u, err := url.PathUnescape(inner); err == nil {
			inner = u
		}
		return berryResolve(inner, version, depth+1)
	case strings.HasPrefix(ref, "virtual:"):
		_, inner, ok := strings.Cut(ref, "#")
		if !ok {
			return "", "", berryInvalid
		}
		return berryResolve(name+"@"+inner, version, depth+1)
	case isLocalRange(strings.SplitN(ref, "#", 2)[0]):
		return "", "", berryLocal
	}
	// git, github:, https: tarballs: the entry's version is the package's.
	return name, version, berryPackage
}
