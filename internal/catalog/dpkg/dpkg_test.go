package dpkg

import (
	"bytes"
	"context"
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

// pkg is the part of a package that the tests compare.
type pkg struct {
	Name, Version, Arch, SourceName, SourceVersion string
}

func summarize(pkgs []inventory.Package) []pkg {
	out := make([]pkg, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, pkg{p.Name, p.Version, p.Arch, p.SourceName, p.SourceVersion})
	}
	sortPkgs(out)
	return out
}

func sortPkgs(ps []pkg) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Arch < ps[j].Arch
	})
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readTSV reads rows of package, version, arch, source, source version and,
// when present, the dpkg-query status abbreviation ("ii "). Only rows whose
// status says the package is installed are expected from the parser.
func readTSV(t *testing.T, name string) []pkg {
	t.Helper()
	var out []pkg
	for i, line := range strings.Split(strings.TrimRight(string(read(t, name)), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			t.Fatalf("%s:%d: %d columns, want at least 5", name, i+1, len(f))
		}
		if len(f) > 5 && !strings.HasPrefix(f[5], "ii") {
			continue
		}
		out = append(out, pkg{f[0], f[1], f[2], f[3], f[4]})
	}
	sortPkgs(out)
	return out
}

// txtarFile returns one file of a txtar archive (golang.org/x/tools/txtar).
func txtarFile(t *testing.T, archive, name string) []byte {
	t.Helper()
	b := read(t, archive)
	marker := []byte("-- " + name + " --\n")
	i := bytes.Index(b, marker)
	if i < 0 {
		t.Fatalf("%s has no file %s", archive, name)
	}
	b = b[i+len(marker):]
	if j := bytes.Index(b, []byte("\n-- ")); j >= 0 {
		b = b[:j+1]
	}
	return b
}

