package report

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// SBOMSchemaVersion is the version of Seawall's JSON SBOM document. It
// changes only when a field changes meaning or goes away.
const SBOMSchemaVersion = "1"

// SBOMDocument is Seawall's own JSON SBOM format, documented in
// docs/reference/sbom-json.md with a JSON Schema in docs/schema/.
type SBOMDocument struct {
	SchemaVersion string              `json:"schemaVersion"`
	Tool          Tool                `json:"tool"`
	CreatedAt     time.Time           `json:"createdAt"`
	Source        inventory.Source    `json:"source"`
	Distro        *inventory.Distro   `json:"distro,omitempty"`
	Packages      []inventory.Package `json:"packages"`
	Warnings      []string            `json:"warnings,omitempty"`
}

// Tool names the program that wrote a document.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func writeJSON(w io.Writer, inv *inventory.Inventory, meta Meta) error {
	doc := SBOMDocument{
		SchemaVersion: SBOMSchemaVersion,
		Tool:          Tool{Name: "seawall", Version: meta.ToolVersion},
		CreatedAt:     meta.Created,
		Source:        inv.Source,
		Distro:        inv.Distro,
		Packages:      inv.Packages,
		Warnings:      inv.Warnings,
	}
	if doc.Packages == nil {
		doc.Packages = []inventory.Package{}
	}
	// The schema promises arrays, never null: copy the packages only when
	// one of them lacks locations.
	for i := range doc.Packages {
		if doc.Packages[i].Locations == nil {
			doc.Packages = slices.Clone(doc.Packages)
			for j := i; j < len(doc.Packages); j++ {
				if doc.Packages[j].Locations == nil {
					doc.Packages[j].Locations = []inventory.Location{}
				}
			}
			break
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
