package vulndb

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// keyPair makes an encrypted ECDSA P-256 key pair in the format cosign
// generate-key-pair writes.
func keyPair(t *testing.T, password string) (priv, pub []byte) {
	t.Helper()
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(priv, []byte("ENCRYPTED SIGSTORE PRIVATE KEY")) {
		t.Fatalf("key format: %s", priv[:40])
	}
	return priv, pub
}

// bundleFixture imports the test records and bundles them.
func bundleFixture(t *testing.T, privPEM []byte, password string) (dbDir, bundle string) {
	t.Helper()
	ctx := context.Background()
	dbDir = t.TempDir()
	if _, err := Import(ctx, dbDir, []Input{{Location: testRecords, Name: "testdata"}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	key, err := LoadPrivateKey(privPEM, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	bundle = filepath.Join(t.TempDir(), "vulndb-bundle.tar")
	m, err := Bundle(ctx, dbDir, bundle, key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Records == 0 || m.DB.SHA256 == "" || m.Format != bundleFormat {
		t.Errorf("manifest %+v", m)
	}
	return dbDir, bundle
}

func TestBundleRoundTrip(t *testing.T) {
	ctx := context.Background()
	priv, pub := keyPair(t, "secret")
	src, bundle := bundleFixture(t, priv, "secret")
	if _, err := LoadPrivateKey(priv, []byte("wrong")); err == nil {
		t.Error("wrong password accepted")
	}

	// An air-gapped site imports it into an empty database.
	dst := t.TempDir()
	st, err := Import(ctx, dst, []Input{{Location: bundle, Name: "bundle"}}, ImportOptions{VerifyKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	a, b := openT(t, src), openT(t, dst)
	defer a.Close()
	defer b.Close()
	if st.Added != a.Info().Records || b.Info().Records != a.Info().Records {
		t.Errorf("imported %d of %d records", b.Info().Records, a.Info().Records)
	}
	for _, k := range [][2]string{{"PyPI", "jinja2"}, {"Go", "golang.org/x/net"}, {"AlmaLinux:9", "kernel"}} {
		want, got := lookupT(t, a, k[0], k[1]), lookupT(t, b, k[0], k[1])
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("%v: %v, want %v", k, got, want)
		}
	}
	srcs := b.Sources()
	if len(srcs) != 1 || srcs[0].Verified == "" || !strings.HasPrefix(srcs[0].Verified, "sha256:") {
		t.Errorf("sources %+v", srcs)
	}
}

// TestBundleRejected: every kind of bad bundle is refused before anything
// is written: the existing database and its directory stay as they were.
func TestBundleRejected(t *testing.T) {
	ctx := context.Background()
	priv, pub := keyPair(t, "pw")
	_, otherPub := keyPair(t, "pw")
	_, bundle := bundleFixture(t, priv, "pw")
	entries := readTar(t, bundle)

	tampered := func(name string, change func([]byte) []byte) string {
		var out []tarFile
		for _, e := range entries {
			if e.name == name {
				e.data = change(append([]byte(nil), e.data...))
			}
			out = append(out, e)
		}
		return writeTar(t, out)
	}
	flip := func(b []byte) []byte { b[len(b)/2] ^= 1; return b }
	cases := []struct {
		name, bundle string
		key          []byte
		want         string
	}{
		{"no key", bundle, nil, "public key"},
		{"wrong key", bundle, otherPub, "does not match key"},
		{"bad signature", tampered(signatureName, func(b []byte) []byte {
			sig, _ := base64.StdEncoding.DecodeString(string(b))
			return []byte(base64.StdEncoding.EncodeToString(flip(sig)))
		}), pub, "does not match"},
		{"signature not base64", tampered(signatureName, func([]byte) []byte { return []byte("!!!") }), pub, "not base64"},
		{"tampered manifest", tampered(manifestName, func(b []byte) []byte { return bytes.Replace(b, []byte(`"records": `), []byte(`"records": 1`), 1) }), pub, "does not match"},
		{"tampered database", tampered(bundleDBName, flip), pub, "changed after signing"},
		{"truncated database", tampered(bundleDBName, func(b []byte) []byte { return b[:len(b)/2] }), pub, "not the one the manifest names"},
		{"entries reordered", writeTar(t, []tarFile{entries[1], entries[0], entries[2]}), pub, "not a bundle"},
		{"not a tar", writeFile(t, filepath.Join(t.TempDir(), "x.tar"), []byte("hello")), pub, "not a bundle"},
	}
	dbDir := t.TempDir()
	in := writeFile(t, filepath.Join(t.TempDir(), "a.json"), record("X-1", "2024-01-01T00:00:00Z", "npm", "a"))
	if _, err := Import(ctx, dbDir, []Input{{Location: in}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before := fileDigest(t, Path(dbDir))
	listing := dirListing(t, dbDir)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(ctx, dbDir, []Input{{Location: c.bundle}}, ImportOptions{VerifyKey: c.key})
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrVerify with %q", err, c.want)
			}
			if _, err := VerifyBundle(c.bundle, c.key); !errors.Is(err, ErrVerify) {
				t.Errorf("VerifyBundle: %v", err)
			}
			if fileDigest(t, Path(dbDir)) != before || dirListing(t, dbDir) != listing {
				t.Error("something was written")
			}
		})
	}
}

func dirListing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

type tarFile struct {
	name string
	data []byte
}

func readTar(t *testing.T, p string) []tarFile {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarFile
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out = append(out, tarFile{h.Name, data})
	}
	if len(out) != 3 || out[0].name != manifestName || out[1].name != signatureName || out[2].name != bundleDBName {
		t.Fatalf("bundle entries: %v", out)
	}
	return out
}

func writeTar(t *testing.T, entries []tarFile) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		tw.Write(e.data)
	}
	tw.Close()
	return writeFile(t, filepath.Join(t.TempDir(), "b.tar"), buf.Bytes())
}

