package image

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	it "github.com/seawall-dev/seawall/internal/imagetest"
)

// onFile walks img and calls fn for the file at path only.
func onFile(t *testing.T, img *Image, opts WalkOptions, path string, fn func(f *File) error) {
	t.Helper()
	called := false
	_, err := Walk(context.Background(), img, opts, func(_ context.Context, f *File) error {
		if f.Path != path {
			return nil
		}
		called = true
		return fn(f)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Fatalf("walk never visited %s", path)
	}
}

func readAll(t *testing.T, f *File) string {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func readAt(t *testing.T, f *File) string {
	t.Helper()
	ra, err := f.ReaderAt()
	if err != nil {
		t.Fatalf("ReaderAt: %v", err)
	}
	b := make([]byte, f.Size)
	if _, err := ra.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatalf("ReadAt: %v", err)
	}
	return string(b)
}

// TestPeek checks that Peek shows the head of the content on every
// backing a File can have, and that the whole content stays readable
// afterwards, including from a one-shot stream.
func TestPeek(t *testing.T) {
	body := "\x7fELF" + strings.Repeat("0123456789", 3000)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bin"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	tree, err := OpenTree(dir, KindRootfs)
	if err != nil {
		t.Fatal(err)
	}
	plain := openArchive(t, []it.Layer{it.NewLayer(false, it.Exec("bin", body))})
	gz := openArchive(t, []it.Layer{it.NewLayer(true, it.Exec("bin", body))})
	spoolLimits := DefaultLimits()
	spoolLimits.MemBuffer = 1024

	sources := []struct {
		name string
		img  *Image
		opts WalkOptions
	}{
		{name: "directory", img: tree},
		{name: "uncompressed layer", img: plain},
		{name: "gzip layer", img: gz},
		{name: "gzip layer spooled", img: gz, opts: WalkOptions{Limits: spoolLimits}},
	}
	reads := []struct {
		name   string
		shared bool
		then   func(t *testing.T, f *File) string
	}{
		{name: "then Open", then: readAll},
		{name: "then ReaderAt", then: readAt},
		{name: "then ReadAll", then: func(t *testing.T, f *File) string {
			b, err := f.ReadAll(1 << 20)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			return string(b)
		}},
		{name: "shared then Open twice", shared: true, then: func(t *testing.T, f *File) string {
			if a, b := readAll(t, f), readAll(t, f); a != b {
				t.Errorf("second Open of a shared file differs from the first")
			}
			return readAt(t, f)
		}},
	}
	for _, src := range sources {
		for _, rd := range reads {
			t.Run(src.name+"/"+rd.name, func(t *testing.T) {
				opts := src.opts
				opts.Temp = NewTempDir(t.TempDir())
				onFile(t, src.img, opts, "/bin", func(f *File) error {
					if rd.shared {
						if err := f.Shared(); err != nil {
							return err
						}
					}
					for _, n := range []int{2, 4, 1, 4} { // grow, shrink, repeat
						got, err := f.Peek(n)
						if err != nil {
							return err
						}
						if string(got) != body[:n] {
							t.Errorf("Peek(%d) = %q, want %q", n, got, body[:n])
						}
					}
					if got := rd.then(t, f); got != body {
						t.Errorf("content after Peek: got %d bytes starting %q, want %d bytes", len(got), got[:min(len(got), 8)], len(body))
					}
					if got, err := f.Peek(4); err == nil && string(got) != body[:4] {
						t.Errorf("Peek after a full read = %q", got)
					}
					return nil
				})
			})
		}
	}
}

// TestPeekDoesNotBuffer checks that a plug-in that only peeks at a shared
// stream never makes the walk buffer the whole file.
func TestPeekDoesNotBuffer(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	img := openArchive(t, []it.Layer{it.NewLayer(true, it.Exec("script", body))})
	onFile(t, img, WalkOptions{}, "/script", func(f *File) error {
		if err := f.Shared(); err != nil {
			return err
		}
		if _, err := f.Peek(4); err != nil {
			return err
		}
		if f.buf != nil || f.spool != nil {
			t.Errorf("Shared and Peek buffered the file (buf %d bytes, spool %v)", len(f.buf), f.spool != nil)
		}
		return nil
	})
}

func TestPeekShortAndEmpty(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		n    int
		want string
	}{
		{name: "memory shorter than n", f: NewFile("/a", 0o755, []byte("ab")), n: 4, want: "ab"},
		{name: "memory empty", f: NewFile("/a", 0o755, nil), n: 4, want: ""},
		{name: "stream shorter than n", f: streamFile("ab", 2), n: 4, want: "ab"},
		{name: "stream empty", f: streamFile("", 0), n: 4, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Peek(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Peek(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func streamFile(body string, size int64) *File {
	return &File{Path: "/s", Mode: 0o755, Size: size, stream: strings.NewReader(body), limits: DefaultLimits()}
}

func TestPeekErrors(t *testing.T) {
	t.Run("truncated stream", func(t *testing.T) {
		f := streamFile("ab", 10) // the header promised 10 bytes
		if _, err := f.Peek(4); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Peek: want io.ErrUnexpectedEOF, got %v", err)
		}
		if _, err := f.Open(); err == nil {
			t.Error("Open after a failed Peek should fail rather than return partial content")
		}
	})
	t.Run("consumed stream", func(t *testing.T) {
		f := streamFile("abcdef", 6)
		if _, err := f.Open(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Peek(4); err == nil {
			t.Error("Peek of a consumed stream should fail")
		}
	})
	t.Run("over the memory limit", func(t *testing.T) {
		f := streamFile(strings.Repeat("a", 100), 100)
		f.limits = &Limits{MemBuffer: 10, MaxFileRead: 1 << 20}
		if _, err := f.Peek(50); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("want ErrTooLarge, got %v", err)
		}
		if got := readAll(t, f); len(got) != 100 {
			t.Errorf("a refused Peek lost content: read %d bytes", len(got))
		}
	})
	t.Run("negative", func(t *testing.T) {
		if _, err := NewFile("/a", 0, []byte("x")).Peek(-1); err == nil {
			t.Error("Peek(-1) should fail")
		}
	})
}
