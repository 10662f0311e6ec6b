package verdict

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

var now = time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)

func finding(id string, sev inventory.Severity, fixed ...string) inventory.Finding {
	return inventory.Finding{ID: id, Kind: inventory.KindVulnerability, Severity: sev, PackageName: "libc6", InstalledVersion: "2.36-9", FixedVersions: fixed}
}

type fakeSigs struct {
	st  SignatureStatus
	err error
}

func (f fakeSigs) Check(context.Context, string, string, [][]byte) (SignatureStatus, error) {
	return f.st, f.err
}

// key is a fresh ECDSA P-256 public key, as cosign.pub holds.
var key = func() string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}()

// pubPEM is k's public half in PEM.
func pubPEM(k any) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestEvaluate(t *testing.T) {
	scan := &Scan{ScannedAt: now.Add(-time.Hour), Findings: []inventory.Finding{
		finding("CVE-1", inventory.SeverityCritical, "2.36-10"),
		finding("CVE-2", inventory.SeverityHigh),
		finding("CVE-3", inventory.SeverityLow, "2.36-10"),
		{ID: "CVE-4", Kind: inventory.KindVulnerability, Severity: inventory.SeverityCritical, Status: inventory.StatusWithdrawn},
	}}
	allow := "vulnerabilities:\n  - id: CVE-1\n    reason: not reachable\n    expires: 2027-01-31\n"
	expired := "vulnerabilities:\n  - id: CVE-1\n    reason: not reachable\n    expires: 2027-01-14\n"
	tests := []struct {
		name    string
		policy  Policy
		scan    *Scan
		sigs    SignatureChecker
		allowed bool
		failed  []string
		worst   string
		next    time.Time
	}{
		{name: "nothing enforced", policy: Policy{}, scan: scan, allowed: true, worst: "CRITICAL"},
		{name: "high refused", policy: Policy{PreventSeverity: "HIGH"}, scan: scan, failed: []string{RuleSeverity}, worst: "CRITICAL"},
		{name: "critical allowlisted, high still refused", policy: Policy{PreventSeverity: "HIGH", Allowlist: allow}, scan: scan,
			failed: []string{RuleSeverity}, worst: "HIGH", next: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
		{name: "critical threshold, allowlisted", policy: Policy{PreventSeverity: "CRITICAL", Allowlist: allow}, scan: scan,
			allowed: true, worst: "HIGH", next: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
		{name: "expired allowlist entry counts again", policy: Policy{PreventSeverity: "CRITICAL", Allowlist: expired}, scan: scan,
			failed: []string{RuleSeverity}, worst: "CRITICAL"},
		{name: "unfixed ignored", policy: Policy{PreventSeverity: "HIGH", IgnoreUnfixed: true, Allowlist: allow}, scan: scan, allowed: true, worst: "LOW",
			next: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
		{name: "unscanned passes the severity rule", policy: Policy{PreventSeverity: "HIGH"}, allowed: true},
		{name: "unscanned refused", policy: Policy{PreventUnscanned: true}, failed: []string{RuleUnscanned}},
		{name: "failed scan is unscanned", policy: Policy{PreventUnscanned: true}, scan: &Scan{Error: "layer unreadable"}, failed: []string{RuleUnscanned}},
		{name: "signature required, no checker: fail closed", policy: Policy{TrustedKeys: []string{key}}, scan: scan, failed: []string{RuleSignature}, worst: "CRITICAL"},
		{name: "signature required, checker errs: refused", policy: Policy{TrustedKeys: []string{key}}, scan: scan,
			sigs: fakeSigs{err: errors.New("boom")}, failed: []string{RuleSignature}, worst: "CRITICAL"},
		{name: "untrusted signature refused", policy: Policy{TrustedKeys: []string{key}}, scan: scan,
			sigs: fakeSigs{st: SignatureStatus{Signed: true, Count: 1}}, failed: []string{RuleSignature}, worst: "CRITICAL"},
		{name: "trusted signature", policy: Policy{TrustedKeys: []string{key}}, scan: scan,
			sigs: fakeSigs{st: SignatureStatus{Signed: true, Trusted: true, Signer: "SHA256:x", Count: 1}}, allowed: true, worst: "CRITICAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Evaluator{Signatures: tt.sigs, Now: func() time.Time { return now }}
			v, err := e.Evaluate(context.Background(), "team/app", "sha256:abc", tt.policy, tt.scan)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range v.Failed() {
				failed = append(failed, c.Rule)
				if c.Message == "" {
					t.Errorf("check %s has no message", c.Rule)
				}
			}
			if v.Allowed != tt.allowed || v.WorstSeverity != tt.worst || !v.NextChange.Equal(tt.next) {
				t.Errorf("allowed %v worst %q next %v; want %v %q %v", v.Allowed, v.WorstSeverity, v.NextChange, tt.allowed, tt.worst, tt.next)
			}
			if d := cmp.Diff(tt.failed, failed); d != "" {
				t.Errorf("failed rules (-want +got):\n%s", d)
			}
		})
	}
}

func TestSeverityMessage(t *testing.T) {
	e := &Evaluator{Now: func() time.Time { return now }}
	var fs []inventory.Finding
	for _, id := range []string{"CVE-1", "CVE-2", "CVE-3", "CVE-4", "CVE-5", "CVE-6", "CVE-6"} {
		fs = append(fs, finding(id, inventory.SeverityHigh))
	}
	v, err := e.Evaluate(context.Background(), "team/app", "sha256:abc", Policy{PreventSeverity: "HIGH"}, &Scan{Findings: fs})
	if err != nil {
		t.Fatal(err)
	}
	msg := v.Failed()[0].Message
	for _, want := range []string{"6 vulnerabilities at or above HIGH", "CVE-1 (HIGH, libc6 2.36-9)", "and 1 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakRSA := pubPEM(&rk.PublicKey)
	ek, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224 := pubPEM(&ek.PublicKey)
	tests := []struct {
		name string
		p    Policy
		want string // "" valid
	}{
		{"empty", Policy{}, ""},
		{"full", Policy{ScanOnPush: true, PreventSeverity: "high", TrustedKeys: []string{key}, ImmutableTags: []string{"v*", "release-[0-9]*"},
			Allowlist: "vulnerabilities:\n  - id: CVE-1\n    reason: r\n"}, ""},
		{"bad severity", Policy{PreventSeverity: "SEVERE"}, "prevent-severity"},
		{"private key", Policy{TrustedKeys: []string{"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"}}, "private key"},
		{"not pem", Policy{TrustedKeys: []string{"ssh-ed25519 AAAA"}}, "not a PEM public key"},
		{"rsa 1024", Policy{TrustedKeys: []string{weakRSA}}, "sigstore will not verify"},
		{"p224", Policy{TrustedKeys: []string{p224}}, "sigstore will not verify"},
		{"bad glob", Policy{ImmutableTags: []string{"v["}}, "not a valid glob"},
		{"allowlist with secrets", Policy{Allowlist: "secrets:\n  - id: x\n    reason: r\n"}, "vulnerabilities only"},
		{"allowlist without reason", Policy{Allowlist: "vulnerabilities:\n  - id: CVE-1\n"}, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestSettingsKeepOtherKeys(t *testing.T) {
	in := []byte(`{"webhooks":{"x":1},"policy":{"scanOnPush":true}}`)
	p, err := PolicyOf(in)
	if err != nil || !p.ScanOnPush {
		t.Fatalf("PolicyOf = %+v, %v", p, err)
	}
	p.PreventSeverity = "HIGH"
	out, err := WithPolicy(in, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"webhooks":{"x":1}`) {
		t.Errorf("WithPolicy lost another key: %s", out)
	}
	back, _ := PolicyOf(out)
	if back.PreventSeverity != "HIGH" || !back.ScanOnPush {
		t.Errorf("round trip = %+v", back)
	}
	if _, err := PolicyOf([]byte(`[1]`)); err == nil {
		t.Error("PolicyOf accepted a JSON array")
	}
}

func TestAllowFlagAndMerge(t *testing.T) {
	a, err := ParseAllowFlag("CVE-2024-2961:expires=2027-01-31:reason=iconv: not used")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(AllowEntry{ID: "CVE-2024-2961", Expires: "2027-01-31", Reason: "iconv: not used"}, a); d != "" {
		t.Fatal(d)
	}
	for _, bad := range []string{"", ":reason=x", "CVE-1", "CVE-1:expires=2027-13-01:reason=x", "CVE-1:colour=red:reason=x", "CVE-1:reason="} {
		if _, err := ParseAllowFlag(bad); err == nil {
			t.Errorf("ParseAllowFlag(%q) accepted it", bad)
		}
	}
	doc, err := MergeAllowlist("", []AllowEntry{a, {ID: "CVE-1", Reason: "r"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err = MergeAllowlist(doc, []AllowEntry{{ID: "cve-2024-2961", Expires: "2028-01-01", Reason: "renewed"}}, []string{"CVE-1"})
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Allowlist: doc}
	f, err := p.AllowlistFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 1 || f.Entries[0].Reason != "renewed" || f.Entries[0].Expires.Year() != 2028 {
		t.Fatalf("merged allowlist:\n%s", doc)
	}
}

func FuzzParseAllowFlag(f *testing.F) {
	for _, s := range []string{"CVE-2024-2961:expires=2027-01-31:reason=x", "CVE-1:reason=a:b:c", ":", "x:expires=:reason=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAllowFlag(s)
		if err != nil {
			return
		}
		if a.ID == "" || a.Reason == "" {
			t.Fatalf("accepted %q as %+v", s, a)
		}
		if _, err := MergeAllowlist("", []AllowEntry{a}, nil); err != nil && !strings.Contains(err.Error(), "allowlist") && !strings.Contains(err.Error(), ":") {
			t.Fatalf("merge of an accepted entry: %v", err)
		}
	})
}
