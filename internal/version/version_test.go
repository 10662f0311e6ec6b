package version

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtures maps each file of testdata/ (OSV's version-ordering fixtures, see
// testdata/README.md) to the ecosystem whose rules it checks.
var fixtures = []struct {
	file      string
	ecosystem string
}{
	{"alpine-versions.txt", "Alpine"},
	{"alpine-versions-generated.txt", "Alpine:v3.19"},
	{"cran-versions.txt", "CRAN"},
	{"cran-versions-generated.txt", "CRAN"},
	{"debian-versions.txt", "Debian"},
	{"debian-versions-generated.txt", "Debian:12"},
	{"hackage-versions.txt", "Hackage"},
	{"maven-versions.txt", "Maven"},
	{"maven-versions-generated.txt", "Maven"},
	{"nuget-versions.txt", "NuGet"},
	{"packagist-versions.txt", "Packagist"},
	{"packagist-versions-generated.txt", "Packagist"},
	{"pub-versions.txt", "Pub"},
	{"pypi-versions.txt", "PyPI"},
	{"pypi-versions-generated.txt", "PyPI"},
	{"redhat-versions.txt", "Red Hat"},
	{"rubygems-versions.txt", "RubyGems"},
	{"rubygems-versions-generated.txt", "RubyGems"},
	{"semver-versions.txt", "npm"},
}

// excluded lists fixture lines that this package deliberately orders
// differently from the fixture, each with the reason. Every other line
// must hold.
//
// The Alpine fixture mixes apk-tools generations for invalid versions: most
// of its lines, and all of the generated ones (made with apk in an
// alpine:3.10 container), follow apk-tools 2, the apk of every Alpine 3.x
// release, which this package implements; the lines below follow apk-tools
// 3, as the fixture's own comments say for most of them.
var excluded = map[string]map[string]string{
	"alpine-versions.txt": {
		"1-r-0 < 1-r0":         "apk-tools 2 sorts a version that turns invalid (\"-0\" after the revision) after the valid one; the fixture's comment notes \"<\" is apk-tools 3",
		"1-r-1 < 1-r0":         "as 1-r-0 < 1-r0",
		"0.r1 < 0r2":           "apk-tools 2 reads \".r\" as an empty number (0) then the letter r, so 0.r1 is 0.0r1 > 0r2; apk-tools 3 calls 0.r1 invalid",
		"0.8.21.r2 < 0.8.21r2": "as 0.r1 < 0r2: 0.8.21.r2 is 0.8.21.0r2 for apk-tools 2",
		"1.2.0A < 1.2.0d":      "an upper-case letter is invalid, and apk-tools 2 sorts invalid after valid; the fixture's comment notes \"<\" is apk-tools 3",
		"1.2.0D < 1.2.0d":      "as 1.2.0A < 1.2.0d",
		"1 > 1-ruff":           "apk-tools 2 reads -r with no number as revision 0, so 1-ruff goes on past 1 and is newer; the fixture's comment notes \">\" is apk-tools 3",
		"1-ruff2 = 1--ruff1":   "apk-tools 2 reads 1-ruff2 as 1-r0 then invalid, and 1--ruff1 as 1 then invalid, so the first is older; \"=\" is apk-tools 3, where both turn invalid at the same token",
	},
	"maven-versions.txt": {
		"1-1 = 1-ga-1": "ComparableVersion (checked against maven-artifact 3.8.7) parses 1-ga-1 as [1, [[1]]]: normalising drops \"ga\" but keeps its list, so 1-1 > 1-ga-1; \"=\" is what the POM reference's prose suggests",
	},
}

// intransitive lists sorted chains of the generated fixtures, by the line
// that ends them, where the ecosystem's own comparator is not transitive,
// so only neighbouring versions are ordered (TestFixtures checks those).
var intransitive = map[string]map[int]string{
	"maven-versions-generated.txt": {
		2789: "ComparableVersion 3.8.6 has the cycle 1.0.0 < 1.0.0-gradle-rework-beta1 < ... < 1.0.0.RC7-3 < 1.0.0 (MNG-7644, fixed in Maven 3.8.7)",
		5823: "ComparableVersion 3.8.6 has the cycle 2.9.0 < 2.9.0-1 < 2.9.0.RC1 < 2.9.0 (MNG-7644, fixed in Maven 3.8.7)",
	},
}

// fixtureLine is one "a op b" comparison of a fixture file.
type fixtureLine struct {
	n    int // line number
	text string
	a, b string
	want int
}

func readFixture(t testing.TB, file string) []fixtureLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []fixtureLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "//") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want \"a op b\", got %q", file, n, text)
		}
		want, ok := map[string]int{"<": -1, "=": 0, ">": 1}[fields[1]]
		if !ok {
			t.Fatalf("%s:%d: unknown operator %q", file, n, fields[1])
		}
		lines = append(lines, fixtureLine{n, text, fields[0], fields[2], want})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

