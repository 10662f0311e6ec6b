package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/malware"
)

// TestScanEICARInOCIArchive is the acceptance test end to end:
// EICAR, decoded from the base64 fixture, in the second of three layers
// of an OCI archive, is reported by `seawall scan image` with that
// layer's digest and diff ID, also when the third layer deletes it.
func TestScanEICARInOCIArchive(t *testing.T) {
	e := eicarFile(t)
	layers := []imagetest.Layer{
		imagetest.NewLayer(true, imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=12\n")),
		imagetest.NewLayer(true, imagetest.File("srv/eicar.com", e), imagetest.File("srv/gone.txt", e+"\r\n")),
		imagetest.NewLayer(false, imagetest.Whiteout("srv/gone.txt"), imagetest.File("srv/readme", "hi\n")),
	}
	p := filepath.Join(t.TempDir(), "img.oci.tar")
	if err := imagetest.OCIArchive(p, "eicar:1", layers); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "scan", "image", p, "--scanners", "malware", "--format", "json", "--quiet", "--ignorefile", "", "--exit-code", "3")
	doc := reportOf(t, code, out, stderr)
	if code != 3 {
		t.Errorf("exit %d, want 3: %s", code, stderr)
	}
	type where struct {
		ID, Path, Digest, DiffID string
		Hidden                   bool
	}
	var got []where
	for _, f := range doc.Findings {
		got = append(got, where{f.ID, f.Location.Path, f.Location.LayerDigest, f.Location.LayerDiffID, f.Hidden})
	}
	l := layers[1]
	want := []where{
		{malware.IDEICAR, "/srv/eicar.com", imagetest.Digest(l.Blob), imagetest.Digest(l.Tar), false},
		{malware.IDEICAR, "/srv/gone.txt", imagetest.Digest(l.Blob), imagetest.Digest(l.Tar), true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// sarifOf reads a SARIF log's rules (by ID) and its results' rule IDs.
func sarifOf(t *testing.T, code int, out, stderr string) (map[string]sarifTestRule, []string) {
	t.Helper()
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []sarifTestRule }
			}
			Results []struct{ RuleID string }
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 {
		t.Fatalf("exit %d, not a SARIF log: %v\n%s\n%s", code, err, out, stderr)
	}
	rules := map[string]sarifTestRule{}
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		rules[r.ID] = r
	}
	var ids []string
	for _, r := range log.Runs[0].Results {
		ids = append(ids, r.RuleID)
	}
	slices.Sort(ids)
	return rules, ids
}

type sarifTestRule struct {
	ID   string
	Help struct{ Text, Markdown string }
}

// TestScanRiskSARIF: malware and configuration findings reach SARIF as
// results of rules with help text (what the check is, how to fix it, the
// CIS recommendation), and an ignore file removes them from it.
func TestScanRiskSARIF(t *testing.T) {
	img := riskyImage(t)
	code, out, stderr := runCLI(t, "scan", "image", img, "--scanners", "malware,config", "--format", "sarif", "--quiet", "--ignorefile", "")
	rules, ids := sarifOf(t, code, out, stderr)
	want := []string{"SW-IMG-001", "SW-IMG-002", "SW-IMG-002", "SW-IMG-004", "SW-IMG-006", "SW-IMG-007", "SW-MAL-EICAR"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for id, needs := range map[string][]string{
		"SW-MAL-EICAR": {"EICAR", "How to fix"},
		"SW-IMG-001":   {"runs as root", "How to fix", "CIS Docker Benchmark v1.6.0, recommendation 4.1"},
		"SW-IMG-007":   {"setuid", "How to fix", "recommendation 4.8"},
	} {
		r, ok := rules[id]
		if !ok {
			t.Errorf("no SARIF rule %s", id)
			continue
		}
		for _, s := range needs {
			if !strings.Contains(r.Help.Text, s) || r.Help.Markdown == "" {
				t.Errorf("rule %s help lacks %q:\n%s", id, s, r.Help.Text)
			}
		}
	}

	ign := filepath.Join(t.TempDir(), "ignore.yaml")
	os.WriteFile(ign, []byte("malware:\n  - {id: SW-MAL-EICAR, reason: gate self-test}\nmisconfigurations:\n  - {id: SW-IMG-007, paths: [/usr/local/bin/*], reason: needed}\n  - {id: SW-IMG-002, reason: r}\n"), 0o644)
	code, out, stderr = runCLI(t, "scan", "image", img, "--scanners", "malware,config", "--format", "sarif", "--quiet", "--ignorefile", ign)
	rules, ids = sarifOf(t, code, out, stderr)
	if diff := cmp.Diff([]string{"SW-IMG-001", "SW-IMG-004", "SW-IMG-006"}, ids); diff != "" {
		t.Errorf("results with the ignore file (-want +got):\n%s", diff)
	}
	for _, id := range []string{"SW-MAL-EICAR", "SW-IMG-007"} {
		if _, ok := rules[id]; ok {
			t.Errorf("a SARIF rule for the ignored %s", id)
		}
	}
}

// TestScanConfigSARIFHelp: `scan config` findings carry the same rule help.
func TestScanConfigSARIFHelp(t *testing.T) {
	p := filepath.Join("..", "dockerfile", "testdata", "dockerfiles", "03-ssh-sudo-no-tag.Dockerfile")
	code, out, stderr := runCLI(t, "scan", "config", p, "--format", "sarif", "--ignorefile", "")
	rules, ids := sarifOf(t, code, out, stderr)
	if len(ids) == 0 {
		t.Fatalf("no results: %s", stderr)
	}
	for _, id := range ids {
		r := rules[id]
		if !strings.Contains(r.Help.Text, "How to fix") {
			t.Errorf("rule %s help lacks how to fix:\n%s", id, r.Help.Text)
		}
	}
	if r := rules["SW-DF-008"]; !strings.Contains(r.Help.Text, "recommendation 4.3") {
		t.Errorf("SW-DF-008 help does not name CIS 4.3:\n%s", r.Help.Text)
	}
}
