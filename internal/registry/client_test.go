package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/seawall-dev/seawall/internal/registry"
)

// These tests drive the registry with go-containerregistry's remote
// package, a real client, over HTTP.

func (e *env) ref(s string) name.Reference {
	e.t.Helper()
	r, err := name.ParseReference(e.host+"/"+s, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) repo(s string) name.Repository {
	e.t.Helper()
	r, err := name.NewRepository(e.host+"/"+s, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func randomImage(t *testing.T, size int64, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestClientPushPullImage(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: backend})
			img := randomImage(t, 100_000, 3)
			ref := e.ref("team/app:v1")
			if err := remote.Write(ref, img); err != nil {
				t.Fatalf("push: %v", err)
			}
			want := mustDigest(t, img)

			got, err := remote.Image(ref)
			if err != nil {
				t.Fatalf("pull by tag: %v", err)
			}
			if d := mustDigest(t, got); d != want {
				t.Errorf("pulled digest %s, pushed %s", d, want)
			}
			if err := validate.Image(got); err != nil {
				t.Errorf("pulled image does not validate: %v", err)
			}
			byDigest, err := remote.Image(e.ref("team/app@" + want.String()))
			if err != nil {
				t.Fatalf("pull by digest: %v", err)
			}
			if err := validate.Image(byDigest); err != nil {
				t.Errorf("image pulled by digest does not validate: %v", err)
			}
			desc, err := remote.Head(ref)
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != want || desc.MediaType != types.DockerManifestSchema2 {
				t.Errorf("HEAD = %s %s, want %s %s", desc.Digest, desc.MediaType, want, types.DockerManifestSchema2)
			}
			// Pushing again is a no-op that succeeds (every blob exists).
			if err := remote.Write(ref, img); err != nil {
				t.Fatalf("second push: %v", err)
			}
		})
	}
}

func TestClientOCIIndex(t *testing.T) {
	e := newEnv(t, envOptions{})
	idx, err := random.Index(2048, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	ref := e.ref("team/multi:latest")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("push index: %v", err)
	}
	got, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(got); err != nil {
		t.Errorf("pulled index does not validate: %v", err)
	}
	if g, w := mustDigest(t, got), mustDigest(t, idx); g != w {
		t.Errorf("index digest %s, want %s", g, w)
	}
}

// recorder remembers the requests a server saw.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.reqs {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func TestClientCrossRepositoryMount(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec := &recorder{}
	e.srv.Config.Handler = rec.wrap(e.srv.Config.Handler)

	img := randomImage(t, 50_000, 2)
	if err := remote.Write(e.ref("team/base:1"), img); err != nil {
		t.Fatal(err)
	}
	src, err := remote.Image(e.ref("team/base:1"))
	if err != nil {
		t.Fatal(err)
	}
	before := rec.count("PATCH ") + rec.count("PUT /v2/team/copy/blobs/uploads/")
	if err := remote.Write(e.ref("team/copy:1"), src); err != nil {
		t.Fatalf("push with mounts: %v", err)
	}
	if got := rec.count("POST /v2/team/copy/blobs/uploads/?from=team%2Fbase&mount="); got != 3 {
		t.Errorf("mount requests = %d, want 3 (config and two layers); requests: %q", got, rec.reqs)
	}
	if after := rec.count("PATCH ") + rec.count("PUT /v2/team/copy/blobs/uploads/"); after != before {
		t.Errorf("blobs were uploaded instead of mounted")
	}
	got, err := remote.Image(e.ref("team/copy:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(got); err != nil {
		t.Error(err)
	}
}

func TestMountNeedsPullOnTheSource(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testMountNeedsPull(t, backend) })
	}
}

func testMountNeedsPull(t *testing.T, backend string) {
	auth := &scriptedAuth{pull: map[string]bool{"team/base": true}, push: map[string]bool{"team/base": true, "other/copy": true, "other/copy2": true}}
	e := newEnv(t, envOptions{auth: auth, backend: backend})
	img := randomImage(t, 1000, 1)
	if err := remote.Write(e.ref("team/base:1"), img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	d := mustDigest(t, layers[0])
	// other/copy may push but not pull team/base: no mount, an upload session instead.
	auth.pull["team/base"] = false
	resp, _ := e.do("POST", "/v2/other/copy/blobs/uploads/?mount="+d.String()+"&from=team/base", nil)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("mount without pull on the source: %d, want 202 with a Location", resp.StatusCode)
	}
	if resp, _ := e.do("HEAD", "/v2/other/copy/blobs/"+d.String(), nil); resp.StatusCode != 404 && resp.StatusCode != 401 && resp.StatusCode != 403 {
		t.Errorf("blob visible in other/copy after a refused mount: %d", resp.StatusCode)
	}
	// With pull on the source the mount succeeds.
	auth.pull["team/base"] = true
	resp, _ = e.do("POST", "/v2/other/copy/blobs/uploads/?mount="+d.String()+"&from=team/base", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("mount with pull on the source: %d, want 201", resp.StatusCode)
	}
	// An anonymous mount (no from) finds a source the caller may pull.
	resp, _ = e.do("POST", "/v2/other/copy/blobs/uploads/?mount="+d.String(), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("anonymous mount: %d, want 201", resp.StatusCode)
	}
	// ... and none when it may pull from none.
	auth.pull["team/base"] = false
	resp, _ = e.do("POST", "/v2/other/copy2/blobs/uploads/?mount="+d.String(), nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("anonymous mount without pull anywhere: %d, want 202", resp.StatusCode)
	}
}

