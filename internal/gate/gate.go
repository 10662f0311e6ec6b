// Package gate decides what a scan reports and whether it fails: the
// --severity and --ignore-unfixed filters, the suppressions of the ignore
// file and of VEX documents, and the --exit-code. Its functions are pure:
// the caller passes the time, so that expiry can be tested with a fake clock.
package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/vex"
)

// Options are the gate's settings, as the scan flags give them.
type Options struct {
	// Severities keeps only findings of these severities; empty keeps all.
	Severities []inventory.Severity
	// IgnoreUnfixed drops findings for which no fixed version is known.
	IgnoreUnfixed bool
	// ExitCode is what the scan exits with when an active finding remains
	// after the filters; 0 never fails.
	ExitCode int
	// Ignore is the parsed ignore file, or nil.
	Ignore *ignore.File
	// VEX are the OpenVEX documents given with --vex, in order.
	VEX []*vex.Document
	// Now is the time at which ignore entries are judged expired. The CLI
	// passes time.Now(); tests pass a fixed time.
	Now time.Time
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Now.IsZero() {
		errs = append(errs, errors.New("gate: Now is not set"))
	}
	if o.ExitCode < 0 || o.ExitCode > 125 {
		errs = append(errs, fmt.Errorf("--exit-code %d: use 0 to never fail, or 1 to 125", o.ExitCode))
	}
	for _, s := range o.Severities {
		if s < inventory.SeverityUnknown || s > inventory.SeverityCritical {
			errs = append(errs, fmt.Errorf("severity %d is out of range", s))
		}
	}
	return errors.Join(errs...)
}

// Result is what the gate decided.
type Result struct {
	// Filtered counts the findings dropped by Severities and IgnoreUnfixed.
	Filtered int
	// Suppressed counts the findings kept in the report but suppressed by
	// the ignore file or VEX.
	Suppressed int
	// Withdrawn counts the findings kept whose advisory was withdrawn.
	Withdrawn int
	// Active counts the findings that fail the gate: neither suppressed
	// nor withdrawn.
	Active int
	// ExitCode is Options.ExitCode when Active > 0, and 0 otherwise.
	ExitCode int
	// Notices are for the user, in the report and the log: expired ignore
	// entries, what each VEX document did.
	Notices []string
}

// Apply filters r.Findings in place and marks suppressions: first the
// severity and fix filters drop findings, then VEX statements (on
// vulnerabilities) and the ignore file (on every kind) suppress among the
// rest (a VEX not_affected is a claim about the software and is recorded
// in preference to an accepted risk). Vulnerabilities end up first.
func Apply(r *inventory.Report, opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	var res Result
	kept := r.Findings[:0]
	for _, f := range r.Findings {
		if !Keep(&f, opts.Severities, opts.IgnoreUnfixed) {
			res.Filtered++
			continue
		}
		kept = append(kept, f)
	}
	clear(r.Findings[len(kept):])
	r.Findings = kept

	// VEX speaks of vulnerabilities only: it sees them, in place, and not
	// a secret or misconfiguration whose ID a statement might share.
	slices.SortStableFunc(r.Findings, func(a, b inventory.Finding) int {
		switch va, vb := isVuln(&a), isVuln(&b); {
		case va && !vb:
			return -1
		case !va && vb:
			return 1
		}
		return 0
	})
	n := 0
	for n < len(r.Findings) && isVuln(&r.Findings[n]) {
		n++
	}
	vulns := *r
	vulns.Findings = r.Findings[:n:n]
	res.Notices = append(res.Notices, vex.Apply(opts.VEX, &vulns)...)
	res.Notices = append(res.Notices, opts.Ignore.Apply(r.Findings, opts.Now)...)

	for i := range r.Findings {
		f := &r.Findings[i]
		switch {
		case f.Suppression != nil:
			res.Suppressed++
		case f.Status == inventory.StatusWithdrawn:
			res.Withdrawn++
		default:
			res.Active++
		}
	}
	if res.Active > 0 {
		res.ExitCode = opts.ExitCode
	}
	return res, nil
}

// Keep reports whether a finding passes the severity and fix filters.
// The fix filter applies to vulnerabilities only: a secret or a
// misconfiguration has no fixed version, and is always the user's to fix.
func Keep(f *inventory.Finding, severities []inventory.Severity, ignoreUnfixed bool) bool {
	if len(severities) > 0 && !slices.Contains(severities, f.Severity) {
		return false
	}
	if ignoreUnfixed && isVuln(f) && !HasFix(f) {
		return false
	}
	return true
}

func isVuln(f *inventory.Finding) bool {
	return f.Kind == "" || f.Kind == inventory.KindVulnerability
}

// HasFix reports whether a fixed version of the finding's package is known.
func HasFix(f *inventory.Finding) bool {
	return len(f.FixedVersions) > 0 || f.Status == inventory.StatusFixed
}

// AllSeverities is what --severity means when it is not given.
var AllSeverities = []inventory.Severity{
	inventory.SeverityUnknown, inventory.SeverityLow, inventory.SeverityMedium,
	inventory.SeverityHigh, inventory.SeverityCritical,
}

// ParseSeverities reads a --severity value: severity names separated by
// commas ("CRITICAL,HIGH"), in any case and order. MODERATE and IMPORTANT
// are read as MEDIUM and HIGH.
func ParseSeverities(s string) ([]inventory.Severity, error) {
	var out []inventory.Severity
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.EqualFold(part, "NONE") {
			return nil, fmt.Errorf("--severity: unknown severity %q: use UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL", part)
		}
		sev, err := inventory.ParseSeverity(part)
		if err != nil {
			return nil, fmt.Errorf("--severity: %w", err)
		}
		if !slices.Contains(out, sev) {
			out = append(out, sev)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--severity is empty: list severities such as CRITICAL,HIGH")
	}
	slices.Sort(out)
	return out, nil
}
