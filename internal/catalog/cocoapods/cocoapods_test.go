package cocoapods

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
	"github.com/seawall-dev/seawall/internal/purl"
)

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{name: "lockfile", path: "/app/ios/Podfile.lock", want: true},
		{name: "Podfile", path: "/app/ios/Podfile"},
		{name: "manifest copy", path: "/app/ios/Pods/Manifest.lock"},
		{name: "directory", path: "/app/Podfile.lock", mode: fs.ModeDir},
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

// pod builds an expected package from "name@version" and "direct".
func pod(spec string, flags ...string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	p := inventory.Package{Type: inventory.TypeCocoapods, Name: name, Version: version}
	for _, f := range flags {
		if f != "direct" {
			panic("bad flag " + f)
		}
		p.Direct = true
	}
	return p
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "trivy", file: "trivy-Podfile.lock", want: []inventory.Package{pod("_NIODataStructures@2.41.0", "direct")}},
		{
			// The file is cut short: only two pods are listed, with their
			// requirements (which are not pods of the build themselves).
			name: "osv-scanner", file: "osvscanner-Podfile.lock",
			want: []inventory.Package{pod("GlossButtonNode@3.1.2", "direct"), pod("PINCache@3.0.3")},
		},
		{
			// Flutter and its subspec come from a local :path:.
			name: "external sources, syft", file: "syft-Podfile-external-sources.lock",
			want: []inventory.Package{
				pod("Analytics@1.4.0", "direct"), pod("GlossButtonNode@3.1.2", "direct"), pod("GlossButtonNode/Core@3.1.2"),
			},
		},
		{
			name: "subspecs, git and path pods",
			file: "subspecs.lock",
			want: []inventory.Package{
				pod("Alamofire@5.8.1", "direct"), pod("GoogleUtilities/Environment@7.12.0"),
				pod("GoogleUtilities/NSData+zlib@7.12.0", "direct"), pod("PromisesObjC@2.3.1"), pod("SnapKit@5.6.0", "direct"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), read(t, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	got, err := New().Catalog(context.Background(), image.NewFile("/app/Podfile.lock", 0o644, read(t, "subspecs.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Errorf("got %d packages, want 5", len(got))
	}
	big := image.NewFile("/app/Podfile.lock", 0o644, make([]byte, maxLock+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a lockfile over the size limit was read")
	}
}

// TestTrivyGolden compares names, versions and package URLs with
// trivy's result for the same file (integration/testdata/cocoapods.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct {
				Name, Version string
				Identifier    struct{ PURL string }
			}
		}
	}
	if err := json.Unmarshal(read(t, "trivy-cocoapods.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" "+p.Identifier.PURL)
		}
	}
	got, err := Parse(context.Background(), read(t, "trivy-Podfile.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for i := range got {
		have = append(have, got[i].Name+"@"+got[i].Version+" "+purl.For(&got[i], nil))
	}
	sort.Strings(want)
	sort.Strings(have)
	if diff := cmp.Diff(want, have); diff != "" {
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
		{name: "not YAML", in: "PODS: [", wantErr: true},
		{name: "PODS not a list", in: "PODS: 3\n", wantErr: true},
		{name: "empty", in: ""},
		{
			name: "malformed entries are skipped",
			in:   "PODS:\n  - NoVersion\n  - \"Bad Name (1.0)\"\n  - Open (1.0\n  - .Hidden (1.0)\n  - A+B (1.0)\n  - A// (1.0)\n  - [1, 2]\n  - Good (1.0)\n",
			want: 1,
		},
		{
			name: "alias bomb",
			// PODS is read as nodes, so the aliases are never expanded.
			in: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nPODS: *g\n",
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
	files, _ := filepath.Glob("testdata/*.lock")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypeCocoapods {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