var opName = map[int]string{-1: "<", 0: "=", 1: ">"}

// TestFixtures checks every line of every fixture, both ways round, through
// both Parse and Compare.
func TestFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			lines := readFixture(t, fx.file)
			skip := excluded[fx.file]
			seen := map[string]bool{}
			passed := 0
			for _, l := range lines {
				if reason, ok := skip[l.text]; ok {
					seen[l.text] = true
					t.Logf("line %d excluded: %s (%s)", l.n, l.text, reason)
					continue
				}
				if checkLine(t, fx.ecosystem, fx.file, l) {
					passed++
				}
			}
			for text := range skip {
				if !seen[text] {
					t.Errorf("excluded line %q is not in %s", text, fx.file)
				}
			}
			t.Logf("%s (%s): %d lines pass, %d fail, %d excluded", fx.file, fx.ecosystem, passed, len(lines)-len(skip)-passed, len(skip))
		})
	}
}

func checkLine(t *testing.T, ecosystem, file string, l fixtureLine) bool {
	t.Helper()
	va, err := Parse(ecosystem, l.a)
	if err != nil {
		t.Errorf("%s:%d: %s: %v", file, l.n, l.text, err)
		return false
	}
	vb, err := Parse(ecosystem, l.b)
	if err != nil {
		t.Errorf("%s:%d: %s: %v", file, l.n, l.text, err)
		return false
	}
	ok := true
	if got := va.Compare(vb); got != l.want {
		t.Errorf("%s:%d: %s, but got %s %s %s", file, l.n, l.text, l.a, opName[got], l.b)
		ok = false
	}
	if got := vb.Compare(va); got != -l.want {
		t.Errorf("%s:%d: %s, but reversed got %s %s %s", file, l.n, l.text, l.b, opName[got], l.a)
		ok = false
	}
	got, err := Compare(ecosystem, l.a, l.b)
	if err != nil || got != l.want {
		t.Errorf("%s:%d: %s, but Compare returned %d, %v", file, l.n, l.text, got, err)
		ok = false
	}
	return ok
}

// TestGeneratedChains checks transitivity on the generated fixtures. Each
// lists one package's versions in order, one pair a line, so runs of lines
// where one line's right side is the next line's left side form sorted
// chains; every pair within a chain, not just neighbours, must be ordered.
func TestGeneratedChains(t *testing.T) {
	for _, fx := range fixtures {
		if !strings.HasSuffix(fx.file, "-generated.txt") {
			continue
		}
		t.Run(fx.file, func(t *testing.T) {
			lines := readFixture(t, fx.file)
			skip := excluded[fx.file]
			pairs, chains := 0, 0
			skipChain := intransitive[fx.file]
			seen := map[int]bool{}
			check := func(chain []fixtureLine) {
				if len(chain) < 2 {
					return
				}
				last := chain[len(chain)-1]
				if reason, ok := skipChain[last.n]; ok {
					seen[last.n] = true
					t.Logf("chain ending at line %d not checked: %s", last.n, reason)
					return
				}
				chains++
				vs := make([]Version, len(chain)+1)
				for i, l := range chain {
					var err error
					if vs[i], err = Parse(fx.ecosystem, l.a); err != nil {
						t.Fatal(err)
					}
				}
				vs[len(chain)], _ = Parse(fx.ecosystem, last.b)
				for i := range vs {
					strict := false // whether some "<" lies between i and j
					for j := i + 1; j < len(vs); j++ {
						strict = strict || chain[j-1].want < 0
						want := 0
						if strict {
							want = -1
						}
						pairs++
						if got := vs[i].Compare(vs[j]); got != want {
							t.Errorf("chain ending at line %d: want %s %s %s, got %s", last.n, vs[i], opName[want], vs[j], opName[got])
						}
					}
				}
			}
			var chain []fixtureLine
			for _, l := range lines {
				if _, ok := skip[l.text]; ok || l.want > 0 {
					check(chain)
					chain = nil
					continue
				}
				if len(chain) > 0 && chain[len(chain)-1].b != l.a {
					check(chain)
					chain = nil
				}
				chain = append(chain, l)
			}
			check(chain)
			for n := range skipChain {
				if !seen[n] {
					t.Errorf("no chain of %s ends at line %d", fx.file, n)
				}
			}
			t.Logf("%d chains, %d pairs", chains, pairs)
		})
	}
}

