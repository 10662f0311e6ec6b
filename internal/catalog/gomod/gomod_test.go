package gomod

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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
		{name: "go.mod", path: "/src/app/go.mod", want: true},
		{name: "go.sum", path: "/src/app/go.sum", want: true},
		{name: "go.work", path: "/src/app/go.work"},
		{name: "suffix", path: "/src/app/go.mod.bak"},
		{name: "prefix", path: "/src/app/x.go.mod"},
		{name: "module cache", path: "/root/go/pkg/mod/github.com/x/y@v1.0.0/go.mod"},
		{name: "vendor", path: "/src/app/vendor/github.com/x/y/go.mod"},
		{name: "directory", path: "/src/go.mod", mode: fs.ModeDir},
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

// mod builds an expected package from "path@version" and flags:
// "direct" and "replaces=path@version".
func mod(spec string, flags ...string) inventory.Package {
	name, version, _ := strings.Cut(spec, "@")
	p := inventory.Package{Type: inventory.TypeGolang, Name: name, Version: version}
	for _, f := range flags {
		switch {
		case f == "direct":
			p.Direct = true
		case strings.HasPrefix(f, "replaces="):
			p.Metadata = map[string]string{"replaces": f[len("replaces="):]}
		default:
			panic("bad flag " + f)
		}
	}
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Version < b.Version
})

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		mod     string
		sum     string // beside the go.mod; "" for none
		want    []inventory.Package
		wantErr string
	}{
		{name: "empty", mod: "scalibr/empty.mod"},
		{name: "not a go.mod", mod: "scalibr/not-go-mod.mod", wantErr: "not a valid go.mod"},
		{
			name: "one package, no go directive",
			mod:  "scalibr/one-package.mod",
			want: []inventory.Package{mod("github.com/BurntSushi/toml@v1.0.0", "direct")},
		},
		{
			// The go directive is not reported as stdlib.
			name: "two packages",
			mod:  "scalibr/two-packages.mod",
			want: []inventory.Package{mod("github.com/BurntSushi/toml@v1.0.0", "direct"), mod("gopkg.in/yaml.v2@v2.4.0", "direct")},
		},
		{
			name: "indirect requirements",
			mod:  "scalibr/indirect-packages.mod",
			want: []inventory.Package{
				mod("github.com/BurntSushi/toml@v1.0.0", "direct"),
				mod("gopkg.in/yaml.v2@v2.4.0", "direct"),
				mod("github.com/mattn/go-colorable@v0.1.9"),
				mod("github.com/mattn/go-isatty@v0.0.14"),
				mod("golang.org/x/sys@v0.0.0-20210630005230-0f9fa26af87c"),
			},
		},
		{
			// Go 1.16: go.sum completes the build list. go-spew has a
			// content line for v1.1.1 only; objx and check.v1 have only
			// go.mod lines and are not in the build.
			name: "go 1.16 with go.sum",
			mod:  "scalibr/indirect-1.16.mod",
			sum:  "scalibr/indirect-1.16.sum",
			want: []inventory.Package{
				mod("github.com/sirupsen/logrus@v1.9.3", "direct"),
				mod("github.com/davecgh/go-spew@v1.1.1"),
				mod("github.com/pmezard/go-difflib@v1.0.0"),
				mod("github.com/stretchr/testify@v1.7.0"),
				mod("golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8"),
				mod("gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c"),
			},
		},
		{
			// Go 1.23: go.sum is not read, so its garbage does not matter.
			name: "go 1.23 ignores go.sum",
			mod:  "scalibr/indirect-1.23.mod",
			sum:  "scalibr/indirect-1.23.sum",
			want: []inventory.Package{
				mod("github.com/sirupsen/logrus@v1.9.3", "direct"),
				mod("golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8"),
			},
		},
		{
			name:    "go 1.16 with a go.sum that is not one",
			mod:     "scalibr/indirect-1.16.mod",
			sum:     "scalibr/indirect-1.23.sum",
			want:    []inventory.Package{mod("github.com/sirupsen/logrus@v1.9.3", "direct")},
			wantErr: "go.sum: not a go.sum",
		},
		{
			name: "one replacement",
			mod:  "scalibr/replace-one.mod",
			want: []inventory.Package{mod("example.com/fork/net@v1.4.5", "direct", "replaces=golang.org/x/net@v1.2.3")},
		},
		{
			name: "a replacement for one of two versions",
			mod:  "scalibr/replace-mixed.mod",
			want: []inventory.Package{
				mod("example.com/fork/net@v1.4.5", "direct", "replaces=golang.org/x/net@v1.2.3"),
				mod("golang.org/x/net@v0.5.6", "direct"),
			},
		},
		{
			name: "a local replacement is the project's own code",
			mod:  "scalibr/replace-local.mod",
			want: []inventory.Package{mod("github.com/BurntSushi/toml@v1.0.0", "direct")},
		},
		{
			name: "different replacements per version",
			mod:  "scalibr/replace-different.mod",
			want: []inventory.Package{
				mod("example.com/fork/foe@v1.4.5", "direct", "replaces=golang.org/x/net@v1.2.3"),
				mod("example.com/fork/foe@v1.4.2", "direct", "replaces=golang.org/x/net@v0.5.6"),
			},
		},
		{
			name: "a replacement for a version not required",
			mod:  "scalibr/replace-not-required.mod",
			want: []inventory.Package{mod("golang.org/x/net@v0.5.6", "direct"), mod("github.com/BurntSushi/toml@v1.0.0", "direct")},
		},
		{
			// Both versions become the same module; it is reported once.
			name: "a replacement for every version",
			mod:  "scalibr/replace-no-version.mod",
			want: []inventory.Package{mod("example.com/fork/net@v1.4.5", "direct", "replaces=golang.org/x/net@v1.2.3")},
		},
		{
			name: "toolchain directive",
			mod:  "scalibr/toolchain.mod",
			want: []inventory.Package{mod("github.com/BurntSushi/toml@v1.0.0", "direct")},
		},
		{
			name: "toolchain directive with a suffix",
			mod:  "scalibr/toolchain-with-suffix.mod",
			want: []inventory.Package{mod("github.com/BurntSushi/toml@v1.0.0", "direct")},
		},
		{
			// A module block, comments that look like requirements,
			// replacements with and without a version on the left, and an
			// exclude, which is ignored.
			name: "syft: many packages",
			mod:  "syft/many-packages/go.mod",
			want: []inventory.Package{
				mod("github.com/adrg/xdg@v0.2.1", "direct"),
				mod("github.com/anchore/go-testutils@v0.0.0-20200624184116-66aa578126db", "direct"),
				mod("github.com/anchore/go-version@v1.2.2-0.20200701162849-18adb9c92b9b", "direct"),
				mod("github.com/anchore/stereoscope@v0.0.0-20200706164556-7cf39d7f4639", "direct"),
				mod("github.com/anchore/archiver/v3@v3.5.2", "direct", "replaces=github.com/anchore/archiver/v3@v3.5.1"),
				mod("github.com/bmatcuk/doublestar@v8.8.8", "replaces=github.com/bmatcuk/doublestar@v1.3.1"),
				mod("github.com/go-test/deep@v1.0.6", "direct"),
			},
		},
		{
			// Go 1.14, but go.sum has only a go.mod line.
			name: "syft: one package",
			mod:  "syft/one-package/go.mod",
			sum:  "syft/one-package/go.sum",
			want: []inventory.Package{mod("github.com/bmatcuk/doublestar@v1.3.1", "direct")},
		},
		{name: "syft: relative replacement", mod: "syft/relative-replace/go.mod"},
		{
			name: "syft: replacement with go.sum, go 1.18",
			mod:  "syft/go-sum-hashes/go.mod",
			sum:  "syft/go-sum-hashes/go.sum",
			want: []inventory.Package{
				mod("github.com/CycloneDX/cyclonedx-go@v0.6.0", "direct", "replaces=github.com/CycloneDX/cyclonedx-go@v0.7.0"),
				mod("github.com/acarl005/stripansi@v0.0.0-20180116102854-5a71ef0e047d", "direct"),
				mod("github.com/mgutz/ansi@v0.0.0-20200706080929-d51e80ef957d"),
			},
		},
		{
			name: "trivy: submodule on go 1.15",
			mod:  "trivy/submod/go.mod",
			sum:  "trivy/submod/go.sum",
			want: []inventory.Package{
				mod("github.com/docker/distribution@v2.7.1+incompatible", "direct"),
				mod("github.com/pmezard/go-difflib@v1.0.0"),
				mod("github.com/stretchr/testify@v1.7.0"),
				mod("gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405"),
				mod("gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c"),
			},
		},
		{
			name: "trivy: second submodule on go 1.15",
			mod:  "trivy/submod2/go.mod",
			sum:  "trivy/submod2/go.sum",
			want: []inventory.Package{
				mod("github.com/davecgh/go-spew@v1.1.0", "direct"),
				mod("github.com/docker/distribution@v2.7.1+incompatible"),
				mod("github.com/pmezard/go-difflib@v1.0.0"),
				mod("github.com/stretchr/testify@v1.7.0"),
				mod("gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405"),
				mod("gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c"),
			},
		},
		{
			// Go 1.17 lists every module; the 1,283-line go.sum adds none.
			name: "trivy: go 1.17",
			mod:  "trivy/go.mod",
			sum:  "trivy/go.sum",
			want: []inventory.Package{
				mod("github.com/open-policy-agent/opa@v0.35.0", "direct"),
				mod("golang.org/x/net@v0.0.0-20211111083644-e5c967477495", "direct"),
				mod("golang.org/x/sys@v0.0.0-20211205182925-97ca703d548d", "direct"),
				mod("github.com/docker/distribution@v2.7.1+incompatible"),
				mod("github.com/docker/docker@v20.10.11+incompatible"),
				mod("github.com/docker/go-connections@v0.4.0"),
				mod("github.com/docker/go-units@v0.4.0"),
				mod("go.opencensus.io@v0.23.0"),
				mod("go4.org/intern@v0.0.0-20211027215823-ae77deb06f29"),
				mod("go4.org/unsafe/assume-no-moving-gc@v0.0.0-20211027215541-db492cf91b37"),
				mod("golang.org/x/crypto@v0.0.0-20201002170205-7f63de1d35b0"),
				mod("golang.org/x/text@v0.3.6"),
				mod("golang.org/x/time@v0.0.0-20210723032227-1f47c861a9ac"),
				mod("google.golang.org/genproto@v0.0.0-20210602131652-f16073e35f0c"),
				mod("google.golang.org/grpc@v1.38.0"),
				mod("google.golang.org/protobuf@v1.27.1"),
				mod("gopkg.in/yaml.v2@v2.4.0"),
				mod("gopkg.in/yaml.v3@v3.0.0-20210107192922-496545a6307b"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sum []byte
			if tt.sum != "" {
				sum = read(t, tt.sum)
			}
			got, err := ParseWithSum(context.Background(), read(t, tt.mod), sum)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrivyGolden checks that every vulnerable module in trivy's result
// for its gomod fixture (integration/testdata/gomod.json.golden) is
// among ours for the same file. The golden lists vulnerabilities, not
// packages, so this is a subset check; TestParse has the full sets.
func TestTrivyGolden(t *testing.T) {
	var golden struct {
		Results []struct {
			Target          string
			Vulnerabilities []struct{ PkgName, InstalledVersion string }
		}
	}
	if err := json.Unmarshal(read(t, "trivy/gomod.json.golden"), &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Results) != 3 {
		t.Fatalf("golden has %d results, want 3", len(golden.Results))
	}
	for _, r := range golden.Results {
		t.Run(r.Target, func(t *testing.T) {
			dir := filepath.Dir(r.Target)
			got, err := ParseWithSum(context.Background(), read(t, filepath.Join("trivy", dir, "go.mod")), read(t, filepath.Join("trivy", dir, "go.sum")))
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, p := range got {
				have[p.Name+"@"+p.Version] = true
			}
			if len(r.Vulnerabilities) == 0 {
				t.Fatal("no vulnerabilities in the golden")
			}
			for _, v := range r.Vulnerabilities {
				if !have[v.PkgName+"@"+v.InstalledVersion] {
					t.Errorf("trivy's %s@%s is missing", v.PkgName, v.InstalledVersion)
				}
			}
		})
	}
}

// TestCatalogPairs checks that the cataloger pairs go.mod and go.sum of
// one directory in one layer, whichever comes first, and nothing else.
func TestCatalogPairs(t *testing.T) {
	oldMod, oldSum := read(t, "scalibr/indirect-1.16.mod"), read(t, "scalibr/indirect-1.16.sum")
	newMod := read(t, "scalibr/indirect-1.23.mod")
	type in struct {
		path  string
		layer int
		data  []byte
	}
	// A package without a location is located in the file cataloged.
	tests := []struct {
		name        string
		files       []in
		wantMod     int // packages located in go.mod
		wantSum     map[string]int
		wantPending int
	}{
		{
			name:    "go.mod first",
			files:   []in{{"/app/go.mod", 0, oldMod}, {"/app/go.sum", 0, oldSum}},
			wantMod: 1, wantSum: map[string]int{"/app/go.sum": 5},
		},
		{
			name:    "go.sum first",
			files:   []in{{"/app/go.sum", 0, oldSum}, {"/app/go.mod", 0, oldMod}},
			wantMod: 1, wantSum: map[string]int{"/app/go.sum": 5},
		},
		{
			name:    "different directories",
			files:   []in{{"/app/go.mod", 0, oldMod}, {"/other/go.sum", 0, oldSum}},
			wantMod: 1, wantPending: 2,
		},
		{
			name:    "different layers",
			files:   []in{{"/app/go.mod", 0, oldMod}, {"/app/go.sum", 1, oldSum}},
			wantMod: 1, wantPending: 2,
		},
		{
			// A modern go.mod: the garbage go.sum is never read.
			name:    "go 1.23",
			files:   []in{{"/app/go.mod", 0, newMod}, {"/app/go.sum", 0, []byte("garbage")}},
			wantMod: 2,
		},
		{
			name:    "go 1.23, go.sum first",
			files:   []in{{"/app/go.sum", 0, oldSum}, {"/app/go.mod", 0, newMod}},
			wantMod: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			gotMod, gotSum := 0, map[string]int{}
			for _, f := range tt.files {
				file := image.NewFile(f.path, 0o644, f.data)
				file.Layer = f.layer
				pkgs, err := c.Catalog(context.Background(), file)
				if err != nil {
					t.Fatalf("%s: %v", f.path, err)
				}
				for _, p := range pkgs {
					loc := f.path
					if len(p.Locations) > 0 {
						loc = p.Locations[0].Path
					}
					if strings.HasSuffix(loc, "/go.mod") {
						gotMod++
					} else {
						gotSum[loc]++
					}
				}
			}
			if gotMod != tt.wantMod {
				t.Errorf("%d packages from go.mod, want %d", gotMod, tt.wantMod)
			}
			if diff := cmp.Diff(tt.wantSum, gotSum, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages from go.sum (-want +got):\n%s", diff)
			}
			if len(c.pending) != tt.wantPending {
				t.Errorf("%d directories still pending, want %d", len(c.pending), tt.wantPending)
			}
		})
	}
}

// TestCatalogConcurrent runs layers at once, as the engine does; run it
// with -race.
func TestCatalogConcurrent(t *testing.T) {
	mod, sum := read(t, "scalibr/indirect-1.16.mod"), read(t, "scalibr/indirect-1.16.sum")
	c := New()
	const layers = 8
	counts := make([]int, layers)
	var wg sync.WaitGroup
	for l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range []struct {
				path string
				data []byte
			}{{"/app/go.sum", sum}, {"/app/go.mod", mod}} {
				file := image.NewFile(f.path, 0o644, f.data)
				file.Layer = l
				pkgs, err := c.Catalog(context.Background(), file)
				if err != nil {
					t.Error(err)
				}
				counts[l] += len(pkgs)
			}
		}()
	}
	wg.Wait()
	for l, n := range counts {
		if n != 6 {
			t.Errorf("layer %d: %d packages, want 6", l, n)
		}
	}
	if len(c.pending) != 0 {
		t.Errorf("%d directories still pending", len(c.pending))
	}
}

func TestHostile(t *testing.T) {
	var many strings.Builder
	many.WriteString("module example.com/m\n\ngo 1.21\n\nrequire (\n")
	for i := range maxModules + 1 {
		fmt.Fprintf(&many, "\texample.com/m%d v1.0.0\n", i)
	}
	many.WriteString(")\n")
	tests := []struct {
		name    string
		mod     string
		wantErr string
		want    int
	}{
		{name: "too many requirements", mod: many.String(), wantErr: "more than"},
		{name: "binary", mod: "\x00\x01\x02require", wantErr: "not a valid go.mod"},
		{name: "unterminated block", mod: "module m\nrequire (\n\texample.com/a v1.0.0\n", wantErr: "not a valid go.mod"},
		{
			// A directive this parser does not know: the requirements
			// are still read, with a warning.
			name: "unknown directive", mod: "module m\nfrobnicate x\nrequire example.com/a v1.0.0\n",
			wantErr: "without its replace directives", want: 1,
		},
		{name: "invalid version", mod: "module m\nrequire example.com/a latest\n", wantErr: "not a valid go.mod"},
		// modfile accepts a quoted path with a space; it is no module path.
		{name: "path with spaces", mod: "module m\nrequire \"example.com/a b\" v1.0.0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(context.Background(), []byte(tt.mod))
			if (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr))) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("%d packages, want %d", len(got), tt.want)
			}
		})
	}

	sums := []struct {
		name    string
		sum     string
		want    []string
		wantErr bool
	}{
		{name: "empty", sum: ""},
		{name: "garbage", sum: "hello world\n", wantErr: true},
		{
			name: "newest version wins, whatever the order",
			sum:  "example.com/a v1.10.0 h1:x=\nexample.com/a v1.9.0 h1:y=\nexample.com/a v1.2.0/go.mod h1:z=\n",
			want: []string{"example.com/a@v1.10.0"},
		},
		{
			name: "invalid paths and versions are skipped",
			sum:  "../../etc v1.0.0 h1:x=\nexample.com/a notaversion h1:y=\nexample.com/b v1.0.0 h1:z=\n",
			want: []string{"example.com/b@v1.0.0"},
		},
	}
	for _, tt := range sums {
		t.Run("go.sum "+tt.name, func(t *testing.T) {
			got, err := ParseSum([]byte(tt.sum))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			var list []string
			for p, v := range got {
				list = append(list, p+"@"+v)
			}
			sort.Strings(list)
			if diff := cmp.Diff(tt.want, list, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("modules (-want +got):\n%s", diff)
			}
		})
	}
}

func seeds(f *testing.F, patterns ...string) {
	for _, pat := range patterns {
		files, _ := filepath.Glob(filepath.Join("testdata", pat))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds(f, "scalibr/*.mod", "syft/*/go.mod", "trivy/go.mod", "trivy/*/go.mod")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := Parse(context.Background(), b)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without a name or version: %+v", p)
			}
		}
	})
}

func FuzzParseSum(f *testing.F) {
	seeds(f, "scalibr/*.sum", "syft/*/go.sum", "trivy/*/go.sum")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _ := ParseSum(b)
		for p, v := range m {
			if p == "" || v == "" {
				t.Fatalf("module without a path or version: %q %q", p, v)
			}
		}
	})
}
