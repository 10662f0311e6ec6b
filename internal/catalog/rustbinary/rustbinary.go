// Package rustbinary reads the crate list that cargo-auditable embeds in
// Rust executables: zlib-compressed JSON in a ".dep-v0" section of an
// ELF, PE or Mach-O file.
package rustbinary

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxSection bounds the compressed audit data. Real sections are a
	// few KiB; the limit only stops a hostile header from asking for more.
	maxSection = 4 << 20
	// maxJSON bounds the inflated audit data: a guard against zlib bombs.
	// cargo-auditable's own reader uses the same 8 MiB default.
	maxJSON = 8 << 20
)

// ErrTooLarge is returned for audit data over the size limits.
var ErrTooLarge = errors.New("cargo-auditable data too large")

// Section names: cargo-auditable's, then those of its predecessor rust-audit 0.1.
var (
	elfSections   = []string{".dep-v0", ".rust-deps-v0"}
	peSections    = []string{".dep-v0", "rdep-v0"}
	machoSections = []string{".dep-v0", "rust-deps-v0"}
)

// Cataloger reads cargo-auditable data from executables.
type Cataloger struct{}

// New returns a Rust binary cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "rustbinary" }

// Wants takes every executable file, plus ".exe" files, which carry no
// execute bit in Windows images.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && (mode&0o111 != 0 || strings.HasSuffix(p, ".exe"))
}

// Catalog looks at the file's first bytes and gives up on anything that
// is not an executable format before asking for random access, which on
// a compressed layer means buffering the whole file.
func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	head, err := f.Peek(4)
	if err != nil {
		return nil, err
	}
	if !isExecutable(head) {
		return nil, nil
	}
	ra, err := f.ReaderAt()
	if err != nil {
		return nil, err
	}
	return Read(ra)
}

func isExecutable(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")):
		return true
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa}) && (head[3] == 0xce || head[3] == 0xcf):
		return true
	case (head[0] == 0xce || head[0] == 0xcf) && bytes.Equal(head[1:4], []byte{0xfa, 0xed, 0xfe}):
		return true
	case bytes.Equal(head[:4], []byte{0xca, 0xfe, 0xba, 0xbe}):
		return true
	}
	return false
}

// Read returns the crates recorded in an executable's audit data. A file
// without audit data, or not an executable at all, yields nothing and no
// error; an error means the audit data is there but damaged.
func Read(r io.ReaderAt) ([]inventory.Package, error) {
	blobs, err := auditSections(r)
	if err != nil || len(blobs) == 0 {
		return nil, err
	}
	var pkgs []inventory.Package
	seen := map[string]bool{}
	for _, blob := range blobs { // one per architecture of a universal binary
		js, err := inflate(blob)
		if err != nil {
			return nil, err
		}
		ps, err := Parse(js)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			k := p.Name + "\x00" + p.Version + "\x00" + p.Metadata["source"]
			if !seen[k] {
				seen[k] = true
				pkgs = append(pkgs, p)
			}
		}
	}
	return pkgs, nil
}

// auditSections returns the raw audit data of each executable in r: one
// for a plain file, one per architecture that has it for a universal
// Mach-O file. Files that do not parse as executables have none.
func auditSections(r io.ReaderAt) ([][]byte, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, nil
	}
	switch {
	case string(magic[:]) == "\x7fELF":
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, nil
		}
		for _, name := range elfSections {
			if s := f.Section(name); s != nil {
				if s.Type == elf.SHT_NOBITS {
					return nil, fmt.Errorf("section %s holds no data", name)
				}
				return one(sectionData(name, s.Size, s.Data))
			}
		}
	case string(magic[:2]) == "MZ":
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, nil
		}
		for _, name := range peSections {
			if s := f.Section(name); s != nil {
				b, err := sectionData(name, uint64(s.Size), s.Data)
				// Raw data is padded to the file alignment; VirtualSize is the real length.
				if err == nil && s.VirtualSize > 0 && uint64(s.VirtualSize) < uint64(len(b)) {
					b = b[:s.VirtualSize]
				}
				return one(b, err)
			}
		}
	case magic == [4]byte{0xca, 0xfe, 0xba, 0xbe}:
		ff, err := macho.NewFatFile(r)
		if err != nil {
			return nil, nil
		}
		var out [][]byte
		for _, a := range ff.Arches {
			b, err := machoSection(a.File)
			if err != nil {
				return nil, fmt.Errorf("%s slice: %w", a.Cpu, err)
			}
			if b != nil {
				out = append(out, b)
			}
		}
		return out, nil
	default:
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, nil
		}
		return one(machoSection(f))
	}
	return nil, nil
}

