package server

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/seawall-dev/seawall/internal/signature"
)

// TestSignaturePolicyWithCosign is the signature half of issue 5's
// acceptance: in a project that requires a signature by its trusted key,
// an unsigned image is refused, cosign can still sign it, a signature by
// another key does not help, and a signature by the trusted key lets the
// pull through. cosign is the real binary; the server is seawall serve.
func TestSignaturePolicyWithCosign(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cosign; skipped with -short")
	}
	cosign := clientBinary(t, "cosign", "SEAWALL_COSIGN")
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "team"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "dev", Password: "dev-password"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/team/members/dev", admin, setMemberRequest{Role: "developer"}, nil)
	img, err := e.push("team/app:v1", &authn.Basic{Username: "dev", Password: "dev-password"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	digest := d.String()

	work := t.TempDir()
	docker := filepath.Join(work, "docker")
	os.MkdirAll(docker, 0o700)
	cred := base64.StdEncoding.EncodeToString([]byte("dev:dev-password"))
	os.WriteFile(filepath.Join(docker, "config.json"), fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, e.host, cred), 0o600)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+work, "DOCKER_CONFIG="+docker, "COSIGN_PASSWORD=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	sign := func(key string) {
		t.Helper()
		run("sign", "--key", key, "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", "-y", e.host+"/team/app@"+digest)
	}
	run("generate-key-pair", "--output-key-prefix", "trusted")
	run("generate-key-pair", "--output-key-prefix", "untrusted")
	trusted, err := os.ReadFile(filepath.Join(work, "trusted.pub"))
	if err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/team/policy", admin, map[string]any{"trustedKeys": []string{string(trusted)}}, nil)

	pull := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.ts.URL+"/v2/team/app/manifests/v1", nil)
		req.SetBasicAuth("dev", "dev-password")
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := pull(); code != http.StatusPreconditionFailed || !strings.Contains(body, "require-signature") {
		t.Fatalf("unsigned: %d %s; want 412 naming require-signature", code, body)
	}
	sign("untrusted.key") // cosign can sign while the pull is refused
	if code, body := pull(); code != http.StatusPreconditionFailed {
		t.Fatalf("signed with an untrusted key: %d %s; want 412", code, body)
	}
	var st struct {
		Required bool `json:"required"`
		signature.Status
	}
	e.must(http.StatusOK, "GET", "/api/v1/signatures?repository=team/app&reference=v1", admin, nil, &st)
	if !st.Required || !st.Signed || st.Trusted {
		t.Errorf("status after the untrusted signature: %+v", st)
	}
	sign("trusted.key")
	if code, body := pull(); code != http.StatusOK {
		t.Fatalf("signed with the trusted key: %d %s; want 200", code, body)
	}
	fp, _ := signature.Fingerprint(trusted)
	e.must(http.StatusOK, "GET", "/api/v1/signatures?repository=team/app&reference=v1", admin, nil, &st)
	if !st.Trusted || st.Signer != fp || st.Form != signature.FormTag || st.SignedAt.IsZero() || st.Count != 2 {
		t.Errorf("status after the trusted signature: %+v", st)
	}
	// The refusals are in the audit log.
	if n := kinds(e.auditLines(admin, "?project=team"))["pull-blocked"]; n < 2 {
		t.Errorf("%d pull-blocked entries, want 2", n)
	}
}
