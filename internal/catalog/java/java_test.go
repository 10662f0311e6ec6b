package java

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"io/fs"
	"os"
	"path/filepath"
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
		{name: "jar", path: "/app/lib/guava-31.1-jre.jar", want: true},
		{name: "upper case", path: "/app/LIB.JAR", want: true},
		{name: "war", path: "/usr/local/tomcat/webapps/ROOT.war", want: true},
		{name: "ear", path: "/opt/app.ear", want: true},
		{name: "jenkins plugin", path: "/var/jenkins_home/plugins/git.jpi", want: true},
		{name: "hudson plugin", path: "/x/y.hpi", want: true},
		{name: "par sar nar kar", path: "/x/y.kar", want: true},
		{name: "not an archive", path: "/app/lib/readme.txt"},
		{name: "jar in the name only", path: "/app/jar"},
		{name: "hidden file with only an extension", path: "/app/.jar"},
		{name: "directory", path: "/app/x.jar", mode: fs.ModeDir},
		{name: "symlink", path: "/app/x.jar", mode: fs.ModeSymlink},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New().Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
			}
		})
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

type entry struct {
	name  string
	data  []byte
	store bool
}

// mkzip builds an archive in memory; stored entries are laid out the way
// Spring Boot lays out nested jars.
func mkzip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.store {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// guavaJar rebuilds guava-31.1-jre.jar from its real Maven metadata,
// without the 2.9 MB of classes.
func guavaJar(t *testing.T) []byte {
	return mkzip(t,
		entry{name: "META-INF/MANIFEST.MF", data: readFixture(t, "guava-31.1-jre/META-INF/MANIFEST.MF")},
		entry{name: "META-INF/maven/com.google.guava/guava/pom.properties", data: readFixture(t, "guava-31.1-jre/META-INF/maven/com.google.guava/guava/pom.properties")},
		entry{name: "com/google/common/base/Absent.class", data: []byte("\xca\xfe\xba\xbe")},
	)
}

func manifestJar(t *testing.T, manifest string) []byte {
	return mkzip(t, entry{name: "META-INF/MANIFEST.MF", data: readFixture(t, manifest)})
}

func ev(s string) map[string]string { return map[string]string{"evidence": s} }

func maven(ns, name, version string, meta map[string]string, loc string) inventory.Package {
	p := inventory.Package{Type: inventory.TypeMaven, Namespace: ns, Name: name, Version: version, Metadata: meta}
	if loc != "" {
		p.Locations = []inventory.Location{{Path: loc}}
	}
	return p
}

var sortPkgs = cmpopts.SortSlices(func(a, b inventory.Package) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Version < b.Version
})

