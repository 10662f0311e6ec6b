package console_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// signImage stores a cosign signature of digest in repo under cosign's
// "sha256-<hex>.sig" tag, as `cosign sign --key` does: a simple-signing
// payload as a layer, its ECDSA signature in the layer's annotation. The
// server verifies it with the sigstore libraries (package signature).
func (e *env) signImage(repo, digest string, key *ecdsa.PrivateKey) {
	e.t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": e.host + "/" + repo},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		e.t.Fatal(err)
	}
	layer := static.NewLayer(payload, types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json"))
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	tag := strings.Replace(digest, ":", "-", 1) + ".sig"
	ref, err := name.ParseReference(e.host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "admin", Password: adminPW})); err != nil {
		e.t.Fatalf("push the signature: %v", err)
	}
}

func publicPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestSignatureStatus shows an image signed by a trusted key, one signed
// by another key, and an unsigned one, in a project that requires a
// signature.
func TestSignatureStatus(t *testing.T) {
	e := newEnv(t)
	e.project("team", false)
	trusted, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e.setPolicy("team", verdict.Policy{TrustedKeys: []string{publicPEM(t, trusted)}})
	e.user("dev", map[string]store.Role{"team": store.RoleDeveloper})
	good := e.push("team/app", "good", nil)
	bad := e.push("team/app", "bad", nil)
	none := e.push("team/app", "none", nil)
	e.signImage("team/app", good, trusted)
	e.signImage("team/app", bad, other)
	c := e.client()
	e.login(c, "dev", userPW)

	repo := e.get(c, "/projects/team/repos/app")
	if !strings.Contains(repo.body, "2 cosign signature, attestation or SBOM tags are not listed") {
		t.Errorf("repository page does not set the .sig tags aside\n%s", repo.body)
	}
	for _, tc := range []struct {
		name, digest string
		want         []string
	}{
		{"trusted", good, []string{`<span class="sig trusted">signed, trusted</span>`, "<span class=\"verdict allowed\">allowed</span>",
			"yes: it verifies against a key the project trusts (1 in all)", "<code>.sig</code> tag", `id="signatures"`}},
		{"untrusted", bad, []string{`<span class="sig untrusted">signed, not trusted</span>`, "<span class=\"verdict denied\">denied</span>",
			"no: it verifies against none of the project's trusted keys (1 in all)"}},
		{"unsigned", none, []string{`<span class="sig unsigned">unsigned</span>`, "<span class=\"verdict denied\">denied</span>",
			"No cosign signature was found for this digest; the project trusts 1 key."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(c, "/projects/team/repos/app/-/artifacts/"+tc.digest)
			for _, w := range tc.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q\n%s", w, p.body)
				}
			}
		})
	}
}
