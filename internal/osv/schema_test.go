package osv

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/seawall-dev/seawall/internal/imagetest"
)

// TestAcceptedRecordsMatchSchema checks the parser against the official
// OSV 1.6 JSON schema: every record it accepts without warnings passes
// validation/schema.json, except for what the parser tolerates by design
// for forward compatibility (see Parse): an ID prefix or an ecosystem
// the schema does not list yet, and unknown top-level fields. It runs on
// testdata/records, and on all of ../shared/data/osv when present.
func TestAcceptedRecordsMatchSchema(t *testing.T) {
	sch := compileSchema(t)
	check := func(t *testing.T, files []string) (clean, checked int) {
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			results, err := ParseAll(data, p)
			if err != nil {
				continue // not OSV at all (a feed's own format)
			}
			instances := rawInstances(t, data, p)
			if len(instances) != len(results) {
				t.Fatalf("%s: %d raw records, %d parsed", p, len(instances), len(results))
			}
			for i, r := range results {
				if r.Err != nil || len(r.Warnings) > 0 {
					continue
				}
				checked++
				err := sch.Validate(instances[i])
				if err == nil {
					clean++
					continue
				}
				var ve *jsonschema.ValidationError
				if !errors.As(err, &ve) || !tolerated(ve) {
					t.Errorf("%s: %s parsed without warnings but fails the schema:\n%v", p, r.Vuln.ID, err)
				}
			}
		}
		return clean, checked
	}

	t.Run("testdata", func(t *testing.T) {
		clean, checked := check(t, testRecords(t))
		if checked < 30 {
			t.Errorf("only %d records checked", checked)
		}
		t.Logf("%d records accepted without warnings, %d of them schema-clean", checked, clean)
	})
	t.Run("shared", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		root := filepath.Join(imagetest.SharedData(t), "osv")
		var files []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".yaml")) && !strings.Contains(p, "/validation/") {
				files = append(files, p)
			}
			return nil
		})
		clean, checked := check(t, files)
		if checked < 14000 {
			t.Errorf("only %d records checked", checked)
		}
		t.Logf("%d records accepted without warnings, %d of them schema-clean", checked, clean)
	})
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/schema/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// rawInstances returns the records of a file as the schema validator
// reads JSON, the same split as ParseAll makes.
func rawInstances(t *testing.T, data []byte, name string) []any {
	t.Helper()
	var v any
	var err error
	if IsYAML(name) {
		v, err = yamlToGeneric(data)
	} else {
		v, err = jsonschema.UnmarshalJSON(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		if _, ok := x["id"]; !ok {
			if vs, ok := x["vulns"].([]any); ok {
				return vs
			}
		}
	}
	return []any{v}
}

// tolerated reports whether every leaf failure is one the parser accepts
// by design: the id prefix or ecosystem pattern (new databases and
// ecosystems appear before the schema lists them) or an unknown
// top-level field.
func tolerated(ve *jsonschema.ValidationError) bool {
	if len(ve.Causes) == 0 {
		loc := ve.InstanceLocation
		switch ve.ErrorKind.(type) {
		case *kind.Pattern:
			if len(loc) == 1 && loc[0] == "id" {
				return true
			}
			if len(loc) == 4 && loc[0] == "affected" && loc[2] == "package" && loc[3] == "ecosystem" {
				return true
			}
		case *kind.AdditionalProperties:
			return len(loc) == 0
		}
		return false
	}
	for _, c := range ve.Causes {
		if !tolerated(c) {
			return false
		}
	}
	return true
}