func TestRead(t *testing.T) {
	apache := []string{"http://www.apache.org/licenses/LICENSE-2.0.txt"}
	guava := maven("com.google.guava", "guava", "31.1-jre", ev(evidencePom), "")
	guava.Licenses = apache
	nestedGuava := guava
	nestedGuava.Locations = []inventory.Location{{Path: "/app/x.war!/WEB-INF/lib/guava-31.1-jre.jar"}}

	tests := []struct {
		name    string
		path    string // where the archive lives
		data    func(t *testing.T) []byte
		want    []inventory.Package
		wantErr string // substring; "" means no error
	}{
		{
			name: "pom.properties",
			path: "/app/simple.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/simple.jar") },
			want: []inventory.Package{maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), "")},
		},
		{
			name: "real jar: pom.properties and manifest describe the same package once",
			path: "/app/lib/guava-31.1-jre.jar",
			data: guavaJar,
			want: []inventory.Package{guava},
		},
		{
			name: "nested jar under BOOT-INF/lib gets a location inside the outer jar",
			path: "/app/complex.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/complex.jar") },
			want: []inventory.Package{
				maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), ""),
				maven("com.some.anotherpackage", "another-package-name", "3.2.1", ev(evidencePom), "/app/complex.jar!/BOOT-INF/lib/inner.jar"),
			},
		},
		{
			name: "empty archive",
			path: "/app/empty.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/empty.jar") },
		},
		{
			name: "file name only",
			path: "/app/no_pom_properties-2.4.0.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/no_pom_properties-2.4.0.jar") },
			// No evidence of a groupId: left empty rather than guessed.
			want: []inventory.Package{maven("no_pom_properties", "no_pom_properties", "2.4.0", ev(evidenceFilename), "")},
		},
		{
			name: "file name without a version says nothing",
			path: "/app/no_pom_properties.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/no_pom_properties-2.4.0.jar") },
		},
		{
			name: "dotted artifactId in the file name yields its groupId",
			path: "/app/org.eclipse.sisu.inject-0.3.5.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/org.eclipse.sisu.inject-0.3.5.jar") },
			want: []inventory.Package{maven("org.eclipse.sisu", "org.eclipse.sisu.inject", "0.3.5", ev(evidenceFilename), "")},
		},
		{
			name: "pom.properties without groupId is ignored; the file name remains",
			path: "/app/pom_missing_group_id-2.4.0.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/pom_missing_group_id-2.4.0.jar") },
			want: []inventory.Package{maven("pom_missing_group_id", "pom_missing_group_id", "2.4.0", ev(evidenceFilename), "")},
		},
		{
			name: "OSGi bundle: file name, groupId from the dotted name",
			path: "/app/com.google.src.yolo-0.1.2.jar",
			data: func(t *testing.T) []byte { return readFixture(t, "scalibr/com.google.src.yolo-0.1.2.jar") },
			want: []inventory.Package{maven("com.google.src", "com.google.src.yolo", "0.1.2", ev(evidenceFilename), "")},
		},
		{
			name: "manifest: version in a named section, first word only; known groupId",
			path: "/app/axis.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/axis/MANIFEST.MF") },
			want: []inventory.Package{maven("org.apache.axis", "axis", "1.4", ev(evidenceManifest), "")},
		},
		{
			name: "file name plus Bundle-SymbolicName as groupId",
			path: "/app/ivy-2.4.0.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/combine-manifest-filename/MANIFEST.MF") },
			want: []inventory.Package{maven("org.apache.ivy", "ivy", "2.4.0", ev(evidenceFilename), "")},
		},
		{
			name: "invalid titles skipped: Bundle-Name and Extension-Name",
			path: "/app/invalid-ids.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/invalid-ids/MANIFEST.MF") },
			want: []inventory.Package{maven("test.group", "correct.name", "1.2.3", ev(evidenceManifest), "")},
		},
		{
			name: "Spring Framework jar without pom.properties",
			path: "/app/BOOT-INF/lib/spring-web.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/known-group-id/MANIFEST.MF") },
			want: []inventory.Package{maven("org.springframework", "spring-web", "5.3.26", ev(evidenceManifest), "")},
		},
		{
			name: "groupId from a Gradle-style Implementation-Title",
			path: "/app/server-8.14.3.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/manifest-implementation-title/MANIFEST.MF") },
			want: []inventory.Package{maven("org.elasticsearch", "server", "8.14.3", ev(evidenceFilename), "")},
		},
		{
			name: "manifest without any groupId evidence",
			path: "/app/some-package-1.2.3.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/manifest-no-group-id/MANIFEST.MF") },
			want: []inventory.Package{maven("some-package", "some-package", "1.2.3", ev(evidenceFilename), "")},
		},
		{
			name: "bundle plugin: artifactId from Bundle-SymbolicName, version from Bundle-Version",
			path: "/app/renamed.jar",
			data: func(t *testing.T) []byte { return manifestJar(t, "scalibr/manifest-symbolicname/MANIFEST.MF") },
			want: []inventory.Package{func() inventory.Package {
				p := maven("com.google.guava", "failureaccess", "1.0.1", ev(evidenceManifest), "")
				p.Licenses = []string{"http://www.apache.org/licenses/LICENSE-2.0.txt"}
				return p
			}()},
		},
		{
			name: "war with stored and compressed nested jars",
			path: "/app/x.war",
			data: func(t *testing.T) []byte {
				return mkzip(t,
					entry{name: "WEB-INF/", data: nil},
					entry{name: "WEB-INF/web.xml", data: []byte("<web-app/>")},
					entry{name: "WEB-INF/lib/guava-31.1-jre.jar", data: guavaJar(t), store: true},
					entry{name: "WEB-INF/lib/simple.jar", data: readFixture(t, "scalibr/simple.jar")},
					entry{name: "WEB-INF/lib/no_pom_properties-2.4.0.jar", data: readFixture(t, "scalibr/no_pom_properties-2.4.0.jar")},
				)
			},
			want: []inventory.Package{
				nestedGuava,
				maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), "/app/x.war!/WEB-INF/lib/simple.jar"),
				maven("no_pom_properties", "no_pom_properties", "2.4.0", ev(evidenceFilename), "/app/x.war!/WEB-INF/lib/no_pom_properties-2.4.0.jar"),
			},
		},
		{
			name: "ear > war > jar: locations chain with !/",
			path: "/opt/app.ear",
			data: func(t *testing.T) []byte {
				war := mkzip(t, entry{name: "WEB-INF/lib/simple.jar", data: readFixture(t, "scalibr/simple.jar")})
				return mkzip(t, entry{name: "web-1.0.war", data: war})
			},
			want: []inventory.Package{
				maven("web", "web", "1.0", ev(evidenceFilename), "/opt/app.ear!/web-1.0.war"),
				maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), "/opt/app.ear!/web-1.0.war!/WEB-INF/lib/simple.jar"),
			},
		},
		{
			name: "shaded jar: each pom.properties is a package, plus the jar itself",
			path: "/app/myservice-2.0.jar",
			data: func(t *testing.T) []byte {
				return mkzip(t,
					entry{name: "META-INF/maven/com.google.guava/guava/pom.properties", data: readFixture(t, "guava-31.1-jre/META-INF/maven/com.google.guava/guava/pom.properties")},
					entry{name: "META-INF/maven/org.anchore/example-java-app-maven/pom.properties", data: readFixture(t, "syft/pom/small.pom.properties")},
					// The same coordinate twice is one package.
					entry{name: "shaded/META-INF/maven/org.anchore/example-java-app-maven/pom.properties", data: readFixture(t, "syft/pom/extra.pom.properties")},
				)
			},
			want: []inventory.Package{
				maven("com.google.guava", "guava", "31.1-jre", ev(evidencePom), ""),
				maven("org.anchore", "example-java-app-maven", "0.1.0", ev(evidencePom), ""),
				maven("myservice", "myservice", "2.0", ev(evidenceFilename), ""),
			},
		},
		{
			name:    "nesting deeper than the cap is not read",
			path:    "/app/nested_at_10.jar",
			data:    func(t *testing.T) []byte { return readFixture(t, "scalibr/nested_at_10.jar") },
			wantErr: "nested.jar!/nested.jar!/nested.jar!/nested.jar!/nested.jar: nested too deep",
		},
		{
			name:    "nesting 100 deep",
			path:    "/app/nested_at_100.jar",
			data:    func(t *testing.T) []byte { return readFixture(t, "scalibr/nested_at_100.jar") },
			wantErr: "nested too deep",
		},
		{
			name:    "truncated zip",
			path:    "/app/invalid_jar.jar",
			data:    func(t *testing.T) []byte { return readFixture(t, "scalibr/invalid_jar.jar") },
			wantErr: "not a zip archive",
		},
		{
			name:    "not a zip at all",
			path:    "/app/not_jar.jar",
			data:    func(t *testing.T) []byte { return readFixture(t, "scalibr/not_jar") },
			wantErr: "not a zip archive",
		},
		{
			name: "broken nested jar is skipped, the rest is kept",
			path: "/app/x.war",
			data: func(t *testing.T) []byte {
				return mkzip(t,
					entry{name: "WEB-INF/lib/broken.jar", data: readFixture(t, "scalibr/not_jar")},
					entry{name: "WEB-INF/lib/simple.jar", data: readFixture(t, "scalibr/simple.jar")},
				)
			},
			want: []inventory.Package{
				maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), "/app/x.war!/WEB-INF/lib/simple.jar"),
			},
			wantErr: "/app/x.war!/WEB-INF/lib/broken.jar: not a zip archive",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			got, err := Read(context.Background(), bytes.NewReader(data), int64(len(data)), tt.path)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Read(%s) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

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

