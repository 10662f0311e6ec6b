package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/seawall-dev/seawall/internal/imagetest"
)

var testLayers = func() []it.Layer {
	return []it.Layer{
		it.NewLayer(true, it.File("etc/os-release", "ID=debian\n"), it.File("var/lib/dpkg/status", "v1")),
		it.NewLayer(false, it.File("var/lib/dpkg/status", "v2"), it.Whiteout("etc/os-release")),
	}
}

func TestOpenLocalKinds(t *testing.T) {
	dir := t.TempDir()
	layers := testLayers()
	docker := filepath.Join(dir, "docker.tar")
	layout := filepath.Join(dir, "layout")
	ociTar := filepath.Join(dir, "oci.tar")
	gzDocker := filepath.Join(dir, "docker.tar.gz")
	must(t, it.DockerArchive(docker, "example.com/app:1", layers))
	must(t, it.OCILayout(layout, "app:1", layers))
	must(t, it.OCIArchive(ociTar, "app:1", layers))
	raw, err := os.ReadFile(docker)
	must(t, err)
	must(t, os.WriteFile(gzDocker, it.Gzip(raw), 0o644))

	tests := []struct {
		ref      string
		kind     string
		wantTags []string
	}{
		{docker, KindDockerArchive, []string{"example.com/app:1"}},
		{"docker-archive:" + docker, KindDockerArchive, []string{"example.com/app:1"}},
		{"docker-archive:" + docker + ":example.com/app:1", KindDockerArchive, []string{"example.com/app:1"}},
		{gzDocker, KindDockerArchive, []string{"example.com/app:1"}},
		{layout, KindOCILayout, []string{"app:1"}},
		{"oci:" + layout + ":app:1", KindOCILayout, []string{"app:1"}},
		{ociTar, KindOCIArchive, []string{"app:1"}},
		{"oci-archive:" + ociTar, KindOCIArchive, []string{"app:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.ref[len(dir):], func(t *testing.T) {
			img, err := Open(context.Background(), tc.ref, Options{Temp: NewTempDir(t.TempDir())})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Kind != tc.kind {
				t.Errorf("kind = %s, want %s", img.Kind, tc.kind)
			}
			if diff := cmp.Diff(tc.wantTags, img.RepoTags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if len(img.Layers) != 2 {
				t.Fatalf("got %d layers", len(img.Layers))
			}
			for i, l := range img.Layers {
				if l.DiffID != it.Digest(layers[i].Tar) {
					t.Errorf("layer %d diffID = %s, want %s", i, l.DiffID, it.Digest(layers[i].Tar))
				}
				if l.Digest != it.Digest(layers[i].Blob) && tc.kind != KindDockerArchive {
					t.Errorf("layer %d digest = %s, want %s", i, l.Digest, it.Digest(layers[i].Blob))
				}
				if l.CreatedBy != fmt.Sprintf("layer %d", i+1) {
					t.Errorf("layer %d created by %q", i, l.CreatedBy)
				}
			}
			if img.Platform != "linux/amd64" {
				t.Errorf("platform = %q", img.Platform)
			}
			got, _, err := squash(t, img, WalkOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"/var/lib/dpkg/status": "v2"}, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "plain.tar")
	must(t, os.WriteFile(notImage, it.Tar(it.File("etc/hosts", "x")), 0o644))
	garbage := filepath.Join(dir, "garbage.tar")
	must(t, os.WriteFile(garbage, []byte("this is not a tar file at all, not even close............"), 0o644))
	emptyDir := t.TempDir()
	multi := filepath.Join(dir, "multi.tar")
	writeMulti(t, multi)
	tests := []struct {
		name, ref, want string
	}{
		{"plain tar", notImage, "use --rootfs"},
		{"garbage", garbage, notImage[:0] + "garbage.tar"},
		{"directory", emptyDir, "not an OCI image layout"},
		{"missing file", filepath.Join(dir, "nope.tar"), "no such file"},
		{"multi-image archive", multi, "pick one with docker-archive:"},
		{"multi-image archive, unknown tag", "docker-archive:" + multi + ":c:3", `no image tagged "c:3"`},
		{"bad platform", "oci:" + emptyDir, "not an OCI image layout"},
		{"bad reference", "UPPER/Case:tag", "neither a local file nor a valid image reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Open(context.Background(), tc.ref, Options{Temp: NewTempDir(t.TempDir())})
			if err == nil {
				img.Close()
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	if _, err := Open(context.Background(), notImage, Options{Platform: "linux"}); err == nil || !strings.Contains(err.Error(), "os/arch") {
		t.Errorf("bad --platform: got %v", err)
	}
}

func writeMulti(t *testing.T, path string) {
	t.Helper()
	// Two images in one archive, as `docker save a b` writes.
	l := it.NewLayer(false, it.File("a", "1"))
	one := filepath.Join(t.TempDir(), "one.tar")
	must(t, it.DockerArchive(one, "a:1", []it.Layer{l}))
	ts := mustIndex(t, one)
	cfg := it.Config([]it.Layer{l})
	man := fmt.Sprintf(`[{"Config":"%s.json","RepoTags":["a:1"],"Layers":["0/layer.tar"]},{"Config":"%s.json","RepoTags":["b:2"],"Layers":["0/layer.tar"]}]`,
		it.Digest(cfg)[7:], it.Digest(cfg)[7:])
	_ = ts
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	must(t, writeTarFiles(f, map[string][]byte{
		it.Digest(cfg)[7:] + ".json": cfg,
		"0/layer.tar":                l.Blob,
		"manifest.json":              []byte(man),
	}))
}

func TestMultiImageArchiveSelect(t *testing.T) {
	multi := filepath.Join(t.TempDir(), "multi.tar")
	writeMulti(t, multi)
	img, err := Open(context.Background(), "docker-archive:"+multi+":b:2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if diff := cmp.Diff([]string{"b:2"}, img.RepoTags); diff != "" {
		t.Error(diff)
	}
}

func TestRootfsTarAndDir(t *testing.T) {
	dir := t.TempDir()
	tarball := it.Tar(it.File("etc/os-release", "ID=alpine\n"), it.Symlink("bin/sh", "/bin/busybox"))
	plain := filepath.Join(dir, "rootfs.tar")
	gz := filepath.Join(dir, "rootfs.tar.gz")
	must(t, os.WriteFile(plain, tarball, 0o644))
	must(t, os.WriteFile(gz, it.Gzip(tarball), 0o644))
	tree := filepath.Join(dir, "tree")
	must(t, os.MkdirAll(filepath.Join(tree, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(tree, "etc/os-release"), []byte("ID=alpine\n"), 0o644))
	for _, p := range []string{plain, gz, tree} {
		img, err := OpenRootfs(p)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := squash(t, img, WalkOptions{})
		img.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if diff := cmp.Diff(map[string]string{"/etc/os-release": "ID=alpine\n"}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", p, diff)
		}
	}
}

func TestTreeDoesNotFollowSymlinks(t *testing.T) {
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644))
	tree := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(tree, "a"), 0o755))
	must(t, os.WriteFile(filepath.Join(tree, "a/in"), []byte("inside"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(tree, "escape")))
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(tree, "a/escape-file")))
	must(t, os.Symlink("loop2", filepath.Join(tree, "loop1")))
	must(t, os.Symlink("loop1", filepath.Join(tree, "loop2")))
	must(t, os.Symlink(".", filepath.Join(tree, "a/self")))
	must(t, os.MkdirAll(filepath.Join(tree, "src/.git"), 0o755))
	must(t, os.WriteFile(filepath.Join(tree, "src/.git/config"), []byte("git"), 0o644))

	for _, kind := range []string{KindRootfs, KindDir} {
		img, err := OpenTree(tree, kind)
		must(t, err)
		got, warns, err := squash(t, img, WalkOptions{})
		must(t, err)
		want := map[string]string{"/a/in": "inside"}
		if kind == KindRootfs {
			want["/src/.git/config"] = "git"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", kind, diff)
		}
		if len(warns) != 0 {
			t.Errorf("warnings: %v", warns)
		}
	}
}

func TestOpenRemote(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	layers := testLayers()
	pushImage(t, host+"/team/app:1.2", layers, "amd64")

	img, err := Open(context.Background(), host+"/team/app:1.2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Kind != KindRegistry || img.ManifestDigest == "" {
		t.Fatalf("kind %s digest %q", img.Kind, img.ManifestDigest)
	}
	got, _, err := squash(t, img, WalkOptions{})
	must(t, err)
	if diff := cmp.Diff(map[string]string{"/var/lib/dpkg/status": "v2"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// By digest, too.
	byDigest := host + "/team/app@" + img.ManifestDigest
	img2, err := Open(context.Background(), byDigest, Options{})
	must(t, err)
	img2.Close()
	if img2.ManifestDigest != img.ManifestDigest {
		t.Errorf("digest ref resolved to %s", img2.ManifestDigest)
	}
}

func TestOpenRemoteIndexPlatform(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	amd := buildImage(t, []it.Layer{it.NewLayer(true, it.File("arch", "amd64"))}, "amd64")
	arm := buildImage(t, []it.Layer{it.NewLayer(true, it.File("arch", "arm64"))}, "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	ref, err := name.ParseReference(host + "/multi:latest")
	must(t, err)
	must(t, remote.WriteIndex(ref, idx))

	for _, p := range []string{"linux/arm64", "linux/amd64"} {
		img, err := Open(context.Background(), host+"/multi:latest", Options{Platform: p})
		must(t, err)
		got, _, err := squash(t, img, WalkOptions{})
		img.Close()
		must(t, err)
		if want := strings.TrimPrefix(p, "linux/"); got["/arch"] != want {
			t.Errorf("--platform %s read %q", p, got["/arch"])
		}
	}
	if _, err := Open(context.Background(), host+"/multi:latest", Options{Platform: "linux/s390x"}); err == nil {
		t.Error("want an error for a platform the index lacks")
	}
}

func TestOpenRemoteAuth(t *testing.T) {
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"auth required"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	ref, err := name.ParseReference(host + "/private/app:1")
	must(t, err)
	must(t, remote.Write(ref, buildImage(t, testLayers(), "amd64"), remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})))

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err = Open(context.Background(), host+"/private/app:1", Options{})
	if err == nil || !strings.Contains(err.Error(), "--username") {
		t.Fatalf("without credentials: want an error that says how to log in, got %v", err)
	}
	img, err := Open(context.Background(), host+"/private/app:1", Options{Username: "alice", Password: "s3cret"})
	must(t, err)
	img.Close()

	// Credentials from the Docker config file.
	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	must(t, os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)), 0o600))
	t.Setenv("DOCKER_CONFIG", cfgDir)
	img, err = Open(context.Background(), host+"/private/app:1", Options{})
	must(t, err)
	img.Close()
}

