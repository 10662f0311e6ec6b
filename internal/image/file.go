package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is returned when a file is bigger than a limit allows.
var ErrTooLarge = errors.New("file too large")

// File is one entry of a layer or tree as the walk hands it to plug-ins.
// Its content can be read as a stream or, when a plug-in needs random
// access, through ReaderAt; the walk arranges the cheapest way to provide
// it (a seek into an uncompressed layer, a memory buffer, or a spool file).
//
// A File, and any byte slice its methods return, is only valid during
// the callback that received it: the walk reuses its buffers.
type File struct {
	Path     string // absolute, slash-separated, cleaned: "/var/lib/dpkg/status"
	Mode     fs.FileMode
	Size     int64
	Linkname string // symlink or hard link target, as recorded
	Layer    int    // index into Image.Layers; 0 for a plain tree

	seq int // position within the layer, for last-writer-wins

	stream   io.Reader   // the tar stream positioned at this content
	consumed bool        // stream already handed out
	head     []byte      // bytes Peek took from the stream, not yet handed out
	shared   bool        // several plug-ins read this File; see Shared
	ra       io.ReaderAt // random access, when the source has it
	open     func() (*os.File, error)
	osf      *os.File
	buf      []byte
	scratch  *[]byte // the layer walk's reusable buffer, for materialize
	spool    *os.File
	limits   *Limits
	tmp      *TempDir
}

// NewFile returns a File over data, for tests and for content that is
// already in memory (files nested in archives).
func NewFile(path string, mode fs.FileMode, data []byte) *File {
	return &File{Path: path, Mode: mode, Size: int64(len(data)), buf: data, limits: DefaultLimits()}
}

// NewFileTemp is NewFile for content that a plug-in may need as a file on
// disk: LocalPath spools it into tmp.
func NewFileTemp(path string, mode fs.FileMode, data []byte, tmp *TempDir) *File {
	f := NewFile(path, mode, data)
	f.tmp = tmp
	return f
}

// Open returns a reader over the whole content. It may be called more than
// once unless the File is a one-shot stream, which the walk only hands to
// a single plug-in.
func (f *File) Open() (io.Reader, error) {
	if err := f.ensureOpen(); err != nil {
		return nil, err
	}
	switch {
	case f.buf != nil:
		return bytes.NewReader(f.buf), nil
	case f.ra != nil:
		return io.NewSectionReader(f.ra, 0, f.Size), nil
	case f.spool != nil:
		return io.NewSectionReader(f.spool, 0, f.Size), nil
	case f.stream != nil && !f.consumed:
		if f.shared {
			if err := f.materialize(); err != nil {
				return nil, err
			}
			return f.Open()
		}
		return f.takeStream(), nil
	}
	return nil, fmt.Errorf("%s: content already consumed", f.Path)
}

// takeStream hands out the one-shot stream, with any peeked bytes first.
func (f *File) takeStream() io.Reader {
	f.consumed = true
	rest := io.LimitReader(f.stream, f.Size-int64(len(f.head)))
	if len(f.head) == 0 {
		return rest
	}
	head := f.head
	f.head = nil
	return io.MultiReader(bytes.NewReader(head), rest)
}

// Peek returns the first n bytes of the content, or all of it when the
// file is shorter, without using up a one-shot stream: a later Open or
// ReaderAt still sees the whole content. It lets a plug-in check a magic
// number before it asks for random access, which for a streamed layer
// means buffering the whole file. The returned slice must not be modified.
func (f *File) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("%s: peek: negative count %d", f.Path, n)
	}
	if int64(n) > f.Size {
		n = int(f.Size)
	}
	if n == 0 {
		return []byte{}, nil
	}
	if err := f.ensureOpen(); err != nil {
		return nil, err
	}
	switch {
	case f.buf != nil:
		return f.buf[:min(n, len(f.buf)):min(n, len(f.buf))], nil
	case f.ra != nil || f.spool != nil:
		ra := f.ra
		if ra == nil {
			ra = f.spool
		}
		b := make([]byte, n)
		m, err := ra.ReadAt(b, 0)
		if m == n {
			return b, nil
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: peek: %w", f.Path, err)
	case f.stream != nil && !f.consumed:
		if int64(n) > f.limits.MemBuffer {
			return nil, fmt.Errorf("%s: peek of %d bytes exceeds the %d-byte memory limit: %w", f.Path, n, f.limits.MemBuffer, ErrTooLarge)
		}
		if len(f.head) < n {
			more := make([]byte, n-len(f.head))
			if _, err := io.ReadFull(f.stream, more); err != nil {
				// Part of the content is gone; nobody may read the rest as if whole.
				f.consumed, f.head = true, nil
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("%s: peek: %w", f.Path, err)
			}
			f.head = append(f.head, more...)
		}
		return f.head[:n:n], nil
	}
	return nil, fmt.Errorf("%s: content already consumed", f.Path)
}

