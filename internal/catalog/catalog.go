// Package catalog finds the packages in an image or tree. It owns the one
// walk over the files and hands each file to the plug-ins (catalogers)
// that want it; the plug-ins only parse.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

// Cataloger is a plug-in that recognises one kind of package record.
type Cataloger interface {
	Name() string
	// Wants reports whether the file at path (absolute, slash-separated)
	// holds records this cataloger reads. It must be cheap: it runs for
	// every file of every layer.
	Wants(path string, mode fs.FileMode) bool
	// Catalog parses one file. Packages need not carry locations: the
	// engine sets the file's own path and layer. Errors become warnings.
	Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error)
}

// Declared is implemented by catalogers that read what a project declares
// (lockfiles, manifests) rather than what is installed. They run on
// source trees (--dir) and, when asked, on images.
type Declared interface {
	Declared() bool
}

// IsDeclared reports whether c reads declared rather than installed packages.
func IsDeclared(c Cataloger) bool {
	d, ok := c.(Declared)
	return ok && d.Declared()
}

// FileScanner is a plug-in that looks for problems in files (secrets,
// malware, risky settings) during the same walk. Unlike catalogers,
// scanners see every entry, directories and symlinks included, and their
// findings are kept even for files a later layer deleted: what any layer
// holds can be extracted from the image.
type FileScanner interface {
	Name() string
	Wants(path string, mode fs.FileMode) bool
	Scan(ctx context.Context, f *image.File) ([]inventory.Finding, error)
}

// ImageScanner checks the image as a whole after the walk: its
// configuration and history, and the packages found in it.
type ImageScanner interface {
	Name() string
	ScanImage(ctx context.Context, img *image.Image, inv *inventory.Inventory) ([]inventory.Finding, error)
}

// Options configure a cataloging run.
type Options struct {
	Catalogers    []Cataloger
	FileScanners  []FileScanner
	ImageScanners []ImageScanner
	Walk          image.WalkOptions
	Logger        *slog.Logger
	// MaxWarnings bounds how many warnings are kept; the rest are counted.
	MaxWarnings int
}

// found is what one cataloger reported for one file.
type found struct {
	layer, seq int
	path       string
	pkgs       []inventory.Package
}

// Result is what one walk found.
type Result struct {
	Inventory *inventory.Inventory
	// Findings are the scanners' findings, in a stable order.
	Findings []inventory.Finding
}

// Run walks img once and returns its inventory.
func Run(ctx context.Context, img *image.Image, opts Options) (*inventory.Inventory, error) {
	res, err := Scan(ctx, img, opts)
	if err != nil {
		return nil, err
	}
	return res.Inventory, nil
}

// Scan walks img once, cataloging packages and running the scanners.
func Scan(ctx context.Context, img *image.Image, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxWarnings == 0 {
		opts.MaxWarnings = 1000
	}
	w := &warnings{max: opts.MaxWarnings, log: log}
	opts.Walk.Warn = w.add

	nl := len(img.Layers)
	if nl == 0 {
		nl = 1
	}
	perLayer := make([][]found, nl)
	releases := make([][]releaseFile, nl)
	// byPath remembers, per layer, which results came from which file, so
	// that a hard link to a cataloged file yields the same packages.
	byPath := make([]map[string][]inventory.Package, nl)
	for i := range byPath {
		byPath[i] = map[string][]inventory.Package{}
	}

	cats := opts.Catalogers
	scanned := make([][]foundFinding, nl)
	visit := func(ctx context.Context, f *image.File) error {
		var wantS []FileScanner
		for _, sc := range opts.FileScanners {
			if sc.Wants(f.Path, f.Mode) {
				wantS = append(wantS, sc)
			}
		}
		if !f.Mode.IsRegular() || f.Linkname != "" {
			// Directories, symlinks and hard links: scanners may judge their
			// metadata; there is no content to catalog.
			for _, sc := range wantS {
				out, err := safeScan(ctx, sc, f)
				if err != nil {
					w.add(fmt.Sprintf("%s: %s: %v", sc.Name(), f.Path, err))
				}
				scanned[f.Layer] = append(scanned[f.Layer], foundFinding{f.Layer, seqOf(f), f.Path, out})
			}
		}
		if !f.Mode.IsRegular() {
			return nil
		}
		if f.Linkname != "" { // a hard link within the layer
			if pk, ok := byPath[f.Layer][f.Linkname]; ok {
				perLayer[f.Layer] = append(perLayer[f.Layer], found{f.Layer, seqOf(f), f.Path, clonePkgs(pk)})
			}
			return nil
		}
		var want []Cataloger
		for _, c := range cats {
			if c.Wants(f.Path, f.Mode) {
				want = append(want, c)
			}
		}
		// Every reader of the content counts, the release detection
		// too: a streamed layer's content can be read once unless the
		// file is shared.
		release := isReleaseFile(f.Path)
		readers := len(want) + len(wantS)
		if release {
			readers++
		}
		if readers == 0 {
			return nil
		}
		if readers > 1 {
			if err := f.Shared(); err != nil {
				w.add(fmt.Sprintf("%s: %v", f.Path, err))
				return nil
			}
		}
		if release {
			if b, err := f.ReadAll(64 << 10); err == nil {
				releases[f.Layer] = append(releases[f.Layer], releaseFile{f.Layer, seqOf(f), f.Path, b})
			}
		}
		for _, sc := range wantS {
			out, err := safeScan(ctx, sc, f)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				w.add(fmt.Sprintf("%s: %s: %v", sc.Name(), f.Path, err))
			}
			if len(out) > 0 {
				scanned[f.Layer] = append(scanned[f.Layer], foundFinding{f.Layer, seqOf(f), f.Path, out})
			}
		}
		for _, c := range want {
			pkgs, err := safeCatalog(ctx, c, f)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				w.add(fmt.Sprintf("%s: %s: %v", c.Name(), f.Path, err))
			}
			if len(pkgs) == 0 {
				continue
			}
			for i := range pkgs {
				pkgs[i].FoundBy = c.Name()
			}
			perLayer[f.Layer] = append(perLayer[f.Layer], found{f.Layer, seqOf(f), f.Path, pkgs})
			byPath[f.Layer][f.Path] = append(byPath[f.Layer][f.Path], pkgs...)
		}
		return nil
	}

	view, err := image.Walk(ctx, img, opts.Walk, visit)
	if err != nil {
		return nil, err
	}

	inv := &inventory.Inventory{Source: sourceOf(img)}
	inv.Distro = detectDistro(releases, view)

	var pkgs []inventory.Package
	for _, fl := range perLayer {
		for _, fd := range fl {
			if !view.Visible(fd.layer, fd.seq, fd.path) {
				continue
			}
			for _, p := range fd.pkgs {
				if len(p.Locations) == 0 {
					p.Locations = []inventory.Location{{Path: fd.path}}
				}
				for i := range p.Locations {
					setLayer(&p.Locations[i], img, fd.layer)
				}
				pkgs = append(pkgs, p)
			}
		}
	}
	for i := range pkgs {
		pkgs[i].PURL = purl.For(&pkgs[i], inv.Distro)
		pkgs[i].ID = inventory.StableID(&pkgs[i])
	}
	inv.Packages = dedupe(pkgs)
	inventory.Sort(inv.Packages)

	var findings []inventory.Finding
	for _, fl := range scanned {
		for _, fd := range fl {
			hidden := !view.Visible(fd.layer, fd.seq, fd.path)
			for _, f := range fd.findings {
				if f.Location.Path == "" {
					f.Location.Path = fd.path
				}
				setLayer(&f.Location, img, fd.layer)
				f.Hidden = hidden
				findings = append(findings, f)
			}
		}
	}
	for _, sc := range opts.ImageScanners {
		out, err := safeImageScan(ctx, sc, img, inv)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			w.add(fmt.Sprintf("%s: %v", sc.Name(), err))
		}
		findings = append(findings, out...)
	}
	inventory.SortFindings(findings)
	inv.Warnings = w.list()
	return &Result{Inventory: inv, Findings: findings}, nil
}