func TestEcosystems(t *testing.T) {
	tests := []struct {
		name      string
		ecosystem string
		supported bool
	}{
		{"plain", "PyPI", true},
		{"release suffix", "Debian:12", true},
		{"several colons", "Ubuntu:Pro:22.04:LTS", true},
		{"space in name", "Rocky Linux:8", true},
		{"alpine branch", "Alpine:v3.19", true},
		{"case folded", "pypi", true},
		{"range type", "SEMVER", true},
		{"unknown", "Haiku", false},
		{"empty", "", false},
		{"prefix only", "Deb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Supported(tt.ecosystem); got != tt.supported {
				t.Errorf("Supported(%q) = %v, want %v", tt.ecosystem, got, tt.supported)
			}
			_, err := Parse(tt.ecosystem, "1.0")
			if got := errors.Is(err, ErrUnknownEcosystem); got == tt.supported {
				t.Errorf("Parse(%q): %v", tt.ecosystem, err)
			}
			_, err = Compare(tt.ecosystem, "1.0", "2.0")
			if got := errors.Is(err, ErrUnknownEcosystem); got == tt.supported {
				t.Errorf("Compare(%q): %v", tt.ecosystem, err)
			}
		})
	}
}

// goVersions are Go module versions in the order the go command gives
// them.
var goVersions = []string{
	"v0.0.0-20191109021931-daa7c04131f5", // pseudo-version with no tag before it
	"v0.0.0-20210101000000-abcdef123456",
	"v0.0.1",
	"v1.2.3",
	"v1.2.4-0.20210101000000-abcdef123456", // after v1.2.3, before any v1.2.4 prerelease
	"v1.2.4-0.20220101000000-abcdef123456",
	"v1.2.4-alpha",
	"v1.2.4-alpha.0.20210101000000-abcdef123456", // after v1.2.4-alpha
	"v1.2.4-alpha.1",
	"v1.2.4-beta",
	"v1.2.4",
	"v2.0.0+incompatible",
	"v2.0.1-0.20210101000000-abcdef123456+incompatible",
	"v2.0.1+incompatible",
	"v10.0.0",
}

// TestGoVersions checks Go's pseudo-versions and +incompatible against the
// tags around them.
func TestGoVersions(t *testing.T) {
	checkOrdered(t, "Go", goVersions)
}

