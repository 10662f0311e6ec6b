package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/vex"
)

// now is the fake clock's time for every test that does not move it.
var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func f(id string, sev inventory.Severity, status string, fixed ...string) inventory.Finding {
	return inventory.Finding{
		ID: id, Kind: inventory.KindVulnerability, Severity: sev, Status: status, FixedVersions: fixed,
		PackageName: "pkg-" + id, PackageType: inventory.TypeNPM, InstalledVersion: "1.0.0",
		PURL: "pkg:npm/pkg-" + strings.ToLower(id) + "@1.0.0",
	}
}

func report(findings ...inventory.Finding) *inventory.Report {
	return &inventory.Report{Findings: findings}
}

func ids(r *inventory.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID)
	}
	return out
}

var (
	crit      = f("C1", inventory.SeverityCritical, inventory.StatusFixed, "1.0.1")
	high      = f("H1", inventory.SeverityHigh, inventory.StatusUnfixed)
	med       = f("M1", inventory.SeverityMedium, inventory.StatusFixed, "2.0.0")
	low       = f("L1", inventory.SeverityLow, inventory.StatusUnfixed)
	unknown   = f("U1", inventory.SeverityUnknown, inventory.StatusFixed, "1.1")
	withdrawn = f("W1", inventory.SeverityCritical, inventory.StatusWithdrawn)
)

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		findings []inventory.Finding
		opts     Options
		wantIDs  []string
		want     Result
	}{
		{"nothing found", nil, Options{ExitCode: 1}, nil, Result{}},
		{"all kept, exit code", []inventory.Finding{crit, high, med, low, unknown}, Options{ExitCode: 1},
			[]string{"C1", "H1", "M1", "L1", "U1"}, Result{Active: 5, ExitCode: 1}},
		{"exit code 0 never fails", []inventory.Finding{crit}, Options{},
			[]string{"C1"}, Result{Active: 1}},
		{"custom exit code", []inventory.Finding{crit}, Options{ExitCode: 7},
			[]string{"C1"}, Result{Active: 1, ExitCode: 7}},
		{"severity filter", []inventory.Finding{crit, high, med, low, unknown}, Options{ExitCode: 1, Severities: []inventory.Severity{inventory.SeverityCritical, inventory.SeverityHigh}},
			[]string{"C1", "H1"}, Result{Filtered: 3, Active: 2, ExitCode: 1}},
		{"severity filter leaves nothing: pass", []inventory.Finding{med, low}, Options{ExitCode: 1, Severities: []inventory.Severity{inventory.SeverityCritical}},
			nil, Result{Filtered: 2}},
		{"UNKNOWN is a severity like the others", []inventory.Finding{crit, unknown}, Options{ExitCode: 1, Severities: []inventory.Severity{inventory.SeverityUnknown}},
			[]string{"U1"}, Result{Filtered: 1, Active: 1, ExitCode: 1}},
		{"ignore unfixed", []inventory.Finding{crit, high, med, low}, Options{ExitCode: 1, IgnoreUnfixed: true},
			[]string{"C1", "M1"}, Result{Filtered: 2, Active: 2, ExitCode: 1}},
		{"ignore unfixed: a fixed version without the status still counts", []inventory.Finding{f("X", inventory.SeverityHigh, "", "1.2")}, Options{ExitCode: 1, IgnoreUnfixed: true},
			[]string{"X"}, Result{Active: 1, ExitCode: 1}},
		{"ignore unfixed drops withdrawn without a fix", []inventory.Finding{withdrawn}, Options{IgnoreUnfixed: true},
			nil, Result{Filtered: 1}},
		{"withdrawn never fails", []inventory.Finding{withdrawn}, Options{ExitCode: 1},
			[]string{"W1"}, Result{Withdrawn: 1}},
		{"both filters", []inventory.Finding{crit, high, med}, Options{ExitCode: 1, IgnoreUnfixed: true, Severities: []inventory.Severity{inventory.SeverityHigh, inventory.SeverityCritical}},
			[]string{"C1"}, Result{Filtered: 2, Active: 1, ExitCode: 1}},
		{"suppressed by the ignore file: pass", []inventory.Finding{crit, withdrawn}, Options{ExitCode: 1, Ignore: &ignore.File{Name: "ign", Entries: []ignore.Entry{{ID: "C1", Reason: "accepted", Line: 2}}}},
			[]string{"C1", "W1"}, Result{Suppressed: 1, Withdrawn: 1}},
		{"suppressed by alias", []inventory.Finding{func() inventory.Finding { x := crit; x.Aliases = []string{"CVE-2024-9"}; return x }()},
			Options{ExitCode: 1, Ignore: &ignore.File{Name: "ign", Entries: []ignore.Entry{{ID: "cve-2024-9", Reason: "accepted", Line: 2}}}},
			[]string{"C1"}, Result{Suppressed: 1}},
		{"one suppressed, one still failing", []inventory.Finding{crit, high}, Options{ExitCode: 1, Ignore: &ignore.File{Name: "ign", Entries: []ignore.Entry{{ID: "C1", Reason: "accepted", Line: 2}}}},
			[]string{"C1", "H1"}, Result{Suppressed: 1, Active: 1, ExitCode: 1}},
		{"expired entry stops suppressing and says so", []inventory.Finding{crit}, Options{ExitCode: 1, Ignore: &ignore.File{Name: "ign", Entries: []ignore.Entry{{ID: "C1", Reason: "accepted", Line: 2, Expires: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)}}}},
			[]string{"C1"}, Result{Active: 1, ExitCode: 1, Notices: []string{"ign:2: the ignore entry for C1 expired at the end of 2025-02-28: it no longer suppresses 1 finding; fix it, or renew the entry with a new reason and date"}}},
		{"suppressed by VEX", []inventory.Finding{crit}, Options{ExitCode: 1, VEX: []*vex.Document{{Name: "v.json", Statements: []vex.Statement{{
			Vulnerability: vex.Vulnerability{Name: "C1"}, Products: []vex.Product{{Component: vex.Component{ID: "pkg:npm/pkg-c1"}}},
			Status: vex.StatusNotAffected, Justification: vex.VulnerableCodeNotInExecutePath}}}}},
			[]string{"C1"}, Result{Suppressed: 1, Notices: []string{"VEX v.json: 1 not affected (suppressed)"}}},
		{"VEX affected still fails", []inventory.Finding{crit}, Options{ExitCode: 1, VEX: []*vex.Document{{Name: "v.json", Statements: []vex.Statement{{
			Vulnerability: vex.Vulnerability{Name: "C1"}, Products: []vex.Product{{Component: vex.Component{ID: "pkg:npm/pkg-c1"}}}, Status: vex.StatusAffected}}}}},
			[]string{"C1"}, Result{Active: 1, ExitCode: 1, Notices: []string{"VEX v.json: 1 affected"}}},
		{"filters before suppression: a filtered finding is not counted as suppressed", []inventory.Finding{low}, Options{ExitCode: 1, Severities: []inventory.Severity{inventory.SeverityCritical},
			Ignore: &ignore.File{Name: "ign", Entries: []ignore.Entry{{ID: "L1", Reason: "accepted", Line: 2}}}},
			nil, Result{Filtered: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = now
			r := report(tt.findings...)
			got, err := Apply(r, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantIDs, ids(r)); diff != "" {
				t.Errorf("findings kept (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyClock moves a fake clock across an ignore entry's expiry: the
// gate passes through the last day and fails from the next.
func TestApplyClock(t *testing.T) {
	file := &ignore.File{Name: ".seawallignore", Entries: []ignore.Entry{
		{ID: "C1", Reason: "vendor fix due in March", Line: 4, Expires: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)},
	}}
	tests := []struct {
		now          time.Time
		wantExit     int
		wantNotices  int
		wantExpires  time.Time
		wantSuppress bool
	}{
		{time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 0, 0, time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC), 0, 0, time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), 3, 1, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			r := report(crit)
			res, err := Apply(r, Options{ExitCode: 3, Ignore: file, Now: tt.now})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.wantExit || len(res.Notices) != tt.wantNotices {
				t.Errorf("exit %d with notices %q; want exit %d and %d notices", res.ExitCode, res.Notices, tt.wantExit, tt.wantNotices)
			}
			s := r.Findings[0].Suppression
			if (s != nil) != tt.wantSuppress {
				t.Fatalf("suppression %+v, want suppressed=%v", s, tt.wantSuppress)
			}
			if s != nil && !s.Expires.Equal(tt.wantExpires) {
				t.Errorf("suppression expires %v, want %v", s.Expires, tt.wantExpires)
			}
		})
	}
}

