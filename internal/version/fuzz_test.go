package version

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// fuzzScheme fuzzes Parse and Compare of one ecosystem with three versions
// at a time, seeded from the fixtures. It checks that nothing panics, that
// Compare agrees with Parse and Version.Compare, that every version equals
// itself, that swapping the operands flips the result, and, for the
// triples that transitive accepts, that the order is transitive.
func fuzzScheme(f *testing.F, ecosystem string, transitive func(a, b, c string) bool, files ...string) {
	for _, file := range files {
		lines := readFixture(f, file)
		for i, l := range lines {
			c := l.a
			if i+1 < len(lines) {
				c = lines[i+1].b
			}
			f.Add(l.a, l.b, c)
		}
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		va, errA := Parse(ecosystem, a)
		vb, errB := Parse(ecosystem, b)
		got, err := Compare(ecosystem, a, b)
		if (err != nil) != (errA != nil || errB != nil) {
			t.Fatalf("Compare(%q, %q) error %v, Parse errors %v, %v", a, b, err, errA, errB)
		}
		if errA != nil || errB != nil {
			return
		}
		if va.String() != a || vb.String() != b {
			t.Fatalf("String() = %q, %q; want %q, %q", va, vb, a, b)
		}
		ab, ba := va.Compare(vb), vb.Compare(va)
		if ab != got {
			t.Fatalf("%q vs %q: Version.Compare %d, Compare %d", a, b, ab, got)
		}
		if ab < -1 || ab > 1 || ab != -ba {
			t.Fatalf("%q vs %q = %d but %q vs %q = %d", a, b, ab, b, a, ba)
		}
		if aa := va.Compare(va); aa != 0 {
			t.Fatalf("%q vs itself = %d", a, aa)
		}
		vc, err := Parse(ecosystem, c)
		if err != nil || transitive == nil || !transitive(a, b, c) {
			return
		}
		if err := checkTransitive(va, vb, vc); err != "" {
			t.Fatal(err)
		}
	})
}

// checkTransitive describes how a, b and c break transitivity, or returns
// "".
func checkTransitive(a, b, c Version) string {
	ab, bc, ac := a.Compare(b), b.Compare(c), a.Compare(c)
	if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 || ab == 0 && bc == 0 && ac != 0 {
		return fmt.Sprintf("not transitive: %q %s %q %s %q but %q %s %q", a, opName[ab], b, opName[bc], c, a, opName[ac], c)
	}
	return ""
}

// always checks every triple for transitivity.
func always(a, b, c string) bool { return true }

// noHash leaves out versions with "#": PHP's version_compare ranks that
// form equal to every number, so 1 = # = 2 although 1 < 2. Real versions
// have no "#".
func noHash(a, b, c string) bool { return !strings.Contains(a+b+c, "#") }

func FuzzDpkg(f *testing.F) {
	fuzzScheme(f, "Debian", always, "debian-versions.txt", "debian-versions-generated.txt")
}

func FuzzApk(f *testing.F) {
	fuzzScheme(f, "Alpine", always, "alpine-versions.txt", "alpine-versions-generated.txt")
}

func FuzzRPM(f *testing.F) {
	fuzzScheme(f, "Red Hat", always, "redhat-versions.txt")
}

func FuzzSemver(f *testing.F) {
	fuzzScheme(f, "npm", always, "semver-versions.txt")
}

func FuzzPub(f *testing.F) {
	fuzzScheme(f, "Pub", always, "pub-versions.txt")
}

func FuzzPEP440(f *testing.F) {
	fuzzScheme(f, "PyPI", always, "pypi-versions.txt", "pypi-versions-generated.txt")
}

// Maven's ComparableVersion 3.8.6 is not transitive (MNG-7644), so only the
// other properties are checked.
func FuzzMaven(f *testing.F) {
	fuzzScheme(f, "Maven", nil, "maven-versions.txt", "maven-versions-generated.txt")
}

func FuzzRubyGems(f *testing.F) {
	fuzzScheme(f, "RubyGems", always, "rubygems-versions.txt", "rubygems-versions-generated.txt")
}

func FuzzNuGet(f *testing.F) {
	fuzzScheme(f, "NuGet", always, "nuget-versions.txt")
}

func FuzzComposer(f *testing.F) {
	fuzzScheme(f, "Packagist", noHash, "packagist-versions.txt", "packagist-versions-generated.txt")
}

func FuzzCRAN(f *testing.F) {
	fuzzScheme(f, "CRAN", always, "cran-versions.txt", "cran-versions-generated.txt")
}

func FuzzHackage(f *testing.F) {
	fuzzScheme(f, "Hackage", always, "hackage-versions.txt")
}

