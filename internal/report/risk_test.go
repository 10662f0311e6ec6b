package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
)

var allKinds = []string{inventory.KindVulnerability, inventory.KindSecret, inventory.KindMalware, inventory.KindMisconfiguration}

func inLayer1(path string) inventory.Location {
	return inventory.Location{Path: path, LayerIndex: 1, LayerDigest: layer1Digest, LayerDiffID: layer1DiffID}
}

// riskFindings are findings of every kind but vulnerability, as the
// scanners make them: a secret (masked) in a file and one in a file a
// later layer deleted, EICAR and a YARA match, misconfigurations of the
// config, the history, a file and a Dockerfile, one suppressed, and
// hostile text.
func riskFindings() []inventory.Finding {
	return []inventory.Finding{
		{ID: "aws-access-token", Kind: inventory.KindSecret, Title: "AWS access key ID", Severity: inventory.SeverityCritical, SeveritySource: "rule",
			Details: "An AWS access key ID, which identifies an AWS account's key pair.", Location: inLayer1("/app/.env"), Line: 3,
			Snippet: "AWS_ACCESS_KEY_ID=AKIA************", Remediation: "Revoke the key, rotate it, and remove it from the image."},
		{ID: "private-key", Kind: inventory.KindSecret, Title: "Private key", Severity: inventory.SeverityHigh, SeveritySource: "rule",
			Location: inLayer1("/root/.ssh/id_rsa"), Line: 1, Snippet: "-----BEGIN RSA PRIVATE KEY-----****", Hidden: true,
			Remediation: "Revoke the key and remove it from the layer that added it."},
		{ID: "SW-MAL-EICAR", Kind: inventory.KindMalware, Title: "EICAR anti-virus test file", Severity: inventory.SeverityCritical, SeveritySource: "seawall",
			Details: "The file is the EICAR standard anti-virus test file.", Location: inLayer1("/tmp/eicar.com"),
			References: []string{"https://www.eicar.org/download-anti-malware-testfile/"}, Remediation: "Remove the test file."},
		{ID: "YARA-XMRIG_Monero_Miner", Kind: inventory.KindMalware, Title: "Detects Monero mining software <b>|</b>", Severity: inventory.SeverityHigh, SeveritySource: "seawall",
			Details:  "The file matches the YARA rule XMRIG_Monero_Miner (from pua_xmrig_monero_miner.yar).\nRule author: Florian Roth (Nextron Systems)",
			Location: inLayer1("/usr/local/bin/kworker"), References: []string{"https://github.com/xmrig/xmrig/releases"}, Remediation: "Remove the file."},
		{ID: "SW-IMG-001", Kind: inventory.KindMisconfiguration, Title: "Image runs as root", Severity: inventory.SeverityHigh, SeveritySource: "seawall",
			Details:  "The image's config sets no user: its processes run as root.\n\nThe image's config sets no user, or sets root.",
			Location: inventory.Location{Path: inventory.PathImageConfig + ": USER", LayerIndex: -1}, Snippet: "User: (none)", Controls: []string{"CIS Docker 4.1"},
			Remediation: "End the Dockerfile with USER.", References: []string{"https://docs.docker.com/reference/dockerfile/#user"}},
		{ID: "SW-IMG-002", Kind: inventory.KindMisconfiguration, Title: "Secret in an environment variable or build argument", Severity: inventory.SeverityHigh, SeveritySource: "seawall",
			Details:  "The build argument NPM_TOKEN is named like a secret, and the history records its value.\n\nAnyone who can pull the image can read it.",
			Location: inLayer1(inventory.PathImageHistory + ": step 4"), Snippet: "ARG NPM_TOKEN=****", Controls: []string{"CIS Docker 4.10"}, Remediation: "Use RUN --mount=type=secret."},
		{ID: "SW-IMG-007", Kind: inventory.KindMisconfiguration, Title: "setuid or setgid file", Severity: inventory.SeverityMedium, SeveritySource: "seawall",
			Details:  "/usr/local/bin/helper is setuid (mode -rwsr-xr-x).\n\nA set-ID program runs with its owner's rights.",
			Location: inLayer1("/usr/local/bin/helper"), Snippet: "-rwsr-xr-x /usr/local/bin/helper", Controls: []string{"CIS Docker 4.8"}, Remediation: "chmod a-s."},
		{ID: "SW-IMG-006", Kind: inventory.KindMisconfiguration, Title: "No HEALTHCHECK", Severity: inventory.SeverityLow, SeveritySource: "seawall",
			Details:  "The image's config defines no health check.\n\nDocker cannot tell a broken container from a healthy one.",
			Location: inventory.Location{Path: inventory.PathImageConfig + ": HEALTHCHECK", LayerIndex: -1}, Snippet: "Healthcheck: (none)", Controls: []string{"CIS Docker 4.6"}, Remediation: "Add HEALTHCHECK.",
			Suppression: &inventory.Suppression{Source: inventory.SuppressedByIgnoreFile, Reason: "Kubernetes probes check it", By: ".seawallignore:12"}},
	}
}

