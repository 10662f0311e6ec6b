// Package conda reads the packages installed in conda environments: the
// record conda keeps for each in the environment's conda-meta directory.
package conda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxRecord bounds one conda-meta record. It lists every file of the
// package, so records of large packages reach several MB.
const maxRecord = 64 << 20

// Cataloger reads conda-meta records.
type Cataloger struct{}

// New returns a conda cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "conda" }

// Wants accepts "<env>/conda-meta/<name>-<version>-<build>.json".
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() || !strings.HasSuffix(p, ".json") {
		return false
	}
	dir, base := path.Split(p)
	return strings.HasSuffix(dir, "/conda-meta/") && !strings.HasPrefix(base, ".")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxRecord)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

type record struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license"`
}

// Parse reads one conda-meta record: the package's name, version and
// licence. The build string and channel are not kept: conda package URLs
// may carry them, but no advisory database tells builds apart.
func Parse(b []byte) ([]inventory.Package, error) {
	var r record
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &r); err != nil {
		return nil, fmt.Errorf("not a conda-meta record: %w", err)
	}
	name, version := strings.TrimSpace(r.Name), strings.TrimSpace(r.Version)
	if !ValidName(name) || !ValidVersion(version) {
		return nil, fmt.Errorf("not a conda-meta record: no valid name and version")
	}
	p := inventory.Package{Type: inventory.TypeConda, Name: name, Version: version}
	if l := strings.TrimSpace(r.License); l != "" && len(l) <= 1024 {
		p.Licenses = []string{l}
	}
	return []inventory.Package{p}, nil
}

// ValidName checks a conda package name: lower-case letters, digits and
// "-", "_", ".".
func ValidName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.", c) >= 0) {
			return false
		}
	}
	return true
}

// ValidVersion checks a conda version: letters, digits, ".", "_", "+"
// and "!" (epochs), with no operators or wildcards.
func ValidVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._+!", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
