// Package java finds Maven packages in Java archives (.jar, .war, .ear and
// their plug-in cousins) and in the archives nested inside them, from
// pom.properties, MANIFEST.MF and, as a last resort, the file name.
package java

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// limits bound what one archive may cost. Nested archives are read into
// memory (compressed ones) or through a window on their parent (stored
// ones, as Spring Boot lays them out), so memory stays below
// maxDepth × maxNested however hostile the input.
type limits struct {
	maxDepth    int   // nested archive levels below the file itself
	maxNested   int64 // largest compressed nested archive inflated into memory
	maxMeta     int64 // largest MANIFEST.MF or pom.properties
	maxInflate  int64 // bytes inflated per file, over every entry read
	maxWindow   int64 // bytes of stored nested archives opened in place, per file
	maxArchives int   // nested archives opened per file
	maxEntries  int   // archive entries looked at per file, over all archives
	maxPoms     int   // pom.properties read per archive
}

var defaultLimits = limits{
	maxDepth:    4,
	maxNested:   64 << 20,
	maxMeta:     1 << 20,
	maxInflate:  512 << 20,
	maxWindow:   4 << 30,
	maxArchives: 4096,
	maxEntries:  2_000_000,
	maxPoms:     1024,
}

// maxNotes bounds how many skipped entries one error message names.
const maxNotes = 5

var archiveExts = []string{".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".nar", ".kar"}

// Cataloger reads Java archives.
type Cataloger struct{}

// New returns a Java archive cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "java" }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && isArchive(p)
}

// Catalog checks the magic number before asking for random access, which
// on a compressed layer means buffering the whole file.
func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	head, err := f.Peek(4)
	if err != nil {
		return nil, err
	}
	// A zip starts with a local header ("PK\x03\x04"), or with the end
	// record when empty; executable jars start with a shell script.
	if !bytes.HasPrefix(head, []byte("PK")) && !bytes.HasPrefix(head, []byte("#!")) {
		return nil, errors.New("not a zip archive")
	}
	ra, err := f.ReaderAt()
	if err != nil {
		return nil, err
	}
	return Read(ctx, ra, f.Size, f.Path)
}

// Read lists the packages in the Java archive of the given size that
// lives at p. The path gives the file name (the last-resort identity)
// and the prefix of nested locations ("/app/x.war!/WEB-INF/lib/y.jar").
// Packages of the archive itself carry no location. Nested archives that
// cannot be read are skipped; the error then names them, alongside the
// packages that were found.
func Read(ctx context.Context, ra io.ReaderAt, size int64, p string) ([]inventory.Package, error) {
	return read(ctx, ra, size, p, defaultLimits)
}

func read(ctx context.Context, ra io.ReaderAt, size int64, p string, lim limits) ([]inventory.Package, error) {
	w := &walker{ctx: ctx, lim: lim, budget: lim.maxInflate, window: lim.maxWindow, entries: lim.maxEntries}
	if err := w.archive(ra, size, p, 0); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return w.pkgs, w.err()
}

type walker struct {
	ctx      context.Context
	lim      limits
	budget   int64 // bytes left to inflate
	window   int64 // bytes of stored archives left to open in place
	entries  int   // entries left to look at
	archives int   // nested archives opened
	pkgs     []inventory.Package
	notes    []string
	skipped  int
}

func (w *walker) note(where string, err error) {
	w.skipped++
	if len(w.notes) < maxNotes {
		w.notes = append(w.notes, fmt.Sprintf("%s: %v", where, err))
	}
}

func (w *walker) err() error {
	if w.skipped == 0 {
		return nil
	}
	msg := strings.Join(w.notes, "; ")
	if more := w.skipped - len(w.notes); more > 0 {
		msg += fmt.Sprintf("; and %d more", more)
	}
	return fmt.Errorf("%d archive entries skipped: %s", w.skipped, msg)
}

var (
	errTooDeep   = errors.New("nested too deep; not read")
	errBudget    = errors.New("archive inflates to more than the read budget; not read")
	errTooLarge  = errors.New("entry too large; not read")
	errTooMany   = errors.New("too many nested archives; not read")
	errEntries   = errors.New("too many archive entries; the rest not read")
	errNotAnArch = errors.New("not a zip archive")
)

