package rust

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
		{name: "Cargo.lock", path: "/src/app/Cargo.lock", want: true},
		{name: "Cargo.toml", path: "/src/app/Cargo.toml"},
		{name: "lower case", path: "/src/app/cargo.lock"},
		{name: "directory", path: "/src/Cargo.lock", mode: fs.ModeDir},
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

func crate(name, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeCargo, Name: name, Version: version}
}

func from(p inventory.Package, source string) inventory.Package {
	p.Metadata = map[string]string{"source": source}
	return p
}

func direct(p inventory.Package) inventory.Package { p.Direct = true; return p }

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Version != b.Version {
		return a.Version < b.Version
	}
	return a.Metadata["source"] < b.Metadata["source"]
})

func TestParse(t *testing.T) {
	const regexGit = "git+https://github.com/rust-lang/regex.git#1a069b9232c607b34c4937122361aa075ef573fa"
	tests := []struct {
		name    string
		file    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "no packages", file: "scalibr/empty.lock"},
		{
			name: "one package",
			file: "scalibr/one-package.lock",
			want: []inventory.Package{crate("addr2line", "0.15.2")},
		},
		{
			name: "two packages",
			file: "scalibr/two-packages.lock",
			want: []inventory.Package{crate("addr2line", "0.15.2"), crate("syn", "1.0.73")},
		},
		{
			name: "the same crate in two versions",
			file: "scalibr/duplicate.lock",
			want: []inventory.Package{crate("syn", "1.0.73"), crate("syn", "2.0.0")},
		},
		{
			name: "many packages",
			file: "scalibr/many-packages.lock",
			want: []inventory.Package{
				crate("zstd", "0.11.2"), crate("aho-corasick", "0.7.18"), crate("memchr", "2.4.1"),
				crate("syn", "1.0.109"), crate("libc", "0.2.140"), crate("syn", "2.0.15"),
			},
		},
		{
			name: "build metadata stays in the version",
			file: "scalibr/package-with-build-string.lock",
			want: []inventory.Package{crate("wasi", "0.10.2+wasi-snapshot-preview1")},
		},
		{
			name: "comments; a git source is kept",
			file: "scalibr/package-with-comments.lock",
			want: []inventory.Package{
				crate("addr2line", "0.15.2"),
				from(crate("syn", "1.0.73"), "git+https://github.com/rust-lang/cargo?branch=master#061a9ab4cfabf2a403dbeab4bbcb8ff97d344dff"),
			},
		},
		{
			name: "a crate without source is the project's own and left out",
			file: "scalibr/two-packages-with-local.lock",
			want: []inventory.Package{crate("addr2line", "0.15.2")},
		},
		{
			name:    "not TOML",
			file:    "scalibr/not-toml.txt",
			wantErr: "not a readable Cargo.lock",
		},
		{
			name: "v1 format without a version key",
			file: "syft/Cargo.lock",
			want: []inventory.Package{
				crate("ansi_term", "0.12.1"), crate("errno", "0.3.9"), crate("matches", "0.1.8"),
				crate("memchr", "2.3.3"), crate("natord", "1.0.9"), crate("nom", "4.2.3"),
				crate("schannel", "0.1.26"), crate("unicode-bidi", "0.3.4"), crate("version_check", "0.1.5"),
				crate("winapi", "0.3.9"), crate("winapi-i686-pc-windows-gnu", "0.4.0"),
				crate("winapi-x86_64-pc-windows-gnu", "0.4.0"), crate("windows-sys", "0.52.0"),
				crate("windows-sys", "0.59.0"),
			},
		},
		{
			// app and telemetry are workspace crates: left out, but what
			// they use is direct.
			name: "path dependencies: workspace crates are left out, what they use is direct",
			file: "syft/path-deps.Cargo.lock",
			want: []inventory.Package{direct(crate("memchr", "2.7.4"))},
		},
		{
			name: "the same version from crates.io and from git are two packages",
			file: "syft/Cargo.lock-with-git-deps",
			want: []inventory.Package{
				// hello_world, the workspace's own crate, is left out.
				crate("aho-corasick", "1.1.3"),
				crate("memchr", "2.7.4"),
				crate("minimal-lexical", "0.2.1"),
				crate("nom", "7.1.3"),
				direct(crate("nom-regex", "0.2.0")),
				crate("regex", "1.11.1"),
				// "regex 1.11.1 (git+https://github.com/rust-lang/regex.git)" names this one.
				direct(from(crate("regex", "1.11.1"), regexGit)),
				crate("regex-automata", "0.4.9"),
				from(crate("regex-automata", "0.4.9"), regexGit),
				crate("regex-syntax", "0.8.5"),
				from(crate("regex-syntax", "0.8.5"), regexGit),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(readFixture(t, tt.file))
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
	got, err := New().Catalog(context.Background(), image.NewFile("/src/Cargo.lock", 0o644, readFixture(t, "scalibr/one-package.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inventory.Package{crate("addr2line", "0.15.2")}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

// TestTrivyGolden compares with trivy's result for the same Cargo.lock
// (aquasecurity/trivy integration/testdata/cargo.lock.json.golden).
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Packages []struct {
				Name, Version, Relationship string
			}
		}
	}
	if err := json.Unmarshal(readFixture(t, "trivy/cargo.lock.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	var want, wantDirect []string
	for _, r := range golden.Results {
		for _, p := range r.Packages {
			// Trivy lists the workspace's own crate as the root; Seawall
			// leaves a project's own code out.
			if p.Relationship == "root" {
				continue
			}
			want = append(want, p.Name+"@"+p.Version)
			if p.Relationship == "direct" {
				wantDirect = append(wantDirect, p.Name+"@"+p.Version)
			}
		}
	}
	// Trivy reads the Cargo.toml beside the lockfile and drops winapi, a
	// dev-dependency there, with the two crates only it pulls in. The
	// lockfile alone does not say which dependencies are for development,
	// so we report them.
	want = append(want, "winapi@0.3.9", "winapi-i686-pc-windows-gnu@0.4.0", "winapi-x86_64-pc-windows-gnu@0.4.0")
	wantDirect = append(wantDirect, "winapi@0.3.9")
	sort.Strings(want)
	sort.Strings(wantDirect)

	pkgs, err := Parse(readFixture(t, "trivy/Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var got, gotDirect []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version)
		if p.Direct {
			gotDirect = append(gotDirect, p.Name+"@"+p.Version)
		}
	}
	sort.Strings(got)
	sort.Strings(gotDirect)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-trivy +ours):\n%s", diff)
	}
	if diff := cmp.Diff(wantDirect, gotDirect); diff != "" {
		t.Errorf("direct packages (-trivy +ours):\n%s", diff)
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
