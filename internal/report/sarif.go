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
	// Controls are the benchmark recommendations a check implements
	// ("CIS Docker 4.1").
	Controls []string `json:"controls,omitempty"`
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
	rv := newRiskView(r, opts)
	all := append(slices.Clip(v.findings), rv.findings...)

	// One rule per finding ID, in ID order; the results refer to it by
	// index. Suppressed and withdrawn findings are left out: GitHub does
	// not honour SARIF suppressions and would open an alert for each.
	byID := make(map[string][]*inventory.Finding)
	var ids []string
	for i := range all {
		f := &all[i]
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
		if isVuln(byID[id][0]) {
			rules[i] = sarifRuleFor(id, byID[id])
		} else {
			rules[i] = sarifRiskRule(id, byID[id])
		}
		index[id] = i
	}

	fallbackURI := sarifURI(describeSubject(r.Source).name)
	if fallbackURI == "" {
		fallbackURI = "unknown"
	}
	results := make([]sarifResult, 0, len(all))
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
	for i := range rv.findings {
		f := &rv.findings[i]
		if !f.Active() {
			continue
		}
		uri := ""
		if !pseudoPath(f.Location.Path) {
			uri = sarifURI(f.Location.Path)
		}
		if uri == "" {
			uri = fallbackURI
		}
		props := map[string]any{"kind": f.Kind}
		if f.Location.LayerDiffID != "" {
			props["layerDiffID"] = f.Location.LayerDiffID
			props["layerIndex"] = f.Location.LayerIndex
		}
		if f.Hidden {
			props["hidden"] = true
		}
		if pseudoPath(f.Location.Path) {
			props["where"] = f.Location.Path
		}
		if len(f.Controls) > 0 {
			props["controls"] = f.Controls
		}
		results = append(results, sarifResult{
			RuleID:              f.ID,
			RuleIndex:           index[f.ID],
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: sarifRiskMessage(f, r.Source)},
			Locations:           []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri}, Region: sarifRegion{StartLine: max(f.Line, 1)}}}},
			PartialFingerprints: map[string]string{fingerprintKey: riskFingerprint(f)},
			Properties:          props,
		})
	}

	var notes []sarifNotification
	note := func(level, text string) {
		notes = append(notes, sarifNotification{Level: level, Message: sarifText{Text: text}})
	}
	if opts.looked(inventory.KindVulnerability) {
		note("note", upperFirst(dbText(r.DB, meta))+".")
	}
	for _, c := range r.NotCovered {
		note("warning", "Not checked: "+coverageText(c)+".")
	}
	for _, n := range opts.Notices {
		note("warning", n)
	}
	if n := v.suppressed + rv.suppressed; n > 0 {
		note("note", plural(n, "suppressed finding")+" left out (see --format json).")
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

// pseudoPath reports whether a location names a part of the image rather
// than a file.
func pseudoPath(p string) bool {
	return strings.HasPrefix(p, inventory.PathImageConfig) || strings.HasPrefix(p, inventory.PathImageHistory)
}

// riskFingerprint identifies a secret, malware or misconfiguration finding
// across scans: what was found and where, but not the layer, so that the
// alert stays one alert while the image is rebuilt.
func riskFingerprint(f *inventory.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.ID, f.Kind, f.Location.Path, strconv.Itoa(f.Line), f.Snippet} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sarifRiskRule describes a secret rule, malware detection or
// configuration check, from the findings that have its ID.
func sarifRiskRule(id string, fs []*inventory.Finding) sarifRule {
	worst := fs[0]
	for _, f := range fs[1:] {
		if f.Severity > worst.Severity {
			worst = f
		}
	}
	title := clean(worst.Title)
	short := id
	if title != "" {
		short = id + ": " + title
	}
	desc := ruleDescription(worst)
	if desc == "" {
		desc = short
	}
	tags := []string{"security", worst.Kind, strings.ToLower(clampSeverity(worst.Severity).String())}
	tags = append(tags, worst.Controls...)
	helpURI := ""
	if refs := references(worst); len(refs) > 0 {
		helpURI = refs[0]
	}
	name := "Misconfiguration"
	switch worst.Kind {
	case inventory.KindSecret:
		name = "Secret"
	case inventory.KindMalware:
		name = "Malware"
	}
	return sarifRule{
		ID:                   id,
		Name:                 name,
		ShortDescription:     sarifText{Text: truncate(short, 300)},
		FullDescription:      sarifText{Text: truncate(desc, maxSARIFText)},
		HelpURI:              helpURI,
		Help:                 sarifMessage{Text: truncate(riskHelpText(id, worst), maxSARIFText), Markdown: truncate(riskHelpMarkdown(id, worst), maxSARIFText)},
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(worst.Severity)},
		Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: securitySeverity(worst), Precision: riskPrecision(worst), Controls: worst.Controls},
	}
}

