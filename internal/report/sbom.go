// Package report renders inventories and findings in the formats users and
// their tools read: Seawall's own JSON, tables, CycloneDX and SPDX, and for
// scan reports also SARIF, JUnit XML and Markdown.
package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// SBOM formats.
const (
	FormatJSON      = "json"
	FormatTable     = "table"
	FormatCycloneDX = "cyclonedx" // CycloneDX 1.6 JSON
	FormatSPDX      = "spdx"      // SPDX 2.3 JSON
)

// SBOMFormats lists what `seawall sbom --format` accepts. CycloneDX and
// SPDX are also accepted with a "-json" suffix, as syft and trivy spell them.
var SBOMFormats = []string{FormatTable, FormatJSON, FormatCycloneDX, FormatSPDX}

// Meta is what a document says about its own making.
type Meta struct {
	ToolVersion string
	// Created is the document's timestamp. It comes from SOURCE_DATE_EPOCH
	// when that is set, so that two runs can produce identical bytes.
	Created time.Time
}

// NewMeta returns Meta for now, or for SOURCE_DATE_EPOCH when it is set.
func NewMeta(version string) (Meta, error) {
	m := Meta{ToolVersion: version, Created: time.Now().UTC().Truncate(time.Second)}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return m, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		m.Created = time.Unix(n, 0).UTC()
	}
	return m, nil
}

// WriteSBOM renders inv in the named format.
func WriteSBOM(w io.Writer, format string, inv *inventory.Inventory, meta Meta) error {
	switch strings.ToLower(format) {
	case FormatJSON:
		return writeJSON(w, inv, meta)
	case FormatTable:
		return writeTable(w, inv)
	case FormatCycloneDX, FormatCycloneDX + "-json":
		return writeCycloneDX(w, inv, meta)
	case FormatSPDX, FormatSPDX + "-json":
		return writeSPDX(w, inv, meta)
	}
	return fmt.Errorf("unknown format %q: choose one of %s", format, strings.Join(SBOMFormats, ", "))
}
