package match

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
)

// memDB is an in-memory Advisories. It indexes records the way
// internal/vulndb does: by each affected entry's ecosystem, exactly, and
// name, normalised as the ecosystem's registry normalises it.
type memDB struct {
	byKey map[[2]string][]*osv.Vulnerability
	ecos  map[string]bool
	ids   map[string]*osv.Vulnerability
}

func newMemDB(recs ...*osv.Vulnerability) *memDB {
	d := &memDB{byKey: map[[2]string][]*osv.Vulnerability{}, ecos: map[string]bool{}, ids: map[string]*osv.Vulnerability{}}
	for _, r := range recs {
		d.add(r)
	}
	return d
}

func (d *memDB) add(v *osv.Vulnerability) {
	if old := d.ids[v.ID]; old != nil {
		return // first one wins, as a re-import of the same ID would replace it
	}
	d.ids[v.ID] = v
	seen := map[[2]string]bool{}
	for _, a := range v.Affected {
		k := [2]string{a.Package.Ecosystem, inventory.NormalizeName(a.Package.Ecosystem, a.Package.Name)}
		if a.Package.Ecosystem == "" || seen[k] {
			continue
		}
		seen[k] = true
		d.ecos[a.Package.Ecosystem] = true
		d.byKey[k] = append(d.byKey[k], v)
	}
}

func (d *memDB) Ecosystems() []string {
	out := make([]string, 0, len(d.ecos))
	for e := range d.ecos {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func (d *memDB) Lookup(_ context.Context, eco, name string) ([]*osv.Vulnerability, error) {
	recs := append([]*osv.Vulnerability(nil), d.byKey[[2]string{eco, inventory.NormalizeName(eco, name)}]...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i] != nil && (recs[j] == nil || recs[i].ID < recs[j].ID) })
	return recs, nil
}

var _ Advisories = (*memDB)(nil)

// loadRecords reads every OSV record under the paths: JSON files holding
// one record, an array of them or {"vulns": [...]}, and YAML files (PyPA's
// format), converted to JSON first. The real parser lives in internal/osv;
// tests read with encoding/json so that matching is tested on its own.
func loadRecords(t testing.TB, paths ...string) []*osv.Vulnerability {
	t.Helper()
	var out []*osv.Vulnerability
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			ext := filepath.Ext(path)
			if ext != ".json" && ext != ".yaml" && ext != ".yml" {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if ext != ".json" {
				var doc yaml.Node
				if err := yaml.Unmarshal(b, &doc); err != nil {
					t.Logf("skipping %s: %v", path, err)
					return nil
				}
				if b, err = json.Marshal(yamlValue(&doc)); err != nil {
					t.Logf("skipping %s: %v", path, err)
					return nil
				}
			}
			recs, err := decodeRecords(b)
			if err != nil {
				t.Logf("skipping %s: %v", path, err)
				return nil
			}
			out = append(out, recs...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func decodeRecords(b []byte) ([]*osv.Vulnerability, error) {
	trimmed := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(trimmed, "["):
		var recs []*osv.Vulnerability
		return recs, json.Unmarshal(b, &recs)
	case strings.Contains(trimmed[:min(len(trimmed), 200)], `"vulns"`):
		var doc struct {
			Vulns []*osv.Vulnerability `json:"vulns"`
		}
		if err := json.Unmarshal(b, &doc); err == nil && len(doc.Vulns) > 0 {
			return doc.Vulns, nil
		}
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, nil
	}
	return []*osv.Vulnerability{&v}, nil
}

// yamlValue converts a YAML node to JSON-ready values. Scalars stay the
// strings they were written as, so that a version "1.10" or a timestamp is
// not turned into a number or a time; only null and booleans are typed.
func yamlValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return yamlValue(n.Content[0])
	case yaml.AliasNode:
		return yamlValue(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, yamlValue(c))
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = yamlValue(n.Content[i+1])
		}
		return out
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	}
	return n.Value
}