// foundFinding is what one scanner reported for one file.
type foundFinding struct {
	layer, seq int
	path       string
	findings   []inventory.Finding
}

func safeScan(ctx context.Context, sc FileScanner, f *image.File) (out []inventory.Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
			err = fmt.Errorf("scanner failed on this file (%v); please report it: %s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	return sc.Scan(ctx, f)
}

func safeImageScan(ctx context.Context, sc ImageScanner, img *image.Image, inv *inventory.Inventory) (out []inventory.Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
			err = fmt.Errorf("image scanner failed (%v); please report it: %s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	return sc.ScanImage(ctx, img, inv)
}

func seqOf(f *image.File) int { return f.Seq() }

func clonePkgs(in []inventory.Package) []inventory.Package {
	out := make([]inventory.Package, len(in))
	copy(out, in)
	for i := range out {
		out[i].Locations = nil
	}
	return out
}

func setLayer(l *inventory.Location, img *image.Image, layer int) {
	l.LayerIndex = layer
	if layer < len(img.Layers) {
		l.LayerDigest = img.Layers[layer].Digest
		l.LayerDiffID = img.Layers[layer].DiffID
	}
}

// dedupe merges packages that are identical, including where they were found.
func dedupe(pkgs []inventory.Package) []inventory.Package {
	seen := make(map[string]bool, len(pkgs))
	out := pkgs[:0]
	for _, p := range pkgs {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		out = append(out, p)
	}
	return out
}

// safeCatalog runs a cataloger, turning a panic into an error: a parser
// bug on one hostile file must not end the scan.
func safeCatalog(ctx context.Context, c Cataloger, f *image.File) (pkgs []inventory.Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs = nil
			err = fmt.Errorf("parser failed on this file (%v); please report it with the file attached: %s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	return c.Catalog(ctx, f)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

func sourceOf(img *image.Image) inventory.Source {
	s := inventory.Source{
		Type:        img.Kind,
		Name:        img.Name,
		Digest:      img.ManifestDigest,
		ImageID:     img.ConfigDigest,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		Platform:    img.Platform,
	}
	for _, l := range img.Layers {
		s.Layers = append(s.Layers, inventory.Layer{Digest: l.Digest, DiffID: l.DiffID, MediaType: l.MediaType, Size: l.Size, CreatedBy: l.CreatedBy})
	}
	return s
}

type warnings struct {
	mu      sync.Mutex
	msgs    []string
	dropped int
	max     int
	log     *slog.Logger
}

func (w *warnings) add(msg string) {
	// Each warning is in the inventory; the log only gets them at Info so
	// that a scan of a big tree does not flood the terminal. The CLI
	// prints a one-line summary instead.
	w.log.Info(msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.msgs) >= w.max {
		w.dropped++
		return
	}
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.msgs...)
	sort.Strings(out)
	if w.dropped > 0 {
		out = append(out, fmt.Sprintf("%d more warnings not shown", w.dropped))
	}
	return out
}

// ErrNoCatalogers is returned when a selection leaves nothing to run.
var ErrNoCatalogers = errors.New("no catalogers selected")
