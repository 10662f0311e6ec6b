package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// SARIF 2.1.0 as GitHub code scanning reads it. The types cover the part
// of the format Seawall writes; tests validate the output against the
// OASIS schema.
const (
	sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion   = "2.1.0"
	// toolInformationURI is where a reader of an alert finds out what
	// Seawall is.
	toolInformationURI = "https://github.com/seawall-dev/seawall"
	// fingerprintKey names Seawall's partial fingerprint. The /v1 changes
	// if what goes into the fingerprint ever does.
	fingerprintKey = "seawallFinding/v1"
	// maxSARIFText bounds a rule's description and help: GitHub shows them
	// on every alert page, and advisories can be long.
	maxSARIFText = 4000
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	HelpURI              string             `json:"helpUri,omitempty"`
	Help                 sarifMessage       `json:"help"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is the score GitHub ranks security alerts by.
	SecuritySeverity string `json:"security-severity,omitempty"`
	Precision        string `json:"precision"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// sarifLevel maps a severity to a result level: GitHub shows "error" as
// an error, "warning" as a warning and "note" as a note.
func sarifLevel(s inventory.Severity) string {
	switch s {
	case inventory.SeverityCritical, inventory.SeverityHigh:
		return "error"
	case inventory.SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the number GitHub turns into its severity: over 9.0
// critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low. The CVSS
// score is used when it agrees with the finding's severity; otherwise
// (the severity came from the advisory, or the score is missing) a score
// in the middle of the severity's band is.
func securitySeverity(f *inventory.Finding) string {
	band := func(score float64) inventory.Severity {
		switch {
		case score >= 9.0:
			return inventory.SeverityCritical
		case score >= 7.0:
			return inventory.SeverityHigh
		case score >= 4.0:
			return inventory.SeverityMedium
		case score > 0:
			return inventory.SeverityLow
		}
		return inventory.SeverityUnknown
	}
	if f.CVSSScore > 0 && f.CVSSScore <= 10 && band(f.CVSSScore) == f.Severity {
		return strconv.FormatFloat(f.CVSSScore, 'f', 1, 64)
	}
	switch f.Severity {
	case inventory.SeverityCritical:
		return "9.5"
	case inventory.SeverityHigh:
		return "8.0"
	case inventory.SeverityMedium:
		return "5.5"
	case inventory.SeverityLow:
		return "2.0"
	}
	return ""
}

// sarifURI turns a path in the scanned tree into the relative URI GitHub
// expects: no leading slash, each segment percent-encoded.
func sarifURI(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return ""
	}
	u := (&url.URL{Path: p}).EscapedPath()
	// A colon in the first segment would read as a URI scheme.
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		u = "./" + u
	}
	return u
}

// fingerprint identifies a finding across scans: the vulnerability, the
// package and where it is, but not its version or layer, so that an alert
// stays one alert while the package is upgraded and still vulnerable.
func fingerprint(f *inventory.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.ID, f.PackageType, f.PackageName, f.Location.Path} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func writeSARIF(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	v := newVulnView(r)

	// One rule per vulnerability ID, in ID order; the results refer to it
	// by index. Suppressed and withdrawn findings are left out: GitHub
	// does not honour SARIF suppressions and would open an alert for each.
	byID := make(map[string][]*inventory.Finding)
	var ids []string
	for i := range v.findings {
		f := &v.findings[i]
		if !f.Active() {
			continue
		}
		if _, ok := byID[f.ID]; !ok {
			ids = append(ids, f.ID)
		}
		byID[f.ID] = append(byID[f.ID], f)
	}
	slices.Sort(ids)
	rules := make([]sarifRule, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		rules[i] = sarifRuleFor(id, byID[id])
		index[id] = i
	}

	fallbackURI := sarifURI(describeSubject(r.Source).name)
	if fallbackURI == "" {
		fallbackURI = "unknown"
	}
	results := make([]sarifResult, 0, len(v.findings))
	for i := range v.findings {
		f := &v.findings[i]
		if !f.Active() {
			continue
		}
		uri := sarifURI(f.Location.Path)
		if uri == "" {
			uri = fallbackURI
		}
		props := map[string]any{
			"packageName":      f.PackageName,
			"packageType":      f.PackageType,
			"installedVersion": f.InstalledVersion,
			"status":           f.Status,
		}
		if f.PURL != "" {
			props["purl"] = f.PURL
		}
		if len(f.FixedVersions) > 0 {
			props["fixedVersions"] = f.FixedVersions
		}
		if f.Location.LayerDiffID != "" {
			props["layerDiffID"] = f.Location.LayerDiffID
			props["layerIndex"] = f.Location.LayerIndex
		}
		results = append(results, sarifResult{
			RuleID:              f.ID,
			RuleIndex:           index[f.ID],
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: sarifResultMessage(f, r.Source)},
			Locations:           []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri}, Region: sarifRegion{StartLine: 1}}}},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f)},
			Properties:          props,
		})
	}

	var notes []sarifNotification
	note := func(level, text string) {
		notes = append(notes, sarifNotification{Level: level, Message: sarifText{Text: text}})
	}
	note("note", upperFirst(dbText(r.DB, meta))+".")
	for _, c := range r.NotCovered {
		note("warning", "Not checked: "+coverageText(c)+".")
	}
	for _, n := range opts.Notices {
		note("warning", n)
	}
	if v.suppressed > 0 {
		note("note", plural(v.suppressed, "suppressed finding")+" left out (see --format json).")
	}

	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "Seawall",
			Version:        toolVersion(meta),
			InformationURI: toolInformationURI,
			Rules:          rules,
		}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true, ToolExecutionNotifications: notes}},
		Results:     results,
		Properties:  sarifRunProperties(r),
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: sarifVersion, Runs: []sarifRun{run}})
}

