package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// The TestClient* tests run real registry clients (skopeo, podman, oras,
// cosign) against a real server on a loopback port, with auth on: a
// private project, a developer member and robot accounts. Each skips when
// its client is missing, unless SEAWALL_TEST_CLIENTS=1 (set by .ci/run,
// which installs skopeo and podman with apt and builds cosign and oras
// into $HOME/.cache/seawall-ci/bin) makes that a failure.

// clientBinary finds a client program: $envVar when set, else
// $HOME/.cache/seawall-ci/bin/<prog> (where .ci/run builds it), else PATH.
func clientBinary(t *testing.T, prog, envVar string) string {
	t.Helper()
	if envVar != "" {
		if p := os.Getenv(envVar); p != "" {
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("%s=%s: %v (.ci/run builds it)", envVar, p, err)
			}
			return p
		}
		if home, err := os.UserHomeDir(); err == nil {
			p := filepath.Join(home, ".cache", "seawall-ci", "bin", prog)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	p, err := exec.LookPath(prog)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed (.ci/run installs it", prog)
		if envVar != "" {
			msg += ", or set " + envVar
		}
		msg += ")"
		if os.Getenv("SEAWALL_TEST_CLIENTS") == "1" {
			t.Fatalf("SEAWALL_TEST_CLIENTS=1 but %s", msg)
		}
		t.Skip(msg)
	}
	return p
}

// clientEnv is a server with auth on, seen by real clients: project priv
// (not public), user dev (developer in priv), robot pusher (pull,push)
// and robot reader (pull only).
type clientEnv struct {
	*testEnv
	home              string // HOME for the clients, so none reads the real one
	devPW             string
	pusher, pusherPW  string
	reader, readerPW  string
	devAuth, pushAuth authn.Authenticator
}

func newClientEnv(t *testing.T) *clientEnv {
	t.Helper()
	e := newTestEnv(t)
	admin := e.login("admin", adminPW)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", admin, createProjectRequest{Name: "priv"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/users", admin, createUserRequest{Username: "dev", Password: "dev-password-1"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/projects/priv/members/dev", admin, setMemberRequest{Role: "developer"}, nil)
	var pusher, reader robotJSON
	e.must(http.StatusCreated, "POST", "/api/v1/projects/priv/robots", admin, createRobotRequest{Name: "pusher", Permissions: []string{"pull", "push"}}, &pusher)
	e.must(http.StatusCreated, "POST", "/api/v1/projects/priv/robots", admin, createRobotRequest{Name: "reader", Permissions: []string{"pull"}}, &reader)
	ce := &clientEnv{
		testEnv: e, home: t.TempDir(), devPW: "dev-password-1",
		pusher: pusher.Name, pusherPW: pusher.Secret, reader: reader.Name, readerPW: reader.Secret,
	}
	ce.devAuth = &authn.Basic{Username: "dev", Password: ce.devPW}
	ce.pushAuth = &authn.Basic{Username: ce.pusher, Password: ce.pusherPW}
	return ce
}

// run runs a client with HOME (and the config directories clients read)
// pointed at the test's own directory, and returns its stdout; it fails
// the test with the client's output when the client fails.
func (e *clientEnv) run(t *testing.T, env []string, stdin string, bin string, args ...string) string {
	t.Helper()
	out, err := e.try(env, stdin, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return out
}

// try is run without failing: it returns the client's error with its
// output.
func (e *clientEnv) try(env []string, stdin string, bin string, args ...string) (string, error) {
	return e.tryIn("", env, stdin, bin, args...)
}

// tryIn is try in working directory dir ("": the test's).
func (e *clientEnv) tryIn(dir string, env []string, stdin string, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+e.home, "DOCKER_CONFIG="+filepath.Join(e.home, ".docker"),
		"XDG_CONFIG_HOME="+filepath.Join(e.home, ".config"), "XDG_RUNTIME_DIR="+filepath.Join(e.home, "run"),
		"REGISTRY_AUTH_FILE="+filepath.Join(e.home, "auth.json"), "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w\nstdout:\n%s\nstderr:\n%s", err, clientTail(stdout.String(), 4000), clientTail(stderr.String(), 4000))
	}
	return stdout.String(), nil
}

func clientTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// dockerConfig writes $DOCKER_CONFIG/config.json with user's credentials
// for the server, as `docker login` would (cosign and oras read it).
func (e *clientEnv) dockerConfig(t *testing.T, user, pw string) {
	t.Helper()
	dir := filepath.Join(e.home, ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"auths": map[string]any{e.host: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pw)),
	}}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ociImage is a random OCI image (OCI manifest, config and layer media
// types) of n layers.
func ociImage(t *testing.T, n int) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range n {
		l, err := random.Layer(3000, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// remoteImage fetches repo (a tag or digest under the server) with auth
// and checks every digest: manifest, config and each layer's compressed
// and uncompressed bytes.
func (e *clientEnv) remoteImage(t *testing.T, repo string, a authn.Authenticator) v1.Image {
	t.Helper()
	img, err := remote.Image(e.ref(repo), remote.WithAuth(a))
	if err != nil {
		t.Fatalf("pull %s: %v", repo, err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("%s does not validate: %v", repo, err)
	}
	return img
}

func clientDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// diffIDs are the uncompressed layer digests, which survive a client
// recompressing layers.
func clientDiffIDs(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs
}

func TestClientSkopeo(t *testing.T) {
	skopeo := clientBinary(t, "skopeo", "")
	e := newClientEnv(t)
	dir := t.TempDir()
	devCreds := "--dest-creds=dev:" + e.devPW

	// OCI layout → registry, as the developer: the manifest arrives byte
	// for byte (same digest).
	src := ociImage(t, 3)
	srcLayout := filepath.Join(dir, "src-oci")
	p, err := layout.Write(srcLayout, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(src, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	// Without credentials the private project refuses the push.
	if _, err := e.try(nil, "", skopeo, "copy", "--dest-tls-verify=false", "oci:"+srcLayout+":v1", "docker://"+e.host+"/priv/skopeo:oci"); err == nil {
		t.Fatal("skopeo pushed into a private project without credentials")
	}
	e.run(t, nil, "", skopeo, "copy", "--dest-tls-verify=false", devCreds, "oci:"+srcLayout+":v1", "docker://"+e.host+"/priv/skopeo:oci")
	got := e.remoteImage(t, "priv/skopeo:oci", e.devAuth)
	if d, want := clientDigest(t, got), clientDigest(t, src); d != want {
		t.Errorf("pushed manifest digest %s, want the source's %s", d, want)
	}

	// Registry → OCI layout, as the pull-only robot: same manifest, every
	// blob verified.
	outLayout := filepath.Join(dir, "out-oci")
	e.run(t, nil, "", skopeo, "copy", "--src-tls-verify=false", "--src-creds="+e.reader+":"+e.readerPW,
		"docker://"+e.host+"/priv/skopeo:oci", "oci:"+outLayout+":pulled")
	lp, err := layout.FromPath(outLayout)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("pulled layout index: %v %v", im, err)
	}
	if im.Manifests[0].Digest != clientDigest(t, src) {
		t.Errorf("pulled manifest digest %s, want %s", im.Manifests[0].Digest, clientDigest(t, src))
	}
	pulled, err := lp.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("pulled layout does not validate: %v", err)
	}

	// docker-archive → registry, as the pushing robot.
	dimg, err := random.Image(2500, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("example.invalid/app:v1")
	archive := filepath.Join(dir, "app.tar")
	if err := tarball.WriteToFile(archive, tag, dimg); err != nil {
		t.Fatal(err)
	}
	e.run(t, nil, "", skopeo, "copy", "--dest-tls-verify=false", "--dest-creds="+e.pusher+":"+e.pusherPW,
		"docker-archive:"+archive, "docker://"+e.host+"/priv/skopeo:archive")
	got = e.remoteImage(t, "priv/skopeo:archive", e.devAuth)
	if d, want := clientConfigName(t, got), clientConfigName(t, dimg); d != want {
		t.Errorf("config digest %s, want %s", d, want)
	}
	if diff := cmp.Diff(clientDiffIDs(t, dimg), clientDiffIDs(t, got)); diff != "" {
		t.Errorf("layer diff IDs (-archive +registry):\n%s", diff)
	}

	// The pull-only robot cannot push.
	if _, err := e.try(nil, "", skopeo, "copy", "--dest-tls-verify=false", "--dest-creds="+e.reader+":"+e.readerPW,
		"oci:"+srcLayout+":v1", "docker://"+e.host+"/priv/skopeo:reader"); err == nil {
		t.Error("a pull-only robot pushed with skopeo")
	}
}

func clientConfigName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestClientPodman(t *testing.T) {
	podman := clientBinary(t, "podman", "")
	e := newClientEnv(t)
	storage := t.TempDir()
	pm := func(args ...string) []string {
		return append([]string{"--root", filepath.Join(storage, "root"), "--runroot", filepath.Join(storage, "runroot"),
			"--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"}, args...)
	}
	t.Cleanup(func() { e.try(nil, "", podman, pm("system", "reset", "--force")...) })

	// A base image for podman to pull, pushed with go-containerregistry.
	base, err := random.Image(2000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(e.ref("priv/base:v1"), base, remote.WithAuth(e.devAuth)); err != nil {
		t.Fatal(err)
	}

	// Logged out, the private project is closed.
	if _, err := e.try(nil, "", podman, pm("pull", "--tls-verify=false", e.host+"/priv/base:v1")...); err == nil {
		t.Fatal("podman pulled from a private project without logging in")
	}
	e.run(t, nil, e.devPW+"\n", podman, pm("login", "--tls-verify=false", "--username", "dev", "--password-stdin", e.host)...)
	e.run(t, nil, "", podman, pm("pull", "--tls-verify=false", e.host+"/priv/base:v1")...)
	e.run(t, nil, "", podman, pm("tag", e.host+"/priv/base:v1", e.host+"/priv/podman:v1")...)
	e.run(t, nil, "", podman, pm("push", "--tls-verify=false", e.host+"/priv/podman:v1")...)
	pushed := e.remoteImage(t, "priv/podman:v1", e.devAuth)
	if diff := cmp.Diff(clientDiffIDs(t, base), clientDiffIDs(t, pushed)); diff != "" {
		t.Errorf("layer diff IDs (-base +pushed by podman):\n%s", diff)
	}

	// A robot logs in too; the pull-only one may pull and not push.
	e.run(t, nil, "", podman, pm("logout", e.host)...)
	e.run(t, nil, e.readerPW+"\n", podman, pm("login", "--tls-verify=false", "--username", e.reader, "--password-stdin", e.host)...)
	e.run(t, nil, "", podman, pm("rmi", "--all", "--force")...)
	e.run(t, nil, "", podman, pm("pull", "--tls-verify=false", e.host+"/priv/podman:v1")...)
	out := e.run(t, nil, "", podman, pm("image", "inspect", "--format", "{{json .RootFS.Layers}}", e.host+"/priv/podman:v1")...)
	var layers []v1.Hash
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &layers); err != nil {
		t.Fatalf("podman image inspect: %v: %s", err, out)
	}
	if diff := cmp.Diff(clientDiffIDs(t, base), layers); diff != "" {
		t.Errorf("layers podman pulled (-want +got):\n%s", diff)
	}
	e.run(t, nil, "", podman, pm("tag", e.host+"/priv/podman:v1", e.host+"/priv/podman:reader")...)
	if _, err := e.try(nil, "", podman, pm("push", "--tls-verify=false", e.host+"/priv/podman:reader")...); err == nil {
		t.Error("a pull-only robot pushed with podman")
	}
}

// orasDescriptor is the part of oras's --format json output the tests use.
type orasDescriptor struct {
	Reference    string `json:"reference"`
	MediaType    string `json:"mediaType"`
	Digest       string `json:"digest"`
	ArtifactType string `json:"artifactType"`
}

func TestClientORAS(t *testing.T) {
	oras := clientBinary(t, "oras", "SEAWALL_ORAS")
	e := newClientEnv(t)
	dir := t.TempDir()
	files := map[string]string{"sbom.json": `{"spdxVersion":"SPDX-2.3"}`, "sig-a.txt": "signature a", "sig-b.txt": "signature b"}
	for f, c := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	orasIn := func(args ...string) []string { return append(args, "--plain-http") }
	ref := e.host + "/priv/artifact:v1"
	dev := []string{"--username", "dev", "--password", e.devPW}
	pusher := []string{"--username", e.pusher, "--password", e.pusherPW}
	reader := []string{"--username", e.reader, "--password", e.readerPW}
	runIn := func(wd string, args ...string) string {
		t.Helper()
		out, err := e.tryIn(wd, nil, "", oras, args...)
		if err != nil {
			t.Fatalf("oras %s: %v", strings.Join(args, " "), err)
		}
		return out
	}

	if _, err := e.tryIn(dir, nil, "", oras, orasIn("push", ref, "--artifact-type", "application/vnd.seawall.test", "sbom.json")...); err == nil {
		t.Fatal("oras pushed into a private project without credentials")
	}
	var pushed orasDescriptor
	out := runIn(dir, orasIn(append([]string{"push", ref, "--artifact-type", "application/vnd.seawall.test", "--format", "json", "sbom.json:application/spdx+json"}, dev...)...)...)
	if err := json.Unmarshal([]byte(out), &pushed); err != nil || pushed.Digest == "" {
		t.Fatalf("oras push output: %v: %s", err, out)
	}
	head, err := remote.Head(e.ref("priv/artifact:v1"), remote.WithAuth(e.devAuth))
	if err != nil || head.Digest.String() != pushed.Digest {
		t.Fatalf("registry has %v (%v), oras pushed %s", head, err, pushed.Digest)
	}

	// Two referrers, attached by the pushing robot.
	for _, a := range []struct{ file, typ string }{{"sig-a.txt", "application/vnd.seawall.sig-a"}, {"sig-b.txt", "application/vnd.seawall.sig-b"}} {
		runIn(dir, orasIn(append([]string{"attach", ref, "--artifact-type", a.typ, "--format", "json", a.file + ":text/plain"}, pusher...)...)...)
	}

	// Discover them as the pull-only robot: all, then filtered by type.
	discover := func(extra ...string) []string {
		t.Helper()
		out := runIn(dir, orasIn(append(append([]string{"discover", ref, "--format", "json"}, reader...), extra...)...)...)
		var res struct {
			Referrers []orasDescriptor `json:"referrers"`
			Manifests []orasDescriptor `json:"manifests"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("oras discover output: %v: %s", err, out)
		}
		var types []string
		for _, r := range append(res.Referrers, res.Manifests...) {
			types = append(types, r.ArtifactType)
		}
		return types
	}
	if diff := cmp.Diff([]string{"application/vnd.seawall.sig-a", "application/vnd.seawall.sig-b"}, clientSorted(discover())); diff != "" {
		t.Errorf("oras discover (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"application/vnd.seawall.sig-b"}, discover("--artifact-type", "application/vnd.seawall.sig-b")); diff != "" {
		t.Errorf("oras discover --artifact-type (-want +got):\n%s", diff)
	}

	// Pull the artifact back and compare the file.
	outDir := filepath.Join(dir, "pulled")
	runIn(dir, orasIn(append([]string{"pull", ref, "--output", outDir}, reader...)...)...)
	if b, err := os.ReadFile(filepath.Join(outDir, "sbom.json")); err != nil || string(b) != files["sbom.json"] {
		t.Errorf("pulled sbom.json: %q %v", b, err)
	}

	// The pull-only robot cannot attach.
	if _, err := e.tryIn(dir, nil, "", oras, orasIn(append([]string{"attach", ref, "--artifact-type", "application/vnd.seawall.x", "sig-a.txt"}, reader...)...)...); err == nil {
		t.Error("a pull-only robot attached with oras")
	}
}

func clientSorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestClientCosign(t *testing.T) {
	cosign := clientBinary(t, "cosign", "SEAWALL_COSIGN")
	e := newClientEnv(t)
	keys := t.TempDir()
	pw := []string{"COSIGN_PASSWORD=cosign-test-password"}
	e.run(t, pw, "", cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(keys, "good"))
	// Another public key, for a verification that must fail.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&other.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "other.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	img, err := random.Image(1500, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(e.ref("priv/signed:v1"), img, remote.WithAuth(e.devAuth)); err != nil {
		t.Fatal(err)
	}
	ref := e.host + "/priv/signed@" + clientDigest(t, img).String()
	sign := []string{"sign", "--key", filepath.Join(keys, "good.key"), "--tlog-upload=false", "--allow-insecure-registry", "--yes", ref}
	verify := func(key string) (string, error) {
		return e.try(nil, "", cosign, "verify", "--key", filepath.Join(keys, key), "--insecure-ignore-tlog=true", "--allow-insecure-registry", ref)
	}

	// The pull-only robot cannot store a signature.
	e.dockerConfig(t, e.reader, e.readerPW)
	if _, err := e.try(pw, "", cosign, sign...); err == nil {
		t.Fatal("a pull-only robot stored a signature")
	}
	// The developer signs.
	e.dockerConfig(t, "dev", e.devPW)
	e.run(t, pw, "", cosign, sign...)
	// The pull-only robot verifies with the public key; another key fails.
	e.dockerConfig(t, e.reader, e.readerPW)
	out, err := verify("good.pub")
	if err != nil {
		t.Fatalf("cosign verify: %v", err)
	}
	var sigs []struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
		} `json:"critical"`
	}
	if err := json.Unmarshal([]byte(out), &sigs); err != nil || len(sigs) != 1 || sigs[0].Critical.Image.Digest != clientDigest(t, img).String() {
		t.Errorf("cosign verify output: %v: %s", err, out)
	}
	if _, err := verify("other.pub"); err == nil {
		t.Error("cosign verify accepted a signature with the wrong key")
	}
	// Without credentials, verification cannot even read the private image.
	os.Remove(filepath.Join(e.home, ".docker", "config.json"))
	if _, err := verify("good.pub"); err == nil {
		t.Error("cosign verify read a private project anonymously")
	}
}
