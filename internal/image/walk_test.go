package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	it "github.com/seawall-dev/seawall/internal/imagetest"
)

// squash walks img and returns the content of every regular file that
// survives into the final filesystem, and the warnings.
func squash(t *testing.T, img *Image, opts WalkOptions) (map[string]string, []string, error) {
	t.Helper()
	type seen struct {
		layer, seq int
		path, body string
	}
	var (
		mu    sync.Mutex
		all   []seen
		warns []string
	)
	opts.Warn = func(m string) { mu.Lock(); warns = append(warns, m); mu.Unlock() }
	if opts.Temp == nil {
		opts.Temp = NewTempDir(t.TempDir())
	}
	view, err := Walk(context.Background(), img, opts, func(_ context.Context, f *File) error {
		if !f.Mode.IsRegular() || f.Linkname != "" {
			return nil
		}
		body := "<large>"
		if f.Size < 1<<20 {
			b, err := f.ReadAll(1 << 20)
			if err != nil {
				// As catalogers do: a bad file is a warning; a bad
				// stream still fails the walk at the next header.
				mu.Lock()
				warns = append(warns, err.Error())
				mu.Unlock()
				return nil
			}
			body = string(b)
		}
		mu.Lock()
		all = append(all, seen{f.Layer, f.Seq(), f.Path, body})
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, warns, err
	}
	out := map[string]string{}
	for _, s := range all {
		if view.Visible(s.layer, s.seq, s.path) {
			out[s.path] = s.body
		}
	}
	sort.Strings(warns)
	return out, warns, nil
}

func openArchive(t *testing.T, layers []it.Layer) *Image {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := it.DockerArchive(p, "test:1", layers); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestWhiteouts(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]it.Entry
		want   map[string]string
	}{
		{
			name: "whiteout deletes a file",
			layers: [][]it.Entry{
				{it.File("etc/a", "1"), it.File("etc/b", "2")},
				{it.Whiteout("etc/a")},
			},
			want: map[string]string{"/etc/b": "2"},
		},
		{
			name: "whiteout of a directory deletes its children",
			layers: [][]it.Entry{
				{it.Dir("opt/app"), it.File("opt/app/x", "1"), it.File("opt/app/sub/y", "2"), it.File("opt/keep", "3")},
				{it.Whiteout("opt/app")},
			},
			want: map[string]string{"/opt/keep": "3"},
		},
		{
			name: "opaque directory hides lower content but keeps its own",
			layers: [][]it.Entry{
				{it.File("var/lib/x", "old"), it.File("var/lib/sub/y", "old"), it.File("var/other", "keep")},
				{it.Dir("var/lib"), it.Opaque("var/lib"), it.File("var/lib/z", "new")},
			},
			want: map[string]string{"/var/lib/z": "new", "/var/other": "keep"},
		},
		{
			name: "upper layer replaces a file",
			layers: [][]it.Entry{
				{it.File("var/lib/dpkg/status", "v1")},
				{it.File("var/lib/dpkg/status", "v2")},
			},
			want: map[string]string{"/var/lib/dpkg/status": "v2"},
		},
		{
			name: "a file replacing a directory hides what was under it",
			layers: [][]it.Entry{
				{it.File("app/lib/a.jar", "jar")},
				{it.File("app/lib", "now a file")},
			},
			want: map[string]string{"/app/lib": "now a file"},
		},
		{
			name: "a symlink replacing a directory hides what was under it",
			layers: [][]it.Entry{
				{it.File("lib/x.so", "x")},
				{it.Symlink("lib", "usr/lib")},
			},
			want: map[string]string{},
		},
		{
			name: "a directory replacing a file hides the file",
			layers: [][]it.Entry{
				{it.File("etc/conf", "file")},
				{it.Dir("etc/conf"), it.File("etc/conf/a", "a")},
			},
			want: map[string]string{"/etc/conf/a": "a"},
		},
		{
			name: "re-added after a whiteout",
			layers: [][]it.Entry{
				{it.File("a", "1")},
				{it.Whiteout("a")},
				{it.File("a", "3")},
			},
			want: map[string]string{"/a": "3"},
		},
		{
			name: "later entry in the same layer wins",
			layers: [][]it.Entry{
				{it.File("a", "first"), it.File("a", "second")},
			},
			want: map[string]string{"/a": "second"},
		},
		{
			name: "whiteout in the same layer does not delete that layer's file",
			layers: [][]it.Entry{
				{it.File("a", "lower")},
				{it.Whiteout("a"), it.File("a", "upper")},
			},
			want: map[string]string{"/a": "upper"},
		},
		{
			name: "directories merge across layers",
			layers: [][]it.Entry{
				{it.Dir("usr"), it.File("usr/a", "a")},
				{it.Dir("usr"), it.File("usr/b", "b")},
			},
			want: map[string]string{"/usr/a": "a", "/usr/b": "b"},
		},
		{
			name: "absolute and dot-slash names are rooted",
			layers: [][]it.Entry{
				{it.File("/etc/abs", "1"), it.File("./etc/dot", "2")},
			},
			want: map[string]string{"/etc/abs": "1", "/etc/dot": "2"},
		},
	}
	for _, tc := range tests {
		for _, gz := range []bool{false, true} {
			name := tc.name
			if gz {
				name += " (gzip)"
			}
			t.Run(name, func(t *testing.T) {
				var layers []it.Layer
				for _, es := range tc.layers {
					layers = append(layers, it.NewLayer(gz, es...))
				}
				got, warns, err := squash(t, openArchive(t, layers), WalkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(warns) > 0 {
					t.Errorf("unexpected warnings: %v", warns)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("visible files (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestHostileEntries(t *testing.T) {
	layers := []it.Layer{it.NewLayer(false,
		it.File("../../etc/passwd", "escape"),
		it.File("a/../../b", "escape"),
		it.File("ok", "fine"),
		it.Hardlink("hl", "../../../etc/shadow"),
		it.Symlink("out", "/../../../../etc"),
		it.Symlink("loop1", "loop2"),
		it.Symlink("loop2", "loop1"),
	)}
	got, warns, err := squash(t, openArchive(t, layers), WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/ok": "fine"}, got); diff != "" {
		t.Errorf("visible files (-want +got):\n%s", diff)
	}
	if len(warns) != 3 {
		t.Fatalf("want 3 warnings (two escaping names, one escaping hard link), got %d: %v", len(warns), warns)
	}
	for _, w := range warns {
		if !strings.Contains(w, "outside the image root") && !strings.Contains(w, "escapes the image root") {
			t.Errorf("warning does not say what was wrong: %q", w)
		}
	}
}

func TestTruncatedGzipLayer(t *testing.T) {
	full := it.NewLayer(true, it.File("a", strings.Repeat("x", 100000)), it.File("b", "y"))
	cut := it.Layer{Blob: full.Blob[:len(full.Blob)/2], Tar: full.Tar}
	_, _, err := squash(t, openArchive(t, []it.Layer{cut}), WalkOptions{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("want ErrCorrupt, got %v", err)
	}
	if !strings.Contains(err.Error(), "layer 1") {
		t.Errorf("error does not name the layer: %v", err)
	}
}

func TestTruncatedUncompressedLayer(t *testing.T) {
	full := it.NewLayer(false, it.File("a", strings.Repeat("x", 10000)), it.File("b", "y"))
	cut := it.Layer{Blob: full.Blob[:5000], Tar: full.Tar}
	_, _, err := squash(t, openArchive(t, []it.Layer{cut}), WalkOptions{})
	if err == nil {
		t.Fatal("want an error for a truncated layer")
	}
}

func TestDecompressionBomb(t *testing.T) {
	// 8 MiB of zeros compresses about a thousandfold.
	bomb := it.NewLayer(true, it.File("zeros", string(make([]byte, 8<<20))), it.File("after", "x"))
	lim := DefaultLimits()
	lim.RatioFloor = 1 << 20
	lim.MaxRatio = 100
	_, _, err := squash(t, openArchive(t, []it.Layer{bomb}), WalkOptions{Limits: lim})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "decompression bomb") {
		t.Fatalf("want a decompression bomb error, got %v", err)
	}
	// The same layer passes with default limits: it is not hostile, just compressible.
	if _, _, err := squash(t, openArchive(t, []it.Layer{bomb}), WalkOptions{}); err != nil {
		t.Fatalf("default limits: %v", err)
	}
}

func TestTooManyEntries(t *testing.T) {
	var es []it.Entry
	for i := 0; i < 50; i++ {
		es = append(es, it.File("f"+strings.Repeat("x", i), ""))
	}
	lim := DefaultLimits()
	lim.MaxEntries = 10
	_, _, err := squash(t, openArchive(t, []it.Layer{it.NewLayer(false, es...)}), WalkOptions{Limits: lim})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("want ErrCorrupt, got %v", err)
	}
}

func TestSeekableLayerReadsInPlace(t *testing.T) {
	body := strings.Repeat("0123456789", 5000)
	img := openArchive(t, []it.Layer{it.NewLayer(false, it.File("big", body), it.File("small", "s"))})
	var got string
	_, err := Walk(context.Background(), img, WalkOptions{}, func(_ context.Context, f *File) error {
		if f.Path != "/big" {
			return nil
		}
		if f.ra == nil {
			t.Error("uncompressed local layer should give random access")
		}
		ra, err := f.ReaderAt()
		if err != nil {
			return err
		}
		b := make([]byte, 10)
		if _, err := ra.ReadAt(b, 49990); err != nil {
			return err
		}
		got = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "0123456789" {
		t.Errorf("ReadAt at the end of the file = %q", got)
	}
}

func TestStreamSharedAndSpooled(t *testing.T) {
	body := strings.Repeat("abcdefgh", 4096) // 32 KiB
	img := openArchive(t, []it.Layer{it.NewLayer(true, it.File("f", body))})
	lim := DefaultLimits()
	lim.MemBuffer = 1024 // force a spool file
	tmp := NewTempDir(t.TempDir())
	_, err := Walk(context.Background(), img, WalkOptions{Limits: lim, Temp: tmp}, func(_ context.Context, f *File) error {
		if f.Path != "/f" {
			return nil
		}
		if err := f.Shared(); err != nil {
			return err
		}
		for i := 0; i < 2; i++ {
			r, err := f.Open()
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(r)
			if string(b) != body {
				t.Errorf("read %d: got %d bytes, want %d", i, len(b), len(body))
			}
		}
		if f.spool == nil {
			t.Error("a file over MemBuffer should be spooled to disk")
		}
		p, err := f.LocalPath()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(p, tmp.dir) {
			t.Errorf("spool file %s is outside the scan's temporary directory %s", p, tmp.dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp.dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s survived Close", tmp.dir)
	}
}

func TestReadAllLimit(t *testing.T) {
	f := NewFile("/x", 0o644, bytes.Repeat([]byte("a"), 100))
	if _, err := f.ReadAll(10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
}

func TestVisitErrorStopsWalk(t *testing.T) {
	img := openArchive(t, []it.Layer{it.NewLayer(false, it.File("a", "1"), it.File("b", "2"))})
	boom := errors.New("boom")
	_, err := Walk(context.Background(), img, WalkOptions{}, func(context.Context, *File) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("want the visit error back, got %v", err)
	}
}

func TestCancel(t *testing.T) {
	img := openArchive(t, []it.Layer{it.NewLayer(true, it.File("a", "1"))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, img, WalkOptions{}, func(context.Context, *File) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

// TestSparseAndHugeFiles walks a layer made by GNU tar holding a sparse
// file whose logical size is 64 GiB. The walk must skip it without reading
// 64 GiB, and a plug-in that asks for its content is refused by the limits.
func TestSparseAndHugeFiles(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("GNU tar not found; it is needed to write a sparse archive")
	}
	src := t.TempDir()
	big := filepath.Join(src, "huge.sparse")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	f.WriteAt([]byte("tail"), 64<<30-4)
	f.Close()
	if err := os.WriteFile(filepath.Join(src, "small"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command(tarBin, "--sparse", "-C", src, "-cf", archive, ".").CombinedOutput(); err != nil {
		t.Skipf("tar --sparse: %v: %s", err, out)
	}
	if st, _ := os.Stat(archive); st.Size() > 1<<20 {
		t.Skipf("tar stored the file densely (%d bytes); no sparse support here", st.Size())
	}
	img, err := OpenRootfs(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	start := time.Now()
	var sizes []int64
	var readErr error
	_, err = Walk(context.Background(), img, WalkOptions{Temp: NewTempDir(t.TempDir())}, func(_ context.Context, f *File) error {
		if f.Path == "/huge.sparse" {
			sizes = append(sizes, f.Size)
			_, readErr = f.ReadAll(1 << 30)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] != 64<<30 {
		t.Fatalf("sparse file seen with sizes %v", sizes)
	}
	if !errors.Is(readErr, ErrTooLarge) {
		t.Errorf("reading a 64 GiB file: got %v, want ErrTooLarge", readErr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("walking the sparse archive took %s: the walk read the holes", d)
	}
}
