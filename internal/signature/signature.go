// Package signature checks cosign signatures on artifacts stored in
// Seawall's registry against a project's trusted public keys. It finds
// signatures in both places cosign puts them — the "sha256-<hex>.sig" tag
// and the OCI referrers of the artifact (cosign's simple-signing manifests
// and Sigstore bundles) — reading manifests and blobs straight from the
// local store, never over the network. The cryptography is sigstore's.
package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/seawall-dev/seawall/internal/blob"
	"github.com/seawall-dev/seawall/internal/store"
)

// Media types, artifact types and annotations cosign uses.
const (
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	MediaTypeBundle        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	ArtifactTypeCosignSig  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	ArtifactTypeBundle     = MediaTypeBundle

	AnnotationSignature   = "dev.cosignproject.cosign/signature"
	AnnotationCertificate = "dev.sigstore.cosign/certificate"
	AnnotationRekorBundle = "dev.sigstore.cosign/bundle"
	AnnotationCreated     = "org.opencontainers.image.created"

	// PredicateCosignSign is the in-toto predicate type of a cosign
	// image signature in bundle form (other predicates are attestations).
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
	payloadTypeInToto   = "application/vnd.in-toto+json"
)

// Form is where a signature was found.
type Form string

// Forms of signature.
const (
	FormTag      Form = "tag"      // the sha256-<hex>.sig tag
	FormReferrer Form = "referrer" // an OCI referrer of the artifact
)

// Where SignedAt came from.
const (
	TimeFromTlog       = "tlog"       // the signature's transparency-log entry (integrated time, as the bundle states it)
	TimeFromAnnotation = "annotation" // the signature manifest's org.opencontainers.image.created
	TimeFromPush       = "push"       // when the signature was pushed to this registry
)

// Signature is one signature found for an artifact.
type Signature struct {
	Form     Form   `json:"form"`
	Manifest string `json:"manifest"` // digest of the manifest that carries it
	// Trusted: it verifies against one of the trusted keys.
	Trusted bool `json:"trusted"`
	// Signer is the trusted key's fingerprint when Trusted; otherwise
	// the key hint the signature carries, if any.
	Signer string `json:"signer,omitempty"`
	// Identity is the certificate's subject (e-mail, URI) when the
	// signature carries a certificate. Seawall holds no Fulcio root:
	// it is shown, not trusted.
	Identity       string    `json:"identity,omitempty"`
	Issuer         string    `json:"issuer,omitempty"`
	SignedAt       time.Time `json:"signedAt"`
	SignedAtSource string    `json:"signedAtSource"`
	// Problem says why a signature that names the artifact did not
	// verify against its own certificate, when it carries one.
	Problem string `json:"problem,omitempty"`
}

// Status is what Check found for an artifact.
type Status struct {
	// Signed: at least one cosign signature for this digest is stored.
	Signed bool `json:"signed"`
	// Trusted: at least one verifies against a trusted key.
	Trusted bool `json:"trusted"`
	// Signer, Identity, SignedAt and Form describe the trusted
	// signature (the latest, when several are), or else the first found.
	Signer     string      `json:"signer,omitempty"`
	Identity   string      `json:"identity,omitempty"`
	SignedAt   time.Time   `json:"signedAt,omitzero"`
	Form       Form        `json:"form,omitempty"`
	Count      int         `json:"count"`
	Signatures []Signature `json:"signatures,omitempty"`
}

// Store is the part of the metadata store Check reads.
type Store interface {
	ResolveTag(ctx context.Context, repo, tag string) (string, error)
	Manifest(ctx context.Context, repo, digest string) (*store.Manifest, error)
	Referrers(ctx context.Context, repo, subject string) ([]store.Descriptor, error)
}

// Checker checks signatures. It is safe for concurrent use.
type Checker struct {
	st    Store
	blobs blob.Store
	log   *slog.Logger
}

// New returns a Checker over the registry's metadata and blob storage.
func New(st Store, blobs blob.Store, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{st: st, blobs: blobs, log: log}
}

// maxBlob bounds a signature payload or bundle read from storage: they
// are a few KiB, and anyone who may push could store a large layer with
// a signature media type.
const maxBlob = 1 << 20

// maxSignatures bounds the signatures examined per artifact.
const maxSignatures = 64

// TrustedKey is a parsed trusted public key.
type TrustedKey struct {
	Fingerprint string
	verifier    sigsig.Verifier
	pub         crypto.PublicKey
}

