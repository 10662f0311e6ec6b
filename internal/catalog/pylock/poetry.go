package pylock

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/seawall-dev/seawall/internal/inventory"
)

type poetryLock struct {
	Package []poetryPackage `toml:"package"`
}

type poetryPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	// Category is "main" or "dev" in lockfiles before Poetry 1.2.
	Category string `toml:"category"`
	// Groups lists the dependency groups that need the package, in
	// lockfiles from Poetry 2.
	Groups []string `toml:"groups"`
	Source struct {
		Type string `toml:"type"` // "", "legacy", "git", "url", "file", "directory"
	} `toml:"source"`
}

// ParsePoetry reads a poetry.lock. Poetry before 1.2 marks dev packages
// with category = "dev"; Poetry 2 lists each package's groups, and a
// package outside the "main" group is Dev. Lockfiles between the two
// carry neither, and Dev stays unset: that needs pyproject.toml.
// Path dependencies (source type "directory") are local code and left out.
func ParsePoetry(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lock poetryLock
	if err := decodeTOML(b, &lock); err != nil {
		return nil, fmt.Errorf("not a valid poetry.lock: %w", err)
	}
	c := newCollector()
	for _, p := range lock.Package {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if p.Source.Type == "directory" {
			continue
		}
		name, version := strings.TrimSpace(p.Name), strings.TrimSpace(p.Version)
		if !validName(name) || !validVersion(version) {
			continue
		}
		dev := p.Category == "dev" || (len(p.Groups) > 0 && !slices.Contains(p.Groups, "main"))
		c.add(name, version, dev, false)
	}
	return c.list(), nil
}

func decodeTOML(b []byte, v any) error {
	_, err := toml.Decode(string(b), v)
	return err
}