func TestApplyDoesNotAlias(t *testing.T) {
	findings := []inventory.Finding{low, crit}
	r := report(findings...)
	if _, err := Apply(r, Options{Now: now, Severities: []inventory.Severity{inventory.SeverityCritical}}); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].ID != "C1" {
		t.Fatalf("kept %v", ids(r))
	}
	if cap(r.Findings) > 1 && r.Findings[:2][1].ID != "" {
		t.Errorf("the dropped tail still holds a finding: %+v", r.Findings[:2][1])
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"ok", Options{Now: now, ExitCode: 1}, ""},
		{"no clock", Options{ExitCode: 1}, "Now is not set"},
		{"negative exit code", Options{Now: now, ExitCode: -1}, "--exit-code -1"},
		{"exit code too large", Options{Now: now, ExitCode: 126}, "--exit-code 126"},
		{"bad severity", Options{Now: now, Severities: []inventory.Severity{9}}, "severity 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if _, err := Apply(report(crit), tt.opts); err == nil {
				t.Error("Apply accepted invalid options")
			}
		})
	}
}

func TestParseSeverities(t *testing.T) {
	tests := []struct {
		in      string
		want    []inventory.Severity
		wantErr string
	}{
		{"CRITICAL,HIGH", []inventory.Severity{inventory.SeverityHigh, inventory.SeverityCritical}, ""},
		{"high, critical", []inventory.Severity{inventory.SeverityHigh, inventory.SeverityCritical}, ""},
		{"UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", AllSeverities, ""},
		{"moderate,important", []inventory.Severity{inventory.SeverityMedium, inventory.SeverityHigh}, ""},
		{"HIGH,HIGH,", []inventory.Severity{inventory.SeverityHigh}, ""},
		{"", nil, "--severity is empty"},
		{" , ", nil, "--severity is empty"},
		{"HIGH,SEVERE", nil, `unknown severity "SEVERE"`},
		{"NONE", nil, `unknown severity "NONE"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeverities(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
