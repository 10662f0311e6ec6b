package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// findingFor builds a finding about the package of the inventory with the
// given name, as the matcher would: its ID, PURL and location.
func findingFor(inv *inventory.Inventory, pkgName, id string, sev inventory.Severity, status string, fixed ...string) inventory.Finding {
	for _, p := range inv.Packages {
		if p.Name != pkgName {
			continue
		}
		version := p.Version
		if p.SourceVersion != "" {
			version = p.SourceVersion
		}
		f := inventory.Finding{
			ID: id, Kind: inventory.KindVulnerability, Severity: sev, SeveritySource: "database_specific",
			PackageID: p.ID, PackageName: p.Name, PackageType: p.Type, PURL: p.PURL,
			InstalledVersion: version, FixedVersions: fixed, Status: status,
			Ecosystem: inventory.Ecosystem(p.Type, inv.Distro), Advisories: []string{id},
		}
		if len(p.Locations) > 0 {
			f.Location = p.Locations[0]
		}
		return f
	}
	panic("no package " + pkgName)
}

// scanReport is imageInventory with findings of every kind a report must
// render: CVSS v3 and v4 scores and an advisory's own severity, aliases,
// one ID in two ecosystems, fixed and unfixed, withdrawn, suppressed by
// the ignore file and by VEX, a VEX note, a package inside an archive,
// and hostile advisory text (control characters, Markdown, HTML, a
// javascript: reference).
func scanReport() *inventory.Report {
	inv := imageInventory()
	published := time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC)

	ssl := findingFor(inv, "libssl3", "CVE-2024-0001", inventory.SeverityCritical, inventory.StatusFixed, "3.0.13-1~deb12u1")
	ssl.Aliases = []string{"DSA-5678-1", "DEBIAN-CVE-2024-0001"}
	ssl.SeveritySource, ssl.CVSSScore, ssl.CVSSVector = "CVSS_V3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	ssl.Title = "Buffer overflow in X.509 | name <script>alert(1)</script> @octocat #1 \x1b[31mred\x1b[0m"
	ssl.Details = "A buffer overflow in the X.509 name check.\n\nSee the [advisory](https://www.openssl.org/news/secadv/20240101.txt)."
	ssl.References = []string{"https://www.openssl.org/news/secadv/20240101.txt", "javascript:alert(1)", "https://security-tracker.debian.org/tracker/CVE-2024-0001"}
	ssl.Published, ssl.Modified = published, published.Add(48*time.Hour)

	ssl2 := findingFor(inv, "libssl3", "CVE-2024-0002", inventory.SeverityMedium, inventory.StatusUnfixed)
	ssl2.Title = "Excessive time spent checking DH keys"

	mount := findingFor(inv, "mount", "CVE-2024-0003", inventory.SeverityLow, inventory.StatusFixed, "2.38.1-5+deb12u1")
	mount.Title = "wall: escape sequences in messages"
	mount.Suppression = &inventory.Suppression{Source: inventory.SuppressedByIgnoreFile, Reason: "wall is not installed setuid",
		Expires: time.Date(2031, 12, 31, 23, 59, 59, 0, time.UTC), By: ".seawallignore:4"}

	gcc := findingFor(inv, "libgcc-s1", "CVE-2024-0004", inventory.SeverityHigh, inventory.StatusUnfixed)
	gcc.Title = "Stack protector bypass"
	gcc.Suppression = &inventory.Suppression{Source: inventory.SuppressedByVEX, Justification: "vulnerable_code_not_in_execute_path",
		Reason: "no code is compiled in the image", By: "payments.openvex.json"}

	std := findingFor(inv, "stdlib", "GO-2024-0005", inventory.SeverityHigh, inventory.StatusFixed, "1.26.1")
	std.Aliases = []string{"CVE-2024-0005"}
	std.SeveritySource, std.CVSSScore, std.CVSSVector = "CVSS_V3", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
	std.Title = "net/http: memory exhaustion in Request.ParseMultipartForm"
	std.References = []string{"https://go.dev/issue/65383"}

	pad := findingFor(inv, "left-pad", "GHSA-aaaa-bbbb-cccc", inventory.SeverityUnknown, inventory.StatusUnfixed)
	pad.SeveritySource = "none"
	pad.Details = "Pads strings to the left.\nSecond line."
	pad.VEX = &inventory.VEXNote{Status: "under_investigation", Statement: "checking whether padding is user-controlled", By: "payments.openvex.json"}

	lang := findingFor(inv, "commons-lang3", "GHSA-j288-q9x7-2f5v", inventory.SeverityCritical, inventory.StatusFixed, "3.18.0")
	lang.Aliases = []string{"CVE-2025-48924"}
	lang.SeveritySource, lang.CVSSScore, lang.CVSSVector = "CVSS_V4", 9.3, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
	lang.Title = "Uncontrolled recursion in ClassUtils.getClass"

	py := findingFor(inv, "naïve-ünïcode", "PYSEC-2024-1", inventory.SeverityHigh, inventory.StatusWithdrawn)
	py.Title = "Withdrawn: not a vulnerability"

	rpm := findingFor(inv, "openssl-libs", "CVE-2024-0001", inventory.SeverityHigh, inventory.StatusFixed, "1:3.0.7-28.el9")
	rpm.SeveritySource, rpm.CVSSScore, rpm.CVSSVector = "CVSS_V3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	rpm.Title = "Buffer overflow in X.509 name checking"

	return &inventory.Report{
		Inventory: *inv,
		Findings:  []inventory.Finding{ssl, ssl2, mount, gcc, std, pad, lang, py, rpm},
		NotCovered: []inventory.Coverage{
			{Ecosystem: "crates.io", Packages: 1, Reason: "no crates.io advisories in the database"},
			{Ecosystem: "RubyGems", Packages: 1, Reason: "no RubyGems advisories in the database"},
		},
		DB: &inventory.DBInfo{
			BuiltAt: time.Date(2023, 11, 12, 6, 0, 0, 0, time.UTC), Records: 14203,
			Ecosystems: map[string]int{"Debian:12": 9000, "Go": 4291, "npm": 912},
			Sources:    []string{"https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip"},
		},
	}
}

