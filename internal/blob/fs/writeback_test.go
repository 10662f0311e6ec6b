package fs_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/blob/fs"
)

// TestLargeUploadAcrossRequests writes an upload larger than the
// write-behind threshold in uneven pieces over three writers (as three
// PATCH requests would), flushing between them, then resumes it with
// nothing new and commits it: the committed blob is exactly the bytes
// written, and a resumed writer that had to drop unrecorded bytes still
// commits only the recorded ones.
func TestLargeUploadAcrossRequests(t *testing.T) {
	dir := t.TempDir()
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	content := make([]byte, 9<<20+12345)
	rand.NewChaCha8([32]byte{7}).Read(content)
	d := digestOf(t, blob.SHA256, content)

	r := blob.Resume{Algorithm: blob.SHA256}
	for _, end := range []int{1<<20 + 1, 8<<20 + 3, len(content)} {
		w, err := s.Writer(ctx, "big", r)
		if err != nil {
			t.Fatal(err)
		}
		for off := int(r.Offset); off < end; {
			n := min(end-off, 1<<20+777)
			write(t, w, content[off:off+n])
			off += n
		}
		state, err := w.Flush()
		if err != nil {
			t.Fatal(err)
		}
		r = blob.Resume{Algorithm: blob.SHA256, Offset: w.Size(), State: state}
		// Bytes the next request writes but never records are dropped
		// when the upload resumes.
		write(t, w, []byte("unrecorded"))
		w.Close()
	}
	w, err := s.Writer(ctx, "big", r)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	info, err := w.Commit(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(content)) {
		t.Errorf("size %d, want %d", info.Size, len(content))
	}
	if got := readAll(t, s, d); !bytes.Equal(got, content) {
		t.Errorf("committed blob differs from the upload (%d bytes, want %d)", len(got), len(content))
	}
}
