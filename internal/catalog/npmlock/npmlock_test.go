package npmlock

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

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/npm"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// pkg builds an expected package from "name@version" and flags: "dev",
// "direct" and "lic=A,B".
func pkg(spec string, flags ...string) inventory.Package {
	name, version, ok := splitDescriptor(spec)
	if !ok {
		panic("bad spec " + spec)
	}
	ns, n := npm.SplitScope(name)
	p := inventory.Package{Type: inventory.TypeNPM, Namespace: ns, Name: n, Version: version}
	for _, f := range flags {
		switch {
		case f == "dev":
			p.Dev = true
		case f == "direct":
			p.Direct = true
		case strings.HasPrefix(f, "lic="):
			p.Licenses = strings.Split(f[4:], ",")
		default:
			panic("bad flag " + f)
		}
	}
	return p
}

type parseCase struct {
	name    string
	file    string
	want    []inventory.Package
	wantErr bool
	// partial means packages come back together with an error that
	// becomes a warning.
	partial bool
}

func runCases(t *testing.T, dir string, parse func(context.Context, []byte) ([]inventory.Package, error), cases []parseCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parse(context.Background(), b)
			if (err != nil) != (tt.wantErr || tt.partial) {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr || tt.partial)
			}
			if tt.wantErr && !tt.partial && got != nil {
				t.Errorf("packages returned with a fatal error: %v", got)
			}
			sortPkgs(got)
			sortPkgs(tt.want)
			if diff := cmp.Diff(tt.want, got, cmpEmpty); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmpty treats a nil and an empty package list as equal.
var cmpEmpty = cmp.FilterValues(func(a, b []inventory.Package) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func sortPkgs(p []inventory.Package) {
	sort.Slice(p, func(i, j int) bool {
		a, b := p[i].Namespace+"/"+p[i].Name+"@"+p[i].Version, p[j].Namespace+"/"+p[j].Name+"@"+p[j].Version
		return a < b
	})
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{"package-lock", "/app/package-lock.json", 0o644, true},
		{"shrinkwrap", "/app/npm-shrinkwrap.json", 0o644, true},
		{"yarn", "/src/yarn.lock", 0o644, true},
		{"pnpm", "/pnpm-lock.yaml", 0o644, true},
		{"bun", "/app/bun.lock", 0o644, true},
		{"binary bun", "/app/bun.lockb", 0o644, false},
		{"in node_modules", "/app/node_modules/x/package-lock.json", 0o644, false},
		{"hidden lockfile", "/app/node_modules/.package-lock.json", 0o644, false},
		{"other name", "/app/package.json", 0o644, false},
		{"similar name", "/app/yarn.lock.bak", 0o644, false},
		{"directory", "/app/yarn.lock", fs.ModeDir, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if !catalog.IsDeclared(c) {
		t.Error("lockfile cataloger is not Declared")
	}
}

// TestCatalogDispatch checks that each file name reaches its parser.
func TestCatalogDispatch(t *testing.T) {
	tests := []struct {
		name, path, file string
		want             int
	}{
		{"package-lock", "/a/package-lock.json", "packagelock/trivy-npm.json", 13},
		{"shrinkwrap", "/a/npm-shrinkwrap.json", "packagelock/trivy-npm.json", 13},
		{"yarn", "/a/yarn.lock", "yarn/trivy-yarn.lock", 3},
		{"pnpm", "/a/pnpm-lock.yaml", "pnpm/trivy-pnpm.yaml", 2},
		{"bun", "/a/bun.lock", "bun/trivy-bun.lock", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := New().Catalog(context.Background(), image.NewFile(tt.path, 0o644, b))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d", len(got), tt.want)
			}
		})
	}
	big := image.NewFile("/a/yarn.lock", 0o644, make([]byte, maxLockfile+1))
	if _, err := New().Catalog(context.Background(), big); err == nil {
		t.Error("Catalog accepted a lockfile over the size limit")
	}
}

