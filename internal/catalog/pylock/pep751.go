package pylock

import (
	"context"
	"fmt"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// pep751Lock is a PEP 751 lockfile: pylock.toml or pylock.<name>.toml.
type pep751Lock struct {
	Packages []struct {
		Name      string `toml:"name"`
		Version   string `toml:"version"`
		Directory *struct {
			Path string `toml:"path"`
		} `toml:"directory"`
	} `toml:"packages"`
}

// ParsePylock reads a PEP 751 pylock.toml. Packages installed from a
// local directory are left out, as are packages without a version (the
// format allows that for VCS and directory sources). The format keeps
// dependency groups per lockfile, not per package, so Dev stays unset.
func ParsePylock(ctx context.Context, b []byte) ([]inventory.Package, error) {
	var lock pep751Lock
	if err := decodeTOML(b, &lock); err != nil {
		return nil, fmt.Errorf("not a valid pylock.toml: %w", err)
	}
	c := newCollector()
	for _, p := range lock.Packages {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if p.Directory != nil {
			continue
		}
		name, version := strings.TrimSpace(p.Name), strings.TrimSpace(p.Version)
		if validName(name) && validVersion(version) {
			c.add(name, version, false, false)
		}
	}
	return c.list(), nil
}
