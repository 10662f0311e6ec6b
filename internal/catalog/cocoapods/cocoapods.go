// Package cocoapods reads Podfile.lock, the lockfile of CocoaPods, the
// dependency manager of Objective-C and Swift projects.
package cocoapods

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxLock bounds a Podfile.lock; big apps have a few hundred KB.
const maxLock = 16 << 20

// Cataloger reads Podfile.lock files.
type Cataloger struct{}

// New returns a Podfile.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "podfile-lock" }

// Declared reports that Podfile.lock declares, rather than installs, pods.
func (*Cataloger) Declared() bool { return true }

// Wants accepts Podfile.lock; Pods/Manifest.lock, the copy CocoaPods
// keeps beside the installed pods, is left out so that a checkout with
// both reports each pod once.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "Podfile.lock"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

type lockFile struct {
	// Pods holds "Name (version)" strings, or one-key maps from such a
	// string to the pod's own requirements.
	Pods            []yaml.Node               `yaml:"PODS"`
	Dependencies    []string                  `yaml:"DEPENDENCIES"`
	ExternalSources map[string]map[string]any `yaml:"EXTERNAL SOURCES"`
}

// Parse reads a Podfile.lock. Each entry of PODS is reported, subspecs
// too, with the name CocoaPods gives them ("GoogleUtilities/Environment");
// the package URL turns a subspec into the pod's subpath. Pods the
// Podfile names (DEPENDENCIES) are Direct. Pods from a local :path: are
// the project's own code and left out; pods from git or a podspec URL
// are kept with the version the lockfile records. CocoaPods has no
// notion of development pods beyond test targets, which the lockfile
// does not tell apart.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lf lockFile
	if err := yaml.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("not a valid Podfile.lock: %w", err)
	}
	direct := map[string]bool{}
	for _, d := range lf.Dependencies {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		direct[name] = true
	}
	local := map[string]bool{}
	for name, src := range lf.ExternalSources {
		if _, ok := src[":path"]; ok {
			local[name] = true
		}
		if _, ok := src[":path:"]; ok {
			local[name] = true
		}
	}

	seen := map[string]bool{}
	var pkgs []inventory.Package
	for i, n := range lf.Pods {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var spec string
		switch {
		case n.Kind == yaml.ScalarNode:
			spec = n.Value
		case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Kind == yaml.ScalarNode:
			spec = n.Content[0].Value
		default:
			continue
		}
		name, version, ok := splitPod(spec)
		if !ok {
			continue
		}
		root, _, _ := strings.Cut(name, "/")
		if local[root] || seen[name+"@"+version] {
			continue
		}
		seen[name+"@"+version] = true
		pkgs = append(pkgs, inventory.Package{Type: inventory.TypeCocoapods, Name: name, Version: version, Direct: direct[name]})
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// splitPod splits "Name/Subspec (1.2.3)" into the name and the version.
func splitPod(s string) (name, version string, ok bool) {
	name, rest, found := strings.Cut(strings.TrimSpace(s), " (")
	if !found || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	version = strings.TrimSuffix(rest, ")")
	if !validName(name) || !validVersion(version) {
		return "", "", false
	}
	return name, version, true
}

// validName checks a pod name, with any subspecs: no white space, no
// "+" in the pod itself (subspecs may have one: "NSData+zlib"), no
// leading ".", and no empty part.
func validName(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"\()`, r) {
			return false
		}
	}
	parts := strings.Split(s, "/")
	if strings.Contains(parts[0], "+") {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

// validVersion accepts the characters of a pod version.
func validVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+_", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