// cleanReport is a root filesystem in which nothing was found.
func cleanReport() *inventory.Report {
	return &inventory.Report{Inventory: *rootfsInventory(), DB: &inventory.DBInfo{BuiltAt: time.Date(2023, 11, 14, 21, 0, 0, 0, time.UTC), Records: 3}}
}

// emptyReport has no packages and no database information.
func emptyReport() *inventory.Report {
	return &inventory.Report{Inventory: *emptyInventory()}
}

var imageOpts = ReportOptions{Notices: []string{
	".seawallignore:9: the ignore entry for CVE-2023-4641 expired at the end of 2023-10-31 and matches no finding; remove it",
	"VEX payments.openvex.json: 1 not affected (suppressed), 1 under investigation",
}}

var reportFixtures = []struct {
	name   string
	report func() *inventory.Report
	opts   ReportOptions
}{
	{"image", scanReport, imageOpts},
	{"rootfs", cleanReport, ReportOptions{}},
	{"empty", emptyReport, ReportOptions{}},
}

var reportExt = map[string]string{
	FormatTable:     "vuln.table",
	FormatJSON:      "report.json",
	FormatSARIF:     "sarif.json",
	FormatCycloneDX: "vuln.cdx.json",
	FormatJUnit:     "junit.xml",
	FormatMarkdown:  "md",
}

func renderReport(t *testing.T, format string, r *inventory.Report, opts ReportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReport(&buf, format, r, fixedMeta, opts); err != nil {
		t.Fatalf("WriteReport(%s): %v", format, err)
	}
	return buf.Bytes()
}

// TestReportGolden pins every report format's output for fixed inputs and
// a fixed timestamp, and checks that it does not depend on the order in
// which packages and findings arrive.
func TestReportGolden(t *testing.T) {
	for _, fx := range reportFixtures {
		for _, format := range ReportFormats {
			if format == FormatSPDX {
				continue // TestReportSPDXIsTheSBOM
			}
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				got := renderReport(t, format, fx.report(), fx.opts)
				golden(t, fx.name+"."+reportExt[format]+".golden", got)
				for seed := range uint64(3) {
					r := fx.report()
					rng := rand.New(rand.NewPCG(seed, 7))
					rng.Shuffle(len(r.Packages), func(i, j int) { r.Packages[i], r.Packages[j] = r.Packages[j], r.Packages[i] })
					rng.Shuffle(len(r.Findings), func(i, j int) { r.Findings[i], r.Findings[j] = r.Findings[j], r.Findings[i] })
					if format == FormatJSON {
						// The JSON report lists packages in the order the engine
						// sorted them, as the SBOM does.
						r.Packages = fx.report().Packages
					}
					if again := renderReport(t, format, r, fx.opts); !bytes.Equal(got, again) {
						t.Fatalf("output changed with the input order (seed %d):\n%s", seed, cmp.Diff(string(got), string(again)))
					}
				}
			})
		}
	}
}