func TestPackageLock(t *testing.T) {
	wrappy := pkg("wrappy@1.0.2")
	runCases(t, "packagelock", ParsePackageLock, []parseCase{
		{name: "v1 one package", file: "scalibr-one-package.v1.json", want: []inventory.Package{wrappy}},
		{name: "v2 one package", file: "scalibr-one-package.v2.json", want: []inventory.Package{pkg("wrappy@1.0.2", "direct")}},
		{name: "v1 dev", file: "scalibr-one-package-dev.v1.json", want: []inventory.Package{pkg("wrappy@1.0.2", "dev")}},
		{name: "v2 dev", file: "scalibr-one-package-dev.v2.json", want: []inventory.Package{pkg("wrappy@1.0.2", "dev", "direct")}},
		{name: "v1 two packages", file: "scalibr-two-packages.v1.json", want: []inventory.Package{wrappy, pkg("supports-color@5.5.0")}},
		{name: "v2 two packages", file: "scalibr-two-packages.v2.json", want: []inventory.Package{
			pkg("wrappy@1.0.2", "direct"), pkg("supports-color@5.5.0", "direct"),
		}},
		{name: "v1 scoped", file: "scalibr-scoped-packages.v1.json", want: []inventory.Package{pkg("@babel/code-frame@7.0.0"), wrappy}},
		{name: "v2 scoped", file: "scalibr-scoped-packages.v2.json", want: []inventory.Package{pkg("@babel/code-frame@7.0.0"), wrappy}},
		{
			// "dev" and "optional" together are dev; "optional" alone is not.
			name: "v1 optional", file: "scalibr-optional-package.v1.json",
			want: []inventory.Package{pkg("wrappy@1.0.2", "dev"), pkg("supports-color@5.5.0")},
		},
		{
			// devOptional is installed by `npm ci --omit=dev`, so not Dev.
			name: "v2 optional and devOptional", file: "scalibr-optional-package.v2.json",
			want: []inventory.Package{pkg("wrappy@1.0.2", "direct"), pkg("supports-color@5.5.0")},
		},
		{name: "v1 empty", file: "scalibr-empty.v1.json"},
		{name: "v2 root only", file: "scalibr-empty.v2.json"},
		{name: "JSON null", file: "scalibr-null.v2.jsontest"},
		{name: "not JSON", file: "scalibr-not-json.txt", wantErr: true},
		{name: "truncated", file: "syft-corrupt.json", wantErr: true},
		{
			// "other_package" has version "file:deps/other_package": local.
			name: "v1 file dependency", file: "scalibr-files.v1.json",
			want: []inventory.Package{pkg("lodash@1.3.1")},
		},
		{
			// "deps/etag" is the local directory the devDependency
			// "file:./deps/etag" points at; the packages installed in its
			// own node_modules are third-party and kept.
			name: "v2 file dependency", file: "scalibr-files.v2.json",
			want: []inventory.Package{pkg("abbrev@1.0.9", "dev"), pkg("abbrev@2.3.4", "dev")},
		},
		{name: "v1 nested", file: "scalibr-nested-dependencies.v1.json", want: []inventory.Package{
			pkg("postcss@6.0.23"), pkg("postcss@7.0.16"), pkg("postcss-calc@7.0.1"), pkg("supports-color@5.5.0"), pkg("supports-color@6.1.0"),
		}},
		{name: "v2 nested", file: "scalibr-nested-dependencies.v2.json", want: []inventory.Package{
			pkg("postcss@6.0.23"), pkg("postcss@7.0.16"), pkg("postcss-calc@7.0.1"), pkg("supports-color@5.5.0"), pkg("supports-color@6.1.0"),
		}},
		{name: "v2 same package at 36 paths", file: "scalibr-nested-dependencies-dup.v2.json", want: []inventory.Package{
			pkg("supports-color@2.0.0"), pkg("supports-color@6.1.0"),
		}},
		{
			// ajv@5.5.2 occurs as dev, optional and plain: it is not Dev.
			name: "v1 same package in several groups", file: "scalibr-same-package-different-groups.v1.json",
			want: []inventory.Package{pkg("ajv@5.5.2"), pkg("eslint@1.2.3", "dev"), pkg("table@1.0.0")},
		},
		{name: "v2 same package in several groups", file: "scalibr-same-package-different-groups.v2.json",
			want: []inventory.Package{pkg("ajv@5.5.2"), pkg("eslint@1.2.3", "dev"), pkg("table@1.0.0")},
		},
		{name: "v1 aliases", file: "scalibr-alias.v1.json", want: []inventory.Package{
			pkg("@babel/code-frame@7.0.0"), pkg("string-width@4.2.0"), pkg("string-width@5.1.2"),
		}},
		{name: "v2 aliases", file: "scalibr-alias.v2.json", want: []inventory.Package{
			pkg("@babel/code-frame@7.0.0", "direct"), pkg("string-width@4.2.0", "direct"), pkg("string-width@5.1.2", "direct"),
		}},
		{name: "v1 aliases, syft", file: "syft-alias-package-lock-1.json", want: []inventory.Package{
			pkg("case@1.6.2"), pkg("case@1.6.3"), pkg("@bundled-es-modules/chai@4.2.2"),
		}},
		{name: "v2 aliases, syft", file: "syft-alias-package-lock-2.json", want: []inventory.Package{
			pkg("case@1.6.2", "direct"), pkg("case@1.6.3", "direct"), pkg("@bundled-es-modules/chai@4.2.2", "direct"),
		}},
		{
			// v1 git dependencies have a URL where the version goes.
			name: "v1 git dependencies", file: "scalibr-commits.v1.json",
			want: []inventory.Package{pkg("ansi-styles@1.0.0"), pkg("postcss-calc@7.0.1")},
		},
		{
			// v2 git dependencies carry their package's version; raven-js
			// has none and is left out.
			name: "v2 git dependencies", file: "scalibr-commits.v2.json",
			want: []inventory.Package{
				pkg("@segment/analytics.js-integration-facebook-pixel@2.4.1", "direct", "lic=SEE LICENSE IN LICENSE"),
				pkg("ansi-styles@1.0.0"),
				pkg("babel-preset-php@1.1.1", "dev", "direct", "lic=MIT"),
				pkg("is-number-1@3.0.0", "dev", "direct", "lic=MIT"),
				pkg("is-number-2@2.0.0", "dev", "direct", "lic=MIT"),
				pkg("is-number-3@2.0.0", "dev", "direct", "lic=MIT"),
				pkg("is-number-3@3.0.0", "dev", "lic=MIT"),
				pkg("is-number-4@3.0.0", "dev", "direct", "lic=MIT"),
				pkg("is-number-5@3.0.0", "dev", "direct", "lic=MIT"),
				pkg("postcss-calc@7.0.1"),
				pkg("slick-carousel@1.7.1", "dev", "direct", "lic=MIT"),
			},
		},
		{name: "v3 bundled dependencies", file: "scalibr-bundled-dependencies.v3.json", want: []inventory.Package{
			pkg("ansi-regex@6.2.2", "lic=MIT"),
			pkg("semver@7.7.2", "dev", "direct", "lic=ISC"),
			pkg("strip-ansi@7.1.2", "direct", "lic=MIT"),
		}},
		{name: "v2 license array", file: "syft-array-license-package-lock.json", want: []inventory.Package{
			pkg("pause-stream@0.0.11", "direct", "lic=MIT,Apache2"), pkg("through@2.3.8", "lic=MIT"),
		}},
		{
			// Nested entries without "dev" are not Dev, even under a dev parent.
			name: "v1 nested, syft", file: "syft-nested-package-lock-1.json",
			want: []inventory.Package{
				pkg("dev-nested@1.0.0"), pkg("dev-parent@1.0.0", "dev"), pkg("duplicate@1.0.0"), pkg("middle@1.0.0"),
				pkg("parent@1.0.0"), pkg("shared@0.5.0"), pkg("shared@1.0.0"), pkg("shared@2.0.0"),
			},
		},
		{name: "v2, syft", file: "syft-package-lock-2.json", want: []inventory.Package{
			pkg("@types/prop-types@15.7.5", "lic=MIT"), pkg("@types/react@18.0.17", "direct", "lic=MIT"),
			pkg("@types/scheduler@0.16.2", "lic=MIT"), pkg("async@3.2.4", "dev", "direct"), pkg("csstype@3.1.0", "lic=MIT"),
		}},
		{name: "v3, syft", file: "syft-package-lock-3.json", want: []inventory.Package{
			pkg("@types/prop-types@15.7.5"), pkg("@types/react@18.0.20", "direct"),
			pkg("@types/scheduler@0.16.2"), pkg("async@3.2.4", "dev", "direct"), pkg("csstype@3.1.1"),
		}},
		{
			// The hand-edited "node_modules/async" key is not a package name.
			name: "v1, syft", file: "syft-package-lock.json",
			want: []inventory.Package{
				pkg("@actions/core@1.6.0"), pkg("ansi-regex@3.0.0"), pkg("cowsay@1.4.0"), pkg("get-stdin@5.0.1"),
				pkg("is-fullwidth-code-point@2.0.0"), pkg("minimist@0.0.10"), pkg("optimist@0.6.1"), pkg("string-width@2.1.1"),
				pkg("strip-ansi@4.0.0"), pkg("strip-eof@1.0.0"), pkg("wordwrap@0.0.3"),
			},
		},
		{name: "v1, trivy", file: "trivy-npm.json", want: trivyNPM},
	})
}

