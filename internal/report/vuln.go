package report

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// What this file holds is shared by the vulnerability report formats: the
// options, the order of findings, their grouping by target, and counts.

// Report formats beyond the SBOM ones.
const (
	FormatSARIF    = "sarif"    // SARIF 2.1.0, for GitHub code scanning
	FormatJUnit    = "junit"    // JUnit XML, for Jenkins and GitLab
	FormatMarkdown = "markdown" // for pull-request comments
)

// ReportFormats lists what `seawall scan --format` accepts. CycloneDX and
// SPDX are also accepted with a "-json" suffix.
var ReportFormats = []string{FormatTable, FormatJSON, FormatSARIF, FormatCycloneDX, FormatSPDX, FormatJUnit, FormatMarkdown}

// GitHubCommentLimit is the most characters a GitHub comment may hold.
const GitHubCommentLimit = 65536

// ReportOptions are the choices the CLI makes for a report that are not
// in the report itself.
type ReportOptions struct {
	// Color writes ANSI colours in the table; the CLI sets it when the
	// output is a terminal and NO_COLOR is not set.
	Color bool
	// Notices are messages for the reader from the gate and the scan:
	// expired ignore entries, what each VEX document did, a stale database.
	Notices []string
	// Severities and IgnoreUnfixed describe the filters the findings went
	// through, and Filtered how many findings they dropped, so that the
	// report can say what it leaves out.
	Severities    []inventory.Severity
	IgnoreUnfixed bool
	Filtered      int
	// MarkdownLimit caps the Markdown report, in characters; 0 means
	// GitHubCommentLimit.
	MarkdownLimit int
	// Kinds are the kinds of finding the scan looked for (inventory's
	// KindVulnerability, KindSecret, KindMalware, KindMisconfiguration),
	// so that a report can say "no secrets found" rather than nothing.
	// Empty means vulnerabilities only.
	Kinds []string
}

// WriteReport renders a scan report in the named format. r is expected to
// have been through the gate already: its findings are the ones to report,
// suppressed ones included and marked. The SPDX format is the SBOM alone:
// SPDX 2.3 has no place for vulnerabilities.
func WriteReport(w io.Writer, format string, r *inventory.Report, meta Meta, opts ReportOptions) error {
	switch strings.ToLower(format) {
	case FormatTable:
		return writeVulnTable(w, r, meta, opts)
	case FormatJSON:
		return writeReportJSON(w, r, meta, opts)
	case FormatSARIF:
		return writeSARIF(w, r, meta, opts)
	case FormatCycloneDX, FormatCycloneDX + "-json":
		return writeCycloneDXReport(w, r, meta, opts)
	case FormatSPDX, FormatSPDX + "-json":
		return writeSPDX(w, &r.Inventory, meta)
	case FormatJUnit:
		return writeJUnit(w, r, meta, opts)
	case FormatMarkdown:
		return writeMarkdown(w, r, meta, opts)
	}
	return fmt.Errorf("unknown format %q: choose one of %s", format, strings.Join(ReportFormats, ", "))
}

// target is where findings are reported together, as trivy groups them:
// the OS packages of the distro, or one lockfile, binary or archive.
type target struct {
	os   bool
	name string // the distro ("debian 12") or the file's path
	typ  string // package type
}

func (t target) label() string {
	switch {
	case t.name == "" && t.os:
		return t.typ + " packages"
	case t.name == "":
		return t.typ + " packages (no path)"
	}
	return t.name + " (" + t.typ + ")"
}

func compareTargets(a, b target) int {
	if a.os != b.os {
		if a.os {
			return -1
		}
		return 1
	}
	return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.typ, b.typ))
}

func targetOf(f *inventory.Finding, d *inventory.Distro) target {
	switch f.PackageType {
	case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		// A distroless image keeps one status file per package, so the OS
		// target is the distro, never the file.
		return target{os: true, name: distroLabel(d), typ: f.PackageType}
	}
	return target{name: f.Location.Path, typ: f.PackageType}
}

func distroLabel(d *inventory.Distro) string {
	if d == nil {
		return ""
	}
	return strings.TrimSpace(d.ID + " " + d.VersionID)
}

