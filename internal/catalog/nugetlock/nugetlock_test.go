package nugetlock

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
		{name: "packages.lock.json", path: "/src/App/packages.lock.json", want: true},
		{name: "deps.json", path: "/app/App.deps.json"},
		{name: "packages.config", path: "/src/App/packages.config"},
		{name: "directory", path: "/src/packages.lock.json", mode: fs.ModeDir},
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

func nuget(name, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeNuGet, Name: name, Version: version}
}

func direct(p inventory.Package) inventory.Package { p.Direct = true; return p }

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	return a.Name+"/"+a.Version < b.Name+"/"+b.Version
})

func TestParse(t *testing.T) {
	humanizer := []inventory.Package{direct(nuget("Humanizer", "2.14.1")), direct(nuget("Newtonsoft.Json", "13.0.3")), nuget("Humanizer.Core", "2.14.1")}
	for _, loc := range strings.Fields("af ar az bg bn-BD cs da de el es fa fi-FI fr fr-BE he hr hu hy id is it ja ko-KR ku lv ms-MY mt nb nb-NO nl pl pt ro ru sk sl sr sr-Latn sv th-TH tr uk uz-Cyrl-UZ uz-Latn-UZ vi zh-CN zh-Hans zh-Hant") {
		humanizer = append(humanizer, nuget("Humanizer.Core."+loc, "2.14.1"))
	}
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "not JSON", file: "scalibr/invalid", wantErr: "not a readable packages.lock.json"},
		{name: "JSON without dependencies", data: `{"version": 1}`, wantErr: "not a packages.lock.json"},
		{
			name: "direct and transitive",
			file: "scalibr/valid.packages.lock.json",
			want: []inventory.Package{
				direct(nuget("Core.Dep", "1.24.0")),
				nuget("Some.Dep.One", "1.1.1"),
				nuget("Some.Dep.Two", "4.6.0"),
				nuget("Some.Dep.Three", "1.0.2"),
				nuget("Some.Dep.Four", "4.5.0"),
				nuget("Some.Longer.Name.Dep", "4.7.2"),
				nuget("Some.Dep.Five", "4.7.2"),
				nuget("Another.Longer.Name.Dep", "4.5.4"),
			},
		},
		{
			name: "two frameworks: one package per version",
			file: "syft/packages.lock.json",
			want: []inventory.Package{
				direct(nuget("AutoMapper", "13.0.1")),
				direct(nuget("bootstrap", "5.0.0")), // in both frameworks
				direct(nuget("log4net", "2.0.5")),
				direct(nuget("log4net", "1.2.15")),
				nuget("Microsoft.Extensions.DependencyInjection.Abstractions", "9.0.0"),
				direct(nuget("Microsoft.Extensions.Logging", "9.0.0")),
				nuget("Microsoft.Extensions.Options", "9.0.0"),
				nuget("Microsoft.Extensions.Primitives", "9.0.0"),
				nuget("System.Runtime.CompilerServices.Unsafe", "9.0.0"),
			},
		},
		{
			name: "framework plus an empty runtime section",
			file: "syft/net8-app.packages.lock.json",
			want: humanizer,
		},
		{
			name: "direct in one framework, transitive in another; project references skipped",
			data: `{"version": 2, "dependencies": {
				"net6.0": {"A": {"type": "Transitive", "resolved": "1.0.0"}, "Lib": {"type": "Project"}},
				"net8.0": {"A": {"type": "Direct", "requested": "[1.0.0, )", "resolved": "1.0.0"},
				           "B": {"type": "CentralTransitive", "requested": "[2.0.0, )", "resolved": "2.0.0"},
				           "C": {"type": "Transitive"}}}}`,
			want: []inventory.Package{direct(nuget("A", "1.0.0")), nuget("B", "2.0.0")},
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
	got, err := New().Catalog(context.Background(), image.NewFile("/src/packages.lock.json", 0o644, readFixture(t, "trivy/packages.lock.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("got %d packages, want 2", len(got))
	}
}

// TestTrivyGolden compares with trivy's result for the same lockfile
// (aquasecurity/trivy integration/testdata/nuget.json.golden): the same
// packages, and the same ones direct.
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version, Relationship string }
		}
	}
	if err := json.Unmarshal(readFixture(t, "trivy/nuget.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" direct="+boolString(p.Relationship == "direct"))
		}
	}
	pkgs, err := Parse(readFixture(t, "trivy/packages.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version+" direct="+boolString(p.Direct))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-trivy +ours):\n%s", diff)
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
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
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}