func machoSection(f *macho.File) ([]byte, error) {
	for _, name := range machoSections {
		if s := f.Section(name); s != nil {
			return sectionData(name, s.Size, s.Data)
		}
	}
	return nil, nil
}

func one(b []byte, err error) ([][]byte, error) {
	if err != nil || b == nil {
		return nil, err
	}
	return [][]byte{b}, nil
}

// sectionData reads a section after checking the size its header claims.
func sectionData(name string, size uint64, data func() ([]byte, error)) ([]byte, error) {
	if size > maxSection {
		return nil, fmt.Errorf("section %s: %d bytes exceeds the %d-byte limit: %w", name, size, maxSection, ErrTooLarge)
	}
	b, err := data()
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", name, err)
	}
	return b, nil
}

// inflate decompresses zlib data, refusing output over maxJSON.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("audit data is not zlib-compressed: %w", err)
	}
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("decompress audit data: %w", err)
	}
	if len(js) > maxJSON {
		return nil, fmt.Errorf("audit data inflates past %d bytes: %w", maxJSON, ErrTooLarge)
	}
	return js, nil
}

// auditPackage is one entry of cargo-auditable's JSON
// (https://github.com/rust-secure-code/cargo-auditable, cargo-auditable.schema.json).
type auditPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Source  json.RawMessage `json:"source"`
	// Kind is "runtime" (the default when absent) or "build".
	Kind         string `json:"kind"`
	Dependencies []int  `json:"dependencies"`
	Root         bool   `json:"root"`
}

// Parse reads cargo-auditable's JSON. It reports runtime crates only:
// build dependencies (proc macros, build scripts and what they use) run
// at compile time and none of their code is in the executable, which is
// also what syft and trivy report. The root package, the crate the
// binary was built from, is reported like the others, as both peers do;
// its Metadata carries root "true", and every crate's "source" says
// where it came from ("crates.io", "local", "git", "registry"), so that a
// local crate can be told apart from a crates.io one of the same name.
// Crates the root depends on directly are marked Direct.
func Parse(b []byte) ([]inventory.Package, error) {
	var doc struct {
		Packages []auditPackage `json:"packages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("audit data JSON: %w", err)
	}
	direct := map[int]bool{}
	for _, p := range doc.Packages {
		if p.Root {
			for _, d := range p.Dependencies {
				direct[d] = true
			}
		}
	}
	var pkgs []inventory.Package
	for i, p := range doc.Packages {
		if p.Kind == "build" || p.Name == "" || p.Version == "" {
			continue
		}
		meta := map[string]string{}
		if src := sourceName(p.Source); src != "" {
			meta["source"] = src
		}
		if p.Root {
			meta["root"] = "true"
		}
		pkg := inventory.Package{Type: inventory.TypeCargo, Name: p.Name, Version: p.Version, Direct: direct[i] && !p.Root}
		if len(meta) > 0 {
			pkg.Metadata = meta
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs, nil
}

// sourceName reads a package source, which cargo-auditable writes as a
// string ("crates.io", "local", "git", "registry", or another name) and
// its JSON schema also allows as {"Other": "name"}.
func sourceName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Other string `json:"Other"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Other
	}
	return ""
}

var _ catalog.Cataloger = (*Cataloger)(nil)
