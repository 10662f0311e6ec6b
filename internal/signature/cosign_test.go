package signature_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/seawall-dev/seawall/internal/blob/fs"
	"github.com/seawall-dev/seawall/internal/server"
	"github.com/seawall-dev/seawall/internal/signature"
)

// cosignBinary finds the real cosign: SEAWALL_COSIGN (.ci/run builds it),
// the CI cache, the peers cache of this machine, or PATH.
func cosignBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SEAWALL_COSIGN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SEAWALL_COSIGN=%s: %v (.ci/run builds it)", p, err)
		}
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, dir := range []string{"seawall-ci", "seawall-peers"} {
			p := filepath.Join(home, ".cache", dir, "bin", "cosign")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	p, err := exec.LookPath("cosign")
	if err != nil {
		const msg = "cosign is not installed (.ci/run builds it into $CACHE/bin; or set SEAWALL_COSIGN)"
		if os.Getenv("SEAWALL_TEST_CLIENTS") == "1" {
			t.Fatal("SEAWALL_TEST_CLIENTS=1 but " + msg)
		}
		t.Skip(msg)
	}
	return p
}

const adminPW = "cosign-test-admin-pw"

// TestRealCosign signs images pushed to a real in-process seawall serve
// with the real cosign, in each form cosign writes, and checks them.
func TestRealCosign(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cosign several times; skipped with -short")
	}
	cosign := cosignBinary(t)
	ctx := context.Background()
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = adminPW
	cfg.Console = io.Discard
	srv, err := server.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	host := strings.TrimPrefix(ts.URL, "http://")

	// A project, through the API as a user would.
	token := apiLogin(t, ts.URL)
	apiCall(t, ts.URL, token, "POST", "/api/v1/projects", `{"name":"team"}`, http.StatusCreated)

	work := t.TempDir()
	dockerDir := filepath.Join(work, "docker")
	os.MkdirAll(dockerDir, 0o700)
	auth := base64.StdEncoding.EncodeToString([]byte("admin:" + adminPW))
	os.WriteFile(filepath.Join(dockerDir, "config.json"), fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth), 0o600)
	run := func(t *testing.T, extraEnv []string, args ...string) {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+work, "DOCKER_CONFIG="+dockerDir, "COSIGN_PASSWORD=", "SIGSTORE_NO_CACHE=true")
		cmd.Env = append(cmd.Env, extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(t, nil, "generate-key-pair", "--output-key-prefix", "trusted")
	run(t, nil, "generate-key-pair", "--output-key-prefix", "untrusted")
	trustedPub, err := os.ReadFile(filepath.Join(work, "trusted.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := signature.Fingerprint(trustedPub)
	if err != nil {
		t.Fatal(err)
	}

	push := func(t *testing.T, repo string) string {
		t.Helper()
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := name.ParseReference(host+"/"+repo+":v1", name.Insecure)
		if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "admin", Password: adminPW})); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	sign := func(t *testing.T, repo, digest, keyFile string, env []string, flags ...string) {
		t.Helper()
		args := append([]string{"sign", "--key", keyFile, "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", "-y"}, flags...)
		run(t, env, append(args, host+"/"+repo+"@"+digest)...)
	}

	blobs, err := fs.New(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	checker := signature.New(srv.Store(), blobs, nil)
	tests := []struct {
		name        string
		sign        func(t *testing.T, repo, digest string)
		wantSigned  bool
		wantTrusted bool
		wantForm    signature.Form
	}{
		{"unsigned", func(*testing.T, string, string) {}, false, false, ""},
		{"tag form, trusted key", func(t *testing.T, r, d string) { sign(t, r, d, "trusted.key", nil) }, true, true, signature.FormTag},
		{"tag form, untrusted key", func(t *testing.T, r, d string) { sign(t, r, d, "untrusted.key", nil) }, true, false, signature.FormTag},
		{"referrers mode, trusted key", func(t *testing.T, r, d string) {
			sign(t, r, d, "trusted.key", []string{"COSIGN_EXPERIMENTAL=1"}, "--registry-referrers-mode=oci-1-1")
		}, true, true, signature.FormReferrer},
		{"referrers mode, untrusted key", func(t *testing.T, r, d string) {
			sign(t, r, d, "untrusted.key", []string{"COSIGN_EXPERIMENTAL=1"}, "--registry-referrers-mode=oci-1-1")
		}, true, false, signature.FormReferrer},
		{"bundle, trusted key", func(t *testing.T, r, d string) { sign(t, r, d, "trusted.key", nil, "--new-bundle-format") }, true, true, signature.FormReferrer},
		{"bundle, untrusted key", func(t *testing.T, r, d string) { sign(t, r, d, "untrusted.key", nil, "--new-bundle-format") }, true, false, signature.FormReferrer},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := fmt.Sprintf("team/app%d", i)
			digest := push(t, repo)
			tt.sign(t, repo, digest)
			st, err := checker.Check(ctx, repo, digest, [][]byte{trustedPub})
			if err != nil {
				t.Fatal(err)
			}
			if st.Signed != tt.wantSigned || st.Trusted != tt.wantTrusted || st.Form != tt.wantForm {
				t.Fatalf("status %+v; want signed %v, trusted %v, form %q", st, tt.wantSigned, tt.wantTrusted, tt.wantForm)
			}
			if tt.wantTrusted && st.Signer != fp {
				t.Errorf("signer %q, want %q", st.Signer, fp)
			}
			if tt.wantSigned && st.SignedAt.IsZero() {
				t.Error("no signing time")
			}
		})
	}
}

func apiLogin(t *testing.T, base string) string {
	t.Helper()
	var out struct{ Token string }
	b := apiCall(t, base, "", "POST", "/api/v1/login", fmt.Sprintf(`{"username":"admin","password":%q}`, adminPW), http.StatusCreated)
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		t.Fatalf("login: %s", b)
	}
	return out.Token
}

func apiCall(t *testing.T, base, token, method, path, body string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s; want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}