// FuzzEcosystem fuzzes the ecosystem names themselves.
func FuzzEcosystem(f *testing.F) {
	for name := range schemes {
		f.Add(name, "1.0")
	}
	f.Add("Debian:12", "1:2.3-4")
	f.Add("pYpI", "1.0")
	f.Fuzz(func(t *testing.T, ecosystem, v string) {
		_, err := Parse(ecosystem, v)
		if Supported(ecosystem) == errors.Is(err, ErrUnknownEcosystem) {
			t.Fatalf("Supported(%q) = %v but Parse: %v", ecosystem, Supported(ecosystem), err)
		}
	})
}

// TestRandomTriples complements the fuzzers, which rarely make three
// related versions: it builds triples of versions from each ecosystem's
// own pieces, each a small edit of the one before, and checks the same
// properties.
func TestRandomTriples(t *testing.T) {
	tests := []struct {
		ecosystem  string
		pieces     []string
		transitive func(a, b, c string) bool
	}{
		{"Debian", []string{"0", "1", "2", "10", "00", ".", "+", "~", "-", ":", "a", "b", "Z", "ubuntu", "deb", "99999999999999999999"}, always},
		{"Alpine", []string{"0", "1", "2", "10", "00", ".", "_", "-r", "-", "a", "b", "p", "z", "A", "alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "~", "99999999999999999999"}, always},
		{"Red Hat", []string{"0", "1", "2", "10", "00", ".", "~", "^", "-", "_", "+", ":", "a", "b", "Z", "el", "git", "rc", "99999999999999999999"}, always},
		{"npm", []string{"0", "1", "2", "10", "00", ".", "-", "+", "v", "alpha", "beta", "rc", "A", "x-y", "99999999999999999999"}, always},
		{"Pub", []string{"0", "1", "2", "10", ".", "-", "+", "alpha", "beta", "A", "99999999999999999999"}, always},
		{"PyPI", []string{"0", "1", "2", "10", "00", ".", "-", "_", "+", "!", "v", "a", "b", "c", "rc", "alpha", "beta", "pre", "preview", "post", "rev", "r", "dev", "local", "Z", "99999999999999999999"}, always},
		{"Maven", []string{"0", "1", "2", "10", "00", ".", "-", "a", "b", "m", "rc", "cr", "sp", "ga", "final", "release", "alpha", "snapshot", "x", "99999999999999999999"}, nil},
		{"RubyGems", []string{"0", "1", "2", "10", "00", ".", "-", "a", "b", "pre", "rc", "Z", "99999999999999999999"}, always},
		{"NuGet", []string{"0", "1", "2", "10", "00", ".", "-", "+", "alpha", "Beta", "rc", "x-y", "99999999999999999999"}, always},
		{"Packagist", []string{"0", "1", "2", "10", "00", ".", "-", "_", "+", "v", "dev", "alpha", "a", "b", "beta", "RC", "rc", "pl", "p", "patch", "stable", "#", "99999999999999999999"}, noHash},
		{"CRAN", []string{"0", "1", "2", "10", "00", ".", "-", "99999999999999999999"}, always},
		{"Hackage", []string{"0", "1", "2", "10", "00", ".", "99999999999999999999"}, always},
	}
	triples := 20000
	if testing.Short() {
		triples = 2000
	}
	for _, tt := range tests {
		t.Run(tt.ecosystem, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.ecosystem))))
			piece := func() string { return tt.pieces[rng.IntN(len(tt.pieces))] }
			random := func() string {
				var sb strings.Builder
				sb.WriteString(tt.pieces[rng.IntN(4)]) // start with a number
				for range rng.IntN(6) {
					sb.WriteString(piece())
				}
				return sb.String()
			}
			edit := func(s string) string {
				i := rng.IntN(len(s) + 1)
				switch rng.IntN(4) {
				case 0:
					return s[:i] + piece() + s[i:]
				case 1:
					return s[:i] + piece()
				case 2:
					return s[:i] + s[min(i+1, len(s)):]
				}
				return random()
			}
			checked := 0
			for range triples {
				a := random()
				b := edit(a)
				c := edit(b)
				vs := make([]Version, 3)
				ok := true
				for i, s := range []string{a, b, c} {
					var err error
					if vs[i], err = Parse(tt.ecosystem, s); err != nil {
						ok = false
						break
					}
					if vs[i].Compare(vs[i]) != 0 {
						t.Fatalf("%q vs itself != 0", s)
					}
				}
				if !ok {
					continue
				}
				checked++
				for i := range vs {
					for j := range vs {
						if x, y := vs[i].Compare(vs[j]), vs[j].Compare(vs[i]); x != -y {
							t.Fatalf("%q vs %q = %d but reversed %d", vs[i], vs[j], x, y)
						}
					}
				}
				if tt.transitive == nil || !tt.transitive(a, b, c) {
					continue
				}
				for _, p := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
					if err := checkTransitive(vs[p[0]], vs[p[1]], vs[p[2]]); err != "" {
						t.Fatal(err)
					}
				}
			}
			t.Logf("%d of %d triples parsed and checked", checked, triples)
			if checked < triples/10 {
				t.Errorf("only %d of %d triples parsed", checked, triples)
			}
		})
	}
}
