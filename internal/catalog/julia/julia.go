// Package julia reads Manifest.toml, the file in which Julia's package
// manager records the exact packages of an environment, in the format
// of Julia 1.0 to 1.6 and the "2.0" format of later releases.
package julia

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxManifest bounds a Manifest.toml; large environments have a few
// hundred KB.
const maxManifest = 16 << 20

// Cataloger reads Julia manifests.
type Cataloger struct{}

// New returns a Julia manifest cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "julia-manifest" }

// Declared reports that a manifest declares, rather than installs,
// packages: the installed copies live in the depot, which records no
// versions.
func (*Cataloger) Declared() bool { return true }

// Wants accepts Manifest.toml, JuliaManifest.toml and the versioned
// Manifest-v1.11.toml form, outside the depot's package and registry
// trees, where they belong to installed packages or registries.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	base := path.Base(p)
	switch {
	case base == "Manifest.toml", base == "JuliaManifest.toml":
	case (strings.HasPrefix(base, "Manifest-v") || strings.HasPrefix(base, "JuliaManifest-v")) && strings.HasSuffix(base, ".toml"):
	default:
		return false
	}
	return !strings.Contains(p, "/.julia/packages/") && !strings.Contains(p, "/.julia/registries/")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxManifest)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

// Parse reads a manifest. Format 2.0 keeps the packages under "deps";
// the older format keeps them at the top level. Each package is an
// array of tables, since two packages may share a name and differ by
// UUID; the UUID is kept in Metadata["uuid"] and becomes the package
// URL's qualifier. Standard libraries have no version (before Julia
// 1.11) and are left out; so are packages developed from a local path,
// the project's own code. Entries without a valid UUID are not Julia
// packages and are skipped. The manifest does not say which packages
// Project.toml names.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		return nil, fmt.Errorf("not a valid Manifest.toml: %w", err)
	}
	entries := doc
	if f, _ := doc["manifest_format"].(string); strings.HasPrefix(f, "2.") {
		entries, _ = doc["deps"].(map[string]any)
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)

	var pkgs []inventory.Package
	seen := map[string]bool{}
	for i, name := range names {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		list, ok := entries[name].([]map[string]any)
		if !ok || !validName(name) {
			continue
		}
		for _, e := range list {
			uuid, _ := e["uuid"].(string)
			version, _ := e["version"].(string)
			if _, local := e["path"]; local || !validUUID(uuid) || !validVersion(version) {
				continue
			}
			if seen[uuid+"@"+version] {
				continue
			}
			seen[uuid+"@"+version] = true
			pkgs = append(pkgs, inventory.Package{
				Type: inventory.TypeJulia, Name: name, Version: version,
				Metadata: map[string]string{"uuid": strings.ToLower(uuid)},
			})
		}
	}
	return pkgs, nil
}

// validName checks a Julia package name: an identifier of letters,
// digits and underscores.
func validName(s string) bool {
	if s == "" || len(s) > 256 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validUUID checks the 8-4-4-4-12 hexadecimal form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// validVersion accepts the characters of a semantic version.
func validVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
