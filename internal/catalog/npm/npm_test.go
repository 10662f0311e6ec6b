package npm

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{"top level", "/app/node_modules/lodash/package.json", 0o644, true},
		{"scoped", "/app/node_modules/@babel/core/package.json", 0o644, true},
		{"nested", "/app/node_modules/a/node_modules/b/package.json", 0o644, true},
		{"pnpm store", "/app/node_modules/.pnpm/lodash@4.17.4/node_modules/lodash/package.json", 0o644, true},
		{"global", "/usr/lib/node_modules/npm/package.json", 0o644, true},
		{"root node_modules", "/node_modules/x/package.json", 0o644, true},
		{"project manifest", "/app/package.json", 0o644, false},
		{"file inside a package", "/app/node_modules/redux/es/package.json", 0o644, false},
		{"scope dir itself", "/app/node_modules/@babel/package.json", 0o644, false},
		{"hidden dir", "/app/node_modules/.cache/package.json", 0o644, false},
		{"scope not under node_modules", "/app/src/@babel/core/package.json", 0o644, false},
		{"not package.json", "/app/node_modules/lodash/package.json5", 0o644, false},
		{"symlink", "/app/node_modules/lodash/package.json", fs.ModeSymlink, false},
		{"directory", "/app/node_modules/lodash/package.json", fs.ModeDir, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// TestCatalogTree runs Wants and Catalog over every file of testdata/app,
// as the engine would, and checks the exact set found.
func TestCatalogTree(t *testing.T) {
	var got []inventory.Package
	c := New()
	root := filepath.Join("testdata", "app")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		abs := "/app/" + filepath.ToSlash(rel)
		if !c.Wants(abs, 0o644) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pkgs, err := c.Catalog(context.Background(), image.NewFile(abs, 0o644, b))
		if err != nil {
			t.Errorf("%s: %v", abs, err)
		}
		got = append(got, pkgs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mit := []string{"MIT"}
	// acorn (empty name) and acorn-globals (empty version) are skipped;
	// redux/es/package.json and the project's package.json are not wanted.
	want := []inventory.Package{
		{Type: "npm", Namespace: "@actions", Name: "core", Version: "1.6.0", Licenses: mit},
		{Type: "npm", Name: "cowsay", Version: "1.4.0", Licenses: mit},
		{Type: "npm", Name: "jquery", Version: "3.3.9", Licenses: mit},
		{Type: "npm", Name: "lodash", Version: "4.17.4", Licenses: mit},
		{Type: "npm", Name: "promise", Version: "8.0.3", Licenses: mit},
		{Type: "npm", Name: "react", Version: "16.8.6", Licenses: mit},
		{Type: "npm", Name: "react-is", Version: "16.8.6", Licenses: mit},
		{Type: "npm", Name: "redux", Version: "4.0.1", Licenses: mit},
		{Type: "npm", Name: "z-lock", Version: "1.0.0", Licenses: mit},
	}
	if diff := cmp.Diff(want, got, sortPkgs); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Namespace+"/"+a.Name != b.Namespace+"/"+b.Name {
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	}
	return a.Version < b.Version
})

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string // under testdata/pkgjson, or inline
		data    string
		want    *inventory.Package
		wantErr bool
	}{
		{
			name: "license object",
			file: "package-license-object.json",
			want: &inventory.Package{Type: "npm", Name: "npm", Version: "6.14.6", Licenses: []string{"ISC"}},
		},
		{
			name: "legacy licenses array of objects",
			file: "package-license-objects.json",
			want: &inventory.Package{Type: "npm", Name: "npm", Version: "6.14.6", Licenses: []string{"MIT", "Apache-2.0"}},
		},
		{
			name: "legacy licenses array of strings",
			file: "package-malformed-license.json",
			want: &inventory.Package{Type: "npm", Name: "npm", Version: "6.14.6", Licenses: []string{"MIT"}},
		},
		{
			name: "no license",
			file: "package-no-license.json",
			want: &inventory.Package{Type: "npm", Name: "npm", Version: "6.14.6"},
		},
		{
			// "scripts" holds a "licenses" key; only top-level fields count.
			name: "private package",
			file: "package-private.json",
			want: &inventory.Package{Type: "npm", Name: "npm", Version: "6.14.6", Licenses: []string{"Artistic-2.0"}},
		},
		{
			name: "no name or version",
			file: "package-partial.json",
		},
		{
			name: "license array",
			data: `{"name":"x","version":"1.0.0","license":["MIT",{"type":"BSD-3-Clause"},"MIT",7]}`,
			want: &inventory.Package{Type: "npm", Name: "x", Version: "1.0.0", Licenses: []string{"MIT", "BSD-3-Clause"}},
		},
		{
			name: "license of unknown shape",
			data: `{"name":"x","version":"1.0.0","license":{"type":7},"licenses":null}`,
			want: &inventory.Package{Type: "npm", Name: "x", Version: "1.0.0"},
		},
		{
			name: "scoped with BOM and spaces",
			data: "\xef\xbb\xbf{\"name\":\" @types/node \",\"version\":\"20.1.0 \"}",
			want: &inventory.Package{Type: "npm", Namespace: "@types", Name: "node", Version: "20.1.0"},
		},
		{
			name: "bare scope is a name",
			data: `{"name":"@x","version":"1.0.0"}`,
			want: &inventory.Package{Type: "npm", Name: "@x", Version: "1.0.0"},
		},
		{
			name:    "not JSON",
			data:    "<html>",
			wantErr: true,
		},
		{
			name:    "name of the wrong type",
			data:    `{"name":["x"],"version":"1.0.0"}`,
			wantErr: true,
		},
		{
			name:    "truncated",
			data:    `{"name":"x","version":"1.`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.data)
			if tt.file != "" {
				var err error
				if b, err = os.ReadFile(filepath.Join("testdata", "pkgjson", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Parse(b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalogTooLarge(t *testing.T) {
	f := image.NewFile("/app/node_modules/x/package.json", 0o644, make([]byte, maxManifest+1))
	if _, err := New().Catalog(context.Background(), f); err == nil {
		t.Fatal("Catalog accepted a package.json over the size limit")
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/pkgjson", "testdata/app/node_modules/jquery", "testdata/app/node_modules/@actions/core"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"name":"@a/b","version":"1","license":[{"name":"x"},["y"]],"licenses":{"type":"z"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil && p != nil {
			t.Fatal("package returned with an error")
		}
		if p != nil && (p.Name == "" || p.Version == "") {
			t.Fatalf("package without name or version: %+v", p)
		}
	})
}
