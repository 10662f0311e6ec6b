// Package fs stores blobs as content-addressed files under a data directory:
// DATA/blobs/<alg>/<2 hex>/<hex> for blobs and DATA/uploads/<id> for
// partial uploads. A blob becomes visible only by renaming a fully written,
// fsynced and verified upload into place, so a reader never sees a partial
// or mismatched blob, even after a crash.
package fs

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/seawall-dev/seawall/internal/blob"
)

// Store is a filesystem blob store. It is safe for concurrent use; callers
// serialize writers of the same upload id.
type Store struct {
	blobs   string
	uploads string
	now     func() time.Time
}

// New opens (creating if needed) the blob and upload directories under
// dataDir.
func New(dataDir string) (*Store, error) {
	s := &Store{
		blobs:   filepath.Join(dataDir, "blobs"),
		uploads: filepath.Join(dataDir, "uploads"),
		now:     time.Now,
	}
	for _, dir := range []string{s.blobs, s.uploads} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return s, nil
}

func (s *Store) path(d blob.Digest) string {
	h := d.Hex()
	return filepath.Join(s.blobs, d.Algorithm(), h[:2], h)
}

func checkDigest(d blob.Digest) error {
	if _, err := blob.ParseDigest(string(d)); err != nil {
		return err
	}
	return nil
}

// Stat returns the blob's size and modification time.
func (s *Store) Stat(ctx context.Context, d blob.Digest) (blob.Info, error) {
	if err := checkDigest(d); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(s.path(d))
	if err != nil {
		return blob.Info{}, notFound(d, err)
	}
	return blob.Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Open returns the blob as an *os.File.
func (s *Store) Open(ctx context.Context, d blob.Digest) (io.ReadSeekCloser, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(d))
	if err != nil {
		return nil, notFound(d, err)
	}
	return f, nil
}

// Delete removes the blob file.
func (s *Store) Delete(ctx context.Context, d blob.Digest) error {
	if err := checkDigest(d); err != nil {
		return err
	}
	if err := os.Remove(s.path(d)); err != nil {
		return notFound(d, err)
	}
	return nil
}

