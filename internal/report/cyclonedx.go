package report

import (
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// cyclonedxSchema is the $schema of the documents writeCycloneDX produces.
const cyclonedxSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// Property names are prefixed "seawall:", as the CycloneDX property
// taxonomy asks of names it does not register.
const (
	propFoundBy       = "seawall:foundBy"
	propSourceName    = "seawall:sourceName"
	propSourceVersion = "seawall:sourceVersion"
	propDev           = "seawall:dev"
	propDirect        = "seawall:direct"
)

func writeCycloneDX(w io.Writer, inv *inventory.Inventory, meta Meta) error {
	bom := buildCycloneDX(inv, meta)
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	return enc.Encode(bom)
}

func buildCycloneDX(inv *inventory.Inventory, meta Meta) *cdx.BOM {
	pkgs := documentPackages(inv)
	subj := describeSubject(inv.Source)

	root := cdx.Component{
		BOMRef:     "seawall:subject",
		Type:       cdx.ComponentType(subj.kind),
		Name:       subj.name,
		Version:    subj.version,
		PackageURL: subj.purl,
		Properties: nonEmpty(sourceProperties(inv.Source)),
	}

	components := make([]cdx.Component, 0, len(pkgs)+1)
	var osRef string
	if d := inv.Distro; d != nil && d.ID != "" {
		osRef = "seawall:os:" + d.ID
		if d.VersionID != "" {
			osRef += ":" + d.VersionID
		}
		components = append(components, cdx.Component{
			BOMRef:      osRef,
			Type:        cdx.ComponentTypeOS,
			Name:        d.ID,
			Version:     d.VersionID,
			Description: d.PrettyName,
			Properties:  nonEmpty(distroProperties(d)),
		})
	}
	var rootDeps, osDeps []string
	if osRef != "" {
		rootDeps = append(rootDeps, osRef)
	}
	for _, p := range pkgs {
		components = append(components, cyclonedxComponent(p))
		if osRef != "" && isOSPackage(p.Package) {
			osDeps = append(osDeps, p.Ref)
		} else {
			rootDeps = append(rootDeps, p.Ref)
		}
	}

	// Seawall does not know which package needs which, so the graph only
	// says what the subject is made of: the OS and the packages outside it,
	// and the OS's own packages under it. Packages have no entry of their
	// own, which CycloneDX reads as "dependencies unknown".
	deps := []cdx.Dependency{{Ref: root.BOMRef, Dependencies: nonEmpty(rootDeps)}}
	if osRef != "" {
		deps = append(deps, cdx.Dependency{Ref: osRef, Dependencies: nonEmpty(osDeps)})
	}

	return &cdx.BOM{
		JSONSchema:   cyclonedxSchema,
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_6,
		SerialNumber: "urn:uuid:" + documentUUID(inv, pkgs, meta),
		Version:      1,
		Metadata: &cdx.Metadata{
			Timestamp: meta.Created.UTC().Format(time.RFC3339),
			Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
				Type:    cdx.ComponentTypeApplication,
				Name:    "seawall",
				Version: toolVersion(meta),
			}}},
			Component: &root,
		},
		Components:   &components,
		Dependencies: &deps,
	}
}

func cyclonedxComponent(p docPackage) cdx.Component {
	group, name := groupAndName(p.Package)
	typ := cdx.ComponentTypeLibrary
	if isApplication(p.Package) {
		typ = cdx.ComponentTypeApplication
	}
	c := cdx.Component{
		BOMRef:     p.Ref,
		Type:       typ,
		Group:      group,
		Name:       name,
		Version:    displayVersion(p.Package),
		PackageURL: p.PURL,
		Licenses:   cyclonedxLicenses(p.Licenses),
		Properties: nonEmpty(packageProperties(p.Package)),
	}
	if paths := locationPaths(p.Package); len(paths) > 0 {
		occ := make([]cdx.EvidenceOccurrence, len(paths))
		for i, path := range paths {
			occ[i] = cdx.EvidenceOccurrence{Location: path}
		}
		c.Evidence = &cdx.Evidence{Occurrences: &occ}
	}
	return c
}

