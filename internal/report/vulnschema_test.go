package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	invopop "github.com/invopop/jsonschema"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// reportSchemaPath is where Seawall publishes the schema of its JSON report.
var reportSchemaPath = filepath.Join("..", "..", "docs", "schema", "report.schema.json")

const reportSchemaID = "https://seawall.dev/schema/report.schema.json"

// reportSchemaDescriptions are the report's own descriptions; the SBOM's
// (schemaDescriptions) cover the types the two documents share.
var reportSchemaDescriptions = map[string]string{
	"ReportDocument":               "A scan report written by seawall scan --format json: what was scanned, the vulnerability database used, every finding (vulnerabilities, secrets, malware and misconfigurations, suppressed ones included and marked), the packages, and what was not checked.",
	"ReportDocument.SchemaVersion": "Version of this format. It changes only when a field changes meaning or goes away; new fields may appear within a version, so ignore fields you do not know.",
	"ReportDocument.Tool":          "The program that wrote the document.",
	"ReportDocument.CreatedAt":     "When the report was written, in UTC (RFC 3339). Set SOURCE_DATE_EPOCH to fix it. The database's age is measured from it.",
	"ReportDocument.Source":        "What was scanned.",
	"ReportDocument.Distro":        "The operating system found in the image or root filesystem. Absent when none was recognised.",
	"ReportDocument.DB":            "The vulnerability database the findings come from. Absent when the scan did not look for vulnerabilities.",
	"ReportDocument.Summary":       "Counts of the findings in this report.",
	"ReportDocument.Filters":       "The filters (--severity, --ignore-unfixed) the findings went through. Absent when there were none.",
	"ReportDocument.Findings":      "Every finding, suppressed and withdrawn ones included, ordered as the table shows them: vulnerabilities first (OS packages first, then by file; within one, by package, most severe first, then by ID), then secrets, malware and misconfigurations, each most severe first, then by path, line and layer. Empty, never absent, when there are none.",
	"ReportDocument.NotCovered":    "Ecosystems the database has no advisories for: their packages were not checked, which is not the same as being clean. Absent when every package was checked.",
	"ReportDocument.Packages":      "Every package found (the SBOM), sorted by type, namespace, name, version and first location. findings[].packageID refers to packages[].id.",
	"ReportDocument.Notices":       "Messages for the reader: expired ignore-file entries, what each VEX document did, a stale database. Absent when there are none.",
	"ReportDocument.Warnings":      "Problems that did not stop the scan, such as a malformed lockfile. Absent when there were none.",
	"DBStatus":                     "The vulnerability database a report was made with.",
	"DBStatus.AgeSeconds":          "The database's age when the report was written: createdAt minus builtAt, in seconds. 0 when the build time is unknown.",
	"DBInfo":                       "The vulnerability database a report was made with.",
	"DBInfo.BuiltAt":               "When the database was built or last updated, in UTC (RFC 3339).",
	"DBInfo.Records":               "How many advisory records the database holds.",
	"DBInfo.Ecosystems":            "Records per OSV ecosystem (\"Debian:12\", \"Go\", \"npm\"…).",
	"DBInfo.Sources":               "Where the records were imported from.",
	"Summary":                      "Counts of the findings in this report.",
	"Summary.Active":               "Active findings of every kind (neither suppressed nor withdrawn) by severity. These are the findings that fail --exit-code.",
	"Summary.ActiveTotal":          "The number of active findings: the sum of active.",
	"Summary.Suppressed":           "Findings suppressed by the ignore file or a VEX statement. They stay in findings, with suppression set.",
	"Summary.Withdrawn":            "Findings whose advisory was withdrawn and that are not suppressed. They never fail a gate.",
	"Summary.Packages":             "The number of packages scanned.",
	"Summary.VulnerablePackages":   "The number of packages with at least one active vulnerability.",
	"Summary.ByKind":               "The counts by kind of finding (vulnerability, secret, malware, misconfiguration), for every kind the scan looked for. Absent for a scan of vulnerabilities only.",
	"KindSummary":                  "Counts of the findings of one kind.",
	"KindSummary.Active":           "Active findings of this kind by severity.",
	"KindSummary.ActiveTotal":      "The number of active findings of this kind.",
	"KindSummary.Suppressed":       "Findings of this kind suppressed by the ignore file or VEX.",
	"KindSummary.Withdrawn":        "Vulnerabilities whose advisory was withdrawn. Absent when 0.",
	"ReportDocument.Kinds":         "The kinds of finding the scan looked for (--scanners): vulnerability, secret, malware, misconfiguration. A kind listed here with no findings was looked for and not found. Absent for a scan of vulnerabilities only.",
	"SeverityCounts":               "Counts by severity.",
	"SeverityCounts.Critical":      "CRITICAL findings.",
	"SeverityCounts.High":          "HIGH findings.",
	"SeverityCounts.Medium":        "MEDIUM findings.",
	"SeverityCounts.Low":           "LOW findings.",
	"SeverityCounts.Unknown":       "Findings whose severity is unknown: neither a CVSS vector nor the advisory gave one.",
	"Filters":                      "The filters the findings went through.",
	"Filters.Severities":           "--severity: only findings of these severities are reported. Absent when every severity is.",
	"Filters.IgnoreUnfixed":        "--ignore-unfixed: findings without a known fix are left out.",
	"Filters.Filtered":             "How many findings the filters left out of this report.",
	"Finding":                      "One finding: a vulnerability in a package, a secret, malware, or a misconfiguration of the image or its Dockerfile.",
	"Finding.ID":                   "What was found: the vulnerability's primary ID (\"CVE-2024-1234\", \"GHSA-…\"), the secret rule's ID (\"aws-access-token\"), the malware detection (\"SW-MAL-EICAR\", \"SW-MAL-HASH\", \"YARA-<rule>\") or the configuration check (\"SW-IMG-001\", \"SW-DF-001\").",
	"Finding.Aliases":              "Other IDs of the same vulnerability; one vulnerability reached through several IDs is one finding.",
	"Finding.Kind":                 "vulnerability, secret, malware or misconfiguration.",
	"Finding.Title":                "A one-line summary: the advisory's, or the rule's or check's title.",
	"Finding.Details":              "The advisory's description, often Markdown; for other kinds, what was found (first line) and why it matters.",
	"Finding.Severity":             "The severity: UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.",
	"Finding.SeveritySource":       "Where the severity came from: CVSS_V4, CVSS_V3 or CVSS_V2 (computed from the vector), database_specific or ecosystem_specific (the advisory's own rating), none, seawall (Seawall's rating of its own check) or rule (a secret or YARA rule's own rating).",
	"Finding.CVSSScore":            "The CVSS base score, when a vector was scored.",
	"Finding.CVSSVector":           "The CVSS vector that was scored.",
	"Finding.PackageID":            "The id of the affected package in packages. Vulnerabilities only.",
	"Finding.PackageName":          "The affected package's name (the binary package for Debian). Vulnerabilities only.",
	"Finding.PackageType":          "The affected package's type, as in packages[].type. Vulnerabilities only.",
	"Finding.PURL":                 "The affected package's package URL.",
	"Finding.InstalledVersion":     "The version the advisory was compared with: the source package's version for Debian, the package's own elsewhere. Vulnerabilities only.",
	"Finding.FixedVersions":        "Versions that fix the vulnerability. Absent when no fix is known.",
	"Finding.Status":               "fixed (a fixed version exists), unfixed (no fix is known) or withdrawn (the advisory was withdrawn). Vulnerabilities only.",
	"Finding.Ecosystem":            "The OSV ecosystem the match was made in (\"Debian:12\", \"Go\", \"npm\").",
	"Finding.Location":             "Where the package or file was found; its layer is the one that added it. Findings about the image as a whole have a path that names the setting or step instead of a file: \"image config: USER\", \"image config: ENV NAME\", \"image history: step 4\"; their layerIndex is -1 unless the step made a layer.",
	"Finding.Line":                 "The 1-based line of a secret or misconfiguration in its file. Absent when there is none.",
	"Finding.Snippet":              "Where a secret or misconfiguration is, as text, with any secret masked: the plain secret never reaches a report.",
	"Finding.Remediation":          "How to fix a secret, malware or misconfiguration finding.",
	"Finding.Controls":             "The benchmark recommendations a configuration check maps to, as \"CIS Docker 4.1\" (CIS Docker Benchmark v1.6.0).",
	"Finding.Hidden":               "Set when the file was deleted or replaced by a later layer: not in the running container, but still in the image for anyone who pulls it.",
	"Finding.Advisories":           "The IDs of the advisory records that matched. Empty for other kinds.",
	"Finding.References":           "URLs about the finding: from the advisories, or the rule's or check's documentation.",
	"Finding.Published":            "When the advisory was published.",
	"Finding.Modified":             "When the advisory was last modified.",
	"Finding.Suppression":          "Set when the ignore file or a VEX statement accepted the finding. Suppressed findings never fail a gate and are left out of the table, Markdown and SARIF.",
	"Finding.VEX":                  "What a VEX document said about the finding when that did not suppress it.",
	"Suppression":                  "Why a finding does not count.",
	"Suppression.Source":           "ignorefile (.seawallignore) or vex (an OpenVEX not_affected statement).",
	"Suppression.Reason":           "The ignore entry's reason, or the VEX impact statement.",
	"Suppression.Justification":    "The OpenVEX justification (\"vulnerable_code_not_in_execute_path\"…), for VEX suppressions.",
	"Suppression.Expires":          "The last second the ignore entry suppresses (the end of its expiry date, UTC). Absent when it never expires.",
	"Suppression.By":               "Where the suppression came from: the ignore file and line (\".seawallignore:12\"), or the VEX document.",
	"VEXNote":                      "A VEX statement that matched a finding without suppressing it.",
	"VEXNote.Status":               "affected, fixed or under_investigation.",
	"VEXNote.Statement":            "The statement's action statement or status notes.",
	"VEXNote.By":                   "The VEX document.",
	"Coverage":                     "An ecosystem whose packages were not checked.",
	"Coverage.Ecosystem":           "The OSV ecosystem, or the package type when it has none.",
	"Coverage.Packages":            "How many packages of it were found.",
	"Coverage.Reason":              "Why they were not checked.",
}

