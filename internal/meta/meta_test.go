package meta

import (
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// outsideModule reports whether the go tool leaves directory p out of
// ./...: testdata, names starting with "." or "_", and nested modules
// such as the benchmarks' generated bench/out.
func outsideModule(p string, d fs.DirEntry) bool {
	name := d.Name()
	if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}
	_, err := os.Stat(filepath.Join(p, "go.mod"))
	return err == nil
}

// goPackages returns each directory under root holding non-test Go files.
func goPackages(t *testing.T, root string) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && outsideModule(p, d) {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			pkgs[filepath.Dir(p)] = append(pkgs[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	root := repoRoot(t)
	for dir, files := range goPackages(t, root) {
		documented := false
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
				break
			}
		}
		if !documented {
			rel, _ := filepath.Rel(root, dir)
			t.Errorf("package %s has no doc comment saying what it is for", rel)
		}
	}
}

func TestNoGrabBagPackageNames(t *testing.T) {
	bad := map[string]bool{"util": true, "utils": true, "common": true, "helpers": true, "misc": true, "x": true, "pkg": true}
	root := repoRoot(t)
	for dir := range goPackages(t, root) {
		if bad[filepath.Base(dir)] {
			t.Errorf("package %s has a grab-bag name; name it for its domain", dir)
		}
		rel, _ := filepath.Rel(root, dir)
		if strings.HasPrefix(rel, "internal"+string(filepath.Separator)) && strings.Count(rel, string(filepath.Separator)) > 3 {
			t.Errorf("package %s is nested more than three levels under internal/", rel)
		}
	}
}

func TestInventoryImportsOnlyTheStandardLibrary(t *testing.T) {
	root := repoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "internal/inventory/*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			first := strings.SplitN(path, "/", 2)[0]
			if strings.Contains(first, ".") {
				t.Errorf("%s imports %s; the core types must use only the standard library", filepath.Base(f), path)
			}
		}
	}
}

func TestEveryFileIsGofmted(t *testing.T) {
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && outsideModule(p, d) {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want, err := format.Source(src)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if !bytes.Equal(src, want) {
			rel, _ := filepath.Rel(root, p)
			t.Errorf("%s is not gofmt'ed; run gofmt -w %s", rel, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
