package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/testsupport"
	"github.com/seawall-dev/seawall/internal/verdict"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// pipelineEnv is a server with a vulnerability database (the Debian
// records of testdata/pipeline), a fake clock, and project team with a
// developer (dev) and a guest (viewer).
type pipelineEnv struct {
	*testEnv
	clock   *testsupport.Clock
	dbDir   string
	admin   string // Authorization header
	devAuth authn.Authenticator
}

const (
	devPW    = "dev-password-1"
	viewerPW = "viewer-password-1"
)

func newPipelineEnv(t *testing.T, mutate ...func(*Config)) *pipelineEnv {
	t.Helper()
	dbDir := t.TempDir()
	importAdvisories(t, dbDir, "testdata/pipeline/advisories.json")
	clock := testsupport.NewClock(time.Now())
	e := newTestEnv(t, append([]func(*Config){func(c *Config) {
		c.Scan.DB = dbDir
		c.Scan.ReloadPeriod = time.Second
		c.Scan.Lease = 3 * time.Second
		c.Now = clock.Now
	}}, mutate...)...)
	pe := &pipelineEnv{testEnv: e, clock: clock, dbDir: dbDir, devAuth: &authn.Basic{Username: "dev", Password: devPW}}
	pe.admin = e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", pe.admin, createProjectRequest{Name: "team"}, nil)
	for _, u := range []struct{ name, pw, role string }{{"dev", devPW, "developer"}, {"viewer", viewerPW, "guest"}} {
		e.must(http.StatusCreated, "POST", "/api/v1/users", pe.admin, createUserRequest{Username: u.name, Password: u.pw}, nil)
		e.must(http.StatusOK, "PUT", "/api/v1/projects/team/members/"+u.name, pe.admin, setMemberRequest{Role: u.role}, nil)
	}
	return pe
}

