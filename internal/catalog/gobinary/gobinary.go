// Package gobinary reads the build information that the Go toolchain
// embeds in executables (ELF, Mach-O, PE): the main module, every module
// dependency, and the toolchain itself, which OSV calls "stdlib".
package gobinary

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// Cataloger reads Go build information from executables.
type Cataloger struct{}

// New returns a Go binary cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "gobinary" }

// Wants takes every executable file, plus ".exe" files, which carry no
// execute bit in Windows images. Shared libraries are left out: Go
// c-shared libraries and plugins are rare, and libraries without an
// execute bit are many.
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

// isExecutable reports whether head starts with the magic number of an
// ELF, PE or Mach-O (thin or universal) file.
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
	case bytes.Equal(head[:4], []byte{0xca, 0xfe, 0xba, 0xbe}): // universal; Java classes share it and fail later
		return true
	}
	return false
}

// Read returns the packages recorded in a Go executable's build
// information. A file that is not a Go executable yields nothing and no
// error; an error means the build information is there but damaged.
func Read(r io.ReaderAt) ([]inventory.Package, error) {
	if !mayBeGo(r) {
		return nil, nil
	}
	bi, err := buildinfo.Read(r)
	if err != nil {
		if notGo(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("go build info: %w", err)
	}
	return fromBuildInfo(bi), nil
}

// mayBeGo rules out ELF files whose section table lacks ".go.buildinfo",
// which every Go toolchain since 1.13 (the first whose build information
// can be read) writes, also when linking externally or stripping
// symbols. Without it buildinfo.Read would scan the whole first data
// segment of every C binary for the magic. Files with no section table
// at all (sstrip) still get the full search.
func mayBeGo(r io.ReaderAt) bool {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "\x7fELF" {
		return true
	}
	ef, err := elf.NewFile(r)
	if err != nil {
		return false // buildinfo.Read would reject it as an unrecognised format too
	}
	return len(ef.Sections) == 0 || ef.Section(".go.buildinfo") != nil
}

// notGo reports whether err from buildinfo.Read means "not a Go
// executable" rather than "damaged Go executable". The standard library
// does not export these errors, so their text is compared.
func notGo(err error) bool {
	s := err.Error()
	return strings.HasSuffix(s, "not a Go executable") || strings.HasSuffix(s, "unrecognized file format")
}

// fromBuildInfo turns build information into packages. The main module
// is reported only when it has a real version: "go build" in a checkout
// stamps "(devel)" (before Go 1.24, or without VCS tags), which no
// advisory can match, so such a main module is only named in Metadata.
// Dependencies replaced by a local directory have no version and are
// left out for the same reason.
func fromBuildInfo(bi *debug.BuildInfo) []inventory.Package {
	meta := map[string]string{}
	if bi.GoVersion != "" {
		meta["goVersion"] = bi.GoVersion
	}
	if bi.Main.Path != "" {
		meta["mainModule"] = bi.Main.Path
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS", "GOARCH", "-buildmode", "vcs.revision":
			if s.Value != "" {
				meta[s.Key] = s.Value
			}
		}
	}
	newPkg := func(name, version string) inventory.Package {
		m := make(map[string]string, len(meta)+1)
		for k, v := range meta {
			m[k] = v
		}
		return inventory.Package{Type: inventory.TypeGolang, Name: name, Version: version, Metadata: m}
	}

	pkgs := make([]inventory.Package, 0, len(bi.Deps)+2)
	if v := stdlibVersion(bi.GoVersion); v != "" {
		pkgs = append(pkgs, newPkg("stdlib", v))
	}
	if versioned(bi.Main.Version) && bi.Main.Path != "" {
		pkgs = append(pkgs, newPkg(bi.Main.Path, bi.Main.Version))
	}
	for _, dep := range bi.Deps {
		if dep == nil || dep.Path == "" {
			continue // old toolchains listed the main module this way
		}
		mod := dep
		if dep.Replace != nil {
			mod = dep.Replace
		}
		if mod.Path == "" || !versioned(mod.Version) {
			continue
		}
		p := newPkg(mod.Path, mod.Version)
		if mod != dep {
			orig := dep.Path
			if dep.Version != "" {
				orig += "@" + dep.Version
			}
			p.Metadata["replaces"] = orig
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func versioned(v string) bool { return v != "" && v != "(devel)" }

// stdlibVersion turns the toolchain's version into the semantic version
// that OSV uses for the "stdlib" package, as the Go vulnerability
// database does: "go1.22.1" → "1.22.1", "go1.20" → "1.20.0",
// "go1.21rc2" → "1.21.0-rc.2". GOEXPERIMENT suffixes (" X:boringcrypto")
// and vendor suffixes ("-bigcorp") are dropped. It returns "" for
// development toolchains ("devel go1.23-…", "go1.25-20250209-RC00"),
// which match no release.
func stdlibVersion(goVersion string) string {
	v, _, _ := strings.Cut(goVersion, " ")
	v, ok := strings.CutPrefix(v, "go")
	if !ok {
		return ""
	}
	// Release numbers: major.minor[.patch].
	var nums []string
	for len(nums) < 3 {
		i := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == 0 {
			return ""
		}
		nums = append(nums, v[:i])
		v = v[i:]
		if !strings.HasPrefix(v, ".") {
			break
		}
		v = v[1:]
	}
	if len(nums) < 2 {
		return ""
	}
	twoPart := len(nums) == 2
	if twoPart {
		nums = append(nums, "0")
	}
	out := strings.Join(nums, ".")
	prerelease := false
	for _, pre := range []string{"rc", "beta"} {
		if rest, ok := strings.CutPrefix(v, pre); ok {
			i := 0
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			if i == 0 {
				return ""
			}
			out += "-" + pre + "." + rest[:i]
			v = rest[i:]
			prerelease = true
			break
		}
	}
	if v != "" && v[0] != '-' && v[0] != '+' {
		return ""
	}
	// Since Go 1.21 every release has three parts ("go1.21.0"); a bare
	// "go1.25-…" is a toolchain built between releases.
	if minor, _ := strconv.Atoi(nums[1]); twoPart && !prerelease && (nums[0] != "1" || minor >= 21) {
		return ""
	}
	return out
}

var _ catalog.Cataloger = (*Cataloger)(nil)
