package catalog

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/image"
	it "github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// lines is a test cataloger: every line "name version" of a *.pkgs file
// is a package.
type lines struct{}

func (lines) Name() string { return "lines" }
func (lines) Wants(p string, m fs.FileMode) bool {
	return m.IsRegular() && strings.HasSuffix(p, ".pkgs")
}
func (lines) Catalog(_ context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(1 << 20)
	if err != nil {
		return nil, err
	}
	var out []inventory.Package
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "panic" {
			panic("hostile input")
		}
		n, v, _ := strings.Cut(l, " ")
		out = append(out, inventory.Package{Type: inventory.TypeDeb, Name: n, Version: v, Arch: "amd64"})
	}
	return out, nil
}

// counter wants the same files as lines, so files are shared.
type counter struct{ n *int }

func (counter) Name() string                         { return "counter" }
func (c counter) Wants(p string, m fs.FileMode) bool { return lines{}.Wants(p, m) }
func (c counter) Catalog(_ context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(1 << 20)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		*c.n++
	}
	return nil, nil
}

func run(t *testing.T, layers []it.Layer, cats ...Cataloger) *inventory.Inventory {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := it.DockerArchive(p, "t:1", layers); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), p, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	inv, err := Run(context.Background(), img, Options{Catalogers: cats, Walk: image.WalkOptions{Temp: image.NewTempDir(t.TempDir())}})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

type row struct {
	Name, Version, Path string
	Layer               int
}

func rows(inv *inventory.Inventory) []row {
	var out []row
	for _, p := range inv.Packages {
		out = append(out, row{p.Name, p.Version, p.Locations[0].Path, p.Locations[0].LayerIndex})
	}
	return out
}

func TestRunAppliesLayers(t *testing.T) {
	layers := []it.Layer{
		it.NewLayer(true,
			it.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
			it.File("db/a.pkgs", "libc6 2.36-9\nbash 5.2"),
			it.File("db/gone.pkgs", "removed 1.0"),
			it.File("opt/x.pkgs", "lower 1.0"),
		),
		it.NewLayer(false,
			it.File("db/a.pkgs", "libc6 2.36-9+deb12u7\nbash 5.2"),
			it.Whiteout("db/gone.pkgs"),
			it.Opaque("opt"),
			it.File("opt/y.pkgs", "upper 2.0"),
			it.Hardlink("opt/link.pkgs", "opt/y.pkgs"),
		),
	}
	inv := run(t, layers, lines{})
	want := []row{
		{"bash", "5.2", "/db/a.pkgs", 1},
		{"libc6", "2.36-9+deb12u7", "/db/a.pkgs", 1},
		{"upper", "2.0", "/opt/link.pkgs", 1},
		{"upper", "2.0", "/opt/y.pkgs", 1},
	}
	if diff := cmp.Diff(want, rows(inv)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if inv.Distro == nil || inv.Distro.ID != "debian" || inv.Distro.VersionID != "12" {
		t.Fatalf("distro = %+v", inv.Distro)
	}
	for _, p := range inv.Packages {
		if p.Locations[0].LayerDiffID != it.Digest(layers[1].Tar) {
			t.Errorf("%s: layer diffID %s", p.Name, p.Locations[0].LayerDiffID)
		}
		if !strings.HasPrefix(p.PURL, "pkg:deb/debian/"+p.Name+"@") || !strings.Contains(p.PURL, "distro=debian-12") {
			t.Errorf("%s: purl %s", p.Name, p.PURL)
		}
		if p.FoundBy != "lines" || len(p.ID) != 16 {
			t.Errorf("%s: foundBy %q id %q", p.Name, p.FoundBy, p.ID)
		}
	}
}

func TestRunIsDeterministic(t *testing.T) {
	layers := []it.Layer{
		it.NewLayer(true, it.File("a.pkgs", "a 1\nb 2\nc 3"), it.File("b.pkgs", "d 4")),
		it.NewLayer(true, it.File("c.pkgs", "e 5")),
		it.NewLayer(false, it.File("d.pkgs", "f 6")),
	}
	first := run(t, layers, lines{})
	for i := 0; i < 5; i++ {
		again := run(t, layers, lines{})
		if diff := cmp.Diff(first.Packages, again.Packages); diff != "" {
			t.Fatalf("run %d differs (-first +again):\n%s", i, diff)
		}
	}
}

func TestRunSurvivesPanickingCataloger(t *testing.T) {
	inv := run(t, []it.Layer{it.NewLayer(true, it.File("bad.pkgs", "panic"), it.File("good.pkgs", "ok 1"))}, lines{})
	if diff := cmp.Diff([]row{{"ok", "1", "/good.pkgs", 0}}, rows(inv)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "/bad.pkgs") || !strings.Contains(inv.Warnings[0], "hostile input") {
		t.Errorf("warnings = %q", inv.Warnings)
	}
}

func TestRunSharesStreamsBetweenCatalogers(t *testing.T) {
	n := 0
	// A gzip layer is a one-shot stream; both catalogers must see the content.
	inv := run(t, []it.Layer{it.NewLayer(true, it.File("a.pkgs", "x 1"))}, lines{}, counter{&n})
	if len(inv.Packages) != 1 || n != 1 {
		t.Fatalf("packages %d, counter saw %d files", len(inv.Packages), n)
	}
}

// reader is a file scanner that reads every file it is given.
type reader struct{ got map[string]string }

func (reader) Name() string                   { return "reader" }
func (reader) Wants(string, fs.FileMode) bool { return true }
func (r reader) Scan(_ context.Context, f *image.File) ([]inventory.Finding, error) {
	b, err := f.ReadAll(1 << 20)
	if err != nil {
		return nil, err
	}
	r.got[f.Path] = string(b)
	return nil, nil
}

func TestScanReadsReleaseFilesAfterDistroDetection(t *testing.T) {
	// The distro detection reads /etc/os-release first; on a one-shot
	// gzip stream a scanner must still get the content.
	osRelease := "ID=debian\nVERSION_ID=\"12\"\n"
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := it.DockerArchive(p, "t:1", []it.Layer{it.NewLayer(true, it.File("etc/os-release", osRelease))}); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), p, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	r := reader{got: map[string]string{}}
	res, err := Scan(context.Background(), img, Options{FileScanners: []FileScanner{r}, Walk: image.WalkOptions{Temp: image.NewTempDir(t.TempDir())}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.got["/etc/os-release"]; got != osRelease {
		t.Errorf("scanner read %q, want %q (warnings: %q)", got, osRelease, res.Inventory.Warnings)
	}
	if res.Inventory.Distro == nil || res.Inventory.Distro.ID != "debian" {
		t.Errorf("distro %+v, want debian", res.Inventory.Distro)
	}
}