// TestEqual checks spellings that each ecosystem's rules make equal.
func TestEqual(t *testing.T) {
	tests := []struct{ ecosystem, a, b string }{
		{"Go", "v2.0.0+incompatible", "v2.0.0"},
		{"Go", "v2.0.0+incompatible", "2.0.0"},
		{"Go", "v1.2", "v1.2.0"},
		{"SEMVER", "1.2.3+build.1", "1.2.3"},
		{"Debian", "1.0", "0:1.0-0"},
		{"Debian", "1.0", "1.00"},
		{"Red Hat", "0:1.0-1", "1.0-1"},
		{"Red Hat", "1.0_1-1", "1.0.1-1"},
		{"PyPI", "1.0", "1.0.0"},
		{"PyPI", "V1.0.POST1", "1.0.post1"},
		{"PyPI", "1.0-1", "1.0.post1"},
		{"PyPI", "1.0alpha1", "1.0a1"},
		{"PyPI", "1.0-c.1", "1.0rc1"},
		{"PyPI", "1.0.0+LOCAL.1", "1.0.0+local-1"},
		{"PyPI", " 1.0 ", "1.0"},
		{"Maven", "1-Ä", "1-ä"},
		{"Maven", "1.0.0.RC1", "1.0.0.rc1"},
		{"Maven", "1-FINAL", "1"},
		{"Maven", "1.0-1", "1-1"},
		{"RubyGems", "1.0.0", "1"},
		{"RubyGems", "1.0.a", "1.0.a.0"},
		{"RubyGems", "1-1", "1.pre.1"},
		{"NuGet", "1.0.0-BETA", "1.0.0-beta"},
		{"NuGet", "1.0", "1.0.0.0"},
		{"NuGet", "1.0.0+abc", "1.0.0"},
		{"Packagist", "v1.0", "1.0"},
		{"Packagist", "1.0-beta2", "1.0.b.2"},
		{"Packagist", "1.0_RC1", "1.0rc1"},
		{"Pub", "1.0.0-a+b", "1.0.0-a+b"},
		{"CRAN", "1.0-1", "1.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.ecosystem+" "+tt.a, func(t *testing.T) {
			if c, err := Compare(tt.ecosystem, tt.a, tt.b); err != nil || c != 0 {
				t.Errorf("Compare(%q, %q, %q) = %d, %v; want 0", tt.ecosystem, tt.a, tt.b, c, err)
			}
		})
	}
}

