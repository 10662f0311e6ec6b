package gate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/vex"
)

// TestApplyKinds checks the gates on secrets, malware and
// misconfigurations: --severity applies, --ignore-unfixed does not (they
// have no fixed version), the ignore file suppresses them by ID and path,
// and VEX, which speaks of vulnerabilities, never touches them.
func TestApplyKinds(t *testing.T) {
	secret := inventory.Finding{ID: "aws-access-token", Kind: inventory.KindSecret, Severity: inventory.SeverityCritical, Location: inventory.Location{Path: "/app/.env"}}
	testSecret := inventory.Finding{ID: "aws-access-token", Kind: inventory.KindSecret, Severity: inventory.SeverityCritical, Location: inventory.Location{Path: "/app/test/fixtures/.env"}}
	eicar := inventory.Finding{ID: "SW-MAL-EICAR", Kind: inventory.KindMalware, Severity: inventory.SeverityCritical, Location: inventory.Location{Path: "/eicar.com"}}
	root := inventory.Finding{ID: "SW-IMG-001", Kind: inventory.KindMisconfiguration, Severity: inventory.SeverityHigh, Location: inventory.Location{Path: inventory.PathImageConfig}}
	hc := inventory.Finding{ID: "SW-IMG-006", Kind: inventory.KindMisconfiguration, Severity: inventory.SeverityLow, Location: inventory.Location{Path: inventory.PathImageConfig}}
	// A misconfiguration whose ID a VEX statement names must stay active.
	clash := inventory.Finding{ID: "H1", Kind: inventory.KindMisconfiguration, Severity: inventory.SeverityHigh}

	ign, err := ignore.Parse([]byte(`secrets:
  - id: aws-access-token
    paths: ["**/test/**"]
    reason: fixtures
misconfigurations:
  - id: SW-IMG-006
    reason: probes
`), ".seawallignore")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := vex.Parse([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","timestamp":"2025-01-01T00:00:00Z","version":1,
 "statements":[{"vulnerability":{"name":"H1"},"products":[{"@id":"pkg:npm/pkg-h1@1.0.0"}],"status":"not_affected","justification":"component_not_present"}]}`), "v.json")
	if err != nil {
		t.Fatal(err)
	}

	r := report(secret, testSecret, clash, eicar, root, hc, high, med)
	res, err := Apply(r, Options{IgnoreUnfixed: true, Severities: []inventory.Severity{inventory.SeverityCritical, inventory.SeverityHigh, inventory.SeverityLow}, Ignore: ign, VEX: []*vex.Document{doc}, ExitCode: 3, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// H1 (the vulnerability) has no fix and is dropped by --ignore-unfixed;
	// M1 by --severity. Vulnerabilities come first.
	if diff := cmp.Diff([]string{"aws-access-token", "aws-access-token", "H1", "SW-MAL-EICAR", "SW-IMG-001", "SW-IMG-006"}, ids(r)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	suppressed := map[string]bool{}
	for _, f := range r.Findings {
		if f.Suppression != nil {
			suppressed[f.ID+" "+f.Location.Path] = true
		}
	}
	want := map[string]bool{"aws-access-token /app/test/fixtures/.env": true, "SW-IMG-006 image config": true}
	if diff := cmp.Diff(want, suppressed); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	if res.Active != 4 || res.Suppressed != 2 || res.Filtered != 2 || res.ExitCode != 3 {
		t.Errorf("result %+v", res)
	}
}
