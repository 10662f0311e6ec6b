// Package osv holds the Open Source Vulnerability format (schema 1.6,
// https://ossf.github.io/osv-schema/): the types, and a parser that
// checks every field and says which one is wrong.
package osv

import (
	"encoding/json"
	"time"
)

// Vulnerability is one OSV record.
type Vulnerability struct {
	SchemaVersion    string          `json:"schema_version,omitempty" yaml:"schema_version,omitempty"`
	ID               string          `json:"id" yaml:"id"`
	Modified         time.Time       `json:"modified" yaml:"modified"`
	Published        time.Time       `json:"published,omitzero" yaml:"published,omitempty"`
	Withdrawn        time.Time       `json:"withdrawn,omitzero" yaml:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty" yaml:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty" yaml:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty" yaml:"summary,omitempty"`
	Details          string          `json:"details,omitempty" yaml:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty" yaml:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty" yaml:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty" yaml:"references,omitempty"`
	Credits          []Credit        `json:"credits,omitempty" yaml:"credits,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty" yaml:"-"`
}

// Affected is one package the vulnerability affects, with the versions.
type Affected struct {
	Package           Package         `json:"package,omitzero" yaml:"package,omitempty"`
	Severity          []Severity      `json:"severity,omitempty" yaml:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty" yaml:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty" yaml:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty" yaml:"-"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty" yaml:"-"`
}

// Package names a package in an ecosystem. Ecosystem may carry a suffix
// ("Debian:12", "Alpine:v3.19", "Ubuntu:22.04:LTS").
type Package struct {
	Ecosystem string `json:"ecosystem" yaml:"ecosystem"`
	Name      string `json:"name" yaml:"name"`
	PURL      string `json:"purl,omitempty" yaml:"purl,omitempty"`
}

// Range types.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a list of events in one version ordering.
type Range struct {
	Type             string          `json:"type" yaml:"type"`
	Repo             string          `json:"repo,omitempty" yaml:"repo,omitempty"`
	Events           []Event         `json:"events" yaml:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty" yaml:"-"`
}

// Event is one point in a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty" yaml:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty" yaml:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty" yaml:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty" yaml:"limit,omitempty"`
}

// Severity types.
const (
	SeverityCVSSv2 = "CVSS_V2"
	SeverityCVSSv3 = "CVSS_V3"
	SeverityCVSSv4 = "CVSS_V4"
	SeverityUbuntu = "Ubuntu"
)

// Severity is a scored severity: a CVSS vector, or a distro's own word.
type Severity struct {
	Type  string `json:"type" yaml:"type"`
	Score string `json:"score" yaml:"score"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type" yaml:"type"`
	URL  string `json:"url" yaml:"url"`
}

// Credit names someone who found or fixed the vulnerability.
type Credit struct {
	Name    string   `json:"name" yaml:"name"`
	Contact []string `json:"contact,omitempty" yaml:"contact,omitempty"`
	Type    string   `json:"type,omitempty" yaml:"type,omitempty"`
}