// ParseKeys parses PEM public keys (ECDSA, Ed25519 or RSA, as cosign
// writes them). The error names the key that is wrong and why.
func ParseKeys(pems [][]byte) ([]TrustedKey, error) {
	keys := make([]TrustedKey, 0, len(pems))
	for i, p := range pems {
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(bytes.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("trusted key %d is not a PEM public key (want the .pub file from `cosign generate-key-pair`): %w", i+1, err)
		}
		if err := cryptoutils.ValidatePubKey(pub); err != nil {
			return nil, fmt.Errorf("trusted key %d: %w", i+1, err)
		}
		v, err := sigsig.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("trusted key %d: %w", i+1, err)
		}
		fp, err := fingerprint(pub)
		if err != nil {
			return nil, fmt.Errorf("trusted key %d: %w", i+1, err)
		}
		keys = append(keys, TrustedKey{Fingerprint: fp, verifier: v, pub: pub})
	}
	return keys, nil
}

// Fingerprint returns a PEM public key's fingerprint: "SHA256:" and the
// standard base64 of the SHA-256 of its PKIX DER form — the same digest
// cosign puts in a bundle's key hint.
func Fingerprint(pemKey []byte) (string, error) {
	keys, err := ParseKeys([][]byte{pemKey})
	if err != nil {
		return "", err
	}
	return keys[0].Fingerprint, nil
}

func fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// Check finds the cosign signatures stored for repo@digest and verifies
// them against trustedKeys (PEM). With no trusted keys it still reports
// whether the artifact is signed. A trusted key that cannot be used (a
// weak RSA key, say, that passed an older check) trusts nothing and is
// logged; validate keys with ParseKeys when they are configured.
func (c *Checker) Check(ctx context.Context, repo, digest string, trustedKeys [][]byte) (Status, error) {
	keys := make([]TrustedKey, 0, len(trustedKeys))
	for i, pemKey := range trustedKeys {
		k, err := ParseKeys([][]byte{pemKey})
		if err != nil {
			c.log.WarnContext(ctx, "unusable trusted key ignored", "repo", repo, "key", i+1, "err", err)
			continue
		}
		keys = append(keys, k[0])
	}
	return c.CheckKeys(ctx, repo, digest, keys)
}

// CheckKeys is Check with parsed keys.
func (c *Checker) CheckKeys(ctx context.Context, repo, digest string, keys []TrustedKey) (Status, error) {
	d, err := blob.ParseDigest(digest)
	if err != nil {
		return Status{}, fmt.Errorf("signature check of %s@%s: %w", repo, digest, err)
	}
	var sigs []Signature

	// The tag form: one manifest, a layer per signature.
	tag := d.Algorithm() + "-" + d.Hex() + ".sig"
	switch sigDigest, err := c.st.ResolveTag(ctx, repo, tag); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return Status{}, fmt.Errorf("signature tag %s:%s: %w", repo, tag, err)
	default:
		found, err := c.simpleSigning(ctx, repo, sigDigest, d, keys, FormTag)
		if err != nil {
			return Status{}, err
		}
		sigs = append(sigs, found...)
	}

	// The referrers form: cosign's simple-signing artifact (v2 with
	// --registry-referrers-mode=oci-1-1) and Sigstore bundles (v3, or
	// v2 with --new-bundle-format).
	refs, err := c.st.Referrers(ctx, repo, string(d))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Status{}, fmt.Errorf("referrers of %s@%s: %w", repo, d, err)
	}
	for _, r := range refs {
		if len(sigs) >= maxSignatures {
			break
		}
		var found []Signature
		switch r.ArtifactType {
		case ArtifactTypeCosignSig:
			found, err = c.simpleSigning(ctx, repo, r.Digest, d, keys, FormReferrer)
		case ArtifactTypeBundle:
			found, err = c.bundles(ctx, repo, r.Digest, d, keys)
		default:
			continue
		}
		if err != nil {
			return Status{}, err
		}
		sigs = append(sigs, found...)
	}
	return summarise(sigs), nil
}

// summarise picks what Status shows: the latest trusted signature, or
// else the first found.
func summarise(sigs []Signature) Status {
	st := Status{Signed: len(sigs) > 0, Count: len(sigs), Signatures: sigs}
	best := -1
	for i, s := range sigs {
		if s.Trusted {
			st.Trusted = true
			if best < 0 || !sigs[best].Trusted || s.SignedAt.After(sigs[best].SignedAt) {
				best = i
			}
		} else if best < 0 {
			best = i
		}
	}
	if best >= 0 {
		b := sigs[best]
		st.Signer, st.Identity, st.SignedAt, st.Form = b.Signer, b.Identity, b.SignedAt, b.Form
	}
	return st
}

// ociManifest is the part of an image manifest signatures use.
type ociManifest struct {
	Layers []struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	} `json:"layers"`
	Annotations map[string]string `json:"annotations"`
}

