package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/seawall-dev/seawall/internal/blob/fs"
	"github.com/seawall-dev/seawall/internal/registry"
	"github.com/seawall-dev/seawall/internal/signature"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
	"github.com/seawall-dev/seawall/internal/testsupport"
)

// env is a real registry (SQLite and filesystem blobs) that the test
// pushes images and signatures into over HTTP, and a Checker reading the
// same storage.
type env struct {
	t       *testing.T
	host    string
	checker *signature.Checker
	st      *sqlite.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(data, "seawall.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	blobs, err := fs.New(data)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{Store: st, Blobs: blobs, Uploads: blobs, Auth: testsupport.AllowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &env{t: t, host: u.Host, checker: signature.New(st, blobs, nil), st: st}
}

// pushImage pushes a random image and returns its digest.
func (e *env) pushImage(repo string) string {
	e.t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	ref, err := name.ParseReference(e.host+"/"+repo+":v1", name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		e.t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error) { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) {
	return r.mt, nil
}

type layer struct {
	mediaType   string
	content     []byte
	annotations map[string]string
}

// pushManifest uploads the layers and an OCI manifest over them, tagged
// with tag or, when tag is "", by digest; it returns the digest.
func (e *env) pushManifest(repo, tag string, config layer, layers []layer, subject *v1.Descriptor, artifactType string, annotations map[string]string) string {
	e.t.Helper()
	r, err := name.NewRepository(e.host+"/"+repo, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	desc := func(l layer) map[string]any {
		sl := static.NewLayer(l.content, types.MediaType(l.mediaType))
		if err := remote.WriteLayer(r, sl); err != nil {
			e.t.Fatal(err)
		}
		d, _ := sl.Digest()
		m := map[string]any{"mediaType": l.mediaType, "digest": d.String(), "size": len(l.content)}
		if len(l.annotations) > 0 {
			m["annotations"] = l.annotations
		}
		return m
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": desc(config)}
	var ls []map[string]any
	for _, l := range layers {
		ls = append(ls, desc(l))
	}
	m["layers"] = ls
	if subject != nil {
		m["subject"] = subject
	}
	if artifactType != "" {
		m["artifactType"] = artifactType
	}
	if annotations != nil {
		m["annotations"] = annotations
	}
	b, _ := json.Marshal(m)
	sum, _, _ := v1.SHA256(bytes.NewReader(b))
	ref := r.Digest(sum.String()).String()
	if tag != "" {
		ref = r.Tag(tag).String()
	}
	pr, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := remote.Put(pr, rawManifest{b, types.OCIManifestSchema1}); err != nil {
		e.t.Fatal(err)
	}
	return sum.String()
}

// key is a signing key pair made in-process.
type key struct {
	name string
	sv   sigsig.SignerVerifier
	pub  []byte // PEM
}

func newKey(t *testing.T, kind string) key {
	t.Helper()
	var (
		sv  sigsig.SignerVerifier
		pub crypto.PublicKey
		err error
	)
	switch kind {
	case "ecdsa":
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		sv, err = sigsig.LoadECDSASignerVerifier(priv, crypto.SHA256)
		pub = priv.Public()
	case "ed25519":
		p, priv, _ := ed25519.GenerateKey(rand.Reader)
		sv, err = sigsig.LoadED25519SignerVerifier(priv)
		pub = p
	case "rsa":
		priv, _ := rsa.GenerateKey(rand.Reader, 2048)
		sv, err = sigsig.LoadRSAPKCS1v15SignerVerifier(priv, crypto.SHA256)
		pub = priv.Public()
	}
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key{kind, sv, pemKey}
}

func (k key) sign(t *testing.T, payload []byte) string {
	t.Helper()
	sig, err := k.sv.SignMessage(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func simplePayload(repo, digest string) []byte {
	return fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, repo, digest)
}

var emptyConfig = layer{mediaType: "application/vnd.oci.image.config.v1+json", content: []byte(`{}`)}

// signTag signs digest in cosign's tag form.
func (e *env) signTag(repo, digest string, keys ...key) {
	e.t.Helper()
	payload := simplePayload(e.host+"/"+repo, digest)
	var ls []layer
	for _, k := range keys {
		ls = append(ls, layer{signature.MediaTypeSimpleSigning, payload, map[string]string{signature.AnnotationSignature: k.sign(e.t, payload)}})
	}
	e.pushManifest(repo, strings.Replace(digest, ":", "-", 1)+".sig", emptyConfig, ls, nil, "", nil)
}

func (e *env) subject(repo, digest string) *v1.Descriptor {
	m, err := e.st.Manifest(context.Background(), repo, digest)
	if err != nil {
		e.t.Fatal(err)
	}
	h, _ := v1.NewHash(digest)
	return &v1.Descriptor{MediaType: types.MediaType(m.MediaType), Size: m.Size, Digest: h}
}

// signReferrer signs digest as cosign v2 does with
// --registry-referrers-mode=oci-1-1.
func (e *env) signReferrer(repo, digest string, k key) {
	e.t.Helper()
	payload := simplePayload(e.host+"/"+repo, digest)
	cfg := layer{mediaType: signature.ArtifactTypeCosignSig, content: []byte(`{"architecture":"","os":""}`)}
	ls := []layer{{signature.MediaTypeSimpleSigning, payload, map[string]string{signature.AnnotationSignature: k.sign(e.t, payload)}}}
	e.pushManifest(repo, "", cfg, ls, e.subject(repo, digest), signature.ArtifactTypeCosignSig, nil)
}

// signBundle signs digest as cosign v3 (or v2 --new-bundle-format) does:
// a Sigstore bundle with a DSSE envelope over an in-toto statement.
func (e *env) signBundle(repo, digest string, k key, predicate string, created time.Time) {
	e.t.Helper()
	hex := strings.TrimPrefix(digest, "sha256:")
	stmt := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q}`, hex, predicate)
	env, err := dsse.WrapSigner(k.sv, "application/vnd.in-toto+json").SignMessage(bytes.NewReader(stmt))
	if err != nil {
		e.t.Fatal(err)
	}
	fp, _ := signature.Fingerprint(k.pub)
	bundle := fmt.Appendf(nil, `{"mediaType":%q,"verificationMaterial":{"publicKey":{"hint":%q}},"dsseEnvelope":%s}`,
		signature.MediaTypeBundle, strings.TrimPrefix(fp, "SHA256:"), env)
	cfg := layer{mediaType: "application/vnd.oci.empty.v1+json", content: []byte(`{}`)}
	ls := []layer{{signature.MediaTypeBundle, bundle, nil}}
	e.pushManifest(repo, "", cfg, ls, e.subject(repo, digest), signature.ArtifactTypeBundle, map[string]string{
		"dev.sigstore.bundle.content":       "dsse-envelope",
		"dev.sigstore.bundle.predicateType": predicate,
		signature.AnnotationCreated:         created.Format(time.RFC3339),
	})
}

func TestCheck(t *testing.T) {
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, kind := range []string{"ecdsa", "ed25519", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			trusted, other := newKey(t, kind), newKey(t, kind)
			fp, err := signature.Fingerprint(trusted.pub)
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name        string
				sign        func(repo, digest string)
				wantSigned  bool
				wantTrusted bool
				wantForm    signature.Form
				wantSource  string
			}{
				{"unsigned", func(string, string) {}, false, false, "", ""},
				{"tag, trusted", func(r, d string) { e.signTag(r, d, trusted) }, true, true, signature.FormTag, signature.TimeFromPush},
				{"tag, untrusted", func(r, d string) { e.signTag(r, d, other) }, true, false, signature.FormTag, signature.TimeFromPush},
				{"tag, both keys", func(r, d string) { e.signTag(r, d, other, trusted) }, true, true, signature.FormTag, signature.TimeFromPush},
				{"referrer, trusted", func(r, d string) { e.signReferrer(r, d, trusted) }, true, true, signature.FormReferrer, signature.TimeFromPush},
				{"referrer, untrusted", func(r, d string) { e.signReferrer(r, d, other) }, true, false, signature.FormReferrer, signature.TimeFromPush},
				{"bundle, trusted", func(r, d string) { e.signBundle(r, d, trusted, signature.PredicateCosignSign, created) }, true, true, signature.FormReferrer, signature.TimeFromAnnotation},
				{"bundle, untrusted", func(r, d string) { e.signBundle(r, d, other, signature.PredicateCosignSign, created) }, true, false, signature.FormReferrer, signature.TimeFromAnnotation},
				// An attestation is not a signature of the image.
				{"bundle, attestation only", func(r, d string) { e.signBundle(r, d, trusted, "https://slsa.dev/provenance/v1", created) }, false, false, "", ""},
			}
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					repo := fmt.Sprintf("team/app%d", i)
					digest := e.pushImage(repo)
					tt.sign(repo, digest)
					st, err := e.checker.Check(context.Background(), repo, digest, [][]byte{trusted.pub})
					if err != nil {
						t.Fatal(err)
					}
					if st.Signed != tt.wantSigned || st.Trusted != tt.wantTrusted || st.Form != tt.wantForm {
						t.Fatalf("status %+v; want signed %v trusted %v form %q", st, tt.wantSigned, tt.wantTrusted, tt.wantForm)
					}
					if tt.wantTrusted && st.Signer != fp {
						t.Errorf("signer %q, want the trusted key's fingerprint %q", st.Signer, fp)
					}
					if tt.wantSigned {
						sig := st.Signatures[0]
						if sig.SignedAtSource != tt.wantSource || st.SignedAt.IsZero() {
							t.Errorf("signed at %v from %q; want a time from %q", st.SignedAt, sig.SignedAtSource, tt.wantSource)
						}
						if tt.wantSource == signature.TimeFromAnnotation && !st.SignedAt.Equal(created) {
							t.Errorf("signed at %v, want the bundle's %v", st.SignedAt, created)
						}
					}
					// With no trusted keys, it is still known to be signed.
					st, err = e.checker.Check(context.Background(), repo, digest, nil)
					if err != nil || st.Signed != tt.wantSigned || st.Trusted {
						t.Errorf("with no keys: %+v, %v", st, err)
					}
				})
			}
		})
	}
}

// TestSignatureOfAnotherDigest: a signature manifest copied onto another
// image's .sig tag names the other digest and does not count.
func TestSignatureOfAnotherDigest(t *testing.T) {
	e := newEnv(t)
	k := newKey(t, "ecdsa")
	a, b := e.pushImage("team/a"), e.pushImage("team/b")
	payload := simplePayload(e.host+"/team/a", a)
	ls := []layer{{signature.MediaTypeSimpleSigning, payload, map[string]string{signature.AnnotationSignature: k.sign(t, payload)}}}
	e.pushManifest("team/b", strings.Replace(b, ":", "-", 1)+".sig", emptyConfig, ls, nil, "", nil)
	st, err := e.checker.Check(context.Background(), "team/b", b, [][]byte{k.pub})
	if err != nil || st.Signed || st.Trusted {
		t.Errorf("status %+v, %v; want unsigned", st, err)
	}
}

// TestTamperedPayload: a payload changed after signing does not verify.
func TestTamperedPayload(t *testing.T) {
	e := newEnv(t)
	k := newKey(t, "ecdsa")
	d := e.pushImage("team/a")
	payload := simplePayload(e.host+"/team/a", d)
	sig := k.sign(t, payload)
	changed := bytes.Replace(payload, []byte(`"optional":null`), []byte(`"optional":{"x":"y"}`), 1)
	ls := []layer{{signature.MediaTypeSimpleSigning, changed, map[string]string{signature.AnnotationSignature: sig}}}
	e.pushManifest("team/a", strings.Replace(d, ":", "-", 1)+".sig", emptyConfig, ls, nil, "", nil)
	st, err := e.checker.Check(context.Background(), "team/a", d, [][]byte{k.pub})
	if err != nil || !st.Signed || st.Trusted {
		t.Errorf("status %+v, %v; want signed but not trusted", st, err)
	}
}

// TestCertificateIdentity: a signature carrying a certificate shows the
// certificate's identity; it is trusted only through a trusted key.
func TestCertificateIdentity(t *testing.T) {
	e := newEnv(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sv, _ := sigsig.LoadECDSASignerVerifier(priv, crypto.SHA256)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ci"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		EmailAddresses: []string{"release@example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pubPEM, _ := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	k := key{"ecdsa", sv, pubPEM}
	d := e.pushImage("team/a")
	payload := simplePayload(e.host+"/team/a", d)
	ls := []layer{{signature.MediaTypeSimpleSigning, payload, map[string]string{
		signature.AnnotationSignature:   k.sign(t, payload),
		signature.AnnotationCertificate: string(certPEM),
	}}}
	e.pushManifest("team/a", strings.Replace(d, ":", "-", 1)+".sig", emptyConfig, ls, nil, "", nil)

	st, err := e.checker.Check(context.Background(), "team/a", d, nil)
	if err != nil || !st.Signed || st.Trusted || st.Identity != "release@example.com" || st.Signatures[0].Problem != "" {
		t.Errorf("untrusted: %+v, %v; want signed, identity shown, not trusted", st, err)
	}
	st, err = e.checker.Check(context.Background(), "team/a", d, [][]byte{pubPEM})
	if err != nil || !st.Trusted || st.Identity != "release@example.com" {
		t.Errorf("trusted: %+v, %v", st, err)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	d := e.pushImage("team/a")
	if _, err := signature.ParseKeys([][]byte{newKey(t, "ecdsa").pub, []byte("not a key")}); err == nil || !strings.Contains(err.Error(), "trusted key 2") {
		t.Errorf("bad key: %v", err)
	}
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakPEM, _ := cryptoutils.MarshalPublicKeyToPEM(weak.Public())
	if _, err := signature.ParseKeys([][]byte{weakPEM}); err == nil {
		t.Error("a 1024-bit RSA key was accepted")
	}
	// Check ignores an unusable key: it trusts nothing, and the
	// others still work.
	good := newKey(t, "ecdsa")
	e.signTag("team/a", d, good)
	st, err := e.checker.Check(context.Background(), "team/a", d, [][]byte{[]byte("not a key"), weakPEM, good.pub})
	if err != nil || !st.Trusted {
		t.Errorf("with unusable keys beside a good one: %+v, %v", st, err)
	}
	if _, err := e.checker.Check(context.Background(), "team/a", "sha256:nothex", nil); err == nil {
		t.Error("a bad digest was accepted")
	}
	// A repository or digest that does not exist is simply unsigned.
	st, err = e.checker.Check(context.Background(), "team/none", "sha256:"+strings.Repeat("0", 64), nil)
	if err != nil || st.Signed {
		t.Errorf("missing: %+v, %v", st, err)
	}
}

func TestFingerprint(t *testing.T) {
	// The fingerprint is the digest cosign puts in a bundle's key hint.
	k := newKey(t, "ecdsa")
	pub, _ := cryptoutils.UnmarshalPEMToPublicKey(k.pub)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256Sum(der)
	fp, err := signature.Fingerprint(k.pub)
	if err != nil || fp != "SHA256:"+base64.StdEncoding.EncodeToString(sum) {
		t.Errorf("fingerprint %q, %v", fp, err)
	}
}
