package pub

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
		{name: "lockfile", path: "/app/pubspec.lock", want: true},
		{name: "pubspec.yaml", path: "/app/pubspec.yaml"},
		{name: "pub cache", path: "/root/.pub-cache/hosted/pub.dev/http-1.2.1/pubspec.lock"},
		{name: "directory", path: "/app/pubspec.lock", mode: fs.ModeDir},
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
	p := inventory.Package{Type: inventory.TypePub, Name: name, Version: version}
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
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "trivy", file: "trivy-pubspec.lock", want: []inventory.Package{pkg("http@0.13.2", "direct"), pkg("shelf@1.3.1")}},
		{
			// flutter comes from the SDK and is left out; key_binder is a
			// git dependency.
			name: "syft",
			file: "syft-pubspec.lock",
			want: []inventory.Package{
				pkg("ale@3.3.0"), pkg("analyzer@0.40.7"), pkg("ansicolor@1.1.1"), pkg("archive@2.0.13"),
				pkg("args@1.6.0"), pkg("key_binder@1.11.20", "direct"),
			},
		},
		{name: "syft, no sdks section", file: "syft-missing-sdk.lock", want: []inventory.Package{pkg("args@1.6.0")}},
		{
			name: "dev, overridden, path and sdk",
			file: "modern.lock",
			want: []inventory.Package{
				pkg("async@2.11.0"), pkg("http@1.2.1", "direct"), pkg("lints@3.0.0", "direct", "dev"), pkg("meta@1.12.0", "direct"),
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
	got, err := New().Catalog(context.Background(), image.NewFile("/app/pubspec.lock", 0o644, read(t, "trivy-pubspec.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("got %d packages, want 2", len(got))
	}
	big := image.NewFile("/app/pubspec.lock", 0o644, make([]byte, maxLock+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a lockfile over the size limit was read")
	}
}

// TestTrivyGolden compares with trivy's result for the same lockfile
// (integration/testdata/pubspec.lock.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct{ Name, Version, Relationship string }
		}
	}
	if err := json.Unmarshal(read(t, "trivy-pubspec.lock.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" "+p.Relationship)
		}
	}
	pkgs, err := Parse(context.Background(), read(t, "trivy-pubspec.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		rel := "indirect"
		if p.Direct {
			rel = "direct"
		}
		got = append(got, p.Name+"@"+p.Version+" "+rel)
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
		{name: "not YAML", in: "packages: [", wantErr: true},
		{name: "packages is a list", in: "packages:\n  - a\n", wantErr: true},
		{name: "empty", in: ""},
		{
			name:    "alias bomb",
			in:      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\npackages: *h\n",
			wantErr: true,
		},
		{
			name: "bad names and versions",
			in:   "packages:\n  \"../x\":\n    source: hosted\n    version: \"1.0.0\"\n  ok:\n    source: hosted\n    version: \"1.0 .0\"\n  fine:\n    source: hosted\n    version: \"2.0.0\"\n",
			want: 1,
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
	files, _ := filepath.Glob("testdata/*.lock")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypePub {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
