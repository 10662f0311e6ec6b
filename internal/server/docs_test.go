package server

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/store"
)

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenAPIDocumentsEveryRoute checks that docs/api/openapi.yaml is
// well-formed OpenAPI 3.1 YAML and documents every route in routes.go,
// with its method, and nothing that is not served.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	var raw map[string]any
	b := repoFile(t, "docs/api/openapi.yaml")
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", doc.OpenAPI)
	}
	for _, k := range []string{"info", "paths", "components"} {
		if raw[k] == nil {
			t.Errorf("openapi.yaml has no %s", k)
		}
	}
	checkRefs(t, raw, raw)

	s := &Server{}
	served := map[string]bool{}
	for _, rt := range s.routes() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok { // a pattern without a method: every method (the registry)
			path, method = rt.pattern, "get"
		}
		method = strings.ToLower(method)
		served[method+" "+path] = true
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %q is not in docs/api/openapi.yaml", rt.pattern)
			continue
		}
		if _, ok := ops[method]; !ok {
			t.Errorf("route %q: openapi.yaml documents %s without %s", rt.pattern, path, method)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "parameters", "summary", "description":
				continue
			}
			if !served[method+" "+path] && path != "/v2/" {
				t.Errorf("openapi.yaml documents %s %s, which routes.go does not serve", method, path)
			}
		}
	}
}

// checkRefs fails on a $ref that points nowhere.
func checkRefs(t *testing.T, root, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "$ref" {
				ref, _ := val.(string)
				if !resolves(root, ref) {
					t.Errorf("openapi.yaml: $ref %q does not resolve", ref)
				}
				continue
			}
			checkRefs(t, root, val)
		}
	case []any:
		for _, val := range x {
			checkRefs(t, root, val)
		}
	}
}

func resolves(root any, ref string) bool {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestServeDocListsEveryKey checks that docs/reference/serve.md names every
// configuration key and environment variable.
func TestServeDocListsEveryKey(t *testing.T) {
	doc := string(repoFile(t, "docs/reference/serve.md"))
	cfg := Default()
	walkFields(reflect.ValueOf(&cfg).Elem(), "", func(_ reflect.Value, key, env string) {
		if key != "-" && !strings.Contains(doc, "`"+key+"`") {
			t.Errorf("docs/reference/serve.md does not document the key `%s`", key)
		}
		if !strings.Contains(doc, "`"+env+"`") {
			t.Errorf("docs/reference/serve.md does not document `%s`", env)
		}
	})
}

// TestAccessDocMatchesMatrix checks that the permission table in
// docs/reference/access.md is auth.Matrix.
func TestAccessDocMatchesMatrix(t *testing.T) {
	doc := string(repoFile(t, "docs/reference/access.md"))
	for _, role := range store.Roles {
		var cells []string
		for i := range auth.Actions {
			if auth.Matrix[role][i] {
				cells = append(cells, "✓")
			} else {
				cells = append(cells, "–")
			}
		}
		row := "| `" + string(role) + "` | " + strings.Join(cells, " | ") + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/reference/access.md lacks the row\n%s", row)
		}
	}
	for _, a := range auth.Actions {
		if !strings.Contains(doc, "`"+string(a)+"`") {
			t.Errorf("docs/reference/access.md does not explain the action `%s`", a)
		}
	}
	if !slices.Equal(auth.RobotActions, []auth.Action{auth.ActionPull, auth.ActionPush, auth.ActionDelete}) {
		t.Error("robot permissions changed: update access.md")
	}
}
