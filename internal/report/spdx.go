package report

import (
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	noAssertion = "NOASSERTION"
	// spdxNamespaceBase prefixes every documentNamespace. The URI names the
	// document; nothing is served there.
	spdxNamespaceBase = "https://seawall.dev/spdx/"
	// spdxTimeFormat is the only form SPDX 2.3 accepts: UTC, seconds, "Z".
	spdxTimeFormat = "2006-01-02T15:04:05Z"
)

// Primary package purposes, as the SPDX 2.3 JSON schema spells them.
const (
	purposeLibrary   = "LIBRARY"
	purposeApp       = "APPLICATION"
	purposeOS        = "OPERATING_SYSTEM"
	purposeContainer = "CONTAINER"
	purposeFile      = "FILE"
	purposeSource    = "SOURCE"
)

func writeSPDX(w io.Writer, inv *inventory.Inventory, meta Meta) error {
	return spdxjson.Write(buildSPDX(inv, meta), w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

func buildSPDX(inv *inventory.Inventory, meta Meta) *spdx.Document {
	pkgs := documentPackages(inv)
	subj := describeSubject(inv.Source)
	docName := inv.Source.Name
	if docName == "" {
		docName = subj.name
	}

	refs := &licenseRefs{texts: make(map[string]string)}
	rootID := common.ElementID("DocumentRoot-" + sanitizeID(subj.kind+"-"+subj.name))
	root := &spdx.Package{
		PackageName:             subj.name,
		PackageSPDXIdentifier:   rootID,
		PackageVersion:          subj.version,
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		FilesAnalyzed:           false,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   subjectPurpose(subj.kind),
	}
	if subj.purl != "" {
		root.PackageExternalReferences = []*spdx.PackageExternalReference{purlRef(subj.purl)}
	}

	packages := []*spdx.Package{root}
	rels := []*spdx.Relationship{{
		RefA:         common.MakeDocElementID("", "DOCUMENT"),
		RefB:         common.MakeDocElementID("", string(rootID)),
		Relationship: common.TypeRelationshipDescribe,
	}}
	contains := func(id common.ElementID) {
		rels = append(rels, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(rootID)),
			RefB:         common.MakeDocElementID("", string(id)),
			Relationship: common.TypeRelationshipContains,
		})
	}

	if d := inv.Distro; d != nil && d.ID != "" {
		osPkg := &spdx.Package{
			PackageName:             d.ID,
			PackageSPDXIdentifier:   common.ElementID("OperatingSystem-" + sanitizeID(d.ID+"-"+d.VersionID)),
			PackageVersion:          d.VersionID,
			PackageSupplier:         &common.Supplier{Supplier: noAssertion},
			PackageDownloadLocation: noAssertion,
			FilesAnalyzed:           false,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PackageDescription:      d.PrettyName,
			PrimaryPackagePurpose:   purposeOS,
		}
		packages = append(packages, osPkg)
		contains(osPkg.PackageSPDXIdentifier)
	}

	for _, p := range pkgs {
		sp := spdxPackage(p, refs)
		packages = append(packages, sp)
		contains(sp.PackageSPDXIdentifier)
	}

	return &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      docName,
		DocumentNamespace: spdxNamespace(docName, documentUUID(inv, pkgs, meta)),
		CreationInfo: &spdx.CreationInfo{
			LicenseListVersion: spdxListVersion,
			Creators: []common.Creator{
				{CreatorType: "Organization", Creator: "Seawall"},
				{CreatorType: "Tool", Creator: "seawall-" + toolVersion(meta)},
			},
			Created: meta.Created.UTC().Format(spdxTimeFormat),
		},
		Packages:      packages,
		OtherLicenses: refs.list(),
		Relationships: rels,
	}
}

func spdxPackage(p docPackage, refs *licenseRefs) *spdx.Package {
	sp := &spdx.Package{
		PackageName:             fullName(p.Package),
		PackageSPDXIdentifier:   common.ElementID("Package-" + sanitizeID(p.Type+"-"+fullName(p.Package)+"-"+p.Ref)),
		PackageVersion:          displayVersion(p.Package),
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		FilesAnalyzed:           false,
		PackageSourceInfo:       spdxSourceInfo(p.Package),
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  refs.declared(p.Licenses),
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   purposeLibrary,
	}
	if isApplication(p.Package) {
		sp.PrimaryPackagePurpose = purposeApp
	}
	if p.PURL != "" {
		sp.PackageExternalReferences = []*spdx.PackageExternalReference{purlRef(p.PURL)}
	}
	return sp
}

