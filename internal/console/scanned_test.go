package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// TestScannedArtifactPages checks the pages of an image the server
// scanned on push, and the SBOM downloads, over plain HTTP.
func TestScannedArtifactPages(t *testing.T) {
	e := newEnv(t, withVulnDB(t))
	e.project("team", false)
	e.setPolicy("team", verdict.Policy{ScanOnPush: true, PreventSeverity: "HIGH"})
	e.user("dev", map[string]store.Role{"team": store.RoleGuest})
	digest := e.push("team/app", "v1", vulnerableImage(t))
	e.waitScan("team/app", digest)
	c := e.client()
	e.login(c, "dev", userPW)

	repo := e.get(c, "/projects/team/repos/app")
	for _, want := range []string{`<span class="n">1</span> CRITICAL`, `<span class="verdict denied">denied</span>`} {
		if !strings.Contains(repo.body, want) {
			t.Errorf("repository page lacks %q\n%s", want, repo.body)
		}
	}
	art := "/projects/team/repos/app/-/artifacts/" + digest
	p := e.get(c, art)
	for _, want := range []string{
		`<span class="id">CVE-2021-44906</span><br><span class="aliases">GHSA-xvch-5gv4-984h</span>`, "<td>minimist <span class=\"hint\">(npm)</span></td>",
		"<code>1.2.5</code>", "<code>1.2.6</code>", `data-sort="CRITICAL"`, "<strong>prevent-severity</strong>: failed",
		`href="` + art + `/sbom.cdx.json"`, `href="` + art + `/sbom.spdx.json"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("artifact page lacks %q\n%s", want, p.body)
		}
	}

	for _, tc := range []struct{ file, ctype, marker string }{
		{"sbom.cdx.json", "application/vnd.cyclonedx+json", `"specVersion": "1.6"`},
		{"sbom.spdx.json", "application/spdx+json", `"spdxVersion": "SPDX-2.3"`},
	} {
		a := e.get(c, art+"/"+tc.file)
		b := e.get(c, art+"/"+tc.file)
		if a.status != 200 || a.header.Get("Content-Type") != tc.ctype || !strings.HasPrefix(a.header.Get("Content-Disposition"), "attachment; ") {
			t.Errorf("%s: %d %q %q", tc.file, a.status, a.header.Get("Content-Type"), a.header.Get("Content-Disposition"))
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(a.body)); err != nil {
			t.Errorf("%s is not JSON: %v", tc.file, err)
		}
		if !strings.Contains(strings.ReplaceAll(a.body, `":"`, `": "`), tc.marker) {
			t.Errorf("%s lacks %s", tc.file, tc.marker)
		}
		if a.body != b.body {
			t.Errorf("two downloads of %s differ", tc.file)
		}
	}
}

// TestIndexPage checks that an index lists its platforms, each a page.
func TestIndexPage(t *testing.T) {
	e := newEnv(t)
	e.project("team", false)
	e.user("dev", map[string]store.Role{"team": store.RoleDeveloper})
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(e.host+"/team/multi:v1", name.Insecure)
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(&authn.Basic{Username: "admin", Password: adminPW})); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	im, _ := idx.IndexManifest()
	c := e.client()
	e.login(c, "dev", userPW)
	repo := e.get(c, "/projects/team/repos/multi")
	if !strings.Contains(repo.body, "2 platforms") || !strings.Contains(repo.body, "per platform: open the index") {
		t.Errorf("repository page does not show the index as one\n%s", repo.body)
	}
	p := e.get(c, "/projects/team/repos/multi/-/artifacts/"+d.String())
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="platforms"`) {
		t.Fatalf("index page: %d\n%s", p.status, p.body)
	}
	for _, m := range im.Manifests {
		href := "/projects/team/repos/multi/-/artifacts/" + m.Digest.String()
		if !strings.Contains(p.body, `href="`+href+`"`) {
			t.Errorf("index page does not link %s", href)
		}
		if cp := e.get(c, href); cp.status != http.StatusOK || !strings.Contains(cp.body, "Not scanned.") {
			t.Errorf("platform page %s: %d", href, cp.status)
		}
	}
	// The digest form leads to the same page.
	if r := e.get(c, "/projects/team/repos/multi/-/artifacts?digest="+d.String()); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != "/projects/team/repos/multi/-/artifacts/"+d.String() {
		t.Errorf("digest form: %d %q", r.status, r.header.Get("Location"))
	}
	// So does the form without "/-/" (the pull policy's 412 message once used it).
	if r := e.get(c, "/projects/team/repos/multi/artifacts/"+d.String()); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != "/projects/team/repos/multi/-/artifacts/"+d.String() {
		t.Errorf("artifact link without /-/: %d %q", r.status, r.header.Get("Location"))
	}
	if r := e.get(c, "/projects/team/repos/multi/-/artifacts?digest=latest"); r.status != http.StatusBadRequest {
		t.Errorf("digest form with a tag: %d, want 400", r.status)
	}
}

// TestQueuedScan shows an image whose scan cannot run yet (the server has
// no vulnerability database): queued, with the reason for system admins
// only, and no findings or SBOM.
func TestQueuedScan(t *testing.T) {
	e := newEnv(t)
	e.project("team", false)
	e.setPolicy("team", verdict.Policy{ScanOnPush: true})
	e.user("dev", map[string]store.Role{"team": store.RoleDeveloper})
	d := e.push("team/app", "v1", vulnerableImage(t))
	deadline := time.Now().Add(time.Minute)
	for {
		jobs, err := e.srv.Store().ScanJobs(context.Background(), "team/app", d)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && jobs[0].LastError != "" && jobs[0].Owner == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scan job did not fail its first attempt within a minute: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin, dev := e.client(), e.client()
	e.login(admin, "admin", adminPW)
	e.login(dev, "dev", userPW)
	art := "/projects/team/repos/app/-/artifacts/" + d
	for _, tc := range []struct {
		name  string
		c     *http.Client
		want  []string
		lacks []string
	}{
		{"admin", admin, []string{"Not scanned yet: a scan is queued (push", "the last attempt failed: no vulnerability database"}, []string{`id="findings"`, `id="sbom"`}},
		{"developer", dev, []string{"Not scanned yet: a scan is queued (push", "the last attempt failed and will be retried"}, []string{"no vulnerability database", `id="findings"`, `id="sbom"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(tc.c, art)
			for _, w := range tc.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("artifact page lacks %q\n%s", w, p.body)
				}
			}
			for _, w := range tc.lacks {
				if strings.Contains(p.body, w) {
					t.Errorf("artifact page shows %q", w)
				}
			}
		})
	}
	if p := e.get(dev, "/projects/team/repos/app"); !strings.Contains(p.body, `<span class="state">queued</span>`) {
		t.Errorf("repository page does not say queued\n%s", p.body)
	}
	if p := e.get(dev, art+"/sbom.cdx.json"); p.status != http.StatusNotFound {
		t.Errorf("SBOM of an unscanned image: %d, want 404", p.status)
	}
}
