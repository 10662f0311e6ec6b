package report

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// ReportSchemaVersion is the version of Seawall's JSON scan report. It
// changes only when a field changes meaning or goes away.
const ReportSchemaVersion = "1"

// ReportDocument is Seawall's JSON scan report (seawall scan --format
// json), documented in docs/reference/report-json.md with a JSON Schema in
// docs/schema/report.schema.json.
type ReportDocument struct {
	SchemaVersion string               `json:"schemaVersion"`
	Tool          Tool                 `json:"tool"`
	CreatedAt     time.Time            `json:"createdAt"`
	Source        inventory.Source     `json:"source"`
	Distro        *inventory.Distro    `json:"distro,omitempty"`
	DB            *DBStatus            `json:"db,omitempty"`
	Summary       Summary              `json:"summary"`
	Filters       *Filters             `json:"filters,omitempty"`
	Kinds         []string             `json:"kinds,omitempty"`
	Findings      []inventory.Finding  `json:"findings"`
	NotCovered    []inventory.Coverage `json:"notCovered,omitempty"`
	Packages      []inventory.Package  `json:"packages"`
	Notices       []string             `json:"notices,omitempty"`
	Warnings      []string             `json:"warnings,omitempty"`
}

// DBStatus is the vulnerability database a report was made with, and its
// age when the report was written.
type DBStatus struct {
	inventory.DBInfo
	AgeSeconds int64 `json:"ageSeconds"`
}

// Summary counts the findings.
type Summary struct {
	// Active counts the findings that fail a gate, by severity.
	Active      SeverityCounts `json:"active"`
	ActiveTotal int            `json:"activeTotal"`
	Suppressed  int            `json:"suppressed"`
	Withdrawn   int            `json:"withdrawn"`
	// Packages counts the packages scanned; VulnerablePackages those with
	// at least one active finding.
	Packages           int `json:"packages"`
	VulnerablePackages int `json:"vulnerablePackages"`
	// ByKind breaks the counts down by kind of finding when the scan
	// looked for more than vulnerabilities.
	ByKind map[string]KindSummary `json:"byKind,omitempty"`
}

// KindSummary counts the findings of one kind.
type KindSummary struct {
	Active      SeverityCounts `json:"active"`
	ActiveTotal int            `json:"activeTotal"`
	Suppressed  int            `json:"suppressed"`
	Withdrawn   int            `json:"withdrawn,omitempty"`
}

// SeverityCounts counts findings by severity.
type SeverityCounts struct {
	Critical int `json:"CRITICAL"`
	High     int `json:"HIGH"`
	Medium   int `json:"MEDIUM"`
	Low      int `json:"LOW"`
	Unknown  int `json:"UNKNOWN"`
}

// Filters are the filters the findings went through.
type Filters struct {
	Severities    []inventory.Severity `json:"severities,omitempty"`
	IgnoreUnfixed bool                 `json:"ignoreUnfixed,omitempty"`
	// Filtered counts the findings the filters left out of the report.
	Filtered int `json:"filtered"`
}

func newReportDocument(r *inventory.Report, meta Meta, opts ReportOptions) *ReportDocument {
	v := newVulnView(r)
	rv := newRiskView(r, opts)
	doc := &ReportDocument{
		SchemaVersion: ReportSchemaVersion,
		Tool:          Tool{Name: "seawall", Version: meta.ToolVersion},
		CreatedAt:     meta.Created,
		Source:        r.Source,
		Distro:        r.Distro,
		Findings:      append(v.findings, rv.findings...),
		NotCovered:    r.NotCovered,
		Packages:      r.Packages,
		Notices:       opts.Notices,
		Warnings:      r.Warnings,
	}
	if r.DB != nil {
		doc.DB = &DBStatus{DBInfo: *r.DB}
		if !r.DB.BuiltAt.IsZero() {
			doc.DB.AgeSeconds = int64(meta.Created.Sub(r.DB.BuiltAt) / time.Second)
		}
	}
	all := v.tally
	for i, n := range rv.active {
		all.active[i] += n
	}
	all.suppressed += rv.suppressed
	all.withdrawn += rv.withdrawn
	doc.Summary = Summary{
		Active:      countsOf(&all.active),
		ActiveTotal: all.active.total(),
		Suppressed:  all.suppressed,
		Withdrawn:   all.withdrawn,
		Packages:    len(r.Packages),
	}
	if !opts.legacy() {
		doc.Kinds = opts.kinds()
		doc.Summary.ByKind = map[string]KindSummary{}
		if opts.looked(inventory.KindVulnerability) || len(v.findings) > 0 {
			doc.Summary.ByKind[inventory.KindVulnerability] = kindSummary(&v.tally)
		}
		for _, g := range rv.groups {
			doc.Summary.ByKind[g.kind] = kindSummary(&g.tally)
		}
	}
	vulnerable := make(map[string]bool)
	for i := range v.findings {
		if f := &v.findings[i]; f.Active() {
			vulnerable[f.PackageID+"\x00"+f.PackageName+"\x00"+f.InstalledVersion] = true
		}
	}
	doc.Summary.VulnerablePackages = len(vulnerable)
	if len(opts.Severities) > 0 || opts.IgnoreUnfixed || opts.Filtered > 0 {
		doc.Filters = &Filters{Severities: opts.Severities, IgnoreUnfixed: opts.IgnoreUnfixed, Filtered: opts.Filtered}
	}

	// The schema promises arrays, never null.
	if doc.Findings == nil {
		doc.Findings = []inventory.Finding{}
	}
	for i := range doc.Findings {
		if doc.Findings[i].Advisories == nil {
			doc.Findings[i].Advisories = []string{}
		}
	}
	if doc.Packages == nil {
		doc.Packages = []inventory.Package{}
	}
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
	return doc
}

func countsOf(c *severityCounts) SeverityCounts {
	return SeverityCounts{
		Critical: c[inventory.SeverityCritical], High: c[inventory.SeverityHigh], Medium: c[inventory.SeverityMedium],
		Low: c[inventory.SeverityLow], Unknown: c[inventory.SeverityUnknown],
	}
}

func kindSummary(t *tally) KindSummary {
	return KindSummary{Active: countsOf(&t.active), ActiveTotal: t.active.total(), Suppressed: t.suppressed, Withdrawn: t.withdrawn}
}

func writeReportJSON(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(newReportDocument(r, meta, opts))
}
