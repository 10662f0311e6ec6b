// Package dpkg reads the Debian package database: var/lib/dpkg/status and,
// in distroless images, one file per package under var/lib/dpkg/status.d.
package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxStatus bounds the status file: real ones are a few MB at most.
const maxStatus = 256 << 20

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
	if rest, ok := strings.CutPrefix(p, "/var/lib/dpkg/status.d/"); ok {
		return rest != "" && !strings.Contains(rest, "/") && !strings.HasSuffix(rest, ".md5sums")
	}
	return false
}

func (c *Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxStatus)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads the paragraphs of a dpkg status file. Paragraphs without a
// Package or Version field are skipped; packages whose state says their
// files are gone ("config-files", "not-installed") are left out, as
// dpkg-query does for installed software.
func Parse(b []byte) ([]inventory.Package, error) {
	var (
		pkgs []inventory.Package
		bad  int
	)
	r := bufio.NewReaderSize(bytes.NewReader(b), 64<<10)
	para := map[string]string{}
	var last string
	flush := func() {
		defer func() { para = map[string]string{}; last = "" }()
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
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			line = strings.TrimRight(line, "\r\n")
			switch {
			case strings.TrimSpace(line) == "":
				flush()
			case line[0] == ' ' || line[0] == '\t':
				// Continuation of a multi-line field; only Description and
				// Conffiles use them, and neither is needed.
				if last == "" {
					bad++
				}
			default:
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					bad++
					continue
				}
				last = strings.ToLower(strings.TrimSpace(k))
				para[last] = strings.TrimSpace(v)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return pkgs, err
		}
	}
	flush()
	if bad > 0 && len(pkgs) == 0 {
		return nil, fmt.Errorf("not a dpkg status file: %d malformed lines or paragraphs and no packages", bad)
	}
	return pkgs, nil
}

// fromParagraph turns one paragraph into a package. It returns nil, true
// for a package that is known but not installed, and false for a
// paragraph that is not a package at all.
func fromParagraph(para map[string]string) (*inventory.Package, bool) {
	name, version := para["package"], para["version"]
	if name == "" || version == "" {
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
	if src := para["source"]; src != "" {
		// "Source: glibc (2.36-9+deb12u7)" or just "Source: glibc".
		sname, sver, _ := strings.Cut(src, "(")
		p.SourceName = strings.TrimSpace(sname)
		if sver = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sver), ")")); sver != "" {
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

var _ catalog.Cataloger = (*Cataloger)(nil)