// trivyNPM is trivy's npm-with-dev.json.golden for the same lockfile
// (name and version), with z-lock marked dev as the lockfile says.
// Trivy leaves z-lock out of npm.json.golden, its run without dev
// dependencies; Seawall keeps it and sets Dev.
var trivyNPM = []inventory.Package{
	pkg("asap@2.0.6"), pkg("jquery@3.3.9"), pkg("js-tokens@4.0.0"), pkg("loose-envify@1.4.0"),
	pkg("object-assign@4.1.1"), pkg("promise@8.0.3"), pkg("prop-types@15.7.2"), pkg("react@16.8.6"),
	pkg("react-is@16.8.6"), pkg("redux@4.0.1"), pkg("scheduler@0.13.6"), pkg("symbol-observable@1.2.0"),
	pkg("z-lock@1.0.0", "dev"),
}

// TestWorkspaces covers npm workspaces (hand-written fixture): the root
// and members are left out, the link entries too, and each member's own
// dependencies count as direct.
func TestWorkspaces(t *testing.T) {
	runCases(t, "packagelock", ParsePackageLock, []parseCase{
		{name: "workspaces", file: "workspaces.v3.json", want: []inventory.Package{
			pkg("debug@4.3.4", "direct", "lic=MIT"),
			pkg("ms@2.1.2", "lic=MIT"),
			pkg("ms@2.1.3", "direct", "lic=MIT"),
			pkg("typescript@5.4.5", "dev", "direct", "lic=Apache-2.0"),
		}},
	})
}

func TestPackageLockNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"lockfileVersion":1,"dependencies":`)
	for range maxNesting + 2 {
		b.WriteString(`{"a":{"version":"1.0.0","dependencies":`)
	}
	b.WriteString(`{}`)
	for range maxNesting + 2 {
		b.WriteString(`}}`)
	}
	b.WriteString(`}`)
	if _, err := ParsePackageLock(context.Background(), []byte(b.String())); err == nil {
		t.Fatal("no error for a lockfile nested too deep")
	}
}

// goldenPath is trivy's integration golden directory in the shared data,
// when it is present.
func goldenPath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "..", "shared", "data", "golden", "trivy-integration", "integration", "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("trivy golden %s not present", name)
	}
	return p
}

// goldenSet reads "name@version" of every package in a trivy golden.
func goldenSet(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(goldenPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Results []struct {
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range g.Results {
		for _, p := range r.Packages {
			out = append(out, p.Name+"@"+p.Version)
		}
	}
	sort.Strings(out)
	return out
}

func nameVersions(pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		n := p.Name
		if p.Namespace != "" {
			n = p.Namespace + "/" + n
		}
		out = append(out, n+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

// TestTrivyGolden checks the expectations above against trivy's own
// golden results for the same lockfiles, where the shared data is present.
func TestTrivyGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		ours         []inventory.Package
		// extra are packages Seawall reports and trivy does not; missing
		// the reverse.
		extra, missing []string
	}{
		{name: "npm with dev", golden: "npm-with-dev.json.golden", ours: trivyNPM},
		{
			// Trivy reads package.json next to yarn.lock: it adds the root
			// project and drops lock entries that package.json no longer
			// reaches (asap, promise). A lockfile cataloger sees only the
			// lockfile.
			name: "yarn", golden: "yarn.json.golden", ours: trivyYarn,
			extra: []string{"asap@2.0.6", "promise@8.0.3"}, missing: []string{"integration@1.0.0"},
		},
		{name: "pnpm", golden: "pnpm.json.golden", ours: trivyPnpm},
		{
			// Trivy leaves dev dependencies out unless asked; Seawall
			// reports them marked Dev.
			name: "bun", golden: "bun.json.golden", ours: trivyBun,
			extra: []string{"@types/bun@1.2.14", "@types/node@22.15.21", "bun-types@1.2.14", "undici-types@6.21.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := goldenSet(t, tt.golden)
			got := nameVersions(tt.ours)
			adjusted := append([]string(nil), want...)
			adjusted = append(adjusted, tt.extra...)
			adjusted = slicesDelete(adjusted, tt.missing)
			sort.Strings(adjusted)
			if diff := cmp.Diff(adjusted, got); diff != "" {
				t.Errorf("trivy golden %s (-trivy adjusted +seawall):\n%s", tt.golden, diff)
			}
		})
	}
}

func slicesDelete(s, drop []string) []string {
	out := s[:0]
	for _, v := range s {
		keep := true
		for _, d := range drop {
			keep = keep && v != d
		}
		if keep {
			out = append(out, v)
		}
	}
	return out
}

// fuzzSeeds adds every file of testdata/dir as a seed.
func fuzzSeeds(f *testing.F, dir string) {
	entries, err := os.ReadDir(filepath.Join("testdata", dir))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("testdata", dir, e.Name())); err == nil {
			f.Add(b)
		}
	}
}

func checkFuzzResult(t *testing.T, pkgs []inventory.Package) {
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Type != inventory.TypeNPM {
			t.Fatalf("bad package %+v", p)
		}
	}
}

func FuzzParsePackageLock(f *testing.F) {
	fuzzSeeds(f, "packagelock")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParsePackageLock(context.Background(), b)
		checkFuzzResult(t, pkgs)
	})
}

func FuzzParseYarn(f *testing.F) {
	fuzzSeeds(f, "yarn")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParseYarn(context.Background(), b)
		checkFuzzResult(t, pkgs)
	})
}

func FuzzParsePnpm(f *testing.F) {
	fuzzSeeds(f, "pnpm")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParsePnpm(context.Background(), b)
		checkFuzzResult(t, pkgs)
	})
}