func (c *Checker) manifest(ctx context.Context, repo, digest string) (*store.Manifest, *ociManifest, error) {
	m, err := c.st.Manifest(ctx, repo, digest)
	if err != nil {
		return nil, nil, fmt.Errorf("signature manifest %s@%s: %w", repo, digest, err)
	}
	var om ociManifest
	if err := json.Unmarshal(m.Content, &om); err != nil {
		// The registry validated it when it was pushed; say so and move on.
		c.log.WarnContext(ctx, "signature manifest does not parse", "repo", repo, "digest", digest, "err", err)
		return m, nil, nil
	}
	return m, &om, nil
}

// readBlob reads a small blob from storage, checking its digest.
func (c *Checker) readBlob(ctx context.Context, digest string, size int64) ([]byte, error) {
	d, err := blob.ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	if size > maxBlob {
		return nil, fmt.Errorf("blob %s is %d bytes, more than a signature holds", digest, size)
	}
	f, err := c.blobs.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBlob+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBlob {
		return nil, fmt.Errorf("blob %s is more than a signature holds", digest)
	}
	got, err := blob.FromBytes(d.Algorithm(), b)
	if err != nil || got != d {
		return nil, fmt.Errorf("blob %s does not match its digest", digest)
	}
	return b, nil
}

// simplePayload is cosign's simple-signing payload.
type simplePayload struct {
	Critical struct {
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// simpleSigning reads the signatures in a cosign signature manifest (the
// .sig tag, or a referrer of artifact type ArtifactTypeCosignSig).
func (c *Checker) simpleSigning(ctx context.Context, repo, manifestDigest string, subject blob.Digest, keys []TrustedKey, form Form) ([]Signature, error) {
	m, om, err := c.manifest(ctx, repo, manifestDigest)
	if err != nil || om == nil {
		return nil, err
	}
	var out []Signature
	for _, l := range om.Layers {
		if len(out) >= maxSignatures {
			break
		}
		sigB64, ok := l.Annotations[AnnotationSignature]
		if l.MediaType != MediaTypeSimpleSigning || !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(sigB64)
		if err != nil {
			continue // not a signature
		}
		payload, err := c.readBlob(ctx, l.Digest, l.Size)
		if err != nil {
			c.log.WarnContext(ctx, "signature payload unreadable", "repo", repo, "manifest", manifestDigest, "layer", l.Digest, "err", err)
			continue
		}
		var p simplePayload
		if err := json.Unmarshal(payload, &p); err != nil || p.Critical.Image.DockerManifestDigest != string(subject) {
			continue // a signature of something else
		}
		s := Signature{Form: form, Manifest: manifestDigest, SignedAt: m.CreatedAt, SignedAtSource: TimeFromPush}
		if t := rekorTime(l.Annotations[AnnotationRekorBundle]); !t.IsZero() {
			s.SignedAt, s.SignedAtSource = t, TimeFromTlog
		}
		if pemCert := l.Annotations[AnnotationCertificate]; pemCert != "" {
			certIdentity(&s, []byte(pemCert), func(v sigsig.Verifier) error {
				return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload))
			})
		}
		for _, k := range keys {
			if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)) == nil {
				s.Trusted, s.Signer = true, k.Fingerprint
				break
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// certIdentity fills s's identity from a PEM certificate and checks the
// signature against the certificate's key (verify).
func certIdentity(s *Signature, pemCert []byte, verify func(sigsig.Verifier) error) {
	certs, err := cryptoutils.UnmarshalCertificatesFromPEMLimited(pemCert, 10)
	if err != nil || len(certs) == 0 {
		s.Problem = "the attached certificate does not parse"
		return
	}
	setCert(s, certs[0], verify)
}

func setCert(s *Signature, cert *x509.Certificate, verify func(sigsig.Verifier) error) {
	if sans := cryptoutils.GetSubjectAlternateNames(cert); len(sans) > 0 {
		s.Identity = sans[0]
	}
	// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.1 and .8).
	for _, ext := range cert.Extensions {
		id := ext.Id.String()
		if id == "1.3.6.1.4.1.57264.1.1" && s.Issuer == "" {
			s.Issuer = string(ext.Value)
		}
		if id == "1.3.6.1.4.1.57264.1.8" {
			var v string
			if _, err := asn1.Unmarshal(ext.Value, &v); err == nil {
				s.Issuer = v
			}
		}
	}
	v, err := sigsig.LoadVerifier(cert.PublicKey, crypto.SHA256)
	if err != nil {
		s.Problem = "the attached certificate's key is not usable: " + err.Error()
		return
	}
	if err := verify(v); err != nil {
		s.Problem = "the signature does not verify against its own certificate"
		return
	}
	if fp, err := fingerprint(cert.PublicKey); err == nil && s.Signer == "" {
		s.Signer = fp
	}
}

// rekorTime reads integratedTime from cosign's Rekor bundle annotation.
func rekorTime(annotation string) time.Time {
	if annotation == "" {
		return time.Time{}
	}
	var b struct {
		Payload struct {
			IntegratedTime int64 `json:"integratedTime"`
		} `json:"Payload"`
	}
	if json.Unmarshal([]byte(annotation), &b) != nil || b.Payload.IntegratedTime <= 0 {
		return time.Time{}
	}
	return time.Unix(b.Payload.IntegratedTime, 0).UTC()
}

// sigstoreBundle is the part of a Sigstore bundle (v0.3, protobuf JSON)
// that an image signature uses.
type sigstoreBundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		PublicKey *struct {
			Hint string `json:"hint"`
		} `json:"publicKey"`
		Certificate *struct {
			RawBytes []byte `json:"rawBytes"`
		} `json:"certificate"`
		X509CertificateChain *struct {
			Certificates []struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"certificates"`
		} `json:"x509CertificateChain"`
		TlogEntries []struct {
			IntegratedTime string `json:"integratedTime"`
		} `json:"tlogEntries"`
	} `json:"verificationMaterial"`
	DSSEEnvelope json.RawMessage `json:"dsseEnvelope"`
}

// statement is the in-toto statement a bundle's DSSE envelope signs.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
}

// bundles reads the Sigstore bundles in a bundle referrer.
func (c *Checker) bundles(ctx context.Context, repo, manifestDigest string, subject blob.Digest, keys []TrustedKey) ([]Signature, error) {
	m, om, err := c.manifest(ctx, repo, manifestDigest)
	if err != nil || om == nil {
		return nil, err
	}
	var out []Signature
	for _, l := range om.Layers {
		if l.MediaType != MediaTypeBundle {
			continue
		}
		raw, err := c.readBlob(ctx, l.Digest, l.Size)
		if err != nil {
			c.log.WarnContext(ctx, "signature bundle unreadable", "repo", repo, "manifest", manifestDigest, "layer", l.Digest, "err", err)
			continue
		}
		var b sigstoreBundle
		if err := json.Unmarshal(raw, &b); err != nil || len(b.DSSEEnvelope) == 0 {
			continue // a message-signature bundle signs a blob, not this image
		}
		// What the envelope claims, before any key is tried: it must be
		// a cosign signature of this digest.
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     []byte `json:"payload"`
		}
		if json.Unmarshal(b.DSSEEnvelope, &env) != nil || env.PayloadType != payloadTypeInToto || !signsDigest(env.Payload, subject) {
			continue
		}
		s := Signature{Form: FormReferrer, Manifest: manifestDigest, SignedAt: m.CreatedAt, SignedAtSource: TimeFromPush}
		if t, err := time.Parse(time.RFC3339, om.Annotations[AnnotationCreated]); err == nil {
			s.SignedAt, s.SignedAtSource = t.UTC(), TimeFromAnnotation
		}
		for _, e := range b.VerificationMaterial.TlogEntries {
			if n, err := strconv.ParseInt(e.IntegratedTime, 10, 64); err == nil && n > 0 {
				s.SignedAt, s.SignedAtSource = time.Unix(n, 0).UTC(), TimeFromTlog
				break
			}
		}
		if pk := b.VerificationMaterial.PublicKey; pk != nil && pk.Hint != "" {
			s.Signer = "SHA256:" + pk.Hint
			if _, err := base64.StdEncoding.DecodeString(pk.Hint); err != nil {
				s.Signer = pk.Hint // a hint that is not cosign's digest: show it as it is
			}
		}
		verify := func(v sigsig.Verifier) error {
			return dsse.WrapVerifier(v, dsse.WithExpectedPayloadType(payloadTypeInToto)).VerifySignature(bytes.NewReader(b.DSSEEnvelope), nil)
		}
		var certDER []byte
		switch vm := b.VerificationMaterial; {
		case vm.Certificate != nil:
			certDER = vm.Certificate.RawBytes
		case vm.X509CertificateChain != nil && len(vm.X509CertificateChain.Certificates) > 0:
			certDER = vm.X509CertificateChain.Certificates[0].RawBytes
		}
		if certDER != nil {
			if cert, err := x509.ParseCertificate(certDER); err == nil {
				setCert(&s, cert, verify)
			} else {
				s.Problem = "the bundle's certificate does not parse"
			}
		}
		for _, k := range keys {
			if verify(k.verifier) == nil {
				s.Trusted, s.Signer = true, k.Fingerprint
				break
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// signsDigest reports whether an in-toto statement is a cosign image
// signature whose subject is d.
func signsDigest(payload []byte, d blob.Digest) bool {
	var st statement
	if json.Unmarshal(payload, &st) != nil || st.PredicateType != PredicateCosignSign {
		return false
	}
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest[d.Algorithm()], d.Hex()) {
			return true
		}
	}
	return false
}
