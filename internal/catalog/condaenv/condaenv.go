// Package condaenv reads the packages a conda environment file
// (environment.yml) pins: conda packages, and the PyPI packages of its
// "pip" section.
package condaenv

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/conda"
	"github.com/seawall-dev/seawall/internal/catalog/pylock"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxEnv bounds an environment file; exported ones have a few KB.
const maxEnv = 16 << 20

// Cataloger reads conda environment files.
type Cataloger struct{}

// New returns a conda environment file cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "conda-env" }

// Declared reports that an environment file declares, rather than
// installs, packages; catalog/conda reads what an environment holds.
func (*Cataloger) Declared() bool { return true }

// Wants accepts environment.yml and environment.yaml outside installed
// package trees.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	switch path.Base(p) {
	case "environment.yml", "environment.yaml":
		return !strings.Contains(p, "/site-packages/") && !strings.Contains(p, "/node_modules/")
	}
	return false
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxEnv)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

type envFile struct {
	Dependencies []yaml.Node `yaml:"dependencies"`
}

// Parse reads an environment file. A conda dependency is reported when
// it names one version: "name=1.2.3=build" and "name 1.2.3 build" as
// `conda env export` writes them, "name==1.2.3", and "name=1.2", which
// conda reads as 1.2.*, but which is what the file says. A channel
// prefix ("conda-forge::") is dropped. Ranges, wildcards, alternatives,
// bracket options and bare names are not pins and are skipped. The "pip"
// section is read like a requirements file: "name==version" entries
// become PyPI packages. An environment file does not say which packages
// were asked for and which came along, so Direct is left unset.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var env envFile
	if err := yaml.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("not a valid environment file: %w", err)
	}
	seen := map[string]bool{}
	var pkgs []inventory.Package
	var pip []string
	for i, n := range env.Dependencies {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch n.Kind {
		case yaml.ScalarNode:
			name, version, ok := ParseSpec(n.Value)
			if !ok || seen[name+"@"+version] {
				continue
			}
			seen[name+"@"+version] = true
			pkgs = append(pkgs, inventory.Package{Type: inventory.TypeConda, Name: name, Version: version})
		case yaml.MappingNode:
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k, v := n.Content[j], n.Content[j+1]; k.Value == "pip" && v.Kind == yaml.SequenceNode {
					for _, item := range v.Content {
						if item.Kind == yaml.ScalarNode && !strings.ContainsAny(item.Value, "\r\n") {
							pip = append(pip, item.Value)
						}
					}
				}
			}
		}
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	if len(pip) == 0 {
		return pkgs, nil
	}
	py, err := pylock.ParseRequirements(ctx, []byte(strings.Join(pip, "\n")))
	if err != nil {
		err = fmt.Errorf("pip section: %w", err)
	}
	return append(pkgs, py...), err
}

// ParseSpec reads a conda match spec that pins one version and returns
// the package name (lower case, as conda treats names) and version.
func ParseSpec(s string) (name, version string, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "::"); i >= 0 {
		s = s[i+2:]
	}
	if strings.ContainsAny(s, "[]()") {
		return "", "", false
	}
	if f := strings.Fields(s); len(f) > 1 {
		// "name version [build]"
		name, version = f[0], f[1]
	} else {
		i := strings.IndexAny(s, "=<>!~")
		if i < 0 {
			return "", "", false // no version at all
		}
		var rest string
		name, rest = s[:i], s[i:]
		switch {
		case strings.HasPrefix(rest, "=="):
			version = rest[2:]
		case strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "=<") && !strings.HasPrefix(rest, "=>"):
			version = rest[1:]
		default:
			return "", "", false
		}
		version, _, _ = strings.Cut(version, "=") // the build string
	}
	name = strings.ToLower(name)
	if !conda.ValidName(name) || !conda.ValidVersion(version) || strings.HasSuffix(version, ".") {
		return "", "", false
	}
	return name, version, true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
