package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ErrCorrupt marks an image whose layer data cannot be read to the end: a
// truncated download, a damaged archive, a decompression bomb.
var ErrCorrupt = errors.New("corrupt image data")

// Visit is called once for every entry of every layer except whiteout
// markers, in layer order within a layer. Calls for different layers run
// concurrently; calls for one layer never do. The File is only valid until
// Visit returns.
type Visit func(ctx context.Context, f *File) error

// Progress receives how far the walk has got. Implementations must be safe
// for concurrent use.
type Progress interface {
	Start(layers []*Layer)
	Add(layer int, n int64)
	Done(layer int)
}

// WalkOptions tune a walk. The zero value is usable.
type WalkOptions struct {
	Limits   *Limits
	Temp     *TempDir
	Parallel int // layers read at once; default GOMAXPROCS
	Progress Progress
	// Warn receives problems that do not stop the walk. It may be called
	// concurrently.
	Warn func(msg string)
}

// Walk reads every layer once, streaming, and calls visit for each entry.
// It returns a View that tells which visited entries survive into the
// final filesystem.
func Walk(ctx context.Context, img *Image, opts WalkOptions, visit Visit) (*View, error) {
	if opts.Limits == nil {
		opts.Limits = DefaultLimits()
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if img.tree != "" {
		return &View{tree: img.tree}, walkTree(ctx, img, opts, visit)
	}
	view := newView(len(img.Layers))
	if opts.Progress != nil {
		opts.Progress.Start(img.Layers)
	}
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, par)
	errs := make([]error, len(img.Layers))
	var wg sync.WaitGroup
	// Start the biggest layers first: with fewer workers than layers, that
	// keeps the slowest layer from starting last.
	for _, i := range bySizeDesc(img.Layers) {
		wg.Add(1)
		go func(l *Layer) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[l.Index] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			err := walkLayer(ctx, l, view.layers[l.Index], view, opts, visit)
			if opts.Progress != nil {
				opts.Progress.Done(l.Index)
			}
			if err != nil {
				errs[l.Index] = err
				cancel()
			}
		}(img.Layers[i])
	}
	wg.Wait()
	// Report the first real failure, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return view, nil
}

func bySizeDesc(ls []*Layer) []int {
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	// Insertion sort: images have tens of layers, not thousands.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && ls[idx[j]].Size > ls[idx[j-1]].Size; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

func layerName(l *Layer) string {
	d := l.Digest
	if d == "" {
		d = l.DiffID
	}
	if d == "" {
		return fmt.Sprintf("layer %d", l.Index+1)
	}
	return fmt.Sprintf("layer %d (%s)", l.Index+1, d)
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	bz2Magic  = []byte{'B', 'Z', 'h'}
)

func walkLayer(ctx context.Context, l *Layer, li *layerIndex, v *View, opts WalkOptions, visit Visit) error {
	rc, err := l.open(ctx)
	if err != nil {
		return fmt.Errorf("%s: open: %w", layerName(l), err)
	}
	defer rc.Close()
	raw := &countingReader{r: rc, progress: opts.Progress, layer: l.Index}
	br := bufio.NewReaderSize(raw, 256<<10)
	head, _ := br.Peek(6)

	var (
		tr       *tar.Reader
		seekable *seekReader
		out      *countingReader
	)
	switch {
	case bytes.HasPrefix(head, gzipMagic), bytes.HasPrefix(head, zstdMagic):
		zr, err := decompressor(br, head)
		if err != nil {
			return fmt.Errorf("%s: %w", layerName(l), err)
		}
		defer zr.Close()
		ahead := readAhead(zr)
		defer ahead.Close()
		out = &countingReader{r: ahead}
	case bytes.HasPrefix(head, xzMagic), bytes.HasPrefix(head, bz2Magic):
		return fmt.Errorf("%s: xz and bzip2 layers are not supported; recompress the image with gzip or zstd (for example `skopeo copy --dest-compress-format gzip`)", layerName(l))
	case l.at != nil:
		// Uncompressed and local: read headers only and seek past content.
		seekable = newSeekReader(l.at, l.Size)
		tr = tar.NewReader(seekable)
	default:
		out = &countingReader{r: br}
	}
	if tr == nil {
		tr = tar.NewReader(out)
	}

	seq := 0
	var scratch []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: read tar after %d entries: %v: %w", layerName(l), seq, err, ErrCorrupt)
		}
		if out != nil {
			if err := checkBomb(l, raw.n.Load(), out.n.Load(), opts.Limits); err != nil {
				return err
			}
		}
		seq++
		if seq > opts.Limits.MaxEntries {
			return fmt.Errorf("%s: more than %d entries: %w", layerName(l), opts.Limits.MaxEntries, ErrCorrupt)
		}
		p, ok := cleanPath(hdr.Name)
		if !ok {
			opts.Warn(fmt.Sprintf("%s: skipped entry %q: its path escapes the image root", layerName(l), hdr.Name))
			continue
		}
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			target := strings.TrimSuffix(dir, "/")
			if target == "" {
				target = "/"
			}
			if base == ".wh..wh..opq" {
				li.opaque[v.hash(target)] = struct{}{}
			} else if name := base[len(".wh."):]; name != "" && !strings.HasPrefix(name, ".wh.") {
				li.whiteouts[v.hash(path.Join(target, name))] = struct{}{}
			}
			continue
		}
		if p == "/" {
			continue
		}
		mode := hdr.FileInfo().Mode()
		isDir := hdr.Typeflag == tar.TypeDir
		li.add(v.hash(p), seq, isDir)

		f := &File{Path: p, Mode: mode, Size: hdr.Size, Layer: l.Index, seq: seq, limits: opts.Limits, tmp: opts.Temp, scratch: &scratch}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			if seekable != nil && hdr.Typeflag != tar.TypeGNUSparse && !isSparse(hdr) {
				off, _ := seekable.Seek(0, io.SeekCurrent)
				f.ra = io.NewSectionReader(l.at, off, hdr.Size)
			} else {
				f.stream = tr
			}
		case tar.TypeLink:
			lp, ok := cleanPath(hdr.Linkname)
			if !ok {
				opts.Warn(fmt.Sprintf("%s: hard link %s points outside the image root (%q); ignored", layerName(l), p, hdr.Linkname))
				continue
			}
			f.Linkname = lp
			f.Size = 0
		case tar.TypeSymlink:
			f.Linkname = hdr.Linkname
			f.Size = 0
		default:
			f.Size = 0
		}
		err = visit(ctx, f)
		f.release()
		if err != nil {
			return err
		}
	}
}