// ruleDescription is what a finding says about its rule in general: for
// the checks Seawall writes, the part of the details after the first
// paragraph (which is about this finding); otherwise the details.
func ruleDescription(f *inventory.Finding) string {
	d := strings.TrimSpace(f.Details)
	if f.Kind == inventory.KindMisconfiguration {
		if _, rest, ok := strings.Cut(d, "\n\n"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return d
}

// riskPrecision is how often the rule is right, as GitHub ranks it: a
// hash or the EICAR string cannot be wrong, rules can.
func riskPrecision(f *inventory.Finding) string {
	switch {
	case f.Kind == inventory.KindMalware && !strings.HasPrefix(f.ID, "YARA-"):
		return "very-high"
	case f.Kind == inventory.KindMisconfiguration:
		return "very-high"
	}
	return "high"
}

func riskHelpText(id string, f *inventory.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", kindTitle(f.Kind), id)
	if t := clean(f.Title); t != "" {
		fmt.Fprintf(&b, ": %s", t)
	}
	fmt.Fprintf(&b, "\nSeverity: %s\n", clampSeverity(f.Severity))
	if d := ruleDescription(f); d != "" {
		fmt.Fprintf(&b, "\n%s\n", d)
	}
	if f.Remediation != "" {
		fmt.Fprintf(&b, "\nHow to fix: %s\n", f.Remediation)
	}
	for _, c := range f.Controls {
		fmt.Fprintf(&b, "Benchmark: %s\n", controlText(c))
	}
	if refs := references(f); len(refs) > 0 {
		b.WriteString("References:\n")
		for _, u := range refs {
			fmt.Fprintf(&b, "- %s\n", u)
		}
	}
	return b.String()
}

func riskHelpMarkdown(id string, f *inventory.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s**", mdText(kindTitle(f.Kind)), mdText(id))
	if t := clean(f.Title); t != "" {
		fmt.Fprintf(&b, ": %s", mdText(t))
	}
	fmt.Fprintf(&b, "\n\nSeverity: **%s**", clampSeverity(f.Severity))
	if d := ruleDescription(f); d != "" {
		fmt.Fprintf(&b, "\n\n%s", mdText(d))
	}
	if f.Remediation != "" {
		fmt.Fprintf(&b, "\n\n**How to fix:** %s", mdText(f.Remediation))
	}
	for _, c := range f.Controls {
		fmt.Fprintf(&b, "\n\nBenchmark: %s", mdText(controlText(c)))
	}
	if refs := references(f); len(refs) > 0 {
		b.WriteString("\n\nReferences:\n")
		for _, u := range refs[:min(len(refs), 10)] {
			fmt.Fprintf(&b, "- <%s>\n", u)
		}
	}
	return b.String()
}

// controlText spells a control out: "CIS Docker 4.1" is recommendation
// 4.1 of the CIS Docker Benchmark v1.6.0.
func controlText(c string) string {
	if n, ok := strings.CutPrefix(c, "CIS Docker "); ok {
		return "CIS Docker Benchmark v1.6.0, recommendation " + n
	}
	return c
}

func sarifRiskMessage(f *inventory.Finding, src inventory.Source) string {
	var b strings.Builder
	switch f.Kind {
	case inventory.KindSecret:
		fmt.Fprintf(&b, "%s: %s", f.ID, clean(f.Title))
		if f.Snippet != "" {
			fmt.Fprintf(&b, " (%s)", truncate(clean(f.Snippet), 120))
		}
		b.WriteString(".")
	case inventory.KindMalware:
		fmt.Fprintf(&b, "Malware: %s (%s).", clean(f.Title), f.ID)
	default:
		b.WriteString(truncate(clean(messageText(f)), 500))
	}
	if f.Location.Path != "" {
		fmt.Fprintf(&b, " Found in %s", whereText(f))
		if l := f.Location.LayerIndex; f.Location.LayerDiffID != "" && l >= 0 && l < len(src.Layers) {
			fmt.Fprintf(&b, ", layer %d", l)
			if c := clean(src.Layers[l].CreatedBy); c != "" {
				fmt.Fprintf(&b, " (%s)", truncate(c, 80))
			}
		}
		if f.Hidden {
			b.WriteString(", deleted by a later layer but still in the image")
		}
		b.WriteString(".")
	}
	return clean(b.String())
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