func sarifRunProperties(r *inventory.Report) map[string]any {
	p := map[string]any{}
	add := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	add("sourceType", r.Source.Type)
	add("sourceName", r.Source.Name)
	add("imageDigest", r.Source.Digest)
	add("imageID", r.Source.ImageID)
	if len(r.Source.RepoDigests) > 0 {
		p["repoDigests"] = r.Source.RepoDigests
	}
	if r.Distro != nil {
		add("distro", distroLabel(r.Distro))
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// sarifRuleFor describes one vulnerability, from the findings that have
// its ID: the most severe decides the level.
func sarifRuleFor(id string, fs []*inventory.Finding) sarifRule {
	worst := fs[0]
	for _, f := range fs[1:] {
		if f.Severity > worst.Severity || (f.Severity == worst.Severity && f.CVSSScore > worst.CVSSScore) {
			worst = f
		}
	}
	title := clean(titleText(worst))
	short := id
	if title != "" {
		short = id + ": " + title
	}
	full := strings.TrimSpace(worst.Details)
	if full == "" {
		full = short
	}
	tags := []string{"security", "vulnerability", strings.ToLower(clampSeverity(worst.Severity).String())}
	var types []string
	for _, f := range fs {
		if f.PackageType != "" && !slices.Contains(types, f.PackageType) {
			types = append(types, f.PackageType)
		}
	}
	slices.Sort(types)
	tags = append(tags, types[:min(len(types), 5)]...)
	return sarifRule{
		ID:                   id,
		Name:                 sarifRuleName(fs[0]),
		ShortDescription:     sarifText{Text: truncate(short, 300)},
		FullDescription:      sarifText{Text: truncate(full, maxSARIFText)},
		HelpURI:              osvURL(id),
		Help:                 sarifMessage{Text: truncate(sarifHelpText(id, worst, fs), maxSARIFText), Markdown: truncate(sarifHelpMarkdown(id, worst, fs), maxSARIFText)},
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(worst.Severity)},
		Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: securitySeverity(worst), Precision: "very-high"},
	}
}

