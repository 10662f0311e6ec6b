package cli

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/server"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

// policyRecord is an OSV record that makes glibc 2.36-9+deb12u7 HIGH.
const policyRecord = `{"schema_version":"1.6.0","id":"DEBIAN-CVE-2099-1111","aliases":["CVE-2099-1111"],"modified":"2026-01-01T00:00:00Z",
 "database_specific":{"severity":"HIGH"},
 "affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u8"}]}]}]}`

func TestRegistryPolicyCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SEAWALL_SERVER", "")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.json")
	if err := os.WriteFile(rec, []byte(policyRecord), 0o644); err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(dir, "vulndb")
	if _, err := vulndb.Import(context.Background(), vulndb.Path(dbDir), []vulndb.Input{{Location: rec}}, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = "admin-password"
	cfg.Console = io.Discard
	cfg.Scan.DB = dbDir
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	host := strings.TrimPrefix(ts.URL, "http://")

	mustRun := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		if code != want {
			t.Fatalf("seawall %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	mustRun(ExitOK, "admin-password\n", "login", host, "--username", "admin", "--password-stdin")
	mustRun(ExitOK, "", "project", "create", "team")

	// Usage errors say what to do.
	if out := mustRun(ExitUsage, "", "project", "set", "team", "--cve-allow", "CVE-1:reason="); !strings.Contains(out, "reason is required") {
		t.Errorf("bad --cve-allow: %s", out)
	}
	if out := mustRun(ExitUsage, "", "rescan"); !strings.Contains(out, "--project P or --all") {
		t.Errorf("rescan without a scope: %s", out)
	}
	if out := mustRun(ExitUsage, "", "scan", "status", "app"); !strings.Contains(out, "PROJECT/NAME") {
		t.Errorf("scan status of a bad name: %s", out)
	}
	if out := mustRun(ExitError, "", "project", "set", "team", "--immutable-tags", "v["); !strings.Contains(out, "not a valid glob") {
		t.Errorf("bad glob: %s", out)
	}

	out := mustRun(ExitOK, "", "project", "set", "team", "--scan-on-push", "--prevent-severity", "high", "--immutable-tags", "v*,release-*")
	for _, want := range []string{"scan on push       on", "refuse HIGH and above", "v*, release-*", "require signature  off"} {
		if !strings.Contains(out, want) {
			t.Errorf("project set output lacks %q:\n%s", want, out)
		}
	}

	// Push a Debian image with the affected glibc.
	status := "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\n\n"
	layers := []imagetest.Layer{imagetest.NewLayer(true,
		imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
		imagetest.File("var/lib/dpkg/status", status))}
	lay := filepath.Join(dir, "img")
	if err := imagetest.OCILayout(lay, "v1", layers); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	ii, _ := p.ImageIndex()
	im, _ := ii.IndexManifest()
	img, err := ii.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host+"/team/app:v1", name.Insecure)
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "admin", Password: "admin-password"})); err != nil {
		t.Fatal(err)
	}

	image := host + "/team/app:v1"
	deadline := time.Now().Add(time.Minute)
	for {
		code, out, _ := runIn(t, "", "scan", "status", image)
		if strings.Contains(out, "status:      scanned") {
			if code != 2 {
				t.Fatalf("scan status of a denied image exits %d, want 2:\n%s", code, out)
			}
			for _, want := range []string{"verdict:     DENIED", "FAIL prevent-severity", "CVE-2099-1111", "database:    built", "findings:    1 HIGH"} {
				if !strings.Contains(out, want) {
					t.Errorf("scan status lacks %q:\n%s", want, out)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not scanned within a minute:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	out = mustRun(ExitOK, "", "project", "set", "team", "--cve-allow", "CVE-2099-1111:expires=2099-01-31:reason=glibc iconv: not used")
	if !strings.Contains(out, "CVE-2099-1111 (until 2099-01-31): glibc iconv: not used") {
		t.Errorf("allowlist not shown:\n%s", out)
	}
	out = mustRun(ExitOK, "", "scan", "status", image)
	for _, want := range []string{"verdict:     ALLOWED", "(+1 allowlisted)", "allowlisted: glibc iconv: not used", "expires at 2099-02-01"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan status with the CVE allowed lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(ExitOK, "", "rescan", "--project", "team")
	// The stored verdict (denied, from the scan) changes under the new
	// allowlist.
	if !strings.Contains(out, "Rematched 1 stored SBOM in") || !strings.Contains(out, "1 verdict changed") {
		t.Errorf("rescan: %s", out)
	}
	out = mustRun(ExitOK, "", "scan", "status", "team/app:v1", "--format", "json")
	if !strings.Contains(out, `"allowed": true`) {
		t.Errorf("scan status --format json: %s", out)
	}
}
