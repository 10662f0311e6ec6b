// Package verdict decides whether the registry lets an artifact be pulled:
// a project's policy (severity threshold, CVE allowlist with expiry,
// ignore-unfixed, no pull before a scan, a trusted signature) applied to
// the artifact's stored scan and signature status at a given time. It is
// pure: the caller passes the time and the signature checker.
package verdict

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
)

// Policy is a project's registry policy. It is kept under the key
// "policy" of the project's settings (store.Project.Settings).
type Policy struct {
	// ScanOnPush queues a scan of every image pushed to the project.
	ScanOnPush bool `json:"scanOnPush,omitempty"`
	// PreventSeverity refuses pulls of images with a counted vulnerability
	// at or above this severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL);
	// "" turns the rule off.
	PreventSeverity string `json:"preventSeverity,omitempty"`
	// PreventUnscanned refuses pulls of images that have no scan result.
	PreventUnscanned bool `json:"preventUnscanned,omitempty"`
	// IgnoreUnfixed does not count vulnerabilities with no known fix.
	IgnoreUnfixed bool `json:"ignoreUnfixed,omitempty"`
	// TrustedKeys are PEM public keys. When there are any, a pull needs a
	// cosign signature that one of them verifies.
	TrustedKeys []string `json:"trustedKeys,omitempty"`
	// ImmutableTags are globs (path.Match: "v*", "release-*"): a tag that
	// matches one may be created but never moved to another digest or
	// deleted.
	ImmutableTags []string `json:"immutableTags,omitempty"`
	// Allowlist is a .seawallignore document (YAML): its vulnerabilities
	// list accepts CVEs, each with a reason and usually an expiry date,
	// exactly as `seawall scan` reads the file.
	Allowlist string `json:"allowlist,omitempty"`
}

// Limits on a policy, so that a project's settings stay small.
const (
	MaxTrustedKeys   = 20
	MaxImmutableTags = 50
	MaxAllowlist     = 256 << 10
)

// settingsKey is the key of the policy in a project's settings object.
const settingsKey = "policy"