// TestGroundTruth checks the parser against what dpkg-query reported on
// the same Debian bookworm root filesystems.
func TestGroundTruth(t *testing.T) {
	for _, name := range []string{"bookworm-minbase", "bookworm-downgraded"} {
		t.Run(name, func(t *testing.T) {
			want := readTSV(t, name+"/packages.tsv")
			got, err := Parse(read(t, name+"/status"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, summarize(got)); diff != "" {
				t.Errorf("packages differ from dpkg-query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroundTruthCounts(t *testing.T) {
	// The counts that MANIFEST.md states for the two images.
	for name, n := range map[string]int{"bookworm-minbase": 88, "bookworm-downgraded": 107} {
		got, err := Parse(read(t, name+"/status"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("%s: %d packages, want %d", name, len(got), n)
		}
	}
}

func TestParse(t *testing.T) {
	single := read(t, "scalibr/single")
	acl := []pkg{{"acl", "2.3.1-3", "amd64", "acl", "2.3.1-3"}}
	tests := []struct {
		name    string
		data    []byte
		want    []pkg
		wantErr bool
	}{
		{name: "single", data: single, want: acl},
		{name: "CRLF line endings", data: bytes.ReplaceAll(single, []byte("\n"), []byte("\r\n")), want: acl},
		{name: "byte order mark", data: append([]byte("\ufeff"), single...), want: acl},
		{name: "no trailing newline", data: bytes.TrimRight(single, "\n"), want: acl},
		{name: "trailing blank lines", data: read(t, "scalibr/trailingnewlines"), want: acl},
		{name: "empty file", data: read(t, "scalibr/empty")},
		{name: "only blank lines", data: []byte("\n\n \n\t\n")},
		{name: "not a status file", data: read(t, "scalibr/invalid"), wantErr: true},
		{name: "binary junk", data: []byte("\x00\x01\x02\xff\xfe"), wantErr: true},
		{
			// Only the third word of Status says whether the files are on
			// disk; the first two are what was asked for and whether dpkg
			// ran into trouble.
			name: "status field",
			data: read(t, "scalibr/statusfield"),
			want: []pkg{
				{"wantdeinstall_installed", "1.0", "", "wantdeinstall_installed", "1.0"},
				{"wantinstall_halfinstalled", "1.0", "", "wantinstall_halfinstalled", "1.0"},
				{"wantinstall_installed", "1.0", "", "wantinstall_installed", "1.0"},
				{"wantinstall_unpacked", "1.0", "", "wantinstall_unpacked", "1.0"},
				{"wantnostatus", "1.0", "", "wantnostatus", "1.0"},
				{"wantpurge_installed", "1.0", "", "wantpurge_installed", "1.0"},
			},
		},
		{
			name: "paragraph without Package",
			data: read(t, "scalibr/nopackage"),
			want: []pkg{{"bar", "2.0", "", "bar", "2.0"}, {"foo", "1.0", "", "foo", "1.0"}},
		},
		{
			name: "paragraph without Version",
			data: read(t, "scalibr/noversion"),
			want: []pkg{{"bar", "2.0", "", "bar", "2.0"}, {"foo", "1.0", "", "foo", "1.0"}},
		},
		{
			name: "status.d file with a config-files paragraph",
			data: read(t, "scalibr/status.d-foo"),
			want: []pkg{{"foo", "1.2.3", "amd64", "foo", "1.2.3"}},
		},
		{
			name: "distroless status.d file without Status",
			data: read(t, "syft/distroless-libsqlite3-0"),
			want: []pkg{{"libsqlite3-0", "3.34.1-3", "arm64", "sqlite3", "3.34.1-3"}},
		},
		{
			name: "empty Package and missing versions",
			data: read(t, "syft/multiple"),
			want: []pkg{
				{"tzdata", "2020a-0+deb10u1", "all", "tzdata-dev", "2020a-0+deb10u1"},
				{"util-linux", "2.33.1-0.1", "amd64", "util-linux", "2.33.1-0.1"},
			},
		},
		{
			name: "deinstall ok config-files is left out",
			data: read(t, "syft/deinstall"),
			want: []pkg{{"linux-image-6.14.0-1012-aws", "6.14.0-1012.12~24.04.1", "amd64", "linux-signed-aws-6.14", "6.14.0-1012.12~24.04.1"}},
		},
		{name: "corrupt field names", data: read(t, "syft/corrupt"), wantErr: true},
		{name: "empty Package field", data: read(t, "syft/empty"), wantErr: true},
		{
			name: "multi-line relationship fields",
			data: read(t, "syft/doc-examples"),
			want: []pkg{
				{"made-up-package-1", "1.0.0", "", "glibc", "1.0.0"},
				{"made-up-package-2", "2.0.0", "", "made-up-package-2", "2.0.0"},
				{"made-up-package-3", "3.0.0", "", "made-up-package-3", "3.0.0"},
				{"made-up-package-4", "3.0.0", "", "made-up-package-4", "3.0.0"},
				{"mutt", "1.3.17-1", "", "mutt", "1.3.17-1"},
			},
		},
		{
			// Binary epoch, source without one; a package without Version
			// and one whose version dpkg would refuse are dropped.
			name: "trivy corrupted status",
			data: txtarFile(t, "trivy/corrupsed.txtar", "var/lib/dpkg/status"),
			want: []pkg{
				{"libgcc1", "1:5.1.1-12ubuntu1", "amd64", "gcc-5", "5.1.1-12ubuntu1"},
				{"libpam-modules-bin", "1.1.8-3.1ubuntu3", "amd64", "pam", "1.1.8-3.1ubuntu3"},
				{"libpam-runtime", "1.1.8-3.1ubuntu3", "all", "pam", "1.1.8-3.1ubuntu3"},
				{"makedev", "2.3.1-93ubuntu1", "all", "makedev", "2.3.1-93ubuntu1"},
			},
		},
		{
			name: "trivy full Ubuntu status",
			data: txtarFile(t, "trivy/valid.txtar", "var/lib/dpkg/status"),
			want: readTSV(t, "trivy/valid.tsv"),
		},
		{
			name: "source with version in parentheses",
			data: []byte("Package: bsdutils\nStatus: install ok installed\nArchitecture: amd64\nSource: util-linux (2.38.1-5+deb12u3)\nVersion: 1:2.38.1-5+deb12u3\n"),
			want: []pkg{{"bsdutils", "1:2.38.1-5+deb12u3", "amd64", "util-linux", "2.38.1-5+deb12u3"}},
		},
		{
			name: "source with only a version keeps the binary name",
			data: []byte("Package: a\nVersion: 1\nSource: (2)\n"),
			want: []pkg{{"a", "1", "", "a", "2"}},
		},
		{
			name: "source with an unclosed parenthesis",
			data: []byte("Package: a\nVersion: 1\nSource: b (2\n"),
			want: []pkg{{"a", "1", "", "b", "2"}},
		},
		{
			name: "not-installed and config-files",
			data: []byte("Package: a\nStatus: purge ok not-installed\nVersion: 1\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: c\nStatus: install ok installed\nVersion: 1\n"),
			want: []pkg{{"c", "1", "", "c", "1"}},
		},
		{
			name: "field names are case-insensitive",
			data: []byte("package: a\nVERSION: 1\narchitecture: all\n"),
			want: []pkg{{"a", "1", "all", "a", "1"}},
		},
		{
			name: "invalid names and versions",
			data: []byte("Package: -a\nVersion: 1\n\nPackage: b c\nVersion: 1\n\nPackage: d\nVersion: 1 2\n\nPackage: e\nVersion: x:1\n\nPackage: f\nVersion: 1:\n\nPackage: ok\nVersion: 2:1.0~rc1+dfsg-1\n"),
			want: []pkg{{"ok", "2:1.0~rc1+dfsg-1", "", "ok", "2:1.0~rc1+dfsg-1"}},
		},
		{
			name: "same package for two architectures",
			data: []byte("Package: libc6\nArchitecture: amd64\nVersion: 2.36\n\nPackage: libc6\nArchitecture: i386\nVersion: 2.36\n"),
			want: []pkg{{"libc6", "2.36", "amd64", "libc6", "2.36"}, {"libc6", "2.36", "i386", "libc6", "2.36"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse error = %v, want error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, summarize(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if p.Type != inventory.TypeDeb {
					t.Errorf("%s: type %q, want %q", p.Name, p.Type, inventory.TypeDeb)
				}
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	got, err := Parse(read(t, "scalibr/single"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"maintainer": "Guillem Jover <guillem@debian.org>", "installed-size": "210"}
	if diff := cmp.Diff(want, got[0].Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestTooManyPackages(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < maxPackages+10; i++ {
		b.WriteString("Package: a\nVersion: 1\n\n")
	}
	got, err := Parse(b.Bytes())
	if err == nil {
		t.Fatal("want an error for too many packages")
	}
	if len(got) != maxPackages {
		t.Errorf("got %d packages, want the first %d", len(got), maxPackages)
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		path string
		mode fs.FileMode
		want bool
	}{
		{"status", "/var/lib/dpkg/status", 0o644, true},
		{"status.d record", "/var/lib/dpkg/status.d/libc6", 0o644, true},
		{"status.d record with dots", "/var/lib/dpkg/status.d/libgtk2.0-0", 0o644, true},
		{"status.d md5sums", "/var/lib/dpkg/status.d/libc6.md5sums", 0o644, false},
		{"status.d maintainer script", "/var/lib/dpkg/status.d/libsqlite3-0.preinst", 0o644, false},
		{"status.d hidden file", "/var/lib/dpkg/status.d/.wh.libc6", 0o644, false},
		{"status.d subdirectory", "/var/lib/dpkg/status.d/x/y", 0o644, false},
		{"status.d itself", "/var/lib/dpkg/status.d/", 0o644, false},
		{"status-old", "/var/lib/dpkg/status-old", 0o644, false},
		{"available", "/var/lib/dpkg/available", 0o644, false},
		{"relative", "var/lib/dpkg/status", 0o644, false},
		{"elsewhere", "/home/u/var/lib/dpkg/status", 0o644, false},
		{"symlink", "/var/lib/dpkg/status", fs.ModeSymlink | 0o777, false},
		{"directory", "/var/lib/dpkg/status", fs.ModeDir | 0o755, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	c := New()
	if c.Name() != "dpkg" {
		t.Errorf("Name() = %q", c.Name())
	}
	f := image.NewFile("/var/lib/dpkg/status", 0o644, read(t, "bookworm-minbase/status"))
	got, err := c.Catalog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readTSV(t, "bookworm-minbase/packages.tsv"), summarize(got)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}

	big := image.NewFile("/var/lib/dpkg/status", 0o644, nil)
	big.Size = maxStatus + 1
	if _, err := c.Catalog(context.Background(), big); err == nil {
		t.Error("want an error for a status file over the size limit")
	}
}

// TestSharedData runs the parser on every dpkg status fixture in the
// shared data folder, when it is present, and checks that none fails.
func TestSharedData(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..", "shared", "data", "pkgdb")
	if _, err := os.Stat(root); err != nil {
		t.Skip("shared data not present")
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(filepath.ToSlash(p), "/glob-paths/") {
			return nil // placeholder files for syft's path matching
		}
		var virtual string
		switch dir := filepath.Base(filepath.Dir(p)); {
		case dir == "dpkg" && d.Name() == "status":
			virtual = "/var/lib/dpkg/status"
		case dir == "status.d":
			virtual = "/var/lib/dpkg/status.d/" + d.Name()
		}
		if virtual == "" || !New().Wants(virtual, 0o644) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := Parse(b); err != nil && d.Name() != "corrupt" && d.Name() != "empty" {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".tsv") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(b)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := Parse(b)
		if err != nil && len(pkgs) > 0 && len(pkgs) < maxPackages {
			t.Fatalf("error %v returned with %d packages", err, len(pkgs))
		}
		for _, p := range pkgs {
			if !validName(p.Name) || !validVersion(p.Version) || p.SourceName == "" || p.SourceVersion == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