// mixedReport is the image report with findings of every kind.
func mixedReport() *inventory.Report {
	r := scanReport()
	r.Findings = append(r.Findings, riskFindings()...)
	return r
}

var mixedOpts = ReportOptions{Kinds: allKinds, Notices: []string{"malware: 1 file larger than 128 MiB not checked (the per-file limit)"}}

// configReport is what `seawall scan config` reports on a directory of
// Dockerfiles: no packages, no database.
func configReport() *inventory.Report {
	return &inventory.Report{
		Inventory: inventory.Inventory{Source: inventory.Source{Type: "dir", Name: "deploy"}},
		Findings: []inventory.Finding{
			{ID: "SW-DF-001", Kind: inventory.KindMisconfiguration, Title: "Image runs as root", Severity: inventory.SeverityHigh, SeveritySource: "seawall",
				Details:  "The last USER of the final stage is \"root\": the container runs as root.\n\nA process that breaks out of the application holds root.",
				Location: inventory.Location{Path: "/api/Dockerfile"}, Line: 9, Snippet: "USER root", Controls: []string{"CIS Docker 4.1"}, Remediation: "End the final stage with USER."},
			{ID: "SW-DF-006", Kind: inventory.KindMisconfiguration, Title: "Image not pinned: latest tag", Severity: inventory.SeverityMedium, SeveritySource: "seawall",
				Details:  "FROM ubuntu:latest uses the tag latest.\n\nEach build may get a different image.",
				Location: inventory.Location{Path: "/api/Dockerfile"}, Line: 1, Snippet: "FROM ubuntu:latest", Remediation: "Pin a version and digest."},
		},
	}
}

var configOpts = ReportOptions{Kinds: []string{inventory.KindMisconfiguration}}

func init() {
	reportFixtures = append(reportFixtures,
		struct {
			name   string
			report func() *inventory.Report
			opts   ReportOptions
		}{"mixed", mixedReport, mixedOpts},
		struct {
			name   string
			report func() *inventory.Report
			opts   ReportOptions
		}{"config", configReport, configOpts},
		struct {
			name   string
			report func() *inventory.Report
			opts   ReportOptions
		}{"clean-all", cleanReport, ReportOptions{Kinds: allKinds}},
	)
}

func TestRiskReportJSON(t *testing.T) {
	var doc ReportDocument
	if err := json.Unmarshal(renderReport(t, FormatJSON, mixedReport(), mixedOpts), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Kinds) != 4 || doc.Summary.ByKind[inventory.KindSecret].ActiveTotal != 2 || doc.Summary.ByKind[inventory.KindMisconfiguration].Suppressed != 1 {
		t.Errorf("kinds %v, by kind %+v", doc.Kinds, doc.Summary.ByKind)
	}
	// 9 vulnerability findings of which 6 active, plus 7 active of the others.
	if doc.Summary.ActiveTotal != 6+7 || doc.Summary.Suppressed != 2+1 {
		t.Errorf("summary %+v", doc.Summary)
	}
	last := doc.Findings[len(doc.Findings)-1]
	if last.Kind != inventory.KindMisconfiguration || doc.Findings[0].Kind != inventory.KindVulnerability {
		t.Errorf("findings are not ordered by kind: first %s, last %s", doc.Findings[0].Kind, last.Kind)
	}
	for _, f := range doc.Findings {
		if f.Kind != inventory.KindVulnerability && (f.PackageID != "" || f.Status != "") {
			t.Errorf("%s has package fields", f.ID)
		}
	}
}