// severityCounts counts findings by severity, indexed by inventory.Severity.
type severityCounts [inventory.SeverityCritical + 1]int

func (c *severityCounts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// tally counts a set of findings: the active ones by severity, and the
// others by why they do not count.
type tally struct {
	active     severityCounts
	suppressed int
	withdrawn  int
}

func (t *tally) add(f *inventory.Finding) {
	switch {
	case f.Suppression != nil:
		t.suppressed++
	case f.Status == inventory.StatusWithdrawn:
		t.withdrawn++
	default:
		t.active[clampSeverity(f.Severity)]++
	}
}

func clampSeverity(s inventory.Severity) inventory.Severity {
	if s < inventory.SeverityUnknown || s > inventory.SeverityCritical {
		return inventory.SeverityUnknown
	}
	return s
}

// group is the findings of one target, in report order.
type group struct {
	target   target
	findings []*inventory.Finding
	tally
}

// vulnView is a report's vulnerabilities in the order every format shows them:
// targets OS first, then by path; within one, by package, then most severe
// first, then by ID.
type vulnView struct {
	findings []inventory.Finding // a sorted copy; r is not modified
	groups   []*group
	tally
}

func newVulnView(r *inventory.Report) *vulnView {
	v := &vulnView{}
	for i := range r.Findings {
		if isVuln(&r.Findings[i]) {
			v.findings = append(v.findings, r.Findings[i])
		}
	}
	targets := make([]target, len(v.findings))
	for i := range v.findings {
		targets[i] = targetOf(&v.findings[i], r.Distro)
	}
	idx := make([]int, len(v.findings))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		a, b := &v.findings[i], &v.findings[j]
		return cmp.Or(
			compareTargets(targets[i], targets[j]),
			strings.Compare(a.PackageName, b.PackageName),
			strings.Compare(a.InstalledVersion, b.InstalledVersion),
			strings.Compare(a.PackageID, b.PackageID),
			cmp.Compare(b.Severity, a.Severity),
			strings.Compare(a.ID, b.ID),
			strings.Compare(a.Location.Path, b.Location.Path),
			strings.Compare(a.PURL, b.PURL),
		)
	})
	sorted := make([]inventory.Finding, len(idx))
	sortedTargets := make([]target, len(idx))
	for k, i := range idx {
		sorted[k], sortedTargets[k] = v.findings[i], targets[i]
	}
	v.findings = sorted
	for i := range v.findings {
		f := &v.findings[i]
		if len(v.groups) == 0 || v.groups[len(v.groups)-1].target != sortedTargets[i] {
			v.groups = append(v.groups, &group{target: sortedTargets[i]})
		}
		g := v.groups[len(v.groups)-1]
		g.findings = append(g.findings, f)
		g.add(f)
		v.add(f)
	}
	return v
}

// severitiesShown is the order counts are listed in: the filter's
// severities when there is one, all of them otherwise, most severe first.
func severitiesShown(opts ReportOptions) []inventory.Severity {
	out := []inventory.Severity{inventory.SeverityCritical, inventory.SeverityHigh, inventory.SeverityMedium, inventory.SeverityLow, inventory.SeverityUnknown}
	if len(opts.Severities) > 0 {
		out = slices.DeleteFunc(out, func(s inventory.Severity) bool { return !slices.Contains(opts.Severities, s) })
	}
	return out
}

// countsText is "CRITICAL: 1, HIGH: 2, …".
func countsText(c *severityCounts, opts ReportOptions) string {
	var parts []string
	for _, s := range severitiesShown(opts) {
		parts = append(parts, s.String()+": "+strconv.Itoa(c[s]))
	}
	return strings.Join(parts, ", ")
}

// filterText says what the filters left out, or "" without filters.
func filterText(opts ReportOptions) string {
	var parts []string
	if len(opts.Severities) > 0 && len(opts.Severities) < int(inventory.SeverityCritical)+1 {
		names := make([]string, 0, len(opts.Severities))
		for _, s := range severitiesShown(opts) {
			names = append(names, s.String())
		}
		parts = append(parts, "only "+strings.Join(names, ", "))
	}
	if opts.IgnoreUnfixed {
		parts = append(parts, "only findings with a fix")
	}
	if len(parts) == 0 && opts.Filtered == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	if opts.Filtered > 0 {
		if s != "" {
			s += "; "
		}
		s += plural(opts.Filtered, "finding") + " left out"
	}
	return s
}

