package list

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestAllIsComplete checks that every cataloger package under
// internal/catalog is in All, and that names are unique.
func TestAllIsComplete(t *testing.T) {
	listed := map[string]bool{}
	names := map[string]bool{}
	for _, c := range All() {
		pkg := reflect.TypeOf(c).Elem().PkgPath()
		listed[pkg[strings.LastIndex(pkg, "/")+1:]] = true
		if names[c.Name()] {
			t.Errorf("cataloger name %q is used twice", c.Name())
		}
		names[c.Name()] = true
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "list" || e.Name() == "testdata" {
			continue
		}
		if hasCatalogerType(t, filepath.Join("..", e.Name())) && !listed[e.Name()] {
			t.Errorf("cataloger package %s is not in list.All", e.Name())
		}
	}
}

func hasCatalogerType(t *testing.T, dir string) bool {
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "New" && fd.Recv == nil {
					return true
				}
			}
		}
	}
	return false
}