// scriptedAuth allows pull and push per repository (and everything with
// repository ""), with maps a test may change between requests.
type scriptedAuth struct {
	mu         sync.Mutex
	pull, push map[string]bool
}

func (a *scriptedAuth) Authorize(r *http.Request, repo string, actions ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if repo == "" {
		return nil
	}
	for _, act := range actions {
		ok := act == registry.ActionPull && a.pull[repo] || act == registry.ActionPush && a.push[repo] || act == registry.ActionList
		if !ok {
			return registry.ErrDenied
		}
	}
	return nil
}

func TestClientReferrers(t *testing.T) {
	e := newEnv(t, envOptions{})
	img := randomImage(t, 1000, 1)
	ref := e.ref("team/app:signed")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	subject, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	var pushed []v1.Hash
	for i, at := range []string{"application/vnd.example.sig", "application/vnd.example.sbom"} {
		art := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		art = mutate.ConfigMediaType(art, types.MediaType(at))
		art = mutate.Annotations(art, map[string]string{"n": fmt.Sprint(i)}).(v1.Image)
		art = mutate.Subject(art, *subject).(v1.Image)
		d := mustDigest(t, art)
		resp := putRaw(t, e, "team/app", d.String(), art)
		if got := resp.Header.Get("OCI-Subject"); got != subject.Digest.String() {
			t.Errorf("OCI-Subject = %q, want %s", got, subject.Digest)
		}
		pushed = append(pushed, d)
	}
	idx, err := remote.Referrers(e.ref("team/app@" + subject.Digest.String()).(name.Digest))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []v1.Hash
	for _, d := range m.Manifests {
		got = append(got, d.Digest)
		if d.ArtifactType == "" || d.Annotations["n"] == "" {
			t.Errorf("referrer %s lacks artifactType or annotations: %+v", d.Digest, d)
		}
	}
	sortHashes(got)
	sortHashes(pushed)
	if diff := cmp.Diff(pushed, got); diff != "" {
		t.Errorf("referrers (-want +got):\n%s", diff)
	}
	filtered, err := remote.Referrers(e.ref("team/app@"+subject.Digest.String()).(name.Digest),
		remote.WithFilter("artifactType", "application/vnd.example.sbom"))
	if err != nil {
		t.Fatal(err)
	}
	fm, _ := filtered.IndexManifest()
	if len(fm.Manifests) != 1 || fm.Manifests[0].ArtifactType != "application/vnd.example.sbom" {
		t.Errorf("filtered referrers = %+v", fm.Manifests)
	}
}

func sortHashes(h []v1.Hash) {
	slices.SortFunc(h, func(a, b v1.Hash) int { return strings.Compare(a.String(), b.String()) })
}

// putRaw pushes an artifact's blobs and then its manifest by digest, the
// way oras does, and returns the manifest PUT's response.
func putRaw(t *testing.T, e *env, repo, digest string, img v1.Image) *http.Response {
	t.Helper()
	if err := remote.Write(e.ref(repo+":tmp-"+strings.TrimPrefix(digest, "sha256:")[:12]), img); err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	resp, _ := e.do("PUT", "/v2/"+repo+"/manifests/"+digest, strings.NewReader(string(raw)), "Content-Type", string(mt))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT manifest %s: %d", digest, resp.StatusCode)
	}
	return resp
}

func TestClientTagsCatalogDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	img := randomImage(t, 500, 1)
	var tags []string
	for i := range 25 {
		tag := fmt.Sprintf("t%02d", i)
		tags = append(tags, tag)
		if err := remote.Write(e.ref("team/app:"+tag), img); err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(e.ref("other/thing:x"), img); err != nil {
		t.Fatal(err)
	}
	got, err := remote.List(e.repo("team/app"), remote.WithPageSize(7))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tags, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	reg, err := name.NewRegistry(e.host, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := remote.Catalog(context.Background(), reg, remote.WithPageSize(1))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"other/thing", "team/app"}, repos); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}

	// Deleting a tag leaves the manifest; deleting the digest removes it
	// and every tag.
	if err := remote.Delete(e.ref("team/app:t00")); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(e.ref("team/app:t00")); err == nil {
		t.Error("deleted tag still resolves")
	}
	d := mustDigest(t, img)
	if _, err := remote.Head(e.ref("team/app@" + d.String())); err != nil {
		t.Errorf("manifest gone after deleting one tag: %v", err)
	}
	if err := remote.Delete(e.ref("team/app@" + d.String())); err != nil {
		t.Fatal(err)
	}
	left, err := remote.List(e.repo("team/app"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("tags after deleting the manifest: %v", left)
	}
}
