package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/malware"
	"github.com/seawall-dev/seawall/internal/report"
)

// eicarFile decodes the EICAR test file kept base64-encoded in the
// malware package's testdata.
func eicarFile(t *testing.T) string {
	t.Helper()
	b64, err := os.ReadFile(filepath.Join("..", "malware", "testdata", "eicar.com.b64"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// riskyImage is an image with something for every scanner but vuln: a
// secret in a file, EICAR in the second layer, a setuid binary, and a
// config that runs as root with secrets in its environment.
func riskyImage(t *testing.T) string {
	t.Helper()
	layers := []imagetest.Layer{
		imagetest.NewLayer(true,
			imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
			imagetest.Entry{Name: "usr/local/bin/helper", Mode: 0o4755, Body: "\x7fELF helper"},
		),
		imagetest.NewLayer(true,
			imagetest.File("app/.env", "APP_ENV=prod\nAWS_ACCESS_KEY_ID=AKIAQ3PTXRB7ZLMJ4WNV\n"),
			imagetest.File("opt/eicar.com", eicarFile(t)),
		),
	}
	cfg := imagetest.ConfigWith(layers, map[string]any{
		"Env": []string{
			"PATH=/usr/bin",
			"AWS_SECRET_ACCESS_KEY=q8Zr3vT1nW5yB7xK2mP9sD4fG6hJ0lA1cE3bN5vR",
			"DB_PASSWORD=hunter2",
		},
		"ExposedPorts": map[string]any{"22/tcp": map[string]any{}},
	}, nil)
	p := filepath.Join(t.TempDir(), "risky.tar")
	if err := imagetest.DockerArchiveWithConfig(p, "risky:1", layers, cfg); err != nil {
		t.Fatal(err)
	}
	return p
}

func reportOf(t *testing.T, code int, stdout, stderr string) *report.ReportDocument {
	t.Helper()
	var doc report.ReportDocument
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("exit %d, not a JSON report: %v\n%s\n%s", code, err, stdout, stderr)
	}
	return &doc
}

func findingSet(doc *report.ReportDocument) []string {
	var out []string
	for _, f := range doc.Findings {
		out = append(out, f.Kind+" "+f.ID+" "+f.Location.Path)
	}
	slices.Sort(out)
	return out
}

// TestScanRiskScanners runs the secret, malware and configuration
// scanners in one `scan image` without a vulnerability database.
func TestScanRiskScanners(t *testing.T) {
	img := riskyImage(t)
	code, out, stderr := runCLI(t, "scan", "image", img, "--scanners", "secret,malware,config", "--format", "json", "--quiet", "--ignorefile", "", "--exit-code", "4")
	if code != 4 {
		t.Fatalf("exit %d, want 4 (--exit-code with findings): %s", code, stderr)
	}
	doc := reportOf(t, code, out, stderr)
	got := findingSet(doc)
	want := []string{
		"malware SW-MAL-EICAR /opt/eicar.com",
		"misconfiguration SW-IMG-001 image config: USER",
		// DB_PASSWORD's value is no known kind of secret: only its name says so.
		"misconfiguration SW-IMG-002 image config: ENV DB_PASSWORD",
		"misconfiguration SW-IMG-004 image config: EXPOSE 22/tcp",
		"misconfiguration SW-IMG-006 image config: HEALTHCHECK",
		"misconfiguration SW-IMG-007 /usr/local/bin/helper",
		// The secret scanner found the AWS secret key itself; the check of
		// its name is dropped as a duplicate.
		"secret aws-access-key-id /app/.env",
		"secret aws-secret-access-key image config: ENV AWS_SECRET_ACCESS_KEY",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range doc.Findings {
		if f.ID == malware.IDEICAR && (f.Location.LayerIndex != 1 || f.Location.LayerDiffID != doc.Source.Layers[1].DiffID) {
			t.Errorf("EICAR reported in layer %d %s, want layer 1", f.Location.LayerIndex, f.Location.LayerDiffID)
		}
		if strings.Contains(f.Snippet+f.Details, "AKIAQ3PTXRB7ZLMJ4WNV") || strings.Contains(f.Snippet+f.Details, "hunter2") {
			t.Errorf("%s shows a secret: %q", f.ID, f.Snippet)
		}
	}
	if doc.DB != nil || !slices.Equal(doc.Kinds, []string{inventory.KindSecret, inventory.KindMalware, inventory.KindMisconfiguration}) {
		t.Errorf("db %v, kinds %v", doc.DB, doc.Kinds)
	}

	// The same findings gate: accepted by ID and path, they no longer fail.
	ign := filepath.Join(t.TempDir(), "ignore.yaml")
	os.WriteFile(ign, []byte(`secrets:
  - {id: aws-access-key-id, paths: ["app/*"], reason: rotated}
  - {id: aws-secret-access-key, reason: rotated}
malware:
  - {id: SW-MAL-EICAR, paths: [/opt/eicar.com], reason: gate self-test}
misconfigurations:
  - {id: SW-IMG-001, reason: r}
  - {id: SW-IMG-002, reason: r}
  - {id: SW-IMG-004, paths: ["image config: EXPOSE */tcp"], reason: r}
  - {id: SW-IMG-006, reason: r}
  - {id: SW-IMG-007, paths: [/usr/local/bin/helper], reason: r}
`), 0o644)
	code, out, stderr = runCLI(t, "scan", "image", img, "--scanners", "secret,malware,config", "--format", "json", "--quiet", "--ignorefile", ign, "--exit-code", "4")
	doc = reportOf(t, code, out, stderr)
	if code != 0 || doc.Summary.ActiveTotal != 0 || doc.Summary.Suppressed != 8 {
		t.Errorf("with everything accepted: exit %d, summary %+v", code, doc.Summary)
	}

	// --severity applies to every kind.
	code, out, stderr = runCLI(t, "scan", "image", img, "--scanners", "malware,config", "--format", "json", "--quiet", "--ignorefile", "", "--severity", "CRITICAL")
	doc = reportOf(t, code, out, stderr)
	if got := findingSet(doc); !slices.Equal(got, []string{"malware SW-MAL-EICAR /opt/eicar.com"}) {
		t.Errorf("--severity CRITICAL: %v", got)
	}
}

func TestScanRiskTable(t *testing.T) {
	code, out, stderr := runCLI(t, "scan", "image", riskyImage(t), "--scanners", "secret,malware,config", "--quiet", "--ignorefile", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Secrets\n=======", "Malware\n=======", "Misconfigurations\n=================", "SW-MAL-EICAR", "/opt/eicar.com  1", "AKIA****"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestScanScannersUsage(t *testing.T) {
	img := riskyImage(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scanner", []string{"--scanners", "vuln,virus"}, `unknown scanner "virus"`},
		{"empty", []string{"--scanners", ","}, "--scanners is empty"},
		{"yara without malware", []string{"--scanners", "secret", "--yara-rules", "x"}, "--yara-rules needs the malware scanner"},
		{"secret config without secret", []string{"--scanners", "malware", "--secret-config", "x"}, "--secret-config needs the secret scanner"},
		{"missing hash list", []string{"--scanners", "malware", "--malware-hashes", filepath.Join(t.TempDir(), "nope")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"scan", "image", img, "--quiet"}, tt.args...)...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, stderr, tt.want)
			}
		})
	}
}

