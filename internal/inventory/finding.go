package inventory

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Severity is a finding's severity, ordered from Unknown to Critical.
type Severity int

// Severity levels.
const (
	SeverityUnknown Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "UNKNOWN"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively. "MODERATE"
// (GitHub's word) is Medium and "IMPORTANT" (Red Hat's) is High.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "UNKNOWN", "NONE", "":
		return SeverityUnknown, nil
	case "LOW", "NEGLIGIBLE", "UNIMPORTANT":
		return SeverityLow, nil
	case "MEDIUM", "MODERATE":
		return SeverityMedium, nil
	case "HIGH", "IMPORTANT":
		return SeverityHigh, nil
	case "CRITICAL":
		return SeverityCritical, nil
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q: use UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding kinds.
const (
	KindVulnerability    = "vulnerability"
	KindSecret           = "secret"
	KindMalware          = "malware"
	KindMisconfiguration = "misconfiguration"
)

// Fix statuses of a vulnerability finding.
const (
	StatusFixed     = "fixed"     // a fixed version exists
	StatusUnfixed   = "unfixed"   // affected, and no fix is known
	StatusWithdrawn = "withdrawn" // the advisory was withdrawn; kept for the record, never gates
)

// Finding is one problem found: a vulnerability in a package, a secret,
// malware, or a misconfiguration of the image or its Dockerfile. The
// package fields are set for vulnerabilities only.
type Finding struct {
	// ID is the finding's primary identifier; Aliases are the other IDs of
	// the same vulnerability (CVE, GHSA, DSA, DEBIAN-CVE …).
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`
	Kind    string   `json:"kind"`
	Title   string   `json:"title,omitempty"`
	Details string   `json:"details,omitempty"`

	Severity Severity `json:"severity"`
	// SeveritySource says where Severity came from: "CVSS_V4", "CVSS_V3",
	// "CVSS_V2", "database_specific", "ecosystem_specific" or "none".
	SeveritySource string  `json:"severitySource"`
	CVSSScore      float64 `json:"cvssScore,omitempty"`
	CVSSVector     string  `json:"cvssVector,omitempty"`

	// The affected package, as in the inventory.
	PackageID   string `json:"packageID,omitempty"`
	PackageName string `json:"packageName,omitempty"`
	PackageType string `json:"packageType,omitempty"`
	PURL        string `json:"purl,omitempty"`
	// InstalledVersion is the version the advisory was compared with: the
	// source package's version for Debian, the package's own elsewhere.
	InstalledVersion string   `json:"installedVersion,omitempty"`
	FixedVersions    []string `json:"fixedVersions,omitempty"`
	Status           string   `json:"status,omitempty"`
	// Ecosystem is the OSV ecosystem the match was made in ("Debian:12").
	Ecosystem string `json:"ecosystem,omitempty"`
	// Location is where the package was found; its layer is the one that
	// introduced it.
	Location Location `json:"location"`

	// Advisories are the IDs of the advisory records that matched.
	Advisories []string  `json:"advisories"`
	References []string  `json:"references,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	Modified   time.Time `json:"modified,omitzero"`

	// Line is the 1-based line of a secret or misconfiguration in its file;
	// 0 when it has none.
	Line int `json:"line,omitempty"`
	// Snippet shows where a secret or misconfiguration is, with any secret
	// masked: the plain secret never reaches a report, a log or the store.
	Snippet string `json:"snippet,omitempty"`
	// Remediation says how to fix a misconfiguration.
	Remediation string `json:"remediation,omitempty"`
	// Controls are the benchmark recommendations a misconfiguration check
	// maps to, as "CIS Docker 4.1" (CIS Docker Benchmark v1.6.0).
	Controls []string `json:"controls,omitempty"`
	// Hidden marks a finding in a file that a later layer deleted or
	// replaced: not in the running container's filesystem, but still in
	// the image's layers for anyone who pulls it.
	Hidden bool `json:"hidden,omitempty"`

	// Suppression is set when an ignore file or a VEX statement accepted
	// the finding; suppressed findings never fail a gate.
	Suppression *Suppression `json:"suppression,omitempty"`
	// VEX is what a VEX document said about the finding when that did not
	// suppress it: that it is affected, fixed or under investigation.
	VEX *VEXNote `json:"vex,omitempty"`
}

// Where image-level findings are. They are in no file, so their
// location's path names the part of the image instead: PathImageConfig
// and the setting ("image config: ENV DB_PASSWORD"), or PathImageHistory
// and the step ("image history: step 4", from 1). Their LayerIndex is -1
// unless the history step made a layer.
const (
	PathImageConfig  = "image config"
	PathImageHistory = "image history"
)

// Active reports whether the finding counts against a gate: it is neither
// suppressed nor withdrawn.
func (f *Finding) Active() bool {
	return f.Suppression == nil && f.Status != StatusWithdrawn
}

// Suppression sources.
const (
	SuppressedByIgnoreFile = "ignorefile"
	SuppressedByVEX        = "vex"
)

// Suppression records why a finding does not count.
type Suppression struct {
	Source        string    `json:"source"` // "ignorefile" or "vex"
	Reason        string    `json:"reason,omitempty"`
	Justification string    `json:"justification,omitempty"` // VEX justification
	Expires       time.Time `json:"expires,omitzero"`
	By            string    `json:"by,omitempty"` // the file or document that said so
}

// VEXNote records a VEX statement that matched a finding without
// suppressing it.
type VEXNote struct {
	Status    string `json:"status"`              // "affected", "fixed" or "under_investigation"
	Statement string `json:"statement,omitempty"` // the action statement, impact statement or status notes
	By        string `json:"by,omitempty"`        // the document that said so
}

// DBInfo describes the vulnerability database a report was made with.
type DBInfo struct {
	BuiltAt    time.Time      `json:"builtAt"`
	Records    int            `json:"records"`
	Ecosystems map[string]int `json:"ecosystems,omitempty"`
	Sources    []string       `json:"sources,omitempty"`
}

// Coverage counts the packages of an ecosystem the database says nothing
// about: they were not checked, which is different from being clean.
type Coverage struct {
	Ecosystem string `json:"ecosystem"` // OSV ecosystem, or the package type when there is none
	Packages  int    `json:"packages"`
	Reason    string `json:"reason"`
}

// Report is an inventory with the findings about it.
type Report struct {
	Inventory
	Findings   []Finding  `json:"findings"`
	NotCovered []Coverage `json:"notCovered,omitempty"`
	DB         *DBInfo    `json:"db,omitempty"`
}

// SortFindings orders findings deterministically: by kind, location,
// line, then ID.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Location.Path != b.Location.Path {
			return a.Location.Path < b.Location.Path
		}
		if a.Location.LayerIndex != b.Location.LayerIndex {
			return a.Location.LayerIndex < b.Location.LayerIndex
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
}
