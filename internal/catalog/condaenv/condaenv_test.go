package condaenv

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
		{name: "yml", path: "/app/environment.yml", want: true},
		{name: "yaml", path: "/app/environment.yaml", want: true},
		{name: "other yaml", path: "/app/env.yml"},
		{name: "in site-packages", path: "/usr/lib/python3/site-packages/x/environment.yml"},
		{name: "directory", path: "/app/environment.yml", mode: fs.ModeDir},
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

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pkg(typ, name, version string) inventory.Package {
	return inventory.Package{Type: typ, Name: name, Version: version}
}

func TestParse(t *testing.T) {
	const c, py = inventory.TypeConda, inventory.TypePyPI
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "trivy", file: "trivy-environment.yaml", want: []inventory.Package{pkg(c, "bzip2", "1.0.8")}},
		{
			name: "every form",
			file: "mixed.yml",
			want: []inventory.Package{
				pkg(c, "_libgcc_mutex", "0.1"), pkg(c, "ca-certificates", "2024.2.2"), pkg(c, "jinja2", "3.1.3"),
				pkg(c, "numpy", "1.26.4"), pkg(c, "openssl", "3.0.13"), pkg(c, "pandas", "2.2.1"), pkg(c, "python", "3.11"),
				pkg(py, "flask", "3.0.2"), pkg(py, "requests", "2.31.0"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile("/app/environment.yml", 0o644, read(t, tt.file)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in, name, version string
	}{
		{"bzip2=1.0.8=h998d150_5", "bzip2", "1.0.8"},
		{"bzip2==1.0.8", "bzip2", "1.0.8"},
		{"bzip2=1.0", "bzip2", "1.0"},
		{"bzip2 1.0.8 h998d150_5", "bzip2", "1.0.8"},
		{"conda-forge::bzip2=1.0.8", "bzip2", "1.0.8"},
		{"https://repo.example.com/conda::bzip2=1.0.8", "bzip2", "1.0.8"},
		{"PyYAML=6.0.1", "pyyaml", "6.0.1"},
		{"numpy=1!1.26.4", "numpy", "1!1.26.4"},
		{"bzip2", "", ""},
		{"bzip2>=1.0", "", ""},
		{"bzip2 >=1.0", "", ""},
		{"bzip2=1.0.*", "", ""},
		{"bzip2=1.0|1.1", "", ""},
		{"bzip2=1.0,<2", "", ""},
		{"bzip2=", "", ""},
		{"bzip2=1.", "", ""},
		{"bzip2=<1.0", "", ""},
		{"=1.0", "", ""},
		{"bzip2[version='1.0.8']", "", ""},
		{"../x=1.0", "", ""},
	}
	for _, tt := range tests {
		name, version, ok := ParseSpec(tt.in)
		if name != tt.name || version != tt.version || ok != (tt.name != "") {
			t.Errorf("ParseSpec(%q) = %q, %q, %v; want %q, %q", tt.in, name, version, ok, tt.name, tt.version)
		}
	}
}

// TestTrivyGolden compares names, versions and package URLs with
// trivy's result for the same file
// (integration/testdata/conda-environment-cyclonedx.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Components []struct {
			Name, Version, PURL, Type string
		}
	}
	if err := json.Unmarshal(read(t, "trivy-conda-environment-cyclonedx.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range golden.Components {
		if c.Type == "library" {
			want = append(want, c.Name+"@"+c.Version+" "+c.PURL)
		}
	}
	pkgs, err := Parse(context.Background(), read(t, "trivy-environment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version+" "+purl.For(&pkgs[i], nil))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-trivy +seawall):\n%s", diff)
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{name: "not YAML", in: "dependencies: [", wantErr: true},
		{name: "dependencies not a list", in: "dependencies: 3\n", wantErr: true},
		{name: "empty", in: ""},
		{name: "nested lists are ignored", in: "dependencies:\n  - [a=1.0]\n  - b=2.0\n", want: 1},
		{name: "pip not a list", in: "dependencies:\n  - pip: requests==1.0\n"},
		{name: "pip with garbage", in: "dependencies:\n  - pip:\n    - \"requests==2.0\"\n    - \"!!!\"\n", want: 1, wantErr: true},
		{
			name: "alias bomb",
			in:   "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\ndependencies: *g\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), []byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.y*ml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || (p.Type != inventory.TypeConda && p.Type != inventory.TypePyPI) {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
