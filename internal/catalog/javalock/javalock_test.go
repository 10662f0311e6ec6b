package javalock

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
		{name: "pom.xml", path: "/src/app/pom.xml", want: true},
		{name: "gradle.lockfile", path: "/src/app/gradle.lockfile", want: true},
		{name: "legacy lockfile", path: "/src/app/gradle/dependency-locks/compileClasspath.lockfile", want: true},
		{name: "lockfile elsewhere", path: "/src/app/compileClasspath.lockfile"},
		{name: "pom in a maven repository", path: "/root/.m2/repository/g/a/1/a-1.pom"},
		{name: "build.gradle", path: "/src/app/build.gradle"},
		{name: "directory", path: "/src/pom.xml", mode: fs.ModeDir},
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

func mvn(g, a, v string) inventory.Package { return mavenPkg(g, a, v) }

func direct(p inventory.Package) inventory.Package { p.Direct = true; return p }

func dev(p inventory.Package) inventory.Package { p.Dev = true; return p }

func scope(p inventory.Package, s string) inventory.Package {
	p.Metadata = map[string]string{"scope": s}
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Namespace+":"+a.Name != b.Namespace+":"+b.Name {
		return a.Namespace+":"+a.Name < b.Namespace+":"+b.Name
	}
	return a.Version < b.Version
})

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func TestParseGradle(t *testing.T) {
	boot := "org.springframework.boot"
	tests := []struct {
		name    string
		file    string
		data    string // used when file is empty
		conf    string
		want    []inventory.Package
		wantErr string
	}{
		{
			name: "five packages",
			file: "scalibr/gradle/5-pkg",
			want: []inventory.Package{
				mvn(boot, "spring-boot-autoconfigure", "2.7.4"),
				mvn(boot, "spring-boot-configuration-processor", "2.7.5"),
				mvn(boot, "spring-boot-devtools", "2.7.6"),
				mvn(boot, "spring-boot-starter-aop", "2.7.7"),
				mvn(boot, "spring-boot-starter-data-jpa", "2.7.8"),
			},
		},
		{
			name: "one package",
			file: "scalibr/gradle/one-pkg",
			want: []inventory.Package{mvn("org.springframework.security", "spring-security-crypto", "5.7.3")},
		},
		{name: "only comments", file: "scalibr/gradle/only-comments"},
		{name: "only empty=", file: "scalibr/gradle/only-empty"},
		{
			name: "bad lines are skipped",
			file: "scalibr/gradle/with-bad-pkg",
			want: []inventory.Package{
				mvn(boot, "spring-boot-autoconfigure", "2.7.4"),
				mvn(boot, "spring-boot-configuration-processor", "2.7.5"),
			},
		},
		{
			name: "test-only configurations are Dev",
			file: "syft/gradle.lockfile",
			want: []inventory.Package{
				mvn("joda-time", "joda-time", "2.2"),
				dev(mvn("junit", "junit", "4.12")),
				dev(mvn("org.hamcrest", "hamcrest-core", "1.3")),
				mvn("org.apache.commons", "commons-text", "1.8"),
			},
		},
		{
			name: "camel-cased test source sets",
			data: "a:b:1=integrationTestRuntimeClasspath,androidTestCompileClasspath\na:c:1=testFixturesApi,runtimeClasspath\n",
			want: []inventory.Package{dev(mvn("a", "b", "1")), mvn("a", "c", "1")},
		},
		{
			name: "legacy per-configuration lockfile",
			data: "# comment\ng:a:1.0\n",
			conf: "testCompileClasspath",
			want: []inventory.Package{dev(mvn("g", "a", "1.0"))},
		},
		{
			name:    "not a lockfile",
			file:    "scalibr/pom/one-package.xml",
			wantErr: "not a gradle lockfile",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.data)
			if tt.file != "" {
				b = readFixture(t, tt.file)
			}
			got, err := ParseGradle(b, tt.conf)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseGradle (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePom(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "project without dependencies", file: "scalibr/pom/empty.xml"},
		{
			name: "one dependency",
			file: "scalibr/pom/one-package.xml",
			want: []inventory.Package{direct(mvn("org.apache.maven", "maven-artifact", "1.0.0"))},
		},
		{
			name: "two dependencies",
			file: "scalibr/pom/two-packages.xml",
			want: []inventory.Package{
				direct(mvn("io.netty", "netty-all", "4.1.42.Final")),
				direct(mvn("org.slf4j", "slf4j-log4j12", "1.7.25")),
			},
		},
		{
			name: "ISO-8859-1",
			file: "scalibr/pom/encoding.xml",
			want: []inventory.Package{direct(mvn("junit", "junit", "4.12"))},
		},
		{
			name: "interpolated artifactIds that resolve alike are one package",
			file: "scalibr/pom/ambiguous-interpolation.xml",
			want: []inventory.Package{direct(mvn("com.example", "common-lib", "1.0.0"))},
		},
		{
			name: "type does not make another package",
			file: "scalibr/pom/explicit-jar.xml",
			want: []inventory.Package{
				direct(mvn("org.different", "my-lib", "1.0.0")),
				direct(mvn("com.example", "my-lib", "1.0.0")),
			},
		},
		{
			name:    "dependency without groupId is dropped with a note",
			file:    "scalibr/pom/interpolate-drop.xml",
			want:    []inventory.Package{direct(mvn("com.example", "actual-artifact", "1.0.0"))},
			wantErr: "1 dependencies skipped, unresolvable from this file alone: :drop-me (no groupId or artifactId)",
		},
		{
			name: "property interpolation; a version range is not a version",
			file: "scalibr/pom/interpolation.xml",
			want: []inventory.Package{
				direct(mvn("org.mine", "mypackage", "1.0.0")),
				direct(mvn("org.mine", "my.package", "2.3.4")),
			},
			wantErr: "org.mine:ranged-package (version range [9.4.35.v20201120,9.5))",
		},
		{
			name:    "malformed XML",
			file:    "scalibr/pom/invalid-syntax.xml",
			wantErr: "not a readable pom.xml",
		},
		{
			name:    "not XML",
			file:    "scalibr/pom/not-pom.txt",
			wantErr: "not a readable pom.xml",
		},
		{
			name: "same artifact twice with two versions",
			file: "scalibr/pom/multi-version.xml",
			want: []inventory.Package{
				direct(mvn("abc", "example.com", "1.0.0")),
				direct(mvn("abc", "example.com", "1.1.1")),
			},
		},
		{
			name: "parent's own dependencies",
			file: "scalibr/pom/parent/pom.xml",
			want: []inventory.Package{direct(mvn("org.dave", "dave", "4.0.0"))},
		},
		{
			name: "build plugin dependencies are not project dependencies",
			file: "scalibr/pom/plugin-dependency.xml",
			want: []inventory.Package{direct(mvn("com.example", "hijack-lib", "1.0.0"))},
		},
		{
			name: "profile active by default",
			file: "scalibr/pom/profiles.xml",
			want: []inventory.Package{direct(mvn("org.profile", "profile-dep", "1.2.3"))},
		},
		{
			name: "dependencyManagement alone declares nothing",
			file: "scalibr/pom/transitive.xml",
			want: []inventory.Package{
				direct(mvn("org.direct", "alice", "1.0.0")),
				direct(mvn("org.direct", "bob", "2.0.0")),
				direct(mvn("org.direct", "chris", "3.0.0")),
			},
		},
		{
			name: "explicit version beats dependencyManagement",
			file: "scalibr/pom/with-dependency-management.xml",
			want: []inventory.Package{
				direct(mvn("io.netty", "netty-all", "4.1.9")),
				direct(mvn("org.slf4j", "slf4j-log4j12", "1.7.25")),
			},
		},
		{
			name: "classifiers do not make another package",
			file: "scalibr/pom/with-multiple-classifiers.xml",
			want: []inventory.Package{direct(mvn("com.example", "my-lib", "1.0.0"))},
		},
		{
			name: "version from dependencyManagement; parent-managed one skipped",
			file: "scalibr/pom/with-parent.xml",
			want: []inventory.Package{
				direct(mvn("org.alice", "alice", "1.0.0")),
				direct(mvn("org.bob", "bob", "2.0.0")),
				direct(mvn("org.chuck", "chuck", "3.0.0")),
			},
			wantErr: "org.frank:frank (no version here; managed by a parent POM or BOM)",
		},
		{
			name: "test scope is Dev",
			file: "scalibr/pom/with-scope.xml",
			want: []inventory.Package{
				direct(mvn("abc", "xyz", "1.2.3")),
				scope(dev(direct(mvn("junit", "junit", "4.12"))), "test"),
			},
		},
		{
			name: "pom type with classifier",
			file: "scalibr/pom/with-type-classifier.xml",
			want: []inventory.Package{direct(mvn("abc", "xyz", "1.0.0"))},
		},
		{
			name: "syft example app",
			file: "syft/example-java-app-maven.pom.xml",
			want: []inventory.Package{
				direct(mvn("com.joda", "joda-time", "2.9.2")),
				scope(dev(direct(mvn("junit", "junit", "4.12"))), "test"),
			},
		},
		{
			name: "ISO-8859-1 with a managed version",
			file: "syft/transitive-top-level.pom.xml",
			want: []inventory.Package{
				direct(mvn("my.org", "child-one", "1.3.6")),
				scope(dev(direct(mvn("my.org", "child-two", "2.1.90"))), "test"),
			},
		},
		{
			name: "real project with a parent POM",
			file: "syft/commons-text-1.10.0.pom.xml",
			want: []inventory.Package{
				direct(mvn("org.apache.commons", "commons-lang3", "3.12.0")),
				scope(dev(direct(mvn("org.assertj", "assertj-core", "3.23.1"))), "test"),
				scope(dev(direct(mvn("commons-io", "commons-io", "2.11.0"))), "test"),
				scope(dev(direct(mvn("org.mockito", "mockito-inline", "4.8.0"))), "test"),
				scope(dev(direct(mvn("org.graalvm.js", "js", "22.0.0.2"))), "test"),
				scope(dev(direct(mvn("org.graalvm.js", "js-scriptengine", "22.0.0.2"))), "test"),
				scope(dev(direct(mvn("org.apache.commons", "commons-rng-simple", "1.4"))), "test"),
				scope(dev(direct(mvn("org.openjdk.jmh", "jmh-core", "1.35"))), "test"),
				scope(dev(direct(mvn("org.openjdk.jmh", "jmh-generator-annprocess", "1.35"))), "test"),
			},
			// junit-jupiter's version comes from commons-parent.
			wantErr: "1 dependencies skipped, unresolvable from this file alone: org.junit.jupiter:junit-jupiter (no version here",
		},
		{
			name: "project and parent coordinates",
			data: `<project><parent><groupId>org.p</groupId><artifactId>p</artifactId><version>7</version></parent>
				<artifactId>child</artifactId>
				<dependencies>
				  <dependency><groupId>${project.groupId}</groupId><artifactId>sibling</artifactId><version>${project.version}</version></dependency>
				  <dependency><groupId>org.x</groupId><artifactId>x</artifactId><version>${project.parent.version}</version><scope>provided</scope></dependency>
				  <dependency><groupId>org.y</groupId><artifactId>y</artifactId><version>${env.Y_VERSION}</version></dependency>
				</dependencies></project>`,
			want: []inventory.Package{
				direct(mvn("org.p", "sibling", "7")),
				scope(direct(mvn("org.x", "x", "7")), "provided"),
			},
			wantErr: "org.y:y (version refers to an undefined property ${env.Y_VERSION})",
		},
		{
			name: "properties that refer to each other cannot blow up",
			data: `<project><properties>
				<a>${b}${b}${b}${b}</a><b>${c}${c}${c}${c}</b><c>${d}${d}${d}${d}</c><d>${e}${e}${e}${e}</d>
				<e>${f}${f}${f}${f}</e><f>0123456789</f><loop>${loop}</loop></properties>
				<dependencies>
				  <dependency><groupId>g</groupId><artifactId>big</artifactId><version>${a}</version></dependency>
				  <dependency><groupId>g</groupId><artifactId>loop</artifactId><version>${loop}</version></dependency>
				  <dependency><groupId>g</groupId><artifactId>ok</artifactId><version>${f}</version></dependency>
				</dependencies></project>`,
			want:    []inventory.Package{direct(mvn("g", "ok", "0123456789"))},
			wantErr: "2 dependencies skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.data)
			if tt.file != "" {
				b = readFixture(t, tt.file)
			}
			got, err := ParsePom(b)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParsePom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	tests := []struct {
		name, path, file string
		want             []inventory.Package
	}{
		{
			name: "pom.xml",
			path: "/src/pom.xml",
			file: "scalibr/pom/one-package.xml",
			want: []inventory.Package{direct(mvn("org.apache.maven", "maven-artifact", "1.0.0"))},
		},
		{
			name: "gradle.lockfile",
			path: "/src/gradle.lockfile",
			file: "scalibr/gradle/one-pkg",
			want: []inventory.Package{mvn("org.springframework.security", "spring-security-crypto", "5.7.3")},
		},
		{
			name: "legacy lockfile takes Dev from its name",
			path: "/src/gradle/dependency-locks/testRuntimeClasspath.lockfile",
			file: "scalibr/gradle/one-pkg",
			// The line carries its own configurations, which win.
			want: []inventory.Package{mvn("org.springframework.security", "spring-security-crypto", "5.7.3")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile(tt.path, 0o644, readFixture(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func nameVersions(pkgs []inventory.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Namespace+":"+p.Name+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

// TestTrivyGolden compares with what trivy reports for the same files
// (integration/testdata in aquasecurity/trivy).
func TestTrivyGolden(t *testing.T) {
	t.Run("pom.xml", func(t *testing.T) {
		var golden struct {
			Metadata struct {
				Component struct{ Name string } `json:"component"`
			} `json:"metadata"`
			Components []struct {
				Group, Name, Version, Type string
			} `json:"components"`
		}
		if err := json.Unmarshal(readFixture(t, "trivy/pom/pom-cyclonedx.json.golden"), &golden); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range golden.Components {
			// Trivy lists the project itself (com.example:log4shell), which
			// is not a dependency, and an "application" for the file.
			if c.Type != "library" || c.Name == "log4shell" {
				continue
			}
			want = append(want, c.Group+":"+c.Name+"@"+c.Version)
		}
		got, err := ParsePom(readFixture(t, "trivy/pom/pom.xml"))
		if err != nil {
			t.Fatal(err)
		}
		// Trivy leaves out test and provided scopes by default; we keep
		// them, marked Dev and scope=provided, so compare without them.
		var shipped []inventory.Package
		for _, p := range got {
			if !p.Dev && p.Metadata["scope"] != "provided" {
				shipped = append(shipped, p)
			}
		}
		if diff := cmp.Diff(want, nameVersions(shipped)); diff != "" {
			t.Errorf("shipped dependencies differ from trivy's (-trivy +ours):\n%s", diff)
		}
		if len(got) != 4 {
			t.Errorf("got %d dependencies, want 4 (servlet-api, 2 × junit-jupiter, jackson-databind)", len(got))
		}
	})
	t.Run("gradle.lockfile", func(t *testing.T) {
		// The golden lists vulnerable packages; this lockfile has one
		// package, and it is vulnerable, so the sets must be equal.
		var golden struct {
			Results []struct {
				Vulnerabilities []struct{ PkgName, InstalledVersion string }
			}
		}
		if err := json.Unmarshal(readFixture(t, "trivy/gradle/gradle.json.golden"), &golden); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var want []string
		for _, r := range golden.Results {
			for _, v := range r.Vulnerabilities {
				if k := v.PkgName + "@" + v.InstalledVersion; !seen[k] {
					seen[k] = true
					want = append(want, k)
				}
			}
		}
		sort.Strings(want)
		got, err := ParseGradle(readFixture(t, "trivy/gradle/gradle.lockfile"), "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, nameVersions(got)); diff != "" {
			t.Errorf("(-trivy +ours):\n%s", diff)
		}
	})
}
