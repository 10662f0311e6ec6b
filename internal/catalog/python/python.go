// Package python reads installed Python distributions: the core metadata
// in *.dist-info/METADATA (wheels), *.egg-info/PKG-INFO and *.egg-info
// files (setuptools), and EGG-INFO/PKG-INFO inside eggs, unpacked or
// zipped. Lockfiles and requirements files are read by catalog/pylock.
package python

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxMetadata bounds one METADATA or PKG-INFO file. The long
	// description makes some of them a few hundred KB.
	maxMetadata = 16 << 20
	// maxEgg bounds a zipped egg, which is opened for random access.
	maxEgg = 64 << 20
	// maxLicense is the longest License field taken as a license name;
	// longer values are the license text pasted into the field.
	maxLicense = 128
)

// Cataloger reads installed Python package metadata.
type Cataloger struct{}

// New returns a Python cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "python" }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	dir, base := path.Split(p)
	dir = path.Base(dir)
	switch {
	case base == "METADATA":
		return hasSuffixFold(dir, ".dist-info")
	case base == "PKG-INFO":
		return hasSuffixFold(dir, ".egg-info") || dir == "EGG-INFO"
	}
	// A single-file egg-info (distutils, Debian's python packages) or a
	// zipped egg.
	return hasSuffixFold(base, ".egg-info") || hasSuffixFold(base, ".egg")
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func (c *Cataloger) Catalog(_ context.Context, f *image.File) ([]inventory.Package, error) {
	var b []byte
	if hasSuffixFold(f.Path, ".egg") {
		var err error
		if b, err = eggMetadata(f); err != nil {
			return nil, err
		}
	} else {
		var err error
		if b, err = f.ReadAll(maxMetadata); err != nil {
			return nil, err
		}
	}
	p, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return []inventory.Package{*p}, nil
}

// eggMetadata reads EGG-INFO/PKG-INFO from a zipped egg.
func eggMetadata(f *image.File) ([]byte, error) {
	if f.Size > maxEgg {
		return nil, fmt.Errorf("egg of %d bytes exceeds the %d-byte limit: %w", f.Size, maxEgg, image.ErrTooLarge)
	}
	ra, err := f.ReaderAt()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(ra, f.Size)
	if err != nil {
		return nil, fmt.Errorf("egg: %w", err)
	}
	for _, zf := range zr.File {
		if zf.Name != "EGG-INFO/PKG-INFO" {
			continue
		}
		if zf.UncompressedSize64 > maxMetadata {
			return nil, fmt.Errorf("egg: PKG-INFO of %d bytes exceeds the %d-byte limit", zf.UncompressedSize64, maxMetadata)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("egg: %w", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
		if err != nil {
			return nil, fmt.Errorf("egg: PKG-INFO: %w", err)
		}
		if len(b) > maxMetadata {
			return nil, fmt.Errorf("egg: PKG-INFO inflates past the %d-byte limit", maxMetadata)
		}
		return b, nil
	}
	return nil, fmt.Errorf("egg has no EGG-INFO/PKG-INFO")
}

// Parse reads core metadata (https://packaging.python.org/specs/core-metadata/):
// an email-style header block, then an optional body. Only the headers
// are read. Name and Version are kept as declared; the package URL
// normalises the name.
func Parse(b []byte) (*inventory.Package, error) {
	h := parseHeaders(b)
	name, version := h.first("name"), h.first("version")
	if name == "" || version == "" {
		return nil, fmt.Errorf("package metadata has no Name or no Version field")
	}
	return &inventory.Package{
		Type:     inventory.TypePyPI,
		Name:     name,
		Version:  version,
		Licenses: licenses(h),
	}, nil
}

// licenses prefers the SPDX License-Expression (PEP 639), then a short
// License field, then the "License ::" trove classifiers.
func licenses(h headers) []string {
	if e := h.first("license-expression"); e != "" {
		return []string{e}
	}
	if l := h.first("license"); l != "" && !strings.Contains(l, "\n") && len(l) <= maxLicense && !strings.EqualFold(l, "UNKNOWN") {
		return []string{l}
	}
	var out []string
	for _, c := range h["classifier"] {
		rest, ok := strings.CutPrefix(c, "License ::")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "::")
		last := strings.TrimSpace(parts[len(parts)-1])
		// "License :: OSI Approved" alone names no license.
		if last == "" || (len(parts) == 1 && last == "OSI Approved") {
			continue
		}
		out = append(out, last)
	}
	return out
}

// headers maps lower-cased field names to their values in order.
type headers map[string][]string

func (h headers) first(k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseHeaders reads the header block. Continuation lines (leading space
// or tab) extend the previous field. A line that is neither is skipped:
// real PKG-INFO files carry unindented continuation lines from broken
// tools, and the fields after them are still good.
func parseHeaders(b []byte) headers {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	h := headers{}
	var last string
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		s := strings.TrimRight(string(line), "\r")
		if s == "" {
			break // end of headers; a line of blanks is a continuation
		}
		if s[0] == ' ' || s[0] == '\t' {
			if vs := h[last]; last != "" && len(vs) > 0 {
				vs[len(vs)-1] += "\n" + strings.TrimSpace(s)
			}
			continue
		}
		k, v, ok := strings.Cut(s, ":")
		if !ok || strings.ContainsAny(k, " \t") {
			last = ""
			continue
		}
		last = strings.ToLower(k)
		h[last] = append(h[last], strings.TrimSpace(v))
	}
	return h
}

var _ catalog.Cataloger = (*Cataloger)(nil)
