// Package dpkg reads the Debian package database: var/lib/dpkg/status and,
// in distroless images, one file per package under var/lib/dpkg/status.d.
package dpkg

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxStatus bounds the status file: real ones are a few MB at most.
	maxStatus = 64 << 20
	// maxPackages bounds how many packages one file may yield, so that a
	// file of tiny paragraphs cannot turn into gigabytes of records. The
	// whole Debian archive has fewer than 100,000 binary packages per
	// architecture.
	maxPackages = 100_000
)

// controlSuffixes are the per-package files that distroless images keep
// beside the package records in status.d; they are not records.
var controlSuffixes = []string{
	".md5sums", ".conffiles", ".list", ".preinst", ".postinst", ".prerm", ".postrm",
	".triggers", ".shlibs", ".symbols", ".templates", ".config",
}

// Cataloger reads dpkg status files.
type Cataloger struct{}

// New returns a dpkg cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "dpkg" }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	if p == "/var/lib/dpkg/status" {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/var/lib/dpkg/status.d/")
	if !ok || rest == "" || strings.Contains(rest, "/") || strings.HasPrefix(rest, ".") {
		return false
	}
	for _, s := range controlSuffixes {
		if strings.HasSuffix(rest, s) {
			return false
		}
	}
	return true
}

func (c *Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxStatus)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads the paragraphs of a dpkg status file. Paragraphs without a
// valid Package or Version field are skipped; packages whose state says
// their files are gone ("config-files", "not-installed") are left out, as
// dpkg-query does for installed software. Packages that are half
// installed or unpacked are kept: their files are on disk.
func Parse(b []byte) ([]inventory.Package, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	var bad int
	// Size the result once: growing a slice of large records dominates
	// the cost on big files.
	pkgs := make([]inventory.Package, 0, min(bytes.Count(b, []byte("ackage:")), maxPackages))
	para := map[string]string{}
	var last string
	flush := func() {
		defer func() { clear(para); last = "" }()
		if len(para) == 0 {
			return
		}
		p, ok := fromParagraph(para)
		if !ok {
			bad++
			return
		}
		if p != nil {
			pkgs = append(pkgs, *p)
		}
	}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			flush()
			if len(pkgs) >= maxPackages {
				return pkgs, fmt.Errorf("more than %d packages; the rest were not read", maxPackages)
			}
		case line[0] == ' ' || line[0] == '\t':
			// Continuation of a multi-line field; only Description,
			// Conffiles and relationship fields use them, and none is needed.
			if last == "" {
				bad++
			}
		default:
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				bad++
				continue
			}
			last = strings.ToLower(string(bytes.TrimSpace(k)))
			if wanted[last] {
				para[last] = string(bytes.TrimSpace(v))
			} else {
				para[last] = ""
			}
		}
	}
	flush()
	if bad > 0 && len(pkgs) == 0 {
		return nil, fmt.Errorf("not a dpkg status file: %d malformed lines or paragraphs and no packages", bad)
	}
	return pkgs, nil
}

// wanted lists the fields whose values are kept; other fields are only
// noted as present, so a paragraph costs memory in proportion to what is used.
var wanted = map[string]bool{
	"package": true, "version": true, "status": true, "architecture": true,
	"source": true, "maintainer": true, "installed-size": true,
}

// fromParagraph turns one paragraph into a package. It returns nil, true
// for a package that is known but not installed, and false for a
// paragraph that is not a valid package record.
func fromParagraph(para map[string]string) (*inventory.Package, bool) {
	name, version := para["package"], para["version"]
	if !validName(name) || !validVersion(version) {
		return nil, false
	}
	if st := para["status"]; st != "" {
		words := strings.Fields(st)
		if len(words) == 3 && (words[2] == "config-files" || words[2] == "not-installed") {
			return nil, true
		}
	}
	p := &inventory.Package{
		Type:          inventory.TypeDeb,
		Name:          name,
		Version:       version,
		Arch:          para["architecture"],
		SourceName:    name,
		SourceVersion: version,
	}
	// "Source: glibc (2.36-9+deb12u7)" or just "Source: glibc". Without a
	// version the source version is the binary's, as dpkg-query's
	// ${source:Version} reports it.
	if src := para["source"]; src != "" {
		sname, sver, _ := strings.Cut(src, "(")
		if sname = strings.TrimSpace(sname); validName(sname) {
			p.SourceName = sname
		}
		if sver = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sver), ")")); validVersion(sver) {
			p.SourceVersion = sver
		}
	}
	meta := map[string]string{}
	for _, k := range []string{"maintainer", "installed-size"} {
		if v := para[k]; v != "" {
			meta[k] = v
		}
	}
	if len(meta) > 0 {
		p.Metadata = meta
	}
	return p, true
}

// validName applies dpkg's own check (pkg_name_is_illegal): an
// alphanumeric first character, then alphanumerics and "-+._".
func validName(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("-+._", rune(c)) {
			return false
		}
	}
	return true
}

// validVersion accepts what dpkg's parseversion accepts: an optional
// numeric epoch, then alphanumerics and ".+~-:" with no spaces.
func validVersion(s string) bool {
	if epoch, rest, ok := strings.Cut(s, ":"); ok {
		if epoch == "" || rest == "" {
			return false
		}
		for i := 0; i < len(epoch); i++ {
			if epoch[i] < '0' || epoch[i] > '9' {
				return false
			}
		}
		s = rest
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune(".+~-:", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

var _ catalog.Cataloger = (*Cataloger)(nil)