// decompressor returns a reader that decompresses r, whose first bytes
// (head) name the format.
func decompressor(r io.Reader, head []byte) (io.ReadCloser, error) {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %v: %w", err, ErrCorrupt)
		}
		zr.Multistream(true)
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %v: %w", err, ErrCorrupt)
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression")
}

// isSparse reports whether a PAX header describes a sparse file, whose
// stored bytes are not its content.
func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func checkBomb(l *Layer, raw, out int64, lim *Limits) error {
	if out > lim.MaxLayerBytes {
		return fmt.Errorf("%s: uncompressed size passed the %d-byte limit: %w", layerName(l), lim.MaxLayerBytes, ErrCorrupt)
	}
	if out > lim.RatioFloor && raw > 0 && out/raw > lim.MaxRatio {
		return fmt.Errorf("%s: decompressed %d bytes from %d (ratio over %d:1), which looks like a decompression bomb: %w", layerName(l), out, raw, lim.MaxRatio, ErrCorrupt)
	}
	return nil
}

type countingReader struct {
	r        io.Reader
	n        atomic.Int64 // read by the walk while a decompressor goroutine counts
	progress Progress
	layer    int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.progress != nil && n > 0 {
		c.progress.Add(c.layer, int64(n))
	}
	return n, err
}

// seekReader is a buffered reader over an io.ReaderAt that also seeks, so
// that archive/tar skips file content instead of reading it.
type seekReader struct {
	ra       io.ReaderAt
	size     int64
	pos      int64 // logical position
	buf      []byte
	bufStart int64 // file offset of buf[0]
}

func newSeekReader(ra io.ReaderAt, size int64) *seekReader {
	return &seekReader{ra: ra, size: size, buf: make([]byte, 0, 64<<10)}
}

func (s *seekReader) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.pos < s.bufStart || s.pos >= s.bufStart+int64(len(s.buf)) {
		// Refill from pos.
		n, err := s.ra.ReadAt(s.buf[:cap(s.buf)], s.pos)
		if n == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		s.buf = s.buf[:n]
		s.bufStart = s.pos
	}
	n := copy(p, s.buf[s.pos-s.bufStart:])
	s.pos += int64(n)
	return n, nil
}

func (s *seekReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += s.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if off < 0 {
		return 0, errors.New("seek: negative position")
	}
	s.pos = off
	return off, nil
}

// aheadReader decompresses in its own goroutine, so that inflating the
// next chunk overlaps with parsing the current one.
type aheadReader struct {
	chunks chan []byte
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	err    error // set by the producer before chunks is closed
	cur    []byte
	used   []byte
}

const aheadChunk = 256 << 10

func readAhead(r io.Reader) *aheadReader {
	a := &aheadReader{
		chunks: make(chan []byte, 3),
		free:   make(chan []byte, 4),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := 0; i < 4; i++ {
		a.free <- make([]byte, aheadChunk)
	}
	go a.produce(r)
	return a
}

func (a *aheadReader) produce(r io.Reader) {
	defer close(a.done)
	defer close(a.chunks)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			return
		}
		n, err := fill(r, buf[:cap(buf)])
		if n > 0 {
			select {
			case a.chunks <- buf[:n]:
			case <-a.stop:
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				a.err = err
			}
			return
		}
	}
}

// fill reads until buf is full or r fails, returning r's own error (so a
// truncated stream's io.ErrUnexpectedEOF is kept apart from a clean io.EOF).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.used != nil {
			a.free <- a.used[:cap(a.used)]
			a.used = nil
		}
		c, ok := <-a.chunks
		if !ok {
			if a.err != nil {
				return 0, a.err
			}
			return 0, io.EOF
		}
		a.cur, a.used = c, c
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the producer and waits for it, so the underlying reader can
// be closed safely.
func (a *aheadReader) Close() {
	close(a.stop)
	<-a.done
}
