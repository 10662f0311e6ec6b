package apk

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
	Name, Version, Arch, Origin, License string
}

func summarize(t *testing.T, pkgs []inventory.Package) []pkg {
	t.Helper()
	out := make([]pkg, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Type != inventory.TypeAPK {
			t.Errorf("%s: type %q, want %q", p.Name, p.Type, inventory.TypeAPK)
		}
		if p.SourceVersion != p.Version {
			t.Errorf("%s: source version %q, want the package version %q", p.Name, p.SourceVersion, p.Version)
		}
		var lic string
		switch len(p.Licenses) {
		case 0:
		case 1:
			lic = p.Licenses[0]
		default:
			t.Errorf("%s: licenses %q, want the record's one L value", p.Name, p.Licenses)
		}
		out = append(out, pkg{p.Name, p.Version, p.Arch, p.SourceName, lic})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readTSV reads the expected packages of a fixture: name, version, arch,
// origin, licence. The tables were extracted from the fixtures with awk.
func readTSV(t *testing.T, name string) []pkg {
	t.Helper()
	var out []pkg
	for i, line := range strings.Split(strings.TrimRight(string(read(t, name)), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("%s:%d: %d columns, want 5", name, i+1, len(f))
		}
		out = append(out, pkg{f[0], f[1], f[2], f[3], f[4]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func TestParse(t *testing.T) {
	single := read(t, "scalibr/single")
	baselayoutData := []pkg{{"alpine-baselayout-data", "3.4.3-r1", "x86_64", "alpine-baselayout", "GPL-2.0-only"}}
	tests := []struct {
		name    string
		data    []byte
		want    []pkg
		wantErr bool
	}{
		{name: "osv-scalibr Alpine 3.18", data: read(t, "scalibr/installed"), want: readTSV(t, "scalibr/installed.tsv")},
		{name: "syft Alpine 3.16", data: read(t, "syft/multiple-2"), want: readTSV(t, "syft/multiple-2.tsv")},
		{name: "syft Wolfi-style", data: read(t, "syft/multiple-1"), want: readTSV(t, "syft/multiple-1.tsv")},
		{
			// One record has a name but no version and is skipped.
			name: "trivy old Alpine",
			data: read(t, "trivy/installed"),
			want: readTSV(t, "trivy/installed.tsv"),
		},
		{name: "single", data: single, want: baselayoutData},
		{name: "CRLF line endings", data: bytes.ReplaceAll(single, []byte("\n"), []byte("\r\n")), want: baselayoutData},
		{name: "byte order mark", data: append([]byte("\ufeff"), single...), want: baselayoutData},
		{name: "no trailing newline", data: bytes.TrimRight(single, "\n"), want: baselayoutData},
		{
			name: "noarch",
			data: read(t, "scalibr/different-arch"),
			want: []pkg{{"alpine-baselayout-data", "3.4.3-r1", "noarch", "alpine-baselayout", "GPL-2.0-only"}},
		},
		{
			name: "no origin: the package is its own origin",
			data: read(t, "scalibr/no-origin"),
			want: []pkg{{"pkgname", "1.2.3", "x86_64", "pkgname", "GPL-2.0-only"}},
		},
		{
			name: "licence list kept as written",
			data: read(t, "syft/single"),
			want: []pkg{{"musl-utils", "1.1.24-r2", "x86_64", "musl", "MIT BSD GPL2+"}},
		},
		{
			name: "file ACLs and extended attributes",
			data: read(t, "syft/extra-file-attributes"),
			want: []pkg{{"openjdk8-jre", "8.212.04-r0", "x86_64", "openjdk8", "custom"}},
		},
		{
			name: "empty D: and p: fields",
			data: read(t, "syft/empty-deps-and-provides"),
			want: []pkg{{"alpine-baselayout-data", "3.4.0-r0", "x86_64", "alpine-baselayout", "GPL-2.0-only"}},
		},
		{
			name: "long file list",
			data: read(t, "syft/base"),
			want: []pkg{{"alpine-baselayout", "3.2.0-r6", "x86_64", "alpine-baselayout", "GPL-2.0-only"}},
		},
		{
			// The readable record is kept, and the error says what was wrong.
			name:    "corrupt line before a record",
			data:    read(t, "syft/corrupt"),
			want:    []pkg{{"alpine-baselayout-data", "3.2.0-r22", "x86_64", "alpine-baselayout", ""}},
			wantErr: true,
		},
		{name: "empty file", data: read(t, "scalibr/empty")},
		{name: "only blank lines", data: []byte("\n\r\n \n")},
		{name: "not a database", data: read(t, "scalibr/invalid"), wantErr: true},
		{name: "binary junk", data: []byte("\x00\x01\x02\xff"), wantErr: true},
		{name: "records without names", data: []byte("V:1.0\n\nA:x86_64\n"), wantErr: true},
		{
			name: "spaces in name or version",
			data: []byte("P:a b\nV:1\n\nP:c\nV:1 2\n\nP:ok\nV:1.0-r0\n"),
			want: []pkg{{"ok", "1.0-r0", "", "ok", ""}},
		},
		{
			name: "values are trimmed",
			data: []byte("P: a \nV:1.0-r0 \no:  b\n"),
			want: []pkg{{"a", "1.0-r0", "", "b", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse error = %v, want error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, summarize(t, got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	got, err := Parse(read(t, "scalibr/single"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"maintainer": "Natanael Copa <ncopa@alpinelinux.org>",
		"commit":     "65502ca9379dd29d1ac4b0bf0dcf03a3dd1b324a",
	}
	if diff := cmp.Diff(want, got[0].Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	got, err = Parse(read(t, "scalibr/no-origin"))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Metadata != nil {
		t.Errorf("metadata %v, want none for a record without m: and c:", got[0].Metadata)
	}
}

func TestTooManyPackages(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < maxPackages+10; i++ {
		b.WriteString("P:a\nV:1\n\n")
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
		{"installed", "/lib/apk/db/installed", 0o644, true},
		{"installed under /usr", "/usr/lib/apk/db/installed", 0o644, true},
		{"other database files", "/lib/apk/db/triggers", 0o644, false},
		{"elsewhere", "/home/x/lib/apk/db/installed", 0o644, false},
		{"relative", "lib/apk/db/installed", 0o644, false},
		{"symlink", "/lib/apk/db/installed", fs.ModeSymlink | 0o777, false},
		{"directory", "/lib/apk/db/installed", fs.ModeDir | 0o755, false},
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
	if c.Name() != "apk" {
		t.Errorf("Name() = %q", c.Name())
	}
	f := image.NewFile("/lib/apk/db/installed", 0o644, read(t, "scalibr/installed"))
	got, err := c.Catalog(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readTSV(t, "scalibr/installed.tsv"), summarize(t, got)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}

	big := image.NewFile("/lib/apk/db/installed", 0o644, nil)
	big.Size = maxInstalled + 1
	if _, err := c.Catalog(context.Background(), big); err == nil {
		t.Error("want an error for a database over the size limit")
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
		pkgs, _ := Parse(b)
		if len(pkgs) > maxPackages {
			t.Fatalf("%d packages, over the limit", len(pkgs))
		}
		for _, p := range pkgs {
			if !valid(p.Name) || !valid(p.Version) || p.SourceName == "" || p.SourceVersion != p.Version {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