// lyingEntry is a deflated entry whose header claims it is tiny.
func lyingEntry(t *testing.T, zw *zip.Writer, name string, inflated int) {
	t.Helper()
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestCompression)
	fw.Write(make([]byte, inflated))
	fw.Close()
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate,
		CompressedSize64: uint64(c.Len()), UncompressedSize64: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(c.Bytes())
}

func TestLimits(t *testing.T) {
	small := defaultLimits
	small.maxNested = 1 << 20
	small.maxMeta = 1 << 10
	small.maxInflate = 3 << 20
	small.maxArchives = 3

	simple := readFixture(t, "scalibr/simple.jar")
	tests := []struct {
		name    string
		build   func(t *testing.T, zw *zip.Writer)
		lim     func(l *limits)
		want    int // packages
		wantErr string
	}{
		{
			name: "declared size over the nested limit",
			build: func(t *testing.T, zw *zip.Writer) {
				w, _ := zw.Create("lib/big.jar")
				w.Write(make([]byte, 2<<20))
			},
			wantErr: "entry too large",
		},
		{
			// archive/zip stops at the declared size, so the lie is caught
			// after 100 bytes rather than after 8 MiB.
			name: "zip bomb: header lies about the inflated size",
			build: func(t *testing.T, zw *zip.Writer) {
				lyingEntry(t, zw, "lib/bomb.jar", 8<<20)
			},
			wantErr: "lib/bomb.jar: zip: not a valid zip file",
		},
		{
			name: "manifest over the metadata limit",
			build: func(t *testing.T, zw *zip.Writer) {
				w, _ := zw.Create("META-INF/MANIFEST.MF")
				w.Write(bytes.Repeat([]byte("X-Junk: 0123456789\n"), 100))
			},
			wantErr: "META-INF/MANIFEST.MF: entry too large",
		},
		{
			name: "many mid-sized nested archives exhaust the budget",
			build: func(t *testing.T, zw *zip.Writer) {
				for _, n := range []string{"a", "b", "c", "d"} {
					w, _ := zw.Create("lib/" + n + ".jar")
					w.Write(make([]byte, 1<<20-1))
				}
			},
			lim:     func(l *limits) { l.maxArchives = 10 },
			wantErr: "read budget",
		},
		{
			name: "nested archive count",
			build: func(t *testing.T, zw *zip.Writer) {
				for _, n := range []string{"a", "b", "c", "d", "e"} {
					w, _ := zw.CreateHeader(&zip.FileHeader{Name: "lib/" + n + ".jar", Method: zip.Store})
					w.Write(simple)
				}
			},
			want:    3,
			wantErr: "too many nested archives",
		},
		{
			name: "stored archives opened in place count against their own budget",
			build: func(t *testing.T, zw *zip.Writer) {
				for _, n := range []string{"a", "b"} {
					w, _ := zw.CreateHeader(&zip.FileHeader{Name: "lib/" + n + ".jar", Method: zip.Store})
					w.Write(simple)
				}
			},
			lim:     func(l *limits) { l.maxWindow = int64(len(simple)) },
			want:    1,
			wantErr: "lib/b.jar: archive inflates to more than the read budget",
		},
		{
			name: "entry count",
			build: func(t *testing.T, zw *zip.Writer) {
				for i := range 10 {
					zw.Create(strings.Repeat("x", i+1) + ".class")
				}
				w, _ := zw.Create("META-INF/maven/g/a/pom.properties")
				w.Write([]byte("groupId=g\nartifactId=a\nversion=1\n"))
			},
			lim:     func(l *limits) { l.maxEntries = 5 },
			wantErr: "too many archive entries",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			tt.build(t, zw)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			lim := small
			if tt.lim != nil {
				tt.lim(&lim)
			}
			got, err := read(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "/x.jar", lim)
			checkErr(t, err, tt.wantErr)
			if len(got) != tt.want {
				t.Errorf("got %d packages, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		data    []byte
		want    []inventory.Package
		wantErr string
	}{
		{
			name: "jar",
			path: "/app/simple.jar",
			data: readFixture(t, "scalibr/simple.jar"),
			want: []inventory.Package{maven("com.some.package", "package-name", "1.2.3", ev(evidencePom), "")},
		},
		{
			name:    "text file named .jar is refused before it is buffered",
			path:    "/app/not.jar",
			data:    readFixture(t, "scalibr/not_jar"),
			wantErr: "not a zip archive",
		},
		{
			name: "empty file",
			path: "/app/empty.jar",
			data: []byte{},
			// Peek of an empty file returns no bytes.
			wantErr: "not a zip archive",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Catalog(context.Background(), image.NewFile(tt.path, 0o644, tt.data))
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got, sortPkgs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Catalog (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := readFixture(t, "scalibr/complex.jar")
	if _, err := Read(ctx, bytes.NewReader(data), int64(len(data)), "/a.jar"); err == nil {
		t.Fatal("no error after cancel")
	}
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name         string
		file         string
		wantMain     map[string]string
		wantSections []map[string]string
	}{
		{
			name:     "72-byte continuation",
			file:     "syft/manifest/continuation",
			wantMain: map[string]string{"manifest-version": "1.0", "plugin-scmurl": "https://github.com/jenkinsci/plugin-pom/example-jenkins-plugin"},
		},
		{
			name:     "CRLF and long continuations (guava)",
			file:     "guava-31.1-jre/META-INF/MANIFEST.MF",
			wantMain: nil, // checked below
		},
		{
			name:     "main section only",
			file:     "syft/manifest/small",
			wantMain: map[string]string{"manifest-version": "1.0"},
		},
		{
			name: "named sections",
			file: "syft/manifest/extra-info",
			wantMain: map[string]string{
				"manifest-version": "1.0", "archiver-version": "Plexus Archiver", "created-by": "Apache Maven 3.6.3",
			},
			wantSections: []map[string]string{
				{"name": "thing-1", "built-by": "?"},
				{"build-jdk": "14.0.1", "main-class": "hello.HelloWorld"},
			},
		},
		{
			name: "junk lines and runs of blank lines",
			file: "syft/manifest/extra-empty-lines",
			wantMain: map[string]string{
				"manifest-version": "1.0", "archiver-version": "Plexus Archiver", "created-by": "Apache Maven 3.6.3",
			},
			wantSections: []map[string]string{
				{"name": "thing-1", "built-by": "?"},
				{"name": "thing-2", "built-by": "someone!"},
				{"other": "things"},
				{"last": "item"},
			},
		},
		{
			name:     "lines without a colon are dropped, not continued",
			file:     "syft/manifest/leading-space",
			wantMain: map[string]string{"key-keykeykey": "initialconfig:com", "should": "parse"},
		},
		{
			name: "standard headers",
			file: "syft/manifest/standard-info",
			wantMain: map[string]string{
				"manifest-version": "1.0", "name": "the-best-name",
				"specification-title": "the-spec-title", "specification-vendor": "the-spec-vendor", "specification-version": "the-spec-version",
				"implementation-title": "the-impl-title", "implementation-vendor": "the-impl-vendor", "implementation-version": "the-impl-version",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseManifest(readFixture(t, tt.file))
			if tt.wantMain == nil {
				// Guava: a value folded over many CRLF lines comes back whole.
				if got := m.get("Bundle-Description"); got != "Guava is a suite of core and expanded libraries that include    utility classes, Google's collections, I/O classes, and    much more." {
					t.Errorf("Bundle-Description = %q", got)
				}
				if got := m.get("bundle-symbolicname"); got != "com.google.guava" {
					t.Errorf("Bundle-SymbolicName = %q", got)
				}
				return
			}
			if diff := cmp.Diff(tt.wantMain, m.main); diff != "" {
				t.Errorf("main (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSections, m.sections, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("sections (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManifestVersion(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{name: "date after the version", file: "syft/manifest/version-with-date", want: "1.3"},
		{name: "not a version", file: "syft/manifest/standard-info", want: ""},
		{name: "Bundle-Version", file: "scalibr/manifest-symbolicname/MANIFEST.MF", want: "1.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := manifestVersion(parseManifest(readFixture(t, tt.file))); got != tt.want {
				t.Errorf("manifestVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePomProps(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		want   pomProps
		wantOK bool
	}{
		{name: "small", file: "syft/pom/small.pom.properties", want: pomProps{"org.anchore", "example-java-app-maven", "0.1.0"}, wantOK: true},
		{name: "extra keys", file: "syft/pom/extra.pom.properties", want: pomProps{"org.anchore", "example-java-app-maven", "0.1.0"}, wantOK: true},
		{name: "colon delimited", file: "syft/pom/colon-delimited.pom.properties", want: pomProps{"org.anchore", "example-java-app-maven", "0.1.0"}, wantOK: true},
		{name: "colon key, equals in value", file: "syft/pom/colon-delimited-with-equals.pom.properties", want: pomProps{"org.anchore", "example-java=app-maven", "0.1.0=something"}, wantOK: true},
		{name: "equals key, colon in value", file: "syft/pom/equals-delimited-with-colons.pom.properties", want: pomProps{"org.anchore", "example-java:app-maven", "0.1.0:something"}, wantOK: true},
		{name: "guava", file: "guava-31.1-jre/META-INF/maven/com.google.guava/guava/pom.properties", want: pomProps{"com.google.guava", "guava", "31.1-jre"}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parsePomProps(readFixture(t, tt.file))
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("parsePomProps = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseProperties(t *testing.T) {
	in := "# comment\n! also a comment\n  groupId = org.example\nartifactId\\\n    -x: a\\\n  b\nversion 1.0\nname=caf\\u00e9\\tx\n"
	want := map[string]string{"groupId": "org.example", "artifactId-x": "ab", "version": "1.0", "name": "café\tx"}
	if diff := cmp.Diff(want, parseProperties([]byte(in))); diff != "" {
		t.Errorf("parseProperties (-want +got):\n%s", diff)
	}
}

func TestSplitFilename(t *testing.T) {
	tests := []struct {
		in, name, version string
	}{
		{"commons-io-2.11.0.jar", "commons-io", "2.11.0"},
		{"guava-31.1-jre.jar", "guava", "31.1-jre"},
		{"log4j-1.2-api-2.17.1.jar", "log4j-1.2-api", "2.17.1"},
		{"bcprov-jdk15on-1.70.jar", "bcprov-jdk15on", "1.70"},
		{"spring-boot-2.7.0-SNAPSHOT.jar", "spring-boot", "2.7.0-SNAPSHOT"},
		{"app-1.0-20220101.123456-1.jar", "app", "1.0-20220101.123456-1"},
		{"jetty-9.4-rc-1.jar", "jetty", "9.4-rc-1"},
		{"hibernate-core-5.6.9.Final.jar", "hibernate-core", "5.6.9.Final"},
		{"kotlin-stdlib-jdk8-1.6.21.jar", "kotlin-stdlib-jdk8", "1.6.21"},
		{"app.jar", "app", ""},
		{"ROOT.war", "ROOT", ""},
		{"foo-v1.jar", "foo-v1", ""},
		{"-1.0.jar", "", ""},
		{"my app-1.0.jar", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, version := splitFilename(tt.in)
			if name != tt.name || version != tt.version {
				t.Errorf("splitFilename(%q) = %q, %q; want %q, %q", tt.in, name, version, tt.name, tt.version)
			}
		})
	}
}

func TestKnownGroup(t *testing.T) {
	tests := []struct{ artifact, want string }{
		{"spring-beans", "org.springframework"},
		{"spring-boot-autoconfigure", "org.springframework.boot"},
		{"log4j-core", "org.apache.logging.log4j"},
		{"log4j-over-slf4j", "org.slf4j"},
		{"log4j", "log4j"},
		{"bcprov-jdk18on", "org.bouncycastle"},
		{"bc-fips", "org.bouncycastle"},
		{"bcel", "org.apache.bcel"},
		{"xercesImpl", "xerces"},
		{"commons-lang3", "org.apache.commons"},
		{"commons-io", "commons-io"},
		{"dom4j", ""},
		{"my-app", ""},
	}
	for _, tt := range tests {
		if got := knownGroup(tt.artifact); got != tt.want {
			t.Errorf("knownGroup(%q) = %q, want %q", tt.artifact, got, tt.want)
		}
	}
}

// TestSharedGuava reads the real 2.9 MB guava jar, with its classes, from
// the shared data folder when it is there.
func TestSharedGuava(t *testing.T) {
	p := filepath.Join("..", "..", "..", "..", "shared", "data", "lockfiles", "osv-scalibr", "extractor", "filesystem", "language", "java", "archive", "testdata", "guava-31.1-jre.jar")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("shared data not present: %v", err)
	}
	got, err := New().Catalog(context.Background(), image.NewFile("/app/guava-31.1-jre.jar", 0o644, b))
	if err != nil {
		t.Fatal(err)
	}
	want := maven("com.google.guava", "guava", "31.1-jre", ev(evidencePom), "")
	want.Licenses = []string{"http://www.apache.org/licenses/LICENSE-2.0.txt"}
	if diff := cmp.Diff([]inventory.Package{want}, got); diff != "" {
		t.Errorf("Catalog (-want +got):\n%s", diff)
	}
}

// TestIdentifyRenamedJars covers how Debian ships jars: renamed files
// ("commons-io.jar"), a manifest naming an OSGi bundle, and one
// pom.properties that may or may not be the jar itself.
func TestIdentifyRenamedJars(t *testing.T) {
	mf := func(s string) *manifest { return parseManifest([]byte(s)) }
	type coord struct{ Group, Name, Version string }
	tests := []struct {
		name string
		file string
		mf   *manifest
		poms []pomProps
		want []coord
	}{
		{
			name: "bundle name differs from the lone pom's artifactId, same version",
			file: "commons-io.jar",
			mf:   mf("Bundle-SymbolicName: org.apache.commons.io\nBundle-Version: 2.11.0\nImplementation-Version: 2.11.0\n"),
			poms: []pomProps{{group: "commons-io", artifact: "commons-io", version: "2.11.0"}},
			want: []coord{{"commons-io", "commons-io", "2.11.0"}},
		},
		{
			name: "bundle name inside the artifactId, versions spelled differently",
			file: "plexus-interpolation.jar",
			mf:   mf("Bundle-SymbolicName: org.codehaus.plexus.interpolation\nBundle-Version: 1.26.0\n"),
			poms: []pomProps{{group: "org.codehaus.plexus", artifact: "plexus-interpolation", version: "1.26"}},
			want: []coord{{"org.codehaus.plexus", "plexus-interpolation", "1.26"}},
		},
		{
			name: "file name that is not the artifactId",
			file: "geronimo-interceptor-3.0-spec.jar",
			poms: []pomProps{{group: "org.apache.geronimo.specs", artifact: "geronimo-interceptor_3.0_spec", version: "1.0.1"}},
			want: []coord{{"org.apache.geronimo.specs", "geronimo-interceptor_3.0_spec", "1.0.1"}},
		},
		{
			name: "the lone pom.properties is a shaded library, not the jar",
			file: "guice.jar",
			mf:   mf("Automatic-Module-Name: com.google.guice\nBundle-Name: guice\nBundle-SymbolicName: com.google.inject\nBundle-Version: 4.2.3\n"),
			poms: []pomProps{{group: "cglib", artifact: "cglib", version: "3.2.12"}},
			want: []coord{{"cglib", "cglib", "3.2.12"}, {"com.google.inject", "guice", "4.2.3"}},
		},
		{
			name: "no evidence for a group: the artifactId stands in",
			file: "aopalliance-1.0.jar",
			want: []coord{{"aopalliance", "aopalliance", "1.0"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []coord
			for _, p := range identify(tc.file, tc.mf, tc.poms) {
				got = append(got, coord{p.Namespace, p.Name, p.Version})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