// Walk visits every blob file whose path is a valid digest; anything else
// under blobs/ is ignored.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	algs, err := os.ReadDir(s.blobs)
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	for _, alg := range algs {
		if !alg.IsDir() || !blob.SupportedAlgorithm(alg.Name()) {
			continue
		}
		prefixes, err := os.ReadDir(filepath.Join(s.blobs, alg.Name()))
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, p := range prefixes {
			if !p.IsDir() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			dir := filepath.Join(s.blobs, alg.Name(), p.Name())
			files, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("walk blobs: %w", err)
			}
			for _, f := range files {
				d, err := blob.ParseDigest(alg.Name() + ":" + f.Name())
				if err != nil || !f.Type().IsRegular() || d.Hex()[:2] != p.Name() {
					continue
				}
				fi, err := f.Info()
				if err != nil {
					if errors.Is(err, iofs.ErrNotExist) {
						continue // deleted while walking
					}
					return fmt.Errorf("walk blobs: %w", err)
				}
				if err := fn(blob.Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// validID accepts the tokens the registry generates (base64url or hex) and
// nothing that could name another path.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Store) uploadPath(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("%w %q", blob.ErrInvalidID, id)
	}
	return filepath.Join(s.uploads, id), nil
}

// Writer opens upload id at r.Offset; see blob.Uploads.
func (s *Store) Writer(ctx context.Context, id string, r blob.Resume) (blob.Writer, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return nil, err
	}
	h, err := blob.RestoreHash(r.Algorithm, r.State)
	if err != nil {
		return nil, err
	}
	if r.Offset < 0 || (r.Offset > 0 && len(r.State) == 0) {
		return nil, fmt.Errorf("upload %s: offset %d without a hash state", id, r.Offset)
	}
	flag := os.O_RDWR
	if r.Offset == 0 {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(p, flag, 0o640)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil, fmt.Errorf("upload %s: %w", id, blob.ErrOffset)
		}
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	if fi.Size() < r.Offset {
		f.Close()
		return nil, fmt.Errorf("upload %s has %d bytes, resuming at %d: %w", id, fi.Size(), r.Offset, blob.ErrOffset)
	}
	// A truncated file has changed since its last fsync; else everything up
	// to r.Offset was synced before that offset was recorded.
	dirty := false
	if fi.Size() > r.Offset {
		if err := f.Truncate(r.Offset); err != nil {
			f.Close()
			return nil, fmt.Errorf("upload %s: %w", id, err)
		}
		dirty = true
	}
	if _, err := f.Seek(r.Offset, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	return &writer{s: s, id: id, path: p, f: f, alg: r.Algorithm, h: h, size: r.Offset, queued: r.Offset, dirty: dirty}, nil
}

// Remove deletes a partial upload.
func (s *Store) Remove(ctx context.Context, id string) error {
	p, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	return nil
}

// WalkUploads visits every partial upload file.
func (s *Store) WalkUploads(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error {
	entries, err := os.ReadDir(s.uploads)
	if err != nil {
		return fmt.Errorf("walk uploads: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !validID(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("walk uploads: %w", err)
		}
		if err := fn(e.Name(), fi.Size(), fi.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

type writer struct {
	s    *Store
	id   string
	path string
	f    *os.File
	alg  string
	h    hash.Hash
	size int64
	err  error // sticky write error
	// queued is the offset up to which writeback has been started;
	// dirty says bytes were written since the last fsync.
	queued int64
	dirty  bool
}

// writeBehind is how many written bytes make the writer start their
// writeback: large enough for big sequential disk writes, small enough
// that the fsync at the end of an upload waits for little.
const writeBehind = 8 << 20

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.size += int64(n)
	w.dirty = w.dirty || n > 0
	if err != nil {
		w.err = fmt.Errorf("upload %s: %w", w.id, err)
		return n, w.err
	}
	if w.size-w.queued >= writeBehind {
		startWriteback(w.f, w.queued, w.size-w.queued)
		w.queued = w.size
	}
	return n, nil
}

// sync makes the upload's bytes durable, unless nothing was written since
// the last time.
func (w *writer) sync() error {
	if !w.dirty {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("upload %s: sync: %w", w.id, err)
	}
	w.dirty = false
	return nil
}

func (w *writer) Size() int64 { return w.size }

func (w *writer) Flush() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if err := w.sync(); err != nil {
		return nil, err
	}
	return blob.MarshalHash(w.h)
}

func (w *writer) Commit(ctx context.Context, d blob.Digest) (blob.Info, error) {
	if w.err != nil {
		return blob.Info{}, w.err
	}
	if err := checkDigest(d); err != nil {
		return blob.Info{}, err
	}
	got, err := w.digest(d.Algorithm())
	if err != nil {
		return blob.Info{}, err
	}
	if got != d {
		return blob.Info{}, fmt.Errorf("%w: expected %s, got %s", blob.ErrDigestMismatch, d, got)
	}
	if err := w.sync(); err != nil {
		return blob.Info{}, err
	}
	if err := w.f.Close(); err != nil {
		return blob.Info{}, fmt.Errorf("upload %s: close: %w", w.id, err)
	}
	w.f = nil
	target := w.s.path(d)
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return blob.Info{}, fmt.Errorf("commit %s: %w", d, err)
	}
	// rename is atomic: the blob is either absent or complete. Renaming over
	// an existing copy of the same blob is harmless.
	if err := os.Rename(w.path, target); err != nil {
		return blob.Info{}, fmt.Errorf("commit %s: %w", d, err)
	}
	if err := syncDir(dir); err != nil {
		return blob.Info{}, fmt.Errorf("commit %s: %w", d, err)
	}
	// A fresh modification time tells an out-of-process garbage collector
	// that the blob was just written, even when the upload's last bytes
	// arrived long ago.
	now := w.s.now()
	_ = os.Chtimes(target, now, now)
	return blob.Info{Digest: d, Size: w.size, ModTime: now}, nil
}

// digest returns the upload's digest with algorithm alg: from the running
// hash when it is that algorithm, else by reading the upload again (the
// slow path, for a client that did not announce its algorithm).
func (w *writer) digest(alg string) (blob.Digest, error) {
	if alg == w.alg {
		return blob.Sum(alg, w.h), nil
	}
	h, err := blob.NewHash(alg)
	if err != nil {
		return "", err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("upload %s: %w", w.id, err)
	}
	n, err := io.Copy(h, w.f)
	if err != nil {
		return "", fmt.Errorf("upload %s: rehash: %w", w.id, err)
	}
	if n != w.size {
		return "", fmt.Errorf("upload %s: rehash read %d of %d bytes", w.id, n, w.size)
	}
	return blob.Sum(alg, h), nil
}

func (w *writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func notFound(d blob.Digest, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%s: %w", d, blob.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", d, err)
}

var (
	_ blob.Store   = (*Store)(nil)
	_ blob.Uploads = (*Store)(nil)
)
