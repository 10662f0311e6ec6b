package verdict

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// Rules a policy can refuse a pull by.
const (
	RuleSeverity  = "prevent-severity"
	RuleSignature = "require-signature"
	RuleUnscanned = "prevent-unscanned"
)

// Check is one rule's answer.
type Check struct {
	Rule    string `json:"rule"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
}

// Verdict is what a policy says about one artifact at one time.
type Verdict struct {
	Allowed bool `json:"allowed"`
	// Checks holds one answer per rule the policy turns on.
	Checks  []Check `json:"checks"`
	Scanned bool    `json:"scanned"`
	// WorstSeverity is the highest severity among the counted
	// vulnerabilities ("" when none is counted).
	WorstSeverity string `json:"worstSeverity,omitempty"`
	// Counts are the counted vulnerabilities by severity name: not
	// allowlisted, not withdrawn, and with a fix when unfixed ones are
	// ignored.
	Counts map[string]int `json:"counts,omitempty"`
	// Allowlisted counts findings the allowlist accepts at EvaluatedAt.
	Allowlisted int `json:"allowlisted,omitempty"`
	// UnfixedIgnored counts findings not counted because no fix is known.
	UnfixedIgnored int `json:"unfixedIgnored,omitempty"`
	// Signature is set when the policy requires a signature and it could
	// be checked.
	Signature   *SignatureStatus `json:"signature,omitempty"`
	ScannedAt   time.Time        `json:"scannedAt,omitzero"`
	DBBuiltAt   time.Time        `json:"dbBuiltAt,omitzero"`
	EvaluatedAt time.Time        `json:"evaluatedAt"`
	// NextChange is when an allowlist entry in use expires, which changes
	// the verdict with no new data; zero when none will.
	NextChange time.Time `json:"nextChange,omitzero"`
}

// Failed returns the checks that refused.
func (v *Verdict) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Summary says in one line what the verdict is and why.
func (v *Verdict) Summary() string {
	failed := v.Failed()
	if len(failed) == 0 {
		return "allowed"
	}
	parts := make([]string, len(failed))
	for i, c := range failed {
		parts[i] = c.Rule + ": " + c.Message
	}
	return "denied by " + strings.Join(parts, "; ")
}

// Same reports whether two verdicts decide the same way for the same
// reasons, ignoring when they were made: a change is worth an event.
func Same(a, b *Verdict) bool {
	if a.Allowed != b.Allowed || a.WorstSeverity != b.WorstSeverity || len(a.Checks) != len(b.Checks) {
		return false
	}
	for i := range a.Checks {
		if a.Checks[i].Rule != b.Checks[i].Rule || a.Checks[i].Passed != b.Checks[i].Passed {
			return false
		}
	}
	return true
}

// SignatureStatus is what the signature checker found for an artifact.
type SignatureStatus struct {
	Signed   bool      `json:"signed"`  // some cosign signature for the digest is well formed
	Trusted  bool      `json:"trusted"` // one verifies with a trusted key
	Signer   string    `json:"signer,omitempty"`
	Identity string    `json:"identity,omitempty"`
	SignedAt time.Time `json:"signedAt,omitzero"`
	Form     string    `json:"form,omitempty"` // "tag" or "referrer"
	Count    int       `json:"count"`
}

// SignatureChecker verifies an artifact's cosign signatures against
// trusted public keys (PEM). Package signature provides one.
type SignatureChecker interface {
	Check(ctx context.Context, repo, digest string, trustedKeys [][]byte) (SignatureStatus, error)
}

// Scan is a stored scan as evaluation needs it.
type Scan struct {
	ScannedAt time.Time
	DBBuiltAt time.Time
	// Findings are the vulnerability findings, none suppressed.
	Findings []inventory.Finding
	// Error, when set, says why the scan failed: the artifact counts as
	// not scanned.
	Error string
}

// Evaluator makes verdicts.
type Evaluator struct {
	// Signatures checks signatures. When it is nil, a policy that
	// requires a signature refuses every pull: it fails closed.
	Signatures SignatureChecker
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// maxListed bounds the vulnerability IDs a message names.
const maxListed = 5

// Evaluate applies policy p to the artifact repo@digest and its scan (nil
// when it has none).
func (e *Evaluator) Evaluate(ctx context.Context, repo, digest string, p Policy, scan *Scan) (Verdict, error) {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	v := Verdict{EvaluatedAt: now.UTC(), Checks: []Check{}}
	if err := e.severity(&v, p, scan, now); err != nil {
		return v, err
	}
	if len(p.TrustedKeys) > 0 {
		v.Checks = append(v.Checks, e.signature(ctx, &v, repo, digest, p))
	}
	v.Allowed = len(v.Failed()) == 0
	return v, nil
}

// severity fills in the scan's counts and the severity and unscanned
// checks.
func (e *Evaluator) severity(v *Verdict, p Policy, scan *Scan, now time.Time) error {
	threshold, on := p.Threshold()
	if scan == nil || scan.Error != "" {
		why := "no scan result yet"
		if scan != nil {
			why = "the scan failed (" + scan.Error + ")"
		}
		if p.PreventUnscanned {
			v.Checks = append(v.Checks, Check{Rule: RuleUnscanned, Message: why + "; pulls wait for a successful scan (see `seawall scan status`)"})
		}
		if on {
			v.Checks = append(v.Checks, Check{Rule: RuleSeverity, Passed: true, Message: why + ": nothing to count"})
		}
		return nil
	}
	v.Scanned, v.ScannedAt, v.DBBuiltAt = true, scan.ScannedAt, scan.DBBuiltAt
	if p.PreventUnscanned {
		v.Checks = append(v.Checks, Check{Rule: RuleUnscanned, Passed: true, Message: "scanned at " + scan.ScannedAt.UTC().Format(time.RFC3339)})
	}
	allow, err := p.AllowlistFile()
	if err != nil {
		return err
	}
	findings := slices.Clone(scan.Findings)
	for i := range findings {
		findings[i].Suppression = nil
	}
	if allow != nil {
		allow.Apply(findings, now)
		// The verdict changes when the first entry in use expires.
		for i := range allow.Entries {
			en := &allow.Entries[i]
			until, ok := en.Until()
			if !ok || en.Expired(now) {
				continue
			}
			for j := range findings {
				if findings[j].Suppression != nil && en.Matches(&findings[j]) {
					if v.NextChange.IsZero() || until.Before(v.NextChange) {
						v.NextChange = until.UTC()
					}
					break
				}
			}
		}
	}
	var over []*inventory.Finding
	worst := inventory.Severity(-1)
	for i := range findings {
		f := &findings[i]
		if f.Kind != "" && f.Kind != inventory.KindVulnerability {
			continue
		}
		switch {
		case f.Status == inventory.StatusWithdrawn:
			continue
		case f.Suppression != nil:
			v.Allowlisted++
			continue
		case p.IgnoreUnfixed && len(f.FixedVersions) == 0 && f.Status != inventory.StatusFixed:
			v.UnfixedIgnored++
			continue
		}
		if v.Counts == nil {
			v.Counts = map[string]int{}
		}
		v.Counts[f.Severity.String()]++
		worst = max(worst, f.Severity)
		if on && f.Severity >= threshold {
			over = append(over, f)
		}
	}
	if worst >= 0 {
		v.WorstSeverity = worst.String()
	}
	if !on {
		return nil
	}
	if len(over) == 0 {
		v.Checks = append(v.Checks, Check{Rule: RuleSeverity, Passed: true, Message: "no vulnerability at or above " + threshold.String()})
		return nil
	}
	slices.SortStableFunc(over, func(a, b *inventory.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.ID, b.ID)
	})
	var names []string
	listed := map[string]bool{}
	for _, f := range over {
		if listed[f.ID] {
			continue
		}
		listed[f.ID] = true
		if len(names) < maxListed {
			names = append(names, fmt.Sprintf("%s (%s, %s %s)", f.ID, f.Severity, f.PackageName, f.InstalledVersion))
		}
	}
	more := ""
	if len(listed) > len(names) {
		more = fmt.Sprintf(" and %d more", len(listed)-len(names))
	}
	v.Checks = append(v.Checks, Check{Rule: RuleSeverity, Message: fmt.Sprintf("%d %s at or above %s: %s%s",
		len(listed), plural(len(listed), "vulnerability", "vulnerabilities"), threshold, strings.Join(names, ", "), more)})
	return nil
}

// signature asks the checker; without one, or when it fails, the check
// refuses.
func (e *Evaluator) signature(ctx context.Context, v *Verdict, repo, digest string, p Policy) Check {
	c := Check{Rule: RuleSignature}
	if e.Signatures == nil {
		c.Message = "a trusted signature is required, and this server cannot verify signatures"
		return c
	}
	st, err := e.Signatures.Check(ctx, repo, digest, p.Keys())
	if err != nil {
		if e.Logger != nil {
			e.Logger.ErrorContext(ctx, "signature check failed", "repository", repo, "digest", digest, "err", err)
		}
		c.Message = "a trusted signature is required, and the signatures could not be checked (see the server log)"
		return c
	}
	v.Signature = &st
	switch {
	case st.Trusted:
		c.Passed = true
		c.Message = "signed by " + st.Signer
		if st.Identity != "" {
			c.Message += " (" + st.Identity + ")"
		}
		if !st.SignedAt.IsZero() {
			c.Message += " at " + st.SignedAt.UTC().Format(time.RFC3339)
		}
	case st.Signed || st.Count > 0:
		c.Message = fmt.Sprintf("%d %s, none with a trusted key: sign with one of the project's keys (`cosign sign --key KEY %s@%s`)",
			st.Count, plural(st.Count, "signature", "signatures"), repo, digest)
	default:
		c.Message = fmt.Sprintf("not signed: sign with one of the project's keys (`cosign sign --key KEY %s@%s`)", repo, digest)
	}
	return c
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
