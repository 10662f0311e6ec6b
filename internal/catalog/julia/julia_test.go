package julia

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
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
		{name: "manifest", path: "/app/Manifest.toml", want: true},
		{name: "JuliaManifest", path: "/app/JuliaManifest.toml", want: true},
		{name: "versioned", path: "/app/Manifest-v1.11.toml", want: true},
		{name: "global environment", path: "/root/.julia/environments/v1.10/Manifest.toml", want: true},
		{name: "project", path: "/app/Project.toml"},
		{name: "installed package", path: "/root/.julia/packages/JSON/abcde/Manifest.toml"},
		{name: "registry", path: "/root/.julia/registries/General/Manifest.toml"},
		{name: "directory", path: "/app/Manifest.toml", mode: fs.ModeDir},
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

// pkg builds an expected package from "name@version" and its UUID.
func pkg(spec, uuid string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	return inventory.Package{Type: inventory.TypeJulia, Name: name, Version: version, Metadata: map[string]string{"uuid": uuid}}
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool { return a.Name+"@"+a.Version < b.Name+"@"+b.Version })

func TestParse(t *testing.T) {
	json := pkg("JSON@0.21.4", "682c06a0-de6a-54ab-a142-c8b1cf79cde6")
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{
			// Dates, Mmap, Printf and Unicode are standard libraries.
			name: "Julia 1.6 format, trivy", file: "trivy-Manifest_v1.6.toml",
			want: []inventory.Package{json, pkg("Parsers@2.4.2", "69de0a69-1ddd-5017-9359-2bf0b02dc9f0")},
		},
		{
			// SHA and TOML are standard libraries with a version of their own.
			name: "format 2.0, trivy", file: "trivy-Manifest_v1.8.toml",
			want: []inventory.Package{
				json,
				pkg("Parsers@2.5.10", "69de0a69-1ddd-5017-9359-2bf0b02dc9f0"),
				pkg("PrecompileTools@1.1.1", "aea7be01-6a6a-4083-8856-8a6e6704d82a"),
				pkg("Preferences@1.4.0", "21216c6a-2e73-6563-6e65-726566657250"),
				pkg("SHA@0.7.0", "ea8e919c-243c-51af-8825-aaa63cd721ce"),
				pkg("TOML@1.0.0", "fa267f1f-6049-4f14-aa54-33bafae1ed76"),
			},
		},
		{
			name: "extensions and weak dependencies, trivy", file: "trivy-dep_ext_v1.9.toml",
			want: []inventory.Package{pkg("AbstractFFTs@1.3.1", "621f4979-c628-5d54-868e-fcf4e3e8185c")},
		},
		{
			name: "git dependency, scalibr", file: "scalibr-git-dependency-with-commit.toml",
			want: []inventory.Package{
				pkg("DataStructures@0.17.0", "864edb3b-99cc-5e75-8d2d-829cb0a9cfe8"),
				pkg("Unregistered@0.2.0", "dcb67f36-efa0-11e8-0cef-2fc465ed98ae"),
			},
		},
		{name: "standard library only, scalibr", file: "scalibr-no-version-dependency.toml"},
		{
			// Three entries without a version: trivy takes them for
			// standard libraries and gives them Julia's version.
			name: "trivy integration fixture", file: "trivy-integration-Manifest.toml",
		},
		{
			name: "developed package, Julia 1.11 stdlib, git", file: "devved.toml",
			want: []inventory.Package{
				pkg("Dates@1.11.0", "ade2ca70-3891-5945-98fb-dc099432e06a"),
				pkg("Forked@2.0.0", "3f6e8d5c-0000-4000-8000-000000000002"),
				pkg("HTTP@1.10.8", "cd3eb016-35fb-5094-929b-558a96fad6f3"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), read(t, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	got, err := New().Catalog(context.Background(), image.NewFile("/app/Manifest.toml", 0o644, read(t, "trivy-Manifest_v1.6.toml")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d packages, want 2", len(got))
	}
	if p, want := purl.For(&got[0], nil), "pkg:julia/JSON@0.21.4?uuid=682c06a0-de6a-54ab-a142-c8b1cf79cde6"; p != want {
		t.Errorf("purl %q, want %q", p, want)
	}
	big := image.NewFile("/app/Manifest.toml", 0o644, make([]byte, maxManifest+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a manifest over the size limit was read")
	}
}

// TestTrivyGolden explains the difference from trivy's result for its
// integration fixture (integration/testdata/julia-spdx.json.golden):
// every package trivy reports there is a manifest entry without a
// version, to which trivy gives the Julia release ("1.9.0"), taking it
// for a standard library. Seawall reports no version it cannot read.
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Packages []struct {
			Name         string `json:"name"`
			ExternalRefs []struct {
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(read(t, "trivy-julia-spdx.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		JuliaVersion string                      `toml:"julia_version"`
		Deps         map[string][]map[string]any `toml:"deps"`
	}
	if _, err := toml.Decode(string(read(t, "trivy-integration-Manifest.toml")), &manifest); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range golden.Packages {
		for _, r := range p.ExternalRefs {
			if !strings.HasPrefix(r.Locator, "pkg:julia/") {
				continue
			}
			n++
			_, uuid, _ := strings.Cut(r.Locator, "?uuid=")
			if !strings.Contains(r.Locator, "@"+manifest.JuliaVersion+"?") {
				t.Errorf("%s: trivy's version is not the Julia release", r.Locator)
			}
			found := false
			for _, e := range manifest.Deps[p.Name] {
				if e["uuid"] == uuid {
					found = true
					if _, ok := e["version"]; ok {
						t.Errorf("%s has version %q in the manifest", r.Locator, e["version"])
					}
				}
			}
			if !found {
				t.Errorf("%s is not in the manifest", r.Locator)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d julia packages in the golden, want 3", n)
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{name: "not TOML", in: "[[deps.A]", wantErr: true},
		{name: "empty", in: ""},
		{name: "deps not a table", in: "manifest_format = \"2.0\"\ndeps = 3\n"},
		{
			name: "invalid uuids, names and versions are skipped",
			in: "manifest_format = \"2.0\"\n" +
				"[[deps.A]]\nuuid = \"nope\"\nversion = \"1.0.0\"\n" +
				"[[deps.\"../B\"]]\nuuid = \"ead4f63c-334e-11e9-00e6-e7f0a5f21b60\"\nversion = \"1.0.0\"\n" +
				"[[deps.C]]\nuuid = \"ead4f63c-334e-11e9-00e6-e7f0a5f21b61\"\nversion = 1\n" +
				"[[deps.D]]\nuuid = \"ead4f63c-334e-11e9-00e6-e7f0a5f21b62\"\nversion = \"1.0.0\"\n",
			want: 1,
		},
		{
			// A Manifest.toml of some other tool has no Julia packages.
			name: "not a Julia manifest",
			in:   "[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), []byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d", len(got), tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypeJulia || p.Metadata["uuid"] == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