func TestPlainHTTPGuard(t *testing.T) {
	g := &httpGuard{next: http.DefaultTransport}
	for _, tc := range []struct {
		url  string
		deny bool
	}{
		{"http://10.0.0.5:5000/v2/", true},
		{"http://registry.example.com/v2/", true},
		{"http://127.0.0.1:1/v2/", false},
		{"http://localhost:1/v2/", false},
		{"http://[::1]:1/v2/", false},
	} {
		u, _ := url.Parse(tc.url)
		_, err := g.RoundTrip(&http.Request{URL: u, Header: http.Header{}})
		denied := err != nil && strings.Contains(err.Error(), "refusing plain HTTP")
		if denied != tc.deny {
			t.Errorf("%s: denied=%v, want %v (err %v)", tc.url, denied, tc.deny, err)
		}
	}
	g.insecure = true
	u, _ := url.Parse("http://10.255.255.1:1/v2/")
	if _, err := g.RoundTrip(&http.Request{URL: u, Header: http.Header{}}); err != nil && strings.Contains(err.Error(), "refusing") {
		t.Errorf("--insecure should allow plain HTTP: %v", err)
	}
}

func buildImage(t *testing.T, layers []it.Layer, arch string) v1.Image {
	t.Helper()
	img := empty.Image
	for _, l := range layers {
		mt := types.OCIUncompressedLayer
		if l.Blob[0] == 0x1f {
			mt = types.OCILayer
		}
		var err error
		img, err = mutate.AppendLayers(img, static.NewLayer(l.Blob, mt))
		must(t, err)
	}
	cf, err := img.ConfigFile()
	must(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	// static layers report their blob digest as diffID; fix the config.
	cf.RootFS.DiffIDs = nil
	for _, l := range layers {
		h, _ := v1.NewHash(it.Digest(l.Tar))
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	}
	img, err = mutate.ConfigFile(img, cf)
	must(t, err)
	return img
}

func pushImage(t *testing.T, refStr string, layers []it.Layer, arch string) {
	t.Helper()
	ref, err := name.ParseReference(refStr)
	must(t, err)
	must(t, remote.Write(ref, buildImage(t, layers, arch)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
