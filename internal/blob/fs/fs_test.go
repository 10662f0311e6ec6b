package fs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/blob/fs"
)

var ctx = context.Background()

func digestOf(t *testing.T, alg string, b []byte) blob.Digest {
	t.Helper()
	d, err := blob.FromBytes(alg, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func write(t *testing.T, w blob.Writer, b []byte) {
	t.Helper()
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, s *fs.Store, d blob.Digest) []byte {
	t.Helper()
	f, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommitMakesTheBlobVisible(t *testing.T) {
	for _, alg := range []string{blob.SHA256, blob.SHA512} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			s, err := fs.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			content := bytes.Repeat([]byte("layer "), 10000)
			d := digestOf(t, alg, content)
			w, err := s.Writer(ctx, "up1", blob.Resume{Algorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			write(t, w, content)
			if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("blob visible before commit: %v", err)
			}
			info, err := w.Commit(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			if info.Size != int64(len(content)) || info.Digest != d {
				t.Errorf("commit info = %+v", info)
			}
			if got := readAll(t, s, d); !bytes.Equal(got, content) {
				t.Error("stored content differs")
			}
			want := filepath.Join(dir, "blobs", alg, d.Hex()[:2], d.Hex())
			if _, err := os.Stat(want); err != nil {
				t.Errorf("blob not at %s: %v", want, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "uploads", "up1")); !os.IsNotExist(err) {
				t.Errorf("upload file left behind: %v", err)
			}
		})
	}
}

func TestMismatchedDigestIsNeverVisible(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx, "up", blob.Resume{Algorithm: blob.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, []byte("actual bytes"))
	claimed := digestOf(t, blob.SHA256, []byte("claimed bytes"))
	if _, err := w.Commit(ctx, claimed); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("commit = %v, want ErrDigestMismatch", err)
	}
	w.Close()
	if _, err := s.Stat(ctx, claimed); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("mismatched blob is visible: %v", err)
	}
	n := 0
	s.Walk(ctx, func(blob.Info) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d blobs after a failed commit", n)
	}
}

// A resumed upload continues from the saved hash state, and bytes written
// past the recorded offset (a request that failed before recording its
// progress) are discarded.
func TestResumeFromSavedState(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	part1, part2 := []byte("first half, "), []byte("second half")
	w, err := s.Writer(ctx, "r", blob.Resume{Algorithm: blob.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, part1)
	state, err := w.Flush()
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, []byte("garbage that was never recorded"))
	w.Close()

	w, err = s.Writer(ctx, "r", blob.Resume{Algorithm: blob.SHA256, Offset: int64(len(part1)), State: state})
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, part2)
	full := append(slices.Clone(part1), part2...)
	d := digestOf(t, blob.SHA256, full)
	if _, err := w.Commit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, d); !bytes.Equal(got, full) {
		t.Errorf("content = %q, want %q", got, full)
	}
}

func TestResumeBeyondStoredDataFails(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Writer(ctx, "short", blob.Resume{Algorithm: blob.SHA256})
	write(t, w, []byte("abc"))
	state, _ := w.Flush()
	w.Close()
	_, err = s.Writer(ctx, "short", blob.Resume{Algorithm: blob.SHA256, Offset: 10, State: state})
	if !errors.Is(err, blob.ErrOffset) {
		t.Errorf("resume past the end = %v, want ErrOffset", err)
	}
	_, err = s.Writer(ctx, "missing", blob.Resume{Algorithm: blob.SHA256, Offset: 3, State: state})
	if !errors.Is(err, blob.ErrOffset) {
		t.Errorf("resume of a missing upload = %v, want ErrOffset", err)
	}
}

// A commit with another algorithm than the upload was hashed with reads the
// upload again instead of failing.
func TestCommitWithAnotherAlgorithm(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("pushed without announcing sha512")
	w, _ := s.Writer(ctx, "x", blob.Resume{Algorithm: blob.SHA256})
	write(t, w, content)
	d := digestOf(t, blob.SHA512, content)
	if _, err := w.Commit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, d); !bytes.Equal(got, content) {
		t.Error("content differs")
	}
}

func TestUploadIDsCannotEscape(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "../x", "a/b", ".", "..", "a\x00b", string(make([]byte, 200))} {
		if _, err := s.Writer(ctx, id, blob.Resume{Algorithm: blob.SHA256}); !errors.Is(err, blob.ErrInvalidID) {
			t.Errorf("Writer(%q) = %v, want ErrInvalidID", id, err)
		}
		if err := s.Remove(ctx, id); !errors.Is(err, blob.ErrInvalidID) {
			t.Errorf("Remove(%q) = %v, want ErrInvalidID", id, err)
		}
	}
	for _, d := range []blob.Digest{"sha256:../../etc", "", "md5:abc"} {
		if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidDigest", d, err)
		}
	}
}

func TestWalkAndDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []blob.Digest
	for i, c := range []string{"a", "b", "c"} {
		alg := blob.SHA256
		if i == 2 {
			alg = blob.SHA512
		}
		w, _ := s.Writer(ctx, "w"+c, blob.Resume{Algorithm: alg})
		write(t, w, []byte(c))
		d := digestOf(t, alg, []byte(c))
		if _, err := w.Commit(ctx, d); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	// Stray files are ignored.
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", "zz"), []byte("x"), 0o600)
	os.MkdirAll(filepath.Join(dir, "blobs", "md5", "ab"), 0o700)
	var got []blob.Digest
	if err := s.Walk(ctx, func(i blob.Info) error {
		got = append(got, i.Digest)
		if time.Since(i.ModTime) > time.Minute {
			t.Errorf("%s: modtime %s", i.Digest, i.ModTime)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Walk = %v, want %v", got, want)
	}
	if err := s.Delete(ctx, want[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, want[0]); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}

	w, _ := s.Writer(ctx, "pending", blob.Resume{Algorithm: blob.SHA256})
	write(t, w, []byte("partial"))
	w.Close()
	var ids []string
	s.WalkUploads(ctx, func(id string, size int64, _ time.Time) error {
		ids = append(ids, id)
		if size != 7 {
			t.Errorf("upload size %d", size)
		}
		return nil
	})
	if !slices.Equal(ids, []string{"pending"}) {
		t.Errorf("WalkUploads = %v", ids)
	}
}