func importAdvisories(t *testing.T, dbDir string, files ...string) {
	t.Helper()
	var in []vulndb.Input
	for _, f := range files {
		in = append(in, vulndb.Input{Location: f, Name: filepath.Base(f)})
	}
	if _, err := vulndb.Import(context.Background(), vulndb.Path(dbDir), in, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// statusImage is a small Debian 12 image whose packages are those of a
// dpkg status file, plus a file that makes it unique to seed.
func statusImage(t *testing.T, statusFile, seed string) v1.Image {
	t.Helper()
	status, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	layers := []imagetest.Layer{imagetest.NewLayer(true,
		imagetest.File("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
		imagetest.File("var/lib/dpkg/status", string(status)),
		imagetest.File("etc/seed", seed),
	)}
	dir := t.TempDir()
	if err := imagetest.OCILayout(dir, "img", layers); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := ii.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func (e *pipelineEnv) pushImage(t *testing.T, repo string, img v1.Image, a authn.Authenticator) string {
	t.Helper()
	if err := remote.Write(e.ref(repo), img, remote.WithAuth(a)); err != nil {
		t.Fatalf("push %s: %v", repo, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func (e *pipelineEnv) setPolicy(t *testing.T, patch policyPatch) policyJSON {
	t.Helper()
	var out policyJSON
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/team/policy", e.admin, patch, &out)
	return out
}

// scanned waits until repo:ref has a scan result.
func (e *pipelineEnv) scanned(t *testing.T, repo, ref string) scanStatusJSON {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var st scanStatusJSON
		e.must(http.StatusOK, "GET", "/api/v1/scan?repository="+repo+"&reference="+ref, e.admin, nil, &st)
		if st.Status == "scanned" || st.Status == "failed" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:%s not scanned after 3 minutes: %+v", repo, ref, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getManifest GETs (or HEADs) a manifest as user with Basic auth.
func (e *pipelineEnv) getManifest(t *testing.T, method, repo, ref, user, pw, userAgent string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+"/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pw)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func TestPullPolicy(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("HIGH")})

	vuln := e.pushImage(t, "team/app:v1", statusImage(t, "testdata/pipeline/downgraded-status", "vuln"), e.devAuth)
	st := e.scanned(t, "team/app", "v1")
	if st.Digest != vuln || st.Verdict == nil || st.Verdict.Allowed || st.Verdict.WorstSeverity != "HIGH" || st.DBBuiltAt == nil {
		t.Fatalf("scan status = %+v", st)
	}
	high := highIDs(st)
	if len(high) == 0 {
		t.Fatal("no HIGH finding in the downgraded image")
	}

	// A developer's pull is refused with 412 and a readable message.
	code, body := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, "")
	if code != http.StatusPreconditionFailed || !isOCIError([]byte(body), "DENIED") {
		t.Fatalf("pull: %d %s; want 412 DENIED", code, body)
	}
	for _, want := range []string{"prevent-severity", "worst severity: HIGH", "seawall scan status", "team/app@" + vuln, "/projects/team/repos/app/-/artifacts/" + vuln} {
		if !strings.Contains(body, want) {
			t.Errorf("the 412 body does not say %q: %s", want, body)
		}
	}
	// By digest too; HEAD is never refused.
	if code, _ := e.getManifest(t, "GET", "team/app", vuln, "dev", devPW, ""); code != http.StatusPreconditionFailed {
		t.Errorf("pull by digest: %d, want 412", code)
	}
	if code, _ := e.getManifest(t, "HEAD", "team/app", "v1", "dev", devPW, ""); code != http.StatusOK {
		t.Errorf("HEAD: %d, want 200", code)
	}
	// cosign with push permission reads it (to sign it); cosign as a
	// guest does not, and neither does a client merely calling itself cosign
	// without push rights.
	if code, body := e.getManifest(t, "GET", "team/app", vuln, "dev", devPW, "cosign/v2.6.5 (linux; amd64)"); code != http.StatusOK {
		t.Errorf("cosign as a developer: %d %s, want 200", code, body)
	}
	if code, _ := e.getManifest(t, "GET", "team/app", vuln, "viewer", viewerPW, "cosign/v2.6.5 (linux; amd64)"); code != http.StatusPreconditionFailed {
		t.Errorf("cosign as a guest: %d, want 412", code)
	}
	// go-containerregistry sees the refusal as an error naming the policy.
	if err := e.pull("team/app:v1", e.devAuth); err == nil || !strings.Contains(err.Error(), "prevent-severity") {
		t.Errorf("ggcr pull: %v", err)
	}

	// Allow the HIGH CVEs until a date: the pull succeeds, and the
	// verdict says when it will change.
	var allow []verdict.AllowEntry
	expires := e.clock.Now().AddDate(0, 1, 0).UTC()
	for _, id := range high {
		allow = append(allow, verdict.AllowEntry{ID: id, Expires: expires.Format(time.DateOnly), Reason: "not reachable in this service (TEAM-1)"})
	}
	e.setPolicy(t, policyPatch{Allow: allow})
	if code, body := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, ""); code != http.StatusOK {
		t.Fatalf("pull with the CVEs allowed: %d %s", code, body)
	}
	var after scanStatusJSON
	e.must(http.StatusOK, "GET", "/api/v1/scan?repository=team/app&reference=v1", e.admin, nil, &after)
	if !after.Verdict.Allowed || after.Verdict.Allowlisted == 0 || after.Verdict.NextChange.IsZero() {
		t.Fatalf("verdict with the allowlist = %+v", after.Verdict)
	}
	// Past the expiry, refused again.
	e.clock.Advance(40 * 24 * time.Hour)
	if code, body := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, ""); code != http.StatusPreconditionFailed {
		t.Fatalf("pull after the allowlist expired: %d %s", code, body)
	}

	// The minbase image pulls fine. (The admin's API token expired with
	// the clock's jump.)
	e.admin = e.login("admin", adminPW)
	e.pushImage(t, "team/base:v1", statusImage(t, "testdata/pipeline/minbase-status", "base"), e.devAuth)
	if st := e.scanned(t, "team/base", "v1"); !st.Verdict.Allowed {
		t.Fatalf("minbase verdict = %+v", st.Verdict)
	}
	if err := e.pull("team/base:v1", e.devAuth); err != nil {
		t.Errorf("pull of minbase: %v", err)
	}
}

func highIDs(st scanStatusJSON) []string {
	seen := map[string]bool{}
	var ids []string
	for _, f := range st.Findings {
		if f.Severity.String() == "HIGH" || f.Severity.String() == "CRITICAL" {
			if !seen[f.ID] {
				seen[f.ID] = true
				ids = append(ids, f.ID)
			}
		}
	}
	return ids
}

func ptr[T any](v T) *T { return &v }

func TestPreventUnscannedAndSignature(t *testing.T) {
	e := newPipelineEnv(t)
	// No scan on push: the image stays unscanned and is refused.
	e.setPolicy(t, policyPatch{PreventUnscanned: ptr(true)})
	e.pushImage(t, "team/app:v1", statusImage(t, "testdata/pipeline/minbase-status", "x"), e.devAuth)
	code, body := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, "")
	if code != http.StatusPreconditionFailed || !strings.Contains(body, "prevent-unscanned") {
		t.Fatalf("unscanned pull: %d %s", code, body)
	}
	// `seawall rescan` queues it; once scanned, it pulls.
	var rs rescanResponse
	e.must(http.StatusOK, "POST", "/api/v1/rescan", e.admin, rescanRequest{Project: "team"}, &rs)
	if rs.QueuedScans != 1 {
		t.Fatalf("rescan = %+v, want 1 queued scan", rs)
	}
	e.scanned(t, "team/app", "v1")
	if code, body := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, ""); code != http.StatusOK {
		t.Fatalf("scanned pull: %d %s", code, body)
	}

	// A required signature with no way to verify it fails closed.
	key := ecPublicKeyPEM(t)
	pol := e.setPolicy(t, policyPatch{TrustedKeys: []string{key}})
	if len(pol.KeyFingerprints) != 1 || !strings.HasPrefix(pol.KeyFingerprints[0], "SHA256:") {
		t.Fatalf("policy = %+v", pol)
	}
	// An unsigned image is refused, whether the server can check
	// signatures (it is not signed) or not (fail closed).
	code, body = e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, "")
	if code != http.StatusPreconditionFailed || !strings.Contains(body, "require-signature") {
		t.Fatalf("pull of an unsigned image with a required signature: %d %s", code, body)
	}
	// Without a checker the refusal says why.
	saved := e.srv.scan.eval.Signatures
	e.srv.scan.eval.Signatures = nil
	code, body = e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, "")
	e.srv.scan.eval.Signatures = saved
	if code != http.StatusPreconditionFailed || !strings.Contains(body, "cannot verify signatures") {
		t.Fatalf("pull with a required signature and no checker: %d %s", code, body)
	}
	// Bad keys are refused with a reason.
	code, b, _ := e.call("PATCH", "/api/v1/projects/team/policy", e.admin, policyPatch{TrustedKeys: []string{"not a key"}})
	if code != http.StatusBadRequest || !strings.Contains(string(b), "not a PEM public key") {
		t.Errorf("bad key: %d %s", code, b)
	}
}

func TestImmutableTags(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ImmutableTags: []string{"v*"}})
	one := statusImage(t, "testdata/pipeline/minbase-status", "one")
	two := statusImage(t, "testdata/pipeline/minbase-status", "two")
	e.pushImage(t, "team/app:v1", one, e.devAuth)
	// The same image again under the same tag is fine.
	e.pushImage(t, "team/app:v1", one, e.devAuth)
	err := remote.Write(e.ref("team/app:v1"), two, remote.WithAuth(e.devAuth))
	if err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("moving an immutable tag: %v", err)
	}
	e.pushImage(t, "team/app:latest", two, e.devAuth)
	e.pushImage(t, "team/app:latest", one, e.devAuth) // not immutable: moves
	req, _ := http.NewRequest("DELETE", e.ts.URL+"/v2/team/app/manifests/v1", nil)
	req.SetBasicAuth("admin", adminPW)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("deleting an immutable tag: %d, want 412", resp.StatusCode)
	}
	d, _ := one.Digest()
	req, _ = http.NewRequest("DELETE", e.ts.URL+"/v2/team/app/manifests/"+d.String(), nil)
	req.SetBasicAuth("admin", adminPW)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("deleting the manifest of an immutable tag: %d, want 412", resp.StatusCode)
	}
}

