package vulndb

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/seawall-dev/seawall/internal/buildinfo"
)

// A bundle is a tar of three entries, in this order:
//
//	manifest.json       Manifest: what the bundle holds, with the DB's digests
//	manifest.json.sig   base64 signature of manifest.json, as `cosign sign-blob` writes it
//	vulndb.sqlite.zst   the database file, zstd-compressed
//
// The signature covers the manifest, and the manifest pins the database
// by SHA-256 (compressed and uncompressed), so one signature check plus
// two digest checks cover every byte. A cosign key pair works as is:
//
//	cosign verify-blob --key cosign.pub --signature manifest.json.sig \
//	    --insecure-ignore-tlog=true manifest.json
const (
	bundleFormat    = "seawall-vulndb-bundle/1"
	manifestName    = "manifest.json"
	signatureName   = "manifest.json.sig"
	bundleDBName    = "vulndb.sqlite.zst"
	maxManifestSize = 4 << 20
	maxSigSize      = 64 << 10
	maxBundleDB     = 64 << 30
)

// ErrVerify is returned, wrapped, for a bundle that fails verification:
// no key, a bad or missing signature, the wrong key, a tampered database.
var ErrVerify = errors.New("bundle verification failed")

// Manifest describes a bundle. It is the signed part.
type Manifest struct {
	Format         string         `json:"format"`
	SeawallVersion string         `json:"seawallVersion"`
	CreatedAt      time.Time      `json:"createdAt"`
	BuiltAt        time.Time      `json:"builtAt"` // the database's build time
	Records        int            `json:"records"`
	Ecosystems     map[string]int `json:"ecosystems"`
	Sources        []Source       `json:"sources"`
	DB             BundleFile     `json:"db"`
}

// BundleFile pins the database file inside a bundle.
type BundleFile struct {
	Name             string `json:"name"`
	Compression      string `json:"compression"`
	Size             int64  `json:"size"`
	SHA256           string `json:"sha256"`
	CompressedSize   int64  `json:"compressedSize"`
	CompressedSHA256 string `json:"compressedSha256"`
}

// LoadPrivateKey reads a PEM private key: a cosign key pair's
// cosign.key ("ENCRYPTED SIGSTORE PRIVATE KEY" or the older "ENCRYPTED
// COSIGN PRIVATE KEY", decrypted with password), or an unencrypted
// PKCS #8, SEC 1 or PKCS #1 key.
func LoadPrivateKey(pemBytes, password []byte) (crypto.Signer, error) {
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, fmt.Errorf("private key: %w (for a cosign key, check COSIGN_PASSWORD)", err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key: %T cannot sign", priv)
	}
	return s, nil
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return pub, nil
}

