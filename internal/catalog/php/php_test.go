package php

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
		{name: "vendor", path: "/var/www/html/vendor/composer/installed.json", want: true},
		{name: "renamed vendor dir", path: "/app/libs/composer/installed.json", want: true},
		{name: "installed.json elsewhere", path: "/app/installed.json"},
		{name: "installed.php", path: "/app/vendor/composer/installed.php"},
		{name: "composer.lock", path: "/app/composer.lock"},
		{name: "directory", path: "/app/vendor/composer/installed.json", mode: fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pkg(vendor, name, version string, licenses ...string) inventory.Package {
	return inventory.Package{Type: inventory.TypeComposer, Namespace: vendor, Name: name, Version: version, Licenses: licenses}
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	return a.Namespace+"/"+a.Name+"@"+a.Version < b.Namespace+"/"+b.Name+"@"+b.Version
})

func TestParse(t *testing.T) {
	syft := []inventory.Package{pkg("asm89", "stack-cors", "1.3.0", "MIT"), pkg("behat", "mink", "1.8.1", "MIT")}
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "Composer 1 array", file: "syft/composer_1/installed.json", want: syft},
		// behat/mink is in dev-package-names; it is installed all the same.
		{name: "Composer 2 object", file: "syft/composer_2/installed.json", want: syft},
		{name: "empty Composer 2", data: `{"packages": [], "dev": true, "dev-package-names": []}`},
		{name: "an object without packages", data: `{"name": "a/b"}`, wantErr: "not an installed.json"},
		{name: "not JSON", data: "<?php return array();", wantErr: "not a readable installed.json"},
		{name: "broken array", data: `[{"name": "a/b", "version": 1}`, wantErr: "not a readable installed.json"},
		{
			name:    "one malformed entry does not cost the others",
			data:    `[{"name": "a/b", "version": 1}, {"name": "c/d", "version": "v2.0"}]`,
			want:    []inventory.Package{pkg("c", "d", "2.0")},
			wantErr: "1 malformed package entries skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.data)
			if tt.file != "" {
				b = readFixture(t, tt.file)
			}
			got, err := Parse(b)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	f := image.NewFile("/var/www/vendor/composer/installed.json", 0o644, readFixture(t, "syft/composer_2/installed.json"))
	got, err := New().Catalog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("got %d packages, want 2", len(got))
	}
}

// TestTrivyGolden compares with trivy's result for the same installed.json
// (aquasecurity/trivy integration/testdata/composer.vendor.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct {
				Name, Version string
				Licenses      []string
			}
		}
	}
	if err := json.Unmarshal(readFixture(t, "trivy/composer.vendor.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" "+strings.Join(p.Licenses, ","))
		}
	}
	pkgs, err := Parse(readFixture(t, "trivy/installed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Namespace+"/"+p.Name+"@"+p.Version+" "+strings.Join(p.Licenses, ","))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-trivy +ours):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*")
	files2, _ := filepath.Glob("testdata/*/*/*")
	for _, p := range append(files, files2...) {
		if b, err := os.ReadFile(p); err == nil && strings.HasSuffix(p, ".json") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(b)
		for _, p := range pkgs {
			if p.Namespace == "" || p.Name == "" || p.Version == "" {
				t.Fatalf("incomplete package: %+v", p)
			}
		}
	})
}
