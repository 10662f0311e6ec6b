package composerlock

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
		{name: "composer.lock", path: "/src/app/composer.lock", want: true},
		{name: "composer.json", path: "/src/app/composer.json"},
		{name: "installed.json", path: "/src/app/vendor/composer/installed.json"},
		{name: "directory", path: "/src/composer.lock", mode: fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if !New().Declared() {
		t.Error("Declared() = false")
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

func dev(p inventory.Package) inventory.Package { p.Dev = true; return p }

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Namespace+"/"+a.Name != b.Namespace+"/"+b.Name {
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	}
	return a.Version < b.Version
})

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "empty", file: "scalibr/empty.json"},
		{name: "JSON null", file: "scalibr/null.jsontest"},
		{name: "not JSON", file: "scalibr/not-json.txt", wantErr: "not a readable composer.lock"},
		{name: "a JSON array", data: "[]", wantErr: "not a readable composer.lock"},
		{
			name:    "one malformed entry does not cost the others",
			data:    `{"packages": [{"name": "a/b", "version": ["1"]}, {"name": "c/d", "version": "2.0"}], "packages-dev": [7]}`,
			want:    []inventory.Package{pkg("c", "d", "2.0")},
			wantErr: "2 malformed package entries skipped",
		},
		{name: "one package", file: "scalibr/one-package.json", want: []inventory.Package{pkg("sentry", "sdk", "2.0.4", "MIT")}},
		{name: "one dev package", file: "scalibr/one-package-dev.json", want: []inventory.Package{dev(pkg("sentry", "sdk", "2.0.4", "MIT"))}},
		{
			name: "two packages",
			file: "scalibr/two-packages.json",
			want: []inventory.Package{pkg("sentry", "sdk", "2.0.4", "MIT"), dev(pkg("theseer", "tokenizer", "1.1.3", "BSD-3-Clause"))},
		},
		{
			name: "two packages, no dev",
			file: "scalibr/two-packages-alt.json",
			want: []inventory.Package{pkg("sentry", "sdk", "2.0.4", "MIT"), pkg("theseer", "tokenizer", "1.1.3", "BSD-3-Clause")},
		},
		{
			name: "one package in three versions",
			file: "scalibr/duplicate-packages.json",
			want: []inventory.Package{pkg("sentry", "sdk", "2.0.4"), pkg("sentry", "sdk", "2.0.5"), dev(pkg("sentry", "sdk", "3.0.0-dev"))},
		},
		{
			name: "drupal pre-releases",
			file: "scalibr/drupal-packages.json",
			want: []inventory.Package{
				pkg("drupal", "core", "10.4.5", "GPL-2.0-or-later"),
				pkg("drupal", "tfa", "2.0.0-alpha4", "GPL-2.0-or-later"),
				pkg("theseer", "tokenizer", "1.1.3", "BSD-3-Clause"),
				dev(pkg("drupal", "field_time", "1.0.0-beta5", "GPL-2.0-or-later")),
			},
		},
		{
			name: "leading v is dropped",
			file: "syft/composer.lock",
			want: []inventory.Package{
				pkg("adoy", "fastcgi-client", "1.0.2", "MIT"),
				pkg("alcaeus", "mongo-php-adapter", "1.1.11", "MIT"),
				dev(pkg("behat", "gherkin", "4.6.2", "MIT")),
				dev(pkg("codeception", "codeception", "4.1.6", "MIT")),
			},
		},
		{
			name: "in both lists is not dev; string licence; bad entries skipped",
			data: `{"packages":[{"name":"a/b","version":"v1.0.0","license":"MIT"},{"name":"nameless","version":"1"},{"name":"c/d"}],
				"packages-dev":[{"name":"a/b","version":"1.0.0"},{"name":"e/f","version":"dev-main","license":{"x":1}}]}`,
			want: []inventory.Package{pkg("a", "b", "1.0.0", "MIT"), dev(pkg("e", "f", "dev-main"))},
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
	got, err := New().Catalog(context.Background(), image.NewFile("/src/composer.lock", 0o644, readFixture(t, "scalibr/one-package.json")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.Package{pkg("sentry", "sdk", "2.0.4", "MIT")}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

// TestTrivyGolden compares with trivy's result for the same composer.lock
// (aquasecurity/trivy integration/testdata/composer.lock.json.golden).
// Trivy also reads composer.json to mark guzzle direct; we read the
// lockfile alone, so only names and versions are compared.
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(readFixture(t, "trivy/composer.lock.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version)
		}
	}
	pkgs, err := Parse(readFixture(t, "trivy/composer.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Namespace+"/"+p.Name+"@"+p.Version)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-trivy +ours):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".golden") {
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