// TestRescanAfterDBUpdate imports a new advisory into the server's
// database file: the server notices, rematches without reading a layer,
// and the verdict changes.
func TestRescanAfterDBUpdate(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("CRITICAL")})
	e.pushImage(t, "team/base:v1", statusImage(t, "testdata/pipeline/minbase-status", "b"), e.devAuth)
	if st := e.scanned(t, "team/base", "v1"); !st.Verdict.Allowed {
		t.Fatalf("before: %+v", st.Verdict)
	}
	reads := e.srv.Scanner().BlobReads()
	adv := filepath.Join(t.TempDir(), "new.json")
	rec := fmt.Sprintf(`{"schema_version":"1.6.0","id":"TEST-2099-0001","aliases":["CVE-2099-0001"],"modified":"2026-01-01T00:00:00Z",
		"database_specific":{"severity":"CRITICAL"},
		"affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u99"}]}]}]}`)
	if err := os.WriteFile(adv, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	importAdvisories(t, e.dbDir, adv)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st scanStatusJSON
		e.must(http.StatusOK, "GET", "/api/v1/scan?repository=team/base&reference=v1", e.admin, nil, &st)
		if !st.Verdict.Allowed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the verdict did not change within 30s of the database update: %+v", st.Verdict)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.srv.Scanner().BlobReads(); got != reads {
		t.Errorf("the rematch read %d blobs", got-reads)
	}
	if code, _ := e.getManifest(t, "GET", "team/base", "v1", "dev", devPW, ""); code != http.StatusPreconditionFailed {
		t.Errorf("pull after the update: %d, want 412", code)
	}
}

