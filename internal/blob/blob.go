// Package blob stores content-addressed blobs (image layers and configs) and
// the partial uploads that become them. It defines the small interfaces the
// registry uses; blob/fs implements them on a local filesystem, and an
// S3-compatible backend can implement them later.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every backend returns, wrapped, so callers can use errors.Is.
var (
	ErrNotFound = errors.New("blob not found")
	// ErrDigestMismatch is returned by Writer.Commit when the uploaded bytes
	// do not hash to the expected digest. Nothing becomes visible.
	ErrDigestMismatch = errors.New("digest does not match the uploaded content")
	// ErrOffset is returned when an upload is resumed at an offset the
	// stored partial upload cannot provide (it is shorter: bytes were lost).
	ErrOffset = errors.New("upload offset is beyond the stored data")
	// ErrInvalidID is returned for an upload id that is not a plain token.
	ErrInvalidID = errors.New("invalid upload id")
)

// Info describes a stored blob.
type Info struct {
	Digest  Digest
	Size    int64
	ModTime time.Time // when the blob was last written or committed
}

// Store reads and deletes blobs by digest.
type Store interface {
	Stat(ctx context.Context, d Digest) (Info, error)
	// Open returns the blob's content. For the filesystem backend it is an
	// *os.File, so that net/http can send it with sendfile.
	Open(ctx context.Context, d Digest) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, d Digest) error
	// Walk calls fn for every stored blob, in no particular order.
	Walk(ctx context.Context, fn func(Info) error) error
}

// Resume says where an upload continues: the digest algorithm hashing it,
// the number of bytes already stored and the hash state at that offset (as
// returned by Writer.Flush). A new upload has Offset 0 and no State.
type Resume struct {
	Algorithm string
	Offset    int64
	State     []byte
}

// Uploads keeps partial uploads, identified by opaque ids, until they are
// committed as blobs or removed.
type Uploads interface {
	// Writer opens upload id for appending at r.Offset, creating it when
	// r.Offset is 0. Bytes stored beyond r.Offset (written by a request
	// that failed before its progress was recorded) are discarded.
	Writer(ctx context.Context, id string, r Resume) (Writer, error)
	// Remove deletes a partial upload; removing a missing one is not an error.
	Remove(ctx context.Context, id string) error
	// WalkUploads calls fn for every partial upload, for garbage collection.
	WalkUploads(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error
}

// Writer appends to a partial upload and hashes the bytes as they arrive,
// so that committing never has to read the upload again.
type Writer interface {
	io.Writer
	// Size is the upload's length so far.
	Size() int64
	// Flush makes the bytes written so far durable and returns the hash
	// state to store with the session, for Resume.State.
	Flush() ([]byte, error)
	// Commit checks that the upload hashes to d and atomically makes it
	// the blob d, removing the upload. On ErrDigestMismatch nothing is
	// visible and the partial upload is left for the caller to remove.
	Commit(ctx context.Context, d Digest) (Info, error)
	// Close releases the writer. Unflushed bytes may be lost; the partial
	// upload stays until it is committed or removed.
	Close() error
}