// TestReportGoldenVariants pins the table on a terminal and the filtered
// summaries.
func TestReportGoldenVariants(t *testing.T) {
	filtered := ReportOptions{Severities: []inventory.Severity{inventory.SeverityHigh, inventory.SeverityCritical}, IgnoreUnfixed: true, Filtered: 3}
	filteredReport := func() *inventory.Report {
		r := scanReport()
		var kept []inventory.Finding
		for _, f := range r.Findings {
			if (f.Severity == inventory.SeverityHigh || f.Severity == inventory.SeverityCritical) && len(f.FixedVersions) > 0 {
				kept = append(kept, f)
			}
		}
		r.Findings = kept
		return r
	}
	tests := []struct {
		name, format string
		r            *inventory.Report
		opts         ReportOptions
	}{
		{"image-color.vuln.table", FormatTable, scanReport(), ReportOptions{Color: true, Notices: imageOpts.Notices}},
		{"image-filtered.vuln.table", FormatTable, filteredReport(), filtered},
		{"image-filtered.md", FormatMarkdown, filteredReport(), filtered},
		{"image-filtered.report.json", FormatJSON, filteredReport(), filtered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name+".golden", renderReport(t, tt.format, tt.r, tt.opts))
		})
	}
}

// TestReportSPDXIsTheSBOM: SPDX 2.3 has no vulnerabilities, so the scan
// report in SPDX is the SBOM, byte for byte.
func TestReportSPDXIsTheSBOM(t *testing.T) {
	r := scanReport()
	got := renderReport(t, FormatSPDX, r, imageOpts)
	if want := render(t, FormatSPDX, &r.Inventory); !bytes.Equal(got, want) {
		t.Errorf("SPDX report differs from the SBOM:\n%s", cmp.Diff(string(want), string(got)))
	}
}

func TestWriteReportFormats(t *testing.T) {
	r := cleanReport()
	for _, f := range []string{"table", "JSON", "sarif", "cyclonedx", "cyclonedx-json", "spdx", "spdx-json", "junit", "markdown"} {
		var buf bytes.Buffer
		if err := WriteReport(&buf, f, r, fixedMeta, ReportOptions{}); err != nil || buf.Len() == 0 {
			t.Errorf("WriteReport(%q): %d bytes, error %v", f, buf.Len(), err)
		}
	}
	var buf bytes.Buffer
	err := WriteReport(&buf, "html", r, fixedMeta, ReportOptions{})
	if err == nil || !strings.Contains(err.Error(), "sarif") || !strings.Contains(err.Error(), "junit") {
		t.Errorf("unknown format: error %v, want one naming the formats", err)
	}
}

// TestReportDoesNotModify: writers sort and normalise a copy.
func TestReportDoesNotModify(t *testing.T) {
	for _, format := range ReportFormats {
		r := scanReport()
		before, _ := json.Marshal(r)
		renderReport(t, format, r, imageOpts)
		after, _ := json.Marshal(r)
		if !bytes.Equal(before, after) {
			t.Errorf("%s modified the report", format)
		}
	}
}

func TestTableHostileText(t *testing.T) {
	out := string(renderReport(t, FormatTable, scanReport(), ReportOptions{}))
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("plain table holds control characters:\n%q", out)
	}
	colored := string(renderReport(t, FormatTable, scanReport(), ReportOptions{Color: true}))
	if strings.Contains(colored, "\x1b[31mred") {
		t.Error("an advisory's escape sequence reached the terminal")
	}
	if !strings.Contains(colored, severityColor[inventory.SeverityCritical]+"CRITICAL") {
		t.Error("coloured table does not colour CRITICAL")
	}
}