// TestOrderings checks hand-picked orderings of each scheme, including the
// rules that the fixtures barely touch.
func TestOrderings(t *testing.T) {
	tests := []struct {
		name      string
		ecosystem string
		ordered   []string
	}{
		{"dpkg tilde, epoch and revision", "Ubuntu:22.04", []string{
			"1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "1.0-0ubuntu1", "1.0-1~bpo1", "1.0-1", "1.0-1+b1",
			"1.0a", "1.0+dfsg-1", "1.0.1", "1.00000000000000000000000000001", "1:0.1",
		}},
		{"dpkg huge numbers", "Debian", []string{"99999999999999999999", "100000000000000000000", "1:0", "99999999999999999999:0"}},
		{"rpm tilde and caret", "AlmaLinux:9", []string{
			"1.0~rc1", "1.0", "1.0^git1", "1.0^git2", "1.0.1", "1.0.1-1.el9", "1.0.1-1.el9_1", "1.0.1-2.el9", "1:0.1-1",
		}},
		{"apk suffixes", "Wolfi", []string{
			"1.2_alpha", "1.2_alpha1", "1.2_beta", "1.2_pre1", "1.2_rc1", "1.2", "1.2-r1", "1.2_cvs1", "1.2_svn1",
			"1.2_git20240101", "1.2_hg1", "1.2_p1", "1.2_p2", "1.2a", "1.2b", "1.2.0", "1.2.1", "1.10",
		}},
		{"apk leading zeros", "Alpine", []string{"1.001", "1.01", "1.1", "1.10"}},
		{"semver prereleases", "crates.io", []string{
			"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
			"1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "99999999999999999999999.0.0",
		}},
		{"pep440 phases", "PyPI", []string{
			"1.0.dev0", "1.0a1.dev1", "1.0a1", "1.0a2.post1", "1.0b1", "1.0rc1", "1.0", "1.0+abc", "1.0+abc.5",
			"1.0+5", "1.0.post1.dev1", "1.0.post1", "1.1.dev1", "1.1", "1!0.1",
		}},
		{"pep440 legacy first", "PyPI", []string{"foo", "0.1-bulbasaur", "0.0.1", "2019.12.304"}},
		{"maven qualifiers", "Maven", []string{
			"1-alpha", "1-alpha-1", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp", "1-abc", "1-xyz",
			"1-1", "1.1", "1.1.0.1",
		}},
		{"rubygems prereleases", "RubyGems", []string{"1.0.a", "1.0.a.1", "1.0.b", "1.0.pre", "1.0-1", "1.0", "1.0.1", "1.1"}},
		{"nuget labels", "NuGet", []string{"1.0.0-alpha", "1.0.0-Alpha.2", "1.0.0-beta", "1.0.0", "1.0.0.1", "1.0.1"}},
		{"composer stabilities", "Packagist", []string{
			"dev-main", "1.0-dev", "1.0-alpha1", "1.0-beta1", "1.0-RC1", "1.0", "1.0.1", "1.0-p1", "v1.1",
		}},
		{"pub builds", "Pub", []string{"1.0.0-pre", "1.0.0-pre+1", "1.0.0", "1.0.0+1", "1.0.0+2", "1.0.0+a"}},
		{"cran", "CRAN", []string{"0.9", "0.75", "1.0", "1.0-0", "1.0.1", "1.0-2"}},
		{"hackage", "Hackage", []string{"0.1", "1", "1.0", "1.0.0", "1.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkOrdered(t, tt.ecosystem, tt.ordered) })
	}
}

// checkOrdered checks that versions are in strictly increasing order,
// every pair both ways round.
func checkOrdered(t *testing.T, ecosystem string, versions []string) {
	t.Helper()
	for i, a := range versions {
		for j, b := range versions {
			want := sign(i - j)
			if got, err := Compare(ecosystem, a, b); err != nil || got != want {
				t.Errorf("Compare(%q, %q, %q) = %d, %v; want %d", ecosystem, a, b, got, err, want)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		ecosystem string
		version   string
	}{
		{"Debian", ""},
		{"Debian", "a:1.0"},
		{"Debian", "1:"},
		{"Debian", "1.0-"},
		{"Debian", "1.0 1"},
		{"Alpine", " "},
		{"Red Hat", ""},
		{"npm", "1.2.x"},
		{"npm", "1.2.3-"},
		{"npm", "1.2.3-a..b"},
		{"npm", "1.2.3+"},
		{"npm", "latest"},
		{"Go", "v1.2.3 4"},
		{"PyPI", ""},
		{"Maven", ""},
		{"RubyGems", "1.0 beta"},
		{"RubyGems", "beta"},
		{"NuGet", "1.0.0.0.0"},
		{"NuGet", "v1.0"},
		{"Packagist", "v"},
		{"CRAN", "1.0a"},
		{"Hackage", "1-0"},
	}
	for _, tt := range tests {
		t.Run(tt.ecosystem+" "+tt.version, func(t *testing.T) {
			_, err := Parse(tt.ecosystem, tt.version)
			if err == nil {
				t.Fatalf("Parse(%q, %q) succeeded", tt.ecosystem, tt.version)
			}
			if errors.Is(err, ErrUnknownEcosystem) {
				t.Errorf("Parse(%q, %q): %v wraps ErrUnknownEcosystem", tt.ecosystem, tt.version, err)
			}
			if _, err := Compare(tt.ecosystem, tt.version, "1.0"); err == nil {
				t.Errorf("Compare(%q, %q, 1.0) succeeded", tt.ecosystem, tt.version)
			}
		})
	}
}

// TestCompareAcrossSchemes checks that versions of different schemes order
// by their strings, and that ecosystems sharing rules share them.
func TestCompareAcrossSchemes(t *testing.T) {
	deb, _ := Parse("Debian", "1.0")
	ubu, _ := Parse("Ubuntu", "1.0~rc1")
	py, _ := Parse("PyPI", "1.0rc1")
	if got := deb.Compare(ubu); got != 1 {
		t.Errorf("Debian 1.0 vs Ubuntu 1.0~rc1 = %d, want 1 (shared dpkg rules)", got)
	}
	if got, want := deb.Compare(py), -1; got != want { // "1.0" < "1.0rc1" as strings
		t.Errorf("Debian 1.0 vs PyPI 1.0rc1 = %d, want %d", got, want)
	}
	if got := py.Compare(deb); got != 1 {
		t.Errorf("PyPI 1.0rc1 vs Debian 1.0 = %d, want 1", got)
	}
	if got := py.Compare(nil); got != 1 {
		t.Errorf("Compare(nil) = %d, want 1", got)
	}
	if deb.String() != "1.0" || ubu.String() != "1.0~rc1" {
		t.Errorf("String() = %q, %q", deb, ubu)
	}
}