// dbText states the database's build time and age at the report's time.
func dbText(db *inventory.DBInfo, meta Meta) string {
	if db == nil || db.BuiltAt.IsZero() {
		return "vulnerability database: build time unknown"
	}
	s := "vulnerability database built " + db.BuiltAt.UTC().Format("2006-01-02 15:04 UTC") + " (" + ageText(meta.Created.Sub(db.BuiltAt)) + ")"
	if db.Records > 0 {
		s += ", " + plural(db.Records, "record")
	}
	return s
}

func ageText(d time.Duration) string {
	switch {
	case d < 0:
		return "newer than this report's timestamp"
	case d < time.Hour:
		return "less than an hour old"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " old"
	}
	return plural(int(d/(24*time.Hour)), "day") + " old"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(noun) > 1 && strings.HasSuffix(noun, "y") && !strings.ContainsAny(noun[len(noun)-2:len(noun)-1], "aeiou") {
		return strconv.Itoa(n) + " " + noun[:len(noun)-1] + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// coverageText is "12 cargo packages: no advisories for crates.io".
func coverageText(c inventory.Coverage) string {
	s := plural(c.Packages, c.Ecosystem+" package")
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// subjectName is what the report is about, for headings.
func subjectName(r *inventory.Report) string {
	name := r.Source.Name
	if name == "" {
		name = describeSubject(r.Source).name
	}
	if d := r.Distro; d != nil {
		label := d.PrettyName
		if label == "" {
			label = distroLabel(d)
		}
		if label != "" {
			name += " (" + label + ")"
		}
	}
	return name
}

// idText is the ID with the number of aliases: "CVE-2024-1234 (+2)".
func idText(f *inventory.Finding) string {
	if n := len(f.Aliases); n > 0 {
		return f.ID + " (+" + strconv.Itoa(n) + ")"
	}
	return f.ID
}

// severitySourceText names where a severity came from, briefly.
func severitySourceText(f *inventory.Finding) string {
	switch f.SeveritySource {
	case "CVSS_V4", "CVSS_V3", "CVSS_V2":
		s := "CVSS " + strings.TrimPrefix(f.SeveritySource, "CVSS_V")
		if f.CVSSScore > 0 {
			s = "CVSS " + strings.TrimPrefix(f.SeveritySource, "CVSS_V") + ": " + strconv.FormatFloat(f.CVSSScore, 'f', 1, 64)
		}
		return s
	case "database_specific", "ecosystem_specific":
		return "advisory"
	}
	return ""
}

func severityText(f *inventory.Finding) string {
	s := clampSeverity(f.Severity).String()
	if src := severitySourceText(f); src != "" {
		s += " (" + src + ")"
	}
	return s
}

// statusText is the fix status, with what a VEX document said about it.
func statusText(f *inventory.Finding) string {
	s := f.Status
	if f.VEX != nil {
		s += " (VEX: " + f.VEX.Status + ")"
	}
	return s
}

// titleText is the title, or the first line of the details.
func titleText(f *inventory.Finding) string {
	if t := strings.TrimSpace(f.Title); t != "" {
		return t
	}
	d := strings.TrimSpace(f.Details)
	if i := strings.IndexByte(d, '\n'); i >= 0 {
		d = d[:i]
	}
	return d
}

func fixedText(f *inventory.Finding) string {
	return strings.Join(f.FixedVersions, ", ")
}

// clean makes advisory text safe for one line of a terminal or a table:
// control characters, which could move the cursor or change colours, and
// line breaks become spaces, and runs of spaces collapse.
func clean(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		if unicode.In(r, unicode.Cf, unicode.Noncharacter_Code_Point) {
			// Bidi overrides and other invisible formatting; and U+FFFE,
			// U+FFFF and the like, which XML does not allow.
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// truncate shortens s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return strings.TrimRight(string(runes[:n-1]), " ") + "…"
}

// osvURL is where a reader finds the advisory.
func osvURL(id string) string {
	return "https://osv.dev/vulnerability/" + url.PathEscape(id)
}
