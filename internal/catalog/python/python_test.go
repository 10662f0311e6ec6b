package python

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		{"dist-info", "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", 0o644, true},
		{"egg-info dir", "/usr/local/lib/python3.11/site-packages/x-1.0-py3.11.egg-info/PKG-INFO", 0o644, true},
		{"egg-info file", "/usr/lib/python3/dist-packages/x-1.0.egg-info", 0o644, true},
		{"unpacked egg", "/site-packages/x-1.0-py3.8.egg/EGG-INFO/PKG-INFO", 0o644, true},
		{"zipped egg", "/site-packages/x-1.0-py3.8.egg", 0o644, true},
		{"upper case", "/site-packages/x.DIST-INFO/METADATA", 0o644, true},
		{"RECORD", "/site-packages/x-1.0.dist-info/RECORD", 0o644, false},
		{"METADATA elsewhere", "/app/META-INF/METADATA", 0o644, false},
		{"PKG-INFO of an sdist", "/src/x-1.0/PKG-INFO", 0o644, false},
		{"bare suffix", "/site-packages/.dist-info/METADATA", 0o644, false},
		{"egg-info directory entry", "/site-packages/x-1.0.egg-info", fs.ModeDir, false},
		{"symlink", "/site-packages/x-1.0.dist-info/METADATA", fs.ModeSymlink, false},
		{"wheel", "/tmp/x-1.0-py3-none-any.whl", 0o644, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Wants(tt.path, tt.mode); got != tt.want {
				t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// TestCatalogTree runs Wants and Catalog over testdata/rootfs as the
// engine would and checks the exact set found and the files that fail.
func TestCatalogTree(t *testing.T) {
	type result struct {
		Path string
		Pkg  inventory.Package
	}
	var got []result
	var failed []string
	c := New()
	root := filepath.Join("testdata", "rootfs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		abs := "/" + filepath.ToSlash(rel)
		if !c.Wants(abs, 0o644) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pkgs, err := c.Catalog(context.Background(), image.NewFile(abs, 0o644, b))
		if err != nil {
			failed = append(failed, abs)
		}
		for _, p := range pkgs {
			got = append(got, result{abs, p})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const (
		sp = "/usr/local/lib/python3.11/site-packages/"
		dp = "/usr/lib/python3/dist-packages/"
		vp = "/opt/venv/lib/python3.12/site-packages/"
	)
	py := func(name, version string, lic ...string) inventory.Package {
		return inventory.Package{Type: inventory.TypePyPI, Name: name, Version: version, Licenses: lic}
	}
	want := []result{
		{"/opt/venv/lib/python3.12/site-packages/Pygments-2.6.1.dist-info/METADATA", py("Pygments", "2.6.1", "BSD License")},
		{vp + "requests-2.22.0-py3.12.egg/EGG-INFO/PKG-INFO", py("requests", "2.22.0", "Apache 2.0")},
		// No License field: the trove classifier names it.
		{"/srv/Pygments-2.6.1.dist-info/METADATA", py("Pygments", "2.6.1", "BSD License")},
		// The interpreter's own egg-info, as Debian's python2.7 installs it.
		{"/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info", py("Python", "2.7.13", "PSF license")},
		{dp + "pip-22.2.2.dist-info/METADATA", py("pip", "22.2.2", "MIT")},
		{dp + "pycups-2.0.1.egg-info", py("pycups", "2.0.1", "GPLv2+")},
		{sp + "backports.ssl_match_hostname-3.5.0.1.dist-info/METADATA", py("backports.ssl_match_hostname", "3.5.0.1")},
		{sp + "httplib2-0.20.4.dist-info/METADATA", py("httplib2", "0.20.4", "MIT")},
		// Field names in lower case.
		{sp + "httplib2-1.0.dist-info/METADATA", py("httplib2", "1.0")},
		{sp + "monotonic-1.6-py3.10.egg", py("monotonic", "1.6", "Apache")},
		// Unindented continuation lines in Keywords are skipped.
		{sp + "passlib-1.7.4.egg-info/PKG-INFO", py("passlib", "1.7.4", "BSD")},
		{sp + "pyOpenSSL-26.0.0.dist-info/METADATA", py("pyOpenSSL", "26.0.0", "Apache License, Version 2.0")},
		// Version repeated: the first one counts, as in importlib.metadata.
		{sp + "root-1.0.0.dist-info/METADATA", py("root", "1.0.0")},
		// "License: UNKNOWN" falls back to the classifier.
		{sp + "setuptools-57.4.0.egg-info/PKG-INFO", py("setuptools", "57.4.0", "MIT License")},
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	sort.Slice(want, func(i, j int) bool { return want[i].Path < want[j].Path })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	wantFailed := []string{
		sp + "empty-1.0.0-py3.8.egg-info",
		sp + "monotonic_no_pkginfo-1.6-py3.10.egg",
		sp + "no-version-py3.8.egg-info",
	}
	sort.Strings(failed)
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Errorf("failed files (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    *inventory.Package
		wantErr bool
	}{
		{
			name: "license expression wins",
			data: "Metadata-Version: 2.4\nName: attrs\nVersion: 24.2.0\nLicense-Expression: MIT\nLicense: Something else\nClassifier: License :: OSI Approved :: MIT License\n",
			want: &inventory.Package{Type: "pypi", Name: "attrs", Version: "24.2.0", Licenses: []string{"MIT"}},
		},
		{
			name: "license text in the License field",
			data: "Name: x\nVersion: 1\nLicense: Copyright (c) 2020\n        Permission is hereby granted\nClassifier: License :: OSI Approved :: BSD License\nClassifier: License :: OSI Approved\nClassifier: License :: Other/Proprietary License\n",
			want: &inventory.Package{Type: "pypi", Name: "x", Version: "1", Licenses: []string{"BSD License", "Other/Proprietary License"}},
		},
		{
			name: "headers end at the first empty line",
			data: "Name: x\nVersion: 1.0\n\nLicense: MIT\n",
			want: &inventory.Package{Type: "pypi", Name: "x", Version: "1.0"},
		},
		{
			name: "CRLF and BOM",
			data: "\xef\xbb\xbfMetadata-Version: 2.1\r\nName: x\r\nVersion: 2.0\r\nLicense: MIT\r\n\r\nbody",
			want: &inventory.Package{Type: "pypi", Name: "x", Version: "2.0", Licenses: []string{"MIT"}},
		},
		{name: "no version", data: "Name: x\n", wantErr: true},
		{name: "version in the body", data: "Name: x\n\nVersion: 1\n", wantErr: true},
		{name: "binary", data: "\x00\x01\x02", wantErr: true},
		{name: "empty", data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEggLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("EGG-INFO/PKG-INFO")
	w.Write([]byte("Name: x\nVersion: 1\n" + strings.Repeat("Keywords: y\n", maxMetadata/12+1)))
	zw.Close()
	f := image.NewFile("/site-packages/x-1-py3.egg", 0o644, buf.Bytes())
	if _, err := New().Catalog(context.Background(), f); err == nil {
		t.Error("no error for an egg whose PKG-INFO exceeds the limit")
	}
	f = image.NewFile("/site-packages/x-1-py3.egg", 0o644, []byte("not a zip"))
	if _, err := New().Catalog(context.Background(), f); err == nil {
		t.Error("no error for an egg that is not a zip")
	}
}

func FuzzParse(f *testing.F) {
	root := filepath.Join("testdata", "rootfs")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".egg") {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if (err == nil) != (p != nil) {
			t.Fatalf("package %v with error %v", p, err)
		}
		if p != nil && (p.Name == "" || p.Version == "") {
			t.Fatalf("package without name or version: %+v", p)
		}
	})
}