// PolicyOf reads the policy from a project's settings; empty settings hold
// the zero policy (nothing enforced).
func PolicyOf(settings []byte) (Policy, error) {
	var p Policy
	if len(bytes.TrimSpace(settings)) == 0 {
		return p, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(settings, &obj); err != nil {
		return p, fmt.Errorf("project settings are not a JSON object: %w", err)
	}
	raw, ok := obj[settingsKey]
	if !ok || string(raw) == "null" {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("project policy: %w", err)
	}
	return p, nil
}

// WithPolicy returns settings with the policy replaced by p, keeping every
// other key as it was.
func WithPolicy(settings []byte, p Policy) ([]byte, error) {
	obj := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(settings)) > 0 {
		if err := json.Unmarshal(settings, &obj); err != nil {
			return nil, fmt.Errorf("project settings are not a JSON object: %w", err)
		}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	obj[settingsKey] = raw
	return json.Marshal(obj)
}

// Threshold is the severity at or above which pulls are refused, and
// whether the rule is on.
func (p *Policy) Threshold() (inventory.Severity, bool) {
	if p.PreventSeverity == "" {
		return 0, false
	}
	s, err := inventory.ParseSeverity(p.PreventSeverity)
	if err != nil {
		return 0, false
	}
	return s, true
}

// Enforcing reports whether any rule can refuse a pull.
func (p *Policy) Enforcing() bool {
	return p.PreventSeverity != "" || p.PreventUnscanned || len(p.TrustedKeys) > 0
}

// ImmutableTag reports whether tag matches one of the immutable patterns.
func (p *Policy) ImmutableTag(tag string) (pattern string, ok bool) {
	for _, pat := range p.ImmutableTags {
		if m, err := path.Match(pat, tag); err == nil && m {
			return pat, true
		}
	}
	return "", false
}

// Keys returns the trusted keys as the signature checker takes them.
func (p *Policy) Keys() [][]byte {
	out := make([][]byte, len(p.TrustedKeys))
	for i, k := range p.TrustedKeys {
		out[i] = []byte(k)
	}
	return out
}

// AllowlistFile parses the allowlist; nil when there is none.
func (p *Policy) AllowlistFile() (*ignore.File, error) {
	if strings.TrimSpace(p.Allowlist) == "" {
		return nil, nil
	}
	f, err := ignore.Parse([]byte(p.Allowlist), "allowlist")
	if err != nil {
		return nil, err
	}
	for _, e := range f.Entries {
		if e.Kind != inventory.KindVulnerability {
			return nil, fmt.Errorf("allowlist:%d: the registry's allowlist accepts vulnerabilities only; %s is under %q", e.Line, e.ID, e.Kind)
		}
	}
	return f, nil
}

// Validate checks the policy and names each problem and how to fix it.
func (p *Policy) Validate() error {
	var errs []error
	if p.PreventSeverity != "" {
		s, err := inventory.ParseSeverity(p.PreventSeverity)
		if err != nil || strings.EqualFold(p.PreventSeverity, "NONE") {
			errs = append(errs, fmt.Errorf("prevent-severity %q: use UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL (or NONE to turn the rule off)", p.PreventSeverity))
		} else {
			p.PreventSeverity = s.String()
		}
	}
	if len(p.TrustedKeys) > MaxTrustedKeys {
		errs = append(errs, fmt.Errorf("require-signature: %d keys is too many: at most %d", len(p.TrustedKeys), MaxTrustedKeys))
	}
	for i, k := range p.TrustedKeys {
		if err := checkPublicKey([]byte(k)); err != nil {
			errs = append(errs, fmt.Errorf("require-signature: key %d: %w", i+1, err))
		}
	}
	if len(p.ImmutableTags) > MaxImmutableTags {
		errs = append(errs, fmt.Errorf("immutable-tags: %d patterns is too many: at most %d", len(p.ImmutableTags), MaxImmutableTags))
	}
	for _, pat := range p.ImmutableTags {
		if pat == "" || len(pat) > 128 {
			errs = append(errs, fmt.Errorf("immutable-tags: pattern %q: use 1 to 128 characters", pat))
			continue
		}
		if _, err := path.Match(pat, "x"); err != nil {
			errs = append(errs, fmt.Errorf("immutable-tags: pattern %q is not a valid glob (use *, ? and [a-z] as in 'v*' or 'release-[0-9]*')", pat))
		}
	}
	if len(p.Allowlist) > MaxAllowlist {
		errs = append(errs, fmt.Errorf("cve allowlist: %d bytes is too large: at most %d KiB", len(p.Allowlist), MaxAllowlist>>10))
	} else if _, err := p.AllowlistFile(); err != nil {
		errs = append(errs, fmt.Errorf("cve allowlist: %w", err))
	}
	return errors.Join(errs...)
}

// checkPublicKey checks that b is one PEM public key Go can read (ECDSA,
// Ed25519 or RSA, as cosign generates them).
func checkPublicKey(b []byte) error {
	block, rest := pem.Decode(b)
	if block == nil {
		return errors.New("not a PEM public key (want the cosign.pub that `cosign generate-key-pair` wrote)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("holds more than one PEM block: give one key per file")
	}
	if strings.Contains(block.Type, "PRIVATE") {
		return errors.New("is a private key: give the public key (cosign.pub), and keep the private key secret")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("not a public key Seawall can read: %w", err)
	}
	// The same rules the signature check applies later (RSA of 2048 bits
	// or more, the NIST curves P-256 to P-521, Ed25519), so that a key
	// accepted here never turns into a refusal at pull time.
	if err := cryptoutils.ValidatePubKey(pub); err != nil {
		return fmt.Errorf("is a key sigstore will not verify with: %w", err)
	}
	return nil
}

// AllowEntry is one CVE allowed by `seawall project set --cve-allow`.
type AllowEntry struct {
	ID      string `json:"id"`
	Expires string `json:"expires,omitempty"` // YYYY-MM-DD, the last day it holds (UTC); "" never expires
	Reason  string `json:"reason"`
}

// ParseAllowFlag reads "CVE-2023-1234:expires=2027-01-31:reason=why" (the
// reason comes last and may itself contain colons).
func ParseAllowFlag(s string) (AllowEntry, error) {
	var e AllowEntry
	bad := func(msg string) (AllowEntry, error) {
		return AllowEntry{}, fmt.Errorf("--cve-allow %q: %s (want ID:expires=YYYY-MM-DD:reason=TEXT, e.g. CVE-2023-4641:expires=2027-01-31:reason=not reachable)", s, msg)
	}
	id, rest, _ := strings.Cut(s, ":")
	e.ID = strings.TrimSpace(id)
	if e.ID == "" {
		return bad("the vulnerability ID is missing")
	}
	for rest != "" {
		var field string
		if strings.HasPrefix(rest, "reason=") {
			field, rest = rest, ""
		} else {
			field, rest, _ = strings.Cut(rest, ":")
		}
		k, v, ok := strings.Cut(field, "=")
		switch {
		case !ok:
			return bad(fmt.Sprintf("%q is not key=value", field))
		case k == "expires":
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return bad(fmt.Sprintf("expires=%q is not a date", v))
			}
			e.Expires = v
		case k == "reason":
			e.Reason = strings.TrimSpace(v)
		default:
			return bad(fmt.Sprintf("unknown key %q", k))
		}
	}
	if e.Reason == "" {
		return bad("a reason is required")
	}
	return e, nil
}

// MergeAllowlist returns the allowlist document with add's entries added
// (an entry for the same ID, everywhere, is replaced) and the IDs in
// remove taken out, written in .seawallignore's format.
func MergeAllowlist(doc string, add []AllowEntry, remove []string) (string, error) {
	var entries []ignore.Entry
	if strings.TrimSpace(doc) != "" {
		f, err := ignore.Parse([]byte(doc), "allowlist")
		if err != nil {
			return "", err
		}
		entries = f.Entries
	}
	drop := func(id string, unrestrictedOnly bool) {
		kept := entries[:0]
		for _, e := range entries {
			if strings.EqualFold(e.ID, id) && (!unrestrictedOnly || (len(e.Packages) == 0 && len(e.Paths) == 0)) {
				continue
			}
			kept = append(kept, e)
		}
		entries = kept
	}
	for _, id := range remove {
		drop(id, false)
	}
	for _, a := range add {
		drop(a.ID, true)
		e := ignore.Entry{Kind: inventory.KindVulnerability, ID: a.ID, Reason: a.Reason}
		if a.Expires != "" {
			t, err := time.Parse(time.DateOnly, a.Expires)
			if err != nil {
				return "", fmt.Errorf("%s: expires %q is not a date (YYYY-MM-DD)", a.ID, a.Expires)
			}
			e.Expires = t
		}
		entries = append(entries, e)
	}
	return FormatAllowlist(entries)
}

// listOf is the .seawallignore list that holds each kind of entry.
var listOf = map[string]string{
	inventory.KindVulnerability:    "vulnerabilities",
	inventory.KindSecret:           "secrets",
	inventory.KindMalware:          "malware",
	inventory.KindMisconfiguration: "misconfigurations",
}

// FormatAllowlist writes entries as a .seawallignore document.
func FormatAllowlist(entries []ignore.Entry) (string, error) {
	if len(entries) == 0 {
		return "", nil
	}
	type pkg struct {
		Name    string `yaml:"name,omitempty"`
		PURL    string `yaml:"purl,omitempty"`
		Version string `yaml:"version,omitempty"`
	}
	type entry struct {
		ID       string   `yaml:"id"`
		Packages []pkg    `yaml:"packages,omitempty"`
		Paths    []string `yaml:"paths,omitempty"`
		Reason   string   `yaml:"reason"`
		Expires  string   `yaml:"expires,omitempty"`
	}
	lists := map[string][]entry{}
	for _, e := range entries {
		out := entry{ID: e.ID, Paths: e.Paths, Reason: e.Reason}
		if !e.Expires.IsZero() {
			out.Expires = e.Expires.Format(time.DateOnly)
		}
		for _, p := range e.Packages {
			out.Packages = append(out.Packages, pkg(p))
		}
		list := listOf[e.Kind]
		if list == "" {
			list = "vulnerabilities"
		}
		lists[list] = append(lists[list], out)
	}
	b, err := yaml.Marshal(lists)
	if err != nil {
		return "", err
	}
	// Round-trip check: what is stored must read back as written.
	if _, err := ignore.Parse(b, "allowlist"); err != nil {
		return "", fmt.Errorf("allowlist does not read back: %w", err)
	}
	return string(b), nil
}

// KeyFingerprint is a PEM public key's SHA-256 fingerprint as ssh-keygen
// writes it ("SHA256:" and unpadded base64 of the DER key), or "" when
// the key does not parse.
func KeyFingerprint(pemKey []byte) string {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return ""
	}
	sum := sha256.Sum256(block.Bytes)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