// TestScanYARAOff: a build without YARA refuses --yara-rules with an
// error that says how to get YARA, rather than scanning without the rules
// (which would pass a gate that the rules should fail), and says YARA is
// off in `seawall version`. Without --yara-rules it scans, EICAR included.
func TestScanYARAOff(t *testing.T) {
	if malware.YARAEnabled {
		t.Skip("this build has YARA")
	}
	img := riskyImage(t)
	code, out, stderr := runCLI(t, "scan", "image", img, "--scanners", "malware", "--yara-rules", t.TempDir(), "--format", "json", "--ignorefile", "")
	if code != ExitError || out != "" || !strings.Contains(stderr, "built without YARA") || !strings.Contains(stderr, "-tags yara") {
		t.Errorf("--yara-rules without YARA: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "YARA: off") {
		t.Errorf("version: exit %d, %q %q", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "scan", "image", img, "--scanners", "malware", "--format", "json", "--ignorefile", "", "--quiet")
	doc := reportOf(t, code, out, stderr)
	if got := findingSet(doc); !slices.Equal(got, []string{"malware SW-MAL-EICAR /opt/eicar.com"}) {
		t.Errorf("findings %v: EICAR must be found without YARA", got)
	}
}

func TestScanMalwareHashes(t *testing.T) {
	list := filepath.Join(t.TempDir(), "bad.txt")
	// sha256("\x7fELF helper")
	os.WriteFile(list, []byte("a3bbd6d5f1c5f95a4a37bfa0c9a1eb4f8b1c4e7f0a4b2f36a2e1c0b7e0f9d1aa not-this-one\n"+
		"7e1b59a4d5d39a3cdcbd1ebc1c8b73b3a5d3c3ed9b4c2d0fa3d62be8c29ae2b2 also-not\n"), 0o644)
	code, out, stderr := runCLI(t, "scan", "image", riskyImage(t), "--scanners", "malware", "--malware-hashes", list, "--format", "json", "--ignorefile", "", "--quiet")
	doc := reportOf(t, code, out, stderr)
	if got := findingSet(doc); !slices.Equal(got, []string{"malware SW-MAL-EICAR /opt/eicar.com"}) {
		t.Errorf("findings %v", got)
	}
}

func TestScanConfigCommand(t *testing.T) {
	dir := filepath.Join("..", "dockerfile", "testdata", "dockerfiles")
	t.Run("directory", func(t *testing.T) {
		code, out, stderr := runCLI(t, "scan", "config", dir, "--format", "json", "--ignorefile", "", "--exit-code", "1")
		doc := reportOf(t, code, out, stderr)
		if code != 1 || len(doc.Findings) < 40 {
			t.Fatalf("exit %d, %d findings: %s", code, len(doc.Findings), stderr)
		}
		if doc.Source.Type != "dir" || !slices.Equal(doc.Kinds, []string{inventory.KindMisconfiguration}) || doc.DB != nil || len(doc.Packages) != 0 {
			t.Errorf("source %+v kinds %v", doc.Source, doc.Kinds)
		}
		for _, f := range doc.Findings {
			if f.Kind != inventory.KindMisconfiguration || !strings.HasPrefix(f.ID, "SW-DF-") || f.Line == 0 {
				t.Errorf("finding %s %s:%d", f.ID, f.Location.Path, f.Line)
			}
		}
	})
	t.Run("one file", func(t *testing.T) {
		p := filepath.Join(dir, "08-final-user-root.Dockerfile")
		code, out, stderr := runCLI(t, "scan", "config", p, "--format", "sarif", "--ignorefile", "")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID    string
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatal(err)
		}
		res := log.Runs[0].Results
		if len(res) != 1 || res[0].RuleID != "SW-DF-001" || res[0].Locations[0].PhysicalLocation.Region.StartLine != 4 ||
			!strings.HasSuffix(res[0].Locations[0].PhysicalLocation.ArtifactLocation.URI, "08-final-user-root.Dockerfile") {
			t.Errorf("results %+v", res)
		}
	})
	t.Run("accepted by path", func(t *testing.T) {
		ign := filepath.Join(t.TempDir(), "ign")
		os.WriteFile(ign, []byte("misconfigurations:\n  - {id: SW-DF-001, paths: [\"**/08-*.Dockerfile\"], reason: r}\n"), 0o644)
		code, out, stderr := runCLI(t, "scan", "config", filepath.Join(dir, "08-final-user-root.Dockerfile"), "--format", "json", "--ignorefile", ign, "--exit-code", "1")
		doc := reportOf(t, code, out, stderr)
		if code != 0 || doc.Summary.Suppressed != 1 {
			t.Errorf("exit %d, summary %+v", code, doc.Summary)
		}
	})
	t.Run("no Dockerfiles", func(t *testing.T) {
		code, out, stderr := runCLI(t, "scan", "config", t.TempDir(), "--format", "json", "--ignorefile", "")
		doc := reportOf(t, code, out, stderr)
		if code != 0 || len(doc.Notices) != 1 || !strings.Contains(doc.Notices[0], "no Dockerfiles in") {
			t.Errorf("exit %d, notices %q", code, doc.Notices)
		}
	})
	t.Run("not a Dockerfile", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x")
		os.WriteFile(p, []byte("hello\n"), 0o644)
		code, _, stderr := runCLI(t, "scan", "config", p)
		if code != ExitError || !strings.Contains(stderr, "not checked") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

// TestScanDirDockerfiles: a source tree scan checks its Dockerfiles.
func TestScanDirDockerfiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "svc"), 0o755)
	os.WriteFile(filepath.Join(dir, "svc", "Dockerfile"), []byte("FROM debian\nUSER root\n"), 0o644)
	code, out, stderr := runCLI(t, "scan", "image", "--dir", dir, "--scanners", "config", "--format", "json", "--ignorefile", "", "--quiet")
	doc := reportOf(t, code, out, stderr)
	want := []string{
		"misconfiguration SW-DF-001 /svc/Dockerfile",
		"misconfiguration SW-DF-006 /svc/Dockerfile",
		"misconfiguration SW-DF-007 /svc/Dockerfile",
	}
	if diff := cmp.Diff(want, findingSet(doc)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
