package report

import (
	"crypto/sha1"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// The CycloneDX scan report is the SBOM of buildCycloneDX with a
// vulnerabilities section: one entry per vulnerability ID (split further
// when its findings were judged differently, since the analysis belongs to
// the entry), whose affects point at the components' bom-refs.

func writeCycloneDXReport(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	bom := buildCycloneDX(&r.Inventory, meta)
	vulns := cyclonedxVulnerabilities(r)
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	bom.SerialNumber = "urn:uuid:" + reportUUID(bom.SerialNumber, vulns)

	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	if db := r.DB; db != nil {
		if !db.BuiltAt.IsZero() {
			add("seawall:db:builtAt", db.BuiltAt.UTC().Format(time.RFC3339))
		}
		if db.Records > 0 {
			add("seawall:db:records", strconv.Itoa(db.Records))
		}
		for _, s := range db.Sources {
			add("seawall:db:source", s)
		}
	}
	for _, c := range r.NotCovered {
		add("seawall:notCovered", coverageText(c))
	}
	for _, n := range opts.Notices {
		add("seawall:notice", n)
	}
	if s := filterText(opts); s != "" {
		add("seawall:filters", s)
	}
	// CycloneDX's vulnerabilities are about components; secrets, malware
	// and misconfigurations are not, so they are counted here and left to
	// the JSON and SARIF reports.
	rv := newRiskView(r, opts)
	var left []string
	for _, g := range rv.groups {
		add("seawall:findings:"+g.kind, strconv.Itoa(g.active.total()))
		if n := g.active.total() + g.suppressed; n > 0 {
			left = append(left, kindNoun(g.kind, n))
		}
	}
	if len(left) > 0 {
		add("seawall:notice", "CycloneDX carries vulnerabilities only: "+strings.Join(left, ", ")+" are in the json and sarif reports")
	}
	bom.Metadata.Properties = nonEmpty(props)

	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	return enc.Encode(bom)
}

func cyclonedxVulnerabilities(r *inventory.Report) []cdx.Vulnerability {
	v := newVulnView(r)

	// Map package IDs (and, failing that, PURLs) to the components' refs.
	refs := make(map[string]string)
	byPURL := make(map[string]string)
	for _, p := range documentPackages(&r.Inventory) {
		if _, ok := refs[p.ID]; !ok {
			refs[p.ID] = p.Ref
		}
		if _, ok := byPURL[p.PURL]; !ok && p.PURL != "" {
			byPURL[p.PURL] = p.Ref
		}
	}

	type entry struct {
		findings []*inventory.Finding
		analysis *cdx.VulnerabilityAnalysis
	}
	var keys []string
	entries := make(map[string]*entry)
	for i := range v.findings {
		f := &v.findings[i]
		a := cyclonedxAnalysis(f)
		key := f.ID + "\x00" + analysisKey(a)
		e, ok := entries[key]
		if !ok {
			e = &entry{analysis: a}
			entries[key] = e
			keys = append(keys, key)
		}
		e.findings = append(e.findings, f)
	}
	slices.Sort(keys)

	out := make([]cdx.Vulnerability, 0, len(keys))
	seenRef := make(map[string]int)
	for _, key := range keys {
		e := entries[key]
		fs := e.findings
		worst := fs[0]
		for _, f := range fs[1:] {
			if f.Severity > worst.Severity || (f.Severity == worst.Severity && f.CVSSScore > worst.CVSSScore) {
				worst = f
			}
		}
		id := worst.ID
		bomRef := "seawall:vulnerability:" + id
		if n := seenRef[bomRef]; n > 0 {
			seenRef[bomRef]++
			bomRef += "-" + strconv.Itoa(n+1)
		} else {
			seenRef[bomRef] = 1
		}

		var affects []cdx.Affects
		var recs []string
		for _, f := range fs {
			ref, ok := refs[f.PackageID]
			if !ok {
				ref, ok = byPURL[f.PURL]
			}
			if ok && !slices.ContainsFunc(affects, func(a cdx.Affects) bool { return a.Ref == ref }) {
				affects = append(affects, cdx.Affects{Ref: ref})
			}
			rec := fmt.Sprintf("No fix is known for %s %s yet.", f.PackageName, f.InstalledVersion)
			if fix := fixedText(f); fix != "" {
				rec = fmt.Sprintf("Upgrade %s %s to %s.", f.PackageName, f.InstalledVersion, fix)
			}
			if !slices.Contains(recs, rec) {
				recs = append(recs, rec)
			}
		}

		vuln := cdx.Vulnerability{
			BOMRef:         bomRef,
			ID:             id,
			Source:         &cdx.Source{Name: "OSV", URL: osvURL(id)},
			References:     nonEmpty(cyclonedxReferences(worst)),
			Ratings:        nonEmpty(cyclonedxRatings(worst)),
			Description:    clean(titleText(worst)),
			Detail:         strings.TrimSpace(worst.Details),
			Recommendation: strings.Join(recs, " "),
			Advisories:     nonEmpty(cyclonedxAdvisories(worst)),
			Analysis:       e.analysis,
			Affects:        nonEmpty(affects),
			Properties:     nonEmpty(cyclonedxVulnProperties(worst)),
		}
		if !worst.Published.IsZero() {
			vuln.Published = worst.Published.UTC().Format(time.RFC3339)
		}
		if !worst.Modified.IsZero() {
			vuln.Updated = worst.Modified.UTC().Format(time.RFC3339)
		}
		out = append(out, vuln)
	}
	return out
}

func cyclonedxReferences(f *inventory.Finding) []cdx.VulnerabilityReference {
	var out []cdx.VulnerabilityReference
	for _, a := range f.Aliases {
		if a == "" || a == f.ID {
			continue
		}
		out = append(out, cdx.VulnerabilityReference{ID: a, Source: &cdx.Source{Name: "OSV", URL: osvURL(a)}})
	}
	return out
}

func cyclonedxRatings(f *inventory.Finding) []cdx.VulnerabilityRating {
	sev := cdx.Severity(strings.ToLower(clampSeverity(f.Severity).String()))
	if f.CVSSVector != "" && f.CVSSScore > 0 {
		score := f.CVSSScore
		return []cdx.VulnerabilityRating{{Score: &score, Severity: sev, Method: cvssMethod(f.CVSSVector), Vector: f.CVSSVector}}
	}
	if f.Severity == inventory.SeverityUnknown {
		return nil
	}
	return []cdx.VulnerabilityRating{{Severity: sev, Method: cdx.ScoringMethodOther, Justification: "severity given by the advisory (" + f.SeveritySource + ")"}}
}

// cvssMethod names the CVSS version of a vector.
func cvssMethod(vector string) cdx.ScoringMethod {
	switch {
	case strings.HasPrefix(vector, "CVSS:4."):
		return cdx.ScoringMethodCVSSv4
	case strings.HasPrefix(vector, "CVSS:3.1"):
		return cdx.ScoringMethodCVSSv31
	case strings.HasPrefix(vector, "CVSS:3."):
		return cdx.ScoringMethodCVSSv3
	case strings.HasPrefix(vector, "AV:"), strings.HasPrefix(vector, "(AV:"):
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

func cyclonedxAdvisories(f *inventory.Finding) []cdx.Advisory {
	var out []cdx.Advisory
	for _, u := range references(f) {
		out = append(out, cdx.Advisory{URL: u})
	}
	return out
}

func cyclonedxVulnProperties(f *inventory.Finding) []cdx.Property {
	var props []cdx.Property
	if f.SeveritySource != "" {
		props = append(props, cdx.Property{Name: "seawall:severitySource", Value: f.SeveritySource})
	}
	for _, a := range f.Advisories {
		props = append(props, cdx.Property{Name: "seawall:advisory", Value: a})
	}
	return props
}

// vexJustifications maps OpenVEX justifications to CycloneDX's, as the
// CISA "minimum requirements for VEX" mapping does.
var vexJustifications = map[string]cdx.ImpactAnalysisJustification{
	"component_not_present":                             cdx.IAJCodeNotPresent,
	"vulnerable_code_not_present":                       cdx.IAJCodeNotPresent,
	"vulnerable_code_not_in_execute_path":               cdx.IAJCodeNotReachable,
	"vulnerable_code_cannot_be_controlled_by_adversary": cdx.IAJRequiresEnvironment,
	"inline_mitigations_already_exist":                  cdx.IAJProtectedByMitigatingControl,
}

// cyclonedxAnalysis is the impact analysis a finding carries: a VEX
// not_affected, an accepted risk from the ignore file, a withdrawn
// advisory, or what a VEX document said without suppressing it.
func cyclonedxAnalysis(f *inventory.Finding) *cdx.VulnerabilityAnalysis {
	if s := f.Suppression; s != nil {
		switch s.Source {
		case inventory.SuppressedByVEX:
			a := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: vexJustifications[s.Justification]}
			a.Detail = strings.TrimSpace(strings.Join(nonBlank(s.Reason, suffix("OpenVEX justification: ", s.Justification), suffix("from ", s.By)), "; "))
			return a
		default:
			// Accepting a risk says nothing about whether the code is
			// affected, so no state is claimed: only that it will not be
			// fixed for now.
			detail := "accepted in " + s.By
			if s.Reason != "" {
				detail += ": " + s.Reason
			}
			if !s.Expires.IsZero() {
				detail += " (until " + s.Expires.UTC().Format("2006-01-02") + ")"
			}
			return &cdx.VulnerabilityAnalysis{Response: &[]cdx.ImpactAnalysisResponse{cdx.IARWillNotFix}, Detail: detail}
		}
	}
	if f.Status == inventory.StatusWithdrawn {
		return &cdx.VulnerabilityAnalysis{State: cdx.IASFalsePositive, Detail: "the advisory was withdrawn"}
	}
	if n := f.VEX; n != nil {
		a := &cdx.VulnerabilityAnalysis{Detail: strings.Join(nonBlank(n.Statement, suffix("from ", n.By)), "; ")}
		switch n.Status {
		case "affected":
			a.State = cdx.IASExploitable
		case "fixed":
			a.State = cdx.IASResolved
		case "under_investigation":
			a.State = cdx.IASInTriage
		default:
			return nil
		}
		return a
	}
	return nil
}

func nonBlank(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func analysisKey(a *cdx.VulnerabilityAnalysis) string {
	if a == nil {
		return ""
	}
	resp := ""
	if a.Response != nil {
		for _, r := range *a.Response {
			resp += string(r) + ","
		}
	}
	return string(a.State) + "\x00" + string(a.Justification) + "\x00" + resp + "\x00" + a.Detail
}

// reportUUID derives the scan report's serial number from the SBOM's and
// the vulnerabilities, so that the report and the SBOM of the same scan,
// which differ, never share one.
func reportUUID(sbomSerial string, vulns []cdx.Vulnerability) string {
	h := sha1.New() // a version 5 UUID, as documentUUID makes
	h.Write(seawallNamespace[:])
	fmt.Fprintf(h, "seawall-vulnerability-report\x00%s\x00", sbomSerial)
	for _, v := range vulns {
		fmt.Fprintf(h, "%s\x00%s\x00", v.BOMRef, analysisKey(v.Analysis))
		if v.Affects != nil {
			for _, a := range *v.Affects {
				fmt.Fprintf(h, "%s\x00", a.Ref)
			}
		}
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