var severitySchema = &invopop.Schema{
	Type: "string",
	Enum: []any{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"},
}

// generateReportSchema reflects ReportDocument into a JSON Schema.
func generateReportSchema(t *testing.T) []byte {
	t.Helper()
	r := &invopop.Reflector{
		AllowAdditionalProperties: true,
		Mapper: func(t reflect.Type) *invopop.Schema {
			if t == reflect.TypeFor[inventory.Severity]() {
				return severitySchema
			}
			return nil
		},
	}
	r.LookupComment = func(t reflect.Type, field string) string {
		key := t.Name()
		if field != "" {
			key += "." + field
		}
		if d, ok := reportSchemaDescriptions[key]; ok {
			return d
		}
		return schemaDescriptions[key]
	}
	s := r.Reflect(&ReportDocument{})
	if v, ok := s.Definitions["ReportDocument"].Properties.Get("schemaVersion"); ok {
		v.Const = ReportSchemaVersion
	}
	s.ID = reportSchemaID
	s.Title = "Seawall scan report"
	s.Description = "Seawall's JSON scan report (seawall scan --format json). Documented in docs/reference/report-json.md."
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestReportSchema fails when docs/schema/report.schema.json is not what
// the Go types generate. After changing ReportDocument or the inventory
// types, run go test ./internal/report -run TestReportSchema -update and
// update docs/reference/report-json.md to match.
func TestReportSchema(t *testing.T) {
	got := generateReportSchema(t)
	if *update {
		if err := os.WriteFile(reportSchemaPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(reportSchemaPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -run TestReportSchema -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is out of date: run go test ./internal/report -run TestReportSchema -update, then update docs/reference/report-json.md", reportSchemaPath)
	}
	// Every field has a description written for the reader.
	var doc struct {
		Defs map[string]struct {
			Description string `json:"description"`
			Properties  map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	for name, def := range doc.Defs {
		if def.Description == "" {
			t.Errorf("%s has no description", name)
		}
		for field, p := range def.Properties {
			if p.Description == "" {
				t.Errorf("%s.%s has no description", name, field)
			}
		}
	}
}

func reportJSONSchema(t *testing.T) *jsonschema.Schema {
	return compileSchema(t, reportSchemaID, map[string]string{reportSchemaID: reportSchemaPath})
}

const sarifSchemaID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

func sarifSchema(t *testing.T) *jsonschema.Schema {
	return compileSchema(t, sarifSchemaID, map[string]string{sarifSchemaID: "testdata/schema/sarif-schema-2.1.0.json"})
}

// TestReportValidates checks every fixture's output against the official
// schemas: SARIF 2.1.0 (OASIS errata 01), CycloneDX 1.6, SPDX 2.3, and
// Seawall's published report schema.
func TestReportValidates(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		FormatSARIF:     sarifSchema(t),
		FormatCycloneDX: cycloneDXSchema(t),
		FormatSPDX:      spdxSchema(t),
		FormatJSON:      reportJSONSchema(t),
	}
	fixtures := append(slices.Clone(reportFixtures), struct {
		name   string
		report func() *inventory.Report
		opts   ReportOptions
	}{"filtered", scanReport, ReportOptions{Severities: []inventory.Severity{inventory.SeverityHigh}, IgnoreUnfixed: true, Filtered: 2}})
	for _, fx := range fixtures {
		for format, s := range schemas {
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				if err := validate(t, s, renderReport(t, format, fx.report(), fx.opts)); err != nil {
					t.Errorf("%s output does not validate:\n%v", format, err)
				}
			})
		}
	}
}

func TestReportValidatorsReject(t *testing.T) {
	tests := []struct {
		name   string
		format string
		schema func(*testing.T) *jsonschema.Schema
		mutate func(doc map[string]any)
	}{
		{"SARIF unknown level", FormatSARIF, sarifSchema, func(doc map[string]any) {
			run := doc["runs"].([]any)[0].(map[string]any)
			run["results"].([]any)[0].(map[string]any)["level"] = "fatal"
		}},
		{"SARIF wrong version", FormatSARIF, sarifSchema, func(doc map[string]any) { doc["version"] = "2.2.0" }},
		{"SARIF tool without a name", FormatSARIF, sarifSchema, func(doc map[string]any) {
			run := doc["runs"].([]any)[0].(map[string]any)
			delete(run["tool"].(map[string]any)["driver"].(map[string]any), "name")
		}},
		{"SARIF informationUri not a URI", FormatSARIF, sarifSchema, func(doc map[string]any) {
			run := doc["runs"].([]any)[0].(map[string]any)
			run["tool"].(map[string]any)["driver"].(map[string]any)["informationUri"] = "not a uri"
		}},
		{"CycloneDX unknown analysis state", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			v := doc["vulnerabilities"].([]any)[0].(map[string]any)
			v["analysis"] = map[string]any{"state": "ignored"}
		}},
		{"CycloneDX affects without ref", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			v := doc["vulnerabilities"].([]any)[0].(map[string]any)
			v["affects"] = []any{map[string]any{}}
		}},
		{"CycloneDX unknown rating method", FormatCycloneDX, cycloneDXSchema, func(doc map[string]any) {
			v := doc["vulnerabilities"].([]any)[0].(map[string]any)
			v["ratings"] = []any{map[string]any{"method": "CVSSv5"}}
		}},
		{"report with findings null", FormatJSON, reportJSONSchema, func(doc map[string]any) { doc["findings"] = nil }},
		{"report severity as a number", FormatJSON, reportJSONSchema, func(doc map[string]any) {
			doc["findings"].([]any)[0].(map[string]any)["severity"] = 3
		}},
		{"report unknown severity", FormatJSON, reportJSONSchema, func(doc map[string]any) {
			doc["findings"].([]any)[0].(map[string]any)["severity"] = "SEVERE"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(renderReport(t, tt.format, scanReport(), imageOpts), &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(doc)
			broken, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, tt.schema(t), broken); err == nil {
				t.Error("broken document validated")
			}
		})
	}
}

// TestSARIFForGitHub checks what GitHub code scanning requires beyond the
// schema: a relative location on every result, a rule for every ruleId
// at ruleIndex, a security-severity GitHub can read, the security tag,
// fingerprints, and that suppressed and withdrawn findings are left out.
func TestSARIFForGitHub(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal(renderReport(t, FormatSARIF, scanReport(), imageOpts), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "Seawall" || run.Tool.Driver.Version != fixedMeta.ToolVersion || run.Tool.Driver.InformationURI == "" {
		t.Errorf("driver %+v", run.Tool.Driver)
	}
	ruleIDs := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if ruleIDs[r.ID] {
			t.Errorf("rule %s twice", r.ID)
		}
		ruleIDs[r.ID] = true
		score, err := strconv.ParseFloat(r.Properties.SecuritySeverity, 64)
		if r.Properties.SecuritySeverity != "" && (err != nil || score < 0 || score > 10) {
			t.Errorf("rule %s: security-severity %q", r.ID, r.Properties.SecuritySeverity)
		}
		if !slices.Contains(r.Properties.Tags, "security") || len(r.Properties.Tags) > 10 {
			t.Errorf("rule %s: tags %q", r.ID, r.Properties.Tags)
		}
		if r.Help.Text == "" || r.Help.Markdown == "" || r.ShortDescription.Text == "" || r.FullDescription.Text == "" {
			t.Errorf("rule %s lacks help or descriptions", r.ID)
		}
		if !strings.Contains(r.Help.Markdown, "| Fixed |") {
			t.Errorf("rule %s: help does not list fixed versions", r.ID)
		}
	}
	wantRules := []string{"CVE-2024-0001", "CVE-2024-0002", "GHSA-aaaa-bbbb-cccc", "GHSA-j288-q9x7-2f5v", "GO-2024-0005"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for id := range ruleIDs {
			if !yield(id) {
				return
			}
		}
	}); !slices.Equal(got, wantRules) {
		t.Errorf("rules %q, want %q (no suppressed or withdrawn findings)", got, wantRules)
	}
	fps := map[string]bool{}
	for _, res := range run.Results {
		if rule := run.Tool.Driver.Rules[res.RuleIndex]; rule.ID != res.RuleID {
			t.Errorf("result %s points at rule %d (%s)", res.RuleID, res.RuleIndex, rule.ID)
		}
		if len(res.Locations) == 0 {
			t.Fatalf("result %s has no location", res.RuleID)
		}
		uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		if uri == "" || strings.HasPrefix(uri, "/") || strings.Contains(uri, "://") {
			t.Errorf("result %s: location %q is not a relative path", res.RuleID, uri)
		}
		fp := res.PartialFingerprints[fingerprintKey]
		if fp == "" || fps[fp] {
			t.Errorf("result %s: fingerprint %q missing or not unique", res.RuleID, fp)
		}
		fps[fp] = true
	}
	if len(run.Results) != 6 {
		t.Errorf("%d results, want the 6 active findings", len(run.Results))
	}
}

