package nugetproj

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
		{name: "packages.config", path: "/src/App/packages.config", want: true},
		{name: "central versions", path: "/src/Directory.Packages.props", want: true},
		{name: "old central versions", path: "/src/Packages.props", want: true},
		{name: "C#", path: "/src/App/App.csproj", want: true},
		{name: "F#", path: "/src/App/App.fsproj", want: true},
		{name: "Visual Basic", path: "/src/App/App.VBPROJ", want: true},
		{name: "build props", path: "/src/Directory.Build.props"},
		{name: "lockfile", path: "/src/App/packages.lock.json"},
		{name: "solution", path: "/src/App.sln"},
		{name: "package cache", path: "/root/.nuget/packages/x/1.0.0/x.csproj"},
		{name: "directory", path: "/src/App/App.csproj", mode: fs.ModeDir},
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

// pkg builds an expected package from "name@version" and the flags
// "direct" and "dev".
func pkg(spec string, flags ...string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	p := inventory.Package{Type: inventory.TypeNuGet, Name: name, Version: version}
	for _, f := range flags {
		switch f {
		case "direct":
			p.Direct = true
		case "dev":
			p.Dev = true
		default:
			panic("bad flag " + f)
		}
	}
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool { return a.Name+"@"+a.Version < b.Name+"@"+b.Version })

func TestParse(t *testing.T) {
	compilers := []inventory.Package{
		pkg("Microsoft.CodeDom.Providers.DotNetCompilerPlatform@1.0.0"), pkg("Microsoft.Net.Compilers@1.0.0", "dev"),
	}
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "packages.config, scalibr", file: "scalibr-valid.packages.config", want: compilers},
		{name: "packages.config, osv-scanner", file: "osvscanner-packages.config", want: compilers},
		{name: "package without an id", file: "scalibr-nopackage.packages.config", want: compilers[:1]},
		{name: "package without a version", file: "scalibr-noversion.packages.config", want: compilers[:1]},
		{name: "not XML", file: "scalibr-invalid.packages.config", wantErr: true},
		{name: "central versions, trivy", file: "trivy-Directory.Packages.props", want: []inventory.Package{pkg("Newtonsoft.Json@9.0.1")}},
		{
			// A PackageReference in Directory.Packages.props applies to
			// every project.
			name: "props with a reference, osv-scanner", file: "osvscanner-Directory.Packages.props",
			want: []inventory.Package{pkg("System.Text.RegularExpressions@4.3.0", "direct")},
		},
		{name: "project, osv-scanner", file: "osvscanner-test.csproj", want: []inventory.Package{pkg("Newtonsoft.Json@12.0.1", "direct")}},
		{
			// Conditions and PrivateAssets do not change what is referenced.
			name: "project with comments, conditions and targets, syft", file: "syft-compile-target.csproj",
			want: []inventory.Package{
				pkg("DotNetNuke.Core@9.9.1", "direct"), pkg("jQuery@3.4.1", "direct"),
				pkg("Microsoft.AspNetCore.Mvc.Razor@2.2.0", "direct"), pkg("Microsoft.ChakraCore@1.11.24", "direct"),
				pkg("Microsoft.NET.Test.Sdk@17.8.0", "direct"), pkg("Nuget.CommandLine@6.3.1", "direct"),
				pkg("StyleCop.Analyzers@1.2.0-beta.435", "direct"), pkg("Umbraco.Cms@11.3.0", "direct"),
			},
		},
		{name: "project with child elements, syft", file: "syft-net2-app.csproj", want: []inventory.Package{
			pkg("Serilog@2.10.0", "direct"), pkg("Serilog.Sinks.Console@4.0.1", "direct"), pkg("StyleCop.Analyzers@1.1.118", "direct"),
		}},
		{name: "private assets, syft", file: "syft-privateassets.csproj", want: []inventory.Package{
			pkg("Humanizer@2.14.1", "direct"), pkg("Newtonsoft.Json@13.0.3", "direct"),
		}},
		{
			// Logging (no version), Serilog (a property), AutoMapper (a
			// range), MediatR (floating) and the xunit list are skipped.
			name: "reference forms", file: "cpm.csproj",
			want: []inventory.Package{
				pkg("Dapper@2.1.28", "direct"), pkg("FluentValidation@11.9.0", "direct"),
				pkg("Newtonsoft.Json@13.0.3", "direct"), pkg("Polly@8.3.1", "direct"),
			},
		},
		{
			name: "central package management", file: "central.props",
			want: []inventory.Package{
				pkg("Microsoft.Extensions.Logging@8.0.0"), pkg("Nerdbank.GitVersioning@3.6.133", "direct"), pkg("Polly@8.2.0"),
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
	got, err := New().Catalog(context.Background(), image.NewFile("/src/App/App.csproj", 0o644, read(t, "syft-net2-app.csproj")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("got %d packages, want 3", len(got))
	}
	big := image.NewFile("/src/App/App.csproj", 0o644, make([]byte, maxFile+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a file over the size limit was read")
	}
}

// TestTrivyGolden compares with trivy's result for its
// Directory.Packages.props fixture (integration/testdata/packagesprops.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(read(t, "trivy-packagesprops.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version)
		}
	}
	got, err := Parse(context.Background(), read(t, "trivy-Directory.Packages.props"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, p := range got {
		have = append(have, p.Name+"@"+p.Version)
	}
	sort.Strings(want)
	sort.Strings(have)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("packages (-trivy +seawall):\n%s", diff)
	}
}

func TestLiteralVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3", "1.2.3"},
		{" 1.2.3 ", "1.2.3"},
		{"1.2.0-beta.435", "1.2.0-beta.435"},
		{"1.0.0+build.5", "1.0.0+build.5"},
		{"[1.2.3]", "1.2.3"},
		{"[1.2.3,)", ""},
		{"(1.0,2.0)", ""},
		{"[1.0,2.0]", ""},
		{"1.*", ""},
		{"*", ""},
		{"$(Version)", ""},
		{"", ""},
		{"v1.0", ""},
		{"1.0 || 2.0", ""},
	}
	for _, tt := range tests {
		got, ok := literalVersion(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("literalVersion(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		want    int
	}{
		{name: "empty", in: "", wantErr: true},
		{name: "unclosed", in: `<Project><ItemGroup><PackageReference Include="A" Version="1.0.0" />`, wantErr: true},
		{name: "mismatched", in: `<Project></ItemGroup>`, wantErr: true},
		{name: "too deep", in: strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1), wantErr: true},
		{
			// encoding/xml expands no entities it does not know.
			name:    "entity expansion",
			in:      `<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Project><ItemGroup><PackageReference Include="&b;" Version="1.0.0" /></ItemGroup></Project>`,
			wantErr: true,
		},
		{name: "not a project", in: `<html><PackageReference Include="A" Version="1.0.0" /></html>`},
		{name: "nested package element", in: `<packages><x><package id="A" version="1.0.0" /></x></packages>`},
		{name: "bad names", in: `<Project><PackageReference Include="../A" Version="1.0.0" /><PackageReference Include="*" Version="1.0.0" /><PackageReference Include="B" Version="1.0.0" /></Project>`, want: 1},
		{name: "a second root is an error", in: `<Project></Project><Project>`, wantErr: true},
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
	for _, pat := range []string{"testdata/*.config", "testdata/*.props", "testdata/*.csproj"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if !validName(p.Name) || p.Version == "" || p.Type != inventory.TypeNuGet {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