// sarifRuleName is the rule's kind, as trivy names it: the same ID can be
// an OS or a language package vulnerability.
func sarifRuleName(f *inventory.Finding) string {
	switch f.PackageType {
	case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		return "OsPackageVulnerability"
	}
	return "LanguageSpecificPackageVulnerability"
}

func sarifResultMessage(f *inventory.Finding, src inventory.Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is affected by %s, severity %s", f.PackageName, f.InstalledVersion, f.ID, severityText(f))
	if t := clean(titleText(f)); t != "" {
		fmt.Fprintf(&b, ": %s", truncate(t, 200))
	}
	b.WriteString(".")
	switch {
	case len(f.FixedVersions) > 0:
		fmt.Fprintf(&b, " Fixed in %s.", fixedText(f))
	case f.Status == inventory.StatusUnfixed:
		b.WriteString(" No fix is known yet.")
	}
	if f.Location.Path != "" {
		fmt.Fprintf(&b, " Found in %s", f.Location.Path)
		if l := f.Location.LayerIndex; f.Location.LayerDiffID != "" && l >= 0 && l < len(src.Layers) {
			fmt.Fprintf(&b, ", layer %d", l)
			if c := clean(src.Layers[l].CreatedBy); c != "" {
				fmt.Fprintf(&b, " (%s)", truncate(c, 80))
			}
		}
		b.WriteString(".")
	}
	return clean(b.String())
}

func sarifHelpText(id string, worst *inventory.Finding, fs []*inventory.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Vulnerability %s", id)
	if len(worst.Aliases) > 0 {
		fmt.Fprintf(&b, " (also %s)", strings.Join(worst.Aliases, ", "))
	}
	fmt.Fprintf(&b, "\nSeverity: %s\n", severityText(worst))
	if worst.CVSSVector != "" {
		fmt.Fprintf(&b, "CVSS vector: %s\n", worst.CVSSVector)
	}
	for _, f := range fs {
		fix := fixedText(f)
		if fix == "" {
			fix = "no fix known"
		}
		fmt.Fprintf(&b, "Package: %s %s (%s), fixed in: %s\n", f.PackageName, f.InstalledVersion, f.PackageType, fix)
	}
	if refs := references(worst); len(refs) > 0 {
		b.WriteString("References:\n")
		for _, u := range refs {
			fmt.Fprintf(&b, "- %s\n", u)
		}
	}
	return b.String()
}

func sarifHelpMarkdown(id string, worst *inventory.Finding, fs []*inventory.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Vulnerability [%s](%s)**", mdText(id), osvURL(id))
	if len(worst.Aliases) > 0 {
		fmt.Fprintf(&b, " (also %s)", mdText(strings.Join(worst.Aliases, ", ")))
	}
	fmt.Fprintf(&b, "\n\nSeverity: **%s**", mdText(severityText(worst)))
	if worst.CVSSVector != "" {
		fmt.Fprintf(&b, ", `%s`", strings.ReplaceAll(worst.CVSSVector, "`", ""))
	}
	b.WriteString("\n\n| Package | Installed | Fixed | Status |\n|---|---|---|---|\n")
	for _, f := range fs {
		fix := fixedText(f)
		if fix == "" {
			fix = "no fix known"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(f.PackageName), mdCell(f.InstalledVersion), mdCell(fix), mdCell(f.Status))
	}
	if refs := references(worst); len(refs) > 0 {
		b.WriteString("\nReferences:\n")
		for _, u := range refs[:min(len(refs), 10)] {
			fmt.Fprintf(&b, "- <%s>\n", u)
		}
	}
	return b.String()
}

// references returns the finding's reference URLs that are absolute
// http(s) URLs: advisory data is not trusted to be well-formed.
func references(f *inventory.Finding) []string {
	var out []string
	for _, ref := range f.References {
		u, err := url.Parse(strings.TrimSpace(ref))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		s := u.String()
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