func TestSARIFFingerprintStable(t *testing.T) {
	a := scanReport().Findings[0]
	b := a
	b.InstalledVersion, b.FixedVersions, b.Location.LayerDiffID, b.Severity = "3.0.12-1", []string{"3.0.14"}, "sha256:other", inventory.SeverityLow
	if fingerprint(&a) != fingerprint(&b) {
		t.Error("fingerprint changed with the version, fix or layer")
	}
	c := a
	c.Location.Path = "/other/status"
	if fingerprint(&a) == fingerprint(&c) {
		t.Error("fingerprint did not change with the path")
	}
}

func TestSARIFURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/lib/dpkg/status", "var/lib/dpkg/status"},
		{"app/package-lock.json", "app/package-lock.json"},
		{"/opt/données/x y.txt", "opt/donn%C3%A9es/x%20y.txt"},
		{"/app/app.war!/WEB-INF/lib/x.jar", "app/app.war%21/WEB-INF/lib/x.jar"},
		{"c:/weird", "./c:/weird"},
		{"/", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := sarifURI(tt.in); got != tt.want {
			t.Errorf("sarifURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSecuritySeverity(t *testing.T) {
	tests := []struct {
		sev   inventory.Severity
		score float64
		want  string
	}{
		{inventory.SeverityCritical, 9.8, "9.8"},
		{inventory.SeverityHigh, 7.5, "7.5"},
		{inventory.SeverityHigh, 9.8, "8.0"}, // the advisory's HIGH wins over a CRITICAL score
		{inventory.SeverityMedium, 0, "5.5"},
		{inventory.SeverityLow, 2.1, "2.1"},
		{inventory.SeverityUnknown, 0, ""},
		{inventory.SeverityCritical, 11, "9.5"},
	}
	for _, tt := range tests {
		f := inventory.Finding{Severity: tt.sev, CVSSScore: tt.score}
		if got := securitySeverity(&f); got != tt.want {
			t.Errorf("securitySeverity(%v, %v) = %q, want %q", tt.sev, tt.score, got, tt.want)
		}
	}
}

// TestCycloneDXVulnerabilities checks what the schema cannot: affects
// point at components of the same BOM, those carry purls, and the
// analysis follows the suppressions.
func TestCycloneDXVulnerabilities(t *testing.T) {
	var bom struct {
		SerialNumber string `json:"serialNumber"`
		Components   []struct {
			BOMRef string `json:"bom-ref"`
			PURL   string `json:"purl"`
		} `json:"components"`
		Vulnerabilities []struct {
			ID       string                 `json:"id"`
			Affects  []struct{ Ref string } `json:"affects"`
			Analysis *struct {
				State         string   `json:"state"`
				Justification string   `json:"justification"`
				Response      []string `json:"response"`
			} `json:"analysis"`
			Recommendation string `json:"recommendation"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(renderReport(t, FormatCycloneDX, scanReport(), imageOpts), &bom); err != nil {
		t.Fatal(err)
	}
	purls := map[string]string{}
	for _, c := range bom.Components {
		purls[c.BOMRef] = c.PURL
	}
	analysis := map[string]string{}
	for _, v := range bom.Vulnerabilities {
		if len(v.Affects) == 0 {
			t.Errorf("%s affects nothing", v.ID)
		}
		for _, a := range v.Affects {
			if p, ok := purls[a.Ref]; !ok || p == "" {
				t.Errorf("%s affects %q, which is no component with a purl", v.ID, a.Ref)
			}
		}
		if v.Recommendation == "" {
			t.Errorf("%s has no recommendation", v.ID)
		}
		if v.Analysis != nil {
			analysis[v.ID] = v.Analysis.State + "/" + v.Analysis.Justification + "/" + strings.Join(v.Analysis.Response, ",")
		}
	}
	want := map[string]string{
		"CVE-2024-0003":       "//will_not_fix",                   // ignore file: an accepted risk
		"CVE-2024-0004":       "not_affected/code_not_reachable/", // VEX vulnerable_code_not_in_execute_path
		"GHSA-aaaa-bbbb-cccc": "in_triage//",                      // VEX under_investigation
		"PYSEC-2024-1":        "false_positive//",                 // withdrawn
	}
	if !reflect.DeepEqual(want, analysis) {
		t.Errorf("analysis %v, want %v", analysis, want)
	}
	var sbom struct {
		SerialNumber string `json:"serialNumber"`
	}
	if err := json.Unmarshal(render(t, FormatCycloneDX, &scanReport().Inventory), &sbom); err != nil {
		t.Fatal(err)
	}
	if sbom.SerialNumber == bom.SerialNumber {
		t.Error("the scan report has the SBOM's serial number")
	}
}

// junitDoc is JUnit XML as Jenkins' JUnit plugin reads it.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   []struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped []struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// wellFormed reads every token of an XML document.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

func TestJUnitStructure(t *testing.T) {
	hostile := scanReport()
	hostile.Findings[0].Title = "nul\x00 ]]> <![CDATA[ \uffff & </failure>"
	hostile.Findings[0].Details = "\x07bell"
	for _, fx := range append(slices.Clone(reportFixtures), struct {
		name   string
		report func() *inventory.Report
		opts   ReportOptions
	}{"hostile", func() *inventory.Report { return hostile }, ReportOptions{Notices: []string{"]]>\x01"}}}) {
		t.Run(fx.name, func(t *testing.T) {
			out := renderReport(t, FormatJUnit, fx.report(), fx.opts)
			wellFormed(t, out)
			var doc junitDoc
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Suites) == 0 {
				t.Fatal("no testsuite: Jenkins fails a build whose reports hold no test")
			}
			var tests, failures, skipped int
			for _, s := range doc.Suites {
				var st, sf, ss int
				for _, c := range s.Cases {
					st++
					if c.Name == "" || c.Classname == "" {
						t.Errorf("suite %q: testcase without name or classname", s.Name)
					}
					// Jenkins splits at the last dot: target, then package.
					if c.Classname != "seawall" && strings.Count(c.Classname, ".") != 1 {
						t.Errorf("classname %q does not split into target and package", c.Classname)
					}
					if len(c.Failure) > 1 || len(c.Skipped) > 1 || (len(c.Failure) == 1 && len(c.Skipped) == 1) {
						t.Errorf("testcase %q: %d failures and %d skips", c.Name, len(c.Failure), len(c.Skipped))
					}
					if len(c.Failure) == 1 {
						sf++
						if f := c.Failure[0]; f.Message == "" || f.Type == "" || f.Text == "" {
							t.Errorf("testcase %q: failure without message, type or text", c.Name)
						}
					}
					if len(c.Skipped) == 1 {
						ss++
						if c.Skipped[0].Message == "" {
							t.Errorf("testcase %q: skipped without a reason", c.Name)
						}
					}
				}
				if s.Tests != st || s.Failures != sf || s.Skipped != ss {
					t.Errorf("suite %q says %d/%d/%d, holds %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, st, sf, ss)
				}
				tests, failures, skipped = tests+st, failures+sf, skipped+ss
			}
			if doc.Tests != tests || doc.Failures != failures || doc.Skipped != skipped {
				t.Errorf("testsuites says %d/%d/%d, holds %d/%d/%d", doc.Tests, doc.Failures, doc.Skipped, tests, failures, skipped)
			}
		})
	}
}

// TestJUnitCounts pins what passes, fails and is skipped for the image.
func TestJUnitCounts(t *testing.T) {
	var doc junitDoc
	if err := xml.Unmarshal(renderReport(t, FormatJUnit, scanReport(), imageOpts), &doc); err != nil {
		t.Fatal(err)
	}
	// 19 packages: 8 with the 9 findings, 11 without; 2 of these in
	// ecosystems the database does not cover.
	if doc.Tests != 9+11 || doc.Failures != 6 || doc.Skipped != 2+1+2 {
		t.Errorf("tests %d, failures %d, skipped %d; want 20, 6, 5", doc.Tests, doc.Failures, doc.Skipped)
	}
}

// TestSARIFSchemaFileIntact guards the vendored SARIF schema like
// TestSchemaFilesIntact guards the SBOM schemas.
func TestSARIFSchemaFileIntact(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Schema string `json:"$schema"`
		ID     string `json:"id"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	want := "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
	if s.ID != sarifSchemaID || s.Title != want || s.Schema != "http://json-schema.org/draft-04/schema#" {
		t.Errorf("$schema %q, id %q, title %q", s.Schema, s.ID, s.Title)
	}
	if sarifSchemaURI != sarifSchemaID {
		t.Errorf("the SARIF writer names %s, the tests validate against %s", sarifSchemaURI, sarifSchemaID)
	}
}
