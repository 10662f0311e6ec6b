package console_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// TestBrowserFlow drives the real chromium through the console as a
// developer: login → projects → project → repository (with the
// vulnerability summary) → artifact → findings → SBOM downloads →
// logout. The image was pushed with a real registry client into a
// project that scans on push and blocks HIGH, and scanned by the server
// against an OSV record from testdata. The test fails on any console
// error or warning, uncaught exception, browser log error (CSP reports
// land there) and any 4xx/5xx response for a page or its resources.
func TestBrowserFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium; skipped with -short")
	}
	ctx, probs, downloads := newBrowser(t)
	e := newEnv(t, withVulnDB(t))
	e.project("team", false)
	e.project("open", true)
	e.project("secret", false)
	e.setPolicy("team", verdict.Policy{ScanOnPush: true, PreventSeverity: "HIGH"})
	e.user("dev", map[string]store.Role{"team": store.RoleDeveloper})
	digest := e.push("team/app/web", "v1", vulnerableImage(t))
	e.push("secret/x", "v1", nil)
	e.waitScan("team/app/web", digest)

	contains := func(where, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", where, w, got)
			}
		}
	}

	step(t, ctx, probs, "open the console",
		chromedp.Navigate(e.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
	step(t, ctx, probs, "log in",
		chromedp.SendKeys(chromedp.ID("username"), "dev"),
		chromedp.SendKeys(chromedp.ID("password"), userPW),
		chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("projects")),
	)
	got := pageText(t, ctx, "main")
	contains("projects page", got, "team", "open", "developer")
	if strings.Contains(got, "secret") {
		t.Errorf("projects page shows the project secret, which dev may not see:\n%s", got)
	}

	step(t, ctx, probs, "open the project",
		chromedp.Click(chromedp.CSS(`a[href="/projects/team"]`)),
		chromedp.WaitVisible(chromedp.ID("repositories")),
	)
	contains("project page", pageText(t, ctx, "#repositories"), "app/web")

	step(t, ctx, probs, "open the repository",
		chromedp.Click(chromedp.CSS(`a[href="/projects/team/repos/app/web"]`)),
		chromedp.WaitVisible(chromedp.ID("artifacts")),
	)
	contains("repository page", pageText(t, ctx, "#artifacts"), digest[:19], "v1", "image", "1 CRITICAL", "denied", "unsigned")

	step(t, ctx, probs, "open the artifact",
		chromedp.Click(chromedp.CSS(`#artifacts a[href$="`+digest+`"]`)),
		chromedp.WaitVisible(chromedp.ID("findings")),
	)
	contains("artifact page", pageText(t, ctx, "main"), digest, "v1", "Scanned", "denied", "prevent-severity",
		"No cosign signature was found", "CycloneDX JSON", "SPDX JSON")
	contains("findings table", pageText(t, ctx, "#findings"),
		"GHSA-xvch-5gv4-984h", "CVE-2021-44906", "minimist", "1.2.5", "1.2.6", "CRITICAL", "Prototype Pollution in minimist")

	// The script makes the findings table sortable; sorting must work
	// and raise nothing.
	step(t, ctx, probs, "sort the findings by severity",
		chromedp.Click(chromedp.CSS(`#findings thead th:nth-child(5) button.sort`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings thead th[aria-sort="descending"]`)),
	)

	cdx := download(t, ctx, probs, downloads, "#sbom-cdx")
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			PURL    string `json:"purl"`
		} `json:"components"`
	}
	if err := json.Unmarshal(cdx, &bom); err != nil {
		t.Fatalf("CycloneDX download is not JSON: %v\n%s", err, cdx)
	}
	if bom.BOMFormat != "CycloneDX" || !strings.Contains(string(cdx), `"pkg:npm/minimist@1.2.5"`) {
		t.Errorf("CycloneDX download: format %q, want CycloneDX with pkg:npm/minimist@1.2.5:\n%s", bom.BOMFormat, cdx)
	}
	spdx := download(t, ctx, probs, downloads, "#sbom-spdx")
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name        string `json:"name"`
			VersionInfo string `json:"versionInfo"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(spdx, &doc); err != nil {
		t.Fatalf("SPDX download is not JSON: %v\n%s", err, spdx)
	}
	if doc.SPDXVersion != "SPDX-2.3" || !strings.Contains(string(spdx), `"minimist"`) {
		t.Errorf("SPDX download: version %q, want SPDX-2.3 naming minimist:\n%s", doc.SPDXVersion, spdx)
	}

	step(t, ctx, probs, "log out",
		chromedp.Click(chromedp.CSS(`.account button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
}
