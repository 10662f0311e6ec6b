package dotnet

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
		{name: "app deps", path: "/app/MyApp.deps.json", want: true},
		{name: "runtime deps", path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json", want: true},
		{name: "runtimeconfig", path: "/app/MyApp.runtimeconfig.json"},
		{name: "packages.lock.json", path: "/src/packages.lock.json"},
		{name: "directory", path: "/app/x.deps.json", mode: fs.ModeDir},
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

func nuget(name, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeNuGet, Name: name, Version: version}
}

func direct(p inventory.Package) inventory.Package { p.Direct = true; return p }

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	return a.Name+"/"+a.Version < b.Name+"/"+b.Version
})

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "empty object", file: "scalibr/empty"},
		{name: "not JSON", file: "scalibr/invalid", wantErr: "not a readable deps.json"},
		{
			name: "the project is not a package",
			file: "scalibr/valid",
			want: []inventory.Package{
				nuget("AWSSDK.Core", "3.7.10.6"),
				direct(nuget("Microsoft.Extensions.DependencyInjection", "6.0.0")),
			},
		},
		{
			name:    "library key without a version",
			file:    "scalibr/nopackagename",
			want:    []inventory.Package{nuget("AWSSDK.Core", "3.7.10.6")},
			wantErr: "1 libraries without a \"Name/Version\" key skipped",
		},
		{
			name: "reference assemblies are not packages",
			file: "syft/MyApp.deps.json",
			want: []inventory.Package{direct(nuget("Newtonsoft.Json", "13.0.3"))},
		},
		{
			name: "two projects",
			file: "syft/TestLibrary.deps.json",
			want: []inventory.Package{
				direct(nuget("AWSSDK.Core", "3.7.10.6")), // TestCommon's
				direct(nuget("Microsoft.Extensions.DependencyInjection", "6.0.0")),
				nuget("Microsoft.Extensions.DependencyInjection.Abstractions", "6.0.0"),
				direct(nuget("Microsoft.Extensions.Logging", "6.0.0")),
				nuget("Microsoft.Extensions.Logging.Abstractions", "6.0.0"),
				nuget("Microsoft.Extensions.Options", "6.0.0"),
				nuget("Microsoft.Extensions.Primitives", "6.0.0"),
				direct(nuget("Newtonsoft.Json", "13.0.1")),
				direct(nuget("Serilog", "2.10.0")),
				direct(nuget("Serilog.Sinks.Console", "4.0.1")),
				nuget("System.Diagnostics.DiagnosticSource", "6.0.0"),
				nuget("System.Runtime.CompilerServices.Unsafe", "6.0.0"),
			},
		},
		{
			name: "self-contained app ships the runtime",
			data: `{"targets": {".NETCoreApp,Version=v8.0/linux-x64": {
				"app/1.0.0": {"dependencies": {"Serilog": "3.1.1"}},
				"Serilog/3.1.1": {},
				"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {}}},
			  "libraries": {
				"app/1.0.0": {"type": "project"},
				"Serilog/3.1.1": {"type": "package"},
				"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack"}}}`,
			want: []inventory.Package{
				direct(nuget("Serilog", "3.1.1")),
				{Type: inventory.TypeNuGet, Name: "Microsoft.NETCore.App.Runtime.linux-x64", Version: "8.0.0", Metadata: map[string]string{"type": "runtimepack"}},
			},
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
	got, err := New().Catalog(context.Background(), image.NewFile("/app/MyApp.deps.json", 0o644, readFixture(t, "syft/MyApp.deps.json")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.Package{direct(nuget("Newtonsoft.Json", "13.0.3"))}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

// TestTrivyGolden compares with trivy's result for the same deps.json
// (aquasecurity/trivy integration/testdata/dotnet.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version, Relationship string }
		}
	}
	if err := json.Unmarshal(readFixture(t, "trivy/dotnet.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			// Trivy reports the application itself, a "project" library, as
			// the root. It is not a NuGet package; we leave it out.
			if p.Relationship == "root" {
				continue
			}
			want = append(want, p.Name+"@"+p.Version)
		}
	}
	pkgs, err := Parse(readFixture(t, "trivy/datacollector.deps.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-trivy +ours):\n%s", diff)
	}
	if len(want) != 1 {
		t.Errorf("golden has %d packages besides the root, want 1", len(want))
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
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}