func TestScanMetrics(t *testing.T) {
	e := newPipelineEnv(t, func(c *Config) { c.Metrics.Anonymous = true })
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true)})
	e.pushImage(t, "team/app:v1", statusImage(t, "testdata/pipeline/minbase-status", "m"), e.devAuth)
	e.scanned(t, "team/app", "v1")
	_, b, _ := e.call("GET", "/metrics", "", nil)
	for _, want := range []string{`seawall_scan_queue_depth{priority="100"} 0`, "seawall_scan_duration_seconds_count 1", "seawall_scan_blob_reads_total 2", `seawall_scans_total{outcome="ok"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// ecPublicKeyPEM is a fresh ECDSA P-256 public key, as cosign.pub holds.
func ecPublicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestIndexPullPolicy pushes a multi-platform index whose images are
// scanned one by one: the index is refused while one of its images is.
func TestIndexPullPolicy(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("HIGH")})
	clean := statusImage(t, "testdata/pipeline/minbase-status", "amd64")
	vuln := statusImage(t, "testdata/pipeline/downgraded-status", "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: clean, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: vuln, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	if err := remote.WriteIndex(e.ref("team/multi:v1"), idx, remote.WithAuth(e.devAuth)); err != nil {
		t.Fatal(err)
	}
	for _, img := range []v1.Image{clean, vuln} {
		d, _ := img.Digest()
		e.scanned(t, "team/multi", d.String())
	}
	var st scanStatusJSON
	e.must(http.StatusOK, "GET", "/api/v1/scan?repository=team/multi&reference=v1", e.admin, nil, &st)
	if st.Kind != "index" || len(st.Children) != 2 {
		t.Fatalf("index status = %+v", st)
	}
	code, body := e.getManifest(t, "GET", "team/multi", "v1", "dev", devPW, "")
	if code != http.StatusPreconditionFailed || !strings.Contains(body, "prevent-severity") {
		t.Fatalf("pull of the index: %d %s", code, body)
	}
	d, _ := clean.Digest()
	if code, _ := e.getManifest(t, "GET", "team/multi", d.String(), "dev", devPW, ""); code != http.StatusOK {
		t.Errorf("pull of the clean image by digest: %d", code)
	}
}

// TestVulnDBImportAPI imports an advisory through the API: the server's
// database grows, every stored SBOM is rematched at once, and only a
// system admin may do it.
func TestVulnDBImportAPI(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("CRITICAL")})
	e.pushImage(t, "team/base:v1", statusImage(t, "testdata/pipeline/minbase-status", "i"), e.devAuth)
	e.scanned(t, "team/base", "v1")
	reads := e.srv.Scanner().BlobReads()
	rec := `{"schema_version":"1.6.0","id":"DEBIAN-CVE-2099-0002","aliases":["CVE-2099-0002"],"modified":"2026-01-01T00:00:00Z",
		"database_specific":{"severity":"CRITICAL"},
		"affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u99"}]}]}]}`
	post := func(auth string) (int, []byte) {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/vulndb/import?name=extra", strings.NewReader(rec))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.WriteString(string(buf[:n]))
			if err != nil {
				break
			}
		}
		return resp.StatusCode, []byte(b.String())
	}
	if code, b := post(e.login("dev", devPW)); code != http.StatusForbidden {
		t.Fatalf("import as a developer: %d %s", code, b)
	}
	code, b := post(e.admin)
	if code != http.StatusOK {
		t.Fatalf("import: %d %s", code, b)
	}
	var out vulnDBImportJSON
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Import.Added != 1 || out.Rematch.Rematched != 1 || out.Rematch.Changed != 1 {
		t.Fatalf("import answer = %s", b)
	}
	if got := e.srv.Scanner().BlobReads(); got != reads {
		t.Errorf("the rematch read %d blobs", got-reads)
	}
	if code, _ := e.getManifest(t, "GET", "team/base", "v1", "dev", devPW, ""); code != http.StatusPreconditionFailed {
		t.Errorf("pull after the import: %d, want 412", code)
	}
	var info vulnDBJSON
	e.must(http.StatusOK, "GET", "/api/v1/vulndb", e.admin, nil, &info)
	if !info.Present || info.Info.Records != 159 {
		t.Errorf("vulndb info = %+v", info)
	}
}

// TestVerdictStandsDuringRescan holds a rescan of a refused image
// "running" on another replica: the scan status says so, and the last
// verdict keeps answering pulls.
func TestVerdictStandsDuringRescan(t *testing.T) {
	e := newPipelineEnv(t)
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("HIGH")})
	d := e.pushImage(t, "team/app:v1", statusImage(t, "testdata/pipeline/downgraded-status", "r"), e.devAuth)
	e.scanned(t, "team/app", "v1")
	ctx := context.Background()
	st := e.srv.Store()
	// Another replica takes the rescan job (queued straight in the store,
	// so this server's idle worker is not woken); should this server's
	// worker win the race, queue it again.
	for claimed := false; !claimed; {
		if err := st.EnqueueScan(ctx, &store.ScanJob{Repository: "team/app", Digest: d, Priority: store.ScanPriorityBulk, Reason: "rescan"}); err != nil {
			t.Fatal(err)
		}
		j, err := st.ClaimScan(ctx, "other-replica", e.clock.Now(), time.Hour)
		switch {
		case errors.Is(err, store.ErrNotFound):
			time.Sleep(100 * time.Millisecond)
		case err != nil:
			t.Fatal(err)
		default:
			claimed = j.Digest == d
		}
	}
	var s scanStatusJSON
	e.must(http.StatusOK, "GET", "/api/v1/scan?repository=team/app&reference=v1", e.admin, nil, &s)
	if s.Status != "scanned" || s.Rescan != "running" || s.Verdict.Allowed {
		t.Fatalf("status during the rescan = %q, rescan %q, verdict %+v", s.Status, s.Rescan, s.Verdict)
	}
	if code, _ := e.getManifest(t, "GET", "team/app", "v1", "dev", devPW, ""); code != http.StatusPreconditionFailed {
		t.Errorf("pull during the rescan: %d, want 412 (the last verdict stands)", code)
	}
}
