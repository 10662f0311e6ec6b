package signature_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/signature"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// memBlobs is a blob.Store in memory.
type memBlobs struct {
	mu sync.Mutex
	m  map[blob.Digest][]byte
}

func (b *memBlobs) put(content []byte) string {
	sum := sha256.Sum256(content)
	d := blob.Digest("sha256:" + hex.EncodeToString(sum[:]))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[blob.Digest][]byte{}
	}
	b.m[d] = content
	return string(d)
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func (b *memBlobs) Stat(_ context.Context, d blob.Digest) (blob.Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.m[d]
	if !ok {
		return blob.Info{}, blob.ErrNotFound
	}
	return blob.Info{Digest: d, Size: int64(len(c))}, nil
}

func (b *memBlobs) Open(_ context.Context, d blob.Digest) (io.ReadSeekCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.m[d]
	if !ok {
		return nil, blob.ErrNotFound
	}
	return readSeekNopCloser{bytes.NewReader(c)}, nil
}

func (b *memBlobs) Delete(context.Context, blob.Digest) error         { return nil }
func (b *memBlobs) Walk(context.Context, func(blob.Info) error) error { return nil }

const recordedImage = "sha256:e8882c14f30a121bf0a54302ebb7fe370b84772771c7c850003d27637909c32a"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memEnv stores the recorded image and, optionally, a tag-form
// signature manifest and a bundle referrer built around the given bytes.
func memEnv(t testing.TB, sigManifest, bundle []byte) (*signature.Checker, *memBlobs) {
	t.Helper()
	ctx := context.Background()
	st := testsupport.NewMemStore("team")
	blobs := &memBlobs{}
	r, err := st.EnsureRepository(ctx, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	img := &store.Manifest{RepositoryID: r.ID, Digest: recordedImage, MediaType: "application/vnd.docker.distribution.manifest.v2+json", Size: 423, Content: []byte(`{}`)}
	if err := st.PutManifest(ctx, img, nil, "v1"); err != nil {
		t.Fatal(err)
	}
	blobs.put(readTestdata(t, "cosign-simplesigning.json"))
	if sigManifest != nil {
		d := blobs.put(sigManifest)
		m := &store.Manifest{RepositoryID: r.ID, Digest: d, MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(sigManifest)), Content: sigManifest}
		if err := st.PutManifest(ctx, m, nil, "sha256-"+strings.TrimPrefix(recordedImage, "sha256:")+".sig"); err != nil {
			t.Fatal(err)
		}
	}
	if bundle != nil {
		bd := blobs.put(bundle)
		man := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[{"mediaType":%q,"size":%d,"digest":%q}],"subject":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":423,"digest":%q}}`,
			signature.ArtifactTypeBundle, signature.MediaTypeBundle, len(bundle), bd, recordedImage)
		md := blobs.put(man)
		m := &store.Manifest{RepositoryID: r.ID, Digest: md, MediaType: "application/vnd.oci.image.manifest.v1+json", ArtifactType: signature.ArtifactTypeBundle,
			Size: int64(len(man)), Content: man, Subject: recordedImage}
		if err := st.PutManifest(ctx, m, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	return signature.New(st, blobs, nil), blobs
}

// TestRecordedCosignOutput checks what the real cosign wrote, kept in
// testdata, so cosign's formats are covered where cosign is not installed.
func TestRecordedCosignOutput(t *testing.T) {
	pub := readTestdata(t, "cosign-trusted.pub")
	other := newKey(t, "ecdsa").pub
	for _, tt := range []struct {
		name         string
		sig, bundle  []byte
		keys         [][]byte
		signed, trst bool
		form         signature.Form
	}{
		{"tag form", readTestdata(t, "cosign-sig-manifest.json"), nil, [][]byte{pub}, true, true, signature.FormTag},
		{"tag form, other key", readTestdata(t, "cosign-sig-manifest.json"), nil, [][]byte{other}, true, false, signature.FormTag},
		{"bundle", nil, readTestdata(t, "cosign-bundle.json"), [][]byte{pub}, true, true, signature.FormReferrer},
		{"bundle, other key", nil, readTestdata(t, "cosign-bundle.json"), [][]byte{other}, true, false, signature.FormReferrer},
		{"bundle, changed byte", nil, bytes.Replace(readTestdata(t, "cosign-bundle.json"), []byte(`"sig":"MEUCIDF0`), []byte(`"sig":"MEUCIDF1`), 1), [][]byte{pub}, true, false, signature.FormReferrer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := memEnv(t, tt.sig, tt.bundle)
			st, err := c.Check(context.Background(), "team/app", recordedImage, tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if st.Signed != tt.signed || st.Trusted != tt.trst || st.Form != tt.form {
				t.Errorf("status %+v; want signed %v trusted %v form %q", st, tt.signed, tt.trst, tt.form)
			}
			if tt.bundle != nil && !tt.trst && !strings.HasPrefix(st.Signer, "SHA256:2z1/Mw") {
				t.Errorf("signer %q: want the bundle's key hint", st.Signer)
			}
		})
	}
}

// FuzzBundle feeds arbitrary bytes to the checker as a Sigstore bundle
// and as a tag-form signature manifest: no panic, and never trusted
// unless the bytes carry a real signature by the trusted key.
func FuzzBundle(f *testing.F) {
	f.Add(readTestdata(f, "cosign-bundle.json"), readTestdata(f, "cosign-sig-manifest.json"))
	f.Add([]byte(`{"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}}`), []byte(`{"layers":[{}]}`))
	f.Add([]byte(`{}`), []byte(`null`))
	pub := readTestdata(f, "cosign-trusted.pub")
	f.Fuzz(func(t *testing.T, bundle, sigManifest []byte) {
		c, _ := memEnv(t, sigManifest, bundle)
		st, err := c.Check(context.Background(), "team/app", recordedImage, [][]byte{pub})
		if err != nil {
			return
		}
		if st.Trusted && !bytes.Contains(bundle, []byte("MEUCIDF0PV9p")) && !bytes.Contains(sigManifest, []byte("MEQCIFUU6DAC")) {
			t.Fatalf("trusted without the recorded signature: %+v", st)
		}
	})
}
