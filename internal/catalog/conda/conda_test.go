package conda

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "environment", path: "/opt/conda/envs/app/conda-meta/openssl-1.1.1q-h7f8727e_0.json", want: true},
		{name: "base environment", path: "/opt/conda/conda-meta/pip-22.2.2-py38h06a4308_0.json", want: true},
		{name: "history", path: "/opt/conda/conda-meta/history"},
		{name: "hidden", path: "/opt/conda/conda-meta/.state.json"},
		{name: "nested deeper", path: "/opt/conda/conda-meta/sub/x.json"},
		{name: "other json", path: "/opt/conda/pkgs/openssl/info/index.json"},
		{name: "directory", path: "/opt/conda/conda-meta/x.json", mode: fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if catalog.IsDeclared(New()) {
		t.Error("an installed-package cataloger is Declared")
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want inventory.Package
	}{
		{
			file: "conda-meta/openssl-1.1.1q-h7f8727e_0.json",
			want: inventory.Package{Type: inventory.TypeConda, Name: "openssl", Version: "1.1.1q", Licenses: []string{"OpenSSL"}},
		},
		{
			file: "conda-meta/pip-22.2.2-py38h06a4308_0.json",
			want: inventory.Package{Type: inventory.TypeConda, Name: "pip", Version: "22.2.2", Licenses: []string{"MIT"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile("/opt/conda/"+tt.file, 0o644, read(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]inventory.Package{tt.want}, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrivyGolden compares names, versions, package URLs and licences
// with trivy's result for the same environment
// (integration/testdata/conda-cyclonedx.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Components []struct {
			Name, Version, PURL string
			Licenses            []struct {
				License struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(read(t, "trivy-conda-cyclonedx.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range golden.Components {
		for _, l := range c.Licenses {
			want = append(want, c.Name+"@"+c.Version+" "+c.PURL+" "+l.License.ID)
		}
	}
	files, _ := filepath.Glob("testdata/conda-meta/*.json")
	var got []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pkgs, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkgs {
			got = append(got, p.Name+"@"+p.Version+" "+purl.For(&pkgs[i], nil)+" "+p.Licenses[0])
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-trivy +seawall):\n%s", diff)
	}
}

func TestHostile(t *testing.T) {
	for _, in := range []string{
		"",
		"not json",
		`[]`,
		`{"name": "", "version": "1.0"}`,
		`{"name": "x"}`,
		`{"name": "../x", "version": "1.0"}`,
		`{"name": "x", "version": ">=1.0"}`,
		`{"name": "x", "version": "1.0 1"}`,
		`{"name": 3, "version": "1.0"}`,
	} {
		if pkgs, err := Parse([]byte(in)); err == nil || pkgs != nil {
			t.Errorf("Parse(%q) = %v, %v; want an error", in, pkgs, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/conda-meta/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(b)
		for _, p := range pkgs {
			if !ValidName(p.Name) || !ValidVersion(p.Version) || p.Type != inventory.TypeConda {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
