package pylock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

type pipfileLock struct {
	Default map[string]pipfileEntry `json:"default"`
	Develop map[string]pipfileEntry `json:"develop"`
}

type pipfileEntry struct {
	// Version is "==1.2.3"; git, path and editable entries have none.
	Version string `json:"version"`
}

// ParsePipfile reads a Pipfile.lock. Packages only in "develop" are Dev;
// a package in both sections is not.
func ParsePipfile(ctx context.Context, b []byte) ([]inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var lock pipfileLock
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("not a valid Pipfile.lock: %w", err)
	}
	c := newCollector()
	for _, sec := range []struct {
		entries map[string]pipfileEntry
		dev     bool
	}{{lock.Default, false}, {lock.Develop, true}} {
		names := make([]string, 0, len(sec.entries))
		for n := range sec.entries {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			v := strings.TrimSpace(sec.entries[n].Version)
			v, ok := strings.CutPrefix(v, "===")
			if !ok {
				v, ok = strings.CutPrefix(v, "==")
			}
			v = strings.TrimSpace(v)
			if ok && validName(n) && validVersion(v) {
				c.add(n, v, sec.dev, false)
			}
		}
	}
	return c.list(), nil
}