// archive reads one (possibly nested) archive at location loc. Depth 0 is
// the file the walk handed over; its packages carry no location.
func (w *walker) archive(ra io.ReaderAt, size int64, loc string, depth int) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Names with "../" do not matter here: nothing is written out.
		return fmt.Errorf("%w: %v", errNotAnArch, err)
	}
	// Overlapping entries can make every nested archive the whole file
	// again; the entry count bounds that work, as the budgets bound bytes.
	files := zr.File
	if len(files) > w.entries {
		w.note(loc, errEntries)
		files = files[:w.entries]
	}
	w.entries -= len(files)
	var (
		mf     *manifest
		poms   []pomProps
		nested []*zip.File
	)
	for _, zf := range files {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if zf.Mode().IsDir() {
			continue
		}
		name := zf.Name
		base := path.Base(name)
		switch {
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			if mf != nil {
				continue
			}
			b, err := w.inflate(zf, w.lim.maxMeta)
			if err != nil {
				w.note(loc+"!/"+name, err)
				continue
			}
			mf = parseManifest(b)
		case strings.EqualFold(base, "pom.properties"):
			if len(poms) >= w.lim.maxPoms {
				continue
			}
			b, err := w.inflate(zf, w.lim.maxMeta)
			if err != nil {
				w.note(loc+"!/"+name, err)
				continue
			}
			if p, ok := parsePomProps(b); ok && !containsPom(poms, p) {
				poms = append(poms, p)
			}
		case isArchive(base):
			nested = append(nested, zf)
		}
	}

	pkgs := identify(path.Base(loc), mf, poms)
	for i := range pkgs {
		pkgs[i].Type = inventory.TypeMaven
		if depth > 0 {
			pkgs[i].Locations = []inventory.Location{{Path: loc}}
		}
	}
	w.pkgs = append(w.pkgs, pkgs...)

	for _, zf := range nested {
		child := loc + "!/" + zf.Name
		if depth+1 > w.lim.maxDepth {
			w.note(child, errTooDeep)
			continue
		}
		if w.archives >= w.lim.maxArchives {
			w.note(child, errTooMany)
			continue
		}
		w.archives++
		cra, csize, err := w.open(ra, size, zf)
		if err != nil {
			w.note(child, err)
			continue
		}
		if err := w.archive(cra, csize, child, depth+1); err != nil {
			if w.ctx.Err() != nil {
				return w.ctx.Err()
			}
			w.note(child, err)
		}
	}
	return nil
}

// open gives random access to a nested archive. A stored entry is a
// window on its parent and costs no memory; a compressed one is inflated.
func (w *walker) open(parent io.ReaderAt, parentSize int64, zf *zip.File) (io.ReaderAt, int64, error) {
	if zf.Method == zip.Store && zf.CompressedSize64 == zf.UncompressedSize64 {
		off, err := zf.DataOffset()
		n := int64(zf.CompressedSize64)
		if err == nil && off >= 0 && n >= 0 && n <= parentSize && off <= parentSize-n {
			if n > w.window {
				return nil, 0, errBudget
			}
			w.window -= n
			return io.NewSectionReader(parent, off, n), n, nil
		}
	}
	b, err := w.inflate(zf, w.lim.maxNested)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// inflate reads one entry into memory, refusing more than max bytes and
// charging what it reads to the file's budget. The declared size is only
// a hint: a hostile archive may lie about it.
func (w *walker) inflate(zf *zip.File, max int64) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", errTooLarge, zf.UncompressedSize64, max)
	}
	if w.budget <= 0 {
		return nil, errBudget
	}
	limit := min(max, w.budget)
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// Deflate expands at most about 1032:1, so a larger declared size is
	// a lie and must not decide how much memory is taken up front.
	var buf bytes.Buffer
	buf.Grow(int(min(int64(zf.UncompressedSize64), limit, int64(min(zf.CompressedSize64, 1<<40))*1032+4096)))
	n, err := buf.ReadFrom(io.LimitReader(rc, limit+1))
	w.budget -= n
	if err != nil {
		return nil, err
	}
	if n > limit {
		if limit < max {
			return nil, errBudget
		}
		return nil, fmt.Errorf("%w (limit %d)", errTooLarge, max)
	}
	return buf.Bytes(), nil
}

func isArchive(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || name[i-1] == '/' {
		return false
	}
	ext := name[i:]
	for _, e := range archiveExts {
		if strings.EqualFold(ext, e) {
			return true
		}
	}
	return false
}

var _ catalog.Cataloger = (*Cataloger)(nil)
