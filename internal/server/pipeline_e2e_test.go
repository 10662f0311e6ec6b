package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// debianLayers returns the blob files of the bookworm minbase root
// filesystem and of the deliberately downgraded layer: the shared real
// data when present, else the root filesystem .ci/run debootstraps plus a
// layer that installs the downgraded image's dpkg status (skipping when
// neither is here).
func debianLayers(t *testing.T) (base, down imagetest.BlobInfo) {
	t.Helper()
	stat := func(p string) imagetest.BlobInfo {
		b, err := imagetest.StatBlob(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if data := os.Getenv("SEAWALL_SHARED_DATA"); data != "" || sharedDataPresent() {
		if data == "" {
			data = "../../../shared/data"
		}
		return stat(filepath.Join(data, "images/debian-bookworm-minbase.rootfs.tar.gz")),
			stat(filepath.Join(data, "images/debian-bookworm-downgraded.layer.tar.gz"))
	}
	rootfs := imagetest.CICache(t, "bookworm-minbase.tar.gz")
	status, err := os.ReadFile("testdata/pipeline/downgraded-status")
	if err != nil {
		t.Fatal(err)
	}
	l := imagetest.NewLayer(true, imagetest.File("var/lib/dpkg/status", string(status)))
	p := filepath.Join(t.TempDir(), "downgraded.layer.tar.gz")
	if err := os.WriteFile(p, l.Blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return stat(rootfs), stat(p)
}

func sharedDataPresent() bool {
	_, err := os.Stat("../../../shared/data/images/debian-bookworm-downgraded.layer.tar.gz")
	return err == nil
}

// TestRegistryPolicyWithSkopeo is the end-to-end criterion with a
// real client: the deliberately vulnerable Debian image is pushed with
// skopeo into a project that scans on push and blocks HIGH; the scan
// finishes and a developer's pull is refused with 412 and a readable
// message; allowing the offending CVEs until a date lets the pull
// through; past that date it is refused again; the minbase image pushes
// and pulls fine.
func TestRegistryPolicyWithSkopeo(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes and scans a real Debian root filesystem; not in -short")
	}
	skopeo := clientBinary(t, "skopeo", "")
	base, down := debianLayers(t)
	dir := t.TempDir()
	vulnLayout, baseLayout := filepath.Join(dir, "vuln"), filepath.Join(dir, "base")
	if err := imagetest.OCILayoutFromBlobs(vulnLayout, "v1", []imagetest.BlobInfo{base, down}); err != nil {
		t.Fatal(err)
	}
	if err := imagetest.OCILayoutFromBlobs(baseLayout, "v1", []imagetest.BlobInfo{base}); err != nil {
		t.Fatal(err)
	}

	e := newPipelineEnv(t)
	ce := &clientEnv{testEnv: e.testEnv, home: t.TempDir()}
	e.setPolicy(t, policyPatch{ScanOnPush: ptr(true), PreventSeverity: ptr("HIGH")})
	dest := "--dest-creds=dev:" + devPW
	src := "--src-creds=dev:" + devPW
	ce.run(t, nil, "", skopeo, "copy", "--dest-tls-verify=false", dest, "oci:"+vulnLayout+":v1", "docker://"+e.host+"/team/debian:vuln")

	st := e.scanned(t, "team/debian", "vuln")
	if st.Verdict == nil || st.Verdict.Allowed || st.Verdict.WorstSeverity != "HIGH" {
		t.Fatalf("verdict of the downgraded image = %+v", st.Verdict)
	}
	t.Logf("downgraded image: %d findings, %v", len(st.Findings), st.Verdict.Counts)

	pull := func() (string, error) {
		out := filepath.Join(t.TempDir(), "out")
		return ce.try(nil, "", skopeo, "copy", "--src-tls-verify=false", src, "docker://"+e.host+"/team/debian:vuln", "oci:"+out+":pulled")
	}
	_, err := pull()
	if err == nil {
		t.Fatal("skopeo pulled the vulnerable image")
	}
	for _, want := range []string{"denied", "prevent-severity", "worst severity: HIGH", "seawall scan status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("skopeo's error does not say %q:\n%v", want, err)
		}
	}

	var allow []verdict.AllowEntry
	expires := e.clock.Now().AddDate(0, 0, 10).UTC().Format(time.DateOnly)
	for _, id := range highIDs(st) {
		allow = append(allow, verdict.AllowEntry{ID: id, Expires: expires, Reason: "accepted until the base image is rebuilt (TEAM-7)"})
	}
	e.setPolicy(t, policyPatch{Allow: allow})
	if _, err := pull(); err != nil {
		t.Fatalf("pull with the CVEs allowed: %v", err)
	}

	e.clock.Advance(11 * 24 * time.Hour)
	if _, err := pull(); err == nil || !strings.Contains(err.Error(), "prevent-severity") {
		t.Fatalf("pull after the allowlist expired: %v", err)
	}

	e.admin = e.login("admin", adminPW) // the clock's jump outlived the API token
	ce.run(t, nil, "", skopeo, "copy", "--dest-tls-verify=false", dest, "oci:"+baseLayout+":v1", "docker://"+e.host+"/team/debian:minbase")
	if st := e.scanned(t, "team/debian", "minbase"); !st.Verdict.Allowed {
		t.Fatalf("minbase verdict = %+v", st.Verdict)
	}
	out := filepath.Join(t.TempDir(), "minbase")
	ce.run(t, nil, "", skopeo, "copy", "--src-tls-verify=false", src, "docker://"+e.host+"/team/debian:minbase", "oci:"+out+":pulled")
	if code, _ := e.getManifest(t, http.MethodHead, "team/debian", "vuln", "dev", devPW, ""); code != http.StatusOK {
		t.Errorf("HEAD of the refused image: %d, want 200", code)
	}
}
