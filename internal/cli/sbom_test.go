package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/report"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

type debRow struct{ Name, Version, Arch, Source, SourceVersion string }

// readTSV reads package, version, arch, source, source version columns.
func readTSV(t *testing.T, p string) []debRow {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var rows []debRow
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 5 {
			t.Fatalf("%s: short line %q", p, l)
		}
		rows = append(rows, debRow{f[0], f[1], f[2], f[3], f[4]})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

func sbomDebs(t *testing.T, args ...string) (*report.SBOMDocument, []debRow) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sbom.json")
	code, _, stderr := runCLI(t, append(append([]string{"sbom"}, args...), "--format", "json", "--output", out, "--quiet")...)
	if code != 0 {
		t.Fatalf("seawall sbom %v: exit %d: %s", args, code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc report.SBOMDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var rows []debRow
	for _, p := range doc.Packages {
		if p.Type == "deb" {
			rows = append(rows, debRow{p.Name, p.Version, p.Arch, p.SourceName, p.SourceVersion})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return &doc, rows
}

// checkImageForms builds an OCI layout (gzip layers as given) and a docker
// archive (uncompressed layers) from the blobs, and checks that every form,
// plus the root filesystem itself, lists exactly the packages dpkg reports.
func checkImageForms(t *testing.T, want []debRow, rootfs string, blobPaths ...string) {
	var blobs []imagetest.BlobInfo
	for _, p := range blobPaths {
		b, err := imagetest.StatBlob(p)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	dir := t.TempDir()
	layout := filepath.Join(dir, "img.oci")
	archive := filepath.Join(dir, "img.docker.tar")
	if err := imagetest.OCILayoutFromBlobs(layout, "img:1", blobs); err != nil {
		t.Fatal(err)
	}
	if err := imagetest.DockerArchiveFromBlobs(archive, "img:1", blobs); err != nil {
		t.Fatal(err)
	}
	targets := [][]string{{layout}, {archive}}
	if rootfs != "" {
		targets = append(targets, []string{"--rootfs", rootfs})
	}
	for _, args := range targets {
		t.Run(filepath.Base(args[len(args)-1]), func(t *testing.T) {
			doc, got := sbomDebs(t, args...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("dpkg packages differ from dpkg-query (-dpkg-query +seawall):\n%s", diff)
			}
			if doc.Distro == nil || doc.Distro.ID != "debian" || doc.Distro.VersionID != "12" {
				t.Errorf("distro = %+v", doc.Distro)
			}
			if len(doc.Warnings) != 0 {
				t.Errorf("warnings: %v", doc.Warnings)
			}
			if rootfs == "" || args[0] != "--rootfs" {
				top := blobs[len(blobs)-1].DiffID
				for _, p := range doc.Packages {
					if p.Type == "deb" && p.Locations[0].LayerDiffID != top {
						t.Errorf("%s: found in layer %s, want the top layer %s (the status file there replaces the lower one)", p.Name, p.Locations[0].LayerDiffID, top)
						break
					}
				}
			}
		})
	}
}

// TestSBOMDebianGroundTruth checks the dpkg inventory of a real Debian
// bookworm image, and of the same image with a downgraded layer on top,
// against what dpkg-query reported inside them.
func TestSBOMDebianGroundTruth(t *testing.T) {
	data := imagetest.SharedData(t)
	base := filepath.Join(data, "images/debian-bookworm-minbase.rootfs.tar.gz")
	down := filepath.Join(data, "images/debian-bookworm-downgraded.layer.tar.gz")
	t.Run("minbase", func(t *testing.T) {
		checkImageForms(t, readTSV(t, filepath.Join(data, "pkgdb/debian-bookworm-minbase/packages.tsv")), base, base)
	})
	t.Run("downgraded", func(t *testing.T) {
		checkImageForms(t, readTSV(t, filepath.Join(data, "pkgdb/debian-bookworm-downgraded/packages.tsv")), "", base, down)
	})
}

// TestSBOMDebootstrapGroundTruth does the same on the root filesystem that
// .ci/run builds with debootstrap, against dpkg-query run on it there.
func TestSBOMDebootstrapGroundTruth(t *testing.T) {
	rootfs := imagetest.CICache(t, "bookworm-minbase.tar.gz")
	want := readTSV(t, imagetest.CICache(t, "bookworm-minbase.dpkg-query.tsv"))
	checkImageForms(t, want, rootfs, rootfs)
}

func TestSBOMUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no target", []string{"sbom"}, ExitUsage, "give exactly one of"},
		{"two targets", []string{"sbom", "x.tar", "--dir", dir}, ExitUsage, "give exactly one of"},
		{"bad format", []string{"sbom", "--dir", dir, "--format", "xml"}, ExitUsage, `unknown --format "xml"`},
		{"missing file", []string{"sbom", filepath.Join(dir, "nope.tar")}, ExitError, "no such file"},
		{"rootfs missing", []string{"sbom", "--rootfs", filepath.Join(dir, "nope")}, ExitError, "no such file"},
		{"unknown flag", []string{"sbom", "--frobnicate"}, ExitUsage, "unknown flag"},
		{"bad log level", []string{"--log-level", "loud", "sbom", "--dir", dir}, ExitUsage, "bad --log-level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.contains) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.contains)
			}
		})
	}
}

func TestSBOMOutputIsAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sbom.json")
	if err := os.WriteFile(out, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A failing scan must leave the previous file untouched and no temporary files.
	code, _, _ := runCLI(t, "sbom", filepath.Join(dir, "missing.tar"), "-o", out)
	if code == 0 {
		t.Fatal("want failure")
	}
	b, _ := os.ReadFile(out)
	if string(b) != "previous" {
		t.Errorf("output was changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("stray files left behind: %v", entries)
	}
	// An output directory that does not exist is a clear error.
	code, _, stderr := runCLI(t, "sbom", "--dir", dir, "-o", filepath.Join(dir, "no/such/dir/out.json"))
	if code != ExitError || !strings.Contains(stderr, "no/such/dir") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// TestSBOMOutputToSpecialFiles checks that --output to a device or a FIFO
// writes into it rather than replacing it with a regular file.
func TestSBOMOutputToSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	code, _, stderr := runCLI(t, "sbom", "--dir", dir, "--format", "json", "-o", fifo, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	select {
	case b := <-got:
		if !strings.Contains(string(b), `"schemaVersion"`) {
			t.Errorf("the FIFO received %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing was written into the FIFO")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
	}
	// A private copy of /dev/null (character device 1,3), so that a
	// regression cannot replace the real one.
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		if code, _, _ := runCLI(t, "sbom", "--dir", dir, "-o", null, "--quiet"); code != 0 {
			t.Errorf("writing to a null device: exit %d", code)
		}
		if st, err := os.Lstat(null); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("the device was replaced by a %v (%v)", st.Mode(), err)
		}
	} else {
		t.Logf("mknod needs root (%v); the device case is not checked", err)
	}
	if code, _, stderr := runCLI(t, "sbom", "--dir", dir, "-o", dir, "--quiet"); code == 0 || !strings.Contains(stderr, "is a directory") {
		t.Errorf("output to a directory: exit %d, %q", code, stderr)
	}
}