// ReadAll reads the whole content into memory, refusing files over max bytes.
func (f *File) ReadAll(max int64) ([]byte, error) {
	if f.Size > max {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d-byte limit: %w", f.Path, f.Size, max, ErrTooLarge)
	}
	if f.buf != nil {
		return f.buf, nil
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	b := make([]byte, f.Size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%s: read: %w", f.Path, err)
	}
	return b, nil
}

// ReaderAt returns random access to the content. For streamed layers the
// content is first read into memory, or into a spool file in the scan's
// temporary directory when it is larger than the memory limit.
func (f *File) ReaderAt() (io.ReaderAt, error) {
	if err := f.ensureOpen(); err != nil {
		return nil, err
	}
	switch {
	case f.buf != nil:
		return bytes.NewReader(f.buf), nil
	case f.ra != nil:
		return f.ra, nil
	case f.spool != nil:
		return f.spool, nil
	}
	if err := f.materialize(); err != nil {
		return nil, err
	}
	return f.ReaderAt()
}

// LocalPath returns a path on the local filesystem that holds the content,
// for libraries that insist on opening a file by name. The file lives in
// the scan's temporary directory and is removed with it.
func (f *File) LocalPath() (string, error) {
	if f.osf != nil {
		return f.osf.Name(), nil
	}
	if f.spool == nil {
		if f.Size > f.limits.MaxFileRead {
			return "", fmt.Errorf("%s: %d bytes exceeds the %d-byte read limit: %w", f.Path, f.Size, f.limits.MaxFileRead, ErrTooLarge)
		}
		r, err := f.Open()
		if err != nil {
			return "", err
		}
		if err := f.spoolFrom(r); err != nil {
			return "", err
		}
		f.buf = nil
	}
	return f.spool.Name(), nil
}

// Shared makes the content readable more than once, so that several
// plug-ins can be handed the same File. A one-shot stream is not read
// here but by the first Open or ReaderAt, which buffers it: plug-ins that
// Peek at a file and decline it (binary catalogers on every executable)
// then never pay for buffering it. It is a no-op for content that already
// has random access.
func (f *File) Shared() error {
	f.shared = true
	return nil
}

func (f *File) ensureOpen() error {
	if f.open == nil || f.osf != nil {
		return nil
	}
	osf, err := f.open()
	if err != nil {
		return err
	}
	f.osf = osf
	f.ra = osf
	return nil
}

func (f *File) materialize() error {
	if f.Size > f.limits.MaxFileRead {
		return fmt.Errorf("%s: %d bytes exceeds the %d-byte read limit: %w", f.Path, f.Size, f.limits.MaxFileRead, ErrTooLarge)
	}
	if f.stream == nil || f.consumed {
		return fmt.Errorf("%s: content already consumed", f.Path)
	}
	r := f.takeStream()
	if f.Size <= f.limits.MemBuffer || f.tmp == nil {
		var b []byte
		if f.scratch != nil {
			// Reuse the walk's buffer: buffering every executable of a
			// streamed layer would otherwise allocate (and fault in) each
			// one afresh.
			if int64(cap(*f.scratch)) < f.Size {
				*f.scratch = make([]byte, f.Size+f.Size/4)
			}
			b = (*f.scratch)[:f.Size]
		} else {
			b = make([]byte, f.Size)
		}
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("%s: read: %w", f.Path, err)
		}
		f.buf = b
		return nil
	}
	return f.spoolFrom(r)
}

func (f *File) spoolFrom(r io.Reader) error {
	if f.tmp == nil {
		return fmt.Errorf("%s: no temporary directory to spool into", f.Path)
	}
	sf, err := f.tmp.Create()
	if err != nil {
		return err
	}
	n, err := io.Copy(sf, r)
	if err == nil && n != f.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		sf.Close()
		os.Remove(sf.Name())
		return fmt.Errorf("%s: spool: %w", f.Path, err)
	}
	f.spool = sf
	return nil
}

// release frees what the File holds once every plug-in is done with it.
func (f *File) release() {
	if f.osf != nil {
		f.osf.Close()
		f.osf = nil
	}
	if f.spool != nil {
		f.spool.Close()
		os.Remove(f.spool.Name())
		f.spool = nil
	}
	f.buf = nil
	f.head = nil
}

// IsRegular reports whether the entry is a regular file (or a hard link,
// whose content is a regular file's).
func (f *File) IsRegular() bool { return f.Mode.IsRegular() }

// Seq is the entry's position within its layer. A later entry for the
// same path in the same layer replaces an earlier one.
func (f *File) Seq() int { return f.seq }
