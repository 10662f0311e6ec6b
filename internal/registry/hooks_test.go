package registry_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seawall-dev/seawall/internal/registry"
)

func TestDescribeManifest(t *testing.T) {
	tests := []struct {
		name      string
		mediaType string
		content   string
		want      registry.ManifestKind
		children  int
	}{
		{"oci image", registry.MediaTypeOCIManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip"}]}`, registry.KindImage, 0},
		{"docker image", registry.MediaTypeDockerManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip"}]}`, registry.KindImage, 0},
		{"cosign signature", registry.MediaTypeOCIManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json"}]}`, registry.KindArtifact, 0},
		{"artifact type", registry.MediaTypeOCIManifest, `{"schemaVersion":2,"artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[]}`, registry.KindArtifact, 0},
		{"helm chart", registry.MediaTypeOCIManifest, `{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json"},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip"}]}`, registry.KindArtifact, 0},
		{"index", registry.MediaTypeOCIIndex, `{"schemaVersion":2,"manifests":[{"digest":"sha256:a"},{"digest":"sha256:b"}]}`, registry.KindIndex, 2},
		{"not json", registry.MediaTypeOCIManifest, `{`, registry.KindArtifact, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, children := registry.DescribeManifest(tt.mediaType, []byte(tt.content))
			if kind != tt.want || len(children) != tt.children {
				t.Errorf("DescribeManifest = %s, %v; want %s with %d children", kind, children, tt.want, tt.children)
			}
		})
	}
}

// TestHooks checks when each hook runs: the pull policy on GET only
// (never HEAD), tag changes before PUT and DELETE, notifications after.
func TestHooks(t *testing.T) {
	var (
		mu     sync.Mutex
		calls  []string
		refuse atomic.Bool
	)
	record := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
	e := newEnv(t, envOptions{cfg: func(c *registry.Config) {
		c.Hooks = registry.Hooks{
			AllowPull: func(r *http.Request, m registry.ManifestEvent) error {
				record("allowPull " + string(m.Kind) + " " + strings.Join(m.Tags, ","))
				if refuse.Load() {
					return &registry.PolicyError{Policy: "test", Message: "refused by the test policy", Detail: map[string]string{"policy": "test"}}
				}
				return nil
			},
			AllowTag: func(r *http.Request, repo, tag, prev, next string) error {
				record("allowTag " + tag + " " + short(prev) + ">" + short(next))
				if tag == "frozen" && prev != "" && prev != next {
					return &registry.PolicyError{Policy: "immutable-tags", Message: "tag frozen is immutable"}
				}
				return nil
			},
			OnPush: func(r *http.Request, m registry.ManifestEvent) {
				record("onPush " + string(m.Kind) + " " + strings.Join(m.Tags, ","))
			},
			OnPull: func(r *http.Request, m registry.ManifestEvent) { record("onPull") },
			OnDelete: func(r *http.Request, m registry.ManifestEvent) {
				record("onDelete " + strings.Join(m.Tags, ",") + " " + short(m.Digest))
			},
		}
	}})
	take := func() []string { mu.Lock(); defer mu.Unlock(); c := calls; calls = nil; return c }
	img := e.pushImage("team/app", "frozen", "one")
	if got := take(); len(got) != 2 || got[0] != "allowTag frozen >"+short(img.digest) || got[1] != "onPush image frozen" {
		t.Fatalf("push calls = %q", got)
	}

	resp, _ := e.do("HEAD", "/v2/team/app/manifests/frozen", nil)
	if resp.StatusCode != 200 || len(take()) != 0 {
		t.Fatalf("HEAD: %d; a hook ran", resp.StatusCode)
	}
	resp, _ = e.do("GET", "/v2/team/app/manifests/frozen", nil)
	if got := take(); resp.StatusCode != 200 || len(got) != 2 || got[0] != "allowPull image frozen" || got[1] != "onPull" {
		t.Fatalf("GET: %d %q", resp.StatusCode, got)
	}
	refuse.Store(true)
	resp, body := e.do("GET", "/v2/team/app/manifests/"+img.digest, nil)
	if resp.StatusCode != http.StatusPreconditionFailed || errorCode(t, body) != "DENIED" || !bytes.Contains(body, []byte("refused by the test policy")) || !bytes.Contains(body, []byte(`"detail":{"policy":"test"}`)) {
		t.Fatalf("refused GET: %d %s", resp.StatusCode, body)
	}
	if got := take(); len(got) != 1 {
		t.Fatalf("a refused GET notified: %q", got)
	}
	refuse.Store(false)

	// Moving the frozen tag is refused, and nothing is stored.
	other := e.pushImage("team/app", "", "two")
	take()
	resp, body = e.do("PUT", "/v2/team/app/manifests/frozen", bytes.NewReader(other.manifest), "Content-Type", registry.MediaTypeOCIManifest)
	if resp.StatusCode != http.StatusPreconditionFailed || !bytes.Contains(body, []byte("immutable")) {
		t.Fatalf("moving a frozen tag: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("GET", "/v2/team/app/manifests/frozen", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, img.manifest) {
		t.Fatalf("the frozen tag moved: %d", resp.StatusCode)
	}
	take()
	// Deleting it, by tag or by its manifest, is refused too.
	resp, _ = e.do("DELETE", "/v2/team/app/manifests/frozen", nil)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("deleting a frozen tag: %d", resp.StatusCode)
	}
	resp, _ = e.do("DELETE", "/v2/team/app/manifests/"+img.digest, nil)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("deleting the manifest of a frozen tag: %d", resp.StatusCode)
	}
	take()
	resp, _ = e.do("DELETE", "/v2/team/app/manifests/"+other.digest, nil)
	if got := take(); resp.StatusCode != http.StatusAccepted || len(got) != 1 || got[0] != "onDelete  "+short(other.digest) {
		t.Fatalf("delete of an untagged manifest: %d %q", resp.StatusCode, got)
	}
}

func short(d string) string {
	if len(d) > 15 {
		return d[:15]
	}
	return d
}