// TestTableAlignment checks that colour does not shift the columns: with
// the escape sequences removed, the coloured table is the plain one.
func TestTableAlignment(t *testing.T) {
	plain := string(renderReport(t, FormatTable, scanReport(), imageOpts))
	colored := string(renderReport(t, FormatTable, scanReport(), ReportOptions{Color: true, Notices: imageOpts.Notices}))
	stripped := colored
	for _, seq := range []string{ansiReset, ansiBold, "\x1b[1;31m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[2m"} {
		stripped = strings.ReplaceAll(stripped, seq, "")
	}
	if diff := cmp.Diff(plain, stripped); diff != "" {
		t.Errorf("coloured table without colour differs from the plain one (-plain +stripped):\n%s", diff)
	}
	for _, line := range strings.Split(plain, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space: %q", line)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"two\nlines\r\n", "two lines"},
		{"\x1b[2Jclear", "[2Jclear"},
		{"tab\there", "tab here"},
		{"bidi \u202eevil\u202c text", "bidi evil text"},
		{"nul\x00byte", "nul byte"},
		{"bad \xff utf8", "bad utf8"},
		{"  lead and trail  ", "lead and trail"},
		{"c1 \u009b control", "c1 control"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAgeText(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "newer than this report's timestamp"},
		{30 * time.Minute, "less than an hour old"},
		{time.Hour, "1 hour old"},
		{47 * time.Hour, "47 hours old"},
		{48 * time.Hour, "2 days old"},
		{400 * 24 * time.Hour, "400 days old"},
	}
	for _, tt := range tests {
		if got := ageText(tt.d); got != tt.want {
			t.Errorf("ageText(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := plural(2, "vulnerability"); got != "2 vulnerabilities" {
		t.Errorf("plural = %q", got)
	}
	if got := plural(2, "day"); got != "2 days" {
		t.Errorf("plural = %q", got)
	}
}

// manyFindings is a report with n findings, for the limits of the formats.
func manyFindings(n int) *inventory.Report {
	r := scanReport()
	base := r.Findings[0]
	base.Suppression = nil
	r.Findings = nil
	for i := range n {
		f := base
		f.ID = fmt.Sprintf("CVE-2024-%05d", i)
		f.Severity = inventory.Severity(i % 5)
		f.Title = strings.Repeat("long title ", 5) + fmt.Sprint(i)
		r.Findings = append(r.Findings, f)
	}
	return r
}

func TestMarkdownLimit(t *testing.T) {
	tests := []struct {
		name     string
		findings int
		limit    int
		wantCut  bool
	}{
		{"fits", 20, 0, false},
		{"GitHub's limit", 2000, 0, true},
		{"small limit", 200, 8000, true},
		{"limit smaller than the summary", 10, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(renderReport(t, FormatMarkdown, manyFindings(tt.findings), ReportOptions{MarkdownLimit: tt.limit, Notices: []string{"a notice"}}))
			limit := tt.limit
			if limit == 0 {
				limit = GitHubCommentLimit
			}
			if len(out) > limit {
				t.Fatalf("%d bytes, limit %d", len(out), limit)
			}
			if !utf8.ValidString(out) {
				t.Fatal("output is not valid UTF-8")
			}
			cut := strings.Contains(out, "more findings are not shown")
			if limit >= 1000 && cut != tt.wantCut {
				t.Errorf("cut = %v, want %v", cut, tt.wantCut)
			}
			if limit < 1000 {
				return // only the blunt cut can honour such a limit
			}
			if o, c := strings.Count(out, "<details"), strings.Count(out, "</details>"); o != c {
				t.Errorf("%d <details> but %d </details>", o, c)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "|") && !strings.HasSuffix(line, "|") {
					t.Errorf("broken table row %q", line)
				}
			}
			if tt.wantCut {
				// The rows shown and the count left out add up to every finding.
				rows := strings.Count(out, "](https://osv.dev/")
				var left int
				fmt.Sscanf(out[strings.Index(out, "> [!NOTE]\n> ")+len("> [!NOTE]\n> "):], "%d", &left)
				if rows+left != tt.findings || left == 0 {
					t.Errorf("%d rows shown and %d left out, want %d in all", rows, left, tt.findings)
				}
			}
		})
	}
}

func TestMarkdownEscaping(t *testing.T) {
	out := string(renderReport(t, FormatMarkdown, scanReport(), ReportOptions{}))
	for _, bad := range []string{"<script>", " @octocat", " #1", "\x1b", "javascript:"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains %q unescaped", bad)
		}
	}
	if !strings.Contains(out, `\<script\>`) || !strings.Contains(out, `\@octocat`) || !strings.Contains(out, `X.509 \| name`) {
		t.Errorf("markdown lacks the escaped title:\n%s", out)
	}
}