// KeyID is a public key's fingerprint: "sha256:" and the hex SHA-256 of
// its DER (PKIX) form.
func KeyID(pub crypto.PublicKey) string {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Bundle writes a signed offline bundle of the database at dbPath to
// out. The file appears at out only when complete.
func Bundle(ctx context.Context, dbPath, out string, key crypto.Signer) (Manifest, error) {
	var m Manifest
	if key == nil {
		return m, errors.New("bundle: a signing key is required (cosign generate-key-pair makes one)")
	}
	signer, err := signature.LoadSigner(key, crypto.SHA256)
	if err != nil {
		return m, fmt.Errorf("bundle: signing key: %w", err)
	}
	db, err := Open(dbPath)
	if err != nil {
		return m, err
	}
	info, sources := db.Info(), db.Sources()
	db.Close()

	outDir := filepath.Dir(out)
	zf, err := os.CreateTemp(outDir, ".bundle-db-*.zst")
	if err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(zf.Name())
	defer zf.Close()
	src, err := os.Open(Path(dbPath))
	if err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	defer src.Close()
	rawHash, zHash := sha256.New(), sha256.New()
	zw, err := zstd.NewWriter(io.MultiWriter(zf, zHash), zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return m, err
	}
	rawSize, err := io.Copy(zw, io.TeeReader(&ctxReader{ctx, src}, rawHash))
	if err != nil {
		zw.Close()
		return m, fmt.Errorf("bundle: compressing the database: %w", err)
	}
	if err := zw.Close(); err != nil {
		return m, err
	}
	zSize, err := zf.Seek(0, io.SeekCurrent)
	if err != nil {
		return m, err
	}
	m = Manifest{
		Format: bundleFormat, SeawallVersion: buildinfo.Version(), CreatedAt: time.Now().UTC(),
		BuiltAt: info.BuiltAt, Records: info.Records, Ecosystems: info.Ecosystems, Sources: sources,
		DB: BundleFile{Name: bundleDBName, Compression: "zstd", Size: rawSize, SHA256: hex.EncodeToString(rawHash.Sum(nil)),
			CompressedSize: zSize, CompressedSHA256: hex.EncodeToString(zHash.Sum(nil))},
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	manifest = append(manifest, '\n')
	sig, err := signer.SignMessage(bytes.NewReader(manifest))
	if err != nil {
		return m, fmt.Errorf("bundle: signing: %w", err)
	}
	sigText := []byte(base64.StdEncoding.EncodeToString(sig))

	tf, err := os.CreateTemp(outDir, ".bundle-*.tar")
	if err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(tf.Name())
	defer tf.Close()
	tw := tar.NewWriter(tf)
	mtime := m.CreatedAt.Truncate(time.Second)
	for _, e := range []struct {
		name string
		data []byte
	}{{manifestName, manifest}, {signatureName, sigText}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return m, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return m, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: bundleDBName, Mode: 0o644, Size: zSize, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return m, err
	}
	if _, err := zf.Seek(0, io.SeekStart); err != nil {
		return m, err
	}
	if _, err := io.Copy(tw, &ctxReader{ctx, zf}); err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	if err := tf.Sync(); err != nil {
		return m, err
	}
	if err := tf.Close(); err != nil {
		return m, err
	}
	if err := os.Rename(tf.Name(), out); err != nil {
		return m, fmt.Errorf("bundle: %w", err)
	}
	syncDir(outDir)
	return m, nil
}

// verifiedBundle is a bundle whose signature and database digest were
// checked, without writing anything.
type verifiedBundle struct {
	path     string
	manifest Manifest
	keyID    string
}

// VerifyBundle checks a bundle against a PEM public key and returns its
// manifest. It writes nothing.
func VerifyBundle(path string, pubPEM []byte) (Manifest, error) {
	vb, err := verifyBundle(path, pubPEM)
	if err != nil {
		return Manifest{}, err
	}
	return vb.manifest, nil
}

func verifyBundle(path string, pubPEM []byte) (*verifiedBundle, error) {
	if len(pubPEM) == 0 {
		return nil, fmt.Errorf("%w: a bundle is imported only with a public key to verify it (--verify-key cosign.pub)", ErrVerify)
	}
	pub, err := LoadPublicKey(pubPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	verifier, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	manifest, err := tarEntry(tr, manifestName, maxManifestSize)
	if err != nil {
		return nil, err
	}
	sigText, err := tarEntry(tr, signatureName, maxSigSize)
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64: %v", ErrVerify, signatureName, err)
	}
	if err := verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(manifest)); err != nil {
		return nil, fmt.Errorf("%w: the signature does not match key %s (wrong key, or the manifest was changed): %v", ErrVerify, KeyID(pub), err)
	}
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrVerify, err)
	}
	if m.Format != bundleFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrVerify, m.Format, bundleFormat)
	}
	if m.DB.Compression != "zstd" || m.DB.Size <= 0 || m.DB.Size > maxBundleDB {
		return nil, fmt.Errorf("%w: manifest: unsupported database entry", ErrVerify)
	}
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: no database entry: %v", ErrVerify, err)
	}
	if hdr.Name != m.DB.Name || hdr.Typeflag != tar.TypeReg || hdr.Size != m.DB.CompressedSize {
		return nil, fmt.Errorf("%w: the database entry is not the one the manifest names", ErrVerify)
	}
	if err := checkDigest(tr, m.DB.CompressedSize, m.DB.CompressedSHA256); err != nil {
		return nil, fmt.Errorf("%w: the database was changed after signing: %v", ErrVerify, err)
	}
	return &verifiedBundle{path: path, manifest: m, keyID: KeyID(pub)}, nil
}

func tarEntry(tr *tar.Reader, name string, max int64) ([]byte, error) {
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: not a bundle (no %s): %v", ErrVerify, name, err)
	}
	if hdr.Name != name || hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("%w: not a bundle: entry %q where %s should be", ErrVerify, hdr.Name, name)
	}
	if hdr.Size > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrVerify, name, hdr.Size, max)
	}
	return io.ReadAll(io.LimitReader(tr, max))
}

func checkDigest(r io.Reader, size int64, want string) error {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, size+1))
	if err != nil {
		return err
	}
	return digestMatch(h, n, size, want)
}

func digestMatch(h hash.Hash, n, size int64, want string) error {
	if n != size {
		return fmt.Errorf("%d bytes, manifest says %d", n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("sha256 %s, manifest says %s", got, want)
	}
	return nil
}

// extract decompresses the bundle's database into a temporary file in
// dir, checking its size and digest on the way (the bundle may have
// changed since it was verified). The caller removes the file.
func (vb *verifiedBundle) extract(dir string) (string, error) {
	f, err := os.Open(vb.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for range 2 {
		if _, err := tr.Next(); err != nil {
			return "", fmt.Errorf("%w: %v", ErrVerify, err)
		}
	}
	hdr, err := tr.Next()
	if err != nil || hdr.Name != vb.manifest.DB.Name {
		return "", fmt.Errorf("%w: the bundle changed after it was verified", ErrVerify)
	}
	zr, err := zstd.NewReader(io.LimitReader(tr, vb.manifest.DB.CompressedSize), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return "", err
	}
	defer zr.Close()
	out, err := os.CreateTemp(dir, ".bundle-db-*.sqlite")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(zr, vb.manifest.DB.Size+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = digestMatch(h, n, vb.manifest.DB.Size, vb.manifest.DB.SHA256)
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("%w: the database does not match the manifest: %v", ErrVerify, err)
	}
	return out.Name(), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