func TestRiskReportSARIF(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal(renderReport(t, FormatSARIF, mixedReport(), mixedOpts), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	rules := map[string]sarifRule{}
	for _, r := range run.Tool.Driver.Rules {
		rules[r.ID] = r
	}
	for _, id := range []string{"aws-access-token", "private-key", "SW-MAL-EICAR", "YARA-XMRIG_Monero_Miner", "SW-IMG-001", "SW-IMG-002", "SW-IMG-007"} {
		r, ok := rules[id]
		if !ok {
			t.Errorf("no rule %s", id)
			continue
		}
		if r.Help.Text == "" || r.Help.Markdown == "" || r.ShortDescription.Text == "" {
			t.Errorf("rule %s lacks help: %+v", id, r)
		}
	}
	if _, ok := rules["SW-IMG-006"]; ok {
		t.Error("a rule for a suppressed finding")
	}
	r := rules["SW-IMG-001"]
	if len(r.Properties.Controls) != 1 || !strings.Contains(r.Help.Text, "CIS Docker Benchmark v1.6.0, recommendation 4.1") || !strings.Contains(r.Help.Text, "How to fix") {
		t.Errorf("SW-IMG-001 rule: %+v", r)
	}
	if strings.Contains(r.FullDescription.Text, "sets no user: its processes") {
		t.Errorf("rule description is the finding's message, not the check's: %q", r.FullDescription.Text)
	}
	lines := map[string]int{}
	uris := map[string]string{}
	for _, res := range run.Results {
		pl := res.Locations[0].PhysicalLocation
		lines[res.RuleID] = pl.Region.StartLine
		uris[res.RuleID] = pl.ArtifactLocation.URI
	}
	if lines["aws-access-token"] != 3 || uris["aws-access-token"] != "app/.env" {
		t.Errorf("secret location %s:%d", uris["aws-access-token"], lines["aws-access-token"])
	}
	if uris["SW-IMG-001"] != "registry.example:5000/team/app:1.2" && !strings.Contains(uris["SW-IMG-001"], "team/app") {
		t.Errorf("image config finding's URI %q, want the image", uris["SW-IMG-001"])
	}
	if !strings.Contains(string(renderReport(t, FormatSARIF, mixedReport(), mixedOpts)), "Florian Roth") {
		t.Error("the YARA rule's author is not named")
	}
}

func TestRiskReportCycloneDX(t *testing.T) {
	out := string(renderReport(t, FormatCycloneDX, mixedReport(), mixedOpts))
	for _, want := range []string{`"seawall:findings:secret"`, "CycloneDX carries vulnerabilities only: 2 secrets, 2 malware findings, 4 misconfigurations"} {
		if !strings.Contains(out, want) {
			t.Errorf("CycloneDX report lacks %q", want)
		}
	}
	if strings.Contains(out, "SW-MAL-EICAR") {
		t.Error("CycloneDX report carries a malware finding as a vulnerability")
	}
}

func TestRiskReportSecretsMasked(t *testing.T) {
	// The report never adds to what the finding says: a masked snippet
	// stays masked in every format.
	for _, format := range ReportFormats {
		out := string(renderReport(t, format, mixedReport(), mixedOpts))
		if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("%s shows a secret", format)
		}
	}
}

func TestRiskTableNoFindings(t *testing.T) {
	out := string(renderReport(t, FormatTable, cleanReport(), ReportOptions{Kinds: allKinds}))
	for _, want := range []string{"No vulnerabilities found.", "No secrets found.", "No malware found.", "No misconfigurations found."} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	_ = time.Now
}