func purlRef(purl string) *spdx.PackageExternalReference {
	return &spdx.PackageExternalReference{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl}
}

// spdxSourceInfo says where the package was found and what it was built
// from: "built from source package openssl 3.0.11-1; found in
// /var/lib/dpkg/status (layer sha256:…)".
func spdxSourceInfo(p *inventory.Package) string {
	var parts []string
	if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != "" && p.SourceVersion != p.Version) {
		parts = append(parts, strings.TrimSpace("built from source package "+p.SourceName+" "+p.SourceVersion))
	}
	var locs []string
	for _, l := range p.Locations {
		if l.Path == "" {
			continue
		}
		s := l.Path
		if l.LayerDiffID != "" {
			s += " (layer " + l.LayerDiffID + ")"
		}
		if !slices.Contains(locs, s) {
			locs = append(locs, s)
		}
	}
	if len(locs) > 0 {
		parts = append(parts, "found in "+strings.Join(locs, ", "))
	}
	return strings.Join(parts, "; ")
}

func subjectPurpose(kind string) string {
	switch kind {
	case "container":
		return purposeContainer
	case "application":
		return purposeSource
	}
	return purposeFile
}

// spdxNamespace is https://seawall.dev/spdx/NAME-UUID, with NAME reduced to
// characters that need no escaping in a URI path.
func spdxNamespace(name, uuid string) string {
	n := strings.Trim(strings.Map(func(r rune) rune {
		if r == '_' || r < utf8.RuneSelf && isIDByte(byte(r)) {
			return r
		}
		return '-'
	}, name), "-.")
	if len(n) > 100 {
		n = n[:100]
	}
	if n == "" {
		n = "sbom"
	}
	return spdxNamespaceBase + n + "-" + uuid
}

// licenseRefs turns declared licenses into licenseDeclared values and
// collects the free-text licenses that need a LicenseRef of their own.
type licenseRefs struct {
	texts map[string]string // LicenseRef ID -> the text as declared
}

// declared returns a valid SPDX expression for the declared licenses, or
// NOASSERTION when there are none. Several licenses are joined with AND;
// text that is not an SPDX expression becomes a LicenseRef whose text goes
// in hasExtractedLicensingInfos.
func (r *licenseRefs) declared(raw []string) string {
	parsed := declaredLicenses(raw)
	if len(parsed) == 0 {
		return noAssertion
	}
	parts := make([]string, len(parsed))
	for i, l := range parsed {
		if l.Kind == licenseName {
			id := licenseRefFor(l.Value)
			r.define(id, l.Value)
			parts[i] = id
			continue
		}
		parts[i] = l.Value
		// SPDX wants every LicenseRef defined in the document, including
		// those a package declares itself; their text is not at hand, so
		// the declaration stands in for it.
		for _, ref := range licenseRefsIn(l.Value) {
			r.define(ref, l.Value)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return joinAND(parts)
}

// define records the text of a LicenseRef; the first text given wins.
func (r *licenseRefs) define(id, text string) {
	if _, ok := r.texts[id]; !ok {
		r.texts[id] = text
	}
}

// licenseRefsIn returns the LicenseRef- identifiers in a valid expression.
func licenseRefsIn(expr string) []string {
	var refs []string
	for _, tok := range tokenizeExpression(expr) {
		if isLicenseRef(tok) {
			refs = append(refs, tok)
		}
	}
	return refs
}

func (r *licenseRefs) list() []*spdx.OtherLicense {
	var out []*spdx.OtherLicense
	for _, id := range slices.Sorted(maps.Keys(r.texts)) {
		out = append(out, &spdx.OtherLicense{LicenseIdentifier: id, ExtractedText: r.texts[id], LicenseName: r.texts[id]})
	}
	return out
}