// TestBundleCosign checks interoperability with the real cosign: a key
// pair from `cosign generate-key-pair` signs our bundle, `cosign
// verify-blob` accepts our signature, and our verifier accepts a
// signature made by `cosign sign-blob`. It needs the cosign binary that
// bench/peers.sh builds, and skips without it.
func TestBundleCosign(t *testing.T) {
	home, _ := os.UserHomeDir()
	cosign := filepath.Join(home, ".cache", "seawall-peers", "bin", "cosign")
	if p := os.Getenv("SEAWALL_COSIGN"); p != "" {
		cosign = p
	}
	if _, err := os.Stat(cosign); err != nil {
		t.Skipf("cosign not found at %s (bench/peers.sh builds it)", cosign)
	}
	work := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = work
		// Offline: cosign looks for its TUF root even with
		// --insecure-ignore-tlog; point it at a dead local proxy so the
		// attempt stays on this machine and fails at once.
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=correct horse", "HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=", "TUF_ROOT="+filepath.Join(work, "tuf"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("generate-key-pair")
	priv, err := os.ReadFile(filepath.Join(work, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(work, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	_, bundle := bundleFixture(t, priv, "correct horse")
	entries := readTar(t, bundle)
	writeFile(t, filepath.Join(work, manifestName), entries[0].data)
	writeFile(t, filepath.Join(work, signatureName), entries[1].data)

	// cosign accepts our signature ...
	if out := run("verify-blob", "--key", "cosign.pub", "--signature", signatureName, "--insecure-ignore-tlog=true", manifestName); !strings.Contains(out, "Verified OK") {
		t.Errorf("cosign verify-blob: %s", out)
	}
	// ... and we accept cosign's.
	run("sign-blob", "--key", "cosign.key", "--tlog-upload=false", "--yes", "--output-signature", "cosign.sig", manifestName)
	sig, err := os.ReadFile(filepath.Join(work, "cosign.sig"))
	if err != nil {
		t.Fatal(err)
	}
	b2 := writeTar(t, []tarFile{entries[0], {signatureName, sig}, entries[2]})
	if _, err := VerifyBundle(b2, pub); err != nil {
		t.Errorf("cosign's signature rejected: %v", err)
	}
	if _, err := Import(context.Background(), t.TempDir(), []Input{{Location: b2}}, ImportOptions{VerifyKey: pub}); err != nil {
		t.Errorf("import: %v", err)
	}
}

// FuzzVerifyBundle: bundle verification reads untrusted tar, base64 and
// JSON. It must never panic, and nothing but the real signed manifest
// may pass. (Under -fuzz it runs slowly, a few execs a second: the
// coverage counters of the SQLite driver linked into this test binary
// dominate each exec. The seeds run in every go test.)
func FuzzVerifyBundle(f *testing.F) {
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc(nil))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := LoadPrivateKey(priv, nil); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []tarFile{{manifestName, []byte(`{"format":"seawall-vulndb-bundle/1","db":{"name":"vulndb.sqlite.zst","compression":"zstd","size":1}}`)}, {signatureName, []byte("MEUCIQ==")}, {bundleDBName, []byte("x")}} {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		tw.Write(e.data)
	}
	tw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("not a tar"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "b.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyBundle(p, pub); err == nil {
			t.Fatal("an unsigned bundle verified")
		}
	})
}
