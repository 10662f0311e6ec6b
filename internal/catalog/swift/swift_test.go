package swift

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
		{name: "lockfile", path: "/app/Package.resolved", want: true},
		{name: "in an Xcode project", path: "/app/App.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved", want: true},
		{name: "manifest", path: "/app/Package.swift"},
		{name: "a checkout's lockfile", path: "/app/.build/checkouts/swift-nio/Package.resolved"},
		{name: "lower case", path: "/app/package.resolved"},
		{name: "directory", path: "/app/Package.resolved", mode: fs.ModeDir},
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

func pkg(spec string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	return inventory.Package{Type: inventory.TypeSwift, Name: name, Version: version}
}

func pkgs(specs ...string) []inventory.Package {
	var out []inventory.Package
	for _, s := range specs {
		out = append(out, pkg(s))
	}
	return out
}

func TestParse(t *testing.T) {
	registry := pkg("mona.linkedlist@1.1.0")
	registry.Metadata = map[string]string{"kind": "registry"}
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr bool
	}{
		{name: "v1, trivy", file: "trivy-Package.resolved", want: pkgs("github.com/apple/swift-atomics@1.1.0", "github.com/apple/swift-nio@2.41.0")},
		{name: "v2, osv-scanner", file: "osvscanner-Package.resolved", want: pkgs("github.com/apple/swift-nio-http2@1.19.1", "github.com/pytorch/executorch@0.6.0")},
		{
			// swift-mmio is pinned to a branch: no version.
			name: "v3, syft", file: "syft-PackageV3.resolved",
			want: pkgs("github.com/apple/swift-syntax@509.1.1"),
		},
		{name: "no pins, syft", file: "syft-bad-version-packages.resolved"},
		{
			name: "remotes of every form, local and registry pins",
			file: "mixed.resolved",
			want: []inventory.Package{
				pkg("github.com/apple/swift-collections@1.1.0"), pkg("github.com/apple/swift-log@1.5.4"),
				pkg("gitlab.example.com/group/subgroup/nested@2.0.0"), registry,
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
	got, err := New().Catalog(context.Background(), image.NewFile("/app/Package.resolved", 0o644, read(t, "trivy-Package.resolved")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("got %d packages, want 2", len(got))
	}
	big := image.NewFile("/app/Package.resolved", 0o644, make([]byte, maxLock+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("a lockfile over the size limit was read")
	}
}

// TestTrivyGolden compares names, versions and package URLs with
// trivy's result for the same file (integration/testdata/swift.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct {
				Name, Version string
				Identifier    struct{ PURL string }
			}
		}
	}
	if err := json.Unmarshal(read(t, "trivy-swift.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			want = append(want, p.Name+"@"+p.Version+" "+p.Identifier.PURL)
		}
	}
	got, err := Parse(context.Background(), read(t, "trivy-Package.resolved"))
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

func TestRepoName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://github.com/apple/swift-nio.git", "github.com/apple/swift-nio"},
		{"https://github.com/apple/swift-nio", "github.com/apple/swift-nio"},
		{"http://user:secret@example.com:8080/a/b.git", "example.com/a/b"},
		{"git@github.com:apple/swift-log.git", "github.com/apple/swift-log"},
		{"github.com:apple/swift-log", "github.com/apple/swift-log"},
		{"0:@", ""}, // found by fuzzing: an "@" after the colon
		{"a@b@host:o/r", "host/o/r"},
		{"git://example.com/a/b", "example.com/a/b"},
		{"file:///Users/me/repo", ""},
		{"/Users/me/repo", ""},
		{"../repo", ""},
		{"https://github.com/only-owner", ""},
		{"https://github.com/a/../b", ""},
		{"https://github.com/a/b%20c", ""},
		{"", ""},
		{"ftp://example.com/a/b", ""},
	}
	for _, tt := range tests {
		got, ok := RepoName(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("RepoName(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
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
		{name: "not JSON", in: "pins:", wantErr: true},
		{name: "pins not a list", in: `{"pins": {"a": 1}}`, wantErr: true},
		{name: "version not a string", in: `{"pins": [{"location": "https://github.com/a/b", "state": {"version": 1}}]}`, wantErr: true},
		{name: "null state", in: `{"pins": [{"location": "https://github.com/a/b", "state": null}]}`},
		{
			name: "bad versions and names are skipped",
			in:   `{"pins": [{"location": "https://github.com/a/b", "state": {"version": "1.0 0"}}, {"location": "https://github.com/a/c\u0000d", "state": {"version": "1.0.0"}}, {"location": "https://github.com/a/e", "state": {"version": "1.0.0"}}]}`,
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
	files, _ := filepath.Glob("testdata/*.resolved")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != inventory.TypeSwift {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