// cyclonedxLicenses maps declared licenses to a CycloneDX license choice.
// A listed SPDX ID goes in license.id and free text in license.name; an
// expression must stand alone, so when there is one and every license is
// valid SPDX, they are joined with AND into a single expression.
func cyclonedxLicenses(raw []string) *cdx.Licenses {
	parsed := declaredLicenses(raw)
	if len(parsed) == 0 {
		return nil
	}
	hasExpr, allValid := false, true
	for _, l := range parsed {
		hasExpr = hasExpr || l.Kind == licenseExpression
		allValid = allValid && l.Kind != licenseName
	}
	if hasExpr && allValid {
		expr := parsed[0].Value
		if len(parsed) > 1 {
			parts := make([]string, len(parsed))
			for i, l := range parsed {
				parts[i] = l.Value
			}
			expr = joinAND(parts)
		}
		return &cdx.Licenses{{Expression: expr, Acknowledgement: ptr(cdx.LicenseAcknowledgementDeclared)}}
	}
	out := make(cdx.Licenses, 0, len(parsed))
	for _, l := range parsed {
		lic := &cdx.License{Acknowledgement: cdx.LicenseAcknowledgementDeclared}
		if l.Kind == licenseID {
			lic.ID = l.Value
		} else {
			lic.Name = l.Value
		}
		out = append(out, cdx.LicenseChoice{License: lic})
	}
	return &out
}

// joinAND joins valid SPDX expressions with AND, as one canonical expression.
func joinAND(exprs []string) string {
	s := "(" + strings.Join(exprs, ") AND (") + ")"
	if n, err := parseSPDXExpression(s); err == nil {
		return n.String()
	}
	return s // unreachable for valid parts, but still a valid expression
}

func packageProperties(p *inventory.Package) []cdx.Property {
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add(propFoundBy, p.FoundBy)
	add(propSourceName, p.SourceName)
	add(propSourceVersion, p.SourceVersion)
	if p.Dev {
		add(propDev, "true")
	}
	if p.Direct {
		add(propDirect, "true")
	}
	for i, l := range p.Locations {
		prefix := "seawall:location:" + strconv.Itoa(i) + ":"
		add(prefix+"path", l.Path)
		add(prefix+"layerDigest", l.LayerDigest)
		add(prefix+"layerDiffID", l.LayerDiffID)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Metadata)) {
		add("seawall:metadata:"+k, p.Metadata[k])
	}
	return props
}

func sourceProperties(src inventory.Source) []cdx.Property {
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add("seawall:source:type", src.Type)
	add("seawall:source:name", src.Name)
	add("seawall:image:id", src.ImageID)
	add("seawall:image:platform", src.Platform)
	for _, t := range src.RepoTags {
		add("seawall:image:repoTag", t)
	}
	for _, d := range src.RepoDigests {
		add("seawall:image:repoDigest", d)
	}
	for i, l := range src.Layers {
		prefix := "seawall:layer:" + strconv.Itoa(i) + ":"
		add(prefix+"digest", l.Digest)
		add(prefix+"diffID", l.DiffID)
	}
	return props
}

func distroProperties(d *inventory.Distro) []cdx.Property {
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add("seawall:distro:codename", d.Codename)
	add("seawall:distro:name", d.Name)
	for _, l := range d.IDLike {
		add("seawall:distro:idLike", l)
	}
	if d.Distroless {
		add("seawall:distro:distroless", "true")
	}
	add("seawall:distro:source", d.Source)
	return props
}

// nonEmpty returns a pointer to s, or nil when s is empty, so that the
// field is left out rather than written as [].
func nonEmpty[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}

func ptr[T any](v T) *T { return &v }
